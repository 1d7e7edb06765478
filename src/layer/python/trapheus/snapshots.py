"""Snapshots: find, take, replace and remove, never leaving the user without one.

A refresh of ``<id>-snapshot`` goes: take ``<snapshot>-next-<run>`` -> wait until it
is available -> delete the old ``<snapshot>`` -> wait until it is gone -> copy the
new one to ``<snapshot>`` -> wait until available -> delete the ``-next`` copy.
At every moment at least one complete snapshot of the database exists.
"""

from __future__ import annotations

from typing import Any

from trapheus import clients
from trapheus.errors import SnapshotError, SnapshotNotAvailableError, SnapshotNotFoundError
from trapheus.kinds import DatabaseKind
from trapheus.log import logger
from trapheus.lookup import describe_one
from trapheus.throttling import aws_errors


def _rds(rds: Any = None) -> Any:
    return rds or clients.client("rds")


def find_snapshot(kind: DatabaseKind, snapshot_id: str, rds: Any = None) -> dict | None:
    snapshot = kind.snapshot
    return describe_one(_rds(rds), snapshot.describe_op, {snapshot.id_param: snapshot_id}, snapshot.list_key, snapshot.not_found_codes)


def require_available(kind: DatabaseKind, snapshot_id: str, rds: Any = None) -> dict:
    """The snapshot, which must exist and be ``available`` (checked before anything is renamed)."""
    found = find_snapshot(kind, snapshot_id, rds)
    if found is None:
        raise SnapshotNotFoundError(
            f"snapshot {snapshot_id!r} of the {kind.label} does not exist; run task 'create_snapshot' "
            "or pass an existing 'snapshotIdentifier'"
        )
    if found.get("Status") != "available":
        raise SnapshotNotAvailableError(f"snapshot {snapshot_id!r} is {found.get('Status')!r}, not 'available'")
    return found


def take(kind: DatabaseKind, database_id: str, snapshot_id: str, tags: list[dict] | None = None, rds: Any = None) -> str:
    """Start a manual snapshot. Returns "started", or "already" if this run started it before."""
    snapshot = kind.snapshot
    if find_snapshot(kind, snapshot_id, rds) is not None:
        return "already"
    arguments: dict[str, Any] = {snapshot.id_param: snapshot_id, snapshot.source_param: database_id}
    if tags:
        arguments["Tags"] = tags
    # the name is unique to this run: one that exists although the describe missed it is this run's own
    with aws_errors(SnapshotError, f"creating snapshot {snapshot_id!r} of {database_id!r}", already_done=snapshot.exists_codes) as call:
        getattr(_rds(rds), snapshot.create_op)(**arguments)
    if call.already:
        return "already"
    logger.info("snapshot started", extra={"snapshot": snapshot_id})
    return "started"


def remove(kind: DatabaseKind, snapshot_id: str, rds: Any = None) -> str:
    """Delete a snapshot. Returns "deleting", or "already" if it is gone."""
    snapshot = kind.snapshot
    found = find_snapshot(kind, snapshot_id, rds)
    if found is None or found.get("Status") == "deleting":
        return "already"
    with aws_errors(SnapshotError, f"deleting snapshot {snapshot_id!r}"):
        getattr(_rds(rds), snapshot.delete_op)(**{snapshot.id_param: snapshot_id})
    logger.info("snapshot delete started", extra={"snapshot": snapshot_id})
    return "deleting"


def copy(kind: DatabaseKind, source_id: str, target_id: str, rds: Any = None) -> str:
    """Copy ``source_id`` to ``target_id`` (tags included). Returns "started" or "already"."""
    snapshot = kind.snapshot
    if find_snapshot(kind, target_id, rds) is not None:
        return "already"
    with aws_errors(SnapshotError, f"copying snapshot {source_id!r} to {target_id!r}"):
        getattr(_rds(rds), snapshot.copy_op)(
            **{snapshot.copy_source_param: source_id, snapshot.copy_target_param: target_id, "CopyTags": True}
        )
    logger.info("snapshot copy started", extra={"source": source_id, "target": target_id})
    return "started"
