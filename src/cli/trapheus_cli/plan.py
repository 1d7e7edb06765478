"""``trapheus plan`` and ``trapheus copy ... --plan``: ask a workflow what a run would do, and show its answer.

The restore workflow answers ``task: plan`` with a report and changes nothing (see
``trapheus.preflight.plan``); the copy workflow answers an input ``{"plan": <copy input>}`` with
``{"plan": {...}}``. This module runs that execution to its end and turns the report into tables.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from rich.console import Group, RenderableType
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from trapheus_cli import executions
from trapheus_cli.errors import CliError


def run(
    stepfunctions: Any,
    state_machine_arn: str,
    payload: dict[str, Any],
    *,
    poll_seconds: float,
    on_update: Callable[[executions.Snapshot], None] = lambda _: None,
) -> dict[str, Any]:
    """Start a restore plan execution, wait for it and return its report; a plan that could not run is a CliError."""
    name = executions.execution_name(str(payload["identifier"]), "plan")
    output = _answer(stepfunctions, state_machine_arn, payload, name, poll_seconds, on_update)
    report = json.loads(output) if output else None
    if not isinstance(report, dict) or "blockers" not in report:
        raise CliError(f"the workflow answered the plan with something that is not a plan report: {output!r}")
    return report


def run_copy(
    stepfunctions: Any,
    state_machine_arn: str,
    payload: dict[str, Any],
    name: str,
    *,
    poll_seconds: float,
    on_update: Callable[[executions.Snapshot], None] = lambda _: None,
) -> dict[str, Any]:
    """The copy workflow's plan (the ``plan`` object of its output) for ``payload`` = ``{"plan": <copy input>}``."""
    output = _answer(stepfunctions, state_machine_arn, payload, name, poll_seconds, on_update)
    document = json.loads(output) if output else None
    report = document.get("plan") if isinstance(document, dict) else None
    if not isinstance(report, dict) or "blockers" not in report:
        raise CliError(f"the workflow answered the plan with something that is not a copy plan: {output!r}")
    return report


def _answer(
    stepfunctions: Any, state_machine_arn: str, payload: dict[str, Any], name: str, poll_seconds: float,
    on_update: Callable[[executions.Snapshot], None],
) -> str | None:
    """The output of a plan execution run to its end; one that failed is a CliError with its cause."""
    arn = executions.start(stepfunctions, state_machine_arn, payload, name)
    final = executions.follow(stepfunctions, arn, poll_seconds=poll_seconds, on_update=on_update)
    if not final.succeeded:
        raise CliError(f"the plan could not be made ({final.status}): {final.error}: {_message(final.cause)}")
    output = stepfunctions.describe_execution(executionArn=arn).get("output")
    return str(output) if output else None


def _message(cause: str | None) -> str:
    """A Lambda error's cause is a JSON document; the person wants its message."""
    try:
        document = json.loads(cause or "")
    except ValueError:
        return cause or ""
    return str(document.get("errorMessage", cause)) if isinstance(document, dict) else str(cause)


# -- rendering -------------------------------------------------------------------------------------------


def render(report: dict[str, Any]) -> RenderableType:
    """Overview, changes, configuration carried and blockers, as rich tables."""
    parts: list[RenderableType] = [overview_table(report)]
    if report.get("creates") is not None:
        parts.append(changes_table(report))
    if report.get("configuration"):
        parts.append(configuration_table(report["configuration"]))
    parts.append(blockers_table(report))
    return Group(*parts)


def _kind(report: dict[str, Any]) -> str:
    return "Aurora cluster" if report.get("isCluster") else "DB instance"


def readable_age(hours: float | None) -> str:
    if hours is None:
        return "-"
    if hours < 1:
        return f"{round(hours * 60)} minutes"
    if hours < 48:
        return f"{hours:.1f} hours"
    return f"{hours / 24:.1f} days"


def overview_table(report: dict[str, Any]) -> Table:
    snapshot = report.get("snapshot") or {}
    table = Table(title=f"plan: restore {_kind(report)} {escape(str(report.get('identifier')))}", show_header=False)
    table.add_column("what", style="bold")
    table.add_column("value")
    table.add_row("strategy", escape(str(report.get("strategy"))))
    table.add_row("expected downtime", escape(str(report.get("expectedDowntime", "-"))))
    table.add_row("snapshot", escape(str(snapshot.get("identifier") or "-")))
    table.add_row("snapshot status", escape(str(snapshot.get("status") or "not found")))
    table.add_row("snapshot created", escape(str(snapshot.get("created") or "-")))
    table.add_row("snapshot age", readable_age(snapshot.get("ageHours")))
    ready = bool(report.get("ready"))
    answer = Text("yes", style="bold green") if ready else Text("no: see the blockers", style="bold red")
    table.add_row("ready", answer)
    return table


def changes_table(report: dict[str, Any]) -> Table:
    table = Table(title="what the run would change")
    table.add_column("action", style="bold")
    table.add_column("identifier")
    table.add_column("detail")
    for identifier in report.get("creates") or []:
        table.add_row("create", escape(str(identifier)), "restored from the snapshot")
    for source, target in report.get("renames") or []:
        table.add_row("rename", escape(str(source)), f"→ {escape(str(target))}")
    for deleted in report.get("deletes") or []:
        final = deleted.get("finalSnapshot")
        detail = f"final snapshot {escape(str(final))}" if final else Text("no final snapshot", style="yellow")
        table.add_row("delete", escape(str(deleted.get("identifier"))), detail)
    return table


def configuration_table(configuration: dict[str, Any]) -> Table:
    table = Table(title="configuration carried to the restored copy")
    table.add_column("setting", style="bold")
    table.add_column("value")
    for name, value in (configuration.get("settings") or {}).items():
        table.add_row(escape(str(name)), escape(_value(value)))
    for member in configuration.get("members") or []:
        role = "writer" if member.get("writer") else "reader"
        described = ", ".join([role, *(f"{k}={_value(v)}" for k, v in (member.get("settings") or {}).items())])
        table.add_row(f"member {escape(str(member.get('identifier')))}", escape(described))
    return table


def _value(value: Any) -> str:
    if isinstance(value, (list, dict)):
        return json.dumps(value, sort_keys=True, default=str)
    return str(value)


def blockers_table(report: dict[str, Any]) -> RenderableType:
    blockers = report.get("blockers") or []
    if not blockers:
        return Text("no blockers: a run would start", style="green")
    table = Table(title=f"blockers ({len(blockers)})", title_style="bold red")
    table.add_column("error", style="red")
    table.add_column("what stands in the way")
    for blocker in blockers:
        table.add_row(escape(str(blocker.get("error"))), escape(str(blocker.get("message"))))
    return table


# -- a copy's plan ---------------------------------------------------------------------------------------


def render_copy(report: dict[str, Any]) -> RenderableType:
    """What a copy run would make, from what, with which configuration, which names and copies it would touch."""
    overview = Table(title=f"plan: copy {escape(str(report.get('copy') or '-'))}", show_header=False)
    overview.add_column("what", style="bold")
    overview.add_column("value")
    for label, key in (("action", "action"), ("lifecycle", "lifecycle"), ("source", "source"), ("from", "from"),
                       ("members", "members")):  # fmt: skip
        if report.get(key) not in (None, "", []):
            overview.add_row(label, escape(_listed(report[key])))
    ready = not report.get("blockers")
    overview.add_row("ready", Text("yes", style="bold green") if ready else Text("no: see the blockers", style="bold red"))
    parts: list[RenderableType] = [overview]
    configuration = report.get("configuration") or {}
    if configuration:
        shaped = configuration if "settings" in configuration or "members" in configuration else {"settings": configuration}
        table = configuration_table(shaped)
        table.title = "configuration of the copy"
        parts.append(table)
    dns = [d for d in report.get("dns") or [] if isinstance(d, dict)]
    if dns:
        # every field the workflow reports about a name (zone, record, current and new value, ownership, ...)
        table = Table(title="DNS names it would point at the copy")
        keys = list(dict.fromkeys(key for name in dns for key in name))
        for key in keys:
            table.add_column(escape(key), overflow="fold")
        for name in dns:
            table.add_row(*(escape(_listed(name[key])) if name.get(key) is not None else "-" for key in keys))
        parts.append(table)
    retire = report.get("wouldRetire") or []
    if retire:
        table = Table(title="copies it would retire")
        table.add_column("identifier", style="bold")
        table.add_column("detail")
        for item in retire:
            item = item if isinstance(item, dict) else {"identifier": item}
            final = item.get("finalSnapshot", True)
            detail = f"final snapshot {escape(str(final))}" if isinstance(final, str) else (
                "final snapshot" if final else Text("no final snapshot", style="yellow"))
            table.add_row(escape(str(item.get("identifier"))), detail)
        parts.append(table)
    parts.append(blockers_table(report))
    return Group(*parts)


def _listed(value: Any) -> str:
    if isinstance(value, list):
        return ", ".join(_listed(item) for item in value)
    if isinstance(value, dict):
        return " ".join(f"{key}={_value(item)}" for key, item in value.items())
    return str(value)
