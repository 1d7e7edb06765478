"""One RDS timing model: how long each RDS operation keeps its resource busy, and in which statuses.

These are modelling assumptions, not measurements. They are round figures in the range operators
commonly see for gp2/gp3-backed RDS and Aurora MySQL, chosen once and applied identically to every
strategy (and to the model of the older design in the benchmark), so a comparison depends on the
workflow, not on the figures. The strict RDS model (:mod:`trapheus_local.strict_rds`) uses them as
the default durations of the local engine; the benchmark uses them per database size.

===========================  ===========================================================  ==============
operation                    phases                                                       20/200/1000 GiB
===========================  ===========================================================  ==============
snapshot (create or copy)    ``creating`` 3 min + 3 min per 100 GiB                        3.6 / 9 / 33 min
restore an instance          ``creating`` 10 min + 4 min per 100 GiB, ``backing-up`` 2 min  12.8/ 20 / 52 min
restore a cluster (volume)   ``creating`` 5 min + 2 min per 100 GiB                        5.4 / 9 / 25 min
restore to a point in time   as the restore above, plus 5 min replaying the log            17.8/ 25 / 57 min (instance)
backtrack (Aurora MySQL)     ``backtracking`` 5 min                                        5 min
create an instance / member  ``creating`` 10 min                                          10 min
modify (settings)            ``modifying`` 5 min                                          5 min
modify (storage)             ``modifying`` 5 min, then ``storage-optimization`` 6 h (usable) 5 min
rename                       ``renaming`` 10 min, then ``rebooting`` 1 min                 11 min
delete                       ``deleting`` 5 min, plus a snapshot when it takes a final one  8.6 / 14 / 38 min
===========================  ===========================================================  ==============

The rename figure follows the RDS user guide (https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_RenameInstance.html):
the new DNS name of a renamed instance becomes effective in about 10 minutes, the instance is not
available until then, and it reboots after the rename. It is the figure a swap's downtime is most
sensitive to; the benchmark also reports a 2-minute rename.

A point-in-time restore starts from the backup taken before the chosen time and replays the transaction log up to
it (https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_PIT.html), so it is modelled as a snapshot restore of
the same size plus a fixed replay; a backtrack rewinds an Aurora MySQL cluster "in minutes", closing its connections
meanwhile (https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/AuroraMySQL.Managing.Backtrack.html).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

MINUTE = 60.0
HOUR = 60 * MINUTE

# Statuses in which a database serves its clients and takes further work (the RDS user guide's
# "DB instance status" table: the instance is usable during backing-up and storage-optimization).
USABLE_STATUSES = frozenset({"available", "backing-up", "storage-optimization", "storage-initialization"})

_RENAME_PARAMETERS = ("NewDBInstanceIdentifier", "NewDBClusterIdentifier")
_STORAGE_PARAMETERS = ("AllocatedStorage", "StorageType", "Iops", "StorageThroughput")
_SNAPSHOTS = frozenset({"CreateDBSnapshot", "CreateDBClusterSnapshot"})
_COPIES = frozenset({"CopyDBSnapshot", "CopyDBClusterSnapshot"})
_MODIFIES = frozenset({"ModifyDBInstance", "ModifyDBCluster"})
_DELETES = frozenset({"DeleteDBInstance", "DeleteDBCluster"})
# Modify parameters that take effect without the database leaving ``available``.
_INSTANT_SETTINGS = frozenset(
    {"DeletionProtection", "CopyTagsToSnapshot", "AutoMinorVersionUpgrade", "PreferredMaintenanceWindow", "ApplyImmediately"}
)

Phase = tuple[str, float]


@dataclass(frozen=True)
class Assumptions:
    """Durations in minutes; ``*_per_100_gib`` grow linearly with the allocated storage."""

    snapshot_base: float = 3.0
    snapshot_per_100_gib: float = 3.0
    instance_restore_base: float = 10.0
    instance_restore_per_100_gib: float = 4.0
    backing_up_after_restore: float = 2.0
    cluster_restore_base: float = 5.0
    cluster_restore_per_100_gib: float = 2.0
    member_create: float = 10.0
    modify: float = 5.0
    storage_optimization: float = 360.0
    rename: float = 10.0
    reboot_after_rename: float = 1.0
    delete: float = 5.0
    log_replay: float = 5.0
    backtrack: float = 5.0

    def with_rename(self, minutes: float) -> Assumptions:
        return replace(self, rename=minutes)


DEFAULT_ASSUMPTIONS = Assumptions()


@dataclass(frozen=True)
class RdsTiming:
    """The phases each RDS operation on a database of ``size_gib`` goes through (a ``LatencyModel`` timing)."""

    size_gib: float
    assumptions: Assumptions = DEFAULT_ASSUMPTIONS

    def __call__(self, operation: str, params: Mapping[str, Any]) -> list[Phase]:
        return self.phases(operation, params)

    def phases(self, operation: str, params: Mapping[str, Any]) -> list[Phase]:
        """(status, seconds) for each phase of one call; empty for operations that finish at once."""
        a = self.assumptions
        if operation in _MODIFIES:
            if _renames(params):
                return [("renaming", MINUTE * a.rename), ("rebooting", MINUTE * a.reboot_after_rename)]
            if set(params) - {"DBInstanceIdentifier", "DBClusterIdentifier"} <= _INSTANT_SETTINGS:
                return []
            if any(name in params for name in _STORAGE_PARAMETERS) and operation == "ModifyDBInstance":
                return [("modifying", MINUTE * a.modify), ("storage-optimization", MINUTE * a.storage_optimization)]
            return [("modifying", MINUTE * a.modify)]
        if operation in _SNAPSHOTS:
            return [("creating", self.snapshot())]
        if operation in _COPIES:
            return [("copying", self.snapshot())]
        if operation == "RestoreDBInstanceFromDBSnapshot":
            return [
                ("creating", self._sized(a.instance_restore_base, a.instance_restore_per_100_gib)),
                ("backing-up", MINUTE * a.backing_up_after_restore),
            ]
        if operation == "RestoreDBInstanceToPointInTime":
            return [
                ("creating", self._sized(a.instance_restore_base, a.instance_restore_per_100_gib) + MINUTE * a.log_replay),
                ("backing-up", MINUTE * a.backing_up_after_restore),
            ]
        if operation == "RestoreDBClusterFromSnapshot":
            return [("creating", self._sized(a.cluster_restore_base, a.cluster_restore_per_100_gib))]
        if operation == "RestoreDBClusterToPointInTime":
            return [("creating", self._sized(a.cluster_restore_base, a.cluster_restore_per_100_gib) + MINUTE * a.log_replay)]
        if operation == "BacktrackDBCluster":
            return [("backtracking", MINUTE * a.backtrack)]
        if operation == "CreateDBInstance":
            return [("creating", MINUTE * a.member_create)]
        if operation in _DELETES:
            return [("deleting", MINUTE * a.delete + (self.snapshot() if _takes_final_snapshot(params) else 0.0))]
        return []

    def seconds(self, operation: str, params: Mapping[str, Any]) -> float:
        """Seconds until the resource is usable again (0 for operations that finish at once)."""
        total = 0.0
        for status, seconds in self.phases(operation, params):
            if status in USABLE_STATUSES:
                break
            total += seconds
        return total

    def snapshot(self) -> float:
        return self._sized(self.assumptions.snapshot_base, self.assumptions.snapshot_per_100_gib)

    def _sized(self, base_minutes: float, per_100_gib_minutes: float) -> float:
        return MINUTE * (base_minutes + per_100_gib_minutes * self.size_gib / 100.0)


def _renames(params: Mapping[str, Any]) -> bool:
    return any(params.get(name) for name in _RENAME_PARAMETERS)


def _takes_final_snapshot(params: Mapping[str, Any]) -> bool:
    skip = str(params.get("SkipFinalSnapshot", "false")).lower() == "true"
    return not skip and bool(params.get("FinalDBSnapshotIdentifier"))


def polled(seconds: float, poll_seconds: float) -> float:
    """When a loop that checks every ``poll_seconds`` sees an operation of ``seconds`` finished."""
    if seconds <= 0:
        return 0.0
    return math.ceil(seconds / poll_seconds - 1e-9) * poll_seconds
