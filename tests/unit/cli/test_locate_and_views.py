"""Finding the state machine, the one session per target, and the live progress view."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import boto3
import pytest
from moto import mock_aws
from rich.console import Console

from trapheus_cli.aws import Aws, Target
from trapheus_cli.errors import StateMachineNotFoundError
from trapheus_cli.executions import Snapshot, execution_arn, execution_name
from trapheus_cli.locate import find_state_machine
from trapheus_cli.steps import Outcome, Step
from trapheus_cli.views import ProgressView

ROLE = "arn:aws:iam::123456789012:role/trapheus-restore"
PASS_ONLY = json.dumps({"StartAt": "Done", "States": {"Done": {"Type": "Succeed"}}})


@pytest.fixture
def clients():
    with mock_aws():
        yield boto3.client("stepfunctions"), boto3.client("cloudformation")


def _machine(stepfunctions, name: str) -> str:
    return stepfunctions.create_state_machine(name=name, definition=PASS_ONLY, roleArn=ROLE)["stateMachineArn"]


def test_the_stack_resource_is_preferred(clients):
    stepfunctions, cloudformation = clients
    template = {
        "Resources": {
            "RestoreStateMachine": {
                "Type": "AWS::StepFunctions::StateMachine",
                "Properties": {"StateMachineName": "prod-restore-flow", "DefinitionString": PASS_ONLY, "RoleArn": ROLE},
            }
        }
    }
    cloudformation.create_stack(StackName="prod", TemplateBody=json.dumps(template))
    _machine(stepfunctions, "prod-RestoreStateMachine-decoy")

    found = find_state_machine(stepfunctions, cloudformation, stack_name="prod")

    assert found.endswith(":stateMachine:prod-restore-flow")


def test_without_a_stack_the_name_decides(clients):
    stepfunctions, cloudformation = clients
    _machine(stepfunctions, "unrelated-backup")
    _machine(stepfunctions, "RestoreStateMachine-Zz99")
    wanted = _machine(stepfunctions, "trapheus-RestoreStateMachine-Ab12")

    assert find_state_machine(stepfunctions, cloudformation, stack_name="trapheus") == wanted


def test_two_equally_good_names_need_an_arn(clients):
    stepfunctions, cloudformation = clients
    _machine(stepfunctions, "trapheus-RestoreStateMachine-A")
    _machine(stepfunctions, "trapheus-RestoreStateMachine-B")

    with pytest.raises(StateMachineNotFoundError, match="several"):
        find_state_machine(stepfunctions, cloudformation, stack_name="trapheus")


def test_a_given_arn_is_not_looked_up(clients):
    stepfunctions, cloudformation = clients
    arn = "arn:aws:states:us-east-1:123456789012:stateMachine:anything"
    assert find_state_machine(stepfunctions, cloudformation, stack_name="trapheus", arn=arn) == arn


def test_one_session_serves_every_client_with_the_given_endpoint_and_region():
    aws = Aws(Target(endpoint_url="http://127.0.0.1:4599", region="eu-west-3"))

    assert aws.stepfunctions.meta.endpoint_url == "http://127.0.0.1:4599"
    assert aws.cloudformation.meta.region_name == "eu-west-3"
    assert aws.stepfunctions is aws.stepfunctions  # built once


def test_execution_names_fit_and_names_resolve_to_arns():
    name = execution_name("a" * 50, "create_snapshot_only", datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc))
    assert len(name) <= 80 and "-create_snapshot_only-20260102T030405Z-" in name

    machine = "arn:aws:states:eu-west-1:111122223333:stateMachine:trapheus-Restore"
    assert execution_arn("run-1", machine) == "arn:aws:states:eu-west-1:111122223333:execution:trapheus-Restore:run-1"


def test_progress_view_shows_current_step_elapsed_and_steps_done():
    start = datetime.now(timezone.utc) - timedelta(seconds=42)
    view = ProgressView("orders-db-run")
    view.update(
        Snapshot(
            arn="arn",
            name="orders-db-run",
            status="RUNNING",
            started=start,
            steps=[
                Step("Validate the request", "Task", start, start, Outcome.SUCCEEDED, attempts=1),
                Step("Restore the snapshot", "Task", start, None, Outcome.RUNNING, attempts=1),
            ],
        )
    )
    console = Console(record=True, width=100)

    console.print(view)
    text = console.export_text()

    assert "current step  Restore the snapshot" in text
    assert "steps done    1" in text
    assert "elapsed       4" in text  # 42.x seconds


def test_the_copy_workflow_is_its_own_and_never_the_dr_stacks_copy(clients):
    from trapheus_cli.locate import COPY, DR_COPY, RESTORE

    stepfunctions, cloudformation = clients
    _machine(stepfunctions, "trapheus-dr-DrCopyStateMachine-Kl90")
    restore = _machine(stepfunctions, "trapheus-RestoreStateMachine-Ab12")
    wanted = _machine(stepfunctions, "trapheus-CopyStateMachine-Cd34")

    assert find_state_machine(stepfunctions, cloudformation, stack_name="trapheus", workflow=COPY) == wanted
    assert find_state_machine(stepfunctions, cloudformation, stack_name="trapheus", workflow=RESTORE) == restore
    assert find_state_machine(stepfunctions, cloudformation, stack_name="trapheus-dr", workflow=DR_COPY).endswith("Kl90")
