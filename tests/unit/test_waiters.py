"""The status check answers done / waiting / failed from one look, never sleeping."""

import pytest

from support.fakes import FailingClient
from support.rds_fixtures import make_instance
from trapheus import waiters
from trapheus.errors import InvalidInputError, ThrottlingError
from trapheus.kinds import CLUSTER, INSTANCE
from trapheus.waiters import Outcome, Target, _judge, _probes


def check(identifier, target, is_cluster=False, attempt=0):
    return waiters.check({"identifier": identifier, "isCluster": is_cluster, "target": target, "attempt": attempt})


def instance_response(status, pending=None):
    return {"DBInstances": [{"DBInstanceStatus": status, "PendingModifiedValues": pending or {}}]}


@pytest.mark.parametrize(
    ("status", "pending", "outcome"),
    [
        ("available", None, Outcome.DONE),
        ("available", {"DBInstanceClass": "db.r6g.large"}, None),  # change still pending
        ("creating", None, None),
        ("renaming", None, None),
        ("failed", None, Outcome.FAILED),
        ("incompatible-restore", None, Outcome.FAILED),
        ("storage-full", None, Outcome.FAILED),
    ],
)
def test_instance_settled_acceptors(status, pending, outcome):
    probe = _probes(INSTANCE, Target.AVAILABLE, "db")[0]
    assert _judge(probe, instance_response(status, pending)) == outcome


def test_cluster_failure_status_is_failed():
    probe = _probes(CLUSTER, Target.AVAILABLE, "c")[0]
    assert _judge(probe, {"DBClusters": [{"Status": "inaccessible-encryption-credentials"}]}) is Outcome.FAILED


def test_available_instance_is_done_and_attempt_counts_up(aws):
    make_instance(aws.client("rds"), aws.client("ec2"))
    result = check("orders-db", "available", attempt=4)
    assert result["state"] == "done" and result["attempt"] == 5 and "error" not in result


def test_missing_database_is_still_waiting_for_available(aws):
    # right after a rename the new identifier may not resolve yet
    assert check("not-there-yet", "available")["state"] == "waiting"


def test_missing_database_means_deleted(aws):
    assert check("gone", "deleted")["state"] == "done"
    assert check("gone", "deleted", is_cluster=True)["state"] == "done"


def test_missing_snapshot_while_waiting_for_it_is_a_failure(aws):
    result = check("never-taken", "snapshot_available")
    assert result["state"] == "failed"
    assert result["error"]["Error"] == "DatabaseFailedError"


def test_existing_database_while_waiting_for_deletion_keeps_waiting(aws):
    make_instance(aws.client("rds"), aws.client("ec2"))
    assert check("orders-db", "deleted")["state"] == "waiting"


@pytest.mark.parametrize(("status", "outcome"), [("deleting", Outcome.WAITING), ("available", Outcome.FAILED)])
def test_cluster_deletion_acceptors(status, outcome):
    probe = _probes(CLUSTER, Target.DELETED, "c")[0]
    assert (_judge(probe, {"DBClusters": [{"Status": status}]}) or Outcome.WAITING) is outcome


def test_throttling_is_raised_as_the_retryable_error(aws):
    client = FailingClient(aws.client("rds"), "describe_db_instances")
    with pytest.raises(ThrottlingError):
        waiters.evaluate(INSTANCE, Target.AVAILABLE, "orders-db", client)


def test_unknown_target_is_refused():
    with pytest.raises(InvalidInputError):
        check("db", "exploded")
