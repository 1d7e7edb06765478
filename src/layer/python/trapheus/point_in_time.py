"""A database's restorable window, and whether a restore time falls inside it (read only).

RDS restores a database to any second from the earliest time its automated backups hold (``RestoreWindow`` of
DescribeDBInstanceAutomatedBackups / DescribeDBClusterAutomatedBackups) to its latest restorable time
(``LatestRestorableTime`` of DescribeDBInstances / DescribeDBClusters, "typically within the last five minutes"):
https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_PIT.html and
https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/aurora-pitr.html. A database without automated
backups (retention 0) has no window at all. A window RDS does not report is a blocker, never a pass.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from trapheus.errors import NoAutomatedBackupsError, RestoreTimeError, TrapheusError
from trapheus.inputs import LATEST, format_time, parse_time
from trapheus.kinds import CLUSTER, DatabaseKind
from trapheus.throttling import aws_errors


@dataclass(frozen=True)
class RestorableWindow:
    identifier: str
    retention_days: int
    earliest: datetime | None
    latest: datetime | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "earliest": format_time(self.earliest) if self.earliest else None,
            "latest": format_time(self.latest) if self.latest else None,
            "retentionDays": self.retention_days,
        }


def _aware(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=timezone.utc)
    if isinstance(value, str) and value:
        return parse_time(value)
    return None


def read_window(kind: DatabaseKind, database: dict, rds: Any) -> RestorableWindow:
    """The window of ``database`` (its describe result), its automated backups found by resource id."""
    identifier = str(database.get(kind.id_param))
    retention = int(database.get("BackupRetentionPeriod") or 0)
    if retention <= 0:
        return RestorableWindow(identifier, 0, None, None)
    if kind is CLUSTER:
        operation, id_param, list_key, resource_key = (
            "describe_db_cluster_automated_backups", "DbClusterResourceId", "DBClusterAutomatedBackups", "DbClusterResourceId")
    else:
        operation, id_param, list_key, resource_key = (
            "describe_db_instance_automated_backups", "DbiResourceId", "DBInstanceAutomatedBackups", "DbiResourceId")
    resource_id = database.get(resource_key)
    backups: list[dict] = []
    # "not found" is an answer: no automated backups (yet), so no window
    with aws_errors(RestoreTimeError, f"reading the automated backups of {kind.label} {identifier!r}",
                    already_done=frozenset({"DBInstanceAutomatedBackupNotFound", "DBInstanceAutomatedBackupNotFoundFault",
                                            "DBClusterAutomatedBackupNotFoundFault"})):
        for page in rds.get_paginator(operation).paginate(**{id_param: resource_id}):
            backups.extend(page.get(list_key, []))
    earliest = min((e for b in backups if (e := _aware((b.get("RestoreWindow") or {}).get("EarliestTime")))), default=None)
    return RestorableWindow(identifier, retention, earliest, _aware(database.get("LatestRestorableTime")))


def choose_time(window: RestorableWindow, wanted: str, now: datetime | None = None) -> tuple[str | None, list[TrapheusError]]:
    """The restore time to use (``"latest"`` resolved to the latest restorable time) and what refuses it."""
    now = now or datetime.now(timezone.utc)
    if window.retention_days <= 0:
        return None, [NoAutomatedBackupsError(
            f"{window.identifier!r} keeps no automated backups (backup retention 0), so it has no point in time to "
            "restore to: turn backups on (a retention of 1 to 35 days) and restore from a time after that"
        )]
    if window.earliest is None or window.latest is None:
        return None, [RestoreTimeError(
            f"RDS reports no restorable window for {window.identifier!r} (its first automated backup may still be "
            "under way); try again later"
        )]
    if window.earliest > window.latest:
        return None, [RestoreTimeError(
            f"{window.identifier!r} has no restorable time yet: its automated backups begin at {format_time(window.earliest)} "
            f"(it was created or restored recently) and RDS restores to about five minutes ago at the latest"
        )]
    span = f"{format_time(window.earliest)} to {format_time(window.latest)}"
    if wanted == LATEST:
        return format_time(window.latest), []
    moment = parse_time(wanted)
    if moment > now:
        return None, [RestoreTimeError(f"restoreTime {wanted} is in the future; {window.identifier!r} can be restored to {span}")]
    if moment > window.latest:
        return None, [RestoreTimeError(
            f"restoreTime {wanted} is after the latest restorable time of {window.identifier!r} ({format_time(window.latest)}; "
            "RDS can restore to about five minutes ago at the latest): choose an earlier time or \"latest\""
        )]
    if moment < window.earliest:
        return None, [RestoreTimeError(
            f"restoreTime {wanted} is before the earliest restorable time of {window.identifier!r}: it can be restored "
            f"to {span} (backup retention {window.retention_days} days)"
        )]
    return format_time(moment), []


def common_latest(windows: list[RestorableWindow]) -> str:
    """``"latest"`` for several databases at one instant: the earliest of their latest restorable times."""
    latest = [w.latest for w in windows if w.latest is not None]
    return format_time(min(latest)) if len(latest) == len(windows) and latest else LATEST
