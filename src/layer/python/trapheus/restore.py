"""Restore a snapshot into the original's twin, then converge its configuration."""

from __future__ import annotations

from typing import Any

from trapheus import clients
from trapheus.configuration import (
    CLUSTER_SETTINGS,
    INSTANCE_SETTINGS,
    MEMBER_SETTINGS,
    member_create_arguments,
    resource_id,
    modify_arguments,
    restore_arguments,
    twin_differences,
)
from trapheus.databases import capture, delete_database, find, member_ids
from trapheus.errors import IdentifierInUseError, RestoreError
from trapheus.kinds import CLUSTER, INSTANCE, DatabaseKind
from trapheus.log import logger
from trapheus.throttling import aws_errors


def _rds(rds: Any = None) -> Any:
    return rds or clients.client("rds")


def restore_twin(
    kind: DatabaseKind,
    snapshot_id: str,
    target_id: str,
    configuration: dict,
    member_targets: dict[str, str],
    original_resource_id: str | None,
    rds: Any = None,
) -> dict:
    """Restore ``snapshot_id`` as ``target_id`` with ``configuration``.

    Clusters: the cluster, then every member (writer first) under the name that
    ``member_targets`` maps its original identifier to. Calling again after a
    partial success finishes the job instead of failing; only the original itself
    (recognised by its resource id) in the target's place is an error.
    """
    client = _rds(rds)
    existing = find(kind, target_id, client)
    if existing is not None and (original_resource_id is None or resource_id(existing) == original_resource_id):
        raise IdentifierInUseError(f"cannot restore into {target_id!r}: the original {kind.label} is still there")
    if existing is None:
        arguments = restore_arguments(kind, configuration)
        arguments.update({kind.id_param: target_id, kind.restore_snapshot_param: snapshot_id})
        with aws_errors(RestoreError, f"restoring {snapshot_id!r} as {kind.label} {target_id!r}"):
            getattr(client, kind.restore_op)(**arguments)
        logger.info("restore started", extra={"snapshot": snapshot_id, "target": target_id})
    created = []
    if kind is CLUSTER:
        for member in configuration.get("members", []):
            member_id = member_targets.get(member["identifier"], member["identifier"])
            if find(INSTANCE, member_id, client) is not None:
                continue
            with aws_errors(RestoreError, f"creating member {member_id!r} of {target_id!r}"):
                client.create_db_instance(**member_create_arguments(member, target_id, member_id))
            created.append(member_id)
    return {"target": target_id, "members": created}


def _modify(kind: DatabaseKind, identifier: str, arguments: dict, client: Any) -> None:
    with aws_errors(RestoreError, f"applying configuration to {kind.label} {identifier!r}"):
        getattr(client, kind.modify_op)(**{kind.id_param: identifier, "ApplyImmediately": True, **arguments})


def apply_configuration(kind: DatabaseKind, target_id: str, configuration: dict, member_targets: dict[str, str], rds: Any = None) -> dict:
    """Modify the restored database until it matches ``configuration``; returns what was changed."""
    client = _rds(rds)
    current = capture(kind, target_id, client)
    changed: dict[str, list[str]] = {}
    table = CLUSTER_SETTINGS if kind is CLUSTER else INSTANCE_SETTINGS
    arguments = modify_arguments(table, configuration["settings"], current["settings"])
    if arguments:
        _modify(kind, target_id, arguments, client)
        changed[target_id] = sorted(arguments)
    arn = find(kind, target_id, client)[kind.arn_key]
    missing_tags = [t for t in configuration.get("tags", []) if t not in current.get("tags", [])]
    if missing_tags:
        with aws_errors(RestoreError, f"tagging {target_id!r}"):
            client.add_tags_to_resource(ResourceName=arn, Tags=missing_tags)
        changed.setdefault(target_id, []).append("Tags")
    if kind is CLUSTER:
        present_roles = {r["RoleArn"] for r in current.get("roles", [])}
        for role in configuration.get("roles", []):
            if role["RoleArn"] in present_roles:
                continue
            with aws_errors(RestoreError, f"adding IAM role {role['RoleArn']!r} to {target_id!r}"):
                client.add_role_to_db_cluster(DBClusterIdentifier=target_id, **role)
            changed.setdefault(target_id, []).append("AssociatedRoles")
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


def verify_twin(kind: DatabaseKind, target_id: str, configuration: dict, member_targets: dict[str, str], rds: Any = None) -> list[str]:
    """Every difference between the restored database and the captured configuration."""
    restored = capture(kind, target_id, _rds(rds))
    renamed_back = {v: k for k, v in member_targets.items()}
    for member in restored.get("members", []):
        member["identifier"] = renamed_back.get(member["identifier"], member["identifier"])
    return twin_differences(configuration, restored)


def discard_partial_restore(
    kind: DatabaseKind, target_id: str, keeper_ids: list[str], original_resource_id: str | None, rds: Any = None
) -> str:
    """Delete a copy this run restored at ``target_id`` — never the original.

    The original is recognised by its resource id, which survives renames; the copy
    is deleted only while the original is safe under one of ``keeper_ids``. A partial
    restore is a copy of a snapshot that is kept, so no final snapshot is taken (a
    database that came up ``failed`` could not take one anyway).
    Returns "deleting", "already" (nothing there) or "kept" (not provably a copy).
    """
    client = _rds(rds)
    target = find(kind, target_id, client)
    if target is None:
        return "already"
    if original_resource_id is None or resource_id(target) == original_resource_id:
        logger.info("not discarding: it is the original", extra={"target": target_id})
        return "kept"
    keepers = [find(kind, k, client) for k in keeper_ids if k != target_id]
    if not any(k is not None and resource_id(k) == original_resource_id for k in keepers):
        logger.warning("not discarding: the original is not where it should be", extra={"target": target_id})
        return "kept"
    return delete_database(kind, target_id, final_snapshot=None, keep_automated_backups=False, rds=client)


__all__ = [
    "apply_configuration",
    "discard_partial_restore",
    "member_ids",
    "restore_twin",
    "verify_twin",
]
