"""What a run did, for the execution output's ``report`` key (``trapheus report <execution>`` renders it).

    {"workflow": "restore" | "recover",
     "items": [{"identifier", "stagedCopy", "restoredTo", "swapStarted", "swapEnded", "downtimeSeconds", ...}],
     "summary": {"rtoSeconds": ..., "restoreTime": ...}}

Times come from the workflow's context object (``$$.State.EnteredTime``): the moment the original stopped
answering under its identifier (the rename aside, or the rewind of a backtrack) and the moment the database that
now holds it answered again. ``restoreTime`` is the recovery point: the point in time restored to, or when the
snapshot restored from was taken. Pure bookkeeping: nothing here calls AWS.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from trapheus.inputs import parse_time


def seconds_between(start: Any, end: Any) -> float | None:
    if not (isinstance(start, str) and isinstance(end, str)):
        return None
    try:
        return round((parse_time(end) - parse_time(start)).total_seconds(), 1)
    except Exception:  # noqa: BLE001 - a report never fails a run over a malformed time
        return None


def noted_at(timeline: dict, event: str) -> str | None:
    """When ``event`` happened: the workflow notes ``{"at": "<$$.State.EnteredTime>"}`` under its name."""
    noted = timeline.get(event)
    return noted.get("at") if isinstance(noted, dict) else None


def _flag(environ: Mapping[str, str], name: str, default: bool) -> bool:
    value = str(environ.get(name, "")).strip().lower()
    return default if value == "" else value in ("1", "true", "yes", "on")


def _source(request: dict) -> str:
    if request.get("strategy") == "backtrack":
        return "backtrack"
    return "point in time" if request.get("task") == "point_in_time_restore" else "snapshot"


def item(state: dict, environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """One database's part of a report, from the restore workflow's state at its end."""
    env = os.environ if environ is None else environ
    request, names, timeline = state.get("request") or {}, state.get("names") or {}, state.get("timeline") or {}
    restores = request.get("task") != "create_snapshot_only"
    entry: dict[str, Any] = {
        "identifier": request.get("identifier"),
        "isCluster": request.get("isCluster"),
        "task": request.get("task"),
    }
    if not restores:
        return {**entry, "snapshot": names.get("snapshot")}
    strategy = request.get("strategy")
    entry.update(
        strategy=strategy,
        source=_source(request),
        restoredTo=state.get("restoredTo") or (timeline.get("started") if request.get("task") == "create_snapshot" else None),
        stagedCopy=names.get("staged") if strategy == "swap" else None,
        swapStarted=noted_at(timeline, "stoppedAnswering"),
        swapEnded=noted_at(timeline, "answeringAgain"),
        downtimeSeconds=seconds_between(noted_at(timeline, "stoppedAnswering"), noted_at(timeline, "answeringAgain")),
    )
    if _source(request) == "snapshot":
        entry["snapshot"] = names.get("snapshot")
    if strategy == "backtrack":
        entry["backtrack"] = state.get("backtrack")
    else:
        hours = float(env.get("RETAIN_OLD_COPY_HOURS") or 0)
        entry["retiredOriginal"] = names.get("aside")
        entry["finalSnapshot"] = names.get("finalSnapshot") if _flag(env, "FINAL_SNAPSHOT", True) and hours <= 0 else None
        if hours > 0:
            entry["keptFor"] = f"{hours:g} hours as a rollback window"
    secret = ((state.get("restored") or {}).get("summary") or {}).get("masterUserSecretArn")
    if secret:
        entry["masterUserSecretArn"] = secret
    if state.get("hook"):
        entry["verify"] = state["hook"]
    if state.get("notice"):
        entry["notice"] = state["notice"]
    return entry


def restore_report(state: dict, ended: str, environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    entry = item(state, environ)
    started = (state.get("timeline") or {}).get("started")
    return {
        "workflow": "restore",
        "items": [entry],
        "summary": {"started": started, "ended": ended, "rtoSeconds": seconds_between(started, ended), "restoreTime": entry.get("restoredTo")},
    }


def recovery_report(state: dict, ended: str, environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The recovery's report: every database as the swap left it, and the run's RTO (the restore time is its RPO)."""
    items = [item(database["state"], environ) for database in state.get("databases") or [] if isinstance(database.get("state"), dict)]
    started = (state.get("timeline") or {}).get("started")
    downtimes = [i["downtimeSeconds"] for i in items if isinstance(i.get("downtimeSeconds"), (int, float))]
    return {
        "workflow": "recover",
        "items": items,
        "summary": {
            "started": started,
            "ended": ended,
            "rtoSeconds": seconds_between(started, ended),
            "restoreTime": (state.get("request") or {}).get("restoreTime"),
            "databases": len(items),
            "longestDowntimeSeconds": max(downtimes) if downtimes else None,
        },
    }
