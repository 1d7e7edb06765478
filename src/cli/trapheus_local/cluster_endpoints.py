"""Aurora custom endpoints, which moto lacks, with the rules of RDS.

https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/Aurora.Endpoints.Custom.html: a custom endpoint
belongs to one cluster and groups some of its instances (``StaticMembers``, or all but ``ExcludedMembers``);
its identifier is unique in the account and Region and is part of its DNS name, which does not contain the
cluster's name, so it stays with the cluster through a rename and goes with it when the cluster is deleted.
A cluster has at most five. Creating, modifying and deleting take a little while (``creating``,
``modifying``, ``deleting``), and need the cluster to be ``available``.

The operations are served by :mod:`trapheus_local.rds_calls` like moto's own; their state lives here, per
account and region, timed on the emulator's clock.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from moto.rds.exceptions import RDSClientError
from moto.rds.models import rds_backends

from trapheus_local.latency import CLUSTER, LatencyModel
from trapheus_local.rds_timing import MINUTE

MAX_CUSTOM_ENDPOINTS = 5  # per cluster (Aurora quotas: CustomEndpointsPerDBCluster)
TRANSITION_SECONDS = 2 * MINUTE
ENDPOINT_TYPES = ("READER", "WRITER", "ANY")


@dataclass
class CustomEndpoint:
    identifier: str
    cluster: str
    endpoint_type: str
    static: list[str]
    excluded: list[str]
    account_id: str
    region: str
    resource_id: str = field(default_factory=lambda: "cluster-endpoint-" + uuid.uuid4().hex[:20])
    status: str = "creating"
    until: float = 0.0  # when the current in-between status ends
    gone_at: float | None = None  # deleting: when it disappears

    def describe(self, now: float) -> dict[str, Any]:
        if now >= self.until and self.status in ("creating", "modifying"):
            self.status = "available"
        return {
            "DBClusterEndpointIdentifier": self.identifier,
            "DBClusterIdentifier": self.cluster,
            "DBClusterEndpointResourceIdentifier": self.resource_id,
            "Endpoint": f"{self.identifier}.cluster-custom-{self.account_id}.{self.region}.rds.amazonaws.com",
            "Status": self.status,
            "EndpointType": "CUSTOM",
            "CustomEndpointType": self.endpoint_type,
            "StaticMembers": list(self.static),
            "ExcludedMembers": list(self.excluded),
            "DBClusterEndpointArn": f"arn:aws:rds:{self.region}:{self.account_id}:cluster-endpoint:{self.identifier}",
        }


def _refuse(code: str, message: str) -> RDSClientError:
    return RDSClientError(code, message)


class CustomEndpoints:
    """The custom endpoints of one account and region."""

    def __init__(self, now: Callable[[], float], latency: LatencyModel, *, account_id: str, region: str) -> None:
        self.now = now
        self.latency = latency  # a cluster's in-between status (creating, modifying...) lives there
        self.account_id = account_id
        self.region = region
        self._lock = threading.RLock()
        self._endpoints: dict[str, CustomEndpoint] = {}

    # -- the operations ---------------------------------------------------------------------------------

    def operations(self) -> dict[str, Callable[[Mapping[str, Any]], dict]]:
        return {
            "CreateDBClusterEndpoint": self.create,
            "DescribeDBClusterEndpoints": self.describe,
            "ModifyDBClusterEndpoint": self.modify,
            "DeleteDBClusterEndpoint": self.delete,
        }

    def create(self, params: Mapping[str, Any]) -> dict:
        identifier = str(params["DBClusterEndpointIdentifier"]).lower()
        cluster_id = str(params["DBClusterIdentifier"]).lower()
        with self._lock:
            self._expire()
            cluster = self._available_cluster(cluster_id)
            if identifier in self._endpoints:
                raise _refuse("DBClusterEndpointAlreadyExistsFault", f"DB cluster endpoint {identifier} already exists")
            if sum(1 for e in self._endpoints.values() if e.cluster == cluster_id) >= MAX_CUSTOM_ENDPOINTS:
                raise _refuse("DBClusterEndpointQuotaExceededFault", f"Cluster {cluster_id} already has {MAX_CUSTOM_ENDPOINTS} custom endpoints")
            endpoint = CustomEndpoint(
                identifier, cluster_id, *self._members(params, cluster_id, cluster), account_id=self.account_id, region=self.region,
                until=self.now() + TRANSITION_SECONDS,
            )
            self._endpoints[identifier] = endpoint
            return endpoint.describe(self.now())

    def describe(self, params: Mapping[str, Any]) -> dict:
        """Custom endpoints (and, for a cluster, its built-in writer and reader endpoints)."""
        with self._lock:
            self._expire()
            cluster_id = str(params.get("DBClusterIdentifier") or "").lower()
            identifier = str(params.get("DBClusterEndpointIdentifier") or "").lower()
            if cluster_id and cluster_id not in self._backend.clusters:
                raise _refuse("DBClusterNotFoundFault", f"DBCluster {cluster_id} not found.")
            found = [
                e.describe(self.now())
                for e in self._endpoints.values()
                if (not cluster_id or e.cluster == cluster_id) and (not identifier or e.identifier == identifier)
            ]
            if cluster_id and not identifier:
                found = self._built_in(cluster_id) + found
            return {"DBClusterEndpoints": found}

    def modify(self, params: Mapping[str, Any]) -> dict:
        with self._lock:
            endpoint = self._endpoint(str(params["DBClusterEndpointIdentifier"]).lower())
            cluster = self._available_cluster(endpoint.cluster)
            if endpoint.describe(self.now())["Status"] != "available":
                raise _refuse("InvalidDBClusterEndpointStateFault", f"Endpoint {endpoint.identifier} is {endpoint.status}")
            endpoint.endpoint_type, endpoint.static, endpoint.excluded = self._members(
                {"EndpointType": endpoint.endpoint_type, **params}, endpoint.cluster, cluster
            )
            endpoint.status, endpoint.until = "modifying", self.now() + TRANSITION_SECONDS
            return endpoint.describe(self.now())

    def delete(self, params: Mapping[str, Any]) -> dict:
        with self._lock:
            endpoint = self._endpoint(str(params["DBClusterEndpointIdentifier"]).lower())
            self._available_cluster(endpoint.cluster)
            if endpoint.describe(self.now())["Status"] not in ("available", "inactive"):
                raise _refuse("InvalidDBClusterEndpointStateFault", f"Endpoint {endpoint.identifier} is {endpoint.status}")
            endpoint.status, endpoint.gone_at = "deleting", self.now() + TRANSITION_SECONDS
            return endpoint.describe(self.now())

    # -- what happens to a cluster's endpoints ------------------------------------------------------------

    def after(self, operation: str, params: Mapping[str, Any]) -> None:
        """A renamed cluster keeps its custom endpoints; a deleted one takes them with it."""
        with self._lock:
            cluster_id = str(params.get("DBClusterIdentifier") or "")
            if operation == "ModifyDBCluster" and params.get("NewDBClusterIdentifier"):
                for endpoint in self._endpoints.values():
                    if endpoint.cluster == cluster_id:
                        endpoint.cluster = str(params["NewDBClusterIdentifier"])
            elif operation == "DeleteDBCluster":
                for endpoint in self._endpoints.values():
                    if endpoint.cluster == cluster_id and endpoint.status != "deleting":
                        endpoint.status, endpoint.gone_at = "deleting", self.now() + TRANSITION_SECONDS

    def settle(self) -> None:
        """Enough time has passed: every endpoint transition is over."""
        with self._lock:
            for endpoint in self._endpoints.values():
                endpoint.until = 0.0
                if endpoint.gone_at is not None:
                    endpoint.gone_at = 0.0
            self._expire()

    # -- internals ----------------------------------------------------------------------------------------

    @property
    def _backend(self) -> Any:
        return rds_backends[self.account_id][self.region]

    def _expire(self) -> None:
        now = self.now()
        for identifier in [i for i, e in self._endpoints.items() if e.gone_at is not None and now >= e.gone_at]:
            del self._endpoints[identifier]

    def _endpoint(self, identifier: str) -> CustomEndpoint:
        self._expire()
        if identifier not in self._endpoints:
            raise _refuse("DBClusterEndpointNotFoundFault", f"DBClusterEndpoint {identifier} not found")
        return self._endpoints[identifier]

    def _available_cluster(self, cluster_id: str) -> Any:
        cluster = self._backend.clusters.get(cluster_id)
        if cluster is None:
            raise _refuse("DBClusterNotFoundFault", f"DBCluster {cluster_id} not found.")
        shown, _ = self.latency.peek(CLUSTER, cluster_id)
        status = shown or getattr(cluster, "_status", None) or cluster.status
        if status != "available":
            raise _refuse("InvalidDBClusterStateFault", f"DB cluster {cluster_id} is not in available state.")
        return cluster

    def _members(self, params: Mapping[str, Any], cluster_id: str, cluster: Any) -> tuple[str, list[str], list[str]]:
        endpoint_type = str(params.get("EndpointType") or "ANY").upper()
        if endpoint_type not in ENDPOINT_TYPES:
            raise _refuse("InvalidParameterValue", f"Invalid endpoint type {endpoint_type}")
        static = [str(m).lower() for m in params.get("StaticMembers") or []]
        excluded = [str(m).lower() for m in params.get("ExcludedMembers") or []]
        if static and excluded:
            raise _refuse("InvalidParameterCombination", "StaticMembers and ExcludedMembers cannot both be specified")
        members = {name for name, db in self._backend.databases.items() if getattr(db, "db_cluster_identifier", None) == cluster_id}
        for member in static + excluded:
            if member not in members:
                raise _refuse("DBInstanceNotFound", f"DBInstance {member} is not a member of cluster {cluster_id}")
        return endpoint_type, static, excluded

    def _built_in(self, cluster_id: str) -> list[dict]:
        cluster = self._backend.clusters[cluster_id]
        return [
            {"DBClusterIdentifier": cluster_id, "Endpoint": cluster.endpoint, "Status": "available", "EndpointType": "WRITER"},
            {"DBClusterIdentifier": cluster_id, "Endpoint": cluster.reader_endpoint, "Status": "available", "EndpointType": "READER"},
        ]
