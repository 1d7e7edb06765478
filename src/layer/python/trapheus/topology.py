"""Topologies a restore under the original identifier cannot carry, found before any change.

A restored copy is a new, standalone database. Whatever is attached to the original by RDS rather than by
its settings stays with the original through the renames and goes with it when it is retired: read
replicas follow the renamed source (https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_RenameInstance.html),
an Aurora global database keeps its member cluster, a Blue/Green deployment and an RDS Proxy target
group point at the original's resource. Each one is refused with an error that names it.
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from trapheus.errors import UnsupportedTopologyError
from trapheus.kinds import CLUSTER, DatabaseKind
from trapheus.throttling import aws_errors


def unsupported(kind: DatabaseKind, description: dict, client: Any) -> list[UnsupportedTopologyError]:
    """Every attachment of ``description`` that a restore would leave behind or break."""
    identifier = description[kind.id_param]
    label = f"{kind.label} {identifier!r}"
    found: list[UnsupportedTopologyError] = []

    def refuse(what: str) -> None:
        found.append(UnsupportedTopologyError(f"{label} {what}; trapheus cannot restore it under its identifier without leaving that behind"))

    if kind is CLUSTER:
        if not str(description.get("Engine", "")).startswith("aurora"):
            refuse(f"is a Multi-AZ DB cluster ({description.get('Engine')}), not an Aurora cluster")
        if description.get("GlobalClusterIdentifier"):
            refuse(f"is a member of Aurora global database {str(description['GlobalClusterIdentifier']).split(':')[-1]!r}")
        if description.get("ReplicationSourceIdentifier"):
            refuse(f"is a read replica of {description['ReplicationSourceIdentifier']!r}")
        if description.get("ReadReplicaIdentifiers"):
            refuse(f"has read replica cluster(s) {', '.join(description['ReadReplicaIdentifiers'])}")
    else:
        if description.get("ReadReplicaSourceDBInstanceIdentifier") or description.get("ReadReplicaSourceDBClusterIdentifier"):
            source = description.get("ReadReplicaSourceDBInstanceIdentifier") or description.get("ReadReplicaSourceDBClusterIdentifier")
            refuse(f"is a read replica of {source!r}")
        replicas = [*(description.get("ReadReplicaDBInstanceIdentifiers") or []), *(description.get("ReadReplicaDBClusterIdentifiers") or [])]
        if replicas:
            refuse(f"has read replica(s) {', '.join(replicas)} that would keep following the retired original")
    for deployment in _blue_green_deployments(description[kind.arn_key], client):
        refuse(f"is part of Blue/Green deployment {deployment!r}")
    for proxy in _proxies_targeting(kind, identifier, client):
        refuse(f"is a target of RDS Proxy {proxy!r}")
    return found


_FINISHED_BLUE_GREEN = frozenset({"SWITCHOVER_COMPLETED", "DELETING"})


def _blue_green_deployments(arn: str, client: Any) -> list[str]:
    """Blue/Green deployments with the database as source or target (DescribeBlueGreenDeployments filters by ARN)."""
    names = []
    for role in ("source", "target"):
        with aws_errors(UnsupportedTopologyError, "listing Blue/Green deployments"):
            paginator = client.get_paginator("describe_blue_green_deployments")
            for page in paginator.paginate(Filters=[{"Name": role, "Values": [arn]}]):
                for deployment in page.get("BlueGreenDeployments", []):
                    if deployment.get("Status") not in _FINISHED_BLUE_GREEN:
                        names.append(str(deployment.get("BlueGreenDeploymentName") or deployment.get("BlueGreenDeploymentIdentifier")))
    return names


def _proxies_targeting(kind: DatabaseKind, identifier: str, client: Any) -> list[str]:
    """RDS Proxies whose targets include the database (there is no reverse lookup: every proxy is read)."""
    names = []
    with aws_errors(UnsupportedTopologyError, "listing RDS proxies"):
        proxies = [p["DBProxyName"] for page in client.get_paginator("describe_db_proxies").paginate() for p in page.get("DBProxies", [])]
    for proxy in proxies:
        try:
            targets = [t for page in client.get_paginator("describe_db_proxy_targets").paginate(DBProxyName=proxy) for t in page.get("Targets", [])]
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in ("DBProxyNotFoundFault", "DBProxyTargetGroupNotFoundFault"):
                continue  # deleted while we looked
            raise UnsupportedTopologyError(f"reading the targets of RDS Proxy {proxy!r}: {error}") from error
        field = "TrackedClusterId" if kind is CLUSTER else "RdsResourceId"
        if any(t.get(field) == identifier or t.get("RdsResourceId") == identifier for t in targets):
            names.append(proxy)
    return names
