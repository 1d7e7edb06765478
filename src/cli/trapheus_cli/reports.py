"""The report every trapheus workflow puts under the ``report`` key of its output, found and rendered.

A run that succeeded carries its report in its output. A run that ended FAILED has no output, so its report is
read from the history: the newest step whose output holds one (the backup workflow's *Summarise the run*, for
one). Any workflow's report renders the same way: one row per item, one column per field the items have, and
the summary below; a copy run's report (one copy, not a list of items) has a section of its own.
"""

from __future__ import annotations

import json
from typing import Any

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from trapheus_cli.executions import history
from trapheus_cli.views import duration

CELL_LIMIT = 80
OUTPUT_DETAILS = ("stateExitedEventDetails", "taskSucceededEventDetails", "lambdaFunctionSucceededEventDetails")


def _report_in(text: str | None) -> dict[str, Any] | None:
    """The report in a JSON output: under ``report``, or one level down (a step's result stored in the state)."""
    if not text:
        return None
    try:
        document = json.loads(text)
    except ValueError:
        return None
    if not isinstance(document, dict):
        return None
    candidates = [document.get("report"), *(value.get("report") for value in document.values() if isinstance(value, dict))]
    return next((found for found in candidates if isinstance(found, dict) and _is_report(found)), None)


def _is_report(document: dict[str, Any]) -> bool:
    return "items" in document or document.get("workflow") == "copy"


def report_of(stepfunctions: Any, execution_arn: str) -> tuple[str, dict[str, Any] | None]:
    """The run's status and its report (None: it has none, or none yet)."""
    described = stepfunctions.describe_execution(executionArn=execution_arn)
    found = _report_in(described.get("output"))
    if found is None:
        for event in sorted(history(stepfunctions, execution_arn), key=lambda e: e.get("id", 0), reverse=True):
            details = next((event[key] for key in OUTPUT_DETAILS if key in event), None)
            found = _report_in((details or {}).get("output"))
            if found is not None:
                break
    return str(described["status"]), found


def cell(value: Any) -> str:
    """One field of an item, short: lists joined, objects as ``key=value`` pairs, long text cut."""
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, dict):
        text = " ".join(f"{key}={cell(item)}" for key, item in value.items() if item not in (None, "", [], {}))
    elif isinstance(value, list):
        text = "; ".join(cell(item) for item in value) or "-"
    else:
        text = str(value)
    return text if len(text) <= CELL_LIMIT else text[: CELL_LIMIT - 1] + "…"


def columns(items: list[dict[str, Any]]) -> list[str]:
    """Every field some item has, in the order they first appear."""
    return list(dict.fromkeys(key for item in items for key in item))


def render(report: dict[str, Any], title: str) -> RenderableType:
    if report.get("workflow") == "copy":
        return render_copy(report, title)
    items = [item for item in report.get("items") or [] if isinstance(item, dict)]
    table = Table(title=f"{title}: {report.get('workflow', 'report')}", show_lines=False)
    names = columns(items)
    for name in names:
        table.add_column(name, overflow="fold")
    for item in items:
        table.add_row(*(cell(item.get(name)) for name in names))
    summary = Table(title="summary", show_header=False)
    summary.add_column("field", style="bold")
    summary.add_column("value", overflow="fold")
    for key, value in (report.get("summary") or {}).items():
        summary.add_row(key, cell(value))
    parts: list[RenderableType] = [table, summary]
    if not items:
        parts.insert(0, Text("no items"))
    return Group(*parts)


# -- a copy run's report -----------------------------------------------------------------------------------


def _seconds(value: Any) -> str:
    return duration(float(value)) if isinstance(value, (int, float)) else "-"


def _overview(report: dict[str, Any], title: str) -> Table:
    table = Table(title=f"{title}: copy {report.get('action', '')}".rstrip(), show_header=False)
    table.add_column("field", style="bold")
    table.add_column("value", overflow="fold")
    endpoint = report.get("endpoint")
    rows: list[tuple[str, Any]] = [
        ("lifecycle", report.get("lifecycle")),
        ("source", report.get("source")),
        ("kind", None if report.get("isCluster") is None else ("Aurora cluster" if report["isCluster"] else "DB instance")),
        ("copy", report.get("copy")),
        ("members", report.get("members") or None),
        ("from", report.get("from")),
        ("snapshot time", report.get("snapshotTime")),
        ("endpoint", f"{endpoint}:{report['port']}" if endpoint and report.get("port") else endpoint),
        ("master user secret", report.get("masterUserSecretArn")),
        ("previous copy", report.get("previous")),
        ("started", report.get("startedAt")),
        ("available", report.get("availableAt")),
        ("ended", report.get("endedAt")),
    ]
    for name, value in rows:
        if value not in (None, "", []):
            table.add_row(name, cell(value))
    if report.get("action") == "drill" or report.get("rtoSeconds") is not None or report.get("rpoSeconds") is not None:
        table.add_row("RTO", f"{_seconds(report.get('rtoSeconds'))} (start to available and verified)")
        table.add_row("RPO", f"{_seconds(report.get('rpoSeconds'))} (restored data's time to start)")
    return table


def _rows(title: str, names: list[str], rows: list[list[Any]]) -> Table:
    table = Table(title=title, title_justify="left")
    for name in names:
        table.add_column(name, overflow="fold")
    for row in rows:
        table.add_row(*row)
    return table


def _checks(checks: list[Any]) -> Table:
    rows = []
    for check in checks:
        check = check if isinstance(check, dict) else {"check": check}
        passed = check.get("passed")
        mark = Text("passed", style="green") if passed else Text("failed", style="red") if passed is False else Text("-")
        rows.append([cell(check.get("check")), mark, cell(check.get("detail"))])
    return _rows("checks", ["check", "result", "detail"], rows)


def render_copy(report: dict[str, Any], title: str) -> RenderableType:
    """Overview, then the stages and checks, the DNS records promoted, the copies retired; a skip first."""
    parts: list[RenderableType] = []
    if report.get("skipped"):
        parts.append(Text(f"skipped, nothing changed: {report['skipped']}", style="bold yellow"))
    parts.append(_overview(report, title))
    stages = report.get("stages") or []
    if stages:
        stage_rows = [s if isinstance(s, dict) else {"stage": s} for s in stages]
        names = columns(stage_rows)
        parts.append(_rows("stages", names, [[cell(s.get(n)) for n in names] for s in stage_rows]))
    if report.get("checks"):
        parts.append(_checks(report["checks"]))
    promoted = [p for p in report.get("promoted") or [] if isinstance(p, dict)]
    if promoted:
        parts.append(_rows("promoted", ["hosted zone", "record", "points at"],
                           [[cell(p.get("hostedZoneId")), cell(p.get("recordName")), cell(p.get("value"))] for p in promoted]))  # fmt: skip
    retired = [r for r in report.get("retired") or [] if isinstance(r, dict)]
    if retired:
        parts.append(_rows("retired", ["identifier", "final snapshot", "result"],
                           [[cell(r.get("identifier")), cell(r.get("finalSnapshot")) if r.get("finalSnapshot")
                             else Text("none", style="yellow"), cell(r.get("result"))] for r in retired]))  # fmt: skip
    return Group(*parts)
