"""``trapheus restore --to``, ``trapheus plan --to`` and ``trapheus recover`` against moto's Step Functions interpreter."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from trapheus_cli.main import app

runner = CliRunner()
RECOVER_LIKE = {"StartAt": "Received", "States": {"Received": {"Type": "Pass", "End": True}}}
VERIFY = "arn:aws:lambda:us-east-1:123456789012:function:orders-smoke-query"


def invoke(*args: str):
    return runner.invoke(app, [*args, "--poll-seconds", "0", "--json"])


def sent(stepfunctions, machine_name_part: str) -> dict:
    machine = next(m for m in stepfunctions.list_state_machines()["stateMachines"] if machine_name_part in m["name"])
    (execution,) = stepfunctions.list_executions(stateMachineArn=machine["stateMachineArn"])["executions"]
    return json.loads(stepfunctions.describe_execution(executionArn=execution["executionArn"])["input"])


@pytest.fixture
def recover_machine(stepfunctions):
    stepfunctions.create_state_machine(name="trapheus-RecoverStateMachine-Ef56Gh78", definition=json.dumps(RECOVER_LIKE),
                                       roleArn="arn:aws:iam::123456789012:role/trapheus-recover")  # fmt: skip
    return stepfunctions


def test_restore_to_a_point_in_time_sends_the_task_and_the_time(stepfunctions):
    result = invoke("restore", "orders-db", "--to", "2026-11-29T10:42:00Z", "--strategy", "in-place", "--verify", VERIFY)

    assert result.exit_code == 0, result.output
    assert sent(stepfunctions, "Restore") == {
        "identifier": "orders-db", "task": "point_in_time_restore", "isCluster": False, "restoreTime": "2026-11-29T10:42:00Z",
        "strategy": "in-place", "verify": {"functionArn": VERIFY}}  # fmt: skip


@pytest.mark.parametrize(
    ("arguments", "says"),
    [
        (["--to", "2026-11-29T10:42:00"], "names no time zone"),
        (["--to", "yesterday"], "not an ISO-8601 time"),
        (["--strategy", "backtrack"], "backtrack"),
        (["--to", "latest", "--snapshot", "orders-gold"], "not snapshotIdentifier"),
    ],
    ids=["no zone", "not a time", "backtrack without a time", "snapshot and time"],
)
def test_restore_refuses_a_time_it_cannot_use_before_starting_anything(stepfunctions, arguments, says):
    result = invoke("restore", "orders-db", *arguments)

    assert result.exit_code == 2 and says in json.loads(result.output)["error"]
    machine = stepfunctions.list_state_machines()["stateMachines"][0]["stateMachineArn"]
    assert stepfunctions.list_executions(stateMachineArn=machine)["executions"] == []


def test_recover_sends_every_database_the_time_and_the_concurrency(recover_machine):
    result = invoke("recover", "orders-db", "billing-db", "--cluster", "ledger", "--to", "2026-11-29T10:42:00Z",
                    "--max-concurrency", "2")  # fmt: skip

    assert result.exit_code == 0, result.output
    assert sent(recover_machine, "Recover") == {
        "databases": [{"identifier": "orders-db", "isCluster": False}, {"identifier": "billing-db", "isCluster": False},
                      {"identifier": "ledger", "isCluster": True}],
        "restoreTime": "2026-11-29T10:42:00Z", "maxConcurrency": 2}  # fmt: skip
    assert json.loads(result.output)["name"].startswith("orders-db-billing-db-ledger-recover-")


def test_recover_refuses_a_database_named_twice_or_none(recover_machine):
    assert "listed twice" in json.loads(invoke("recover", "orders-db", "orders-db").output)["error"]
    assert "non-empty list" in json.loads(invoke("recover").output)["error"]
