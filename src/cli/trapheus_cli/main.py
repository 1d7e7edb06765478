"""``trapheus``: start and follow restore runs, read their history, draw the workflows.

Every command that talks to AWS takes --endpoint-url, --region and --profile and
builds one boto3 session from them, so real AWS and an emulated endpoint (such as
``trapheus local serve``) take the same code path. --json prints one JSON document
for scripts instead of tables.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any, Optional

import typer
from botocore.exceptions import BotoCoreError, ClientError
from rich.console import Console
from rich.live import Live
from rich.table import Table

from trapheus.alerts import execution_console_url
from trapheus.errors import InvalidInputError
from trapheus.inputs import LATEST, Strategy, Task, parse_request
from trapheus.recovery import parse as parse_recovery
from trapheus_cli import diagrams, executions, graphviz, plan, reports, schedules
from trapheus_cli.asl import parse_workflow
from trapheus_cli.aws import Aws, Target
from trapheus_cli.errors import CliError
from trapheus_cli.locate import DEFAULT_STACK, RECOVER, find_state_machine
from trapheus_cli.mermaid import to_mermaid
from trapheus_cli.steps import failed_states, visited_states
from trapheus_cli.views import LineReporter, ProgressView, executions_table, steps_table, summary

app = typer.Typer(
    name="trapheus",
    help="Restore Amazon RDS instances and Aurora clusters from snapshots under their original identifier.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
local_app = typer.Typer(help="Run trapheus against an emulated AWS on this machine.", no_args_is_help=True)
app.add_typer(local_app, name="local")
schedule_app = typer.Typer(
    help="Schedules of a stack's workflows: any number per workflow, each with its own input.", no_args_is_help=True
)
app.add_typer(schedule_app, name="schedule")

JsonOption = Annotated[bool, typer.Option("--json", help="Print one JSON document instead of tables.")]
EndpointOption = Annotated[
    Optional[str], typer.Option("--endpoint-url", help="Talk to this endpoint instead of AWS (e.g. local serve).")
]
RegionOption = Annotated[Optional[str], typer.Option("--region", help="AWS region (default: your configuration).")]
ProfileOption = Annotated[Optional[str], typer.Option("--profile", help="AWS named profile.")]
StackOption = Annotated[
    str, typer.Option("--stack-name", help="CloudFormation stack that holds the restore state machine.")
]
MachineOption = Annotated[
    Optional[str], typer.Option("--state-machine-arn", help="Use this state machine instead of finding it.")
]
ExecutionArgument = Annotated[str, typer.Argument(help="Execution ARN, or execution name.")]
IdentifierArgument = Annotated[str, typer.Argument(help="The DB instance or Aurora cluster identifier.")]
ClusterOption = Annotated[bool, typer.Option("--cluster", help="IDENTIFIER is an Aurora cluster.")]
SnapshotOption = Annotated[
    Optional[str], typer.Option("--snapshot", help="Snapshot identifier (default: IDENTIFIER-snapshot).")
]
PollOption = Annotated[float, typer.Option("--poll-seconds", min=0, help="Seconds between two looks at the run.")]
ToOption = Annotated[
    Optional[str],
    typer.Option("--to", help='Restore to this point in time: ISO-8601 with its zone (2026-11-29T10:42:00Z) or "latest".'),
]
VerifyOption = Annotated[
    Optional[str],
    typer.Option("--verify", help="ARN of your Lambda function that checks the copy first (listed in VerifyFunctionArns)."),
]
FollowOption = Annotated[bool, typer.Option("--follow/--no-follow", help="Follow the run until it ends.")]
LenientOption = Annotated[
    bool,
    typer.Option("--lenient", help="Turn the strict RDS model off (moto as it is): for debugging only, proves nothing."),
]


@contextlib.contextmanager
def _explained(json_output: bool) -> Iterator[None]:
    """Turn the failures an operator can act on into one line and an exit code, not a traceback."""
    try:
        yield
    except CliError as error:
        _fail(str(error), error.exit_code, json_output)
    except ClientError as error:
        details = error.response.get("Error", {})
        _fail(f"{details.get('Code', 'Error')}: {details.get('Message', error)}", 2, json_output)
    except BotoCoreError as error:
        _fail(str(error), 2, json_output)


def _fail(message: str, exit_code: int, json_output: bool) -> None:
    if json_output:
        typer.echo(json.dumps({"error": message}))
    else:
        Console(stderr=True).print(f"[bold red]error:[/] {message}", highlight=False)
    raise typer.Exit(exit_code)


def _machine(aws: Aws, stack_name: str, arn: str | None) -> str:
    return find_state_machine(aws.stepfunctions, aws.cloudformation, stack_name=stack_name, arn=arn)


def _print_json(document: Any) -> None:
    typer.echo(json.dumps(document, indent=2, default=str))


def _request(
    identifier: str, task: Task, cluster: bool, snapshot: str | None, *, to: str | None = None, verify: str | None = None,
    strategy: Strategy | None = None,
) -> dict[str, Any]:
    """The console-compatible input, checked here too for a friendlier error (the workflow checks again).

    ``to`` makes it a restore to that point in time (a plan of one, for task plan)."""
    payload: dict[str, Any] = {"identifier": identifier, "task": task.value, "isCluster": cluster}
    if to is not None:
        if task is not Task.PLAN:
            payload["task"] = Task.POINT_IN_TIME_RESTORE.value
        payload["restoreTime"] = to
    if snapshot:
        payload["snapshotIdentifier"] = snapshot
    if strategy is not None:
        payload["strategy"] = strategy.value
    if verify:
        payload["verify"] = {"functionArn": verify}
    try:
        parse_request({**payload, "task": Task.POINT_IN_TIME_RESTORE.value} if to and task is Task.PLAN else payload,
                      export_default=False)
    except InvalidInputError as error:
        raise CliError(f"invalid request: {error}") from error
    return payload


def _start_and_follow(
    aws: Aws, machine: str, payload: dict[str, Any], name: str, *, follow: bool, poll_seconds: float, json_output: bool,
    with_report: bool = False,
) -> None:
    """Start a run; unless told not to, follow it and print its steps; exit 1 if it does not succeed.

    ``with_report``: then print the run's report (the ``report`` of its output) too."""
    arn = executions.start(aws.stepfunctions, machine, payload, name)
    if not follow:
        if json_output:
            _print_json({"executionArn": arn, "consoleUrl": execution_console_url(arn), "name": name,
                         "stateMachineArn": machine, "input": payload})  # fmt: skip
        else:
            Console().print(f"started [bold]{name}[/]\n{arn}", highlight=False)
        return
    final = _follow(aws, arn, name, poll_seconds, json_output)
    document = reports.report_of(aws.stepfunctions, arn)[1] if with_report else None
    if json_output:
        _print_json({**final.to_dict(), **({"report": document} if with_report else {})})
    else:
        console = Console()
        console.print(steps_table(final.steps))
        console.print(summary(final))
        if document is not None:
            console.print(reports.render(document, f"{name} ({final.status})"))
    if not final.succeeded:
        raise typer.Exit(1)


@app.command()
def restore(
    identifier: IdentifierArgument,
    cluster: ClusterOption = False,
    task: Annotated[Task, typer.Option("--task", help="What to do.", case_sensitive=False)] = Task.DB_RESTORE,
    snapshot: SnapshotOption = None,
    strategy: Annotated[
        Optional[Strategy],
        typer.Option("--strategy", help="swap, in-place or backtrack (default: the deployment's).", case_sensitive=False),
    ] = None,
    to: ToOption = None,
    verify: VerifyOption = None,
    follow: FollowOption = True,
    poll_seconds: PollOption = 5.0,
    stack_name: StackOption = DEFAULT_STACK,
    state_machine_arn: MachineOption = None,
    json_output: JsonOption = False,
    endpoint_url: EndpointOption = None,
    region: RegionOption = None,
    profile: ProfileOption = None,
) -> None:
    """Start a run of the restore workflow (--to: to a point in time) and follow it; exit 1 if it does not succeed."""
    with _explained(json_output):
        payload = _request(identifier, task, cluster, snapshot, to=to, verify=verify, strategy=strategy)
        aws = Aws(Target(endpoint_url, region, profile))
        machine = _machine(aws, stack_name, state_machine_arn)
        name = executions.execution_name(identifier, payload["task"])
        _start_and_follow(aws, machine, payload, name, follow=follow, poll_seconds=poll_seconds, json_output=json_output)


@app.command()
def recover(
    databases: Annotated[Optional[list[str]], typer.Argument(help="DB instance identifiers.")] = None,
    to: Annotated[str, typer.Option("--to", help='The one point in time for all: ISO-8601 with its zone, or "latest".')] = LATEST,
    clusters: Annotated[
        Optional[list[str]], typer.Option("--cluster", help="An Aurora cluster identifier (repeatable).")
    ] = None,
    max_concurrency: Annotated[
        int, typer.Option("--max-concurrency", min=1, help="Copies staged (and originals retired) at once.")
    ] = 4,
    verify: VerifyOption = None,
    follow: FollowOption = True,
    poll_seconds: PollOption = 5.0,
    stack_name: StackOption = DEFAULT_STACK,
    state_machine_arn: MachineOption = None,
    json_output: JsonOption = False,
    endpoint_url: EndpointOption = None,
    region: RegionOption = None,
    profile: ProfileOption = None,
) -> None:
    """Bring several databases back to one point in time under their identifiers (every copy staged and verified
    first, then the swaps one by one); exit 1 if the run does not succeed."""
    with _explained(json_output):
        entries = [{"identifier": i, "isCluster": False} for i in databases or []]
        entries += [{"identifier": i, "isCluster": True} for i in clusters or []]
        payload: dict[str, Any] = {"databases": entries, "restoreTime": to, "maxConcurrency": max_concurrency}
        if verify:
            payload["verify"] = {"functionArn": verify}
        try:
            parse_recovery(payload)
        except InvalidInputError as error:
            raise CliError(f"invalid request: {error}") from error
        aws = Aws(Target(endpoint_url, region, profile))
        machine = find_state_machine(aws.stepfunctions, aws.cloudformation, stack_name=stack_name, arn=state_machine_arn,
                                     workflow=RECOVER)  # fmt: skip
        name = executions.execution_name("-".join(e["identifier"] for e in entries), "recover")
        _start_and_follow(aws, machine, payload, name, follow=follow, poll_seconds=poll_seconds, json_output=json_output)


def _json_input(text: str, option: str) -> Any:
    """An option's JSON, given inline or as @file."""
    raw = Path(text[1:]).read_text() if text.startswith("@") else text
    try:
        return json.loads(raw)
    except ValueError as error:
        raise CliError(f"{option} is not JSON: {error}") from error


def _plan_copy(aws: Aws, stack_name: str, state_machine_arn: str | None, document: Any, poll_seconds: float, json_output: bool) -> None:
    """A copy workflow run's plan (the same as `trapheus copy <action> --plan`)."""
    from trapheus_cli import copies
    from trapheus_cli.locate import COPY

    machine = find_state_machine(aws.stepfunctions, aws.cloudformation, stack_name=stack_name, arn=state_machine_arn, workflow=COPY)
    lifecycle = document.get("lifecycle") if isinstance(document, dict) else None
    name = executions.execution_name(str(lifecycle or "copy"), "plan")
    report = plan.run_copy(aws.stepfunctions, machine, copies.plan_input(document), name, poll_seconds=poll_seconds)
    if json_output:
        _print_json({"plan": report})
    else:
        Console().print(plan.render_copy(report))
    if report.get("blockers"):
        raise typer.Exit(1)


@app.command("plan")
def plan_command(
    identifier: Annotated[Optional[str], typer.Argument(help="The DB instance or Aurora cluster identifier (a restore).")] = None,
    copy: Annotated[
        Optional[str], typer.Option("--copy", help="Plan a run of the copy workflow instead: its JSON input, or @file.")
    ] = None,
    cluster: ClusterOption = False,
    strategy: Annotated[
        Strategy, typer.Option("--strategy", help="How the restored copy would take over.", case_sensitive=False)
    ] = Strategy.SWAP,
    snapshot: SnapshotOption = None,
    to: ToOption = None,
    verify: VerifyOption = None,
    poll_seconds: PollOption = 2.0,
    stack_name: StackOption = DEFAULT_STACK,
    state_machine_arn: MachineOption = None,
    json_output: JsonOption = False,
    endpoint_url: EndpointOption = None,
    region: RegionOption = None,
    profile: ProfileOption = None,
) -> None:
    """Show what a restore (or, with --copy, a copy run) would do and what stands in its way, changing nothing;
    exit 1 if something blocks it.

    With --to: the restorable window, the time chosen and whether a backtrack would do."""
    with _explained(json_output):
        if (identifier is None) == (copy is None):
            raise CliError("give the IDENTIFIER of a database to restore, or --copy with a copy workflow input")
        aws = Aws(Target(endpoint_url, region, profile))
        if copy is not None:
            _plan_copy(aws, stack_name, state_machine_arn, _json_input(copy, "--copy"), poll_seconds, json_output)
            return
        payload = _request(str(identifier), Task.PLAN, cluster, snapshot, to=to, verify=verify, strategy=strategy)
        machine = _machine(aws, stack_name, state_machine_arn)
        report = plan.run(aws.stepfunctions, machine, payload, poll_seconds=poll_seconds)
        if json_output:
            _print_json(report)
        else:
            Console().print(plan.render(report))
        if not report.get("ready"):
            raise typer.Exit(1)


def _follow(aws: Aws, arn: str, name: str, poll_seconds: float, json_output: bool) -> executions.Snapshot:
    if json_output:
        return executions.follow(aws.stepfunctions, arn, poll_seconds=poll_seconds, on_update=lambda _: None)
    console = Console()
    if not console.is_terminal:
        reporter = LineReporter(console)
        return executions.follow(aws.stepfunctions, arn, poll_seconds=poll_seconds, on_update=reporter.update)
    view = ProgressView(name)
    with Live(view, console=console, refresh_per_second=4, transient=True):
        return executions.follow(aws.stepfunctions, arn, poll_seconds=poll_seconds, on_update=view.update)


@app.command()
def status(
    execution: ExecutionArgument,
    follow: Annotated[
        bool, typer.Option("--follow", help="Follow the run until it ends; exit 1 unless it succeeded.")
    ] = False,
    poll_seconds: PollOption = 5.0,
    stack_name: StackOption = DEFAULT_STACK,
    state_machine_arn: MachineOption = None,
    json_output: JsonOption = False,
    endpoint_url: EndpointOption = None,
    region: RegionOption = None,
    profile: ProfileOption = None,
) -> None:
    """Show where a run is: status, current step, error; with --follow, wait for its end (as restore does)."""
    with _explained(json_output):
        aws, latest = _look_up(execution, stack_name, state_machine_arn, Target(endpoint_url, region, profile))
        if follow:
            latest = _follow(aws, latest.arn, latest.name, poll_seconds, json_output)
        if json_output:
            _print_json(latest.to_dict())
        else:
            Console().print(summary(latest))
        if follow and not latest.succeeded:
            raise typer.Exit(1)


@app.command()
def history(
    execution: ExecutionArgument,
    graph: Annotated[
        bool, typer.Option("--graph", help="Print the workflow as Mermaid with the states this run entered marked.")
    ] = False,
    stack_name: StackOption = DEFAULT_STACK,
    state_machine_arn: MachineOption = None,
    json_output: JsonOption = False,
    endpoint_url: EndpointOption = None,
    region: RegionOption = None,
    profile: ProfileOption = None,
) -> None:
    """List the steps of a run with their start, end, duration and outcome."""
    with _explained(json_output):
        aws, latest = _look_up(execution, stack_name, state_machine_arn, Target(endpoint_url, region, profile))
        arn = latest.arn
        if graph:
            workflow = parse_workflow(executions.definition_of(aws.stepfunctions, arn))
            text = to_mermaid(workflow, visited=visited_states(latest.steps), failed=failed_states(latest.steps))
            if json_output:
                _print_json({"executionArn": arn, "mermaid": text})
            else:
                typer.echo(text, nl=False)
            return
        if json_output:
            _print_json(latest.to_dict())
        else:
            Console().print(steps_table(latest.steps, title=f"steps of {latest.name} ({latest.status})"))


@app.command("list")
def list_executions(
    limit: Annotated[int, typer.Option("--limit", min=1, help="How many runs to show.")] = 20,
    status_filter: Annotated[
        Optional[str], typer.Option("--status", help="Only runs in this status (RUNNING, SUCCEEDED, FAILED, ...).")
    ] = None,
    stack_name: StackOption = DEFAULT_STACK,
    state_machine_arn: MachineOption = None,
    json_output: JsonOption = False,
    endpoint_url: EndpointOption = None,
    region: RegionOption = None,
    profile: ProfileOption = None,
) -> None:
    """List recent runs of the restore workflow."""
    with _explained(json_output):
        aws = Aws(Target(endpoint_url, region, profile))
        machine = _machine(aws, stack_name, state_machine_arn)
        runs = executions.recent(
            aws.stepfunctions, machine, limit=limit, status=status_filter.upper() if status_filter else None
        )
        if json_output:
            _print_json({"stateMachineArn": machine, "executions": [run.to_dict() for run in runs]})
        else:
            Console().print(executions_table(runs))


@app.command("report")
def report_command(
    execution: ExecutionArgument,
    stack_name: StackOption = DEFAULT_STACK,
    state_machine_arn: MachineOption = None,
    json_output: JsonOption = False,
    endpoint_url: EndpointOption = None,
    region: RegionOption = None,
    profile: ProfileOption = None,
) -> None:
    """Show the report of a run of any workflow (backup, DR copy, ...): one row per item, then the summary.

    A run that failed has no output; its report is read from the step that made it. Exit 1 when it has none.
    """
    with _explained(json_output):
        aws = Aws(Target(endpoint_url, region, profile))
        arn = execution if execution.startswith("arn:") else executions.execution_arn(
            execution, _machine(aws, stack_name, state_machine_arn)
        )
        status, document = reports.report_of(aws.stepfunctions, arn)
        if document is None:
            raise CliError(f"the run {arn.split(':')[-1]} ({status}) has no report (yet)")
        if json_output:
            _print_json({"executionArn": arn, "status": status, "report": document})
        else:
            Console().print(reports.render(document, f"{arn.split(':')[-1]} ({status})"))


WorkflowArgument = Annotated[str, typer.Argument(help="The workflow the schedule starts: restore, backup, table-backup or copy.")]
ScheduleNameArgument = Annotated[str, typer.Argument(help="The schedule's name (unique in the stack's group).")]
GroupOption = Annotated[Optional[str], typer.Option("--group", help="Schedule group (default: the stack's).")]


def _schedule_place(aws: Aws, stack_name: str, group: str | None, role_arn: str | None = None,
                    state_machine_arn: str | None = None, workflow: str | None = None) -> schedules.Place:
    return schedules.locate(aws, stack_name, group=group, role_arn=role_arn, machine_arn=state_machine_arn, workflow=workflow)


@schedule_app.command("add")
def schedule_add(
    workflow: WorkflowArgument,
    name: ScheduleNameArgument,
    expression: Annotated[str, typer.Option("--expression", help='e.g. "rate(1 hour)" or "cron(0 3 * * ? *)".')],
    input_json: Annotated[str, typer.Option("--input", help="The run's input: JSON, or @file.json.")],
    timezone: Annotated[Optional[str], typer.Option("--timezone", help="Time zone of a cron expression.")] = None,
    role_arn: Annotated[Optional[str], typer.Option("--role-arn", help="Role the schedule starts runs with.")] = None,
    group: GroupOption = None,
    stack_name: StackOption = DEFAULT_STACK,
    state_machine_arn: MachineOption = None,
    json_output: JsonOption = False,
    endpoint_url: EndpointOption = None,
    region: RegionOption = None,
    profile: ProfileOption = None,
) -> None:
    """Add a schedule that starts WORKFLOW with its own input; the input is checked first."""
    with _explained(json_output):
        aws = Aws(Target(endpoint_url, region, profile))
        payload = _json_input(input_json, "--input")
        schedules.check_input(workflow, payload, aws.session.region_name or "us-east-1")
        place = _schedule_place(aws, stack_name, group, role_arn, state_machine_arn, workflow)
        arn = schedules.add(aws.client("scheduler"), place, workflow, name, expression, payload, timezone)
        if json_output:
            _print_json({"scheduleArn": arn, "group": place.group, "workflow": workflow})
        else:
            Console().print(f"schedule {name} added to group {place.group}: {expression} starts {workflow}")


@schedule_app.command("list")
def schedule_list(
    group: GroupOption = None,
    stack_name: StackOption = DEFAULT_STACK,
    json_output: JsonOption = False,
    endpoint_url: EndpointOption = None,
    region: RegionOption = None,
    profile: ProfileOption = None,
) -> None:
    """List the schedules of the stack's group."""
    with _explained(json_output):
        aws = Aws(Target(endpoint_url, region, profile))
        found = schedules.listed(aws.client("scheduler"), group or stack_name)
        if json_output:
            _print_json({"group": group or stack_name, "schedules": found})
            return
        table = Table(title=f"schedules of {group or stack_name}")
        for column in ("name", "expression", "state", "target"):
            table.add_column(column)
        for item in found:
            table.add_row(item["name"], str(item["expression"]), str(item["state"]), str(item["target"]).split(":")[-1])
        Console().print(table)


@schedule_app.command("remove")
def schedule_remove(
    name: ScheduleNameArgument,
    group: GroupOption = None,
    stack_name: StackOption = DEFAULT_STACK,
    json_output: JsonOption = False,
    endpoint_url: EndpointOption = None,
    region: RegionOption = None,
    profile: ProfileOption = None,
) -> None:
    """Remove a schedule from the stack's group."""
    with _explained(json_output):
        aws = Aws(Target(endpoint_url, region, profile))
        schedules.remove(aws.client("scheduler"), group or stack_name, name)
        if json_output:
            _print_json({"removed": name})
        else:
            Console().print(f"schedule {name} removed")


def _look_up(
    reference: str, stack_name: str, state_machine_arn: str | None, target: Target
) -> tuple[Aws, executions.Snapshot]:
    """The run named by an ARN, or by a name on the restore state machine."""
    aws = Aws(target)
    if reference.startswith("arn:"):
        arn = reference
    else:
        arn = executions.execution_arn(reference, _machine(aws, stack_name, state_machine_arn))
    return aws, executions.snapshot(aws.stepfunctions, arn)


@app.command()
def graph(
    asl_dir: Annotated[Path, typer.Option("--asl-dir", help="Folder of *.asl.json workflows.")] = Path("statemachine"),
    output_dir: Annotated[Path, typer.Option("--output-dir", help="Where the diagrams go.")] = Path("docs/diagrams"),
    check: Annotated[
        bool, typer.Option("--check", help="Change nothing; exit 1 if the diagrams do not match the workflows.")
    ] = False,
    json_output: JsonOption = False,
) -> None:
    """Write each workflow as Mermaid text (<name>.mmd); where Graphviz is installed, an SVG picture too."""
    with _explained(json_output):
        if not diagrams.asl_files(asl_dir):
            raise CliError(f"no *{diagrams.ASL_SUFFIX} files in {asl_dir}")
        wanted = diagrams.diagrams_for(asl_dir, output_dir)
        changed = diagrams.stale(wanted) if check else diagrams.write(wanted)
        paths = [str(diagram.path) for diagram in changed]
        dot = graphviz.installed()
        pictures = [] if check or dot is None else diagrams.write(diagrams.pictures_for(asl_dir, output_dir, dot))
        if json_output:
            _print_json(
                {
                    "check": check,
                    "files": [str(d.path) for d in wanted],
                    "changed": paths,
                    "pictures": [str(picture.path) for picture in pictures],
                }
            )
        elif check:
            for path in paths:
                Console(stderr=True).print(f"out of date: {path}", highlight=False)
            if not paths:
                Console().print(f"{len(wanted)} diagrams match the workflows", highlight=False)
        else:
            Console().print(
                "\n".join(f"wrote {path}" for path in paths + [str(p.path) for p in pictures])
                or f"{len(wanted)} diagrams already up to date",
                highlight=False,
            )
            if dot is None:
                Console().print(f"[dim]no SVG pictures: {graphviz.INSTALL_HINT}[/]", highlight=False)
        if check and paths:
            raise typer.Exit(1)


@app.command("demo")
def demo_command(
    json_output: JsonOption = False,
    steps: Annotated[
        bool, typer.Option("--steps", help="Show every step, setting, rollback and alert of each run.")
    ] = False,
    template: Annotated[
        Optional[Path], typer.Option("--template", help="SAM template (default: the trapheus stack itself).")
    ] = None,
    lenient: LenientOption = False,
) -> None:
    """Run the whole workflow on an emulated AWS account: no credentials, nothing leaves this machine."""
    from trapheus_cli import demo  # imported late: the emulator pulls in all of moto

    raise typer.Exit(demo.main(json_output=json_output, steps=steps, template=template, lenient=lenient))


@local_app.command("serve")
def local_serve(
    port: Annotated[int, typer.Option("--port", min=0, max=65535, help="Port on 127.0.0.1 (0 picks a free one).")] = 4566,
    param: Annotated[
        Optional[list[str]], typer.Option("--param", help="Template parameter as Key=Value (repeatable).")
    ] = None,
    template: Annotated[Optional[Path], typer.Option("--template", help="SAM template (default: the repository's).")] = None,
    latency_polls: Annotated[
        int, typer.Option("--latency-polls", min=0, help="With --lenient: keep resources in their in-between status for N polls.")
    ] = 0,
    lenient: LenientOption = False,
) -> None:
    """Serve an AWS-compatible endpoint on 127.0.0.1 with the trapheus stack deployed in it."""
    with _explained(False):
        try:
            from trapheus_local import server  # imported late: the emulator pulls in all of moto
        except ImportError as error:
            raise CliError(f"the local emulator is not available: {error}") from error
    # the emulator's own entry point parses and checks the options, so both ways in behave alike
    argv = ["--port", str(port), "--latency-polls", str(latency_polls), *(["--lenient"] if lenient else [])]
    argv += [part for pair in param or [] for part in ("--param", pair)]
    argv += ["--template", str(template)] if template else []
    raise typer.Exit(server.main(argv) or 0)


app.add_typer(importlib.import_module("trapheus_cli.tables").app, name="table")  # `trapheus table ...`
app.add_typer(importlib.import_module("trapheus_cli.copy_commands").app, name="copy")  # `trapheus copy ...`


def _main() -> None:  # pragma: no cover - `python -m trapheus_cli.main`
    app()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(_main())
