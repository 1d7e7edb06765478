"""Removing copies: the retired ones a lifecycle no longer keeps, a drill's copy, and a copy a failed run left.

Only databases that carry the lifecycle's tags are ever deleted, never a promoted copy (DNS points at it), never
the source. Retired copies go with a final snapshot unless the input says ``"finalSnapshot": false``, and their
automated backups are kept, as the restore workflow keeps the original's. A copy that never served anyone (a
drill's, or one a failed run made before its promotion) goes without one: it holds only the data of a snapshot or
a point in time that is still there.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from trapheus import clients
from trapheus.copies import lifecycle
from trapheus.copies.lifecycle import CopyRecord
from trapheus.copies.tags import Stage
from trapheus.databases import GONE_STATUSES, delete_database, find
from trapheus.errors import DeleteError
from trapheus.kinds import kind_for
from trapheus.log import logger
from trapheus.names import fit, snapshot_id_max

FINAL_PREFIX = "final-"  # kept when the name is cut to fit: the IAM grant for final snapshots names it


def to_retire(copies: Iterable[CopyRecord], keep: int, assume_retired: Iterable[str] = ()) -> list[CopyRecord]:
    """The retired copies beyond the newest ``keep`` (``assume_retired``: copies a promotion is about to retire)."""
    retiring = set(assume_retired)
    # a copy already deleting is gone as far as keeping goes
    retired = [c for c in copies if (c.stage == Stage.RETIRED.value or c.identifier in retiring) and c.status not in GONE_STATUSES]
    retired.sort(key=lambda c: (c.created, c.identifier), reverse=True)
    return retired[keep:]


def final_snapshot_name(copy: CopyRecord) -> str:
    return fit(FINAL_PREFIX + copy.identifier, snapshot_id_max(copy.is_cluster))


def retire(lifecycle_name: str, keep: int, final_snapshot: bool, rds: Any = None) -> list[dict[str, Any]]:
    """Delete the retired copies of ``lifecycle_name`` beyond the newest ``keep``; what was done to each."""
    client = rds or clients.client("rds")
    done = []
    for copy in to_retire(lifecycle.find_copies(lifecycle_name, rds=client), keep):
        # RDS snapshots a stopped instance on delete; a stopped cluster must be started first (USER_DeleteCluster.html)
        snapshottable = copy.status == "available" or (copy.status == "stopped" and not copy.is_cluster)
        final = final_snapshot_name(copy) if final_snapshot and snapshottable else None
        if final_snapshot and final is None and copy.status not in ("deleting",):
            # a final snapshot needs an available database: leave it for the next run rather than lose it
            done.append({"identifier": copy.identifier, "result": "waiting", "status": copy.status, "finalSnapshot": None})
            continue
        result = delete_database(copy.kind, copy.identifier, final_snapshot=final, keep_automated_backups=True, rds=client)
        logger.info("copy retired", extra={"copy": copy.identifier, "final_snapshot": final, "result": result})
        done.append({"identifier": copy.identifier, "result": result, "finalSnapshot": final})
    return done


def discard(lifecycle_name: str, identifier: str | None, is_cluster: bool, rds: Any = None) -> dict[str, Any]:
    """Delete this run's copy without a final snapshot: a drill's, or one a failed run made before promotion.

    Refused for anything that is not a copy of ``lifecycle_name``, and for a promoted copy."""
    client = rds or clients.client("rds")
    kind = kind_for(is_cluster)
    if identifier is None:
        return {"result": "nothing", "identifier": None}
    description = find(kind, identifier, client)
    if description is None:
        return {"result": "already", "identifier": identifier}
    record = lifecycle.record_of(kind, description)
    if record is None or record.lifecycle != lifecycle_name:
        raise DeleteError(f"{kind.label} {identifier!r} is not a copy of lifecycle {lifecycle_name!r}: trapheus does not delete it")
    if record.stage == Stage.PROMOTED.value:
        raise DeleteError(f"copy {identifier!r} is promoted (DNS points at it): it is not discarded")
    result = delete_database(kind, identifier, final_snapshot=None, keep_automated_backups=False, rds=client)
    return {"result": result, "identifier": identifier}
