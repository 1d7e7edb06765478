"""One run per database, and the plan that changes nothing: the real template run in the emulator.

The lock is the DynamoDB item the workflow writes with a conditional PutItem after validation and
deletes on every ending; a plan (``task: plan``) reads the database, the snapshot and the lock and
reports what a restore would do, without a single mutating call.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from support.rds_fixtures import STACK_PARAMETERS, make_cluster, make_instance
from support.slack import SlackListener

from trapheus.locks import lock_key
from trapheus_local import Emulator
from trapheus_local.engine import Deployment, ExecutionResult

MACHINE = "RestoreStateMachine"
SENDER = "trapheus@example.com"
SLACK_PATH = "/services/T000/B000/locks"
INSTANCE_ID = "orders-db"
CLUSTER_ID = "ledger"
OTHER_RUN = "arn:aws:states:us-east-1:123456789012:execution:trapheus-local-RestoreStateMachine:the-other-run"


@pytest.fixture(scope="module")
def slack() -> Iterator[SlackListener]:
    with SlackListener() as listener:
        yield listener


@pytest.fixture
def stack(emulator: Emulator, real_template, slack: SlackListener) -> Deployment:
    slack.clear()
    deployment = emulator.deploy(
        real_template,
        {
            "LogLevel": "WARNING",
            "MaxPollAttempts": 4,
            "PollIntervalSeconds": 900,  # RDS operations take their modelled time (a rename ~11 minutes)
            "SenderEmail": SENDER,
            "RecipientEmails": "dba@example.com",
            "SlackWebhookUrls": slack.url(SLACK_PATH),
            **STACK_PARAMETERS,
        },
    )
    emulator.client("ses").verify_email_identity(EmailAddress=SENDER)
    return deployment


@dataclass
class Database:
    identifier: str
    is_cluster: bool

    def request(self, task: str, **extra: Any) -> dict:
        return {"identifier": self.identifier, "task": task, "isCluster": self.is_cluster, **extra}

    @property
    def key(self) -> str:
        return lock_key(self.is_cluster, self.identifier)


def create_database(emulator: Emulator, is_cluster: bool = False, *, snapshot: bool = True) -> Database:
    rds, ec2 = emulator.client("rds"), emulator.client("ec2")
    with emulator.settled():
        if is_cluster:
            make_cluster(rds, ec2, CLUSTER_ID, members=2)
            if snapshot:
                rds.create_db_cluster_snapshot(
                    DBClusterIdentifier=CLUSTER_ID, DBClusterSnapshotIdentifier=f"{CLUSTER_ID}-snapshot"
                )
            return Database(CLUSTER_ID, True)
        make_instance(rds, ec2, INSTANCE_ID)
        if snapshot:
            rds.create_db_snapshot(DBInstanceIdentifier=INSTANCE_ID, DBSnapshotIdentifier=f"{INSTANCE_ID}-snapshot")
    return Database(INSTANCE_ID, False)


@pytest.fixture(params=["instance", "cluster"])
def database(request, emulator: Emulator, stack: Deployment) -> Database:
    return create_database(emulator, request.param == "cluster")


def run(stack: Deployment, execution_input: Any) -> ExecutionResult:
    return stack.run(MACHINE, execution_input, name=f"run-{uuid.uuid4().hex[:10]}")


def lock_table(stack: Deployment) -> str:
    return str(stack.physical_id("LockTable"))


def locks(emulator: Emulator, stack: Deployment) -> dict[str, dict]:
    items = emulator.client("dynamodb").scan(TableName=lock_table(stack), ConsistentRead=True)["Items"]
    return {item["lockId"]["S"]: item for item in items}


def hold_lock(emulator: Emulator, stack: Deployment, database: Database, *, expires_in: int) -> None:
    """The item another run would have written (``expires_in`` seconds from now; negative: expired)."""
    emulator.client("dynamodb").put_item(
        TableName=lock_table(stack),
        Item={
            "lockId": {"S": database.key},
            "execution": {"S": OTHER_RUN},
            "expiresAt": {"N": str(int(time.time()) + expires_in)},
        },
    )


# -- one run per database --------------------------------------------------------------------------


def test_a_second_run_while_the_lock_is_held_fails_fast_and_changes_nothing(emulator, stack, slack, database):
    hold_lock(emulator, stack, database, expires_in=3600)
    emulator.rds_calls.clear()

    result = run(stack, database.request("create_snapshot", strategy="swap"))

    assert result.status == "FAILED"
    assert result.error == "RestoreInProgressError", result.cause
    assert database.identifier in (result.cause or "")
    assert emulator.rds_calls.mutating() == []
    invoked = {call.logical_id for call in stack.invocations()}
    assert invoked <= {"ValidateInputFunction", "EmailAlertFunction", "SlackAlertFunction"}, invoked
    assert "Refuse the second run" in result.entered_states
    # the refused run leaves the other run's lock alone
    assert locks(emulator, stack)[database.key]["execution"]["S"] == OTHER_RUN
    assert any(database.identifier in body.get("text", "") for body in slack.bodies(SLACK_PATH)), "no alert"


def test_an_expired_lock_does_not_block_a_run(emulator, stack, database):
    hold_lock(emulator, stack, database, expires_in=-60)

    result = run(stack, database.request("db_restore"))

    assert result.status == "SUCCEEDED", (result.error, result.cause)
    assert locks(emulator, stack) == {}


def test_the_lock_is_held_while_the_run_changes_the_database_and_released_after_success(
    emulator, stack, database, monkeypatch
):
    from trapheus import steps

    seen_during_restore: list[dict] = []
    real_restore_step = steps.restore_step

    def restore_step_that_looks_at_the_lock(event: dict) -> dict:
        seen_during_restore.append(locks(emulator, stack))
        return real_restore_step(event)

    monkeypatch.setattr(steps, "restore_step", restore_step_that_looks_at_the_lock)

    result = run(stack, database.request("db_restore"))

    assert result.status == "SUCCEEDED", (result.error, result.cause)
    assert seen_during_restore, "the restore step did not run"
    now = time.time()
    for held in seen_during_restore:
        assert list(held) == [database.key]
        assert held[database.key]["execution"]["S"] == result.arn
        # LockTimeoutMinutes defaults to 720: a crashed run's lock expires after 12 hours
        assert now + 11 * 3600 < int(held[database.key]["expiresAt"]["N"]) <= now + 12 * 3600
    assert locks(emulator, stack) == {}


def test_the_lock_is_released_after_a_failure_with_nothing_to_roll_back(emulator, stack, database):
    operation = "CreateDBClusterSnapshot" if database.is_cluster else "CreateDBSnapshot"
    emulator.latency.fail_api(operation, code="InvalidParameterCombination", message="injected")

    result = run(stack, database.request("create_snapshot_only"))

    assert (result.status, result.error) == ("FAILED", "SnapshotError"), result.cause
    assert "Take the database lock" in result.entered_states
    assert "Release the lock after the failure" in result.entered_states
    assert locks(emulator, stack) == {}


@pytest.mark.parametrize("strategy", ["swap", "in-place"])
def test_the_lock_is_released_after_a_rollback(emulator, stack, database, strategy):
    operation = "RestoreDBClusterFromSnapshot" if database.is_cluster else "RestoreDBInstanceFromDBSnapshot"
    emulator.latency.fail_api(operation, code="InvalidParameterCombination", message="injected")

    result = run(stack, database.request("db_restore", strategy=strategy))

    assert (result.status, result.error) == ("FAILED", "RestoreError"), result.cause
    assert "Rollback finished" in result.entered_states
    assert locks(emulator, stack) == {}
    emulator.latency.clear()
    assert run(stack, database.request("db_restore", strategy=strategy)).succeeded


def test_a_refused_request_takes_no_lock(emulator, stack):
    create_database(emulator, snapshot=False)

    result = run(stack, {"identifier": INSTANCE_ID, "task": "db_restore", "isCluster": False})

    assert (result.status, result.error) == ("FAILED", "SnapshotNotFoundError")
    assert "Take the database lock" not in result.entered_states
    assert locks(emulator, stack) == {}


# -- plan --------------------------------------------------------------------------------------------------


def plan(stack: Deployment, **request: Any) -> ExecutionResult:
    return run(stack, {"task": "plan", **request})


@pytest.mark.parametrize("strategy", ["swap", "in-place"])
def test_a_plan_changes_nothing_and_says_what_a_restore_would_do(emulator, stack, database, strategy):
    emulator.rds_calls.clear()

    result = plan(stack, identifier=database.identifier, isCluster=database.is_cluster, strategy=strategy)

    assert result.status == "SUCCEEDED", (result.error, result.cause)
    assert emulator.rds_calls.mutating() == []
    assert locks(emulator, stack) == {}
    report = result.output
    assert (report["ready"], report["blockers"]) == (True, [])
    assert (report["identifier"], report["isCluster"]) == (database.identifier, database.is_cluster)
    assert report["strategy"] == strategy
    assert report["snapshot"]["identifier"] == f"{database.identifier}-snapshot"
    assert report["snapshot"]["status"] == "available"
    assert 0 <= report["snapshot"]["ageHours"] < 1
    original = database.identifier
    aside, staged = f"{original}-trapheus-old", f"{original}-trapheus-new"
    members = [f"{database.identifier}-{n}" for n in (1, 2)] if database.is_cluster else []
    if strategy == "swap":
        assert report["creates"] == [staged, *[f"{m}-trapheus-new" for m in members]]
        assert [original, aside] in report["renames"] and [staged, original] in report["renames"]
        assert "renames" in report["expectedDowntime"]
    else:
        assert report["creates"] == [original, *members]
        assert report["renames"] == [[original, aside], *[[m, f"{m}-trapheus-old"] for m in members]]
        assert "whole restore" in report["expectedDowntime"]
    (retired,) = report["deletes"]
    assert retired["identifier"] == aside
    assert retired["finalSnapshot"].startswith(f"{original}-trapheus-final-")
    assert report["configuration"]["kind"] == ("cluster" if database.is_cluster else "instance")


def blocker_errors(result: ExecutionResult) -> list[str]:
    assert result.status == "SUCCEEDED", (result.error, result.cause)
    assert result.output["ready"] is False
    return [blocker["error"] for blocker in result.output["blockers"]]


def test_a_plan_reports_a_missing_snapshot(emulator, stack):
    create_database(emulator, snapshot=False)
    emulator.rds_calls.clear()

    result = plan(stack, identifier=INSTANCE_ID, isCluster=False)

    assert blocker_errors(result) == ["SnapshotNotFoundError"]
    assert emulator.rds_calls.mutating() == []


def test_a_plan_reports_a_held_lock(emulator, stack):
    database = create_database(emulator)
    hold_lock(emulator, stack, database, expires_in=3600)

    result = plan(stack, identifier=INSTANCE_ID, isCluster=False)

    assert blocker_errors(result) == ["RestoreInProgressError"]
    assert OTHER_RUN in result.output["blockers"][0]["message"]
    assert locks(emulator, stack)[database.key]["execution"]["S"] == OTHER_RUN


def test_a_plan_ignores_an_expired_lock(emulator, stack):
    database = create_database(emulator)
    hold_lock(emulator, stack, database, expires_in=-60)

    result = plan(stack, identifier=INSTANCE_ID, isCluster=False)

    assert result.status == "SUCCEEDED" and result.output["ready"] is True, result.output


def test_a_plan_reports_an_identifier_a_run_needs_that_is_in_use(emulator, stack):
    create_database(emulator)
    with emulator.settled():
        make_instance(emulator.client("rds"), emulator.client("ec2"), f"{INSTANCE_ID}-trapheus-old")
    emulator.rds_calls.clear()

    result = plan(stack, identifier=INSTANCE_ID, isCluster=False)

    assert blocker_errors(result) == ["IdentifierInUseError"]
    assert f"{INSTANCE_ID}-trapheus-old" in result.output["blockers"][0]["message"]
    assert emulator.rds_calls.mutating() == []


def test_a_plan_reports_every_blocker_at_once(emulator, stack):
    database = create_database(emulator, snapshot=False)
    with emulator.settled():
        make_instance(emulator.client("rds"), emulator.client("ec2"), f"{INSTANCE_ID}-trapheus-new")
    hold_lock(emulator, stack, database, expires_in=3600)

    result = plan(stack, identifier=INSTANCE_ID, isCluster=False)

    assert sorted(blocker_errors(result)) == ["IdentifierInUseError", "RestoreInProgressError", "SnapshotNotFoundError"]


def test_a_plan_of_a_missing_database_reports_it(emulator, stack):
    result = plan(stack, identifier="missing-db", isCluster=False)

    assert blocker_errors(result) == ["DatabaseNotFoundError"]


def test_a_plan_reports_an_identifier_too_long_as_a_blocker(emulator, stack):
    emulator.rds_calls.clear()

    result = plan(stack, identifier="o" * 60, isCluster=False)

    assert emulator.rds_calls.mutating() == []
    assert blocker_errors(result) == ["InvalidInputError"]


def test_a_plan_with_malformed_input_fails_without_changes(emulator, stack):
    create_database(emulator)
    emulator.rds_calls.clear()

    result = plan(stack, identifier=INSTANCE_ID, isCluster="false")

    assert (result.status, result.error) == ("FAILED", "InvalidInputError")
    assert emulator.rds_calls.mutating() == []
    assert locks(emulator, stack) == {}

