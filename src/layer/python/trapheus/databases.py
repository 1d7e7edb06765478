"""One interface over RDS instances and Aurora clusters: describe, rename, delete.

Every function takes a :class:`~trapheus.kinds.DatabaseKind` and an optional RDS
client (built lazily otherwise), and is safe to call again after a partial run:
a rename that already happened, or a delete already under way, is not an error.
"""

from __future__ import annotations

from typing import Any

from trapheus import clients, endpoints
from trapheus.configuration import capture_cluster, capture_instance
from trapheus.errors import (
    DatabaseNotFoundError,
    DeleteError,
    IdentifierInUseError,
    RenameError,
)
from trapheus.kinds import CLUSTER, INSTANCE, DatabaseKind
from trapheus.log import logger
from trapheus.lookup import describe_one
from trapheus.statuses import GONE, USABLE
from trapheus.throttling import aws_errors

GONE_STATUSES = GONE
__all__ = ["GONE_STATUSES", "USABLE", "capture", "delete_database", "describe", "find", "member_ids", "rename_database", "status"]


def _rds(rds: Any = None) -> Any:
    return rds or clients.client("rds")


def find(kind: DatabaseKind, identifier: str, rds: Any = None) -> dict | None:
    """The describe result for ``identifier``, or None if it does not exist."""
    return describe_one(_rds(rds), kind.describe_op, {kind.id_param: identifier}, kind.list_key, kind.not_found_codes)


def identifier_with_resource_id(kind: DatabaseKind, resource_id: str, rds: Any = None) -> str:
    """The current identifier of the database whose resource id (kept across renames) is ``resource_id``."""
    client = _rds(rds)
    for page in client.get_paginator(kind.describe_op).paginate():
        for found in page[kind.list_key]:
            if found.get("DbiResourceId", found.get("DbClusterResourceId")) == resource_id:
                return str(found[kind.id_param])
    raise DatabaseNotFoundError(f"no {kind.label} has the resource id {resource_id!r} any more")


def describe(kind: DatabaseKind, identifier: str, rds: Any = None) -> dict:
    found = find(kind, identifier, rds)
    if found is None:
        raise DatabaseNotFoundError(f"{kind.label} {identifier!r} does not exist")
    return found


def status(kind: DatabaseKind, description: dict) -> str:
    return str(description.get(kind.status_key, "unknown"))


def member_ids(cluster: dict) -> list[str]:
    """Member instance identifiers, writer first."""
    members = cluster.get("DBClusterMembers") or []
    return [m["DBInstanceIdentifier"] for m in sorted(members, key=lambda m: not m.get("IsClusterWriter"))]


def capture(kind: DatabaseKind, identifier: str, rds: Any = None) -> dict:
    """The configuration the restored twin must have (see trapheus.configuration)."""
    client = _rds(rds)
    description = describe(kind, identifier, client)
    if kind is INSTANCE:
        return capture_instance(description)
    members = [describe(INSTANCE, m, client) for m in member_ids(description)]
    return capture_cluster(description, members, endpoints.capture(identifier, client))


def rename_one(kind: DatabaseKind, current: str, new: str, rds: Any = None) -> str:
    """Rename ``current`` to ``new``. Returns "renamed", or "already" if it was done before."""
    client = _rds(rds)
    if find(kind, current, client) is None:
        if find(kind, new, client) is not None:
            return "already"
        raise DatabaseNotFoundError(f"cannot rename {kind.label} {current!r}: neither it nor {new!r} exists")
    if find(kind, new, client) is not None:
        raise IdentifierInUseError(f"cannot rename {kind.label} {current!r} to {new!r}: that identifier is taken")
    with aws_errors(RenameError, f"renaming {kind.label} {current!r} to {new!r}"):
        getattr(client, kind.modify_op)(**{kind.id_param: current, kind.new_id_param: new, "ApplyImmediately": True})
    logger.info("rename started", extra={"kind": kind.name, "from": current, "to": new})
    return "renamed"


def rename_database(kind: DatabaseKind, pairs: list[tuple[str, str]], member_pairs: list[tuple[str, str]], rds: Any = None) -> dict:
    """Rename a database and (clusters) its members; each pair is (current, new)."""
    client = _rds(rds)
    results = {current: rename_one(kind, current, new, client) for current, new in pairs}
    for current, new in member_pairs:
        results[current] = rename_one(INSTANCE, current, new, client)
    return results


def _lift_deletion_protection(kind: DatabaseKind, identifier: str, description: dict, client: Any) -> None:
    if description.get("DeletionProtection"):
        with aws_errors(DeleteError, f"turning off deletion protection of {kind.label} {identifier!r}"):
            getattr(client, kind.modify_op)(**{kind.id_param: identifier, "DeletionProtection": False, "ApplyImmediately": True})


def delete_database(
    kind: DatabaseKind,
    identifier: str,
    *,
    final_snapshot: str | None,
    keep_automated_backups: bool,
    rds: Any = None,
) -> str:
    """Delete a database (clusters: members first). Returns "deleting", or "already" if it is gone or going.

    ``final_snapshot`` None skips the final snapshot; callers decide when that is safe.
    """
    client = _rds(rds)
    description = find(kind, identifier, client)
    if description is None or status(kind, description) in GONE_STATUSES:
        return "already"
    # first what could refuse: a protected database that cannot be modified stays whole, members included
    _lift_deletion_protection(kind, identifier, description, client)
    if kind is CLUSTER:
        for member in member_ids(description):
            member_description = find(INSTANCE, member, client)
            if member_description is None or status(INSTANCE, member_description) in GONE_STATUSES:
                continue
            _lift_deletion_protection(INSTANCE, member, member_description, client)
            # members cannot take a final snapshot of their own; the cluster's covers them
            with aws_errors(DeleteError, f"deleting member {member!r} of {identifier!r}"):
                client.delete_db_instance(DBInstanceIdentifier=member, SkipFinalSnapshot=True)
    arguments: dict[str, Any] = {kind.id_param: identifier, "DeleteAutomatedBackups": not keep_automated_backups}
    if final_snapshot:
        arguments[kind.final_snapshot_param] = final_snapshot
    else:
        arguments["SkipFinalSnapshot"] = True
    with aws_errors(DeleteError, f"deleting {kind.label} {identifier!r}"):
        getattr(client, kind.delete_op)(**arguments)
    logger.info("delete started", extra={"kind": kind.name, "database": identifier, "final_snapshot": final_snapshot})
    return "deleting"
