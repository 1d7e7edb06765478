"""What RDS keeps of a database's past: automated backups, the restorable window and Aurora backtracking.

moto answers DescribeDBInstanceAutomatedBackups without a ``RestoreWindow``, has no
DescribeDBClusterAutomatedBackups, BacktrackDBCluster or DescribeDBClusterBacktracks, reports the current second
as the latest restorable time and takes any restore time. Here, per account and region, on the wall clock:

- a database with automated backups (``BackupRetentionPeriod`` > 0) can be restored to any second from when its
  backups begin (at most its retention period ago) to its latest restorable time, about five minutes ago
  (https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_PIT.html: RDS uploads transaction logs every
  five minutes; Aurora uploads log records continuously, so five minutes is the cautious end for a cluster,
  https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/aurora-pitr.html); an instance without them has no window and no latest restorable time;
- a database that existed before the run under test (made inside ``Emulator.settled()``) has had backups for its
  whole retention period, and an Aurora MySQL cluster with backtracking its whole backtrack window; one made during
  the run starts both at its creation;
- a backtrack rewinds a cluster in place and is recorded with the time it rewound from
  (https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_BacktrackDBCluster.html,
  API_DBClusterBacktrack.html).

Databases are followed by resource id, which survives renames. The refusals (a time outside the window, a
backtrack outside its window) are rules of :mod:`trapheus_local.strict_rds`; the time a backtrack takes is in
:mod:`trapheus_local.rds_timing`.
"""

from __future__ import annotations

import contextlib
import threading
import uuid
from collections.abc import Callable, Iterator, Mapping
from datetime import datetime, timedelta, timezone
from typing import Any
from unittest import mock

from moto.rds.exceptions import RDSClientError
from moto.rds.models import DBCluster, DBInstance, DBInstanceClustered, rds_backends

from trapheus_local.latency import CLUSTER, INSTANCE

LATEST_RESTORABLE_LAG = timedelta(minutes=5)
BACKTRACK_ENGINES = ("aurora-mysql", "aurora")


def wall_now() -> datetime:
    return datetime.now(timezone.utc)


def _refuse(code: str, message: str) -> RDSClientError:
    return RDSClientError(code, message)


def parse_time(value: Any) -> datetime | None:
    """An ISO-8601 request parameter as an aware datetime (UTC when it names no zone)."""
    if isinstance(value, datetime):
        parsed = value
    elif value:
        try:
            parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        except ValueError:
            return None
    else:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def _iso(moment: datetime | None) -> str | None:
    return moment.astimezone(timezone.utc).isoformat() if moment else None


class DatabaseHistory:
    """When each database's automated backups and backtrack window begin, and the backtracks made."""

    def __init__(
        self,
        *,
        account_id: str,
        region: str,
        status: Callable[[str, str], str | None] = lambda kind, identifier: None,
        now: Callable[[], datetime] = wall_now,
    ) -> None:
        self.account_id = account_id
        self.region = region
        self.status = status  # what a describe shows now (the strict model's view, in-between statuses included)
        self.now = now
        self._lock = threading.RLock()
        self._backups_since: dict[str, datetime] = {}  # resource id -> first restorable second
        self._backtrack_since: dict[str, datetime] = {}  # cluster resource id -> first second it can rewind to
        self._backtracks: dict[str, list[dict[str, Any]]] = {}  # cluster resource id -> backtracks, oldest first

    # -- what the model learns ----------------------------------------------------------------------------

    def created(self, kind: str, identifier: str, *, existed_before: bool) -> None:
        """A database was created or restored: its history begins now, or (``existed_before``) long ago."""
        resource = self._database(kind, identifier)
        if resource is None:
            return
        now = self.now()
        with self._lock:
            key = _resource_id(resource)
            days = int(getattr(resource, "backup_retention_period", 0) or 0)
            self._backups_since[key] = now - timedelta(days=days) if existed_before else now
            window = int(getattr(resource, "backtrack_window", 0) or 0) if kind == CLUSTER else 0
            if window:
                self._backtrack_since[key] = now - timedelta(seconds=window) if existed_before else now

    # -- what describe calls report ------------------------------------------------------------------------

    def restorable_window(self, resource: Any) -> tuple[datetime, datetime] | None:
        """(earliest, latest) restorable second of an instance or cluster; None without automated backups."""
        days = int(getattr(resource, "backup_retention_period", 0) or 0)
        if days <= 0:
            return None
        now = self.now()
        with self._lock:
            since = self._backups_since.get(_resource_id(resource)) or _created_at(resource) or now
        return max(since, now - timedelta(days=days)), now - LATEST_RESTORABLE_LAG

    def earliest_backtrack_time(self, cluster: Any) -> datetime | None:
        window = int(getattr(cluster, "backtrack_window", 0) or 0)
        if window <= 0:
            return None
        now = self.now()
        with self._lock:
            since = self._backtrack_since.get(_resource_id(cluster)) or _created_at(cluster) or now
        return max(since, now - timedelta(seconds=window))

    @contextlib.contextmanager
    def described(self) -> Iterator[None]:
        """Describe calls report the modelled restorable times and earliest backtrack time."""
        history = self

        def latest(resource: Any) -> datetime | None:
            if isinstance(resource, DBInstanceClustered):
                return None  # an Aurora member reports none; its cluster does
            window = history.restorable_window(resource)
            return window[1] if window else None

        def earliest(resource: Any) -> datetime | None:
            window = history.restorable_window(resource)
            return window[0] if window else None

        def ignore(resource: Any, value: Any) -> None:
            pass  # moto's constructor sets the creation time; the model answers instead

        with (
            mock.patch.object(DBInstance, "latest_restorable_time", property(latest)),
            mock.patch.object(DBCluster, "latest_restorable_time", property(latest)),
            mock.patch.object(DBCluster, "earliest_restorable_time", property(earliest, ignore), create=True),
            mock.patch.object(DBCluster, "earliest_backtrack_time", property(history.earliest_backtrack_time), create=True),
        ):
            yield

    # -- the operations moto lacks (or answers without a window) ----------------------------------------------

    def operations(self) -> dict[str, Callable[[Mapping[str, Any]], dict]]:
        return {
            "DescribeDBInstanceAutomatedBackups": self.describe_instance_backups,
            "DescribeDBClusterAutomatedBackups": self.describe_cluster_backups,
            "BacktrackDBCluster": self.backtrack,
            "DescribeDBClusterBacktracks": self.describe_backtracks,
        }

    def describe_instance_backups(self, params: Mapping[str, Any]) -> dict:
        """DescribeDBInstanceAutomatedBackups: current instances with backups (retention > 0), with their window.

        https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_DescribeDBInstanceAutomatedBackups.html and
        API_RestoreWindow.html.
        """
        found = []
        for instance in list(self._backend.databases.values()):
            if isinstance(instance, DBInstanceClustered) or not _selected(instance, params, "DBInstanceIdentifier", "DbiResourceId"):
                continue
            window = self.restorable_window(instance)
            if window is None:
                continue
            found.append({
                "DBInstanceArn": instance.arn,
                "DbiResourceId": instance.dbi_resource_id,
                "DBInstanceIdentifier": instance.db_instance_identifier,
                "Region": self.region,
                "Status": "active",
                "Engine": instance.engine,
                "EngineVersion": instance.engine_version,
                "AllocatedStorage": instance.allocated_storage,
                "BackupRetentionPeriod": instance.backup_retention_period,
                "RestoreWindow": {"EarliestTime": _iso(window[0]), "LatestTime": _iso(window[1])},
            })
        _not_found_if_named(found, params, "DBInstanceIdentifier", "DbiResourceId", "DBInstanceAutomatedBackupNotFound")
        return {"DBInstanceAutomatedBackups": found}

    def describe_cluster_backups(self, params: Mapping[str, Any]) -> dict:
        """DescribeDBClusterAutomatedBackups (moto has none): current clusters with their window.

        https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_DescribeDBClusterAutomatedBackups.html
        ("current clusters are returned for both DescribeDBClusterAutomatedBackups and DescribeDBClusters").
        """
        found = []
        for cluster in list(self._backend.clusters.values()):
            if not _selected(cluster, params, "DBClusterIdentifier", "DbClusterResourceId"):
                continue
            window = self.restorable_window(cluster)
            if window is None:
                continue
            found.append({
                "DBClusterArn": cluster.arn,
                "DbClusterResourceId": cluster.db_cluster_resource_id,
                "DBClusterIdentifier": cluster.db_cluster_identifier,
                "Region": self.region,
                "Status": "active",
                "Engine": cluster.engine,
                "EngineVersion": cluster.engine_version,
                "BackupRetentionPeriod": cluster.backup_retention_period,
                "RestoreWindow": {"EarliestTime": _iso(window[0]), "LatestTime": _iso(window[1])},
            })
        _not_found_if_named(found, params, "DBClusterIdentifier", "DbClusterResourceId", "DBClusterAutomatedBackupNotFoundFault")
        return {"DBClusterAutomatedBackups": found}

    def backtrack(self, params: Mapping[str, Any]) -> dict:
        """BacktrackDBCluster: the cluster is rewound in place (its ``backtracking`` status is timed elsewhere)."""
        cluster = self._cluster(str(params.get("DBClusterIdentifier") or ""))
        now = self.now()
        to = parse_time(params.get("BacktrackTo"))
        record = {
            "DBClusterIdentifier": cluster.db_cluster_identifier,
            "BacktrackIdentifier": str(uuid.uuid4()),
            "BacktrackTo": _iso(to),
            "BacktrackedFrom": _iso(now),
            "BacktrackRequestCreationTime": _iso(now),
            "Status": "pending",
        }
        with self._lock:
            self._backtracks.setdefault(_resource_id(cluster), []).append(record)
        return dict(record)

    def describe_backtracks(self, params: Mapping[str, Any]) -> dict:
        """DescribeDBClusterBacktracks: the cluster's backtracks, newest first; the newest is ``applying`` while the
        cluster is ``backtracking``."""
        cluster = self._cluster(str(params.get("DBClusterIdentifier") or ""))
        applying = self.status(CLUSTER, cluster.db_cluster_identifier) == "backtracking"
        with self._lock:
            records = list(reversed(self._backtracks.get(_resource_id(cluster), [])))
        return {"DBClusterBacktracks": [
            dict(r, Status="applying" if applying and position == 0 else "completed") for position, r in enumerate(records)
        ]}

    # -- internals --------------------------------------------------------------------------------------------

    @property
    def _backend(self) -> Any:
        return rds_backends[self.account_id][self.region]

    def _database(self, kind: str, identifier: str) -> Any:
        store = self._backend.databases if kind == INSTANCE else self._backend.clusters
        return store.get(identifier)

    def _cluster(self, identifier: str) -> Any:
        cluster = self._backend.clusters.get(identifier.lower())
        if cluster is None:
            raise _refuse("DBClusterNotFoundFault", f"DBCluster {identifier} not found.")
        return cluster


def _resource_id(resource: Any) -> str:
    return str(getattr(resource, "dbi_resource_id", None) or getattr(resource, "db_cluster_resource_id", None) or id(resource))


def _created_at(resource: Any) -> datetime | None:
    created = getattr(resource, "instance_create_time", None) or getattr(resource, "cluster_create_time", None)
    return parse_time(created)


def _selected(resource: Any, params: Mapping[str, Any], name_param: str, id_param: str) -> bool:
    name, resource_id = params.get(name_param), params.get(id_param)
    identifier = getattr(resource, "db_instance_identifier", None) or getattr(resource, "db_cluster_identifier", None)
    return (not name or str(name).lower() == identifier) and (not resource_id or resource_id == _resource_id(resource))


def _not_found_if_named(found: list, params: Mapping[str, Any], name_param: str, id_param: str, code: str) -> None:
    named = params.get(name_param) or params.get(id_param)
    if named and not found:
        raise _refuse(code, f"No automated backup of {named} was found.")
