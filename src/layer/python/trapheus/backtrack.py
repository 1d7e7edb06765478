"""Rewinding an Aurora MySQL cluster in place (BacktrackDBCluster): when it applies, and doing it.

A backtrack needs no new cluster and no rename: the cluster itself goes back to the chosen time, within minutes,
closing its connections meanwhile. It applies only to Aurora MySQL clusters created (or restored) with
backtracking on, and only to times from the cluster's earliest backtrack time (its target window is at most 72
hours) until now (https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/AuroraMySQL.Managing.Backtrack.html).
Every write after that time is discarded; a backtrack forward to the time the rewind started undoes it, as long
as that time is still inside the backtrack window.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from trapheus import clients
from trapheus.errors import BacktrackError, InvalidInputError, RestoreTimeError, TrapheusError
from trapheus.inputs import format_time, parse_time
from trapheus.log import logger
from trapheus.throttling import aws_errors

MAX_WINDOW = timedelta(hours=72)
ENGINES = ("aurora-mysql", "aurora")


def _aware(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=timezone.utc)
    return parse_time(value) if isinstance(value, str) and value else None


def why_not(cluster: dict, restore_time: str | None) -> TrapheusError | None:
    """Why the cluster (its describe result) cannot be backtracked to ``restore_time``; None when it can."""
    identifier = cluster.get("DBClusterIdentifier")
    if cluster.get("Engine") not in ENGINES:
        return InvalidInputError(f"backtracking is for Aurora MySQL only; {identifier!r} runs {cluster.get('Engine')}")
    window = int(cluster.get("BacktrackWindow") or 0)
    earliest = _aware(cluster.get("EarliestBacktrackTime"))
    if window <= 0 or earliest is None:
        return InvalidInputError(
            f"backtracking is not on for {identifier!r} (RDS turns it on only when a cluster is created or restored "
            "with a backtrack window)"
        )
    if restore_time is not None and parse_time(restore_time) < earliest:
        return RestoreTimeError(
            f"{restore_time} is before the earliest backtrack time of {identifier!r} ({format_time(earliest)}; its target "
            f"window is {window // 3600} h {window % 3600 // 60} min, at most {int(MAX_WINDOW.total_seconds()) // 3600} h)"
        )
    return None


def rewind(cluster_id: str, restore_time: str, rds: Any = None) -> dict:
    """Start the backtrack; the answer names the time the cluster was rewound from (a backtrack forward to it undoes it)."""
    client = rds or clients.client("rds")
    with aws_errors(BacktrackError, f"backtracking cluster {cluster_id!r} to {restore_time}"):
        answer = client.backtrack_db_cluster(DBClusterIdentifier=cluster_id, BacktrackTo=parse_time(restore_time))
    rewound_from = _aware(answer.get("BacktrackedFrom")) or datetime.now(timezone.utc)
    backtracked_to = _aware(answer.get("BacktrackTo")) or parse_time(restore_time)
    logger.info("backtrack started", extra={"cluster": cluster_id, "to": restore_time, "from": format_time(rewound_from)})
    return {
        "identifier": cluster_id,
        "backtrackIdentifier": answer.get("BacktrackIdentifier"),
        "backtrackedTo": format_time(backtracked_to),
        "rewoundFrom": format_time(rewound_from),
        "undo": (f"every write to {cluster_id!r} after {format_time(backtracked_to)} was discarded; a backtrack forward "
                 f"to {format_time(rewound_from)} undoes this while that time is inside the cluster's backtrack window"),
    }
