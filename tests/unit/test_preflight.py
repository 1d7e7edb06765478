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

    real = preflight.describe
    monkeypatch.setattr(preflight, "describe", lambda *a, **k: {**real(*a, **k), "DBInstanceStatus": "modifying"})
    with pytest.raises(DatabaseNotAvailableError, match="'modifying'"):
        validate({"identifier": "orders-db", "task": "create_snapshot", "isCluster": False})


@pytest.mark.parametrize("settings", [{"pollSeconds": -1, "maxAttempts": 3}, {"pollSeconds": 1, "maxAttempts": 0}, {"pollSeconds": "5", "maxAttempts": 3}])
def test_bad_settings_are_refused(aws, settings):
    make_instance(aws.client("rds"), aws.client("ec2"))
    with pytest.raises(InvalidInputError, match="setting"):
        validate({"identifier": "orders-db", "task": "create_snapshot_only", "isCluster": False}, settings)
