"""The report of a backup run: one item per database, a summary, the recovery point of each database and
whether the run needs an alert.

``rpoSeconds`` is how much data a disaster now would lose: now minus the source time of the newest copy in the
DR account when the DR stack's report can be read (``DR_REPORT_ROLE_ARN``), else of the newest snapshot on the
source side. A database whose recovery point is older than twice ``everyMinutes`` (or that has no snapshot at
all), one that failed or was refused, raises the run's alert. Every trapheus workflow puts its report under the
same ``report`` key of its output, which ``trapheus report`` renders.
"""

from __future__ import annotations

import json
import os
from datetime import datetime, timezone
from typing import Any

from trapheus import clients
from trapheus.log import logger

WORKFLOW = "backup"
OUTCOMES = ("snapshot", "skipped", "refused", "failed")
ALERTING = frozenset({"refused", "failed"})
CAUSE_LIMIT = 30000  # a Fail state's Cause holds at most 32,768 characters


def dr_key(account: str, is_cluster: bool, identifier: str) -> str:
    """The DR report's key for a source database."""
    return f"{account}:{'cluster' if is_cluster else 'instance'}:{identifier}"


def parse_time(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value
    if isinstance(value, str) and value:
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            return None
    return None


def read_dr_report(keys: list[str], environ: Any = None) -> dict[str, dict[str, Any]]:
    """The DR stack's report items for ``keys``, read through the read-only role it offers (empty without one).

    A report that cannot be read is logged and the source side's times stand in: the run still reports.
    """
    env = os.environ if environ is None else environ
    role, table, region = env.get("DR_REPORT_ROLE_ARN"), env.get("DR_REPORT_TABLE"), env.get("DR_REPORT_REGION") or None
    if not role or not table or not keys:
        return {}
    found: dict[str, dict[str, Any]] = {}
    try:
        dynamodb = clients.assumed(role, "trapheus-backup-report", region).client("dynamodb")
        for start in range(0, len(keys), 100):  # BatchGetItem takes 100 keys at a time
            request = {table: {"Keys": [{"database": {"S": key}} for key in keys[start:start + 100]], "ConsistentRead": True}}
            while request:
                response = dynamodb.batch_get_item(RequestItems=request)
                for item in response.get("Responses", {}).get(table, []):
                    found[item["database"]["S"]] = {name: next(iter(value.values())) for name, value in item.items()}
                request = response.get("UnprocessedKeys") or None
    except Exception as problem:  # noqa: BLE001 - the DR report is best effort; the run still reports the source side
        logger.warning("the DR report could not be read; reporting the source side", problem=repr(problem))
        return {}
    return found


def with_recovery_points(items: list[dict], every_minutes: int, account: str, now: datetime, dr: dict[str, dict]) -> list[dict]:
    """Each item with ``rpoSeconds`` (and where it was measured), ``rpoExceeded`` past 2 x everyMinutes."""
    limit = 2 * every_minutes * 60
    measured = []
    for item in items:
        entry = dr.get(dr_key(account, bool(item.get("isCluster")), str(item.get("identifier"))))
        dr_time = parse_time((entry or {}).get("sourceTime"))
        source_time = parse_time(item.get("newestSourceTime"))
        point, where = (dr_time, "dr") if dr_time is not None else (source_time, "source")
        rpo = round((now - point).total_seconds()) if point is not None else None
        extra: dict[str, Any] = {"rpoSeconds": rpo, "rpoMeasuredAt": where if point is not None else None,
                                 "rpoExceeded": rpo is None or rpo > limit}
        if entry:
            extra["drCopy"] = {"snapshot": entry.get("copyArn"), "region": entry.get("copyRegion"),
                               "sourceTime": entry.get("sourceTime")}
        measured.append({**item, **extra})
    return measured


def summary(policy: dict, items: list[dict]) -> dict[str, Any]:
    every = int(policy["everyMinutes"])
    counts = {outcome: sum(1 for item in items if item.get("outcome") == outcome) for outcome in OUTCOMES}
    rpos = [item["rpoSeconds"] for item in items if item.get("rpoSeconds") is not None]
    queued = [f"{item['identifier']}->{copy['region']}" for item in items for copy in item.get("copies", [])
              if copy.get("status") == "queued"]
    exceeded = [item["identifier"] for item in items if item.get("rpoExceeded")]
    problems = [item["identifier"] for item in items if item.get("outcome") in ALERTING]
    return {
        "policy": policy["policy"],
        "databases": len(items),
        **counts,
        "queuedCopies": queued,
        "pruned": sum(len(item.get("pruned", [])) for item in items),
        "worstRpoSeconds": max(rpos) if rpos else None,
        "rpoLimitSeconds": 2 * every * 60,
        "rpoExceeded": exceeded,
        "needsAttention": sorted(set(problems) | set(exceeded)),
    }


def alert_cause(report: dict[str, Any]) -> str:
    """One paragraph an operator can act on: what failed or was refused, and why; which recovery points are late."""
    lines = []
    for item in report["items"]:
        if item.get("outcome") in ALERTING:
            lines.append(f"{item['identifier']}: {item['outcome']}: {item.get('reason')}")
        elif item.get("rpoExceeded"):
            rpo = item.get("rpoSeconds")
            age = "no snapshot at all" if rpo is None else f"recovery point {rpo // 60} minutes old"
            lines.append(f"{item['identifier']}: {age} (limit {report['summary']['rpoLimitSeconds'] // 60})"
                         + (f"; {item['reason']}" if item.get("reason") else ""))
    return "; ".join(lines)[:CAUSE_LIMIT]


def build(policy: dict, items: list[dict], account: str, environ: Any = None, now: datetime | None = None) -> dict[str, Any]:
    """The run's report and, when something needs attention, the failure the workflow alerts with."""
    moment = now or datetime.now(timezone.utc)
    keys = [dr_key(account, bool(item.get("isCluster")), str(item.get("identifier"))) for item in items]
    measured = with_recovery_points(items, int(policy["everyMinutes"]), account, moment, read_dr_report(keys, environ))
    report = {"workflow": WORKFLOW, "generatedAt": moment.isoformat(), "items": measured, "summary": summary(policy, measured)}
    result: dict[str, Any] = {"report": report, "alert": bool(report["summary"]["needsAttention"])}
    if result["alert"]:
        result["failure"] = {"Error": "BackupIncompleteError", "Cause": alert_cause(report)}
    return result


def failed_item(database: dict, failure: dict | None) -> dict[str, Any]:
    """The item of a database whose run ended FAILED: its own report (the child's Cause) when it has one."""
    failure = failure or {}
    cause = failure.get("Cause")
    try:
        described = json.loads(cause) if isinstance(cause, str) else {}
    except ValueError:
        described = {}
    described = described if isinstance(described, dict) else {}
    child_cause = described.get("Cause", described.get("cause"))
    try:
        item = json.loads(child_cause) if isinstance(child_cause, str) else None
    except ValueError:
        item = None
    if isinstance(item, dict) and item.get("identifier"):
        return item
    reason = child_cause or cause or "the run for this database failed without a cause"
    error = described.get("Error", described.get("error")) or failure.get("Error")
    return {"identifier": database.get("identifier"), "isCluster": database.get("isCluster"), "outcome": "failed",
            "reason": f"{error}: {reason}" if error else str(reason)}
