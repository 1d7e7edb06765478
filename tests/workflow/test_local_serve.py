"""The local endpoint as a user drives it: a subprocess on 127.0.0.1, plain boto3 with endpoint_url."""

from __future__ import annotations

import json
import os
import signal
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from support.served import STARTUP_LIMIT_SECONDS, STOPPED, Server, client, served

from trapheus_local.server import main, parse_parameters

REPOSITORY = Path(__file__).resolve().parents[2]
FIXTURE_TEMPLATE = Path(__file__).parent / "fixtures" / "template.yaml"


@pytest.fixture
def server() -> Iterator[tuple[Server, str]]:
    environment = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(REPOSITORY / "src" / "cli"), str(REPOSITORY / "src" / "layer" / "python")]),
        "POWERTOOLS_LOG_LEVEL": "WARNING",
    }
    command = [
        sys.executable, "-m", "trapheus_local.server",
        "--port", "0",
        "--template", str(FIXTURE_TEMPLATE),
        "--param", "Greeting=hi",
        "--param", "PollSeconds=5",
        # RDS operations take their modelled minutes on the emulator's clock: let them pass in milliseconds
        "--time-factor", "1000000",
    ]
    with served(command, env=environment) as running:
        yield running


def test_plain_boto3_runs_the_deployed_state_machine(server):
    running, endpoint = server
    rds, sfn = client("rds", endpoint), client("stepfunctions", endpoint)
    rds.create_db_instance(
        DBInstanceIdentifier="orders-db", DBInstanceClass="db.t3.micro", Engine="postgres",
        MasterUsername="trapheus", MasterUserPassword="not-a-secret-1", AllocatedStorage=20,
    )
    # the strict model refuses a snapshot of a database still being created, as RDS does
    rds.get_waiter("db_instance_available").wait(
        DBInstanceIdentifier="orders-db", WaiterConfig={"Delay": 0, "MaxAttempts": 5000}
    )
    rds.create_db_snapshot(DBInstanceIdentifier="orders-db", DBSnapshotIdentifier="orders-db-manual")
    machines = {machine["name"]: machine["stateMachineArn"] for machine in sfn.list_state_machines()["stateMachines"]}
    assert list(machines) == ["trapheus-local-SnapshotStateMachine"]

    execution = sfn.start_execution(
        stateMachineArn=machines["trapheus-local-SnapshotStateMachine"], input=json.dumps({"identifier": "orders-db"})
    )["executionArn"]
    for _ in range(5000):  # each call is a round trip; the run needs a handful
        described = sfn.describe_execution(executionArn=execution)
        if described["status"] != "RUNNING":
            break
    assert described["status"] == "SUCCEEDED", described.get("cause")
    assert json.loads(described["output"])["poll"]["snapshot"] == "orders-db-hi"  # --param reached the handler

    events = sfn.get_execution_history(executionArn=execution)["events"]
    entered = [event["stateEnteredEventDetails"]["name"] for event in events if "stateEnteredEventDetails" in event]
    assert entered[-1] == "Done"
    snapshots = {snapshot["DBSnapshotIdentifier"] for snapshot in rds.describe_db_snapshots()["DBSnapshots"]}
    assert {"orders-db-manual", "orders-db-hi"} <= snapshots  # the handler wrote into the served backends

    running.process.send_signal(signal.SIGTERM)
    assert running.wait_for(STOPPED)
    assert running.process.wait(timeout=STARTUP_LIMIT_SECONDS) == 0


def test_sigint_stops_the_server_cleanly(server):
    running, _ = server
    running.process.send_signal(signal.SIGINT)
    assert running.process.wait(timeout=STARTUP_LIMIT_SECONDS) == 0


def test_parameters_are_key_value_pairs():
    assert parse_parameters(["A=1", "Url=http://x/?a=b"]) == {"A": "1", "Url": "http://x/?a=b"}
    with pytest.raises(ValueError, match="Key=Value"):
        parse_parameters(["missing-separator"])


def test_main_refuses_a_malformed_parameter(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--param", "oops"])
    assert exit_info.value.code == 2
    assert "Key=Value" in capsys.readouterr().err
