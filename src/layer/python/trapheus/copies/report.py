"""What a copy run did, for the execution output's ``report`` key (``trapheus report <execution>`` renders it).

Times come from the workflow's context object: ``timeline.started`` (the run's start), ``timeline.available``
(the copy available and checked). A drill's ``rtoSeconds`` is start -> available and verified; ``rpoSeconds`` is
the age of the data at the start: the snapshot's creation time, or the point in time restored to, or the start
itself for a clone (a clone holds the source's data of that moment). Pure bookkeeping: nothing here calls AWS.
"""

from __future__ import annotations

from typing import Any

from trapheus.run_report import noted_at, seconds_between


def _age(then: str | None, now: str | None) -> float | None:
    """How old the data was when the run started; RDS's clock and Step Functions' may disagree by a moment."""
    seconds = seconds_between(then, now)
    return None if seconds is None else max(seconds, 0.0)


def _checks(state: dict) -> list[dict[str, Any]]:
    checks = []
    if state.get("twin"):
        checks.append({"check": "configuration", "passed": bool(state["twin"].get("passed"))})
    hook = state.get("hook")
    if hook:
        checks.append({"check": "verify function", "passed": bool(hook.get("passed")), "function": hook.get("function")})
    return checks


def build(state: dict, ended_at: str) -> dict[str, Any]:
    request, copy, source = state.get("request") or {}, state.get("copy") or {}, state.get("source") or {}
    timeline = state.get("timeline") or {}
    started, available = timeline.get("started"), noted_at(timeline, "available")
    data_time = source.get("pointInTime") or source.get("snapshotTime") or (started if source.get("clone") else None)
    promotion = state.get("promotion") or {}
    drill = request.get("action") == "drill"
    return {
        "workflow": "copy",
        "action": request.get("action"),
        "lifecycle": request.get("lifecycle"),
        "source": source.get("identifier") or copy.get("source"),
        "isCluster": copy.get("isCluster"),
        "copy": copy.get("identifier"),
        "members": copy.get("members") or [],
        "from": request.get("from"),
        "snapshot": source.get("snapshot"),
        "snapshotTime": source.get("snapshotTime"),
        "pointInTime": source.get("pointInTime"),
        "configurationFrom": source.get("configurationFrom"),
        "endpoint": promotion.get("endpoint") or (state.get("target") or {}).get("endpoint"),
        "masterUserSecretArn": (state.get("password") or {}).get("secretArn"),
        "promoted": [
            {"hostedZoneId": c.get("hostedZoneId"), "recordName": c.get("recordName"), "value": c.get("value")}
            for c in promotion.get("changes") or []
        ],
        "previous": (state.get("afterPromotion") or {}).get("retired") or [],
        "retired": (state.get("retirement") or {}).get("retired") or [],
        "discarded": (state.get("discarded") or {}).get("identifier") if state.get("discarded") else None,
        "checks": _checks(state),
        "startedAt": started,
        "availableAt": available,
        "endedAt": ended_at,
        "rtoSeconds": seconds_between(started, available) if drill else None,
        "rpoSeconds": _age(data_time, started) if drill else None,
        "skipped": state.get("skipped"),
    }
