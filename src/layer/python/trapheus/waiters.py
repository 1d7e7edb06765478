"""Is the operation done? One describe call, judged by botocore waiter acceptors.

The workflow polls with Wait -> Check -> Choice loops; the Check step calls
:func:`check`, which makes one describe call per waiter and evaluates the
waiter's acceptors against the response — the same rules a boto3 waiter uses,
without its sleeping loop. Instances and snapshots of instances use the models
that ship with botocore; clusters (and "settled" instances, which also need no
pending modifications) use the custom models below.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Any

import botocore.session
from botocore.exceptions import ClientError
from botocore.waiter import WaiterModel

from trapheus import clients
from trapheus.errors import InvalidInputError, ThrottlingError
from trapheus.kinds import CLUSTER, DatabaseKind, kind_for
from trapheus.throttling import error_code, is_throttling


class Outcome(str, Enum):
    DONE = "done"
    WAITING = "waiting"
    FAILED = "failed"


_FAILED_INSTANCE_STATUSES = (
    "failed",
    "incompatible-restore",
    "incompatible-parameters",
    "incompatible-network",
    "incompatible-option-group",
    "inaccessible-encryption-credentials",
    "storage-full",
    "restore-error",
    "deleting",
    "deleted",
)
_FAILED_CLUSTER_STATUSES = (
    "failed",
    "incompatible-restore",
    "incompatible-parameters",
    "incompatible-network",
    "inaccessible-encryption-credentials",
    "migration-failed",
    "deleting",
    "deleted",
)


def _failures(argument: str, statuses: tuple[str, ...]) -> list[dict]:
    return [{"matcher": "pathAny", "argument": argument, "expected": s, "state": "failure"} for s in statuses]


def _settled(list_key: str, status_key: str) -> str:
    # available AND nothing left pending: right after a modify the status can still
    # read "available" while the change waits in PendingModifiedValues
    return f"length({list_key}[?{status_key}=='available' && !PendingModifiedValues]) == length({list_key})"


CUSTOM_WAITERS: dict[str, Any] = {
    "version": 2,
    "waiters": {
        "DBInstanceSettled": {
            "operation": "DescribeDBInstances",
            "delay": 30,
            "maxAttempts": 60,
            "acceptors": [
                {"matcher": "path", "argument": _settled("DBInstances", "DBInstanceStatus"), "expected": True, "state": "success"},
                *_failures("DBInstances[].DBInstanceStatus", _FAILED_INSTANCE_STATUSES),
            ],
        },
        "DBClusterSettled": {
            "operation": "DescribeDBClusters",
            "delay": 30,
            "maxAttempts": 60,
            "acceptors": [
                {"matcher": "path", "argument": _settled("DBClusters", "Status"), "expected": True, "state": "success"},
                *_failures("DBClusters[].Status", _FAILED_CLUSTER_STATUSES),
            ],
        },
        "DBClusterMembersSettled": {
            "operation": "DescribeDBInstances",
            "delay": 30,
            "maxAttempts": 60,
            "acceptors": [
                {"matcher": "path", "argument": _settled("DBInstances", "DBInstanceStatus"), "expected": True, "state": "success"},
                *_failures("DBInstances[].DBInstanceStatus", _FAILED_INSTANCE_STATUSES),
            ],
        },
        "DBClusterGone": {
            "operation": "DescribeDBClusters",
            "delay": 30,
            "maxAttempts": 60,
            "acceptors": [
                {"matcher": "error", "expected": "DBClusterNotFoundFault", "state": "success"},
                {"matcher": "path", "argument": "length(DBClusters) == `0`", "expected": True, "state": "success"},
                *_failures("DBClusters[].Status", ("available", "failed", "modifying", "backing-up", "renaming")),
            ],
        },
        "DBClusterSnapshotReady": {
            "operation": "DescribeDBClusterSnapshots",
            "delay": 30,
            "maxAttempts": 60,
            "acceptors": [
                {"matcher": "pathAll", "argument": "DBClusterSnapshots[].Status", "expected": "available", "state": "success"},
                *_failures("DBClusterSnapshots[].Status", ("failed", "deleted", "deleting", "incompatible-restore")),
            ],
        },
        "DBClusterSnapshotGone": {
            "operation": "DescribeDBClusterSnapshots",
            "delay": 30,
            "maxAttempts": 60,
            "acceptors": [
                {"matcher": "error", "expected": "DBClusterSnapshotNotFoundFault", "state": "success"},
                {"matcher": "path", "argument": "length(DBClusterSnapshots) == `0`", "expected": True, "state": "success"},
                *_failures("DBClusterSnapshots[].Status", ("available", "failed")),
            ],
        },
    },
}

_CUSTOM = WaiterModel(CUSTOM_WAITERS)
_BOTOCORE = botocore.session.get_session().get_waiter_model("rds")


class Target(str, Enum):
    AVAILABLE = "available"
    DELETED = "deleted"
    SNAPSHOT_AVAILABLE = "snapshot_available"
    SNAPSHOT_DELETED = "snapshot_deleted"


@dataclass(frozen=True)
class Probe:
    """One describe call and the waiter that judges it."""

    waiter: str
    model: WaiterModel
    operation: str
    arguments: dict[str, Any]
    not_found_codes: frozenset[str]
    missing_means: Outcome  # what a not-found answer means for this target


def _probes(kind: DatabaseKind, target: Target, identifier: str) -> list[Probe]:
    if target is Target.AVAILABLE:
        if kind is CLUSTER:
            return [
                Probe("DBClusterSettled", _CUSTOM, kind.describe_op, {kind.id_param: identifier}, kind.not_found_codes, Outcome.WAITING),
                Probe(
                    "DBClusterMembersSettled",
                    _CUSTOM,
                    "describe_db_instances",
                    {"Filters": [{"Name": "db-cluster-id", "Values": [identifier]}]},
                    frozenset(),
                    Outcome.WAITING,
                ),
            ]
        return [Probe("DBInstanceSettled", _CUSTOM, kind.describe_op, {kind.id_param: identifier}, kind.not_found_codes, Outcome.WAITING)]
    if target is Target.DELETED:
        waiter, model = ("DBClusterGone", _CUSTOM) if kind is CLUSTER else ("DBInstanceDeleted", _BOTOCORE)
        return [Probe(waiter, model, kind.describe_op, {kind.id_param: identifier}, kind.not_found_codes, Outcome.DONE)]
    snapshot = kind.snapshot
    if target is Target.SNAPSHOT_AVAILABLE:
        waiter, model = ("DBClusterSnapshotReady", _CUSTOM) if kind is CLUSTER else ("DBSnapshotAvailable", _BOTOCORE)
        return [Probe(waiter, model, snapshot.describe_op, {snapshot.id_param: identifier}, snapshot.not_found_codes, Outcome.FAILED)]
    waiter, model = ("DBClusterSnapshotGone", _CUSTOM) if kind is CLUSTER else ("DBSnapshotDeleted", _BOTOCORE)
    return [Probe(waiter, model, snapshot.describe_op, {snapshot.id_param: identifier}, snapshot.not_found_codes, Outcome.DONE)]


@dataclass(frozen=True)
class Verdict:
    outcome: Outcome
    detail: str


def _judge(probe: Probe, response: dict) -> Outcome | None:
    for acceptor in probe.model.get_waiter(probe.waiter).acceptors:
        if acceptor.matcher_func(response):
            return {"success": Outcome.DONE, "failure": Outcome.FAILED, "retry": Outcome.WAITING}[acceptor.state]
    return None


def _observed(response: dict) -> str:
    """Short description of what the describe call saw, for logs and alerts."""
    if "Error" in response:
        return str(response["Error"].get("Code"))
    for key in ("DBInstances", "DBClusters", "DBSnapshots", "DBClusterSnapshots"):
        if key in response:
            items = response[key]
            statuses = [str(i.get("DBInstanceStatus") or i.get("Status")) for i in items]
            return ",".join(statuses) if statuses else "none"
    return "unknown"


def evaluate(kind: DatabaseKind, target: Target, identifier: str, rds: Any = None) -> Verdict:
    client = rds or clients.client("rds")
    details = []
    for probe in _probes(kind, target, identifier):
        try:
            response = getattr(client, probe.operation)(**probe.arguments)
        except ClientError as error:
            if is_throttling(error):
                raise ThrottlingError(f"checking {identifier}: {error}") from error
            response = error.response
            outcome = _judge(probe, response)
            if outcome is None:
                if error_code(error) not in probe.not_found_codes:
                    raise
                outcome = probe.missing_means
        else:
            outcome = _judge(probe, response) or Outcome.WAITING
        details.append(_observed(response))
        if outcome is not Outcome.DONE:
            return Verdict(outcome, "/".join(details))
    return Verdict(Outcome.DONE, "/".join(details))


def check(event: dict, rds: Any = None) -> dict:
    """Status handler body: ``{"identifier", "isCluster", "target", "attempt"}`` -> poll state."""
    try:
        target = Target(event["target"])
        identifier = str(event["identifier"])
        kind = kind_for(bool(event["isCluster"]))
    except (KeyError, ValueError) as error:
        raise InvalidInputError(f"status check needs identifier, isCluster and a known target: {error}") from error
    verdict = evaluate(kind, target, identifier, rds)
    attempt = int(event.get("attempt") or 0) + 1
    result = {"identifier": identifier, "target": target.value, "state": verdict.outcome.value, "status": verdict.detail, "attempt": attempt}
    if event.get("step"):
        result["step"] = str(event["step"])  # the checking state, named in alerts when the wait fails
    if verdict.outcome is Outcome.FAILED:
        result["error"] = {
            "Error": "DatabaseFailedError",
            "Cause": f"{kind.label if 'snapshot' not in target.value else 'snapshot'} {identifier!r} ended in status "
            f"{verdict.detail!r} while waiting for {target.value}",
        }
    return result
