"""``trapheus table ...``: back DynamoDB tables up to S3, restore them, list backups, see how far a run got.

Runs go through the stack's table workflows like any other start; ``list`` and ``status``
read the backup bucket (the manifests, and a restore's journal and per-segment progress).
"""

from __future__ import annotations

import json
from enum import Enum
from typing import Annotated, Any, Optional

import typer
from botocore.exceptions import ClientError
from rich.console import Console
from rich.table import Table

from trapheus.errors import InvalidInputError
from trapheus.tables import journal, store
from trapheus.tables.requests import parse_backup_request, parse_restore_request
from trapheus.tables.settings import describe
from trapheus_cli import executions
from trapheus_cli.aws import Aws, Target
from trapheus_cli.errors import CliError
from trapheus_cli.locate import DEFAULT_STACK, TABLE_BACKUP, TABLE_RESTORE, Workflow, find_state_machine
from trapheus_cli.views import steps_table, summary

# Made before main is imported: main registers this app at its end, whichever module is imported first.
app = typer.Typer(help="Back DynamoDB tables up to S3 and restore them.", no_args_is_help=True)

from trapheus_cli.main import (  # noqa: E402 - the restore commands' options and output, shared
    EndpointOption,
    JsonOption,
    MachineOption,
    PollOption,
    ProfileOption,
    RegionOption,
    _explained,
    _follow,
    _print_json,
)

StackOption = Annotated[str, typer.Option("--stack-name", help="CloudFormation stack that holds the table workflows.")]
BucketOption = Annotated[Optional[str], typer.Option("--bucket", help="The backup bucket (default: the stack's).")]
FollowOption = Annotated[bool, typer.Option("--follow/--no-follow", help="Follow the run until it ends.")]
TableArgument = Annotated[str, typer.Argument(help="The DynamoDB table.")]


class Method(str, Enum):
    SCAN = "scan"
    EXPORT = "export"


def _s3(aws: Aws) -> Any:
    return aws.session.client("s3", endpoint_url=aws.target.endpoint_url)


def _dynamodb(aws: Aws) -> Any:
    return aws.session.client("dynamodb", endpoint_url=aws.target.endpoint_url)


def _bucket(aws: Aws, stack_name: str, given: str | None) -> str:
    """The backup bucket: given, the stack's output, or (no CloudFormation, e.g. local serve) by its name."""
    if given:
        return given
    try:
        stacks = aws.cloudformation.describe_stacks(StackName=stack_name)["Stacks"]
        for output in stacks[0].get("Outputs", []) if stacks else []:
            if output.get("OutputKey") == "TableBackupBucketName":
                return str(output["OutputValue"])
    except ClientError:
        pass
    names = [b["Name"] for b in _s3(aws).list_buckets().get("Buckets", []) if "tablebackupbucket" in b["Name"].lower()]
    mine = [name for name in names if stack_name.lower() in name] or names
    if len(mine) != 1:
        raise CliError(f"cannot tell the backup bucket of stack {stack_name!r} ({', '.join(mine) or 'none found'}); pass --bucket")
    return mine[0]


def _start(workflow: Workflow, payload: dict[str, Any], name: str, follow: bool, poll_seconds: float, stack_name: str,
           arn: str | None, json_output: bool, target: Target) -> None:  # fmt: skip
    aws = Aws(target)
    machine = find_state_machine(aws.stepfunctions, aws.cloudformation, stack_name=stack_name, arn=arn, workflow=workflow)
    execution = executions.start(aws.stepfunctions, machine, payload, name)
    if not follow:
        if json_output:
            _print_json({"executionArn": execution, "name": name, "stateMachineArn": machine, "input": payload})
        else:
            Console().print(f"started [bold]{name}[/]\n{execution}", highlight=False)
        return
    final = _follow(aws, execution, name, poll_seconds, json_output)
    output = aws.stepfunctions.describe_execution(executionArn=execution).get("output")
    if json_output:
        _print_json({**final.to_dict(), "output": json.loads(output) if output else None})
    else:
        console = Console()
        console.print(steps_table(final.steps))
        console.print(summary(final))
        if output:
            console.print(output, highlight=False)
    if not final.succeeded:
        raise typer.Exit(1)


def _checked(parse: Any, payload: dict[str, Any], *extra: Any) -> dict[str, Any]:
    """The input, checked here too for a friendlier error (the workflow checks again)."""
    try:
        parse(payload, *extra)
    except InvalidInputError as error:
        raise CliError(f"invalid request: {error}") from error
    return payload


@app.command()
def backup(
    table: TableArgument,
    segments: Annotated[Optional[int], typer.Option("--segments", min=1, help="Parallel scan segments (default: by size).")] = None,
    method: Annotated[Method, typer.Option("--method", help="scan, or export (DynamoDB's own, PITR on).")] = Method.SCAN,
    keep: Annotated[Optional[int], typer.Option("--keep", min=1, help="Complete backups of the table to keep.")] = None,
    copy_to: Annotated[Optional[str], typer.Option("--copy-to", help="Also copy the backup to this bucket.")] = None,
    copy_region: Annotated[Optional[str], typer.Option("--copy-region", help="Region of that bucket.")] = None,
    copy_kms_key: Annotated[Optional[str], typer.Option("--copy-kms-key", help="KMS key ARN for the copy.")] = None,
    follow: FollowOption = True,
    poll_seconds: PollOption = 5.0,
    stack_name: StackOption = DEFAULT_STACK,
    state_machine_arn: MachineOption = None,
    json_output: JsonOption = False,
    endpoint_url: EndpointOption = None,
    region: RegionOption = None,
    profile: ProfileOption = None,
) -> None:
    """Back a table up to the stack's bucket in parallel segments; exit 1 if the run does not succeed."""
    with _explained(json_output):
        payload: dict[str, Any] = {"table": table, "method": method.value}
        if segments is not None:
            payload["segments"] = segments
        if keep is not None:
            payload["keep"] = keep
        if copy_to:
            payload["copyTo"] = {"bucket": copy_to, **({"region": copy_region} if copy_region else {}),
                                 **({"kmsKeyArn": copy_kms_key} if copy_kms_key else {})}  # fmt: skip
        _checked(parse_backup_request, payload, (copy_to,) if copy_to else ())
        _start(TABLE_BACKUP, payload, executions.execution_name(table, "backup"), follow, poll_seconds, stack_name,
               state_machine_arn, json_output, Target(endpoint_url, region, profile))  # fmt: skip


@app.command()
def restore(
    table: TableArgument,
    backup_id: Annotated[str, typer.Argument(help="The backup id (see `trapheus table list TABLE`).")],
    target: Annotated[Optional[str], typer.Option("--target", help="Restore into this new table.")] = None,
    replace: Annotated[bool, typer.Option("--replace", help="Replace TABLE itself (on-demand backup first).")] = False,
    follow: FollowOption = True,
    poll_seconds: PollOption = 5.0,
    stack_name: StackOption = DEFAULT_STACK,
    state_machine_arn: MachineOption = None,
    json_output: JsonOption = False,
    endpoint_url: EndpointOption = None,
    region: RegionOption = None,
    profile: ProfileOption = None,
) -> None:
    """Restore a backup into a new table, or replace the table; exit 1 if the run does not succeed."""
    with _explained(json_output):
        payload: dict[str, Any] = {"backupId": backup_id, "table": table}
        if replace:
            payload["replace"] = True
        if target:
            payload["target"] = target
        _checked(parse_restore_request, payload)
        _start(TABLE_RESTORE, payload, executions.execution_name(target or table, "restore"), follow, poll_seconds,
               stack_name, state_machine_arn, json_output, Target(endpoint_url, region, profile))  # fmt: skip


@app.command("list")
def list_backups(
    table: TableArgument,
    bucket: BucketOption = None,
    stack_name: StackOption = DEFAULT_STACK,
    json_output: JsonOption = False,
    endpoint_url: EndpointOption = None,
    region: RegionOption = None,
    profile: ProfileOption = None,
) -> None:
    """List the backups of a table, oldest first; only complete ones (with a manifest) can be restored."""
    with _explained(json_output):
        aws = Aws(Target(endpoint_url, region, profile))
        name = _bucket(aws, stack_name, bucket)
        found = store.list_backups(name, table, _s3(aws))
        if json_output:
            _print_json({"bucket": name, "table": table, "backups": [b.to_dict() for b in found]})
            return
        rows = Table(title=f"backups of {table} in s3://{name}")
        for column in ("backup id", "complete", "method", "items", "bytes"):
            rows.add_column(column)
        for backup in found:
            rows.add_row(backup.backup_id, "yes" if backup.complete else "NO (never finished)", backup.method or "",
                         "" if backup.items is None else str(backup.items),
                         "" if backup.bytes is None else str(backup.bytes))  # fmt: skip
        Console().print(rows)


def _load_progress(aws: Aws, bucket: str, request: dict[str, Any]) -> list[dict[str, Any]]:
    target = str(request.get("target") or request.get("table"))
    description = describe(target, _dynamodb(aws))
    if description is None:
        return []
    return journal.loaded(bucket, target, journal.table_instance(description), _s3(aws))


@app.command()
def status(
    execution: Annotated[str, typer.Argument(help="Execution ARN, or the name of a table backup or restore run.")],
    bucket: BucketOption = None,
    stack_name: StackOption = DEFAULT_STACK,
    json_output: JsonOption = False,
    endpoint_url: EndpointOption = None,
    region: RegionOption = None,
    profile: ProfileOption = None,
) -> None:
    """Where a table run is, and for a restore what each segment has loaded (a stopped run's too)."""
    with _explained(json_output):
        aws = Aws(Target(endpoint_url, region, profile))
        latest = None
        for workflow in (TABLE_RESTORE, TABLE_BACKUP):
            machine = None if execution.startswith("arn:") else find_state_machine(
                aws.stepfunctions, aws.cloudformation, stack_name=stack_name, workflow=workflow)  # fmt: skip
            try:
                latest = executions.snapshot(aws.stepfunctions, executions.execution_arn(execution, machine))
                break
            except CliError:
                continue
        if latest is None:
            raise CliError(f"no table backup or restore run {execution!r}")
        request = latest.input or {}
        progress = _load_progress(aws, _bucket(aws, stack_name, bucket), request) if "backupId" in request else []
        loaded = sum(int(p.get("items") or 0) for p in progress)
        if json_output:
            _print_json({**latest.to_dict(), "loaded": {"items": loaded, "segments": progress}})
            return
        console = Console()
        console.print(summary(latest))
        if progress:
            rows = Table(title=f"loaded into {request.get('target') or request.get('table')}: {loaded} items")
            for column in ("segment", "items", "of", "done"):
                rows.add_column(column)
            for entry in progress:
                rows.add_row(str(entry.get("segment")), str(entry.get("items")), str(entry.get("of")),
                             "yes" if entry.get("done") else "no")  # fmt: skip
            console.print(rows)
