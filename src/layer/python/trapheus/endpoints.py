"""Aurora custom endpoints: captured with the cluster, and moved to the copy that takes its identifier.

A custom endpoint's DNS name is built from its own identifier, not the cluster's, and the identifier is
unique in the account and Region; the endpoint stays with the original through a rename and a snapshot
does not contain it (https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/Aurora.Endpoints.Custom.html).
Clients of a custom endpoint therefore follow the restored copy only if the endpoint is deleted from the
original and created again, under the same identifier, on the copy — once the copy holds the original
identifier and its members the original member names. A rollback puts them back on the original the same way.
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from trapheus.errors import RestoreError
from trapheus.log import logger
from trapheus.throttling import aws_errors, error_code

NOT_FOUND = frozenset({"DBClusterEndpointNotFoundFault"})


def capture(cluster_id: str, client: Any) -> list[dict]:
    """The cluster's custom endpoints as a restore carries them (identifier, type, members)."""
    endpoints = []
    for page in client.get_paginator("describe_db_cluster_endpoints").paginate(DBClusterIdentifier=cluster_id):
        for endpoint in page.get("DBClusterEndpoints", []):
            if endpoint.get("EndpointType") != "CUSTOM" or endpoint.get("Status") == "deleting":
                continue
            endpoints.append({
                "identifier": endpoint["DBClusterEndpointIdentifier"],
                "type": endpoint.get("CustomEndpointType", "ANY"),
                "static": sorted(endpoint.get("StaticMembers") or []),
                "excluded": sorted(endpoint.get("ExcludedMembers") or []),
            })
    return sorted(endpoints, key=lambda e: e["identifier"])


def _find(identifier: str, client: Any) -> dict | None:
    try:
        found = client.describe_db_cluster_endpoints(DBClusterEndpointIdentifier=identifier).get("DBClusterEndpoints", [])
    except ClientError as error:
        if error_code(error) in NOT_FOUND:
            return None
        raise
    return found[0] if found else None


def place(wanted: list[dict], target_id: str, source_id: str | None, client: Any, attempt: int = 0) -> dict:
    """One step of putting every ``wanted`` endpoint on ``target_id`` (a poll step: done / waiting / failed).

    An endpoint still on ``source_id`` (the cluster the identifier belonged to) is deleted there first; once
    it is gone it is created on the target. An endpoint on any other cluster is not trapheus's to move.
    """
    result = {"identifier": target_id, "target": "custom endpoints", "attempt": attempt + 1, "step": "Move the custom endpoints"}
    seen = []
    for endpoint in wanted:
        identifier = endpoint["identifier"]
        found = _find(identifier, client)
        if found is None:
            with aws_errors(RestoreError, f"creating custom endpoint {identifier!r} on {target_id!r}",
                            already_done=frozenset({"DBClusterEndpointAlreadyExistsFault"})):
                arguments: dict[str, Any] = {"DBClusterIdentifier": target_id, "DBClusterEndpointIdentifier": identifier,
                                             "EndpointType": endpoint["type"]}
                if endpoint["static"]:
                    arguments["StaticMembers"] = endpoint["static"]
                if endpoint["excluded"]:
                    arguments["ExcludedMembers"] = endpoint["excluded"]
                client.create_db_cluster_endpoint(**arguments)
            logger.info("custom endpoint created", extra={"endpoint": identifier, "cluster": target_id})
            seen.append(f"{identifier}:creating")
            continue
        status, holder = found.get("Status"), found.get("DBClusterIdentifier")
        seen.append(f"{identifier}:{holder}:{status}")
        if holder == target_id or status == "deleting":
            continue
        if holder != source_id:
            cause = f"custom endpoint {identifier!r} belongs to cluster {holder!r}, not to {source_id!r}: it is not trapheus's to move"
            return {**result, "state": "failed", "status": ",".join(seen), "error": {"Error": "RestoreError", "Cause": cause}}
        if status == "available":
            with aws_errors(RestoreError, f"deleting custom endpoint {identifier!r} from {source_id!r}"):
                client.delete_db_cluster_endpoint(DBClusterEndpointIdentifier=identifier)
            logger.info("custom endpoint taken from the original", extra={"endpoint": identifier, "cluster": source_id})
    done = all(entry.endswith(f"{target_id}:available") for entry in seen)
    return {**result, "state": "done" if done else "waiting", "status": ",".join(seen) or "no custom endpoints"}
