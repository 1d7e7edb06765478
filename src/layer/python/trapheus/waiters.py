"""Is the operation done? One describe call, judged by waiter acceptors.

The workflow polls with Wait -> Check -> Choice loops; the Check step calls :func:`check`, which makes
one describe call per waiter and evaluates the waiter's acceptors against the response — the same rules
a boto3 waiter uses, without its sleeping loop. Deletions and snapshots use the waiters that ship with
botocore; "settled" databases (usable and nothing pending) and clusters with their members use the
custom models below, since botocore's ``DB*Available`` waiters neither count ``storage-optimization`` as
usable nor look at a cluster's members.
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
from trapheus.kinds import CLUSTER, INSTANCE, DatabaseKind, kind_for
from trapheus.statuses import FAILED_CLUSTER_STATUSES, FAILED_INSTANCE_STATUSES, USABLE
from trapheus.throttling import error_code, is_throttling

# RDS is eventually consistent: a snapshot just created may not be found by the first looks at it.
SNAPSHOT_NOT_FOUND_GRACE = 3
# statuses of a rename still under way (the instance reboots after it), and the pending change that announces one
RENAMING = frozenset({"renaming", "rebooting"})
_PENDING_RENAME = ("DBInstanceIdentifier", "DBClusterIdentifier")


class Outcome(str, Enum):
    DONE = "done"
    WAITING = "waiting"
    FAILED = "failed"


def _failures(argument: str, statuses: frozenset[str]) -> list[dict]:
    return [{"matcher": "pathAny", "argument": argument, "expected": s, "state": "failure"} for s in sorted(statuses)]


def _settled(list_key: str, status_key: str) -> str:
    # usable AND nothing left pending: right after a modify the status can still read "available"
    # while the change waits in PendingModifiedValues
    usable = " || ".join(f"{status_key}=='{s}'" for s in sorted(USABLE))
    return f"{list_key}[?({usable}) && !PendingModifiedValues]"


def _waiter(operation: str, success: str, failures: list[dict]) -> dict:
    return {
        "operation": operation,
        "delay": 30,
        "maxAttempts": 60,
        "acceptors": [{"matcher": "path", "argument": success, "expected": True, "state": "success"}, *failures],
    }


def _members_settled(expected: int | None) -> dict:
    """Every member instance settled, and (when known) as many as the original had — an empty list is not settled."""
    if expected == 0:
        success = "length(DBInstances) == `0`"
    else:
        count = f"`{expected}`" if expected is not None else "length(DBInstances)"
        success = f"length({_settled('DBInstances', 'DBInstanceStatus')}) == {count} && length(DBInstances) > `0`"
    return _waiter("DescribeDBInstances", success, _failures("DBInstances[].DBInstanceStatus", FAILED_INSTANCE_STATUSES))


CUSTOM_WAITERS: dict[str, Any] = {
    "version": 2,
    "waiters": {
        "DBInstanceSettled": _waiter(
            "DescribeDBInstances",
            f"length({_settled('DBInstances', 'DBInstanceStatus')}) == length(DBInstances) && length(DBInstances) > `0`",
            _failures("DBInstances[].DBInstanceStatus", FAILED_INSTANCE_STATUSES),
        ),
        "DBClusterSettled": _waiter(
            "DescribeDBClusters",
            f"length({_settled('DBClusters', 'Status')}) == length(DBClusters) && length(DBClusters) > `0`",
            _failures("DBClusters[].Status", FAILED_CLUSTER_STATUSES),
        ),
    },
}

_CUSTOM = WaiterModel(CUSTOM_WAITERS)
_BOTOCORE = botocore.session.get_session().get_waiter_model("rds")


class Target(str, Enum):
    AVAILABLE = "available"  # usable and settled; a cluster with all its members
    READY = "ready"  # the database itself usable and settled (a cluster before its members exist)
    DELETED = "deleted"
    SNAPSHOT_AVAILABLE = "snapshot_available"
    SNAPSHOT_DELETED = "snapshot_deleted"
    RENAMES_SETTLED = "renames_settled"  # no rename in flight on any of the given names


@dataclass(frozen=True)
class Probe:
    """One describe call and the waiter that judges it."""

    waiter: str
    model: WaiterModel
    operation: str
    arguments: dict[str, Any]
    not_found_codes: frozenset[str]
    missing_means: Outcome  # what a not-found answer means for this target


def _probes(kind: DatabaseKind, target: Target, identifier: str, expected_members: int | None, attempt: int) -> list[Probe]:
    if target in (Target.AVAILABLE, Target.READY):
        waiter = "DBClusterSettled" if kind is CLUSTER else "DBInstanceSettled"
        probes = [Probe(waiter, _CUSTOM, kind.describe_op, {kind.id_param: identifier}, kind.not_found_codes, Outcome.WAITING)]
        if kind is CLUSTER and target is Target.AVAILABLE:
            members = WaiterModel({"version": 2, "waiters": {"DBClusterMembersSettled": _members_settled(expected_members)}})
            probes.append(
                Probe(
                    "DBClusterMembersSettled",
                    members,
                    "describe_db_instances",
                    {"Filters": [{"Name": "db-cluster-id", "Values": [identifier]}]},
                    frozenset(),
                    Outcome.WAITING,
                )
            )
        return probes
    if target is Target.DELETED:
        waiter = "DBClusterDeleted" if kind is CLUSTER else "DBInstanceDeleted"
        return [Probe(waiter, _BOTOCORE, kind.describe_op, {kind.id_param: identifier}, kind.not_found_codes, Outcome.DONE)]
    snapshot = kind.snapshot
    cluster = kind is CLUSTER
    if target is Target.SNAPSHOT_AVAILABLE:
        missing = Outcome.WAITING if attempt < SNAPSHOT_NOT_FOUND_GRACE else Outcome.FAILED
        waiter = "DBClusterSnapshotAvailable" if cluster else "DBSnapshotAvailable"
        return [Probe(waiter, _BOTOCORE, snapshot.describe_op, {snapshot.id_param: identifier}, snapshot.not_found_codes, missing)]
    waiter = "DBClusterSnapshotDeleted" if cluster else "DBSnapshotDeleted"
    return [Probe(waiter, _BOTOCORE, snapshot.describe_op, {snapshot.id_param: identifier}, snapshot.not_found_codes, Outcome.DONE)]


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


def _describe(client: Any, operation: str, arguments: dict[str, Any], identifier: str) -> tuple[dict, ClientError | None]:
    try:
        return getattr(client, operation)(**arguments), None
    except ClientError as error:
        if is_throttling(error):
            raise ThrottlingError(f"checking {identifier}: {error}") from error
        return error.response, error


def evaluate(
    kind: DatabaseKind, target: Target, identifier: str, rds: Any = None, *, expected_members: int | None = None, attempt: int = 0
) -> Verdict:
    client = rds or clients.client("rds")
    details = []
    for probe in _probes(kind, target, identifier, expected_members, attempt):
        response, error = _describe(client, probe.operation, probe.arguments, identifier)
        outcome = _judge(probe, response)
        if outcome is None and error is not None:
            if error_code(error) not in probe.not_found_codes:
                raise error
            outcome = probe.missing_means
        details.append(_observed(response))
        if outcome is not Outcome.DONE:
            return Verdict(outcome or Outcome.WAITING, "/".join(details))
    return Verdict(Outcome.DONE, "/".join(details))


def renames_settled(kind: DatabaseKind, identifiers: list[str], member_identifiers: list[str], rds: Any = None) -> Verdict:
    """Done once none of the names is renaming (or rebooting after a rename) and no rename is pending.

    A rollback decides what to rename back only then: a rename still under way holds both names.
    """
    client = rds or clients.client("rds")
    seen = []
    for each_kind, names in ((kind, identifiers), (INSTANCE, member_identifiers)):
        for name in names:
            response, error = _describe(client, each_kind.describe_op, {each_kind.id_param: name}, name)
            if error is not None:
                if error_code(error) not in each_kind.not_found_codes:
                    raise error
                continue
            for item in response.get(each_kind.list_key, []):
                current = str(item.get(each_kind.status_key))
                pending = item.get("PendingModifiedValues") or {}
                if current in RENAMING or any(pending.get(key) for key in _PENDING_RENAME):
                    seen.append(f"{name}:{current}")
    if seen:
        return Verdict(Outcome.WAITING, ",".join(seen))
    return Verdict(Outcome.DONE, "no rename in flight")


def check(event: dict, rds: Any = None) -> dict:
    """Status handler body: ``{"identifier", "isCluster", "target", "attempt", "expectedMembers"?}`` -> poll state."""
    try:
        target = Target(event["target"])
        identifier = str(event["identifier"])
        kind = kind_for(bool(event["isCluster"]))
    except (KeyError, ValueError) as error:
        raise InvalidInputError(f"status check needs identifier, isCluster and a known target: {error}") from error
    attempt = int(event.get("attempt") or 0)
    if target is Target.RENAMES_SETTLED:
        names = event.get("names") or {}
        identifiers = [str(names[k]) for k in ("original", "aside", "staged") if names.get(k)] or [identifier]
        members = [str(m[k]) for m in names.get("members") or [] for k in ("original", "aside", "staged") if m.get(k)]
        verdict = renames_settled(kind, identifiers, members, rds)
    else:
        expected = event.get("expectedMembers")
        verdict = evaluate(kind, target, identifier, rds, expected_members=None if expected is None else int(expected), attempt=attempt)
    result = {"identifier": identifier, "target": target.value, "state": verdict.outcome.value, "status": verdict.detail, "attempt": attempt + 1}
    if event.get("step"):
        result["step"] = str(event["step"])  # the checking state, named in alerts when the wait fails
    if verdict.outcome is Outcome.FAILED:
        what = "snapshot" if "snapshot" in target.value else kind.label
        result["error"] = {
            "Error": "DatabaseFailedError",
            "Cause": f"{what} {identifier!r} ended in status {verdict.detail!r} while waiting for {target.value}",
        }
    return result
