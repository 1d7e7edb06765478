"""The status check answers done / waiting / failed from one look, never sleeping."""

import pytest

from support.fakes import FailingClient
from support.rds_fixtures import make_cluster, make_instance
from trapheus import waiters
from trapheus.errors import InvalidInputError, ThrottlingError
from trapheus.kinds import CLUSTER, INSTANCE
from trapheus.waiters import SNAPSHOT_NOT_FOUND_GRACE, Outcome, Target, _judge, _probes


def check(identifier, target, is_cluster=False, attempt=0, **extra):
    return waiters.check({"identifier": identifier, "isCluster": is_cluster, "target": target, "attempt": attempt, **extra})


def instance_response(status, pending=None):
    return {"DBInstances": [{"DBInstanceStatus": status, "PendingModifiedValues": pending or {}}]}


@pytest.mark.parametrize(
    ("status", "pending", "outcome"),
    [
        ("available", None, Outcome.DONE),
        ("storage-optimization", None, Outcome.DONE),  # fully operational; only a storage change waits
        ("storage-initialization", None, Outcome.DONE),
        ("available", {"DBInstanceClass": "db.r6g.large"}, None),  # change still pending
        ("backing-up", None, None),  # modifications and renames are refused until it is available
        ("creating", None, None),
        ("renaming", None, None),
        ("failed", None, Outcome.FAILED),
        ("incompatible-restore", None, Outcome.FAILED),
        ("incompatible-parameters", None, Outcome.FAILED),
        ("incompatible-create", None, Outcome.FAILED),
        ("insufficient-capacity", None, Outcome.FAILED),
        ("inaccessible-encryption-credentials", None, Outcome.FAILED),
        ("inaccessible-encryption-credentials-recoverable", None, Outcome.FAILED),
        ("stopped", None, Outcome.FAILED),
        ("storage-full", None, Outcome.FAILED),
    ],
)
def test_instance_settled_acceptors(status, pending, outcome):
    probe = _probes(INSTANCE, Target.AVAILABLE, "db", None, 0)[0]
    assert _judge(probe, instance_response(status, pending)) == outcome


@pytest.mark.parametrize("status", ["inaccessible-encryption-credentials", "stopped", "insufficient-capacity", "failed"])
def test_cluster_failure_statuses_end_the_wait(status):
    probe = _probes(CLUSTER, Target.AVAILABLE, "c", 2, 0)[0]
    assert _judge(probe, {"DBClusters": [{"Status": status}]}) is Outcome.FAILED


def members(*statuses):
    return {"DBInstances": [{"DBInstanceStatus": s, "PendingModifiedValues": {}} for s in statuses]}


@pytest.mark.parametrize(
    ("expected", "response", "outcome"),
    [
        (2, members("available", "available"), Outcome.DONE),
        (2, members("available"), None),  # a member is still to come
        (2, members(), None),  # a cluster restored a moment ago has no members yet: not settled
        (None, members(), None),
        (2, members("available", "creating"), None),
        (2, members("available", "failed"), Outcome.FAILED),
        (0, members(), Outcome.DONE),  # a cluster that had no instances
    ],
)
def test_a_settled_cluster_has_the_expected_members(expected, response, outcome):
    probe = _probes(CLUSTER, Target.AVAILABLE, "c", expected, 0)[1]
    assert _judge(probe, response) == outcome


def test_ready_looks_at_the_cluster_alone():
    assert len(_probes(CLUSTER, Target.READY, "c", 2, 0)) == 1


def test_available_instance_is_done_and_attempt_counts_up(strict_aws):
    with strict_aws.settled():
        make_instance(strict_aws.client("rds"), strict_aws.client("ec2"))
    result = check("orders-db", "available", attempt=4)
    assert result["state"] == "done" and result["attempt"] == 5 and "error" not in result


def test_a_cluster_is_available_only_with_all_its_members(strict_aws):
    with strict_aws.settled():
        make_cluster(strict_aws.client("rds"), strict_aws.client("ec2"), members=2)
    assert check("ledger", "available", is_cluster=True, expectedMembers=2)["state"] == "done"
    assert check("ledger", "available", is_cluster=True, expectedMembers=3)["state"] == "waiting"


def test_missing_database_is_still_waiting_for_available(strict_aws):
    # right after a create or a rename the identifier may not resolve yet
    assert check("not-there-yet", "available")["state"] == "waiting"


def test_missing_database_means_deleted(strict_aws):
    assert check("gone", "deleted")["state"] == "done"
    assert check("gone", "deleted", is_cluster=True)["state"] == "done"


def test_a_snapshot_not_found_at_first_is_waited_for_then_a_failure(strict_aws):
    # RDS is eventually consistent: the first looks at a snapshot just created may not find it
    for attempt in range(SNAPSHOT_NOT_FOUND_GRACE):
        assert check("never-taken", "snapshot_available", attempt=attempt)["state"] == "waiting"
    result = check("never-taken", "snapshot_available", attempt=SNAPSHOT_NOT_FOUND_GRACE)
    assert result["state"] == "failed"
    assert result["error"]["Error"] == "DatabaseFailedError"


def test_a_snapshot_just_taken_is_found_by_a_later_look(strict_aws):
    rds = strict_aws.client("rds")
    with strict_aws.settled():
        make_instance(rds, strict_aws.client("ec2"))
    rds.create_db_snapshot(DBInstanceIdentifier="orders-db", DBSnapshotIdentifier="fresh")
    assert check("fresh", "snapshot_available")["state"] == "waiting"  # not found yet: eventual consistency
    assert check("fresh", "snapshot_available", attempt=1)["state"] == "waiting"  # creating
    strict_aws.settle()
    assert check("fresh", "snapshot_available", attempt=2)["state"] == "done"


def test_existing_database_while_waiting_for_deletion_keeps_waiting(strict_aws):
    with strict_aws.settled():
        make_instance(strict_aws.client("rds"), strict_aws.client("ec2"))
    assert check("orders-db", "deleted")["state"] == "waiting"


@pytest.mark.parametrize(("status", "outcome"), [("deleting", Outcome.WAITING), ("creating", Outcome.FAILED), ("modifying", Outcome.FAILED)])
def test_cluster_deletion_follows_botocores_waiter(status, outcome):
    probe = _probes(CLUSTER, Target.DELETED, "c", None, 0)[0]
    assert probe.waiter == "DBClusterDeleted"
    assert (_judge(probe, {"DBClusters": [{"Status": status}]}) or Outcome.WAITING) is outcome


def test_renames_in_flight_hold_the_rollback_until_they_are_done(strict_aws):
    rds = strict_aws.client("rds")
    with strict_aws.settled():
        make_instance(rds, strict_aws.client("ec2"))
    names = {"original": "orders-db", "aside": "orders-db-trapheus-old", "staged": "orders-db-trapheus-new", "members": []}
    assert check("orders-db", "renames_settled", names=names)["state"] == "done"
    rds.modify_db_instance(DBInstanceIdentifier="orders-db", NewDBInstanceIdentifier="orders-db-trapheus-old", ApplyImmediately=True)
    waiting = check("orders-db", "renames_settled", names=names)
    assert waiting["state"] == "waiting" and "orders-db-trapheus-old:renaming" in waiting["status"]
    strict_aws.settle()
    assert check("orders-db", "renames_settled", names=names)["state"] == "done"


def test_throttling_is_raised_as_the_retryable_error(strict_aws):
    client = FailingClient(strict_aws.client("rds"), "describe_db_instances")
    with pytest.raises(ThrottlingError):
        waiters.evaluate(INSTANCE, Target.AVAILABLE, "orders-db", client)


def test_unknown_target_is_refused():
    with pytest.raises(InvalidInputError):
        check("db", "exploded")
