"""Which snapshots of a policy go: keep the newest ``count`` and anything younger than ``days``.

Only snapshots carrying the policy's tag are considered (the caller passes those), only ``available`` ones are
deleted, and the newest available snapshot of a database is never deleted, whatever the policy says.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from trapheus.backups.policy import Keep
from trapheus.backups.snapshots import created_at, newest_available


def to_prune(snapshots: list[dict], keep: Keep, now: datetime) -> list[dict]:
    """The snapshots (of one database and policy, newest first) that retention removes."""
    newest = newest_available(snapshots)
    kept = {id(item) for item in snapshots[: keep.count]}
    younger_than = now - timedelta(days=keep.days)
    prune = []
    for item in snapshots:
        taken = created_at(item)
        if id(item) in kept or item is newest or item.get("Status") != "available":
            continue
        if taken is None or taken > younger_than:
            continue
        prune.append(item)
    return prune
