"""Finding the restore state machine: given, from the CloudFormation stack, or by name.

The local emulator deploys the state machine without a CloudFormation stack, so a
stack that does not exist is not an error: the machine is then looked up by name.
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from trapheus_cli.errors import StateMachineNotFoundError

DEFAULT_STACK = "trapheus"
LOGICAL_ID = "RestoreStateMachine"


def find_state_machine(stepfunctions: Any, cloudformation: Any, *, stack_name: str, arn: str | None = None) -> str:
    if arn:
        return arn
    from_stack = _from_stack(cloudformation, stack_name)
    if from_stack:
        return from_stack
    return _by_name(stepfunctions, stack_name)


def _from_stack(cloudformation: Any, stack_name: str) -> str | None:
    try:
        resources = cloudformation.describe_stack_resources(StackName=stack_name, LogicalResourceId=LOGICAL_ID)
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") in ("ValidationError", "NotFound", "ResourceNotFound"):
            return None  # no such stack (or no CloudFormation at this endpoint): fall back to names
        raise
    for resource in resources.get("StackResources", []):
        if resource.get("LogicalResourceId") == LOGICAL_ID and resource.get("PhysicalResourceId"):
            return str(resource["PhysicalResourceId"])
    return None


def _by_name(stepfunctions: Any, stack_name: str) -> str:
    machines = [
        machine
        for page in stepfunctions.get_paginator("list_state_machines").paginate()
        for machine in page["stateMachines"]
    ]
    scored = [(_score(machine["name"], stack_name), machine) for machine in machines]
    best = max((score for score, _ in scored), default=0)
    if best == 0:
        names = ", ".join(sorted(m["name"] for m in machines)) or "none"
        raise StateMachineNotFoundError(
            f"no restore state machine found: stack {stack_name!r} has no {LOGICAL_ID} and no state machine is named "
            f"like one (state machines here: {names}); pass --stack-name or --state-machine-arn"
        )
    winners = [machine for score, machine in scored if score == best]
    if len(winners) > 1:
        names = ", ".join(sorted(m["name"] for m in winners))
        raise StateMachineNotFoundError(f"several state machines match ({names}); pass --state-machine-arn")
    return str(winners[0]["stateMachineArn"])


def _score(name: str, stack_name: str) -> int:
    """0 for a machine that is not a restore workflow; higher when the name also carries the stack's."""
    lowered = name.lower()
    if "restore" not in lowered:
        return 0
    return 1 + 2 * (stack_name.lower() in lowered) + (LOGICAL_ID.lower() in lowered)
