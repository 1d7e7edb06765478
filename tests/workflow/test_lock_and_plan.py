"""One run per database, and the plan that changes nothing: the real template run in the emulator.

The lock is the DynamoDB item the workflow writes with a conditional PutItem after validation and
deletes on every ending; a plan (``task: plan``) reads the database, the snapshot and the lock and
reports what a restore would do, without a single mutating call.

One emulator and one deployment serve the module; each test works on databases (and so locks)
with identifiers of its own, and starts with no faults, no recorded calls and no alerts.
"""

from __future__ import annotations

import itertools
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from support.rds_fixtures import STACK_PARAMETERS, make_cluster, make_instance
from support.slack import SlackListener

from trapheus import clients
from trapheus.locks import lock_key
from trapheus_local import Emulator
from trapheus_local.engine import Deployment, ExecutionResult

# one emulator serves the module: what each test makes in RDS is dropped when it ends
pytestmark = pytest.mark.usefixtures("rds_made_by_the_test_forgotten")

MACHINE = "RestoreStateMachine"
REAL_TEMPLATE = Path(__file__).resolve().parents[2] / "template.yaml"
SENDER = "trapheus@example.com"
SLACK_PATH = "/services/T000/B000/locks"
OTHER_RUN = "arn:aws:states:us-east-1:123456789012:execution:trapheus-local-RestoreStateMachine:the-other-run"


@pytest.fixture(scope="module")
def emulator() -> Iterator[Emulator]:
    clients.reset()
    with Emulator() as aws:
        yield aws
    clients.reset()


@pytest.fixture(scope="module")
def stack(emulator: Emulator, real_template, slack: SlackListener) -> Deployment:
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


@pytest.fixture(autouse=True)
def clean_start(emulator: Emulator, stack: Deployment, slack: SlackListener) -> Iterator[None]:
    """No faults, no recorded RDS calls, no alerts yet; and none left for the next test."""
    emulator.latency.clear()
    emulator.rds_calls.clear()
    slack.clear()
    yield
    emulator.latency.clear()


@pytest.fixture(scope="module")
def real_template() -> Path:
    assert REAL_TEMPLATE.is_file(), "template.yaml is missing"
    return REAL_TEMPLATE


_SERIAL = itertools.count(1)


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
    """A database with an identifier no other test of the module uses, and its snapshot unless told otherwise."""
    rds, ec2 = emulator.client("rds"), emulator.client("ec2")
    identifier = f"{'ledger' if is_cluster else 'orders-db'}-{next(_SERIAL):02d}"
    with emulator.settled():
        if is_cluster:
            make_cluster(rds, ec2, identifier, members=2)
            if snapshot:
                rds.create_db_cluster_snapshot(
                    DBClusterIdentifier=identifier, DBClusterSnapshotIdentifier=f"{identifier}-snapshot"
                )
            return Database(identifier, True)
        make_instance(rds, ec2, identifier)
        if snapshot:
            rds.create_db_snapshot(DBInstanceIdentifier=identifier, DBSnapshotIdentifier=f"{identifier}-snapshot")
    return Database(identifier, False)


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


def lock_of(emulator: Emulator, stack: Deployment, database: Database) -> dict | None:
    """The lock item on ``database``, if any (the table holds the other tests' databases' locks too)."""
    return locks(emulator, stack).get(database.key)


@pytest.fixture
def other_locks(emulator: Emulator, stack: Deployment) -> dict[str, dict]:
    """The lock table as the test found it: what the module's other tests left (the locks they held on purpose)."""
    return locks(emulator, stack)


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
    invoked_before = len(stack.invocations())

    result = run(stack, database.request("create_snapshot", strategy="swap"))

    assert result.status == "FAILED"
    assert result.error == "RestoreInProgressError", result.cause
    assert database.identifier in (result.cause or "")
    assert emulator.rds_calls.mutating() == []
    invoked = {call.logical_id for call in stack.invocations()[invoked_before:]}
    assert invoked <= {"ValidateInputFunction", "EmailAlertFunction", "SlackAlertFunction", "SnsAlertFunction"}, invoked
    assert "Refuse the second run" in result.entered_states
    # the refused run leaves the other run's lock alone
    assert lock_of(emulator, stack, database)["execution"]["S"] == OTHER_RUN
    assert any(database.identifier in body.get("text", "") for body in slack.bodies(SLACK_PATH)), "no alert"


def test_an_expired_lock_does_not_block_a_run(emulator, stack, database, other_locks):
    hold_lock(emulator, stack, database, expires_in=-60)

    result = run(stack, database.request("db_restore"))

    assert result.status == "SUCCEEDED", (result.error, result.cause)
    assert locks(emulator, stack) == other_locks


def test_the_lock_is_held_while_the_run_changes_the_database_and_released_after_success(
    emulator, stack, database, monkeypatch, other_locks
):
    seen_during_restore: list[dict] = []
    invoke = emulator.runtime.invoke

    def look_at_the_lock_when_the_restore_starts(spec, event):
        if spec.logical_id == "RestoreFunction":
            seen_during_restore.append(locks(emulator, stack))
        return invoke(spec, event)

    # the runtime looks its invoke method up at every invocation
    monkeypatch.setattr(emulator.runtime, "invoke", look_at_the_lock_when_the_restore_starts)

    result = run(stack, database.request("db_restore"))

    assert result.status == "SUCCEEDED", (result.error, result.cause)
    assert seen_during_restore, "the restore step did not run"
    now = time.time()
    for held in seen_during_restore:
        assert set(held) - set(other_locks) == {database.key}
        assert held[database.key]["execution"]["S"] == result.arn
        # LockTimeoutMinutes defaults to 720: a crashed run's lock expires after 12 hours
        assert now + 11 * 3600 < int(held[database.key]["expiresAt"]["N"]) <= now + 12 * 3600
    assert locks(emulator, stack) == other_locks


def test_the_lock_is_released_after_a_failure_with_nothing_to_roll_back(emulator, stack, database, other_locks):
    operation = "CreateDBClusterSnapshot" if database.is_cluster else "CreateDBSnapshot"
    emulator.latency.fail_api(operation, code="InvalidParameterCombination", message="injected")

    result = run(stack, database.request("create_snapshot_only"))

    assert (result.status, result.error) == ("FAILED", "SnapshotError"), result.cause
    assert "Take the database lock" in result.entered_states
    assert "Release the lock after the failure" in result.entered_states
    assert locks(emulator, stack) == other_locks


@pytest.mark.parametrize("strategy", ["swap", "in-place"])
def test_the_lock_is_released_after_a_rollback(emulator, stack, database, strategy, other_locks):
    operation = "RestoreDBClusterFromSnapshot" if database.is_cluster else "RestoreDBInstanceFromDBSnapshot"
    emulator.latency.fail_api(operation, code="InvalidParameterCombination", message="injected")

    result = run(stack, database.request("db_restore", strategy=strategy))

    assert (result.status, result.error) == ("FAILED", "RestoreError"), result.cause
    assert "Rollback finished" in result.entered_states
    assert locks(emulator, stack) == other_locks
    emulator.latency.clear()
    assert run(stack, database.request("db_restore", strategy=strategy)).succeeded


def test_a_refused_request_takes_no_lock(emulator, stack, other_locks):
    database = create_database(emulator, snapshot=False)

    result = run(stack, database.request("db_restore"))

    assert (result.status, result.error) == ("FAILED", "SnapshotNotFoundError")
    assert "Take the database lock" not in result.entered_states
    assert locks(emulator, stack) == other_locks


# -- plan --------------------------------------------------------------------------------------------------


def plan(stack: Deployment, **request: Any) -> ExecutionResult:
    return run(stack, {"task": "plan", **request})


@pytest.mark.parametrize("strategy", ["swap", "in-place"])
def test_a_plan_changes_nothing_and_says_what_a_restore_would_do(emulator, stack, database, strategy, other_locks):
    emulator.rds_calls.clear()

    result = plan(stack, identifier=database.identifier, isCluster=database.is_cluster, strategy=strategy)

    assert result.status == "SUCCEEDED", (result.error, result.cause)
    assert emulator.rds_calls.mutating() == []
    assert locks(emulator, stack) == other_locks
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
    database = create_database(emulator, snapshot=False)
    emulator.rds_calls.clear()

    result = plan(stack, identifier=database.identifier, isCluster=False)

    assert blocker_errors(result) == ["SnapshotNotFoundError"]
    assert emulator.rds_calls.mutating() == []


def test_a_plan_reports_a_held_lock(emulator, stack):
    database = create_database(emulator)
    hold_lock(emulator, stack, database, expires_in=3600)

    result = plan(stack, identifier=database.identifier, isCluster=False)

    assert blocker_errors(result) == ["RestoreInProgressError"]
    assert OTHER_RUN in result.output["blockers"][0]["message"]
    assert lock_of(emulator, stack, database)["execution"]["S"] == OTHER_RUN


def test_a_plan_ignores_an_expired_lock(emulator, stack):
    database = create_database(emulator)
    hold_lock(emulator, stack, database, expires_in=-60)

    result = plan(stack, identifier=database.identifier, isCluster=False)

    assert result.status == "SUCCEEDED" and result.output["ready"] is True, result.output


def test_a_plan_reports_an_identifier_a_run_needs_that_is_in_use(emulator, stack):
    database = create_database(emulator)
    with emulator.settled():
        make_instance(emulator.client("rds"), emulator.client("ec2"), f"{database.identifier}-trapheus-old")
    emulator.rds_calls.clear()

    result = plan(stack, identifier=database.identifier, isCluster=False)

    assert blocker_errors(result) == ["IdentifierInUseError"]
    assert f"{database.identifier}-trapheus-old" in result.output["blockers"][0]["message"]
    assert emulator.rds_calls.mutating() == []


def test_a_plan_reports_every_blocker_at_once(emulator, stack):
    database = create_database(emulator, snapshot=False)
    with emulator.settled():
        make_instance(emulator.client("rds"), emulator.client("ec2"), f"{database.identifier}-trapheus-new")
    hold_lock(emulator, stack, database, expires_in=3600)

    result = plan(stack, identifier=database.identifier, isCluster=False)

    assert sorted(blocker_errors(result)) == ["IdentifierInUseError", "RestoreInProgressError", "SnapshotNotFoundError"]


def test_a_plan_of_a_missing_database_reports_it(emulator, stack):
    result = plan(stack, identifier="missing-db", isCluster=False)

    assert blocker_errors(result) == ["DatabaseNotFoundError"]


def test_a_plan_reports_an_identifier_too_long_as_a_blocker(emulator, stack):
    emulator.rds_calls.clear()

    result = plan(stack, identifier="o" * 60, isCluster=False)

    assert emulator.rds_calls.mutating() == []
    assert blocker_errors(result) == ["InvalidInputError"]


def test_a_plan_with_malformed_input_fails_without_changes(emulator, stack, other_locks):
    database = create_database(emulator)
    emulator.rds_calls.clear()

    result = plan(stack, identifier=database.identifier, isCluster="false")

    assert (result.status, result.error) == ("FAILED", "InvalidInputError")
    assert emulator.rds_calls.mutating() == []
    assert locks(emulator, stack) == other_locks

