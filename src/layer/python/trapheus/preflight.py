"""Everything checked before the first change: input, database, names, snapshot, lock.

:func:`survey` only reads. :func:`prepare` refuses a run on the first blocker it
finds and returns the workflow state every later step works from; :func:`plan`
reports every blocker, and what a run would do, without refusing anything.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from trapheus import clients, retention
from trapheus.databases import capture, find, member_ids, status
from trapheus.errors import (
    DatabaseNotAvailableError,
    DatabaseNotFoundError,
    IdentifierInUseError,
    InvalidInputError,
    TrapheusError,
)
from trapheus.inputs import RestoreRequest, Strategy, Task, parse_request
from trapheus.kinds import INSTANCE, DatabaseKind, kind_for
from trapheus.locks import lock_key, lock_holder
from trapheus.names import RESTORABLE_ID_MAX, RestoreNames, check_identifier, derive_names
from trapheus.snapshots import find_snapshot, require_available


def _flag(environ: Any, name: str, default: bool) -> bool:
    value = str(environ.get(name, "")).strip().lower()
    return default if value == "" else value in ("1", "true", "yes", "on")


def parse(raw_input: Any, environ: Any = None) -> RestoreRequest:
    env = os.environ if environ is None else environ
    return parse_request(
        raw_input,
        export_default=_flag(env, "EXPORT_BY_DEFAULT", False),
        strategy_default=env.get("DEFAULT_STRATEGY") or Strategy.SWAP.value,
    )


@dataclass
class Survey:
    """What a run would start from, and everything that stands in its way."""

    request: RestoreRequest
    kind: DatabaseKind
    names: RestoreNames | None = None
    configuration: dict | None = None
    snapshot: dict | None = None
    blockers: list[TrapheusError] = field(default_factory=list)
    expired_copy: bool = False  # a kept original whose rollback window has passed waits to be retired


def _taken(kind: DatabaseKind, identifiers: list[str], client: Any) -> list[str]:
    return [i for i in identifiers if find(kind, i, client) is not None]


def survey(request: RestoreRequest, run_id: str, rds: Any = None) -> Survey:
    """Read-only look at the database, the names a run needs and the snapshot."""
    client = rds or clients.client("rds")
    kind = kind_for(request.is_cluster)
    found = Survey(request, kind)
    database = find(kind, request.identifier, client)
    if database is None:
        found.blockers.append(DatabaseNotFoundError(f"{kind.label} {request.identifier!r} does not exist"))
        return found
    if kind is INSTANCE and database.get("DBClusterIdentifier"):
        found.blockers.append(
            InvalidInputError(
                f"{request.identifier!r} is a member of Aurora cluster {database['DBClusterIdentifier']!r}; "
                "restore the cluster: set identifier to the cluster and isCluster to true"
            )
        )
        return found
    current = status(kind, database)
    if current != "available":
        found.blockers.append(DatabaseNotAvailableError(f"{kind.label} {request.identifier!r} is {current!r}; it must be 'available'"))
    members = member_ids(database) if request.is_cluster else []
    for member in members:
        try:
            check_identifier(member, field_name=f"member {member}", max_length=RESTORABLE_ID_MAX)
        except InvalidInputError as error:
            found.blockers.append(error)
    found.names = derive_names(request.identifier, request.snapshot_identifier, run_id, members)
    names = found.names
    kept = find(kind, names.aside, client)
    if kept is not None and retention.retire_after(kept) is not None:
        if retention.is_expired(kept):
            found.expired_copy = True
        else:
            found.blockers.append(
                IdentifierInUseError(
                    f"{names.aside!r} is the original replaced by an earlier run, kept as a rollback window until "
                    f"{retention.retire_after(kept).isoformat()}; run again after that (it is then retired with a "
                    "final snapshot) or delete it yourself"
                )
            )
    if request.task.restores:
        # a kept original (expired or not) was dealt with above
        is_kept = kept is not None and retention.retire_after(kept) is not None
        kept_names = {names.aside, *(m.aside for m in names.members)} if is_kept else set()
        taken = [i for i in _taken(kind, [names.aside, names.staged], client) if i not in kept_names]
        taken += [i for i in _taken(INSTANCE, [n for m in names.members for n in (m.aside, m.staged)], client) if i not in kept_names]
        if taken:
            found.blockers.append(
                IdentifierInUseError(
                    f"identifier(s) {', '.join(taken)} already exist; trapheus needs them free for this run "
                    "(a previous run may have left them: check and remove or rename them first)"
                )
            )
    found.snapshot = find_snapshot(kind, found.names.snapshot, client)
    if not request.task.takes_snapshot:
        # db_restore: the snapshot must be usable before anything is renamed
        try:
            require_available(kind, found.names.snapshot, client)
        except TrapheusError as error:
            found.blockers.append(error)
    found.configuration = capture(kind, request.identifier, client)
    return found


def _lock_settings(request: RestoreRequest, environ: Any) -> dict[str, str]:
    now = int(time.time())
    minutes = int(environ.get("LOCK_TIMEOUT_MINUTES") or 720)
    # DynamoDB numbers travel as strings in the service integration
    return {"key": lock_key(request.is_cluster, request.identifier), "now": str(now), "expiresAt": str(now + minutes * 60)}


def prepare(raw_input: Any, run_id: str, rds: Any = None, environ: Any = None) -> dict:
    env = os.environ if environ is None else environ
    request = parse(raw_input, env)
    if request.task is Task.PLAN:
        raise InvalidInputError("task 'plan' is answered by the planning step, not by a run")
    found = survey(request, run_id, rds)
    if found.blockers:
        raise found.blockers[0]
    assert found.names is not None and found.configuration is not None
    return {
        "request": request.to_dict(),
        "names": found.names.to_dict(),
        "configuration": found.configuration,
        "lock": _lock_settings(request, env),
        "expiredCopy": found.expired_copy,
    }


def _age_hours(snapshot: dict | None) -> float | None:
    created = (snapshot or {}).get("SnapshotCreateTime")
    if not isinstance(created, datetime):
        return None
    return round((datetime.now(timezone.utc) - created).total_seconds() / 3600, 2)


def plan(raw_input: Any, run_id: str, rds: Any = None, dynamodb: Any = None, environ: Any = None) -> dict:
    """What a restore run would do, and every blocker — changing nothing."""
    env = os.environ if environ is None else environ
    # a plan describes a restore from the snapshot as it is now (what db_restore would do)
    try:
        request = parse({**raw_input, "task": Task.DB_RESTORE.value} if isinstance(raw_input, dict) else raw_input, env)
    except InvalidInputError as error:
        if not (isinstance(raw_input, dict) and isinstance(raw_input.get("identifier"), str) and isinstance(raw_input.get("isCluster"), bool)):
            raise  # not a request at all: refuse it like any run
        # a well-formed request whose identifier or snapshot name cannot be used: that is the plan's answer
        return {"identifier": raw_input["identifier"], "isCluster": raw_input["isCluster"], "ready": False,
                "blockers": [{"error": type(error).__name__, "message": str(error)}]}
    found = survey(request, run_id, rds)
    blockers = [{"error": type(b).__name__, "message": str(b)} for b in found.blockers]
    holder = lock_holder(request.is_cluster, request.identifier, env.get("LOCK_TABLE_NAME"), dynamodb)
    if holder:
        blockers.append({"error": "RestoreInProgressError", "message": f"run {holder} holds the lock on {request.identifier!r}"})
    quota = _instance_quota(rds)
    members = len((found.configuration or {}).get("members", [])) or 1
    if quota is not None and quota["free"] < members:
        blockers.append({"error": "QuotaExceededError", "message": f"{quota['free']} DB instance(s) left in the account quota; the restore needs {members}"})
    names = found.names
    swap = request.strategy is Strategy.SWAP
    report: dict[str, Any] = {
        "identifier": request.identifier,
        "isCluster": request.is_cluster,
        "strategy": request.strategy.value,
        "snapshot": {
            "identifier": request.snapshot_identifier,
            "status": (found.snapshot or {}).get("Status"),
            "created": str((found.snapshot or {}).get("SnapshotCreateTime") or "") or None,
            "ageHours": _age_hours(found.snapshot),
        },
        "blockers": blockers,
        "ready": not blockers,
        "expectedDowntime": "two renames (typically 1-3 minutes)" if swap else "the whole restore (snapshot size dependent, minutes to hours)",
    }
    if names is not None:
        target = names.staged if swap else names.original
        member_target = (lambda m: m.staged) if swap else (lambda m: m.original)
        report["creates"] = [target, *[member_target(m) for m in names.members]]
        report["renames"] = [[names.original, names.aside], *[[m.original, m.aside] for m in names.members]]
        if swap:
            report["renames"] += [[names.staged, names.original], *[[m.staged, m.original] for m in names.members]]
        report["deletes"] = [{"identifier": names.aside, "finalSnapshot": names.final_snapshot if _flag(env, "FINAL_SNAPSHOT", True) else None}]
        report["configuration"] = found.configuration
    return report


def _instance_quota(rds: Any = None) -> dict | None:
    client = rds or clients.client("rds")
    try:
        quotas = client.describe_account_attributes().get("AccountQuotas", [])
    except Exception:  # noqa: BLE001 - a plan reports what it can; a missing quota is not a blocker
        return None
    for quota in quotas:
        if quota.get("AccountQuotaName") == "DBInstances":
            return {"used": quota["Used"], "max": quota["Max"], "free": quota["Max"] - quota["Used"]}
    return None


def load(state: dict) -> tuple[RestoreRequest, DatabaseKind, RestoreNames]:
    """The typed parts of the workflow state that later steps receive."""
    try:
        request = RestoreRequest.from_dict(state["request"])
        names = RestoreNames.from_dict(state["names"])
    except (KeyError, TypeError) as error:
        raise InvalidInputError(f"step input is missing {error}") from error
    return request, kind_for(request.is_cluster), names
