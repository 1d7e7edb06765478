"""Several databases brought back to one instant: the real recover workflow (and the restore workflow it runs phase by
phase as nested executions), under the strict model.

What the issue promises: every window is checked first and the run refused whole; every lock is held from the start;
every copy is staged and verified before any original is touched; a copy that fails removes every copy and touches no
original; a swap that fails rolls back the databases already swapped; the originals are retired only after every swap.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from support.alert_topic import alert_topic_reader
from support.rds_fixtures import ROOMY_QUOTAS
from support.restore_runs import SENDER, Alerts, DatabaseUnderTest, VerifyFunctions, ago, clean_start, deploy, snapshot_ids
from support.slack import SlackListener

from trapheus import clients, databases
from trapheus.configuration import twin_differences
from trapheus.kinds import kind_for
from trapheus.locks import lock_key
from trapheus_local import Emulator, strict_dynamodb
from trapheus_local.backups import parse_time
from trapheus_local.engine import Deployment, ExecutionResult

# one emulator serves the module: what each test makes in RDS is dropped when it ends
pytestmark = pytest.mark.usefixtures("rds_made_by_the_test_forgotten")

MACHINE = "RecoverStateMachine"
SLACK_PATH = "/services/T000/B000/recover"
API_ERROR = "InvalidParameterCombination"  # not transient: neither the SDK nor the workflow retries it
PITR = frozenset({"RestoreDBInstanceToPointInTime", "RestoreDBClusterToPointInTime"})


@pytest.fixture(scope="module")
def emulator() -> Iterator[Emulator]:
    clients.reset()
    with Emulator(quotas=ROOMY_QUOTAS) as aws:
        yield aws
    clients.reset()


@pytest.fixture(scope="module")
def stack(emulator: Emulator, slack: SlackListener, verify: VerifyFunctions) -> Deployment:
    return deploy(emulator, slack, SLACK_PATH, verify)


@pytest.fixture
def alerts(emulator: Emulator, stack: Deployment, slack: SlackListener) -> Iterator[Alerts]:
    yield from clean_start(emulator, slack, SLACK_PATH)


Database = DatabaseUnderTest



def three(emulator: Emulator) -> list[Database]:
    return [Database(emulator, False), Database(emulator, False), Database(emulator, True)]


def recover(stack: Deployment, dbs: list[Database], restore_time: str = "latest", **extra: Any) -> ExecutionResult:
    stack.emulator.rds_calls.clear()
    return stack.run(MACHINE, {"databases": [d.entry for d in dbs], "restoreTime": restore_time, **extra},
                     name=f"recover-{uuid.uuid4().hex[:10]}")  # fmt: skip


def renamed_aside(emulator: Emulator) -> list[str]:
    """Databases renamed to their parking name (originals stepping aside), in call order."""
    return [_name(call) for call in emulator.rds_calls.mutating() if _new_name(call).endswith("-trapheus-old")]


def _name(call: Any) -> str:
    return str(call.params.get("DBInstanceIdentifier") or call.params.get("DBClusterIdentifier") or "")


def _new_name(call: Any) -> str:
    return str(call.params.get("NewDBInstanceIdentifier") or call.params.get("NewDBClusterIdentifier") or "")


def locks_held(emulator: Emulator, stack: Deployment, dbs: list[Database]) -> list[str]:
    items = emulator.client("dynamodb").scan(TableName=stack.physical_id("LockTable"), ConsistentRead=True)["Items"]
    keys = {lock_key(d.is_cluster, d.identifier) for d in dbs}
    return [item["lockId"]["S"] for item in items if item["lockId"]["S"] in keys]


# -- one instant for all --------------------------------------------------------------------------------------


def test_three_databases_come_back_to_one_instant_staged_and_verified_before_any_swap(emulator, stack, alerts, verify):
    dbs = three(emulator)
    wanted = ago(hours=2)

    result = recover(stack, dbs, wanted, maxConcurrency=3, verify={"functionArn": verify.passes})

    assert result.status == "SUCCEEDED", (result.error, result.cause)
    # nested runs (.sync) wait on the simulated clock as they would in AWS: hours, not a task's default timeout
    assert result.virtual_seconds < 2 * 86400, result.virtual_seconds
    assert all(d.restored() for d in dbs)
    calls = emulator.rds_calls.mutating()
    restores = [c for c in calls if c.operation in PITR]
    assert {parse_time(c.params.get("RestoreTime") or c.params["RestoreToTime"]) for c in restores} == {parse_time(wanted)}
    assert len(restores) == 3
    ids = [d.identifier for d in dbs]
    assert [name for name in renamed_aside(emulator) if name in ids] == ids, "not every original stepped aside once, in order"
    first_swap = next(i for i, c in enumerate(calls) if _new_name(c).endswith("-trapheus-old"))
    assert max(i for i, c in enumerate(calls) if c.operation in PITR or c.operation == "CreateDBInstance") < first_swap, (
        "an original moved before every copy was staged")
    checked = sorted(i.event["identifier"] for i in stack.invocations("smoke-query-passes"))
    assert checked == sorted(f"{i}-trapheus-new" for i in ids), "the verify function did not check every staged copy"
    swapped_in = [i for i, c in enumerate(calls) if _name(c).endswith("-trapheus-new") and _new_name(c)]
    retired = [i for i, c in enumerate(calls) if c.operation.startswith("Delete") and _name(c).endswith("-trapheus-old")]
    assert retired and min(retired) > max(swapped_in), "an original was retired before every database was swapped"
    phases = [(r.status, r.entered_states[-1]) for r in stack.nested(result)]
    assert phases == [("SUCCEEDED", "Staged copy ready")] * 3 + [("SUCCEEDED", "Swap done")] * 3 + [("SUCCEEDED", "Run complete")] * 3
    report = result.output["report"]
    assert report["workflow"] == "recover" and [i["identifier"] for i in report["items"]] == [d.identifier for d in dbs]
    spans = [(parse_time(i["swapStarted"]), parse_time(i["swapEnded"])) for i in report["items"]]
    assert all(earlier[1] <= later[0] for earlier, later in zip(spans, spans[1:])), "the swaps overlapped"
    assert all(i["downtimeSeconds"] > 0 and i["restoredTo"] == report["summary"]["restoreTime"] for i in report["items"])
    assert report["summary"]["rtoSeconds"] >= sum(i["downtimeSeconds"] for i in report["items"])
    assert locks_held(emulator, stack, dbs) == [] and alerts.none()


def test_a_staged_copy_that_fails_removes_every_copy_and_touches_no_original(emulator, stack, alerts):
    dbs = three(emulator)
    emulator.latency.end_status("RestoreDBInstanceToPointInTime", f"{dbs[1].identifier}-trapheus-new", "failed")
    topic = alert_topic_reader(emulator, stack)

    result = recover(stack, dbs)

    assert (result.status, result.error) == ("FAILED", "RecoveryError"), result.cause
    assert f"{dbs[1].identifier}: no staged copy" in result.cause and "no original was touched" in result.cause
    assert renamed_aside(emulator) == [], "an original was renamed"
    assert all(d.left_alone() for d in dbs)
    assert {"Nothing to undo here", "Roll back a database"} <= set(result.entered_states)
    assert locks_held(emulator, stack, dbs) == []
    assert alerts.name(dbs[1].identifier)
    (published,) = topic()  # the alert topic hears of it too, as JSON
    assert published["error"] == "RecoveryError" and published["execution"]["arn"] == result.arn


def test_a_swap_that_fails_midway_rolls_back_the_databases_already_swapped(emulator, stack, alerts):
    dbs = three(emulator)
    second = dbs[1].identifier
    # the second staged copy cannot take its identifier: the first database is swapped by then, the third is not
    emulator.latency.fail_api("ModifyDBInstance", code=API_ERROR, message="injected",
                              where=lambda p: p.get("DBInstanceIdentifier") == f"{second}-trapheus-new" and p.get("NewDBInstanceIdentifier") == second)

    result = recover(stack, dbs)

    assert (result.status, result.error) == ("FAILED", "RecoveryError"), result.cause
    assert "a swap failed" in result.cause and "ROLLBACK FAILED" not in result.cause
    assert renamed_aside(emulator)[:2] == [dbs[0].identifier, second] and dbs[2].identifier not in renamed_aside(emulator)
    assert all(d.left_alone() for d in dbs), "an original is not back under its identifier"
    # the copy that held the first identifier (clients may have written to it) went with a final snapshot
    assert any(s.startswith(f"{dbs[0].identifier}-trapheus-rollback-") for s in snapshot_ids(emulator))
    assert "Retire every original" not in result.entered_states
    endings = [(r.status, r.entered_states[-1]) for r in stack.nested(result)]
    assert endings[3:5] == [("SUCCEEDED", "Swap done"), ("FAILED", "Report the failure")]  # the first swapped, the second failed
    assert endings[5:] == [("SUCCEEDED", "Rolled back")] * 3
    assert locks_held(emulator, stack, dbs) == []
    assert alerts.name(second)


def test_an_original_that_cannot_be_retired_is_kept_and_alerted_after_every_database_is_restored(emulator, stack, alerts):
    dbs = [Database(emulator, False), Database(emulator, False)]
    emulator.latency.fail_api("DeleteDBInstance", f"{dbs[0].identifier}-trapheus-old", code=API_ERROR, message="injected")

    result = recover(stack, dbs)

    assert (result.status, result.error) == ("FAILED", "RecoveryError"), result.cause
    assert "Note the retirement failure" in result.entered_states and "every database is restored" in result.cause
    assert databases.find(kind_for(False), f"{dbs[0].identifier}-trapheus-old", emulator.client("rds")) is not None
    for d in dbs:
        now = d.capture()
        assert now["resourceId"] != d.before["resourceId"] and twin_differences(d.before, now) == []
    assert locks_held(emulator, stack, dbs) == []


def test_a_rollback_that_fails_is_reported_as_such(emulator, stack, alerts):
    dbs = [Database(emulator, False), Database(emulator, False)]
    emulator.latency.end_status("RestoreDBInstanceToPointInTime", f"{dbs[1].identifier}-trapheus-new", "failed")
    emulator.latency.fail_api("DeleteDBInstance", f"{dbs[0].identifier}-trapheus-new", code=API_ERROR, message="injected")

    result = recover(stack, dbs, maxConcurrency=1)

    assert (result.status, result.error) == ("FAILED", "RecoveryError"), result.cause
    assert "Note the rollback failure" in result.entered_states
    assert f"{dbs[0].identifier}: ROLLBACK FAILED" in result.cause
    assert all(d.capture()["resourceId"] == d.before["resourceId"] for d in dbs), "an original lost its identifier"
    assert alerts.name("ROLLBACK FAILED")


# -- refused before any change ------------------------------------------------------------------------------------


def test_a_time_outside_any_databases_window_refuses_the_whole_recovery(emulator, stack, alerts):
    dbs = [Database(emulator, False), Database(emulator, False, BackupRetentionPeriod=1), Database(emulator, True)]

    result = recover(stack, dbs, ago(days=2))

    assert (result.status, result.error) == ("FAILED", "RestoreTimeError"), result.cause
    assert dbs[1].identifier in result.cause and dbs[0].identifier not in result.cause
    assert emulator.rds_calls.mutating() == [] and locks_held(emulator, stack, dbs) == []
    assert all(d.left_alone() for d in dbs)


def test_a_database_another_run_holds_refuses_the_whole_recovery_and_takes_no_lock(emulator, stack, alerts):
    dbs = [Database(emulator, False), Database(emulator, True)]
    table = stack.physical_id("LockTable")
    other = lock_key(True, dbs[1].identifier)
    emulator.client("dynamodb").put_item(TableName=table, Item={
        "lockId": {"S": other}, "execution": {"S": "arn:aws:states:us-east-1:123456789012:execution:x-restore:other"},
        "expiresAt": {"N": "9999999999"}})  # fmt: skip

    result = recover(stack, dbs)

    assert (result.status, result.error) == ("FAILED", "RestoreInProgressError"), result.cause
    assert "Refuse the second run" in result.entered_states
    assert locks_held(emulator, stack, dbs) == [other], "the transaction left a lock of this run behind"
    assert emulator.rds_calls.mutating() == [] and all(d.left_alone() for d in dbs)
    emulator.client("dynamodb").delete_item(TableName=table, Key={"lockId": {"S": other}})


@pytest.mark.parametrize(
    ("databases_", "error"),
    [([], "InvalidInputError"), ("orders-db", "InvalidInputError")],
    ids=["no databases", "not a list"],
)
def test_bad_input_is_refused_before_any_change(emulator, stack, alerts, databases_, error):
    stack.emulator.rds_calls.clear()
    result = stack.run(MACHINE, {"databases": databases_, "restoreTime": "latest"}, name=f"bad-{uuid.uuid4().hex[:8]}")

    assert (result.status, result.error) == ("FAILED", error), result.cause
    assert "Refuse the request" in result.entered_states and emulator.rds_calls.mutating() == []
    assert alerts.emails() and alerts.slack_messages()


def test_alerts_that_cannot_be_delivered_do_not_change_how_a_recovery_ends(emulator, stack, slack, alerts):
    ses, sns = emulator.client("ses"), emulator.client("sns")
    topic = stack.physical_id("AlertTopic")
    ses.delete_identity(Identity=SENDER)  # SES refuses an unverified sender
    slack.always[SLACK_PATH] = 404
    sns.delete_topic(TopicArn=topic)  # SNS answers NotFound
    try:
        result = stack.run(MACHINE, {"databases": [], "restoreTime": "latest"}, name=f"mute-{uuid.uuid4().hex[:8]}")
    finally:
        ses.verify_email_identity(EmailAddress=SENDER)
        slack.always.pop(SLACK_PATH)
        sns.create_topic(Name=topic.split(":")[-1])

    assert (result.status, result.error) == ("FAILED", "InvalidInputError"), result.cause
    assert {"Email alert not sent", "Slack alert not sent", "SNS alert not sent"} <= set(result.entered_states)


def test_a_lock_that_cannot_be_released_does_not_fail_a_recovery_that_succeeded(emulator, stack, alerts):
    dbs = [Database(emulator, False)]
    strict_dynamodb.current().fail("DeleteItem", stack.physical_id("LockTable"), code="ConditionalCheckFailedException",
                                   message="The conditional request failed")  # fmt: skip

    result = recover(stack, dbs)

    assert result.status == "SUCCEEDED", (result.error, result.cause)
    assert "Lock not released" in result.entered_states and dbs[0].restored()
    assert locks_held(emulator, stack, dbs) != [], "the lock it could not release expires (LockTimeoutMinutes)"
