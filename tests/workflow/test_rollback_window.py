"""A replaced original kept as a rollback window is never lost, and is retired once its time is up."""

from __future__ import annotations

import pytest

from support.rds_fixtures import STACK_PARAMETERS, make_instance
from trapheus.retention import RETIRE_AFTER_TAG

PARAMETERS = {
    "LogLevel": "WARNING", "PollIntervalSeconds": "900", "MaxPollAttempts": "6", "RetainOldCopyHours": "24",
    **STACK_PARAMETERS, "ManagedDatabasePattern": "orders-db*",  # the one database here, and every name derived from it
}


def tags(rds, identifier):
    arn = rds.describe_db_instances(DBInstanceIdentifier=identifier)["DBInstances"][0]["DBInstanceArn"]
    return {t["Key"]: t["Value"] for t in rds.list_tags_for_resource(ResourceName=arn)["TagList"]}, arn


@pytest.mark.parametrize("strategy", ["swap", "in-place"])
def test_kept_original_blocks_until_its_window_ends_then_is_retired_with_a_final_snapshot(emulator, real_template, strategy):
    deployment = emulator.deploy(real_template, PARAMETERS)
    rds = emulator.client("rds")
    with emulator.settled():
        make_instance(rds, emulator.client("ec2"))
    original_id = rds.describe_db_instances(DBInstanceIdentifier="orders-db")["DBInstances"][0]["DbiResourceId"]
    run = {"identifier": "orders-db", "task": "create_snapshot", "isCluster": False, "strategy": strategy}

    first = deployment.run("RestoreStateMachine", run)
    assert first.status == "SUCCEEDED", first.cause
    kept, _ = tags(rds, "orders-db-trapheus-old")
    assert RETIRE_AFTER_TAG in kept
    assert rds.describe_db_instances(DBInstanceIdentifier="orders-db-trapheus-old")["DBInstances"][0]["DbiResourceId"] == original_id

    inside_window = deployment.run("RestoreStateMachine", run)
    assert inside_window.status == "FAILED" and inside_window.error == "IdentifierInUseError"
    assert "rollback window" in inside_window.cause

    _, arn = tags(rds, "orders-db-trapheus-old")
    rds.add_tags_to_resource(ResourceName=arn, Tags=[{"Key": RETIRE_AFTER_TAG, "Value": "2000-01-01T00:00:00+00:00"}])
    after_window = deployment.run("RestoreStateMachine", run)
    assert after_window.status == "SUCCEEDED", after_window.cause
    assert "Retire the expired old copy" in after_window.entered_states
    finals = [s["DBSnapshotIdentifier"] for s in rds.describe_db_snapshots(SnapshotType="manual")["DBSnapshots"]]
    assert any(f.startswith("orders-db-trapheus-final-") and f.endswith("-kept") for f in finals), finals
    # the second run's replaced database is the new kept copy
    assert RETIRE_AFTER_TAG in tags(rds, "orders-db-trapheus-old")[0]
