"""The fault-injection matrix: both strategies x instance/cluster x every step that changes something x
every way that step can fail.

Each case deploys nothing new: one emulator and one deployment of the real template serve the whole
module, and each case works on a database of its own (its own identifier), so cases cannot see each
other's databases, locks or alerts. After the failed run the test checks what issue 5 promises:

- the original identifier is served by an ``available`` database: the original itself (same resource
  id) or, only when the failure came after the copy took over, a complete twin;
- nothing of the user's was deleted without a final snapshot;
- the lock item is gone;
- the execution is FAILED with the error of the step that failed;
- an email and a Slack message name the database;
- with the faults cleared, a second run succeeds.

Combinations that cannot occur are skipped with the reason. The full cross product takes minutes,
so a pairwise selection runs unless TRAPHEUS_FULL_MATRIX=1. The terminal summary ends with
``strategy matrix: N cases, N passed, ...`` (tests/support/strategy_matrix.py).
"""

from __future__ import annotations

import itertools
import json
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from moto.ses.models import ses_backends
from support.rds_fixtures import ROOMY_QUOTAS, STACK_PARAMETERS, make_cluster, make_instance
from support.slack import SlackListener
from support.strategy_matrix import NOT_SELECTED, full_matrix

from trapheus import clients, databases
from trapheus.alerts import ROLLBACK_OUTCOMES
from trapheus.configuration import twin_differences
from trapheus.kinds import kind_for
from trapheus.locks import lock_key
from trapheus.names import RestoreNames, derive_names
from trapheus_local import Emulator
from trapheus_local.engine import Deployment, ExecutionResult
from trapheus_local.latency import ApiFault, LatencyModel
from trapheus_local.resources import ACCOUNT_ID

# one emulator serves the module: what each test makes in RDS is dropped when it ends
pytestmark = pytest.mark.usefixtures("rds_made_by_the_test_forgotten")

TEMPLATE = Path(__file__).resolve().parents[2] / "template.yaml"
MACHINE = "RestoreStateMachine"
SENDER = "trapheus@example.com"
RECIPIENT = "dba@example.com"
SLACK_PATH = "/services/T000/B000/matrix"
MAX_POLL_ATTEMPTS = 4
# Under the strict RDS model every operation takes its modelled time (a 500 GiB restore ~32 minutes, a
# rename ~11): a 15-minute poll follows each in a few looks, and four looks still run out on a stuck one.
POLL_SECONDS = 900

STRATEGIES = ("swap", "in-place")
KINDS = ("instance", "cluster")
API_ERROR = "InvalidParameterCombination"  # not transient: neither the SDK nor the workflow retries it
THROTTLED = "Throttling"  # retried by the SDK, then by the workflow, and still failing


# -- how a step's RDS calls are told apart ------------------------------------------------------------


Names = RestoreNames
Where = Callable[[dict], bool]


def _database_id(params: dict) -> str | None:
    return params.get("DBInstanceIdentifier") or params.get("DBClusterIdentifier")


def _new_id(params: dict) -> str | None:
    return params.get("NewDBInstanceIdentifier") or params.get("NewDBClusterIdentifier")


def _snapshot_id(params: dict) -> str | None:
    return params.get("DBSnapshotIdentifier") or params.get("DBClusterSnapshotIdentifier")


@dataclass(frozen=True)
class Step:
    """One step that changes something: the RDS call it makes and the resource it leaves behind."""

    name: str
    task: str  # the task whose run reaches the step
    api_error: str  # the error a non-transient API failure of the step ends the run with
    operation: Callable[[bool], str]  # by is_cluster
    where: Callable[[Names, str], Where]  # (names, strategy) -> which calls of the operation are the step's
    # (names, strategy) -> the resource the call leaves in its in-between status (the one a poll loop waits for)
    produces: Callable[[Names, str], str] | None = None
    in_between: str = "creating"
    took_over: bool = False  # the restored copy already serves the identifier when the step runs
    renames_the_original: bool = False  # the step renames the user's original database (or one of its members)
    only: Callable[[str, bool], str | None] = lambda strategy, is_cluster: None  # skip reason, if any


def _parked(cluster_id: str) -> bool:
    from moto.rds.models import rds_backends

    return cluster_id in rds_backends[ACCOUNT_ID]["us-east-1"].clusters


def _by_kind(instance_operation: str, cluster_operation: str) -> Callable[[bool], str]:
    return lambda is_cluster: cluster_operation if is_cluster else instance_operation


def _restored(names: Names, strategy: str) -> str:
    """Where a strategy restores the snapshot."""
    return names.staged if strategy == "swap" else names.original


def _swap_only(strategy: str, is_cluster: bool) -> str | None:
    if strategy == "swap":
        return None
    return "cannot occur: in-place restores at the original identifier, nothing is moved into place"


def _clusters_only(strategy: str, is_cluster: bool) -> str | None:
    return None if is_cluster else "cannot occur: an instance has no cluster members"


def _cluster_swap_only(strategy: str, is_cluster: bool) -> str | None:
    return _clusters_only(strategy, is_cluster) or _swap_only(strategy, is_cluster)


def _instances_only(strategy: str, is_cluster: bool) -> str | None:
    # the sample cluster's restore already carries every setting; apply_configuration finds nothing to modify
    if not is_cluster:
        return None
    return "cannot occur: the restored sample cluster matches without a modify call (nothing to configure)"


STEPS = [
    Step(
        "take the new snapshot", "create_snapshot", "SnapshotError",
        _by_kind("CreateDBSnapshot", "CreateDBClusterSnapshot"),
        lambda names, strategy: lambda p: True,
        produces=lambda names, strategy: names.snapshot_next,
    ),
    Step(
        "remove the old snapshot", "create_snapshot", "SnapshotError",
        _by_kind("DeleteDBSnapshot", "DeleteDBClusterSnapshot"),
        lambda names, strategy: lambda p: _snapshot_id(p) == names.snapshot,
    ),
    Step(
        "copy the new snapshot into place", "create_snapshot", "SnapshotError",
        _by_kind("CopyDBSnapshot", "CopyDBClusterSnapshot"),
        lambda names, strategy: lambda p: True,
        produces=lambda names, strategy: names.snapshot,
    ),
    Step(
        "remove the temporary snapshot", "create_snapshot", "SnapshotError",
        _by_kind("DeleteDBSnapshot", "DeleteDBClusterSnapshot"),
        lambda names, strategy: lambda p: _snapshot_id(p) == names.snapshot_next,
    ),
    Step(
        "rename the original aside", "db_restore", "RenameError",
        _by_kind("ModifyDBInstance", "ModifyDBCluster"),
        lambda names, strategy: lambda p: _new_id(p) == names.aside,
        produces=lambda names, strategy: names.aside,
        in_between="renaming",
        renames_the_original=True,
    ),
    Step(
        "rename a member aside", "db_restore", "RenameError",
        _by_kind("ModifyDBInstance", "ModifyDBInstance"),
        lambda names, strategy: lambda p: _new_id(p) == names.members[-1].aside,
        produces=lambda names, strategy: names.members[-1].aside,
        in_between="renaming",
        renames_the_original=True,
        only=_clusters_only,
    ),
    Step(
        "restore the snapshot", "db_restore", "RestoreError",
        _by_kind("RestoreDBInstanceFromDBSnapshot", "RestoreDBClusterFromSnapshot"),
        lambda names, strategy: lambda p: True,
        produces=_restored,
    ),
    Step(
        # the copy comes from the original's automated backups instead of a snapshot; the rest is the same
        "restore to a point in time", "point_in_time_restore", "RestoreError",
        _by_kind("RestoreDBInstanceToPointInTime", "RestoreDBClusterToPointInTime"),
        lambda names, strategy: lambda p: True,
        produces=_restored,
    ),
    Step(
        "create a cluster member", "db_restore", "RestoreError",
        _by_kind("CreateDBInstance", "CreateDBInstance"),
        lambda names, strategy: lambda p: p.get("DBClusterIdentifier") == _restored(names, strategy),
        produces=lambda names, strategy: getattr(names.members[-1], "staged" if strategy == "swap" else "original"),
        only=_clusters_only,
    ),
    Step(
        "configure the restored copy", "db_restore", "RestoreError",
        _by_kind("ModifyDBInstance", "ModifyDBCluster"),
        # not a rename, and not deletion protection (set last, or lifted by a rollback)
        lambda names, strategy: lambda p: _database_id(p) == _restored(names, strategy)
        and not _new_id(p)
        and "DeletionProtection" not in p,
        produces=_restored,
        in_between="modifying",
        only=_instances_only,
    ),
    Step(
        "move the staged copy into place", "db_restore", "RenameError",
        _by_kind("ModifyDBInstance", "ModifyDBCluster"),
        lambda names, strategy: lambda p: _database_id(p) == names.staged and _new_id(p) == names.original,
        produces=lambda names, strategy: names.original,
        in_between="renaming",
        only=_swap_only,
    ),
    Step(
        "move a staged member into place", "db_restore", "RenameError",
        _by_kind("ModifyDBInstance", "ModifyDBInstance"),
        # the staged member's rename, not the rollback renaming the original member back
        lambda names, strategy: lambda p: _database_id(p) == names.members[-1].staged
        and _new_id(p) == names.members[-1].original,
        produces=lambda names, strategy: names.members[-1].original,
        in_between="renaming",
        only=_cluster_swap_only,
    ),
    Step(
        # an Aurora custom endpoint belongs to the original: taken from it (parked aside)...
        "take a custom endpoint from the original", "db_restore", "RestoreError",
        _by_kind("DeleteDBClusterEndpoint", "DeleteDBClusterEndpoint"),
        lambda names, strategy: lambda p: True,
        took_over=True,
        only=_clusters_only,
    ),
    Step(
        # ...and created again, same name, on the copy that holds the identifier now
        "create the custom endpoint on the copy", "db_restore", "RestoreError",
        _by_kind("CreateDBClusterEndpoint", "CreateDBClusterEndpoint"),
        # while the original is parked aside: the rollback creates it again on the original, same name
        lambda names, strategy: lambda p: p.get("DBClusterIdentifier") == names.original and _parked(names.aside),
        took_over=True,
        only=_clusters_only,
    ),
    Step(
        # the copy serves the identifier already; a rollback now takes a final snapshot of it
        "protect the restored copy", "db_restore", "RestoreError",
        _by_kind("ModifyDBInstance", "ModifyDBCluster"),
        lambda names, strategy: lambda p: _database_id(p) == names.original and p.get("DeletionProtection") is True,
        produces=lambda names, strategy: names.original,
        in_between="modifying",
        took_over=True,
    ),
    Step(
        "lift the retired original's deletion protection", "db_restore", "DeleteError",
        _by_kind("ModifyDBInstance", "ModifyDBCluster"),
        lambda names, strategy: lambda p: _database_id(p) == names.aside and p.get("DeletionProtection") is False,
        took_over=True,
    ),
    Step(
        "retire the original", "db_restore", "DeleteError",
        _by_kind("DeleteDBInstance", "DeleteDBCluster"),
        lambda names, strategy: lambda p: _database_id(p) == names.aside,
        produces=lambda names, strategy: names.aside,
        in_between="deleting",
        took_over=True,
    ),
    Step(
        # members go first, without a final snapshot of their own (the cluster's covers them)
        "retire a member of the original", "db_restore", "DeleteError",
        _by_kind("DeleteDBInstance", "DeleteDBInstance"),
        lambda names, strategy: lambda p: _database_id(p) == names.members[-1].aside,
        took_over=True,
        only=_clusters_only,
    ),
]


# -- failure kinds --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Failure:
    name: str
    error: Callable[[Step], str]  # the error the run must end with
    inject: Callable[[LatencyModel, Step, bool, Names, str], None]
    impossible: Callable[[Step], str | None] = lambda step: None


def _api(code: str) -> Callable[[LatencyModel, Step, bool, Names, str], None]:
    def inject(latency: LatencyModel, step: Step, is_cluster: bool, names: Names, strategy: str) -> None:
        latency.api_faults.append(
            ApiFault(step.operation(is_cluster), code=code, message="injected by the strategy matrix", where=step.where(names, strategy))
        )

    return inject


def _ends(status_of: Callable[[Step], str]) -> Callable[[LatencyModel, Step, bool, Names, str], None]:
    def inject(latency: LatencyModel, step: Step, is_cluster: bool, names: Names, strategy: str) -> None:
        assert step.produces is not None
        latency.end_status(
            step.operation(is_cluster), step.produces(names, strategy), status_of(step), where=step.where(names, strategy)
        )

    return inject


def _not_waited_for(step: Step) -> str | None:
    if step.produces is not None:
        return None
    if "Snapshot" in step.operation(False):
        return "not injectable: the emulator removes a snapshot at once (no 'deleting' status to end failed or outlast)"
    if "Endpoint" in step.operation(False):
        return "not injectable: custom endpoints are timed by their own emulation, not the latency model"
    return "cannot occur: nothing waits for this call itself (the step goes on to the delete, and the database's deletion is awaited)"


def _deletion_ends_failed(step: Step) -> str | None:
    if step.in_between == "deleting":
        return "cannot occur: a deletion leaves no resource that could end 'failed'"
    return _not_waited_for(step)


FAILURES = [
    Failure("API error", lambda step: step.api_error, _api(API_ERROR)),
    Failure("throttled beyond retries", lambda step: "ThrottlingError", _api(THROTTLED)),
    Failure("ends failed", lambda step: "DatabaseFailedError", _ends(lambda step: "failed"), _deletion_ends_failed),
    Failure(
        "attempts exhausted", lambda step: "WaitTimeoutError", _ends(lambda step: step.in_between), _not_waited_for
    ),
]


@dataclass(frozen=True)
class Case:
    strategy: str
    is_cluster: bool
    step: Step
    failure: Failure

    @property
    def rollback_impossible(self) -> bool:
        """RDS itself forbids the rollback: the run must say so, and lose nothing.

        - a rename that never finishes, or leaves the original failed: RDS refuses to rename it back (a copy
          that fails while taking the identifier is discarded instead);
        - the copy fails, or never settles, right after deletion protection was set on it: RDS neither deletes a
          protected database nor modifies one that is not available, so the copy stays where it is.
        """
        stuck = self.failure.name in ("attempts exhausted", "ends failed")
        if self.step.in_between == "renaming":
            return self.failure.name == "attempts exhausted" or (self.failure.name == "ends failed" and self.step.renames_the_original)
        return stuck and self.step.name == "protect the restored copy"

    @property
    def id(self) -> str:
        return f"{self.strategy}-{'cluster' if self.is_cluster else 'instance'}-{self.step.name}-{self.failure.name}"

    @property
    def error(self) -> str:
        return self.failure.error(self.step)


def _impossible(case: Case) -> str | None:
    return case.step.only(case.strategy, case.is_cluster) or case.failure.impossible(case.step)


def _pairs(case: Case) -> set[tuple[tuple[int, str], tuple[int, str]]]:
    factors = list(enumerate((case.strategy, str(case.is_cluster), case.step.name, case.failure.name)))
    return set(itertools.combinations(factors, 2))


def pairwise(cases: list[Case]) -> list[Case]:
    """A subset in which every two factor values that can occur together still occur together.

    Greedy: take the case that covers most pairs not covered yet, until none is left; ties go to the
    earlier case, so the selection is the same on every run.
    """
    uncovered = set().union(*(_pairs(case) for case in cases))
    chosen: list[Case] = []
    while uncovered:
        best = max(cases, key=lambda case: len(_pairs(case) & uncovered))
        chosen.append(best)
        uncovered -= _pairs(best)
    return chosen


# The full cross product takes several minutes here (each case is a failed run, its rollback and a
# re-run), so a pairwise selection runs by default; TRAPHEUS_FULL_MATRIX=1 runs every combination.
FULL_MATRIX = full_matrix()

CASES = [
    Case(strategy, kind == "cluster", step, failure)
    for strategy, kind, step, failure in itertools.product(STRATEGIES, KINDS, STEPS, FAILURES)
]
POSSIBLE = [case for case in CASES if not _impossible(case)]
SELECTED = POSSIBLE if FULL_MATRIX else pairwise(POSSIBLE)


def _marks(case: Case) -> list[Any]:
    reason = _impossible(case)
    if reason:
        return [pytest.mark.skip(reason=reason)]
    if case not in SELECTED:
        return [pytest.mark.skip(reason=f"{NOT_SELECTED} (TRAPHEUS_FULL_MATRIX=1 runs it)")]
    return []


PARAMS = [pytest.param(case, id=case.id, marks=_marks(case)) for case in CASES]


# -- fixtures ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def matrix(slack: SlackListener) -> Iterator[tuple[Emulator, Deployment]]:
    """One emulator and one deployment for the whole matrix (each case has a database of its own)."""
    clients.reset()
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("POWERTOOLS_LOG_LEVEL", "WARNING")
        with Emulator(quotas=ROOMY_QUOTAS) as emulator:
            stack = emulator.deploy(
                TEMPLATE,
                {
                    "LogLevel": "WARNING",
                    "MaxPollAttempts": MAX_POLL_ATTEMPTS,
                    "PollIntervalSeconds": POLL_SECONDS,
                    "SenderEmail": SENDER,
                    "RecipientEmails": RECIPIENT,
                    "SlackWebhookUrls": slack.url(SLACK_PATH),
                    **STACK_PARAMETERS,
                },
            )
            emulator.client("ses").verify_email_identity(EmailAddress=SENDER)
            yield emulator, stack
    clients.reset()


_SERIAL = itertools.count(1)


@dataclass
class Database:
    emulator: Emulator
    identifier: str
    is_cluster: bool
    before: dict
    resource_ids: set[str]  # the database's and its members'
    snapshots_before: set[str]

    @property
    def rds(self) -> Any:
        return self.emulator.client("rds")

    @property
    def kind(self) -> Any:
        return kind_for(self.is_cluster)

    def capture(self) -> dict:
        return databases.capture(self.kind, self.identifier, self.rds)

    def names(self, run_name: str) -> Names:
        members = [m["identifier"] for m in self.before.get("members", [])]
        return derive_names(self.identifier, f"{self.identifier}-snapshot", run_name, members, is_cluster=self.is_cluster)

    def request(self, task: str, strategy: str) -> dict:
        request = {"identifier": self.identifier, "task": task, "isCluster": self.is_cluster, "strategy": strategy}
        return {**request, "restoreTime": "latest"} if task == "point_in_time_restore" else request


def create_database(emulator: Emulator, is_cluster: bool) -> Database:
    rds = emulator.client("rds")
    identifier = f"{'cl' if is_cluster else 'db'}{next(_SERIAL):03d}"
    with emulator.settled():
        if is_cluster:
            make_cluster(rds, emulator.client("ec2"), identifier, members=2)
            rds.create_db_cluster_endpoint(
                DBClusterIdentifier=identifier, DBClusterEndpointIdentifier=f"{identifier}-reporting",
                EndpointType="READER", StaticMembers=[f"{identifier}-2"],
            )
            rds.create_db_cluster_snapshot(
                DBClusterIdentifier=identifier, DBClusterSnapshotIdentifier=f"{identifier}-snapshot"
            )
        else:
            make_instance(rds, emulator.client("ec2"), identifier)
            rds.create_db_snapshot(DBInstanceIdentifier=identifier, DBSnapshotIdentifier=f"{identifier}-snapshot")
    emulator.settle()  # the custom endpoint too
    before = databases.capture(kind_for(is_cluster), identifier, rds)
    return Database(
        emulator, identifier, is_cluster, before, resource_ids(emulator, identifier), snapshot_ids(emulator, identifier)
    )


# -- reading the emulated account (only what belongs to one database) ---------------------------------------


def _owned(identifier: str, name: str) -> bool:
    return name == identifier or name.startswith(f"{identifier}-")


def snapshot_ids(emulator: Emulator, identifier: str) -> set[str]:
    rds = emulator.client("rds")
    found = {s["DBSnapshotIdentifier"] for s in rds.describe_db_snapshots(SnapshotType="manual")["DBSnapshots"]}
    cluster_snapshots = rds.describe_db_cluster_snapshots(SnapshotType="manual")["DBClusterSnapshots"]
    found |= {s["DBClusterSnapshotIdentifier"] for s in cluster_snapshots}
    return {name for name in found if _owned(identifier, name)}


def resource_ids(emulator: Emulator, identifier: str) -> set[str]:
    """Resource ids of the databases whose identifier belongs to ``identifier`` (any name trapheus gives them)."""
    rds = emulator.client("rds")
    instances = rds.describe_db_instances()["DBInstances"]
    clusters = rds.describe_db_clusters()["DBClusters"]
    ids = {d["DbiResourceId"] for d in instances if _owned(identifier, d["DBInstanceIdentifier"])}
    ids |= {c["DbClusterResourceId"] for c in clusters if _owned(identifier, c["DBClusterIdentifier"])}
    return ids


def run(stack: Deployment, execution_input: dict, name: str) -> ExecutionResult:
    return stack.run(MACHINE, execution_input, name=name)


def lock_items(emulator: Emulator, stack: Deployment) -> list[dict]:
    return emulator.client("dynamodb").scan(TableName=stack.physical_id("LockTable"), ConsistentRead=True)["Items"]


def assert_served(database: Database, case: Case) -> None:
    """An available database answers at the original identifier: the original, or a twin once it took over."""
    description = databases.describe(database.kind, database.identifier, database.rds)
    assert databases.status(database.kind, description) == "available"
    now = database.capture()
    if now["resourceId"] != database.before["resourceId"]:
        assert case.step.took_over, "a copy holds the identifier although the failure came before it took over"
    assert twin_differences(database.before, now) == []
    for member in now.get("members", []):
        found = database.rds.describe_db_instances(DBInstanceIdentifier=member["identifier"])["DBInstances"][0]
        assert found["DBInstanceStatus"] == "available", member["identifier"]


def assert_nothing_lost(database: Database, names: Names) -> None:
    """Every snapshot the user had is still there (a replaced one only once its successor exists), and every
    database the user had still exists or left a final snapshot."""
    after = snapshot_ids(database.emulator, database.identifier)
    lost = database.snapshots_before - after
    if lost == {names.snapshot}:
        assert names.snapshot_next in after, f"{names.snapshot} was removed and its successor is missing"
    else:
        assert not lost, f"snapshots deleted: {sorted(lost)}"
    gone = database.resource_ids - resource_ids(database.emulator, database.identifier)
    if gone:
        assert names.final_snapshot in after, f"databases {sorted(gone)} were deleted without a final snapshot"


def assert_alerted(emulator: Emulator, slack: SlackListener, identifier: str) -> None:
    sent = ses_backends[ACCOUNT_ID][emulator.region].sent_messages
    assert any(identifier in f"{message.subject} {message.body}" for message in sent), "no email names the database"
    texts = [body.get("text", "") for body in slack.bodies(SLACK_PATH)]
    assert any(identifier in text for text in texts), "no Slack message names the database"


def assert_rollback_reported_failed(slack: SlackListener, identifier: str) -> None:
    texts = [json.dumps(body) for body in slack.bodies(SLACK_PATH) if identifier in body.get("text", "")]
    assert any(ROLLBACK_OUTCOMES["failed"] in text for text in texts), texts


def assert_lock_free(emulator: Emulator, stack: Deployment, database: Database) -> None:
    key = lock_key(database.is_cluster, database.identifier)
    held = [item for item in lock_items(emulator, stack) if item["lockId"]["S"] == key]
    assert held == [], f"the lock on {key} is still held: {held}"


# -- the matrix --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("case", PARAMS)
def test_a_failed_step_leaves_the_database_served_and_a_rerun_succeeds(matrix, slack, case: Case):
    emulator, stack = matrix
    emulator.latency.clear()
    database = create_database(emulator, case.is_cluster)
    run_name = f"fails-{uuid.uuid4().hex[:8]}"
    names = database.names(run_name)
    case.failure.inject(emulator.latency, case.step, case.is_cluster, names, case.strategy)
    try:
        result = run(stack, database.request(case.step.task, case.strategy), run_name)

        assert result.status == "FAILED", result.entered_states
        assert result.error == case.error, (result.error, result.cause)
        assert_nothing_lost(database, names)
        assert_lock_free(emulator, stack, database)
        assert_alerted(emulator, slack, database.identifier)
        if case.rollback_impossible:
            assert "Rollback failed" in result.entered_states, result.entered_states
            assert_rollback_reported_failed(slack, database.identifier)
            return
        assert_served(database, case)

        emulator.latency.clear()
        rerun = run(stack, database.request(case.step.task, case.strategy), f"rerun-{uuid.uuid4().hex[:8]}")
        assert rerun.status == "SUCCEEDED", (rerun.error, rerun.cause)
        assert twin_differences(database.before, database.capture()) == []
        assert_lock_free(emulator, stack, database)
    finally:
        emulator.latency.clear()
