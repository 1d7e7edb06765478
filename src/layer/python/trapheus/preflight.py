"""Everything checked before the first change: input, database, names, snapshot, permissions, quotas, lock.

:func:`survey` only reads. :func:`prepare` refuses a run on the first blocker it finds and returns the
workflow state every later step works from; :func:`plan` reports every blocker, and what a run would do,
without refusing anything.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from typing import Any

from trapheus import backtrack, clients, engines, hooks, permissions, point_in_time, quotas, retention, topology
from trapheus.databases import capture, find, member_ids, status
from trapheus.errors import (
    DatabaseNotAvailableError,
    DatabaseNotFoundError,
    ForeignSnapshotError,
    IdentifierInUseError,
    InvalidInputError,
    TrapheusError,
)
from trapheus.inputs import RestoreRequest, Strategy, Task, format_time, parse_request
from trapheus.point_in_time import RestorableWindow
from trapheus.kinds import CLUSTER, INSTANCE, DatabaseKind, kind_for
from trapheus.locks import lock_holder, lock_settings
from trapheus.names import RestoreNames, derive_names
from trapheus.snapshots import find_snapshot, require_available

# https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_RenameInstance.html: the new DNS name of a
# renamed instance is effective in about 10 minutes, and the instance is not available until then.
RENAME_MINUTES = 10
DATA_NOTICE = (
    "Writes made to the database after {moment} are not in the restored database; "
    "they exist only in the final snapshot of the retired original ({final_snapshot})."
)
BACKTRACK_NOTICE = (
    "Backtracking discards every write made to {identifier} after {restore_time}; the run records the time it "
    "rewinds from, and a backtrack forward to that time undoes the rewind while it is inside the backtrack window."
)


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
    window: RestorableWindow | None = None  # point in time: what RDS can restore to
    restore_time: str | None = None  # point in time: the time chosen ("latest" resolved)
    backtrack_refusal: TrapheusError | None = None  # point in time, clusters: why a backtrack cannot do it

    @property
    def backtracks(self) -> bool:
        return self.request.strategy is Strategy.BACKTRACK


def _taken(kind: DatabaseKind, identifiers: list[str], client: Any) -> list[str]:
    return [i for i in identifiers if find(kind, i, client) is not None]


def _snapshot_source(kind: DatabaseKind, snapshot: dict) -> str | None:
    return snapshot.get(kind.snapshot.source_param)


def _check_names_free(found: Survey, kept: dict | None, client: Any) -> None:
    names, kind = found.names, found.kind
    assert names is not None
    # a kept original (expired or not) is dealt with by the rollback window
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


def _check_kept_original(found: Survey, client: Any) -> dict | None:
    names, kind = found.names, found.kind
    assert names is not None
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
    return kept


def _check_snapshot(found: Survey, client: Any) -> None:
    """db_restore: the snapshot must be usable; a refresh replaces only a manual snapshot of this database."""
    request, kind, names = found.request, found.kind, found.names
    assert names is not None
    found.snapshot = find_snapshot(kind, names.snapshot, client)
    if not request.task.takes_snapshot:
        try:
            require_available(kind, names.snapshot, client)
        except TrapheusError as error:
            found.blockers.append(error)
        return
    if found.snapshot is None:
        return
    source = _snapshot_source(kind, found.snapshot)
    if found.snapshot.get("SnapshotType") != "manual" or source != request.identifier:
        found.blockers.append(
            ForeignSnapshotError(
                f"snapshot {names.snapshot!r} is a{'n' if found.snapshot.get('SnapshotType') == 'automated' else ''} "
                f"{found.snapshot.get('SnapshotType')} snapshot of {source!r}, not a manual snapshot of "
                f"{request.identifier!r}; a refresh replaces (deletes) the snapshot it names, so trapheus will not "
                "touch it: choose another snapshotIdentifier"
            )
        )


def keys_and_roles(kind: DatabaseKind, configuration: dict, source: dict | None, account_id: str, source_label: str) -> tuple[dict, dict]:
    """The KMS keys the restore uses and the roles it passes to RDS, by what each is for; ``source`` is the
    snapshot (or, for a point in time, the original) the data comes from."""
    settings = configuration.get("settings", {})
    encrypted = bool((source or {}).get("Encrypted") or (source or {}).get("StorageEncrypted"))
    keys = {
        source_label: (source or {}).get("KmsKeyId") if encrypted else None,
        "cluster storage": settings.get("KmsKeyId") if kind is CLUSTER else None,
        "Performance Insights data": settings.get("PerformanceInsightsKMSKeyId"),
        "managed master user secret": settings.get("MasterUserSecretKmsKeyId"),
    }
    roles: dict[str, str | None] = {
        "enhanced monitoring": settings.get("MonitoringRoleArn"),
        "directory (Kerberos) membership": permissions.role_arn(settings["DomainIAMRoleName"], account_id) if settings.get("DomainIAMRoleName") else None,
    }
    for member in configuration.get("members", []):
        member_settings = member["settings"]
        keys[f"Performance Insights data of {member['identifier']}"] = member_settings.get("PerformanceInsightsKMSKeyId")
        roles[f"enhanced monitoring of {member['identifier']}"] = member_settings.get("MonitoringRoleArn")
    for role in configuration.get("roles", []):
        roles[f"associated role ({role.get('FeatureName') or 'no feature'})"] = role["RoleArn"]
    return keys, roles


def quota_needs(kind: DatabaseKind, request: RestoreRequest, configuration: dict, environ: Any) -> dict[str, int]:
    """How many more of each quota the run holds at its peak."""
    snapshots = "ManualClusterSnapshots" if kind is CLUSTER else "ManualSnapshots"
    needs = {snapshots: 0, "DBInstances": 0, "DBClusters": 0}
    if request.strategy is Strategy.BACKTRACK:
        return needs  # the cluster is rewound in place: nothing is created
    if request.task.takes_snapshot:
        needs[snapshots] += 1  # the new snapshot exists beside the old one until it replaces it
    if request.task.restores:
        if _flag(environ, "FINAL_SNAPSHOT", True):
            needs[snapshots] += 1  # the retired original's final snapshot
        if kind is CLUSTER:
            needs["DBClusters"] += 1
            needs["DBInstances"] += len(configuration.get("members", []))
        else:
            needs["DBInstances"] += 1
    return needs


def survey(request: RestoreRequest, run_id: str, rds: Any = None, environ: Any = None, kms: Any = None) -> Survey:
    """Read-only look at the database, the names a run needs, the snapshot, permissions and quotas."""
    env = os.environ if environ is None else environ
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
                f"{request.identifier!r} is a member of cluster {database['DBClusterIdentifier']!r}; "
                "restore the cluster: set identifier to the cluster and isCluster to true"
            )
        )
        return found
    current = status(kind, database)
    if current != "available":
        found.blockers.append(DatabaseNotAvailableError(f"{kind.label} {request.identifier!r} is {current!r}; it must be 'available'"))
    found.blockers.extend(topology.unsupported(kind, database, client))
    members = member_ids(database) if request.is_cluster else []
    found.names = derive_names(request.identifier, request.snapshot_identifier, run_id, members, is_cluster=request.is_cluster)
    names = found.names
    kept = _check_kept_original(found, client)
    if request.task.restores and not found.backtracks:
        _check_names_free(found, kept, client)
    if request.task.to_point_in_time:
        _check_point_in_time(found, database, client)
    else:
        _check_snapshot(found, client)
    found.configuration = capture(kind, request.identifier, client)
    if request.task.restores and found.snapshot is not None and not request.task.takes_snapshot:
        found.blockers.extend(engines.mismatches(kind, found.configuration, {**found.snapshot, "Identifier": names.snapshot}, client))
    found.blockers.extend(permissions.names_outside_pattern([*names.all_databases(), *names.all_snapshots()], env))
    if request.task.restores and not found.backtracks:
        account_id = str(database[kind.arn_key]).split(":")[4]
        source, label = (database, "original (the source of the point in time)") if request.task.to_point_in_time else (found.snapshot, "snapshot")
        keys, roles = keys_and_roles(kind, found.configuration, source, account_id, label)
        found.blockers.extend(permissions.keys_not_allowed(keys, kms or clients.client("kms"), env))
        found.blockers.extend(permissions.roles_not_passable(roles, env))
    refusal = hooks.not_allowed(request.verify_function, env)
    if refusal is not None:
        found.blockers.append(refusal)
    found.blockers.extend(quotas.shortfalls(quota_needs(kind, request, found.configuration, env), client))
    return found


def _check_point_in_time(found: Survey, database: dict, client: Any) -> None:
    """The restore time must be inside the restorable window (and, to backtrack, inside the backtrack window)."""
    request, kind = found.request, found.kind
    found.window = point_in_time.read_window(kind, database, client)
    found.restore_time, refusals = point_in_time.choose_time(found.window, str(request.restore_time))
    found.blockers.extend(refusals)
    if kind is CLUSTER:
        found.backtrack_refusal = backtrack.why_not(database, found.restore_time)
    else:
        found.backtrack_refusal = InvalidInputError("backtracking is for Aurora MySQL clusters; an instance is restored to a point in time")
    if found.backtracks and found.backtrack_refusal is not None:
        found.blockers.append(found.backtrack_refusal)


def prepare(raw_input: Any, run_id: str, rds: Any = None, environ: Any = None) -> dict:
    env = os.environ if environ is None else environ
    request = parse(raw_input, env)
    if request.task is Task.PLAN:
        raise InvalidInputError("task 'plan' is answered by the planning step, not by a run")
    found = survey(request, run_id, rds, env)
    if found.blockers:
        raise found.blockers[0]
    return run_state(found, env)


def run_state(found: Survey, environ: Any) -> dict:
    """The workflow state every later step works from, for a survey without blockers."""
    request = found.request
    assert found.names is not None and found.configuration is not None
    state = {
        "request": _resolved(request, found).to_dict(),
        "names": found.names.to_dict(),
        "configuration": found.configuration,
        "lock": lock_settings(request.is_cluster, request.identifier, environ),
        "expiredCopy": found.expired_copy,
        "notice": _data_notice(request, found, environ),
        "restoredTo": found.restore_time or _created(found.snapshot),
    }
    if found.window is not None:
        state["pointInTime"] = {"restoreTime": found.restore_time, "requested": request.restore_time, "window": found.window.to_dict()}
    return state


def _created(snapshot: dict | None) -> str | None:
    created = (snapshot or {}).get("SnapshotCreateTime")
    return format_time(created) if isinstance(created, datetime) else None


def _resolved(request: RestoreRequest, found: Survey) -> RestoreRequest:
    """The request every later step works from: a point in time as the exact time chosen ("latest" resolved)."""
    return replace(request, restore_time=found.restore_time) if found.restore_time else request


def _age_hours(snapshot: dict | None) -> float | None:
    created = (snapshot or {}).get("SnapshotCreateTime")
    if not isinstance(created, datetime):
        return None
    return round((datetime.now(timezone.utc) - created).total_seconds() / 3600, 2)


def _data_notice(request: RestoreRequest, found: Survey, environ: Any) -> str | None:
    """What a restore loses, said before it starts: the writes after the snapshot's time (or the point in time)."""
    if not request.task.restores or found.names is None:
        return None
    when = found.restore_time or request.restore_time
    if found.backtracks:
        return BACKTRACK_NOTICE.format(identifier=request.identifier, restore_time=when)
    if request.task.to_point_in_time:
        moment = f"the point in time restored to ({when})"
    else:
        created = (found.snapshot or {}).get("SnapshotCreateTime")
        moment = f"the snapshot was taken ({created.isoformat() if isinstance(created, datetime) else 'the moment the new snapshot is taken'})"
    final = found.names.final_snapshot if _flag(environ, "FINAL_SNAPSHOT", True) else "none: FinalSnapshotOnDelete is off"
    return DATA_NOTICE.format(moment=moment, final_snapshot=final)


def expected_downtime(strategy: Strategy) -> str:
    if strategy is Strategy.BACKTRACK:
        return "the backtrack itself: the cluster closes its connections and is rewound in minutes; no rename"
    if strategy is Strategy.SWAP:
        return (
            f"two renames, one after the other; each takes about {RENAME_MINUTES} minutes before the new name answers "
            f"in DNS, so about {2 * RENAME_MINUTES} minutes"
        )
    return f"the rename of the original (about {RENAME_MINUTES} minutes) and then the whole restore (size dependent, minutes to hours)"


def plan(raw_input: Any, run_id: str, rds: Any = None, dynamodb: Any = None, environ: Any = None) -> dict:
    """What a restore run would do, and every blocker — changing nothing."""
    env = os.environ if environ is None else environ
    # a plan describes a restore from the snapshot as it is now (what db_restore would do), or, given a
    # restoreTime, a restore to that point in time
    planned = Task.POINT_IN_TIME_RESTORE if isinstance(raw_input, dict) and "restoreTime" in raw_input else Task.DB_RESTORE
    try:
        request = parse({**raw_input, "task": planned.value} if isinstance(raw_input, dict) else raw_input, env)
    except InvalidInputError as error:
        if not (isinstance(raw_input, dict) and isinstance(raw_input.get("identifier"), str) and isinstance(raw_input.get("isCluster"), bool)):
            raise  # not a request at all: refuse it like any run
        # a well-formed request whose identifier or snapshot name cannot be used: that is the plan's answer
        return {"identifier": raw_input["identifier"], "isCluster": raw_input["isCluster"], "ready": False,
                "blockers": [{"error": type(error).__name__, "message": str(error)}]}
    found = survey(request, run_id, rds, env)
    blockers = [{"error": type(b).__name__, "message": str(b)} for b in found.blockers]
    holder = lock_holder(request.is_cluster, request.identifier, env.get("LOCK_TABLE_NAME"), dynamodb)
    if holder:
        blockers.append({"error": "RestoreInProgressError", "message": f"run {holder} holds the lock on {request.identifier!r}"})
    names = found.names
    swap = request.strategy is Strategy.SWAP
    report: dict[str, Any] = {
        "identifier": request.identifier,
        "isCluster": request.is_cluster,
        "strategy": request.strategy.value,
        "blockers": blockers,
        "ready": not blockers,
        "expectedDowntime": expected_downtime(request.strategy),
        "dataNotice": _data_notice(request, found, env),
    }
    if request.task.to_point_in_time:
        report["pointInTime"] = {
            "requested": request.restore_time,
            "restoreTime": found.restore_time,
            "window": found.window.to_dict() if found.window else None,
            "backtrack": {"possible": found.backtrack_refusal is None,
                          "why": str(found.backtrack_refusal) if found.backtrack_refusal else
                          "the time is inside the backtrack window: strategy \"backtrack\" rewinds the cluster in place, no copy and no rename"},
        }
    else:
        report["snapshot"] = {
            "identifier": request.snapshot_identifier,
            "status": (found.snapshot or {}).get("Status"),
            "created": str((found.snapshot or {}).get("SnapshotCreateTime") or "") or None,
            "ageHours": _age_hours(found.snapshot),
        }
    if request.verify_function:
        report["verify"] = {"functionArn": request.verify_function,
                            "when": "on the copy before it takes the identifier" if swap else "on the restored database before it is protected"}
    if names is not None and found.backtracks:
        report.update(creates=[], renames=[], deletes=[], configuration=found.configuration)
    elif names is not None:
        target = names.staged if swap else names.original
        member_target = (lambda m: m.staged) if swap else (lambda m: m.original)
        report["creates"] = [target, *[member_target(m) for m in names.members]]
        report["renames"] = [[names.original, names.aside], *[[m.original, m.aside] for m in names.members]]
        if swap:
            report["renames"] += [[names.staged, names.original], *[[m.staged, m.original] for m in names.members]]
        report["deletes"] = [
            {"identifier": names.aside, "members": [m.aside for m in names.members],
             "finalSnapshot": names.final_snapshot if _flag(env, "FINAL_SNAPSHOT", True) else None}
        ]
        report["configuration"] = found.configuration
        if (found.configuration or {}).get("settings", {}).get("ManageMasterUserPassword"):
            report["masterUserSecret"] = (
                "RDS manages the master password: the restored database gets a NEW secret (its ARN is in the run's "
                "output); the original's secret is deleted with the original, so clients must read the new one"
            )
    return report


def load(state: dict) -> tuple[RestoreRequest, DatabaseKind, RestoreNames]:
    """The typed parts of the workflow state that later steps receive."""
    try:
        request = RestoreRequest.from_dict(state["request"])
        names = RestoreNames.from_dict(state["names"])
    except (KeyError, TypeError) as error:
        raise InvalidInputError(f"step input is missing {error}") from error
    return request, kind_for(request.is_cluster), names
