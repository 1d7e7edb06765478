"""The configuration a copy is made with: its source's (trapheus.configuration's capture), under the copy's names.

The copy gets everything the restore workflow would replay onto a twin (members with their class and tier, the
writer first; parameter groups, port, KMS key, subnet group, security groups, IAM roles...), then what the input
changes: ``instanceClass`` and ``readers``, and the ``modify`` stage's settings. It does not get the source's
custom endpoints, its ``trapheus:*`` tags, nor the tags that select databases for backups
(``COPY_DROPPED_TAG_KEYS``); it gets the lifecycle's own tags instead, on the copy and on every member.
"""

from __future__ import annotations

import copy as deep
import os
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from trapheus.configuration import PROTECTION
from trapheus.copies.lifecycle import copy_tags, inherited_tags, member_identifier
from trapheus.copies.request import CopyRequest, Modification
from trapheus.copies.tags import Stage
from trapheus.inputs import format_time
from trapheus.kinds import CLUSTER, kind_for
from trapheus.permissions import listed

DEFAULT_DROPPED_TAG_KEYS = "backup"


def _member_settings(members: list[dict], readers: int | None, engine: str | None, instance_class: str | None) -> list[dict]:
    """The source's members (writer first), with ``readers`` readers when given (new readers take the settings of
    the last reader, or of the writer)."""
    chosen = deep.deepcopy(members)
    if readers is not None and chosen:
        template = chosen[-1]
        chosen = chosen[: readers + 1]
        while len(chosen) < readers + 1:
            extra = deep.deepcopy(template)
            extra["writer"] = False
            extra["settings"].pop("AvailabilityZone", None)  # RDS places it; the source's reader AZ may be full
            chosen.append(extra)
    if not chosen and readers is not None and engine:
        chosen = [{"writer": position == 0, "settings": {"Engine": engine}, "tags": []} for position in range(readers + 1)]
    for member in chosen:
        if instance_class:
            member["settings"]["DBInstanceClass"] = instance_class
        if engine and "Engine" not in member["settings"]:
            member["settings"]["Engine"] = engine
    return chosen


def _given(kind_is_cluster: bool, given: Mapping[str, Any], snapshot: Mapping[str, Any] | None) -> dict[str, Any]:
    """A configuration from the input's ``configuration`` object (a DR copy whose source is elsewhere)."""
    settings: dict[str, Any] = {}
    names = {"dbSubnetGroup": "DBSubnetGroupName", "vpcSecurityGroupIds": "VpcSecurityGroupIds", "port": "Port"}
    names["clusterParameterGroup" if kind_is_cluster else "dbParameterGroup"] = (
        "DBClusterParameterGroupName" if kind_is_cluster else "DBParameterGroupName"
    )
    for key, setting in names.items():
        if key in given:
            settings[setting] = sorted(given[key]) if isinstance(given[key], list) else given[key]
    if kind_is_cluster:
        settings["Engine"] = (snapshot or {}).get("Engine")
        if given.get("kmsKeyId"):
            settings["KmsKeyId"] = given["kmsKeyId"]
        member = {"DBInstanceClass": given.get("instanceClass", "db.r6g.large"), "Engine": settings["Engine"]}
        if given.get("dbParameterGroup"):
            member["DBParameterGroupName"] = given["dbParameterGroup"]
        count = int(given.get("members", 1))
        members = [{"writer": position == 0, "settings": dict(member), "tags": []} for position in range(count)]
        return {"kind": "cluster", "settings": settings, "tags": [], "roles": [], "members": members}
    if given.get("instanceClass"):
        settings["DBInstanceClass"] = given["instanceClass"]
    return {"kind": "instance", "settings": settings, "tags": [], "roles": [], "members": []}


def apply_modification(kind_is_cluster: bool, configuration: dict[str, Any], modify: Modification) -> dict[str, Any]:
    """``configuration`` with the modify stage's settings; RDS-managed master password as a setting too."""
    changed = deep.deepcopy(configuration)
    settings = changed["settings"]
    members = changed.get("members", [])
    if modify.db_parameter_group:
        for target in members if kind_is_cluster else [changed]:
            target["settings"]["DBParameterGroupName"] = modify.db_parameter_group
    if modify.cluster_parameter_group and kind_is_cluster:
        settings["DBClusterParameterGroupName"] = modify.cluster_parameter_group
    if modify.vpc_security_group_ids is not None:
        settings["VpcSecurityGroupIds"] = list(modify.vpc_security_group_ids)
    if modify.iam_roles is not None:
        changed["roles"] = [{"RoleArn": arn} for arn in modify.iam_roles]
    if modify.instance_class:
        for target in members if kind_is_cluster else [changed]:
            target["settings"]["DBInstanceClass"] = modify.instance_class
    if modify.backup_retention_period is not None:
        settings["BackupRetentionPeriod"] = modify.backup_retention_period
    if modify.deletion_protection is not None:
        settings[PROTECTION] = modify.deletion_protection
    if modify.master_password == "managed":
        settings["ManageMasterUserPassword"] = True
    if modify.master_password == "rotate":
        # trapheus sets the password: the copy does not take over RDS's management of the source's
        settings.pop("ManageMasterUserPassword", None)
        settings.pop("MasterUserSecretKmsKeyId", None)
    return changed


def copy_configuration(
    request: CopyRequest,
    copy_id: str,
    source: dict[str, Any],
    started: datetime,
    environ: Mapping[str, str] | None = None,
    snapshot: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """What the copy ``copy_id`` is made with, from the source's captured ``source`` configuration."""
    env = os.environ if environ is None else environ
    is_cluster = kind_for(request.is_cluster) is CLUSTER
    base = _given(is_cluster, request.configuration, snapshot) if request.configuration is not None else deep.deepcopy(source)
    source_name = request.source or str((snapshot or {}).get("DBClusterIdentifier" if is_cluster else "DBInstanceIdentifier") or "")
    ours = copy_tags(request.lifecycle, source_name, Stage.NEW, format_time(started))
    dropped = listed(env.get("COPY_DROPPED_TAG_KEYS", DEFAULT_DROPPED_TAG_KEYS))
    settings = dict(base.get("settings", {}))
    # a copy is made unprotected (a failed one must be removable); protection only when modify asks for it
    settings[PROTECTION] = False
    configuration: dict[str, Any] = {
        "kind": base.get("kind", "cluster" if is_cluster else "instance"),
        "resourceId": base.get("resourceId"),
        "settings": settings,
        "tags": sorted(inherited_tags(base.get("tags", []), dropped) + ours, key=lambda t: t["Key"]),
        "roles": list(base.get("roles", [])),
        "endpoints": [],
    }
    if is_cluster:
        engine = settings.get("Engine") or (snapshot or {}).get("Engine")
        members = _member_settings(base.get("members", []), request.readers, engine, request.instance_class)
        configuration["members"] = [
            {
                "identifier": member_identifier(copy_id, position),
                "writer": position == 1,
                "settings": dict(member["settings"]),
                "tags": sorted(inherited_tags(member.get("tags", []), dropped) + ours, key=lambda t: t["Key"]),
            }
            for position, member in enumerate(members, start=1)
        ]
    elif request.instance_class:
        configuration["settings"]["DBInstanceClass"] = request.instance_class
    return apply_modification(is_cluster, configuration, request.modify)
