"""Small hand-written workflows for the command line's tests."""

from __future__ import annotations

import copy

import pytest

# Task with retry and catch, a poll loop, a Choice with a Default, Succeed and Fail.
SMALL_DEFINITION = {
    "StartAt": "Check it",
    "States": {
        "Check it": {
            "Type": "Task",
            "Resource": "${CheckFunctionArn}",
            "Retry": [{"ErrorEquals": ["ThrottlingError"]}],
            "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Give up"}],
            "Next": "Is it done?",
        },
        "Is it done?": {
            "Type": "Choice",
            "Choices": [
                {"Variable": "$.poll.state", "StringEquals": "done", "Next": "Finished"},
                {"Variable": "$.poll.attempt", "NumericGreaterThanEqualsPath": "$.max", "Next": "Give up"},
            ],
            "Default": "Wait a bit",
        },
        "Wait a bit": {"Type": "Wait", "Seconds": 5, "Next": "Check it"},
        "Finished": {"Type": "Succeed"},
        "Give up": {"Type": "Fail", "Error": "Timeout", "Cause": "too long"},
    },
}


@pytest.fixture
def small_definition():
    return copy.deepcopy(SMALL_DEFINITION)


# What the console input drives: a cluster branch, a failing identifier, a Fail state with error and cause.
RESTORE_LIKE_DEFINITION = {
    "StartAt": "Receive the request",
    "States": {
        "Receive the request": {"Type": "Pass", "Next": "Is the database broken?"},
        "Is the database broken?": {
            "Type": "Choice",
            "Choices": [{"Variable": "$.identifier", "StringEquals": "broken-db", "Next": "Report the failure"}],
            "Default": "Is it a cluster?",
        },
        "Is it a cluster?": {
            "Type": "Choice",
            "Choices": [{"Variable": "$.isCluster", "BooleanEquals": True, "Next": "Restore the cluster"}],
            "Default": "Restore the instance",
        },
        "Restore the cluster": {"Type": "Pass", "Next": "Restore complete"},
        "Restore the instance": {"Type": "Pass", "Next": "Restore complete"},
        "Restore complete": {"Type": "Succeed"},
        "Report the failure": {"Type": "Fail", "Error": "RestoreError", "Cause": "the restored database failed"},
    },
}
MACHINE_NAME = "trapheus-RestoreStateMachine-Ab12Cd34"


@pytest.fixture
def stepfunctions():
    """Moto executing state machines, with the restore-like machine deployed; yields the client."""
    import json

    import boto3
    from moto import mock_aws

    with mock_aws(config={"stepfunctions": {"execute_state_machine": True}}):
        client = boto3.client("stepfunctions", region_name="us-east-1")
        client.create_state_machine(
            name=MACHINE_NAME,
            definition=json.dumps(RESTORE_LIKE_DEFINITION),
            roleArn="arn:aws:iam::123456789012:role/trapheus-restore",
        )
        yield client
