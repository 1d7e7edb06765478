"""A table run that is stopped runs no Catch: the EventBridge rule starts the clean-up, which puts things right.

The template's TableCleanupRule is deployed into moto's EventBridge; moto neither emits
Step Functions status changes nor starts state machine targets, so
:func:`trapheus_local.execution_events.deliver` sends the stopped run's status change the
way Step Functions does and starts what the rule targets with the rule's input transformer.
A run is stopped at a chosen call by holding that call in the strict DynamoDB model. moto
fails (rather than aborts) a run stopped while a Map state runs, so the runs here are stopped
in top-level steps: creating the table, starting the export.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from moto.dynamodb.models.table_export import TableExport
from support.slack import SlackListener
from support.table_fixtures import all_items, contents, create_table, items, put_items

from trapheus import clients
from trapheus.tables import settings as table_settings
from trapheus_local import Emulator, execution_events, strict_dynamodb
from trapheus_local.engine import Deployment, ExecutionResult

BACKUP, RESTORE = "TableBackupStateMachine", "TableRestoreStateMachine"
REAL_TEMPLATE = Path(__file__).resolve().parents[2] / "template.yaml"
SLACK_PATH = "/services/T000/B000/cleanup"
GATE_TIMEOUT = 60  # real seconds: only a hang would take this long


@pytest.fixture(scope="module")
def emulator() -> Iterator[Emulator]:
    clients.reset()
    with Emulator() as aws:
        yield aws
    clients.reset()


@pytest.fixture(scope="module")
def stack(emulator: Emulator, slack: SlackListener) -> Deployment:
    # ManagedDatabasePattern "none": these runs change tables, no database
    return emulator.deploy(REAL_TEMPLATE, {"LogLevel": "WARNING", "ManagedDatabasePattern": "none", "MaxPollAttempts": 8,
                                           "TableItemsPerInvocation": 30, "SlackWebhookUrls": slack.url(SLACK_PATH)})  # fmt: skip


@pytest.fixture
def model(stack: Deployment, slack: SlackListener) -> Iterator[strict_dynamodb.StrictDynamoDB]:
    slack.clear()
    yield strict_dynamodb.current()
    strict_dynamodb.current().clear()


def _backed_up(stack: Deployment, table: str) -> str:
    result = stack.run(BACKUP, {"table": table, "segments": 2})
    assert result.status == "SUCCEEDED", result.cause
    return str(result.output["backupId"])


def _stop_at(emulator: Emulator, stack: Deployment, gate: strict_dynamodb.Gate, machine: str, request: dict) -> ExecutionResult:
    """Start a run, stop it while it is held in ``gate``'s call, let the call finish; the stopped run's result."""
    arn = stack.start(machine, request)
    assert gate.reached.wait(GATE_TIMEOUT), "the run never reached the held call"
    emulator.client("stepfunctions").stop_execution(executionArn=arn)
    gate.release()
    # the held call is answered in its own thread: the run may end (stopped) before it is
    assert gate.finished.wait(GATE_TIMEOUT), "the held call was never answered"
    stopped = stack.wait(arn)
    assert stopped.status == "ABORTED", (stopped.error, stopped.cause, stopped.entered_states)
    return stopped


def _exports_written() -> None:
    """moto writes an export's files from a thread of its own, started by the call: wait for those threads."""
    for thread in threading.enumerate():
        if isinstance(thread, TableExport):
            thread.join(GATE_TIMEOUT)


def _clean_up(emulator: Emulator, stack: Deployment, stopped: ExecutionResult) -> ExecutionResult:
    started = execution_events.deliver(emulator, stopped.arn)
    assert len(started) == 1, "the rule starts exactly one clean-up"
    assert started[0].split(":")[6] == stack.state_machine_arn(RESTORE).split(":")[-1]
    return stack.wait(started[0])


def _lock(emulator: Emulator, stack: Deployment, table: str) -> dict | None:
    found = emulator.client("dynamodb").get_item(TableName=stack.physical_id("LockTable"), Key={"lockId": {"S": f"table:{table}"}})
    return found.get("Item")


def test_a_finished_run_starts_no_clean_up(emulator, stack, model):
    create_table(emulator, "quiet")
    put_items(emulator, "quiet", items(3))
    finished = stack.run(BACKUP, {"table": "quiet"})
    assert finished.status == "SUCCEEDED"
    assert execution_events.deliver(emulator, finished.arn) == []


def test_a_stopped_replace_is_put_back_from_its_on_demand_backup(emulator, stack, model, slack):
    create_table(emulator, "ledger", settings=True)
    put_items(emulator, "ledger", items(90))
    backup_id = _backed_up(stack, "ledger")
    put_items(emulator, "ledger", items(4, start=800))
    original = table_settings.capture("ledger", emulator.client("dynamodb"))
    gate = model.hold("CreateTable", "ledger")

    stopped = _stop_at(emulator, stack, gate, RESTORE, {"backupId": backup_id, "table": "ledger", "replace": True})
    assert "Delete the current table" in stopped.entered_states, "stopped after the delete, while re-creating the table"
    cleanup = _clean_up(emulator, stack, stopped)

    assert cleanup.status == "SUCCEEDED", cleanup.cause
    for state in ("Read what the stopped run left", "What did the stopped run leave?", "Take over the stopped run's lock",
                  "Does the clean-up recover the table?", "Remove the partial table", "Wait for the partial table to go",
                  "Recover the original table", "Rollback finished", "Clean-up complete"):  # fmt: skip
        assert state in cleanup.entered_states, state
    assert contents(all_items(emulator, "ledger")) == contents(items(90) + items(4, start=800))
    assert table_settings.differences(original, table_settings.capture("ledger", emulator.client("dynamodb"))) == []
    assert _lock(emulator, stack, "ledger") is None, "the stopped run's lock is released"
    assert "STOPPED: replace of ledger" in json.dumps(slack.bodies(SLACK_PATH))


def test_a_stopped_restore_keeps_its_target_and_a_rerun_finishes_it(emulator, stack, model):
    create_table(emulator, "visits")
    rows = items(120)
    put_items(emulator, "visits", rows)
    backup_id = _backed_up(stack, "visits")
    request = {"backupId": backup_id, "table": "visits", "target": "visits-copy"}

    stopped = _stop_at(emulator, stack, model.hold("CreateTable", "visits-copy"), RESTORE, request)
    cleanup = _clean_up(emulator, stack, stopped)

    assert cleanup.status == "SUCCEEDED" and "Keep the unfinished target" in cleanup.entered_states
    assert _lock(emulator, stack, "visits-copy") is None, "a re-run is not blocked by the stopped run's lock"
    model.settle()
    assert all_items(emulator, "visits-copy") == []
    rerun = stack.run(RESTORE, request)
    assert rerun.status == "SUCCEEDED", rerun.cause
    assert contents(all_items(emulator, "visits-copy")) == contents(rows)


def test_a_stopped_backup_is_discarded(emulator, stack, model):
    create_table(emulator, "sessions", pitr=True)
    put_items(emulator, "sessions", items(40))
    s3, bucket = emulator.client("s3"), stack.physical_id("TableBackupBucket")

    stopped = _stop_at(emulator, stack, model.hold("ExportTableToPointInTime", "sessions"), BACKUP,
                       {"table": "sessions", "method": "export"})  # fmt: skip
    _exports_written()
    written = s3.list_objects_v2(Bucket=bucket, Prefix="backups/sessions/").get("KeyCount")
    cleanup = _clean_up(emulator, stack, stopped)

    assert written, "the export the stopped run started wrote its files"
    assert cleanup.status == "SUCCEEDED" and "Discard the stopped backup" in cleanup.entered_states
    assert s3.list_objects_v2(Bucket=bucket, Prefix="backups/sessions/").get("KeyCount") == 0


def test_a_clean_up_never_acts_on_a_table_another_run_took_since(emulator, stack, model):
    create_table(emulator, "carts")
    put_items(emulator, "carts", items(10))
    backup_id = _backed_up(stack, "carts")
    stopped = _stop_at(emulator, stack, model.hold("CreateTable", "carts-copy"), RESTORE,
                       {"backupId": backup_id, "table": "carts", "target": "carts-copy"})  # fmt: skip
    emulator.client("dynamodb").put_item(TableName=stack.physical_id("LockTable"), Item={
        "lockId": {"S": "table:carts-copy"}, "execution": {"S": "arn:aws:states:us-east-1:123456789012:execution:x:newer"},
        "expiresAt": {"N": "9999999999"}})  # fmt: skip

    cleanup = _clean_up(emulator, stack, stopped)

    assert cleanup.status == "FAILED" and cleanup.error == "RestoreInProgressError"
    assert "Another run holds the table" in cleanup.entered_states
    assert _lock(emulator, stack, "carts-copy")["execution"]["S"].endswith(":newer")


# -- the command line drives the same workflows and reads the same bucket --------------------------


def _cli(*args: str) -> tuple[int, str]:
    from typer.testing import CliRunner

    from trapheus_cli.main import app

    result = CliRunner().invoke(app, ["table", *args, "--stack-name", "trapheus-local"])
    return result.exit_code, result.output


def test_the_table_commands_back_up_list_restore_and_report_progress(emulator, stack, model):
    create_table(emulator, "profiles")
    rows = items(70)
    put_items(emulator, "profiles", rows)

    code, output = _cli("backup", "profiles", "--segments", "2", "--poll-seconds", "0", "--json")
    assert code == 0, output
    backup_id = json.loads(output)["output"]["backupId"]
    code, output = _cli("list", "profiles", "--json")
    assert code == 0 and [b["backupId"] for b in json.loads(output)["backups"] if b["complete"]] == [backup_id]

    code, output = _cli("restore", "profiles", backup_id, "--target", "profiles-copy", "--poll-seconds", "0", "--json")
    assert code == 0, output
    run = json.loads(output)
    assert run["status"] == "SUCCEEDED" and run["output"]["items"] == 70
    assert contents(all_items(emulator, "profiles-copy")) == contents(rows)

    code, output = _cli("status", run["name"], "--json")
    assert code == 0, output
    loaded = json.loads(output)["loaded"]
    assert loaded["items"] == 70 and {s["segment"] for s in loaded["segments"]} == {0, 1}
    assert all(s["done"] for s in loaded["segments"])


def test_the_table_commands_refuse_bad_input_before_starting_anything(emulator, stack, model):
    before = len(emulator.client("stepfunctions").list_executions(stateMachineArn=stack.state_machine_arn(RESTORE))["executions"])
    code, output = _cli("restore", "profiles", "not-a-backup-id", "--target", "profiles-copy", "--poll-seconds", "0")
    assert code == 2 and "invalid request" in output and "backupId" in output
    code, output = _cli("restore", "profiles", "20260101T000000Z-00000000", "--poll-seconds", "0")
    assert code == 2 and "give 'target'" in output
    after = len(emulator.client("stepfunctions").list_executions(stateMachineArn=stack.state_machine_arn(RESTORE))["executions"])
    assert after == before
