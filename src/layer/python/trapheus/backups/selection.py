"""Which databases a policy backs up, read from two paginated describe calls.

Tags come from the ``TagList`` of DescribeDBInstances and DescribeDBClusters: no ListTagsForResource per
database (the older tools made hundreds a minute and were throttled). An instance that belongs to a cluster (an
Aurora member, or a Multi-AZ DB cluster's) is never backed up on its own: its cluster's snapshot covers it.
Copies made by the copy workflow (tagged ``trapheus:lifecycle``) and the databases a restore parks under a
temporary name are left out unless ``identifiers`` names them.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from typing import Any

from trapheus.backups import tags as tagging
from trapheus.backups.policy import Selection
from trapheus.kinds import CLUSTER, INSTANCE, DatabaseKind
from trapheus.names import ASIDE_SUFFIX, STAGED_SUFFIX


@dataclass(frozen=True)
class Database:
    """A database a policy selected, as the workflow carries it."""

    identifier: str
    isCluster: bool  # noqa: N815 - the workflow's field name
    status: str
    encrypted: bool
    kmsKeyId: str | None  # noqa: N815

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Unselected:
    identifier: str
    reason: str


def _pages(rds: Any, kind: DatabaseKind) -> list[dict]:
    return [item for page in rds.get_paginator(kind.describe_op).paginate() for item in page[kind.list_key]]


def _temporary(identifier: str) -> bool:
    return identifier.endswith((ASIDE_SUFFIX, STAGED_SUFFIX)) or "-trapheus-" in identifier


def _matches(selection: Selection, identifier: str, tags: dict[str, str]) -> bool:
    if selection.pattern is None and not selection.tags:
        return False  # identifiers only
    if selection.pattern is not None and not re.search(selection.pattern, identifier):
        return False
    return all(tags.get(key) == value for key, value in selection.tags.items())


def select(selection: Selection, rds: Any) -> tuple[list[Database], list[Unselected]]:
    """The databases ``selection`` picks (sorted, clusters and instances alike), and the named ones it cannot."""
    found: dict[str, Database] = {}
    named = set(selection.identifiers)
    for kind in (INSTANCE, CLUSTER):
        for item in _pages(rds, kind):
            identifier = str(item[kind.id_param])
            if kind is INSTANCE and item.get("DBClusterIdentifier"):
                continue  # a cluster member: its cluster's snapshot covers it
            tags = tagging.as_dict(item.get("TagList"))
            if identifier in named:
                chosen = True
            else:
                chosen = (
                    _matches(selection, identifier, tags)
                    and tagging.LIFECYCLE not in tags
                    and not _temporary(identifier)
                )
            if chosen:
                found[f"{kind.name}:{identifier}"] = Database(
                    identifier=identifier,
                    isCluster=kind is CLUSTER,
                    status=str(item.get(kind.status_key)),
                    encrypted=bool(item.get("StorageEncrypted")),
                    kmsKeyId=item.get("KmsKeyId"),
                )
    seen = {database.identifier for database in found.values()}
    missing = [
        Unselected(name, "named in select.identifiers but no such instance or cluster exists (or it is a cluster member)")
        for name in selection.identifiers
        if name not in seen
    ]
    return sorted(found.values(), key=lambda d: (d.identifier, d.isCluster)), missing
