"""The report every trapheus workflow puts under the ``report`` key of its output, found and rendered.

A run that succeeded carries its report in its output. A run that ended FAILED has no output, so its report is
read from the history: the newest step whose output holds one (the backup workflow's *Summarise the run*, for
one). Any workflow's report renders the same way: one row per item, one column per field the items have, and
the summary below.
"""

from __future__ import annotations

import json
from typing import Any

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from trapheus_cli.executions import history

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
    return next((found for found in candidates if isinstance(found, dict) and "items" in found), None)


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
