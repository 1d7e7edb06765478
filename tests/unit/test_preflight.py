"""Nothing is changed when a run is refused; a valid run gets its names and configuration."""

import pytest

from support.rds_fixtures import make_cluster, make_instance
from trapheus import steps
from trapheus.errors import (
    DatabaseNotAvailableError,
    DatabaseNotFoundError,
    IdentifierInUseError,
    InvalidInputError,
    SnapshotNotFoundError,
)

EXECUTION = {"Name": "run-1", "StartTime": "2026-01-01T00:00:00Z"}


def validate(input_, settings=None):
    return steps.validate_input({"input": input_, "execution": EXECUTION, "settings": settings or {"pollSeconds": 1, "maxAttempts": 3}})


def test_valid_cluster_run_gets_names_for_every_member(aws):
    make_cluster(aws.client("rds"), aws.client("ec2"), members=2)
    state = validate({"identifier": "ledger", "task": "create_snapshot", "isCluster": True})
    assert state["names"]["aside"] == "ledger-trapheus-old"
    assert [m["original"] for m in state["names"]["members"]] == ["ledger-1", "ledger-2"]
    assert state["configuration"]["members"][0]["writer"] is True
    assert state["settings"] == {"pollSeconds": 1, "maxAttempts": 3}


def test_db_restore_without_snapshot_is_refused_before_any_change(aws):
    rds = aws.client("rds")
    make_instance(rds, aws.client("ec2"))
    with pytest.raises(SnapshotNotFoundError):
        validate({"identifier": "orders-db", "task": "db_restore", "isCluster": False})
    assert [i["DBInstanceIdentifier"] for i in rds.describe_db_instances()["DBInstances"]] == ["orders-db"]


def test_missing_database_is_refused(aws):
    with pytest.raises(DatabaseNotFoundError, match="'ghost' does not exist"):
        validate({"identifier": "ghost", "task": "create_snapshot_only", "isCluster": False})


def test_cluster_member_given_as_instance_is_refused_with_a_hint(aws):
    make_cluster(aws.client("rds"), aws.client("ec2"), members=1)
    with pytest.raises(InvalidInputError, match="member of Aurora cluster 'ledger'"):
        validate({"identifier": "ledger-1", "task": "db_restore", "isCluster": False})


def test_leftover_temporary_identifier_is_refused(aws):
    rds, ec2 = aws.client("rds"), aws.client("ec2")
    make_instance(rds, ec2)
    make_instance(rds, ec2, identifier="orders-db-trapheus-old")
    with pytest.raises(IdentifierInUseError, match="orders-db-trapheus-old"):
        validate({"identifier": "orders-db", "task": "create_snapshot", "isCluster": False})


def test_database_not_available_is_refused(aws, monkeypatch):
    make_instance(aws.client("rds"), aws.client("ec2"))
    from trapheus import preflight

    real = preflight.find

    def modifying(kind, identifier, client=None):
        found = real(kind, identifier, client)
        return {**found, "DBInstanceStatus": "modifying"} if found and identifier == "orders-db" else found

    monkeypatch.setattr(preflight, "find", modifying)
    with pytest.raises(DatabaseNotAvailableError, match="'modifying'"):
        validate({"identifier": "orders-db", "task": "create_snapshot", "isCluster": False})


@pytest.mark.parametrize("settings", [{"pollSeconds": -1, "maxAttempts": 3}, {"pollSeconds": 1, "maxAttempts": 0}, {"pollSeconds": "5", "maxAttempts": 3}])
def test_bad_settings_are_refused(aws, settings):
    make_instance(aws.client("rds"), aws.client("ec2"))
    with pytest.raises(InvalidInputError, match="setting"):
        validate({"identifier": "orders-db", "task": "create_snapshot_only", "isCluster": False}, settings)


def test_plan_lists_every_blocker_and_what_would_happen_without_changing_anything(aws):
    rds, ec2 = aws.client("rds"), aws.client("ec2")
    make_instance(rds, ec2)
    make_instance(rds, ec2, identifier="orders-db-trapheus-new")
    def world():
        return [(i["DBInstanceIdentifier"], i["DBInstanceStatus"], i["DbiResourceId"]) for i in rds.describe_db_instances()["DBInstances"]]

    before = world()
    report = steps.validate_input({"action": "plan", "input": {"identifier": "orders-db", "task": "plan", "isCluster": False},
                                   "execution": EXECUTION})
    errors = [b["error"] for b in report["blockers"]]
    assert errors == ["IdentifierInUseError", "SnapshotNotFoundError"]
    assert report["ready"] is False and report["strategy"] == "swap"
    assert report["creates"] == ["orders-db-trapheus-new"]
    assert ["orders-db-trapheus-new", "orders-db"] in report["renames"]
    assert report["deletes"][0]["identifier"] == "orders-db-trapheus-old"
    assert report["configuration"]["settings"]["Port"] == 3307
    assert world() == before
    assert rds.describe_db_snapshots(SnapshotType="manual")["DBSnapshots"] == []


def test_plan_reports_the_snapshot_age_and_a_held_lock(aws, monkeypatch):
    rds, ec2, dynamodb = aws.client("rds"), aws.client("ec2"), aws.client("dynamodb")
    make_instance(rds, ec2)
    rds.create_db_snapshot(DBInstanceIdentifier="orders-db", DBSnapshotIdentifier="orders-db-snapshot")
    dynamodb.create_table(TableName="locks", KeySchema=[{"AttributeName": "lockId", "KeyType": "HASH"}],
                          AttributeDefinitions=[{"AttributeName": "lockId", "AttributeType": "S"}], BillingMode="PAY_PER_REQUEST")
    dynamodb.put_item(TableName="locks", Item={"lockId": {"S": "instance:orders-db"}, "execution": {"S": "other-run"},
                                               "expiresAt": {"N": "99999999999"}})
    monkeypatch.setenv("LOCK_TABLE_NAME", "locks")
    report = steps.validate_input({"action": "plan", "input": {"identifier": "orders-db", "task": "plan", "isCluster": False,
                                                                "strategy": "in-place"}, "execution": EXECUTION})
    assert report["snapshot"]["status"] == "available" and report["snapshot"]["ageHours"] is not None
    assert report["blockers"] == [{"error": "RestoreInProgressError", "message": "run other-run holds the lock on 'orders-db'"}]
    assert report["creates"] == ["orders-db"] and report["strategy"] == "in-place"
