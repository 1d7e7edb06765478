"""Room for manual snapshots, and who holds it, so a refusal says which policy holds how many.

RDS counts manual instance snapshots and manual cluster snapshots against two quotas per account and Region
(100 each by default: https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/CHAP_Limits.html).
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from trapheus import clients
from trapheus.backups import tags as tagging
from trapheus.kinds import DatabaseKind
from trapheus.quotas import account_quotas

NOT_OURS = "not made by trapheus"


def quota_name(kind: DatabaseKind) -> str:
    return "ManualClusterSnapshots" if kind.is_cluster else "ManualSnapshots"


def holdings(kind: DatabaseKind, rds: Any) -> dict[str, int]:
    """Manual snapshots by the policy that made them."""
    snapshot = kind.snapshot
    counts: Counter[str] = Counter()
    for page in rds.get_paginator(snapshot.describe_op).paginate(SnapshotType="manual"):
        for item in page[snapshot.list_key]:
            counts[tagging.as_dict(item.get("TagList")).get(tagging.POLICY, NOT_OURS)] += 1
    return dict(counts.most_common())


def shortfall(kind: DatabaseKind, needed: int, region: str | None = None, rds: Any = None) -> str | None:
    """Why ``needed`` more manual snapshots do not fit (None: they do). Raises QuotaExceededError when the
    quotas cannot be read: a run that passes because nobody looked fails halfway."""
    client = rds or clients.client("rds", region)
    name = quota_name(kind)
    quota = account_quotas(client).get(name)
    if quota is None:
        return f"the account quota {name} could not be read"
    if quota["max"] - quota["used"] >= needed:
        return None
    held = ", ".join(f"{policy} {count}" for policy, count in holdings(kind, client).items())
    where = f" in {region}" if region else ""
    return (
        f"{name}{where}: {quota['used']} of {quota['max']} used ({held}); {needed} more would exceed it. "
        "Shorten a policy's keep, delete snapshots that are not needed, or ask AWS for a higher quota."
    )
