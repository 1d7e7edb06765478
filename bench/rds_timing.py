"""One RDS timing model: how long each RDS operation keeps its resource busy.

These are modelling assumptions, not measurements. They are round figures in
the range operators commonly see for gp2/gp3-backed RDS and Aurora MySQL, chosen
once and applied identically to every strategy and to the model of the older
design, so the comparison depends on the workflow, not on the figures:

===========================  =============================================  ==========================
operation                    model                                          20 / 200 / 1000 GiB
===========================  =============================================  ==========================
snapshot (create or copy)    3 min + 3 min per 100 GiB                       3.6 / 9 / 33 min
restore an instance          10 min + 4 min per 100 GiB                      10.8 / 18 / 50 min
restore a cluster (volume)   5 min + 2 min per 100 GiB                       5.4 / 9 / 25 min
create a cluster member      10 min                                          10 min
modify (settings)            5 min                                           5 min
rename                       2 min (``renaming``, until it answers again)    2 min
delete                       5 min, plus a snapshot when it takes a final    8.6 / 14 / 38 min
                             snapshot
===========================  =============================================  ==========================

The rename figure is the one the result is most sensitive to. The RDS user guide
says that a renamed instance's new DNS name becomes effective in "about 10
minutes" and that the instance is not available until then; the bench prints
how its downtime ratio changes with a 10-minute rename too.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

MINUTE = 60.0

_RENAME_PARAMETERS = ("NewDBInstanceIdentifier", "NewDBClusterIdentifier")
_SNAPSHOTS = frozenset({"CreateDBSnapshot", "CopyDBSnapshot", "CreateDBClusterSnapshot", "CopyDBClusterSnapshot"})
_MODIFIES = frozenset({"ModifyDBInstance", "ModifyDBCluster"})
_DELETES = frozenset({"DeleteDBInstance", "DeleteDBCluster"})


@dataclass(frozen=True)
class Assumptions:
    """Durations in minutes; ``*_per_100_gib`` grow linearly with the allocated storage."""

    snapshot_base: float = 3.0
    snapshot_per_100_gib: float = 3.0
    instance_restore_base: float = 10.0
    instance_restore_per_100_gib: float = 4.0
    cluster_restore_base: float = 5.0
    cluster_restore_per_100_gib: float = 2.0
    member_create: float = 10.0
    modify: float = 5.0
    rename: float = 2.0
    delete: float = 5.0

    def with_rename(self, minutes: float) -> Assumptions:
        return replace(self, rename=minutes)


DEFAULT_ASSUMPTIONS = Assumptions()


@dataclass(frozen=True)
class RdsTiming:
    """Seconds each RDS operation on a database of ``size_gib`` takes (a ``LatencyModel`` timing)."""

    size_gib: float
    assumptions: Assumptions = DEFAULT_ASSUMPTIONS

    def __call__(self, operation: str, params: Mapping[str, Any]) -> float:
        return self.seconds(operation, params)

    def seconds(self, operation: str, params: Mapping[str, Any]) -> float:
        """Duration of one call; 0 for operations that finish at once (tags, reads)."""
        a = self.assumptions
        if operation in _MODIFIES:
            return MINUTE * (a.rename if _renames(params) else a.modify)
        if operation in _SNAPSHOTS:
            return self.snapshot()
        if operation == "RestoreDBInstanceFromDBSnapshot":
            return self._sized(a.instance_restore_base, a.instance_restore_per_100_gib)
        if operation == "RestoreDBClusterFromSnapshot":
            return self._sized(a.cluster_restore_base, a.cluster_restore_per_100_gib)
        if operation == "CreateDBInstance":
            return MINUTE * a.member_create
        if operation in _DELETES:
            return MINUTE * a.delete + (self.snapshot() if _takes_final_snapshot(params) else 0.0)
        return 0.0

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
