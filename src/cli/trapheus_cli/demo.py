"""``trapheus demo``: the restore workflow end to end on an emulated AWS account, no credentials needed.

The real template is deployed into the local emulator (moto in this process, the
real handlers, the real state machine) with failure alerts going to SES and to a
Slack webhook served on 127.0.0.1. Two sample databases with non-default settings,
an instance and an Aurora cluster, are snapshotted and restored, then a restore is
made to fail so the rollback and the alerts run. Runs are started and read through
the same code as ``trapheus restore`` and ``trapheus history``; every expectation is
checked, and the command exits non-zero when one does not hold.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from unittest import mock

import typer
from rich.console import Console, Group
from rich.markup import escape
from rich.padding import Padding
from rich.table import Table
from rich.text import Text

from trapheus import clients, databases
from trapheus.configuration import twin_differences
from trapheus.kinds import CLUSTER, INSTANCE, DatabaseKind
from trapheus.names import derive_names
from trapheus.snapshots import find_snapshot
from trapheus_cli import executions
from trapheus_cli.aws import Aws, Target
from trapheus_cli.locate import LOGICAL_ID
from trapheus_cli.steps import Outcome
from trapheus_cli.views import duration, status_text, steps_table, summary
from trapheus_local import speedups
from trapheus_local.samples import STACK_PARAMETERS

REGION = "us-east-1"
INSTANCE_ID = "orders-db"
CLUSTER_ID = "ledger"
SENDER = "trapheus@example.com"
RECIPIENT = "oncall@example.com"
LATENCY_POLLS = 1  # lenient only: every RDS operation shows its in-between status once, so the wait loops loop
# The emulator's clock is simulated: these are the workflow's own numbers, not real waiting. Under the
# strict RDS model every operation takes its modelled time (a rename ~10 minutes), which a 5-minute poll
# follows in a few looks.
POLL_SECONDS = 300
# Handlers log JSON lines to stdout; the demo's output is its own tables (or one JSON document).
HANDLER_LOG_LEVEL = "CRITICAL"
HANDLER_LOGGER = "trapheus"  # the Powertools service name every handler and domain module logs under
FAILED_STATUS = "failed"
ALERT_STATE = "Send the failure alerts"
FAILURE_RECORD_PREFIX = "Record the "


@dataclass
class Check:
    """One expectation and whether it held."""

    expectation: str
    ok: bool
    detail: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"expectation": self.expectation, "ok": self.ok, "detail": self.detail}


@dataclass
class Alerts:
    """What the failure alerts delivered: SES email subjects and Slack message texts."""

    emails: list[dict[str, Any]] = field(default_factory=list)
    slack: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"email": self.emails, "slack": self.slack}


@dataclass
class RunReport:
    """One execution of the restore workflow and what it was expected to do."""

    title: str
    request: dict[str, Any]
    execution: executions.Snapshot
    original: dict[str, Any]
    result: dict[str, Any] | None
    checks: list[Check] = field(default_factory=list)
    alerts: Alerts | None = None
    workflow_seconds: float = 0.0  # the time the run would take in AWS (the emulator's simulated clock)
    real_seconds: float = 0.0  # what it took here

    @property
    def ok(self) -> bool:
        return all(check.ok for check in self.checks)

    @property
    def rollback(self) -> dict[str, Any] | None:
        """For a failed run: the original before the run and after the rollback."""
        if self.execution.succeeded:
            return None
        return {
            "identifier": self.request["identifier"],
            "resourceIdBefore": self.original.get("resourceId"),
            "resourceIdAfter": (self.result or {}).get("resourceId"),
            "states": rollback_states(self.execution),
        }

    def to_dict(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "ok": self.ok,
            "request": self.request,
            "execution": self.execution.to_dict(),
            "checks": [check.to_dict() for check in self.checks],
            "configuration": {
                "original": self.original,
                "restored": self.result,
                "differences": twin_differences(self.original, self.result) if self.result else None,
            },
            "rollback": self.rollback,
            "alerts": self.alerts.to_dict() if self.alerts else None,
            "seconds": {"workflow": self.workflow_seconds, "real": self.real_seconds},
        }


@dataclass
class DemoReport:
    template: Path
    region: str
    runs: list[RunReport] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return bool(self.runs) and all(run.ok for run in self.runs)

    @property
    def failed_checks(self) -> list[str]:
        return [f"{run.title}: {check.expectation}" for run in self.runs for check in run.checks if not check.ok]

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "template": str(self.template),
            "region": self.region,
            "runs": [run.to_dict() for run in self.runs],
            "failedChecks": self.failed_checks,
        }


class SlackListener:
    """A Slack incoming-webhook stand-in on 127.0.0.1 that keeps every JSON payload posted to it."""

    def __init__(self) -> None:
        self.payloads: list[dict[str, Any]] = []
        received = self.payloads

        class Webhook(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - the http.server hook name
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                try:
                    received.append(json.loads(body or b"{}"))
                except ValueError:
                    received.append({"text": body.decode("utf-8", "replace")})
                self.send_response(200)
                self.send_header("Content-Type", "text/plain")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args: Any) -> None:  # keep the demo's output clean
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Webhook)
        self._thread = threading.Thread(target=self._server.serve_forever, name="slack-webhook", daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/services/demo"

    def __enter__(self) -> SlackListener:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self._server.shutdown()
        self._server.server_close()


@contextlib.contextmanager
def _demo_environment() -> Iterator[None]:
    """A fixed region, no profile and quiet handlers, whatever the caller's AWS configuration says."""
    with mock.patch.dict(os.environ, {"AWS_DEFAULT_REGION": REGION, "AWS_REGION": REGION}):
        for variable in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE"):
            os.environ.pop(variable, None)
        os.environ["POWERTOOLS_LOG_LEVEL"] = HANDLER_LOG_LEVEL
        handler_logger = logging.getLogger(HANDLER_LOGGER)
        previous_level = handler_logger.level
        # the logger exists already (imported above), so the environment variable alone comes too late
        handler_logger.setLevel(HANDLER_LOG_LEVEL)
        clients.reset()  # handlers cache their clients; none may outlive one emulator
        try:
            yield
        finally:
            clients.reset()
            handler_logger.setLevel(previous_level)


class Demo:
    """The deployed stack, the clients the CLI uses, and the alert sinks."""

    def __init__(self, emulator: Any, slack: SlackListener) -> None:
        self.emulator = emulator
        self.slack = slack
        self.rds = emulator.client("rds")
        # exactly what `trapheus restore/history` build, pointed at the emulator (moto intercepts it)
        self.aws = Aws(Target(region=emulator.region))
        self.deployment: Any = None
        self.machine = ""
        self.timings: dict[str, tuple[float, float]] = {}  # execution ARN -> (simulated, real) seconds

    def deploy(self, template: Path) -> None:
        from trapheus_local.engine import DEFAULT_STACK_NAME

        self.deployment = self.emulator.deploy(
            template,
            {
                "SenderEmail": SENDER,
                "RecipientEmails": RECIPIENT,
                "SlackWebhookUrls": self.slack.url,
                "PollIntervalSeconds": str(POLL_SECONDS),
                "LogLevel": "ERROR",
                **STACK_PARAMETERS,
            },
            stack_name=DEFAULT_STACK_NAME,
        )
        # the machine this deployment created (`trapheus restore` finds it from the stack or by name:
        # tests/unit/cli/test_locate_and_views.py); asking CloudFormation here would load its emulation
        self.machine = self.deployment.state_machine_arn(LOGICAL_ID)

    def create_samples(self) -> None:
        from trapheus_local import samples

        ec2 = self.emulator.client("ec2")
        with self.emulator.settled():  # databases that existed long before the demo's runs
            samples.make_instance(self.rds, ec2, INSTANCE_ID)
            samples.make_cluster(self.rds, ec2, CLUSTER_ID)

    def run(self, request: dict[str, Any]) -> tuple[executions.Snapshot, dict[str, Any]]:
        """Start a run as `trapheus restore` does, wait for it, read it back as `trapheus history` does (from the
        history the emulator hands over as the run ends: the same events, without a round trip through JSON)."""
        name = executions.execution_name(request["identifier"], request["task"])
        simulated_start, real_start = self.emulator.clock.elapsed, time.perf_counter()
        arn = executions.start(self.aws.stepfunctions, self.machine, request, name)
        ended = self.deployment.wait(arn, virtual_start=simulated_start)  # no polling of the API
        self.timings[arn] = (ended.virtual_seconds, time.perf_counter() - real_start)
        described = self.aws.stepfunctions.describe_execution(executionArn=arn)
        output = json.loads(described["output"]) if described.get("output") else {}
        return executions.snapshot(self.aws.stepfunctions, arn, events=ended.events), output

    def capture(self, kind: DatabaseKind, identifier: str) -> dict[str, Any] | None:
        if databases.find(kind, identifier, self.rds) is None:
            return None
        return databases.capture(kind, identifier, self.rds)

    def snapshot_status(self, kind: DatabaseKind, snapshot_id: str) -> str | None:
        found = find_snapshot(kind, snapshot_id, self.rds)
        return str(found.get("Status")) if found else None

    def leftovers(self, identifier: str) -> list[str]:
        """Instances named after ``identifier`` other than itself: copies a run left behind."""
        pages = self.rds.get_paginator("describe_db_instances").paginate()
        found = [i["DBInstanceIdentifier"] for page in pages for i in page["DBInstances"]]
        return sorted(name for name in found if name.startswith(f"{identifier}-"))

    def email_alerts(self) -> list[dict[str, Any]]:
        from moto.ses.models import ses_backends

        from trapheus_local.resources import ACCOUNT_ID

        return [
            {"subject": message.subject, "from": message.source, "to": list(message.destinations.get("ToAddresses", []))}
            for message in ses_backends[ACCOUNT_ID][self.emulator.region].sent_messages
            if getattr(message, "subject", None)
        ]


def rollback_states(execution: executions.Snapshot) -> list[str]:
    """The tasks and passes from the recorded failure to the alerts: what the rollback did."""
    states: list[str] = []
    failed = False
    for step in execution.steps:
        if step.name == ALERT_STATE:
            break
        # the workflow records a failure in a "Record the ..." Pass, whether a Catch or a Choice got there
        failed = failed or step.name.startswith(FAILURE_RECORD_PREFIX)
        if failed and step.state_type in ("Task", "Pass") and step.name not in states:
            states.append(step.name)
        failed = failed or step.outcome is Outcome.CAUGHT
    return states


def _looped(execution: executions.Snapshot) -> bool:
    """True when some status check ran more than once: the Wait -> Check -> Choice loops were exercised."""
    checks = [step.name for step in execution.steps if step.name.startswith("Check ")]
    return any(checks.count(name) > 1 for name in set(checks))


def _outcome(execution: executions.Snapshot) -> str:
    if execution.succeeded:
        return "succeeded"
    return f"ended {execution.status}: {execution.error}: {execution.cause}"


def snapshot_and_restore(demo: Demo, kind: DatabaseKind) -> RunReport:
    """``create_snapshot``: a fresh snapshot, then the database restored from it under its own name."""
    identifier = CLUSTER_ID if kind is CLUSTER else INSTANCE_ID
    request = {"identifier": identifier, "task": "create_snapshot", "isCluster": kind is CLUSTER}
    original = demo.capture(kind, identifier) or {}
    execution, output = demo.run(request)
    names = output.get("names", {})
    restored = demo.capture(kind, identifier)
    differences = twin_differences(original, restored) if restored else ["the database is missing"]
    final_snapshot = names.get("finalSnapshot")
    report = RunReport(f"{kind.label} {identifier}: snapshot and restore", request, execution, original, restored)
    report.checks = [
        Check("the run succeeded", execution.succeeded, _outcome(execution)),
        Check("the wait loops polled RDS more than once", _looped(execution)),
        Check(
            f"snapshot {identifier}-snapshot is available",
            demo.snapshot_status(kind, f"{identifier}-snapshot") == "available",
        ),
        Check(
            f"{identifier} is a new database under the original identifier",
            restored is not None and restored.get("resourceId") != original.get("resourceId"),
            f"resource id {original.get('resourceId')} -> {(restored or {}).get('resourceId')}",
        ),
        Check("every captured setting was carried over", not differences, "; ".join(differences)),
        Check(
            "the original was retired with a final snapshot",
            bool(final_snapshot) and demo.snapshot_status(kind, str(final_snapshot)) == "available",
            str(final_snapshot),
        ),
        Check(
            "no renamed copy is left behind",
            bool(names.get("aside")) and demo.capture(kind, str(names.get("aside"))) is None,
            str(names.get("aside")),
        ),
    ]
    return report


def failing_restore(demo: Demo) -> RunReport:
    """``db_restore`` whose restored instance comes up ``failed``: the original must come back, alerts must go out."""
    identifier = INSTANCE_ID
    request = {"identifier": identifier, "task": "db_restore", "isCluster": False}
    original = demo.capture(INSTANCE, identifier) or {}
    emails_before = len(demo.email_alerts())
    slack_before = len(demo.slack.payloads)
    # the restored copy is created under the staged name (swap) or the original's (in-place): fail either
    staged = derive_names(identifier, f"{identifier}-snapshot", run_id="demo").staged
    for restored_as in (staged, identifier):
        demo.emulator.latency.end_status("RestoreDBInstanceFromDBSnapshot", restored_as, FAILED_STATUS)
    execution, _ = demo.run(request)
    back = demo.capture(INSTANCE, identifier)
    differences = twin_differences(original, back) if back else ["the original is missing"]
    alerts = Alerts(
        emails=demo.email_alerts()[emails_before:],
        slack=[{"text": payload.get("text", "")} for payload in demo.slack.payloads[slack_before:]],
    )
    report = RunReport(f"{INSTANCE.label} {identifier}: failing restore", request, execution, original, back, alerts=alerts)
    report.checks = [
        Check("the run ended FAILED", execution.status == "FAILED", _outcome(execution)),
        Check("the rollback ran", bool(rollback_states(execution))),
        Check("no partial restore is left behind", not demo.leftovers(identifier), ", ".join(demo.leftovers(identifier))),
        Check(
            f"the original {identifier} is back, same resource id",
            back is not None and back.get("resourceId") == original.get("resourceId"),
            f"resource id {original.get('resourceId')} -> {(back or {}).get('resourceId')}",
        ),
        Check("its configuration is unchanged", not differences, "; ".join(differences)),
        Check(
            f"an email alert went to {RECIPIENT}",
            any(identifier in mail["subject"] and RECIPIENT in mail["to"] for mail in alerts.emails),
            "; ".join(mail["subject"] for mail in alerts.emails),
        ),
        Check(
            "a Slack alert reached the webhook",
            any(identifier in message["text"] for message in alerts.slack),
            "; ".join(message["text"] for message in alerts.slack),
        ),
    ]
    return report


def run_demo(template: Path | None = None, *, latency_polls: int = LATENCY_POLLS, lenient: bool = False) -> DemoReport:
    """Deploy, create the samples, run the three scenarios; the report says what held.

    The strict RDS model is on unless ``lenient`` (debugging only: moto's own leniency and ``latency_polls``).
    """
    from trapheus_local import bundle
    from trapheus_local.engine import Emulator
    from trapheus_local.latency import LatencyModel

    template = template or bundle.stack_template()
    report = DemoReport(template=template, region=REGION)
    emulator_context = Emulator(latency=LatencyModel(), region=REGION, strict=not lenient)
    with _demo_environment(), SlackListener() as slack, emulator_context as emulator:
        demo = Demo(emulator, slack)
        demo.deploy(template)
        demo.create_samples()  # created at once; only the workflow's own operations take polls
        emulator.latency.polls = latency_polls
        report.runs.append(snapshot_and_restore(demo, INSTANCE))
        report.runs.append(snapshot_and_restore(demo, CLUSTER))
        report.runs.append(failing_restore(demo))
        for run in report.runs:
            run.workflow_seconds, run.real_seconds = demo.timings.get(run.execution.arn, (0.0, 0.0))
    return report


# -- what the command prints ---------------------------------------------------------------------


def _shown(value: Any) -> str:
    if isinstance(value, list) and value and all(isinstance(item, dict) and "Key" in item for item in value):
        return ", ".join(f"{item['Key']}={item.get('Value', '')}" for item in value)
    if isinstance(value, list):
        return ", ".join(_shown(item) for item in value)
    if isinstance(value, dict):
        return json.dumps(value, sort_keys=True, default=str)
    return str(value)


def _flatten(configuration: dict[str, Any] | None) -> dict[str, Any]:
    """A captured configuration as one row per setting (cluster members' settings prefixed with the member)."""
    if not configuration:
        return {}
    rows: dict[str, Any] = dict(configuration.get("settings", {}))
    if configuration.get("tags"):
        rows["Tags"] = configuration["tags"]
    if configuration.get("roles"):
        rows["AssociatedRoles"] = configuration["roles"]
    for member in configuration.get("members", []):
        prefix = f"member {member['identifier']}"
        rows[f"{prefix} writer"] = member["writer"]
        rows.update({f"{prefix} {name}": value for name, value in member["settings"].items()})
        if member.get("tags"):
            rows[f"{prefix} Tags"] = member["tags"]
    return rows


def configuration_table(run: RunReport) -> Table:
    after = "restored" if run.execution.succeeded else "after the rollback"
    table = Table(title=f"configuration: original vs {after}", title_justify="left")
    for column in ("setting", "original", after, "same"):
        table.add_column(column, overflow="fold")
    original, result = _flatten(run.original), _flatten(run.result)
    for name in list(original) + [name for name in result if name not in original]:
        same = original.get(name) == result.get(name)
        table.add_row(
            escape(name),
            escape(_shown(original.get(name, "-"))),
            escape(_shown(result.get(name, "-"))),
            Text("✓", style="green") if same else Text("✗", style="bold red"),
        )
    return table


def _checks_lines(run: RunReport) -> Group:
    lines = []
    for check in run.checks:
        line = Text(f"{'✓' if check.ok else '✗'} {check.expectation}", style="green" if check.ok else "bold red")
        if check.detail and not check.ok:
            line.append(f" ({check.detail})", style="red")
        lines.append(line)
    return Group(*lines)


def _rollback_and_alerts(run: RunReport) -> Table:
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="dim")
    grid.add_column()
    rollback = run.rollback or {}
    grid.add_row("rollback", escape(" → ".join(rollback.get("states", [])) or "-"))
    grid.add_row(
        "original",
        escape(f"{rollback.get('identifier')}: resource id {rollback.get('resourceIdBefore')} "
               f"before, {rollback.get('resourceIdAfter')} after"),
    )
    alerts = run.alerts or Alerts()
    for mail in alerts.emails:
        grid.add_row("email (SES)", escape(f"{mail['subject']}  →  {', '.join(mail['to'])}"))
    for message in alerts.slack:
        grid.add_row("Slack", escape(message["text"]))
    if not alerts.emails and not alerts.slack:
        grid.add_row("alerts", "none received")
    return grid


def _restored_line(run: RunReport) -> str:
    """What the run left under the identifier, in one sentence."""
    identifier = run.request["identifier"]
    original, result = run.original, run.result or {}
    differences = twin_differences(original, run.result) if run.result else ["the database is missing"]
    settings = f"{len(_flatten(original)) - len(differences)} of {len(_flatten(original))} settings as before"
    before, after = original.get("resourceId"), result.get("resourceId")
    if run.execution.succeeded:
        source = "a fresh snapshot" if run.request["task"] == "create_snapshot" else "the snapshot"
        return f"{identifier} from {source} {identifier}-snapshot: a new database ({before} → {after}), {settings}"
    back = "the same database" if before == after else f"a different database ({before} → {after})"
    return f"nothing kept: the rollback put back {identifier} as {back}, {settings}"


def _alerts_line(run: RunReport) -> str | None:
    if run.alerts is None:
        return None
    emails = ", ".join(to for mail in run.alerts.emails for to in mail["to"]) or "none"
    slack = len(run.alerts.slack)
    return f"email to {emails}; {slack} Slack message{'' if slack == 1 else 's'}"


def _result_line(run: RunReport) -> Text:
    execution = run.execution
    line = status_text(execution.status)
    if execution.error:
        line.append(f" ({execution.error})", style="red")
    line.append(
        f" in {len(execution.steps)} steps: {duration(run.workflow_seconds)} in AWS (simulated waits), "
        f"{run.real_seconds:.1f}s here"
    )
    return line


def print_account(run: RunReport, console: Console) -> None:
    """One scenario in a few lines: the request, the result and how long, what was restored, what was checked."""
    mark = Text("✓ ", style="bold green") if run.ok else Text("✗ ", style="bold red")
    console.print(mark + Text(run.title, style="bold"))
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="dim")
    grid.add_column()
    grid.add_row("request", escape(json.dumps(run.request)))
    grid.add_row("result", _result_line(run))
    grid.add_row("restored", escape(_restored_line(run)))
    if run.rollback is not None:
        grid.add_row("rollback", escape(" → ".join(run.rollback["states"]) or "-"))
    alerts = _alerts_line(run)
    if alerts:
        grid.add_row("alerts", escape(alerts))
    grid.add_row("checked", _checks_lines(run))
    console.print(Padding(grid, (0, 0, 0, 2)))


def print_steps(run: RunReport, console: Console) -> None:
    """One scenario in full: every step, every captured setting, the rollback and alerts, the checks."""
    console.rule(f"[bold]{escape(run.title)}")
    console.print(f"[dim]input[/] {escape(json.dumps(run.request))}", highlight=False)
    console.print(steps_table(run.execution.steps, title=f"steps of {run.execution.name} ({run.execution.status})"))
    console.print(summary(run.execution))
    console.print(configuration_table(run))
    if run.rollback is not None:
        console.print(_rollback_and_alerts(run))
    console.print(_checks_lines(run))


def print_report(report: DemoReport, console: Console, *, steps: bool = False) -> None:
    console.print(f"[dim]template[/] {escape(str(report.template))}   [dim]region[/] {report.region}", highlight=False)
    for run in report.runs:
        if steps:
            print_steps(run, console)
        else:
            console.print()
            print_account(run, console)
    console.print()
    checks = sum(len(run.checks) for run in report.runs)
    if report.ok:
        console.print(f"[bold green]demo passed[/]: {len(report.runs)} runs, all {checks} expectations held")
    else:
        console.print(f"[bold red]demo failed[/]: {len(report.failed_checks)} of {checks} expectations did not hold:")
        for failed in report.failed_checks:
            console.print(f"  ✗ {escape(failed)}", highlight=False)
    if not steps:
        console.print("[dim]trapheus demo --steps shows every step and setting of each run[/]")


def main(
    *,
    json_output: bool = False,
    steps: bool = False,
    template: Path | None = None,
    latency_polls: int = LATENCY_POLLS,
    lenient: bool = False,
) -> int:
    """Run the demo and print it; 0 when every expectation held, 1 when one did not, 2 when it could not run."""
    speedups.collect_garbage_less_often()  # the process ends with the demo
    try:
        report = run_demo(template, latency_polls=latency_polls, lenient=lenient)
    except Exception as error:  # the demo is a smoke test: any failure to run it is one message and an exit code
        message = f"the demo could not run: {type(error).__name__}: {error}"
        if json_output:
            typer.echo(json.dumps({"ok": False, "error": message}))
        else:
            Console(stderr=True).print(f"[bold red]error:[/] {escape(message)}", highlight=False)
        return 2
    if json_output:
        typer.echo(json.dumps(report.to_dict(), indent=2, default=str))
    else:
        print_report(report, Console(), steps=steps)
    return 0 if report.ok else 1
