"""When a database is due for a new snapshot, and what the snapshot is called.

A schedule whose period equals ``everyMinutes`` fires a little earlier or later than the last snapshot's age says
(the run starts late, the database waited its turn behind others): measured strictly, the snapshot taken at
12:00:40 is 59 minutes 50 seconds old at 13:00:30 and the run would skip it, doubling the recovery point. So a
database is due once its newest snapshot of the policy is older than ``everyMinutes`` minus a tolerance (a tenth
of the period, between one and ten minutes). A repeated or late run sees a young snapshot and takes nothing.
"""

from __future__ import annotations

from datetime import datetime

from trapheus.names import fit, snapshot_id_max

TOLERANCE_SHARE = 0.1
TOLERANCE_MIN_SECONDS = 60.0
TOLERANCE_MAX_SECONDS = 600.0
STAGE_SUFFIX = "-stage"


def tolerance_seconds(every_minutes: int) -> float:
    return min(TOLERANCE_MAX_SECONDS, max(TOLERANCE_MIN_SECONDS, TOLERANCE_SHARE * every_minutes * 60))


def is_due(newest: datetime | None, now: datetime, every_minutes: int) -> bool:
    """True when a snapshot taken at ``newest`` (None: there is none) is old enough for the next one."""
    if newest is None:
        return True
    return (now - newest).total_seconds() >= every_minutes * 60 - tolerance_seconds(every_minutes)


def snapshot_name(identifier: str, policy: str, taken_at: datetime, *, is_cluster: bool) -> str:
    """``<identifier>-<policy>-<yyyymmdd>-<hhmm>``, cut with a hash to the limit of its kind (63 for clusters).

    It starts with the database identifier, so a prefix ``ManagedDatabasePattern`` covers it; a second run in
    the same minute names the same snapshot and takes nothing.
    """
    return fit(f"{identifier}-{policy}-{taken_at:%Y%m%d-%H%M}", snapshot_id_max(is_cluster) - len(STAGE_SUFFIX))


def stage_name(name: str) -> str:
    """The snapshot taken under the AWS managed key before it is copied under a customer key as ``name``."""
    return name + STAGE_SUFFIX
