"""Schedules of a stack's workflows: any number per workflow, each with its own input, in the stack's schedule
group (the template's WorkflowScheduleGroup), started with its WorkflowScheduleRole. Adding one changes no
template: it is an EventBridge Scheduler schedule in that group.

The input is checked as the workflow checks it before the schedule exists, so a schedule never starts runs that
are refused one after the other.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from trapheus.backups.policy import parse_policy
from trapheus.copies.request import parse as parse_copy_request
from trapheus.errors import InvalidInputError
from trapheus.inputs import parse_request
from trapheus.tables.requests import parse_backup_request
from trapheus_cli.errors import CliError

WORKFLOWS = {"restore": "RestoreStateMachine", "backup": "BackupStateMachine", "table-backup": "TableBackupStateMachine",
             "copy": "CopyStateMachine"}


@dataclass(frozen=True)
class Place:
    """Where a stack's schedules go and what they start."""

    group: str
    role_arn: str
    machines: dict[str, str]  # workflow -> state machine ARN


def check_input(workflow: str, payload: Any, region: str) -> None:
    """Refuse an input the workflow would refuse (CliError naming the field)."""
    try:
        if workflow == "restore":
            parse_request(payload, export_default=False)
        elif workflow == "backup":
            parse_policy(payload, region=region)
        elif workflow == "table-backup":
            parse_backup_request(payload)
        elif workflow == "copy":
            parse_copy_request(payload)
        else:
            raise CliError(f"unknown workflow {workflow!r}; schedules start {', '.join(WORKFLOWS)}")
    except InvalidInputError as error:
        raise CliError(f"the {workflow} input is refused: {error}") from error


def _stack_resource(cloudformation: Any, stack_name: str, logical_id: str) -> str | None:
    try:
        resources = cloudformation.describe_stack_resources(StackName=stack_name, LogicalResourceId=logical_id)
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") in ("ValidationError", "NotFound", "ResourceNotFound"):
            return None
        raise
    for resource in resources.get("StackResources", []):
        if resource.get("PhysicalResourceId"):
            return str(resource["PhysicalResourceId"])
    return None


def locate(aws: Any, stack_name: str, *, group: str | None = None, role_arn: str | None = None,
           machine_arn: str | None = None, workflow: str | None = None) -> Place:
    """The stack's group, role and state machines, from CloudFormation unless given."""
    cloudformation = aws.cloudformation
    found_group = group or _stack_resource(cloudformation, stack_name, "WorkflowScheduleGroup") or stack_name
    role = role_arn
    if role is None:
        name = _stack_resource(cloudformation, stack_name, "WorkflowScheduleRole")
        if name is None:
            raise CliError(f"stack {stack_name!r} has no WorkflowScheduleRole: pass --role-arn")
        role = str(aws.client("iam").get_role(RoleName=name)["Role"]["Arn"])
    machines = {}
    for name, logical_id in WORKFLOWS.items():
        arn = machine_arn if (machine_arn and name == workflow) else _stack_resource(cloudformation, stack_name, logical_id)
        if arn:
            machines[name] = arn
    return Place(found_group, role, machines)


def add(scheduler: Any, place: Place, workflow: str, name: str, expression: str, payload: Any, timezone: str | None) -> str:
    if workflow not in place.machines:
        raise CliError(f"the stack has no {workflow} workflow to schedule (pass --state-machine-arn)")
    arguments: dict[str, Any] = {
        "Name": name,
        "GroupName": place.group,
        "ScheduleExpression": expression,
        "FlexibleTimeWindow": {"Mode": "OFF"},
        "State": "ENABLED",
        "Description": f"trapheus {workflow}",
        "Target": {"Arn": place.machines[workflow], "RoleArn": place.role_arn, "Input": json.dumps(payload)},
    }
    if timezone:
        arguments["ScheduleExpressionTimezone"] = timezone
    return str(scheduler.create_schedule(**arguments)["ScheduleArn"])


def listed(scheduler: Any, group: str) -> list[dict[str, Any]]:
    found = []
    for page in scheduler.get_paginator("list_schedules").paginate(GroupName=group):
        for summary in page.get("Schedules", []):
            detail = scheduler.get_schedule(Name=summary["Name"], GroupName=group)
            found.append({
                "name": detail["Name"],
                "expression": detail.get("ScheduleExpression"),
                "state": detail.get("State"),
                "target": detail.get("Target", {}).get("Arn"),
                "input": json.loads(detail.get("Target", {}).get("Input") or "null"),
            })
    return found


def remove(scheduler: Any, group: str, name: str) -> None:
    scheduler.delete_schedule(Name=name, GroupName=group)
