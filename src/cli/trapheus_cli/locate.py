"""Finding a workflow's state machine: given, from the CloudFormation stack, or by name.

The local emulator deploys the state machines without a CloudFormation stack, so a
stack that does not exist is not an error: the machine is then looked up by name.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from trapheus_cli.errors import StateMachineNotFoundError

DEFAULT_STACK = "trapheus"


@dataclass(frozen=True)
class Workflow:
    logical_id: str
    marker: str  # what its state machine's name contains, without dashes ("<stack>-table-restore")
    label: str


RESTORE = Workflow("RestoreStateMachine", "restore", "restore")
RECOVER = Workflow("RecoverStateMachine", "recover", "recover")
TABLE_BACKUP = Workflow("TableBackupStateMachine", "tablebackup", "table backup")
TABLE_RESTORE = Workflow("TableRestoreStateMachine", "tablerestore", "table restore")
COPY = Workflow("CopyStateMachine", "copy", "copy")
DR_COPY = Workflow("DrCopyStateMachine", "drcopy", "DR copy")  # the DR stack's: never taken for the copy workflow
# most specific first: a table restore's name also contains "restore", a DR copy's "copy"
WORKFLOWS = (TABLE_BACKUP, TABLE_RESTORE, DR_COPY, COPY, RESTORE, RECOVER)
LOGICAL_ID = RESTORE.logical_id


def find_state_machine(
    stepfunctions: Any, cloudformation: Any, *, stack_name: str, arn: str | None = None, workflow: Workflow = RESTORE
) -> str:
    if arn:
        return arn
    from_stack = _from_stack(cloudformation, stack_name, workflow.logical_id)
    if from_stack:
        return from_stack
    return _by_name(stepfunctions, stack_name, workflow)


def _from_stack(cloudformation: Any, stack_name: str, logical_id: str) -> str | None:
    try:
        resources = cloudformation.describe_stack_resources(StackName=stack_name, LogicalResourceId=logical_id)
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") in ("ValidationError", "NotFound", "ResourceNotFound"):
            return None  # no such stack (or no CloudFormation at this endpoint): fall back to names
        raise
    for resource in resources.get("StackResources", []):
        if resource.get("LogicalResourceId") == logical_id and resource.get("PhysicalResourceId"):
            return str(resource["PhysicalResourceId"])
    return None


def _by_name(stepfunctions: Any, stack_name: str, workflow: Workflow) -> str:
    machines = [
        machine
        for page in stepfunctions.get_paginator("list_state_machines").paginate()
        for machine in page["stateMachines"]
    ]
    scored = [(_score(machine["name"], stack_name, workflow), machine) for machine in machines]
    best = max((score for score, _ in scored), default=0)
    if best == 0:
        names = ", ".join(sorted(m["name"] for m in machines)) or "none"
        raise StateMachineNotFoundError(
            f"no {workflow.label} state machine found: stack {stack_name!r} has no {workflow.logical_id} and no state "
            f"machine is named like one (state machines here: {names}); pass --stack-name or --state-machine-arn"
        )
    winners = [machine for score, machine in scored if score == best]
    if len(winners) > 1:
        names = ", ".join(sorted(m["name"] for m in winners))
        raise StateMachineNotFoundError(f"several state machines match ({names}); pass --state-machine-arn")
    return str(winners[0]["stateMachineArn"])


def _workflow_of(name: str) -> Workflow | None:
    flat = name.lower().replace("-", "").replace("_", "")
    return next((workflow for workflow in WORKFLOWS if workflow.marker in flat), None)


def _score(name: str, stack_name: str, workflow: Workflow = RESTORE) -> int:
    """0 for a machine of another workflow; higher when the name also carries the stack's."""
    if _workflow_of(name) is not workflow:
        return 0
    lowered = name.lower()
    return 1 + 2 * (stack_name.lower() in lowered) + (workflow.logical_id.lower() in lowered)
