"""Does a snapshot fit the original's parameter and option groups? Asked of RDS, before any change.

A restore passes the original's groups; RDS refuses a group of another family than the restored engine
version's, an option group of another major version, and a cluster restore to an older engine version
than the snapshot's (InvalidParameterCombination,
https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_RestoreFromSnapshot.html). A restore from
another database's snapshot is legitimate as long as they fit.
"""

from __future__ import annotations

import re
from typing import Any

from trapheus.errors import EngineMismatchError
from trapheus.kinds import CLUSTER, DatabaseKind
from trapheus.throttling import aws_errors


def engine_version(engine: str, version: str, client: Any) -> dict:
    """DescribeDBEngineVersions for one engine version: its parameter group family and major version."""
    with aws_errors(EngineMismatchError, f"looking up engine version {engine} {version}"):
        versions = client.describe_db_engine_versions(Engine=engine, EngineVersion=version).get("DBEngineVersions", [])
    if not versions:
        raise EngineMismatchError(f"RDS does not know engine version {engine} {version}")
    return versions[0]


def _parameter_group_family(name: str, client: Any, cluster: bool) -> str | None:
    operation, key, list_key, code = (
        ("describe_db_cluster_parameter_groups", "DBClusterParameterGroupName", "DBClusterParameterGroups", "DBParameterGroupNotFound")
        if cluster
        else ("describe_db_parameter_groups", "DBParameterGroupName", "DBParameterGroups", "DBParameterGroupNotFound")
    )
    with aws_errors(EngineMismatchError, f"reading parameter group {name!r}"):
        groups = getattr(client, operation)(**{key: name}).get(list_key, [])
    return groups[0].get("DBParameterGroupFamily") if groups else None


def _version_key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", version))


def mismatches(kind: DatabaseKind, configuration: dict, snapshot: dict, client: Any) -> list[EngineMismatchError]:
    """Every group of the original that the snapshot's engine version could not take."""
    engine, version = snapshot.get("Engine"), snapshot.get("EngineVersion")
    if not engine or not version:
        return []
    target = engine_version(engine, version, client)
    family, major = target.get("DBParameterGroupFamily"), target.get("MajorEngineVersion")
    settings = configuration.get("settings", {})
    found: list[EngineMismatchError] = []
    groups: list[tuple[str, bool]] = []
    if kind is CLUSTER:
        if settings.get("DBClusterParameterGroupName"):
            groups.append((settings["DBClusterParameterGroupName"], True))
        groups += [(m["settings"]["DBParameterGroupName"], False) for m in configuration.get("members", []) if m["settings"].get("DBParameterGroupName")]
        original_version = settings.get("EngineVersion")
        if original_version and _version_key(original_version) < _version_key(version):
            found.append(EngineMismatchError(
                f"snapshot {snapshot.get('Identifier')!r} is {engine} {version}, newer than the cluster's {original_version}; "
                "a cluster cannot be restored to an older engine version"
            ))
    elif settings.get("DBParameterGroupName"):
        groups.append((settings["DBParameterGroupName"], False))
    for name, cluster in dict.fromkeys(groups):
        group_family = _parameter_group_family(name, client, cluster)
        if family and group_family and group_family != family:
            found.append(EngineMismatchError(
                f"{'cluster ' if cluster else ''}parameter group {name!r} is for {group_family}, but snapshot "
                f"{snapshot.get('Identifier')!r} is {engine} {version} ({family})"
            ))
    option_group = settings.get("OptionGroupName")
    if kind is not CLUSTER and option_group and not option_group.startswith("default:"):
        with aws_errors(EngineMismatchError, f"reading option group {option_group!r}"):
            options = client.describe_option_groups(OptionGroupName=option_group).get("OptionGroupsList", [])
        if options and major and (options[0].get("EngineName") != engine or options[0].get("MajorEngineVersion") != major):
            found.append(EngineMismatchError(
                f"option group {option_group!r} is for {options[0].get('EngineName')} {options[0].get('MajorEngineVersion')}, "
                f"but snapshot {snapshot.get('Identifier')!r} is {engine} {version}"
            ))
    return found
