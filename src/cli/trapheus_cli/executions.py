"""Starting, following and reading executions of the restore workflow."""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from botocore.exceptions import ClientError

from trapheus.alerts import execution_console_url
from trapheus_cli.errors import CliError, ExecutionNotFoundError
from trapheus_cli.steps import Step, steps_from_history

TERMINAL = frozenset({"SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"})
NAME_MAX = 80  # Step Functions' limit on execution names


@dataclass
class Snapshot:
    """What is known about a run at one moment."""

    arn: str
    name: str
    status: str
    started: datetime
    stopped: datetime | None = None
    error: str | None = None
    cause: str | None = None
    input: dict[str, Any] | None = None
    steps: list[Step] = field(default_factory=list)

    @property
    def finished(self) -> bool:
        return self.status in TERMINAL

    @property
    def succeeded(self) -> bool:
        return self.status == "SUCCEEDED"

    def seconds(self, now: datetime | None = None) -> float:
        end = self.stopped or now or datetime.now(timezone.utc)
        return (end - self.started).total_seconds()

    def to_dict(self) -> dict[str, Any]:
        return {
            "executionArn": self.arn,
            "consoleUrl": execution_console_url(self.arn),
            "name": self.name,
            "status": self.status,
            "startDate": self.started.isoformat(),
            "stopDate": self.stopped.isoformat() if self.stopped else None,
            "seconds": self.seconds() if self.stopped else None,
            "error": self.error,
            "cause": self.cause,
            "input": self.input,
            "steps": [step.to_dict() for step in self.steps],
        }


def execution_name(identifier: str, task: str, now: datetime | None = None) -> str:
    """``<identifier>-<task>-<UTC time>-<4 hex>``: readable in the console, unique per start."""
    stamp = (now or datetime.now(timezone.utc)).strftime("%Y%m%dT%H%M%SZ")
    tail = f"-{task}-{stamp}-{secrets.token_hex(2)}"
    return identifier[: NAME_MAX - len(tail)] + tail


def start(stepfunctions: Any, state_machine_arn: str, payload: dict[str, Any], name: str) -> str:
    response = stepfunctions.start_execution(stateMachineArn=state_machine_arn, name=name, input=json.dumps(payload))
    return str(response["executionArn"])


def execution_arn(reference: str, state_machine_arn: str | None) -> str:
    """An execution ARN from an ARN or a name (a name needs the state machine it ran on)."""
    if reference.startswith("arn:"):
        return reference
    if not state_machine_arn:
        raise CliError("an execution name needs the state machine: pass the execution ARN instead")
    prefix, _, machine = state_machine_arn.partition(":stateMachine:")
    return f"{prefix}:execution:{machine.split(':')[0]}:{reference}"


def snapshot(
    stepfunctions: Any, arn: str, *, with_steps: bool = True, events: list[dict[str, Any]] | None = None
) -> Snapshot:
    """The execution as DescribeExecution and its history show it (``events``: that history, already read)."""
    try:
        described = stepfunctions.describe_execution(executionArn=arn)
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") in ("ExecutionDoesNotExist", "InvalidArn"):
            raise ExecutionNotFoundError(f"no execution {arn}") from error
        raise
    raw_input = described.get("input")
    return Snapshot(
        arn=arn,
        name=described["name"],
        status=described["status"],
        started=described["startDate"],
        stopped=described.get("stopDate"),
        error=described.get("error"),
        cause=described.get("cause"),
        input=json.loads(raw_input) if raw_input else None,
        steps=steps_from_history(events if events is not None else history(stepfunctions, arn)) if with_steps else [],
    )


def history(stepfunctions: Any, arn: str) -> list[dict[str, Any]]:
    pages = stepfunctions.get_paginator("get_execution_history").paginate(executionArn=arn)
    return [event for page in pages for event in page["events"]]


def follow(
    stepfunctions: Any,
    arn: str,
    *,
    poll_seconds: float,
    on_update: Callable[[Snapshot], None],
    sleep: Callable[[float], None] = time.sleep,
) -> Snapshot:
    """Poll until the run ends, reporting each snapshot; the last one is returned."""
    while True:
        current = snapshot(stepfunctions, arn)
        on_update(current)
        if current.finished:
            return current
        # even a zero interval yields, so an in-process emulator's worker thread gets to run
        sleep(poll_seconds)


def recent(stepfunctions: Any, state_machine_arn: str, *, limit: int, status: str | None = None) -> list[Snapshot]:
    arguments: dict[str, Any] = {"stateMachineArn": state_machine_arn}
    if status:
        arguments["statusFilter"] = status
    found: list[Snapshot] = []
    for page in stepfunctions.get_paginator("list_executions").paginate(**arguments):
        for item in page["executions"]:
            found.append(
                Snapshot(
                    arn=item["executionArn"],
                    name=item["name"],
                    status=item["status"],
                    started=item["startDate"],
                    stopped=item.get("stopDate"),
                )
            )
            if len(found) >= limit:
                return found
    return found


def definition_of(stepfunctions: Any, arn: str) -> dict[str, Any]:
    """The definition the execution ran with."""
    described = stepfunctions.describe_state_machine_for_execution(executionArn=arn)
    return json.loads(described["definition"])
