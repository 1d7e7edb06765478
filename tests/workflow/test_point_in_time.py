"""Point-in-time restores, Aurora backtracking and the verify hook: the real restore workflow, under the strict model.

One emulator and one deployment serve the module; each test works on databases of its own. The databases existed
before the run (made inside ``Emulator.settled()``), so their automated backups reach back their whole retention
period and a backtracking cluster its whole backtrack window, as the strict model keeps them.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from support.rds_fixtures import ROOMY_QUOTAS
from support.restore_runs import Alerts, DatabaseUnderTest, VerifyFunctions, ago, clean_start, deploy, snapshot_ids
from support.slack import SlackListener

from trapheus import clients
from trapheus.configuration import twin_differences
from trapheus.inputs import format_time, parse_time
from trapheus_local import Emulator
from trapheus_local.backups import parse_time as sent_time  # a time as the emulated RDS received it
from trapheus_local.engine import Deployment, ExecutionResult

# one emulator serves the module: what each test makes in RDS is dropped when it ends
pytestmark = pytest.mark.usefixtures("rds_made_by_the_test_forgotten")

MACHINE = "RestoreStateMachine"
SLACK_PATH = "/services/T000/B000/point-in-time"
API_ERROR = "InvalidDBClusterStateFault"  # not transient: neither the SDK nor the workflow retries it


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



def run(stack: Deployment, execution_input: Any) -> ExecutionResult:
    """Run the workflow; the emulator's call log then holds the run's RDS calls only."""
    stack.emulator.rds_calls.clear()
    return stack.run(MACHINE, execution_input, name=f"pitr-{uuid.uuid4().hex[:10]}")


def mutating(emulator: Emulator) -> list[str]:
    return [call.operation for call in emulator.rds_calls.mutating()]


# -- a restore to a point in time ------------------------------------------------------------------------


@pytest.mark.parametrize("is_cluster", [False, True], ids=["instance", "cluster"])
def test_a_point_in_time_restore_puts_the_originals_twin_back_under_its_identifier(emulator, stack, alerts, is_cluster):
    database = Database(emulator, is_cluster)
    wanted = ago(hours=3)

    result = run(stack, database.request(wanted))

    assert result.status == "SUCCEEDED", (result.error, result.cause)
    restored = database.capture()
    assert restored["resourceId"] != database.before["resourceId"], "the original was not replaced"
    assert twin_differences(database.before, restored) == []
    operation = "RestoreDBClusterToPointInTime" if is_cluster else "RestoreDBInstanceToPointInTime"
    (call,) = [c for c in emulator.rds_calls.mutating() if c.operation == operation]
    assert sent_time(call.params["RestoreToTime" if is_cluster else "RestoreTime"]) == parse_time(wanted)
    if is_cluster:  # by the identifier it has at that moment: RDS documents the resource id for deleted clusters only
        assert call.params["SourceDBClusterIdentifier"] == database.identifier and "SourceDbClusterResourceId" not in call.params
    else:
        assert call.params["SourceDbiResourceId"] == database.before["resourceId"]
    if is_cluster:
        assert call.params["RestoreType"] == "full-copy", "a copy-on-write clone would share the original's volume"
    assert not {"RestoreDBInstanceFromDBSnapshot", "RestoreDBClusterFromSnapshot"} & set(mutating(emulator))
    names = result.output["names"]
    assert names["finalSnapshot"] in snapshot_ids(emulator), "the retired original has no final snapshot"
    (item,) = result.output["report"]["items"]
    assert (item["identifier"], item["stagedCopy"], item["source"]) == (database.identifier, names["staged"], "point in time")
    assert item["restoredTo"] == result.output["report"]["summary"]["restoreTime"] == format_time(parse_time(wanted))
    assert 0 < item["downtimeSeconds"] < result.output["report"]["summary"]["rtoSeconds"]
    assert alerts.none(), "a successful run sent an alert"


def test_latest_is_the_latest_restorable_time_and_in_place_restores_there(emulator, stack, alerts):
    database = Database(emulator, is_cluster=False)
    latest_before = database.rds.describe_db_instances(DBInstanceIdentifier=database.identifier)["DBInstances"][0]["LatestRestorableTime"]

    result = run(stack, database.request("latest", strategy="in-place"))

    assert result.status == "SUCCEEDED", (result.error, result.cause)
    chosen = parse_time(result.output["request"]["restoreTime"])
    assert chosen >= latest_before and result.output["pointInTime"]["requested"] == "latest"
    assert {"Rename the original aside", "Note when the restored database answers"} <= set(result.entered_states)
    assert twin_differences(database.before, database.capture()) == []


REFUSED = {
    "before the restorable window": (lambda: ago(days=30), {}, "RestoreTimeError", "earliest restorable time"),
    "in the future": (lambda: ago(hours=-1), {}, "RestoreTimeError", "in the future"),
    "after the latest restorable time": (lambda: ago(minutes=1), {}, "RestoreTimeError", "latest restorable time"),
    "no automated backups": (lambda: ago(hours=1), {"BackupRetentionPeriod": 0}, "NoAutomatedBackupsError", "backup retention 0"),
    "no time zone": (lambda: "2026-11-29T10:42:00", {}, "InvalidInputError", "names no time zone"),
}


@pytest.mark.parametrize("case", REFUSED)
def test_a_time_rds_cannot_restore_to_is_refused_before_any_change(emulator, stack, alerts, case):
    restore_time, settings, error, says = REFUSED[case]
    database = Database(emulator, is_cluster=False, **settings)

    result = run(stack, database.request(restore_time()))

    assert (result.status, result.error) == ("FAILED", error), result.cause
    assert says in result.cause
    assert mutating(emulator) == []
    assert database.left_alone()
    assert alerts.name(database.identifier)


def test_a_plan_shows_the_window_the_time_chosen_and_whether_a_backtrack_would_do(emulator, stack, alerts):
    rewindable = Database(emulator, is_cluster=True, backtrack_hours=2)
    instance = Database(emulator, is_cluster=False)
    wanted = ago(minutes=30)

    cluster_plan = run(stack, {**rewindable.request(wanted), "task": "plan"}).output
    instance_plan = run(stack, {**instance.request(wanted), "task": "plan"}).output

    assert cluster_plan["ready"] and cluster_plan["pointInTime"]["restoreTime"] == format_time(parse_time(wanted))
    window = cluster_plan["pointInTime"]["window"]
    assert parse_time(window["earliest"]) < parse_time(wanted) < parse_time(window["latest"]) and window["retentionDays"] == 7
    assert cluster_plan["pointInTime"]["backtrack"]["possible"] is True
    assert instance_plan["pointInTime"]["backtrack"] == {
        "possible": False, "why": "backtracking is for Aurora MySQL clusters; an instance is restored to a point in time"}
    assert "exist only in the final snapshot" in instance_plan["dataNotice"]
    assert mutating(emulator) == []


# -- Aurora MySQL backtracking -------------------------------------------------------------------------------


def test_a_backtrack_rewinds_the_cluster_in_place_and_says_how_to_undo_it(emulator, stack, alerts):
    database = Database(emulator, is_cluster=True, backtrack_hours=2)
    wanted = ago(minutes=30)

    result = run(stack, database.request(wanted, strategy="backtrack"))

    assert result.status == "SUCCEEDED", (result.error, result.cause)
    assert mutating(emulator) == ["BacktrackDBCluster"], "a backtrack creates, renames and deletes nothing"
    (call,) = emulator.rds_calls.mutating()
    assert sent_time(call.params["BacktrackTo"]) == parse_time(wanted)
    assert database.capture()["resourceId"] == database.before["resourceId"]
    (item,) = result.output["report"]["items"]
    rewound_from = item["backtrack"]["rewoundFrom"]
    assert parse_time(rewound_from) > parse_time(wanted) and rewound_from in item["backtrack"]["undo"]
    assert item["stagedCopy"] is None and item["downtimeSeconds"] > 0
    assert "discards every write" in result.output["notice"]
    # the undo it names works: a backtrack forward to the time it rewound from
    emulator.settle()
    database.rds.backtrack_db_cluster(DBClusterIdentifier=database.identifier, BacktrackTo=parse_time(rewound_from))


@pytest.mark.parametrize(
    ("settings", "restore_time", "error"),
    [({"backtrack_hours": 2}, lambda: ago(hours=3), "RestoreTimeError"), ({}, lambda: ago(minutes=30), "InvalidInputError")],
    ids=["before the backtrack window", "backtracking off"],
)
def test_a_backtrack_rds_cannot_do_is_refused_before_any_change(emulator, stack, alerts, settings, restore_time, error):
    database = Database(emulator, is_cluster=True, **settings)

    result = run(stack, database.request(restore_time(), strategy="backtrack"))

    assert (result.status, result.error) == ("FAILED", error), result.cause
    assert mutating(emulator) == []
    assert database.left_alone()


BACKTRACK_FAILURES = {
    "refused by RDS": ("api", "BacktrackError", "Nothing to roll back"),
    "cluster ends failed": ("failed", "DatabaseFailedError", "Record the backtrack failure"),
    "never finishes": ("backtracking", "WaitTimeoutError", "Record the backtrack timeout"),
}


@pytest.mark.parametrize("case", BACKTRACK_FAILURES)
def test_a_failed_backtrack_is_alerted_with_how_to_undo_it(emulator, stack, alerts, case):
    fault, error, state = BACKTRACK_FAILURES[case]
    database = Database(emulator, is_cluster=True, backtrack_hours=2)
    if fault == "api":
        emulator.latency.fail_api("BacktrackDBCluster", database.identifier, code=API_ERROR, message="injected")
    else:
        emulator.latency.end_status("BacktrackDBCluster", database.identifier, fault)

    result = run(stack, database.request(ago(minutes=20), strategy="backtrack"))

    assert (result.status, result.error) == ("FAILED", error), result.cause
    assert state in result.entered_states
    if fault != "api":  # the rewind started: the alert says where it started from
        assert "undoes this" in result.cause
    assert alerts.name(database.identifier)


# -- the verify hook --------------------------------------------------------------------------------------------


def test_the_verify_function_checks_the_staged_copy_before_the_swap(emulator, stack, alerts, verify):
    database = Database(emulator, is_cluster=False)

    result = run(stack, database.request(ago(hours=2), verify={"functionArn": verify.passes}))

    assert result.status == "SUCCEEDED", (result.error, result.cause)
    states = result.entered_states
    assert states.index("Run the verify function") < states.index("Move the original aside")
    (invocation,) = stack.invocations("smoke-query-passes")
    copy = invocation.event
    assert (copy["identifier"], copy["original"], copy["isCluster"]) == (result.output["names"]["staged"], database.identifier, False)
    assert copy["engine"] == "mysql" and copy["port"] == 3307 and copy["endpoint"].startswith(copy["identifier"])
    assert invocation.result == {"passed": True, "checked": copy["identifier"], "original": database.identifier}
    assert result.output["report"]["items"][0]["verify"]["passed"] is True


def test_in_place_the_verify_function_checks_the_restored_database_before_it_is_protected(emulator, stack, alerts, verify):
    database = Database(emulator, is_cluster=True)

    result = run(stack, database.request(ago(hours=2), strategy="in-place", verify={"functionArn": verify.passes}))

    assert result.status == "SUCCEEDED", (result.error, result.cause)
    states = result.entered_states
    assert states.index("Run the verify function") < states.index("Protect the restored database")
    (invocation,) = stack.invocations("smoke-query-passes")
    assert invocation.event["identifier"] == database.identifier and invocation.event["isCluster"] is True


def test_a_copy_the_verify_function_fails_is_removed_and_the_original_stays(emulator, stack, alerts, verify):
    database = Database(emulator, is_cluster=True)

    result = run(stack, database.request(ago(hours=2), verify={"functionArn": verify.fails}))

    assert (result.status, result.error) == ("FAILED", "VerificationFailedError"), result.cause
    assert "0 rows" in result.cause
    assert "Rollback finished" in result.entered_states and "Move the original aside" not in result.entered_states
    assert database.left_alone()
    assert alerts.name(database.identifier)


def test_a_verify_function_the_stack_may_not_invoke_is_refused_before_any_change(emulator, stack, alerts, verify):
    database = Database(emulator, is_cluster=False)

    result = run(stack, database.request(ago(hours=2), verify={"functionArn": verify.unlisted}))

    assert (result.status, result.error) == ("FAILED", "AccessNotGrantedError"), result.cause
    assert "VerifyFunctionArns" in result.cause
    assert mutating(emulator) == [] and stack.invocations("someone-elses-function") == []
    assert database.left_alone()
