"""The commands end to end against moto's Step Functions interpreter."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from trapheus_cli.main import app

runner = CliRunner()


def invoke(*args: str):
    return runner.invoke(app, list(args))


def restore(*args: str):
    return invoke("restore", *args, "--poll-seconds", "0")


def test_restore_follows_a_successful_run_to_exit_code_0(stepfunctions):
    result = restore("orders-db")

    assert result.exit_code == 0, result.output
    assert "→ Restore the instance" in result.output
    assert "✓ Restore the instance (succeeded" in result.output
    assert "SUCCEEDED" in result.output
    (execution,) = stepfunctions.list_executions(stateMachineArn=_machine_arn(stepfunctions))["executions"]
    assert execution["name"].startswith("orders-db-db_restore-")
    sent = json.loads(stepfunctions.describe_execution(executionArn=execution["executionArn"])["input"])
    assert sent == {"identifier": "orders-db", "task": "db_restore", "isCluster": False}


def test_restore_passes_a_chosen_strategy_and_otherwise_leaves_it_to_the_deployment(stepfunctions):
    result = restore("orders", "--strategy", "in-place", "--json")

    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["input"] == {
        "identifier": "orders", "task": "db_restore", "isCluster": False, "strategy": "in-place"}


def test_restore_sends_the_console_input_and_reports_steps_as_json(stepfunctions):
    result = restore("orders", "--cluster", "--task", "create_snapshot", "--snapshot", "orders-gold", "--json")

    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["status"] == "SUCCEEDED"
    assert report["input"] == {
        "identifier": "orders",
        "task": "create_snapshot",
        "isCluster": True,
        "snapshotIdentifier": "orders-gold",
    }
    assert [s["name"] for s in report["steps"]] == [
        "Receive the request",
        "Is the database broken?",
        "Is it a cluster?",
        "Restore the cluster",
        "Restore complete",
    ]
    assert {s["outcome"] for s in report["steps"]} == {"succeeded"}


def test_restore_of_a_failing_run_prints_error_and_cause_and_exits_1(stepfunctions):
    result = restore("broken-db")

    assert result.exit_code == 1, result.output
    assert "FAILED" in result.output
    assert "RestoreError" in result.output
    assert "the restored database failed" in result.output
    assert "✗ Report the failure (failed" in result.output


def test_restore_failure_as_json(stepfunctions):
    result = restore("broken-db", "--json")

    assert result.exit_code == 1
    report = json.loads(result.output)
    assert (report["status"], report["error"], report["cause"]) == (
        "FAILED",
        "RestoreError",
        "the restored database failed",
    )
    assert report["steps"][-1]["outcome"] == "failed"


def test_restore_refuses_bad_input_before_starting_anything(stepfunctions):
    result = restore("9-not-an-identifier")

    assert result.exit_code == 2
    assert "invalid request" in result.output
    assert stepfunctions.list_executions(stateMachineArn=_machine_arn(stepfunctions))["executions"] == []


def test_an_unknown_task_is_refused_by_the_command_line(stepfunctions):
    result = restore("orders-db", "--task", "drop_everything")

    assert result.exit_code == 2
    assert stepfunctions.list_executions(stateMachineArn=_machine_arn(stepfunctions))["executions"] == []


def test_no_follow_prints_the_execution_and_returns(stepfunctions):
    result = invoke("restore", "orders-db", "--no-follow", "--json")

    assert result.exit_code == 0, result.output
    started = json.loads(result.output)
    assert started["stateMachineArn"] == _machine_arn(stepfunctions)
    assert started["executionArn"].endswith(":" + started["name"])
    assert started["consoleUrl"] == (
        "https://us-east-1.console.aws.amazon.com/states/home?region=us-east-1#/v2/executions/details/"
        + started["executionArn"]
    )


def test_status_by_name_and_by_arn(stepfunctions):
    report = json.loads(restore("broken-db", "--json").output)

    by_name = invoke("status", report["name"], "--json")
    by_arn = invoke("status", report["executionArn"])

    assert by_name.exit_code == 0, by_name.output
    assert json.loads(by_name.output)["status"] == "FAILED"
    assert json.loads(by_name.output)["executionArn"] == report["executionArn"]
    assert by_arn.exit_code == 0
    assert "FAILED" in by_arn.output and "RestoreError" in by_arn.output


def test_status_follow_waits_for_a_started_run_and_exits_by_its_outcome(stepfunctions):
    """What the restore workflow of docs/ci does: start without following, then follow by ARN."""
    good = json.loads(invoke("restore", "orders-db", "--no-follow", "--json").output)
    bad = json.loads(invoke("restore", "broken-db", "--no-follow", "--json").output)

    succeeded = invoke("status", good["executionArn"], "--follow", "--poll-seconds", "0", "--json")
    failed = invoke("status", bad["executionArn"], "--follow", "--poll-seconds", "0", "--json")
    failed_lines = invoke("status", bad["name"], "--follow", "--poll-seconds", "0")

    assert succeeded.exit_code == 0, succeeded.output
    report = json.loads(succeeded.output)
    assert (report["status"], report["consoleUrl"]) == ("SUCCEEDED", good["consoleUrl"])
    assert report["steps"][-1]["name"] == "Restore complete"
    assert failed.exit_code == 1, failed.output
    assert (json.loads(failed.output)["status"], json.loads(failed.output)["error"]) == ("FAILED", "RestoreError")
    assert failed_lines.exit_code == 1
    assert "✗ Report the failure (failed" in failed_lines.output and "RestoreError" in failed_lines.output


def test_status_without_follow_reports_a_failed_run_and_exits_0(stepfunctions):
    bad = json.loads(restore("broken-db", "--json").output)

    result = invoke("status", bad["executionArn"], "--json")

    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["status"] == "FAILED"


def test_status_of_an_unknown_execution_is_a_clear_error(stepfunctions):
    result = invoke("status", "no-such-run", "--json")

    assert result.exit_code == 2
    assert "no-such-run" in json.loads(result.output)["error"]


def test_history_lists_the_steps_with_their_outcome(stepfunctions):
    report = json.loads(restore("orders-db", "--json").output)

    table = invoke("history", report["name"])
    as_json = json.loads(invoke("history", report["executionArn"], "--json").output)

    assert table.exit_code == 0, table.output
    for name in ("Receive the request", "Is it a cluster?", "Restore the instance", "Restore complete"):
        assert name in table.output
    assert "Restore the cluster" not in table.output
    assert [s["type"] for s in as_json["steps"]] == ["Pass", "Choice", "Choice", "Pass", "Succeed"]
    assert all(s["seconds"] is not None and s["seconds"] >= 0 for s in as_json["steps"])


def test_history_graph_marks_the_states_the_run_entered(stepfunctions):
    report = json.loads(restore("broken-db", "--json").output)

    result = invoke("history", report["name"], "--graph")

    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == "flowchart TD"
    assert "    class s_receive_the_request,s_is_the_database_broken visited" in lines
    assert "    class s_report_the_failure failedstep" in lines


def test_list_shows_recent_runs_with_their_status(stepfunctions):
    restore("orders-db", "--json")
    restore("broken-db", "--json")

    report = json.loads(invoke("list", "--json").output)
    table = invoke("list", "--status", "failed")

    assert sorted(run["status"] for run in report["executions"]) == ["FAILED", "SUCCEEDED"]
    assert report["stateMachineArn"] == _machine_arn(stepfunctions)
    assert table.exit_code == 0
    assert "broken-db" in table.output and "orders-db" not in table.output


def test_an_explicit_state_machine_arn_is_used_as_given(stepfunctions):
    missing = _machine_arn(stepfunctions).rpartition(":")[0] + ":elsewhere"

    result = invoke("list", "--state-machine-arn", missing, "--json")

    assert result.exit_code == 2
    assert "error" in json.loads(result.output)


def test_no_restore_state_machine_is_a_clear_error(stepfunctions):
    stepfunctions.delete_state_machine(stateMachineArn=_machine_arn(stepfunctions))

    result = invoke("list")

    assert result.exit_code == 2
    assert "no restore state machine found" in result.output


def test_local_serve_hands_its_options_to_the_emulator(monkeypatch):
    import sys
    import types

    calls = []
    server = types.ModuleType("trapheus_local.server")
    server.main = lambda argv: calls.append(argv) or 0
    package = types.ModuleType("trapheus_local")
    package.server = server
    monkeypatch.setitem(sys.modules, "trapheus_local", package)
    monkeypatch.setitem(sys.modules, "trapheus_local.server", server)

    result = invoke("local", "serve", "--port", "4599", "--param", "SenderEmail=a@b.example", "--param", "X=1=2")

    assert result.exit_code == 0, result.output
    assert calls == [
        ["--port", "4599", "--latency-polls", "0", "--param", "SenderEmail=a@b.example", "--param", "X=1=2"]
    ]


def _machine_arn(stepfunctions) -> str:
    (machine,) = stepfunctions.list_state_machines()["stateMachines"]
    return machine["stateMachineArn"]


@pytest.fixture(autouse=True)
def _wide_terminal(monkeypatch):
    # tables wrap at 80 columns otherwise, splitting the names the assertions look for
    monkeypatch.setenv("COLUMNS", "200")
