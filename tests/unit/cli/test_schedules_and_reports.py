"""trapheus schedule (any number per workflow, each with its own input) and trapheus report (any workflow's)."""

from __future__ import annotations

import json

import boto3
import pytest
from moto import mock_aws
from typer.testing import CliRunner

from trapheus_cli.main import app
from trapheus_cli.reports import cell, columns

runner = CliRunner()
ROLE = "arn:aws:iam::123456789012:role/trapheus-WorkflowScheduleRole-Ab12"
MACHINE = "arn:aws:states:us-east-1:123456789012:stateMachine:trapheus-backup"
POLICY = {"policy": "hourly", "select": {"pattern": "^orders-"}, "everyMinutes": 60, "keep": {"count": 24}}


@pytest.fixture
def scheduler():
    with mock_aws():
        client = boto3.client("scheduler", region_name="us-east-1")
        client.create_schedule_group(Name="trapheus")
        yield client


def add(*extra: str):
    return runner.invoke(app, ["schedule", "add", "backup", *extra, "--expression", "rate(1 hour)", "--role-arn", ROLE,
                               "--state-machine-arn", MACHINE, "--region", "us-east-1"])


def test_a_schedule_starts_its_workflow_with_its_own_input_in_the_stacks_group(scheduler):
    first = add("hourly-orders", "--input", json.dumps(POLICY))
    second = add("daily-ledger", "--input", json.dumps({**POLICY, "policy": "daily", "everyMinutes": 1440}))

    assert first.exit_code == 0 and second.exit_code == 0, first.output + second.output
    schedule = scheduler.get_schedule(Name="hourly-orders", GroupName="trapheus")
    assert schedule["Target"]["Arn"] == MACHINE and schedule["Target"]["RoleArn"] == ROLE
    assert json.loads(schedule["Target"]["Input"]) == POLICY
    listed = runner.invoke(app, ["schedule", "list", "--json", "--region", "us-east-1"])
    assert listed.exit_code == 0
    assert {s["name"]: s["input"]["policy"] for s in json.loads(listed.output)["schedules"]} == {
        "hourly-orders": "hourly", "daily-ledger": "daily"}
    removed = runner.invoke(app, ["schedule", "remove", "hourly-orders", "--region", "us-east-1"])
    assert removed.exit_code == 0
    assert [s["Name"] for s in scheduler.list_schedules(GroupName="trapheus")["Schedules"]] == ["daily-ledger"]


def test_an_input_the_workflow_would_refuse_creates_no_schedule(scheduler, tmp_path):
    bad = tmp_path / "policy.json"
    bad.write_text(json.dumps({**POLICY, "everyMinutes": 1}))

    result = add("too-often", "--input", f"@{bad}")

    assert result.exit_code == 2 and "everyMinutes" in result.output
    assert scheduler.list_schedules(GroupName="trapheus")["Schedules"] == []


COPY_MACHINE = "arn:aws:states:us-east-1:123456789012:stateMachine:trapheus-copy"
DRILL = {"source": "ledger", "isCluster": True, "lifecycle": "ledger-drill", "action": "drill"}


@pytest.mark.parametrize(("name", "payload", "accepted"), [
    ("weekday-drill", DRILL, True),
    ("nightly-refresh", {**DRILL, "lifecycle": "ledger-staging", "action": "refresh",
                         "dns": {"hostedZoneId": "Z123", "recordName": "ledger-staging.db.example.internal"}}, True),
    ("refresh-without-dns", {**DRILL, "action": "refresh"}, False),
])  # fmt: skip
def test_copy_refreshes_and_drills_are_scheduled_each_with_its_own_input(scheduler, name, payload, accepted):
    result = runner.invoke(app, ["schedule", "add", "copy", name, "--expression", "cron(0 5 ? * MON-FRI *)", "--input",
                                 json.dumps(payload), "--role-arn", ROLE, "--state-machine-arn", COPY_MACHINE,
                                 "--region", "us-east-1"])  # fmt: skip

    names = [s["Name"] for s in scheduler.list_schedules(GroupName="trapheus")["Schedules"]]
    if accepted:
        assert result.exit_code == 0, result.output
        assert scheduler.get_schedule(Name=name, GroupName="trapheus")["Target"]["Arn"] == COPY_MACHINE
    else:
        assert result.exit_code == 2 and "dns" in result.output and names == []


def test_an_unknown_workflow_is_refused(scheduler):
    result = runner.invoke(app, ["schedule", "add", "nightly", "x", "--expression", "rate(1 day)", "--input", "{}",
                                 "--role-arn", ROLE, "--region", "us-east-1"])
    assert result.exit_code == 2 and "unknown workflow" in result.output


def test_report_cells_are_short_and_columns_are_every_field_in_order():
    assert cell({"region": "us-west-2", "status": "queued", "reason": None}) == "region=us-west-2 status=queued"
    assert cell([{"region": "eu-west-1", "status": "copied"}, {"region": "us-west-2"}]) == (
        "region=eu-west-1 status=copied; region=us-west-2")
    assert cell(None) == "-" and cell(True) == "yes" and cell([]) == "-"
    assert cell("x" * 200).endswith("…") and len(cell("x" * 200)) == 80
    assert columns([{"identifier": "a", "outcome": "x"}, {"identifier": "b", "rpoSeconds": 3}]) == [
        "identifier", "outcome", "rpoSeconds"]


def test_report_of_a_run_reads_the_report_key_of_any_workflows_output():
    definition = {"StartAt": "Report", "States": {"Report": {"Type": "Pass", "Result": {
        "report": {"workflow": "table-backup", "items": [{"table": "orders", "outcome": "done"}], "summary": {"tables": 1}}},
        "End": True}}}
    with mock_aws(config={"stepfunctions": {"execute_state_machine": True}}):
        sfn = boto3.client("stepfunctions", region_name="us-east-1")
        machine = sfn.create_state_machine(name="trapheus-table-backup", definition=json.dumps(definition),
                                           roleArn="arn:aws:iam::123456789012:role/states")["stateMachineArn"]
        arn = sfn.start_execution(stateMachineArn=machine, name="one")["executionArn"]
        for _ in range(2000):
            if sfn.describe_execution(executionArn=arn)["status"] != "RUNNING":
                break
        shown = runner.invoke(app, ["report", arn, "--region", "us-east-1"], env={"COLUMNS": "200"})
        as_json = runner.invoke(app, ["report", "one", "--state-machine-arn", machine, "--json", "--region", "us-east-1"])

    assert shown.exit_code == 0, shown.output
    assert "table-backup" in shown.output and "orders" in shown.output and "tables" in shown.output
    assert json.loads(as_json.output)["report"]["items"] == [{"table": "orders", "outcome": "done"}]
