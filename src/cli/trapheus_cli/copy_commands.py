"""``trapheus copy ...``: copies of production for staging and development, and restore drills.

Each action starts the stack's copy workflow with the input its options stand for (built in
:mod:`trapheus_cli.copies`) and follows it as ``trapheus restore`` does, then shows the run's report; ``--plan``
asks the workflow what the run would do instead. ``approve``/``reject`` answer a run waiting before promotion;
``list`` finds the copies by their tags.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Annotated, Any, Optional

import typer
from rich.console import Console
from rich.table import Table

from trapheus_cli import copies, executions, plan
from trapheus_cli.aws import Aws, Target
from trapheus_cli.copies import Action, CopyRequest, DnsName
from trapheus_cli.locate import COPY, DEFAULT_STACK, find_state_machine

# Made before main is imported: main registers this app at its end, whichever module is imported first.
app = typer.Typer(
    help="Copies of production for staging and development (new, clone, refresh, promote by DNS, retire), and "
    "restore drills that measure RTO and RPO.",
    no_args_is_help=True,
)

from trapheus_cli.main import (  # noqa: E402 - the restore commands' options and output, shared
    EndpointOption,
    JsonOption,
    MachineOption,
    PollOption,
    ProfileOption,
    RegionOption,
    VerifyOption,
    _explained,
    _print_json,
    _start_and_follow,
)

StackOption = Annotated[str, typer.Option("--stack-name", help="CloudFormation stack that holds the copy workflow.")]
LifecycleOption = Annotated[
    str, typer.Option("--lifecycle", help="The lifecycle the copies belong to (e.g. ledger-staging): their name and tags.")
]
SourceArgument = Annotated[
    Optional[str],
    typer.Argument(metavar="SOURCE", help="The DB instance or Aurora cluster to copy (optional when --from is a snapshot ARN)."),
]
KindOption = Annotated[Optional[bool], typer.Option("--cluster/--instance", help="SOURCE is an Aurora cluster / a DB instance.")]
DnsOption = Annotated[
    Optional[list[DnsName]],
    typer.Option("--dns", parser=copies.parse_dns, metavar="ZONE:NAME[:TTL]",
                 help="Route 53 hosted zone id and record name the promoted copy gets (a CNAME); repeatable."),
]  # fmt: skip
KeepOption = Annotated[Optional[int], typer.Option("--keep", min=0, help="Older copies of the lifecycle to keep (default 0).")]
FinalSnapshotOption = Annotated[
    bool, typer.Option("--final-snapshot/--no-final-snapshot", help="Take a final snapshot of each copy retired.")
]
PlanOption = Annotated[bool, typer.Option("--plan", help="Show what the run would do and what blocks it; change nothing.")]
WaitOption = Annotated[bool, typer.Option("--wait/--no-wait", help="Follow the run until it ends.")]
ExecutionArgument = Annotated[str, typer.Argument(help="The copy run: execution ARN, or execution name.")]


@dataclass(frozen=True)
class RunOptions:
    """How a command starts its run and where: the same for every action."""

    plan: bool
    wait: bool
    poll_seconds: float
    stack_name: str
    state_machine_arn: str | None
    json_output: bool
    target: Target


def _machine(aws: Aws, run: RunOptions) -> str:
    return find_state_machine(aws.stepfunctions, aws.cloudformation, stack_name=run.stack_name,
                              arn=run.state_machine_arn, workflow=COPY)  # fmt: skip


def _run(action: Action, request: CopyRequest, run: RunOptions) -> None:
    """Start (or plan) the action; exit 1 when the run does not succeed or the plan has blockers."""
    with _explained(run.json_output):
        document = copies.copy_input(action, request)
        aws = Aws(run.target)
        machine = _machine(aws, run)
        if run.plan:
            name = executions.execution_name(request.lifecycle, f"{action.value}-plan")
            report = plan.run_copy(aws.stepfunctions, machine, copies.plan_input(document), name,
                                   poll_seconds=run.poll_seconds)  # fmt: skip
            if run.json_output:
                _print_json({"plan": report})
            else:
                Console().print(plan.render_copy(report))
            if report.get("blockers"):
                raise typer.Exit(1)
            return
        _start_and_follow(aws, machine, document, executions.execution_name(request.lifecycle, action.value),
                          follow=run.wait, poll_seconds=run.poll_seconds, json_output=run.json_output,
                          with_report=True)  # fmt: skip


MAKING = {
    Action.REFRESH: "Make a new copy, modify and verify it, point the DNS names at it, retire the older copies.",
    Action.NEW: "Make a copy of SOURCE from a snapshot or a point in time (or, with --clone, an Aurora clone).",
    Action.CLONE: "Make a copy of an Aurora cluster as a copy-on-write clone.",
    Action.DRILL: "Restore drill: make a copy, verify it, delete it, and report the RTO and RPO it achieved.",
}


def _making_command(action: Action) -> None:
    """One command per action that makes a copy: the same options, so one signature for all four."""

    def command(
        source: SourceArgument = None,
        lifecycle: LifecycleOption = ...,  # type: ignore[assignment]  # required
        cluster: KindOption = False,
        from_snapshot: Annotated[
            Optional[str], typer.Option("--from", help='"latest", or a snapshot identifier or ARN.')
        ] = None,
        to: Annotated[
            Optional[str], typer.Option("--to", help='A point in time: ISO-8601 with its zone, or "latest".')
        ] = None,
        clone: Annotated[bool, typer.Option("--clone", help="An Aurora copy-on-write clone of the cluster.")] = False,
        dns: DnsOption = None,
        suffix: Annotated[Optional[str], typer.Option("--suffix", help="Added to the copy's name (letters, digits).")] = None,
        minimum_age_hours: Annotated[
            Optional[float],
            typer.Option("--minimum-age-hours", min=0, help="Skip the run while the newest copy is younger than this."),
        ] = None,
        instance_class: Annotated[Optional[str], typer.Option("--instance-class", help="Class of the copy (its members).")] = None,
        readers: Annotated[Optional[int], typer.Option("--readers", min=0, help="Reader members of a cluster copy.")] = None,
        verify: VerifyOption = None,
        approve: Annotated[bool, typer.Option("--approve", help="Wait for `trapheus copy approve` before promoting.")] = False,
        approval_timeout_minutes: Annotated[
            Optional[int], typer.Option("--approval-timeout-minutes", min=1, help="How long to wait for the approval.")
        ] = None,
        keep: KeepOption = None,
        final_snapshot: FinalSnapshotOption = True,
        retire_after_minutes: Annotated[
            Optional[int], typer.Option("--retire-after-minutes", min=0, help="Retire the replaced copies this much later.")
        ] = None,
        plan_only: PlanOption = False,
        wait: WaitOption = True,
        poll_seconds: PollOption = 5.0,
        stack_name: StackOption = DEFAULT_STACK,
        state_machine_arn: MachineOption = None,
        json_output: JsonOption = False,
        endpoint_url: EndpointOption = None,
        region: RegionOption = None,
        profile: ProfileOption = None,
    ) -> None:
        request = CopyRequest(
            lifecycle=lifecycle, source=source, is_cluster=bool(cluster), from_snapshot=from_snapshot, to=to,
            clone=clone, dns=tuple(dns or ()), suffix=suffix, minimum_age_hours=minimum_age_hours,
            instance_class=instance_class, readers=readers, verify=verify, approve=approve,
            approval_timeout_minutes=approval_timeout_minutes, keep=keep, final_snapshot=final_snapshot,
            retire_after_minutes=retire_after_minutes,
        )  # fmt: skip
        _run(action, request, RunOptions(plan_only, wait, poll_seconds, stack_name, state_machine_arn, json_output,
                                         Target(endpoint_url, region, profile)))  # fmt: skip

    command.__name__ = f"copy_{action.value}"
    app.command(action.value, help=f"{MAKING[action]} Exit 1 if the run does not succeed.")(command)


for _action in MAKING:
    _making_command(_action)


@app.command()
def promote(
    lifecycle: LifecycleOption,
    dns: DnsOption = None,
    copy: Annotated[
        Optional[str], typer.Option("--copy", help="The copy to promote (default: the lifecycle's newest).")
    ] = None,
    adopt: Annotated[
        bool, typer.Option("--adopt", help="Take over a CNAME that trapheus did not write (no ownership TXT record).")
    ] = False,
    cluster: KindOption = None,
    plan_only: PlanOption = False,
    wait: WaitOption = True,
    poll_seconds: PollOption = 5.0,
    stack_name: StackOption = DEFAULT_STACK,
    state_machine_arn: MachineOption = None,
    json_output: JsonOption = False,
    endpoint_url: EndpointOption = None,
    region: RegionOption = None,
    profile: ProfileOption = None,
) -> None:
    """Point the lifecycle's DNS names at a copy; exit 1 if the run does not succeed."""
    request = CopyRequest(lifecycle=lifecycle, is_cluster=cluster, dns=tuple(dns or ()), copy=copy, adopt=adopt)
    _run(Action.PROMOTE, request, RunOptions(plan_only, wait, poll_seconds, stack_name, state_machine_arn, json_output,
                                             Target(endpoint_url, region, profile)))  # fmt: skip


@app.command()
def retire(
    lifecycle: LifecycleOption,
    keep: KeepOption = None,
    final_snapshot: FinalSnapshotOption = True,
    cluster: KindOption = None,
    plan_only: PlanOption = False,
    wait: WaitOption = True,
    poll_seconds: PollOption = 5.0,
    stack_name: StackOption = DEFAULT_STACK,
    state_machine_arn: MachineOption = None,
    json_output: JsonOption = False,
    endpoint_url: EndpointOption = None,
    region: RegionOption = None,
    profile: ProfileOption = None,
) -> None:
    """Delete the lifecycle's retired copies beyond the newest --keep (with final snapshots unless told not to);
    exit 1 if the run fails."""
    request = CopyRequest(lifecycle=lifecycle, is_cluster=cluster, keep=keep, final_snapshot=final_snapshot)
    _run(Action.RETIRE, request, RunOptions(plan_only, wait, poll_seconds, stack_name, state_machine_arn, json_output,
                                            Target(endpoint_url, region, profile)))  # fmt: skip


def _answer(execution: str, stack_name: str, state_machine_arn: str | None, target: Target,
            send: Any, json_output: bool) -> None:  # fmt: skip
    """Find the approval the run waits for and answer it with ``send(stepfunctions, token, caller)``."""
    with _explained(json_output):
        aws = Aws(target)
        machine = None if execution.startswith("arn:") else find_state_machine(
            aws.stepfunctions, aws.cloudformation, stack_name=stack_name, arn=state_machine_arn, workflow=COPY)  # fmt: skip
        arn = executions.execution_arn(execution, machine)
        token = copies.waiting_token(aws.stepfunctions, arn, executions.history(aws.stepfunctions, arn))
        caller = str(aws.client("sts").get_caller_identity()["Arn"])
        answer = send(aws.stepfunctions, token, caller)
        if json_output:
            _print_json({"executionArn": arn, **answer})
        else:
            verdict = "approved" if answer["approved"] else "rejected"
            Console().print(f"{verdict} the promotion of run {arn.split(':')[-1]} as {caller}", highlight=False)


@app.command("approve")
def approve_command(
    execution: ExecutionArgument,
    stack_name: StackOption = DEFAULT_STACK,
    state_machine_arn: MachineOption = None,
    json_output: JsonOption = False,
    endpoint_url: EndpointOption = None,
    region: RegionOption = None,
    profile: ProfileOption = None,
) -> None:
    """Let a run waiting for an approval (--approve) promote its copy."""
    _answer(execution, stack_name, state_machine_arn, Target(endpoint_url, region, profile), copies.approve, json_output)


@app.command("reject")
def reject_command(
    execution: ExecutionArgument,
    reason: Annotated[Optional[str], typer.Option("--reason", help="Why; the run's error cause.")] = None,
    stack_name: StackOption = DEFAULT_STACK,
    state_machine_arn: MachineOption = None,
    json_output: JsonOption = False,
    endpoint_url: EndpointOption = None,
    region: RegionOption = None,
    profile: ProfileOption = None,
) -> None:
    """Refuse the promotion a run waits for: the run removes its copy and ends FAILED (ApprovalRejected)."""
    _answer(execution, stack_name, state_machine_arn, Target(endpoint_url, region, profile),
            lambda stepfunctions, token, caller: copies.reject(stepfunctions, token, caller, reason), json_output)  # fmt: skip


@app.command("list")
def list_copies(
    lifecycle: Annotated[Optional[str], typer.Option("--lifecycle", help="Only this lifecycle's copies.")] = None,
    source: Annotated[Optional[str], typer.Option("--source", help="Only copies of this database.")] = None,
    dns: Annotated[
        Optional[list[DnsName]],
        typer.Option("--dns", parser=copies.parse_dns, metavar="ZONE:NAME", help="Show which copy this name points at."),
    ] = None,
    json_output: JsonOption = False,
    endpoint_url: EndpointOption = None,
    region: RegionOption = None,
    profile: ProfileOption = None,
) -> None:
    """List the copies (by their trapheus tags), one table per lifecycle, newest first."""
    with _explained(json_output):
        aws = Aws(Target(endpoint_url, region, profile))
        found = copies.find_copies(aws.client("rds"), lifecycle=lifecycle, source=source)
        names = list(dns or ())
        route53 = aws.client("route53") if names else None
        targets = copies.cname_targets(route53, names) if names else {}
        now = datetime.now(timezone.utc)
        if json_output:
            _print_json({
                "copies": [{**c.to_dict(now), "dns": copies.points_at(c, targets)} for c in found],
                "dns": [{"recordName": name, "value": value} for name, value in targets.items()],
            })  # fmt: skip
            return
        console = Console()
        if not found:
            console.print("no copies found", highlight=False)
        for name in sorted({c.lifecycle for c in found}):
            console.print(_copies_table(name, [c for c in found if c.lifecycle == name], targets, now))
        for record, value in targets.items():
            if value is None or not any(copies.points_at(c, {record: value}) for c in found):
                console.print(f"{record} points at {value or 'nothing (no CNAME)'}: none of these copies", highlight=False)


def _copies_table(lifecycle: str, found: list[copies.CopyRecord], targets: dict[str, str | None], now: datetime) -> Table:
    table = Table(title=f"copies of {lifecycle}", title_justify="left")
    for column in ("identifier", "kind", "source", "stage", "age", "status", *(["dns"] if targets else [])):
        table.add_column(column)
    for found_copy in found:
        row = [found_copy.identifier, found_copy.kind.name, found_copy.source or "-", found_copy.stage or "-",
               plan.readable_age(found_copy.age_hours(now)), found_copy.status or "-"]  # fmt: skip
        if targets:
            row.append(", ".join(f"← {name}" for name in copies.points_at(found_copy, targets)))
        table.add_row(*row)
    return table

