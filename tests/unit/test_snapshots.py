"""Snapshot steps: take, replace, copy, remove — idempotent, never leaving zero snapshots."""

import pytest

from support.fakes import FailingClient
from support.rds_fixtures import make_cluster, make_instance
from trapheus import snapshots
from trapheus.clients import client as _client


def aws_rds():
    return _client("rds")
from trapheus.errors import SnapshotError, SnapshotNotAvailableError, SnapshotNotFoundError, ThrottlingError
from trapheus.kinds import CLUSTER, INSTANCE


@pytest.fixture(params=[INSTANCE, CLUSTER], ids=["instance", "cluster"])
def database(request, aws):
    rds, ec2 = aws.client("rds"), aws.client("ec2")
    if request.param is CLUSTER:
        make_cluster(rds, ec2, members=1)
        return CLUSTER, "ledger"
    make_instance(rds, ec2)
    return INSTANCE, "orders-db"


def test_take_starts_once_then_reports_already(database):
    kind, identifier = database
    assert snapshots.take(kind, identifier, "s-next") == "started"
    assert snapshots.take(kind, identifier, "s-next") == "already"
    assert snapshots.find_snapshot(kind, "s-next")["Status"] == "available"


def test_take_of_a_missing_database_is_a_snapshot_error(database):
    kind, _ = database
    with pytest.raises(SnapshotError, match="creating snapshot 's' of 'missing'"):
        snapshots.take(kind, "missing", "s")


def test_refresh_sequence_keeps_a_snapshot_at_every_step(database):
    kind, identifier = database
    snapshots.take(kind, identifier, "s")
    snapshots.take(kind, identifier, "s-next")
    seen = []
    for step in (
        lambda: snapshots.remove(kind, "s"),
        lambda: snapshots.copy(kind, "s-next", "s"),
        lambda: snapshots.remove(kind, "s-next"),
    ):
        step()
        seen.append({n for n in ("s", "s-next") if snapshots.find_snapshot(kind, n)})
    assert all(seen), seen
    assert seen[-1] == {"s"}


def test_remove_and_copy_are_idempotent(database):
    kind, identifier = database
    snapshots.take(kind, identifier, "a")
    assert snapshots.copy(kind, "a", "b") == "started"
    assert snapshots.copy(kind, "a", "b") == "already"
    assert snapshots.remove(kind, "b") == "deleting"
    assert snapshots.remove(kind, "b") == "already"


def test_copy_from_a_missing_snapshot_fails_clearly(database):
    kind, _ = database
    with pytest.raises(SnapshotError, match="copying snapshot 'nope'"):
        snapshots.copy(kind, "nope", "b")


def test_require_available_names_the_missing_snapshot(database):
    kind, _ = database
    with pytest.raises(SnapshotNotFoundError, match="'absent'.*create_snapshot"):
        snapshots.require_available(kind, "absent")


def test_require_available_refuses_a_snapshot_in_another_state(database, monkeypatch):
    kind, identifier = database
    snapshots.take(kind, identifier, "s")
    found = snapshots.find_snapshot(kind, "s")
    monkeypatch.setattr(snapshots, "find_snapshot", lambda *a, **k: {**found, "Status": "creating"})
    with pytest.raises(SnapshotNotAvailableError, match="'creating'"):
        snapshots.require_available(kind, "s")


def test_throttled_create_becomes_the_retryable_error(database):
    kind, identifier = database
    client = FailingClient(aws_rds(), kind.snapshot.create_op)
    with pytest.raises(ThrottlingError):
        snapshots.take(kind, identifier, "s", rds=client)
    assert client.calls == 1
