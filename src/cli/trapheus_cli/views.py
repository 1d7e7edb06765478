"""What the commands print: tables, the live progress view, and plain lines for logs."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timezone

from rich.console import Console, Group, RenderableType
from rich.markup import escape
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from trapheus_cli.executions import Snapshot
from trapheus_cli.steps import Outcome, Step, current_step

STATUS_STYLE = {
    "SUCCEEDED": "bold green",
    "FAILED": "bold red",
    "TIMED_OUT": "bold red",
    "ABORTED": "bold red",
    "RUNNING": "bold cyan",
}
OUTCOME_STYLE = {
    Outcome.SUCCEEDED: "green",
    Outcome.CAUGHT: "yellow",
    Outcome.FAILED: "red",
    Outcome.RUNNING: "cyan",
}
OUTCOME_MARK = {Outcome.SUCCEEDED: "✓", Outcome.CAUGHT: "↪", Outcome.FAILED: "✗", Outcome.RUNNING: "…"}


def duration(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, rest = divmod(int(round(seconds)), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m{rest:02d}s" if hours else f"{minutes}m{rest:02d}s"


def clock(moment: datetime | None) -> str:
    return "-" if moment is None else moment.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")


def time_of_day(moment: datetime | None) -> str:
    return "-" if moment is None else moment.astimezone(timezone.utc).strftime("%H:%M:%S")


def status_text(status: str) -> Text:
    return Text(status, style=STATUS_STYLE.get(status, "bold"))


class ProgressView:
    """The live view of a run; re-rendered on every refresh so the elapsed time keeps moving."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.latest: Snapshot | None = None

    def update(self, latest: Snapshot) -> None:
        self.latest = latest

    def __rich__(self) -> RenderableType:
        latest = self.latest
        if latest is None:
            return Panel(f"starting {escape(self.name)} …", title="trapheus")
        step = current_step(latest.steps)
        done = sum(1 for s in latest.steps if s.outcome is not Outcome.RUNNING)
        grid = Table.grid(padding=(0, 2))
        grid.add_column(style="dim")
        grid.add_column()
        grid.add_row("execution", escape(latest.name))
        grid.add_row("status", status_text(latest.status))
        grid.add_row("current step", escape(step.name) if step else "-")
        grid.add_row("elapsed", duration(latest.seconds()))
        grid.add_row("steps done", str(done))
        recent = [
            Text(f"{OUTCOME_MARK[s.outcome]} {s.name}", style=OUTCOME_STYLE[s.outcome]) for s in latest.steps[-6:]
        ]
        return Panel(Group(grid, Text(""), *recent), title="trapheus restore", border_style="cyan")


class LineReporter:
    """For logs and pipes: one line when a step starts and one when it ends."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self._started = 0
        self._ended: set[int] = set()

    def update(self, latest: Snapshot) -> None:
        for index, step in enumerate(latest.steps):
            if index >= self._started:
                self.console.print(f"→ {escape(step.name)}", highlight=False)
                self._started = index + 1
            if step.outcome is not Outcome.RUNNING and index not in self._ended:
                self._ended.add(index)
                self.console.print(_step_line(step), highlight=False)


def _step_line(step: Step) -> Text:
    line = Text(f"{OUTCOME_MARK[step.outcome]} {step.name} ({step.outcome.value}, {duration(step.seconds)}", style=OUTCOME_STYLE[step.outcome])
    if step.retries:
        line.append(f", {step.retries} retries")
    if step.error:
        line.append(f", {step.error}")
    line.append(")")
    return line


def steps_table(steps: Iterable[Step], title: str = "steps") -> Table:
    table = Table(title=title, title_justify="left", caption="times in UTC", caption_justify="left")
    for column in ("#", "step", "type", "started", "ended", "duration", "outcome", "tries", "error"):
        table.add_column(
            column,
            justify="right" if column in ("#", "duration", "tries") else "left",
            min_width=24 if column == "step" else None,
            no_wrap=column not in ("step", "error"),
        )
    for number, step in enumerate(steps, start=1):
        table.add_row(
            str(number),
            escape(step.name),
            step.state_type,
            time_of_day(step.started),
            time_of_day(step.ended),
            duration(step.seconds),
            Text(step.outcome.value, style=OUTCOME_STYLE[step.outcome]),
            str(step.attempts) if step.attempts else "",
            escape(step.error or ""),
        )
    return table


def summary(latest: Snapshot) -> Table:
    table = Table.grid(padding=(0, 2))
    table.add_column(style="dim")
    table.add_column()
    table.add_row("execution", escape(latest.name))
    table.add_row("arn", escape(latest.arn))
    table.add_row("status", status_text(latest.status))
    table.add_row("started", clock(latest.started))
    table.add_row("stopped", clock(latest.stopped))
    table.add_row("duration", duration(latest.seconds()) if latest.stopped else "-")
    step = current_step(latest.steps)
    if step:
        table.add_row("current step", escape(step.name))
    if latest.error or latest.cause:
        table.add_row("error", Text(latest.error or "", style="bold red"))
        table.add_row("cause", escape(latest.cause or ""))
    return table


def executions_table(runs: Iterable[Snapshot]) -> Table:
    table = Table(title="executions", title_justify="left")
    for column in ("name", "status", "started", "stopped", "duration"):
        table.add_column(column, justify="right" if column == "duration" else "left")
    for run in runs:
        table.add_row(
            escape(run.name),
            status_text(run.status),
            clock(run.started),
            clock(run.stopped),
            duration(run.seconds()) if run.stopped else "-",
        )
    return table
