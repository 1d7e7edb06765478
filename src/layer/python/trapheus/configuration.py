"""Capture a database's configuration and replay it onto its restored twin.

A configuration is a plain JSON dict (it travels through the state machine):

    {"kind": "instance" | "cluster",
     "settings": {<API parameter name>: value, ...},   # the database itself
     "tags": [{"Key": .., "Value": ..}, ...],
     "roles": [{"RoleArn": .., "FeatureName": ..}, ...],          # clusters
     "members": [{"identifier": .., "writer": bool,               # clusters, writer first
                  "settings": {...}, "tags": [...]}, ...]}

Settings are keyed by the parameter name that ``Restore*``/``Create*`` take, so the
same table serves capture, restore arguments, the post-restore modify and the
twin comparison. Settings a restore call cannot take are applied by one modify
call once the restored database is available. Deletion protection is the one
setting kept for last: a copy is restored unprotected (so a failed one can be
discarded) and protected once it is verified (:data:`PROTECTION`).

Tags whose keys start with ``aws:`` or ``rds:`` (CloudFormation's, for one) are
RDS's own: no API call may set them
(https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_Tag.html), so they
are neither captured nor compared.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from trapheus.kinds import CLUSTER, INSTANCE, DatabaseKind

Reader = Callable[[dict], Any]


@dataclass(frozen=True)
class Setting:
    """One configuration value: where to read it, and how to set it again."""

    name: str  # parameter name at restore/create time
    read: Reader
    at_restore: bool = True  # the restore/create call accepts it
    modify_name: str | None = None  # parameter name for Modify*; None = same as name
    modifiable: bool = True


# Set on the restored copy only once it is verified: a protected copy could not be discarded by a rollback.
PROTECTION = "DeletionProtection"
# Aurora custom endpoints move to the copy only once it holds the original identifier (trapheus.endpoints).
ENDPOINTS = "endpoints"
RESERVED_TAG_PREFIXES = ("aws:", "rds:")


def _key(name: str) -> Reader:
    return lambda d: d.get(name)


def _first(list_key: str, item_key: str) -> Reader:
    def read(d: dict) -> Any:
        items = d.get(list_key) or []
        return items[0].get(item_key) if items else None

    return read


def _sorted_ids(list_key: str, item_key: str) -> Reader:
    def read(d: dict) -> Any:
        items = d.get(list_key)
        return sorted(i[item_key] for i in items) if items else None

    return read


def _sorted_list(name: str) -> Reader:
    return lambda d: sorted(d[name]) if d.get(name) else None


def _when(condition: Callable[[dict], bool], reader: Reader) -> Reader:
    return lambda d: reader(d) if condition(d) else None


def _provisioned_performance(d: dict) -> bool:
    # gp3 below the baseline threshold reports its included IOPS/throughput but rejects them as
    # parameters (400 GiB for MySQL, MariaDB and PostgreSQL, 200 GiB for Oracle, none for SQL Server:
    # https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/CHAP_Storage.html#gp3-storage); io1/io2 always take IOPS.
    storage = d.get("StorageType")
    if storage in ("io1", "io2"):
        return True
    if storage == "gp3":
        engine = str(d.get("Engine", ""))
        if engine.startswith("sqlserver"):
            return True
        threshold = 200 if engine.startswith("oracle") else 400
        return (d.get("AllocatedStorage") or 0) >= threshold
    return False


def _domain(key: str, *, self_managed: bool) -> Reader:
    """One field of the (first) Kerberos / Active Directory domain membership.

    An AWS Managed Microsoft AD membership is given back as Domain + DomainIAMRoleName; a self-managed one
    (it has an AuthSecretArn) as DomainFqdn, DomainOu, DomainAuthSecretArn and DomainDnsIps. RDS takes one
    set or the other, never both.
    """

    def read(d: dict) -> Any:
        memberships = [m for m in d.get("DomainMemberships") or [] if m.get("Status") not in ("removing-membership", "removed")]
        if not memberships or bool(memberships[0].get("AuthSecretArn")) != self_managed:
            return None
        value = memberships[0].get(key)
        return (sorted(value) or None) if isinstance(value, list) else value

    return read


def _managed_secret(d: dict) -> Any:
    return True if d.get("MasterUserSecret") else None


def _secret_key(d: dict) -> Any:
    return (d.get("MasterUserSecret") or {}).get("KmsKeyId")


def _processor_features(d: dict) -> Any:
    features = d.get("ProcessorFeatures")
    return sorted(({"Name": f["Name"], "Value": f["Value"]} for f in features), key=lambda f: f["Name"]) if features else None


def _monitoring_on(d: dict) -> bool:
    return bool(d.get("MonitoringInterval"))


def _insights_on(d: dict) -> bool:
    return bool(d.get("PerformanceInsightsEnabled"))


def _single_az(d: dict) -> bool:
    return not d.get("MultiAZ")


INSTANCE_SETTINGS: tuple[Setting, ...] = (
    Setting("DBInstanceClass", _key("DBInstanceClass")),
    Setting("AllocatedStorage", _key("AllocatedStorage")),
    Setting("StorageType", _key("StorageType")),
    Setting("Iops", _when(_provisioned_performance, _key("Iops"))),
    Setting("StorageThroughput", _when(lambda d: d.get("StorageType") == "gp3" and _provisioned_performance(d), _key("StorageThroughput"))),
    Setting("MaxAllocatedStorage", _key("MaxAllocatedStorage"), at_restore=False),
    Setting("MultiAZ", _key("MultiAZ")),
    Setting("AvailabilityZone", _when(_single_az, _key("AvailabilityZone")), modifiable=False),
    Setting("DBParameterGroupName", _first("DBParameterGroups", "DBParameterGroupName")),
    Setting("OptionGroupName", _first("OptionGroupMemberships", "OptionGroupName")),
    Setting("DBSubnetGroupName", lambda d: (d.get("DBSubnetGroup") or {}).get("DBSubnetGroupName")),
    Setting("VpcSecurityGroupIds", _sorted_ids("VpcSecurityGroups", "VpcSecurityGroupId")),
    Setting("Port", lambda d: d.get("DbInstancePort") or (d.get("Endpoint") or {}).get("Port"), modify_name="DBPortNumber"),
    Setting("PubliclyAccessible", _key("PubliclyAccessible")),
    Setting("EnableIAMDatabaseAuthentication", _key("IAMDatabaseAuthenticationEnabled")),
    Setting("EnableCloudwatchLogsExports", _sorted_list("EnabledCloudwatchLogsExports"), modify_name="CloudwatchLogsExportConfiguration"),
    Setting("DeletionProtection", _key("DeletionProtection"), at_restore=False),
    Setting("CopyTagsToSnapshot", _key("CopyTagsToSnapshot")),
    Setting("AutoMinorVersionUpgrade", _key("AutoMinorVersionUpgrade")),
    Setting("LicenseModel", _key("LicenseModel"), modifiable=False),
    Setting("CACertificateIdentifier", _key("CACertificateIdentifier")),
    Setting("NetworkType", _key("NetworkType")),
    Setting("BackupRetentionPeriod", _key("BackupRetentionPeriod")),
    Setting("PreferredBackupWindow", _key("PreferredBackupWindow")),
    # restore defaults to paid extended support and no call can change it later: carried at restore or never
    Setting("EngineLifecycleSupport", _key("EngineLifecycleSupport"), modifiable=False),
    Setting("DedicatedLogVolume", _key("DedicatedLogVolume")),
    Setting("ProcessorFeatures", _processor_features),
    Setting("Domain", _domain("Domain", self_managed=False)),
    Setting("DomainIAMRoleName", _domain("IAMRoleName", self_managed=False)),
    Setting("DomainFqdn", _domain("FQDN", self_managed=True)),
    Setting("DomainOu", _domain("OU", self_managed=True)),
    Setting("DomainAuthSecretArn", _domain("AuthSecretArn", self_managed=True)),
    Setting("DomainDnsIps", _domain("DnsIps", self_managed=True)),
    Setting("DatabaseInsightsMode", _key("DatabaseInsightsMode"), at_restore=False),
    # RDS can manage the master password only through a modify (a restore copies the password, not the secret)
    Setting("ManageMasterUserPassword", _managed_secret, at_restore=False),
    Setting("MasterUserSecretKmsKeyId", _when(_managed_secret, _secret_key), at_restore=False),
    Setting("PreferredMaintenanceWindow", _key("PreferredMaintenanceWindow"), at_restore=False),
    Setting("MonitoringInterval", _key("MonitoringInterval"), at_restore=False),
    Setting("MonitoringRoleArn", _when(_monitoring_on, _key("MonitoringRoleArn")), at_restore=False),
    Setting("EnablePerformanceInsights", _key("PerformanceInsightsEnabled"), at_restore=False),
    Setting("PerformanceInsightsKMSKeyId", _when(_insights_on, _key("PerformanceInsightsKMSKeyId")), at_restore=False),
    Setting("PerformanceInsightsRetentionPeriod", _when(_insights_on, _key("PerformanceInsightsRetentionPeriod")), at_restore=False),
)

# Settings of an Aurora member instance, passed to CreateDBInstance.
MEMBER_SETTINGS: tuple[Setting, ...] = (
    Setting("DBInstanceClass", _key("DBInstanceClass")),
    Setting("Engine", _key("Engine"), modifiable=False),
    Setting("DBParameterGroupName", _first("DBParameterGroups", "DBParameterGroupName")),
    Setting("PromotionTier", _key("PromotionTier")),
    Setting("AvailabilityZone", _key("AvailabilityZone"), modifiable=False),
    Setting("PubliclyAccessible", _key("PubliclyAccessible")),
    Setting("AutoMinorVersionUpgrade", _key("AutoMinorVersionUpgrade")),
    Setting("CACertificateIdentifier", _key("CACertificateIdentifier")),
    Setting("CopyTagsToSnapshot", _key("CopyTagsToSnapshot")),
    Setting("PreferredMaintenanceWindow", _key("PreferredMaintenanceWindow")),
    Setting("MonitoringInterval", _key("MonitoringInterval")),
    Setting("MonitoringRoleArn", _when(_monitoring_on, _key("MonitoringRoleArn"))),
    Setting("EnablePerformanceInsights", _key("PerformanceInsightsEnabled")),
    Setting("PerformanceInsightsKMSKeyId", _when(_insights_on, _key("PerformanceInsightsKMSKeyId"))),
    Setting("PerformanceInsightsRetentionPeriod", _when(_insights_on, _key("PerformanceInsightsRetentionPeriod"))),
)


def _cluster_has(name: str) -> Callable[[dict], bool]:
    return lambda d: bool(d.get(name))


CLUSTER_SETTINGS: tuple[Setting, ...] = (
    Setting("Engine", _key("Engine"), modifiable=False),
    Setting("EngineVersion", _key("EngineVersion"), modifiable=False),
    Setting("EngineMode", _when(lambda d: d.get("EngineMode") not in (None, "provisioned"), _key("EngineMode")), modifiable=False),
    Setting("Port", _key("Port")),
    Setting("DBSubnetGroupName", _key("DBSubnetGroup"), modifiable=False),
    Setting("DBClusterParameterGroupName", _key("DBClusterParameterGroup")),
    Setting("VpcSecurityGroupIds", _sorted_ids("VpcSecurityGroups", "VpcSecurityGroupId")),
    # A cluster created without a database name has none; only pass it when present.
    Setting("DatabaseName", _when(_cluster_has("DatabaseName"), _key("DatabaseName")), modifiable=False),
    Setting("EnableIAMDatabaseAuthentication", _key("IAMDatabaseAuthenticationEnabled")),
    Setting("EnableCloudwatchLogsExports", _sorted_list("EnabledCloudwatchLogsExports"), modify_name="CloudwatchLogsExportConfiguration"),
    Setting("DeletionProtection", _key("DeletionProtection"), at_restore=False),
    Setting("CopyTagsToSnapshot", _key("CopyTagsToSnapshot")),
    Setting("KmsKeyId", _when(_cluster_has("StorageEncrypted"), _key("KmsKeyId")), modifiable=False),  # unencrypted: none
    Setting("EngineLifecycleSupport", _key("EngineLifecycleSupport"), modifiable=False),
    Setting("Domain", _domain("Domain", self_managed=False)),
    Setting("DomainIAMRoleName", _domain("IAMRoleName", self_managed=False)),
    Setting("DatabaseInsightsMode", _key("DatabaseInsightsMode"), at_restore=False),
    Setting("ManageMasterUserPassword", _managed_secret, at_restore=False),
    Setting("MasterUserSecretKmsKeyId", _when(_managed_secret, _secret_key), at_restore=False),
    Setting("StorageType", _when(lambda d: d.get("StorageType") not in (None, "aurora"), _key("StorageType"))),
    Setting("BacktrackWindow", _when(_cluster_has("BacktrackWindow"), _key("BacktrackWindow"))),
    # SecondsUntilAutoPause is reported (and kept) only while MinCapacity is 0 (auto-pause on)
    Setting("ServerlessV2ScalingConfiguration", _when(_cluster_has("ServerlessV2ScalingConfiguration"), lambda d: {
        k: d["ServerlessV2ScalingConfiguration"][k]
        for k in ("MinCapacity", "MaxCapacity", "SecondsUntilAutoPause")
        if k in d["ServerlessV2ScalingConfiguration"]
    })),
    Setting("BackupRetentionPeriod", _key("BackupRetentionPeriod")),
    Setting("PreferredBackupWindow", _key("PreferredBackupWindow")),
    Setting("PreferredMaintenanceWindow", _key("PreferredMaintenanceWindow"), at_restore=False),
)


def settings_for(kind: DatabaseKind) -> tuple[Setting, ...]:
    return CLUSTER_SETTINGS if kind is CLUSTER else INSTANCE_SETTINGS


def read_settings(table: tuple[Setting, ...], description: dict) -> dict[str, Any]:
    """The values of ``table`` in a describe result; absent/empty values are left out."""
    values = {}
    for setting in table:
        value = setting.read(description)
        if value is not None:
            values[setting.name] = value
    return values


def _tags(description: dict) -> list[dict[str, str]]:
    return sorted(
        ({"Key": t["Key"], "Value": t["Value"]} for t in description.get("TagList") or []
         if not str(t["Key"]).lower().startswith(RESERVED_TAG_PREFIXES)),
        key=lambda t: t["Key"],
    )


def _roles(description: dict) -> list[dict[str, str]]:
    """IAM roles associated with the database (AddRoleTo*), which a restore does not carry."""
    return sorted(
        ({"RoleArn": r["RoleArn"], **({"FeatureName": r["FeatureName"]} if r.get("FeatureName") else {})}
         for r in description.get("AssociatedRoles") or [] if r.get("Status") != "INVALID"),
        key=lambda r: r["RoleArn"],
    )


def resource_id(description: dict) -> str | None:
    """The id RDS keeps across renames: how trapheus tells the original from a restored copy."""
    return description.get("DbiResourceId") or description.get("DbClusterResourceId")


def capture_instance(description: dict) -> dict:
    return {
        "kind": INSTANCE.name,
        "resourceId": resource_id(description),
        "settings": read_settings(INSTANCE_SETTINGS, description),
        "tags": _tags(description),
        "roles": _roles(description),
    }


def capture_cluster(description: dict, member_descriptions: list[dict], endpoints: list[dict] | None = None) -> dict:
    """``member_descriptions`` are the member instances' describe results (any order); ``endpoints`` its custom
    endpoints (trapheus.endpoints.capture)."""
    writers = {m["DBInstanceIdentifier"] for m in description.get("DBClusterMembers", []) if m.get("IsClusterWriter")}
    members = [
        {
            "identifier": m["DBInstanceIdentifier"],
            "writer": m["DBInstanceIdentifier"] in writers,
            "settings": read_settings(MEMBER_SETTINGS, m),
            "tags": _tags(m),
        }
        for m in member_descriptions
    ]
    # writer first: the first instance created in a restored cluster becomes its writer
    members.sort(key=lambda m: (not m["writer"], m["settings"].get("PromotionTier", 99), m["identifier"]))
    return {
        "kind": CLUSTER.name,
        "resourceId": resource_id(description),
        "settings": read_settings(CLUSTER_SETTINGS, description),
        "tags": _tags(description),
        "roles": _roles(description),
        "members": members,
        "endpoints": endpoints or [],
    }


def restore_arguments(kind: DatabaseKind, configuration: dict) -> dict[str, Any]:
    """Keyword arguments for the restore call (identifier and snapshot added by the caller)."""
    table = {s.name: s for s in settings_for(kind)}
    arguments = {k: v for k, v in configuration["settings"].items() if k in table and table[k].at_restore}
    if configuration.get("tags"):
        arguments["Tags"] = configuration["tags"]
    return arguments


def member_create_arguments(member: dict, cluster_identifier: str, member_identifier: str) -> dict[str, Any]:
    arguments = dict(member["settings"])
    arguments.update(DBInstanceIdentifier=member_identifier, DBClusterIdentifier=cluster_identifier)
    if member.get("tags"):
        arguments["Tags"] = member["tags"]
    return arguments


def differences(wanted: dict[str, Any], actual: dict[str, Any]) -> dict[str, tuple[Any, Any]]:
    """Settings whose value in ``actual`` differs from ``wanted`` (name -> (wanted, actual))."""
    return {k: (v, actual.get(k)) for k, v in wanted.items() if actual.get(k) != v}


def modify_arguments(
    table: tuple[Setting, ...], wanted: dict[str, Any], actual: dict[str, Any], *, leave: frozenset[str] = frozenset({PROTECTION})
) -> dict[str, Any]:
    """Modify* arguments that turn ``actual`` into ``wanted`` (only what differs and can be modified).

    Settings in ``leave`` are not touched (deletion protection is set last, by :func:`protection_arguments`).
    """
    by_name = {s.name: s for s in table}
    arguments: dict[str, Any] = {}
    for name, (value, current) in differences(wanted, actual).items():
        setting = by_name.get(name)
        if setting is None or not setting.modifiable or name in leave:
            continue
        if name == "EnableCloudwatchLogsExports":
            current_set = set(current or [])
            arguments["CloudwatchLogsExportConfiguration"] = {
                "EnableLogTypes": sorted(set(value) - current_set),
                "DisableLogTypes": sorted(current_set - set(value)),
            }
            continue
        arguments[setting.modify_name or name] = value
    if arguments.get("MonitoringInterval") and "MonitoringRoleArn" not in arguments and wanted.get("MonitoringRoleArn"):
        arguments["MonitoringRoleArn"] = wanted["MonitoringRoleArn"]
    if "MasterUserSecretKmsKeyId" in arguments and "ManageMasterUserPassword" not in arguments:
        del arguments["MasterUserSecretKmsKeyId"]  # only given while turning management on
    if arguments.get("ManageMasterUserPassword") is None:
        arguments.pop("ManageMasterUserPassword", None)  # turning it off needs a password trapheus never holds
    return arguments


def protection_arguments(wanted: dict[str, Any], actual: dict[str, Any]) -> dict[str, Any]:
    """The modify that sets deletion protection as the original had it (empty if it already is)."""
    value = bool(wanted.get(PROTECTION))
    return {} if bool(actual.get(PROTECTION)) == value else {PROTECTION: value}


def twin_differences(original: dict, restored: dict, *, ignore: frozenset[str] = frozenset()) -> list[str]:
    """Human-readable list of every way ``restored`` is not the twin of ``original`` (empty = twin).

    Settings in ``ignore`` are left out (deletion protection, before it is set).
    """
    wanted_settings = {k: v for k, v in original["settings"].items() if k not in ignore}
    problems = [f"{name}: wanted {w!r}, found {a!r}" for name, (w, a) in differences(wanted_settings, restored["settings"]).items()]
    if ENDPOINTS not in ignore and original.get("endpoints", []) != restored.get("endpoints", []):
        problems.append(f"custom endpoints: wanted {original.get('endpoints')!r}, found {restored.get('endpoints')!r}")
    if original.get("tags", []) != restored.get("tags", []):
        problems.append(f"tags: wanted {original.get('tags')!r}, found {restored.get('tags')!r}")
    if original.get("roles", []) != restored.get("roles", []):
        problems.append(f"IAM roles: wanted {original.get('roles')!r}, found {restored.get('roles')!r}")
    wanted_members = {m["identifier"]: m for m in original.get("members", [])}
    found_members = {m["identifier"]: m for m in restored.get("members", [])}
    if set(wanted_members) != set(found_members):
        problems.append(f"members: wanted {sorted(wanted_members)}, found {sorted(found_members)}")
    for identifier in sorted(set(wanted_members) & set(found_members)):
        wanted, found = wanted_members[identifier], found_members[identifier]
        if wanted["writer"] != found["writer"]:
            problems.append(f"member {identifier} writer: wanted {wanted['writer']}, found {found['writer']}")
        for name, (w, a) in differences(wanted["settings"], found["settings"]).items():
            problems.append(f"member {identifier} {name}: wanted {w!r}, found {a!r}")
        if wanted.get("tags", []) != found.get("tags", []):
            problems.append(f"member {identifier} tags: wanted {wanted.get('tags')!r}, found {found.get('tags')!r}")
    return problems
