"""Restore a snapshot into the original's twin, then converge its configuration.

The order is RDS's: a cluster is restored first and its member instances are created only once it is
``available`` (https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_RestoreDBClusterFromSnapshot.html),
the writer first; settings a restore cannot take are applied by one modify once everything is available;
deletion protection comes last, once the copy is verified, so that a copy that failed can still be discarded.
"""

from __future__ import annotations

from typing import Any

from botocore import xform_name

from trapheus import clients
from trapheus.configuration import (
    CLUSTER_SETTINGS,
    ENDPOINTS,
    INSTANCE_SETTINGS,
    MEMBER_SETTINGS,
    PROTECTION,
    member_create_arguments,
    modify_arguments,
    protection_arguments,
    resource_id,
    restore_arguments,
    twin_differences,
)
from trapheus.databases import USABLE, capture, delete_database, find, identifier_with_resource_id, member_ids, status
from trapheus.errors import IdentifierInUseError, RestoreError
from trapheus.kinds import CLUSTER, INSTANCE, DatabaseKind
from trapheus.log import logger
from trapheus.sources import RestoreSource
from trapheus.throttling import aws_errors
from trapheus.statuses import FAILED_CLUSTER_STATUSES, FAILED_INSTANCE_STATUSES


def _rds(rds: Any = None) -> Any:
    return rds or clients.client("rds")


def restore_twin(
    kind: DatabaseKind,
    source: RestoreSource,
    target_id: str,
    configuration: dict,
    original_resource_id: str | None,
    rds: Any = None,
) -> dict:
    """Restore ``source`` (a snapshot or a point in time) as ``target_id`` with ``configuration`` (a cluster
    without its members).

    The settings passed are those the source's restore call takes (its botocore input shape); the rest are
    applied by :func:`apply_configuration`. Calling again after a partial success finishes the job instead of
    failing; only the original itself (recognised by its resource id) in the target's place is an error.
    """
    client = _rds(rds)
    existing = find(kind, target_id, client)
    if existing is not None and (original_resource_id is None or resource_id(existing) == original_resource_id):
        raise IdentifierInUseError(f"cannot restore into {target_id!r}: the original {kind.label} is still there")
    if existing is None:
        operation = source.operation(kind)
        accepted = client.meta.service_model.operation_model(operation.restore_op).input_shape.members
        arguments = {k: v for k, v in restore_arguments(kind, configuration).items() if k in accepted}
        arguments.update(source.arguments(kind, target_id, lambda rid: identifier_with_resource_id(kind, rid, client)))
        with aws_errors(RestoreError, f"restoring {source.label} as {kind.label} {target_id!r}"):
            getattr(client, xform_name(operation.restore_op))(**arguments)
        logger.info("restore started", extra={"source": source.label, "target": target_id})
    return {"target": target_id}


def add_members(
    kind: DatabaseKind, target_id: str, configuration: dict, member_targets: dict[str, str], attempt: int = 0, rds: Any = None
) -> dict:
    """Create the restored cluster's members, the writer first, and report how far they are (a poll step).

    The writer is created once the cluster is available, the readers once the writer is (the first instance
    of a cluster becomes its writer). Answers ``done`` when every member exists and is available, ``failed``
    when one ended in a failure status, ``waiting`` otherwise. An instance has no members: ``done`` at once.
    """
    client = _rds(rds)
    result = {"identifier": target_id, "target": "members", "attempt": attempt + 1, "step": "Add the members"}
    if kind is INSTANCE:
        return {**result, "state": "done", "status": "no members"}
    cluster = find(CLUSTER, target_id, client)
    cluster_status = status(CLUSTER, cluster) if cluster is not None else "not found yet"
    if cluster_status in FAILED_CLUSTER_STATUSES:
        cause = f"cluster {target_id!r} ended in status {cluster_status!r}"
        return {**result, "state": "failed", "status": cluster_status, "error": {"Error": "DatabaseFailedError", "Cause": cause}}
    if cluster_status not in USABLE:
        return {**result, "state": "waiting", "status": f"cluster {cluster_status}"}  # RDS takes members only then
    wanted = [(member, member_targets.get(member["identifier"], member["identifier"])) for member in configuration.get("members", [])]
    seen: list[str] = []
    for position, (member, member_id) in enumerate(wanted):
        found = find(INSTANCE, member_id, client)
        if found is None:
            # the member names were free when the run started: one that exists now is this run's own
            with aws_errors(RestoreError, f"creating member {member_id!r} of {target_id!r}", already_done=INSTANCE.exists_codes):
                client.create_db_instance(**member_create_arguments(member, target_id, member_id))
            logger.info("member creation started", extra={"target": target_id, "member": member_id})
            seen.append(f"{member_id}:creating")
            if position == 0:
                break  # the readers follow once the writer is available
            continue
        current = status(INSTANCE, found)
        seen.append(f"{member_id}:{current}")
        if current in FAILED_INSTANCE_STATUSES:
            cause = f"member {member_id!r} of {target_id!r} ended in status {current!r}"
            return {**result, "state": "failed", "status": ",".join(seen), "error": {"Error": "DatabaseFailedError", "Cause": cause}}
        if position == 0 and current not in USABLE:
            break
    done = len(seen) == len(wanted) and all(entry.rsplit(":", 1)[1] in USABLE for entry in seen)
    return {**result, "state": "done" if done else "waiting", "status": ",".join(seen) or "none"}


def _modify(kind: DatabaseKind, identifier: str, arguments: dict, client: Any) -> None:
    with aws_errors(RestoreError, f"applying configuration to {kind.label} {identifier!r}"):
        getattr(client, kind.modify_op)(**{kind.id_param: identifier, "ApplyImmediately": True, **arguments})


def _add_roles(kind: DatabaseKind, target_id: str, wanted: list[dict], present: list[dict], client: Any) -> bool:
    """Associate the IAM roles the original had (a restore carries none)."""
    operation, parameter = ("add_role_to_db_cluster", "DBClusterIdentifier") if kind is CLUSTER else ("add_role_to_db_instance", "DBInstanceIdentifier")
    present_arns = {r["RoleArn"] for r in present}
    added = False
    for role in wanted:
        if role["RoleArn"] in present_arns:
            continue
        with aws_errors(RestoreError, f"adding IAM role {role['RoleArn']!r} to {target_id!r}"):
            getattr(client, operation)(**{parameter: target_id, **role})
        added = True
    return added


def apply_configuration(kind: DatabaseKind, target_id: str, configuration: dict, member_targets: dict[str, str], rds: Any = None) -> dict:
    """Modify the restored database until it matches ``configuration`` (protection aside); returns what was changed."""
    client = _rds(rds)
    current = capture(kind, target_id, client)
    changed: dict[str, list[str]] = {}
    # roles and tags first: RDS adds a role only to an available database, and the modify makes it "modifying"
    if _add_roles(kind, target_id, configuration.get("roles", []), current.get("roles", []), client):
        changed.setdefault(target_id, []).append("AssociatedRoles")
    arn = find(kind, target_id, client)[kind.arn_key]
    missing_tags = [t for t in configuration.get("tags", []) if t not in current.get("tags", [])]
    if missing_tags:
        with aws_errors(RestoreError, f"tagging {target_id!r}"):
            client.add_tags_to_resource(ResourceName=arn, Tags=missing_tags)
        changed.setdefault(target_id, []).append("Tags")
    table = CLUSTER_SETTINGS if kind is CLUSTER else INSTANCE_SETTINGS
    arguments = modify_arguments(table, configuration["settings"], current["settings"])
    if arguments:
        _modify(kind, target_id, arguments, client)
        changed.setdefault(target_id, []).extend(sorted(arguments))
    if kind is CLUSTER:
        found_members = {m["identifier"]: m for m in current.get("members", [])}
        for member in configuration.get("members", []):
            member_id = member_targets.get(member["identifier"], member["identifier"])
            found = found_members.get(member_id)
            if found is None:
                raise RestoreError(f"member {member_id!r} of {target_id!r} is missing after the restore")
            member_arguments = modify_arguments(MEMBER_SETTINGS, member["settings"], found["settings"])
            if member_arguments:
                _modify(INSTANCE, member_id, member_arguments, client)
                changed[member_id] = sorted(member_arguments)
    logger.info("configuration applied", extra={"target": target_id, "changed": changed})
    return {"target": target_id, "changed": changed}


def protect(kind: DatabaseKind, target_id: str, configuration: dict, rds: Any = None) -> dict:
    """Set deletion protection as the original had it, now that the copy is verified."""
    client = _rds(rds)
    current = capture(kind, target_id, client)
    arguments = protection_arguments(configuration["settings"], current["settings"])
    if arguments:
        _modify(kind, target_id, arguments, client)
    return {"target": target_id, "changed": sorted(arguments)}


def verify_twin(
    kind: DatabaseKind, target_id: str, configuration: dict, member_targets: dict[str, str], *, protected: bool = True, rds: Any = None
) -> tuple[list[str], dict]:
    """Every difference between the restored database and the captured configuration, and what was read.

    ``protected`` False leaves deletion protection and custom endpoints out (both come once the copy has taken
    the original identifier and the rest is verified).
    """
    restored = capture(kind, target_id, _rds(rds))
    renamed_back = {v: k for k, v in member_targets.items()}
    for member in restored.get("members", []):
        member["identifier"] = renamed_back.get(member["identifier"], member["identifier"])
    ignore = frozenset() if protected else frozenset({PROTECTION, ENDPOINTS})
    return twin_differences(configuration, restored, ignore=ignore), restored


def discard_partial_restore(
    kind: DatabaseKind,
    target_id: str,
    keeper_ids: list[str],
    original_resource_id: str | None,
    *,
    rollback_snapshot: str | None = None,
    rds: Any = None,
) -> dict:
    """Delete a copy this run restored at ``target_id`` — never the original.

    The original is recognised by its resource id, which survives renames; the copy is deleted only while
    the original is safe under one of ``keeper_ids``. A copy that clients could reach (``rollback_snapshot``
    given: it held the original identifier) and that can take a snapshot is deleted with a final snapshot
    under that name, since clients may have written to it; any other partial restore only holds the data of
    a snapshot that is kept, and is deleted without one. Returns ``{"result": "deleting" | "already" | "kept",
    "finalSnapshot": name or None}``.
    """
    client = _rds(rds)
    target = find(kind, target_id, client)
    if target is None:
        return {"result": "already", "finalSnapshot": None}
    if original_resource_id is None or resource_id(target) == original_resource_id:
        logger.info("not discarding: it is the original", extra={"target": target_id})
        return {"result": "kept", "finalSnapshot": None}
    keepers = [find(kind, k, client) for k in keeper_ids if k != target_id]
    if not any(k is not None and resource_id(k) == original_resource_id for k in keepers):
        logger.warning("not discarding: the original is not where it should be", extra={"target": target_id})
        return {"result": "kept", "finalSnapshot": None}
    final = rollback_snapshot if rollback_snapshot and status(kind, target) in USABLE else None
    result = delete_database(kind, target_id, final_snapshot=final, keep_automated_backups=final is not None, rds=client)
    return {"result": result, "finalSnapshot": final if result == "deleting" else None}


__all__ = [
    "add_members",
    "apply_configuration",
    "discard_partial_restore",
    "member_ids",
    "protect",
    "restore_twin",
    "verify_twin",
]
