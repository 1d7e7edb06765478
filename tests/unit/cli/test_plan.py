"""``trapheus plan`` against the real workflow in the emulator, and its rendering."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from rich.console import Console
from support.rds_fixtures import STACK_PARAMETERS, make_cluster, make_instance
from typer.testing import CliRunner

from trapheus_cli import plan
from trapheus_cli.main import app
from trapheus_local import Emulator
from trapheus_local.engine import Deployment

TEMPLATE = Path(__file__).resolve().parents[3] / "template.yaml"
WIDE = {"COLUMNS": "220"}  # rich wraps table cells at the runner's default 80 columns

runner = CliRunner()


@pytest.fixture(scope="module")
def deployed() -> Iterator[tuple[Emulator, Deployment]]:
    """One emulator and deployment for the module; each test plans a database of its own."""
    from trapheus import clients

    assert TEMPLATE.is_file(), "template.yaml is missing"
    clients.reset()
    with Emulator() as emulator:
        yield emulator, emulator.deploy(TEMPLATE, {"LogLevel": "WARNING", **STACK_PARAMETERS})
    clients.reset()


@pytest.fixture
def stack(deployed) -> tuple[Emulator, Deployment]:
    deployed[0].rds_calls.clear()
    return deployed


def with_instance(emulator: Emulator, identifier: str = "orders-db", *, snapshot: bool = True) -> None:
    rds = emulator.client("rds")
    with emulator.settled():
        make_instance(rds, emulator.client("ec2"), identifier)
        if snapshot:
            rds.create_db_snapshot(DBInstanceIdentifier=identifier, DBSnapshotIdentifier=f"{identifier}-snapshot")
    emulator.rds_calls.clear()


def invoke(*args: str):
    return runner.invoke(app, ["plan", *args, "--poll-seconds", "0"], env=WIDE)


def started(emulator: Emulator, stack: Deployment) -> list[str]:
    """The ARNs of the executions started so far."""
    return [execution["executionArn"] for execution in executions_of(emulator, stack)]


def executions_of(emulator: Emulator, stack: Deployment) -> list[dict]:
    sfn = emulator.client("stepfunctions")
    listed = sfn.list_executions(stateMachineArn=stack.state_machine_arn("RestoreStateMachine"))["executions"]
    return [sfn.describe_execution(executionArn=e["executionArn"]) for e in listed]


def test_a_ready_plan_shows_the_changes_and_exits_0_without_changing_anything(stack):
    emulator, deployment = stack
    with_instance(emulator)

    result = invoke("orders-db")

    assert result.exit_code == 0, result.output
    for expected in (
        "plan: restore DB instance orders-db",
        "swap",
        "two renames",
        "orders-db-snapshot",
        "create",
        "orders-db-trapheus-new",
        "→ orders-db-trapheus-old",
        "→ orders-db",
        "final snapshot orders-db-trapheus-final-",
        "DBInstanceClass",
        "db.m6g.large",
        "no blockers",
    ):
        assert expected in result.output, expected
    assert emulator.rds_calls.mutating() == []
    (execution,) = [e for e in executions_of(emulator, deployment) if json.loads(e["input"])["identifier"] == "orders-db"]
    sent = json.loads(execution["input"])
    assert sent == {"identifier": "orders-db", "task": "plan", "isCluster": False, "strategy": "swap"}
    assert execution["status"] == "SUCCEEDED"


def test_plan_json_prints_the_report_of_a_cluster_in_place(stack):
    emulator, deployment = stack
    rds = emulator.client("rds")
    with emulator.settled():
        make_cluster(rds, emulator.client("ec2"), "ledger", members=2)
        rds.create_db_cluster_snapshot(DBClusterIdentifier="ledger", DBClusterSnapshotIdentifier="ledger-gold")
    emulator.rds_calls.clear()

    result = invoke("ledger", "--cluster", "--strategy", "in-place", "--snapshot", "ledger-gold", "--json")

    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert (report["identifier"], report["isCluster"], report["ready"]) == ("ledger", True, True)
    assert report["strategy"] == "in-place"
    assert report["snapshot"]["identifier"] == "ledger-gold"
    assert report["creates"] == ["ledger", "ledger-1", "ledger-2"]
    assert ["ledger", "ledger-trapheus-old"] in report["renames"]
    assert "whole restore" in report["expectedDowntime"]
    assert emulator.rds_calls.mutating() == []


def test_a_blocked_plan_lists_the_blockers_and_exits_1(stack):
    emulator, _ = stack
    with_instance(emulator, "orders-blocked", snapshot=False)

    result = invoke("orders-blocked", "--strategy", "in-place")

    assert result.exit_code == 1, result.output
    assert "blockers (1)" in result.output
    assert "SnapshotNotFoundError" in result.output
    assert "no: see the blockers" in result.output
    assert emulator.rds_calls.mutating() == []


def test_a_blocked_plan_as_json_exits_1(stack):
    emulator, _ = stack
    with_instance(emulator, "orders-blocked-json", snapshot=False)

    result = invoke("orders-blocked-json", "--json")

    assert result.exit_code == 1
    report = json.loads(result.output)
    assert report["ready"] is False
    assert [b["error"] for b in report["blockers"]] == ["SnapshotNotFoundError"]


def test_a_bad_identifier_is_refused_before_any_execution_starts(stack):
    emulator, deployment = stack
    started_before = started(emulator, deployment)

    result = invoke("o" * 60)

    assert result.exit_code == 2
    assert "invalid request" in result.output
    assert started(emulator, deployment) == started_before


def test_an_unknown_strategy_is_refused_by_the_command_line(stack):
    emulator, deployment = stack
    started_before = started(emulator, deployment)

    result = invoke("orders-db", "--strategy", "yolo")

    assert result.exit_code == 2
    assert started(emulator, deployment) == started_before


# -- against a workflow that does not answer with a plan (tests/unit/cli/conftest.py) --------------------------


def test_a_plan_execution_that_fails_is_an_error_with_its_cause(stepfunctions):
    result = invoke("broken-db", "--json")

    assert result.exit_code == 2
    message = json.loads(result.output)["error"]
    assert "FAILED" in message and "RestoreError" in message and "the restored database failed" in message


def test_a_workflow_that_answers_without_a_report_is_an_error(stepfunctions):
    result = invoke("orders-db")

    assert result.exit_code == 2
    assert "not a plan report" in result.output


# -- rendering ------------------------------------------------------------------------------------------


def rendered(report: dict) -> str:
    console = Console(width=200, record=True)
    console.print(plan.render(report))
    return console.export_text()


def test_a_delete_without_final_snapshot_is_called_out():
    text = rendered(
        {
            "identifier": "orders-db", "isCluster": False, "strategy": "swap", "expectedDowntime": "two renames",
            "snapshot": {"identifier": "orders-db-snapshot", "status": "available", "ageHours": 30.0},
            "blockers": [], "ready": True, "creates": [], "renames": [],
            "deletes": [{"identifier": "orders-db-trapheus-old", "finalSnapshot": None}],
        }
    )
    assert "no final snapshot" in text
    assert "30.0 hours" in text


def test_a_report_of_a_missing_database_renders_without_changes():
    text = rendered(
        {
            "identifier": "missing-db", "isCluster": True, "strategy": "in-place",
            "expectedDowntime": "the whole restore",
            "snapshot": {"identifier": "missing-db-snapshot", "status": None, "created": None, "ageHours": None},
            "blockers": [{"error": "DatabaseNotFoundError", "message": "Aurora cluster 'missing-db' does not exist"}],
            "ready": False,
        }
    )
    assert "plan: restore Aurora cluster missing-db" in text
    assert "not found" in text
    assert "what the run would change" not in text
    assert "DatabaseNotFoundError" in text and "does not exist" in text


@pytest.mark.parametrize(
    ("hours", "shown"), [(0.25, "15 minutes"), (5.0, "5.0 hours"), (72.0, "3.0 days"), (None, "-")]
)
def test_snapshot_age_is_shown_in_a_readable_unit(hours, shown):
    assert plan.readable_age(hours) == shown
