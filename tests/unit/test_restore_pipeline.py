"""The restore pipeline, step by step as the workflow calls it, for an instance and a cluster.

Each test drives the step functions in the order the state machine does and checks
the result the user cares about: the twin under the original identifier, the
original retired with a final snapshot, or — when something fails — the original
back under its own identifier.
"""

import pytest

from support.rds_fixtures import make_cluster, make_instance
from trapheus import steps
from trapheus.configuration import twin_differences
from trapheus.databases import capture, find
from trapheus.errors import IdentifierInUseError, RestoreError
from trapheus.kinds import CLUSTER, INSTANCE

EXECUTION = {"Name": "run-1", "StartTime": "2000-01-01T00:00:00Z"}


def run_until_restored(identifier, is_cluster):
    state = steps.validate_input(
        {"input": {"identifier": identifier, "task": "create_snapshot", "isCluster": is_cluster}, "execution": EXECUTION,
         "settings": {"pollSeconds": 0, "maxAttempts": 3}}
    )
    event = lambda action: {"action": action, **state, "execution": EXECUTION}  # noqa: E731
    for action in ("take", "remove_old", "copy_into_place", "remove_next"):
        steps.snapshot(event(action))
    steps.rename(event("aside"))
    steps.restore_step(event("restore"))
    steps.restore_step(event("configure"))
    return state, event


@pytest.mark.parametrize("is_cluster", [False, True], ids=["instance", "cluster"])
def test_restored_database_is_the_originals_twin_attribute_by_attribute(shimmed_aws, is_cluster):
    rds, ec2 = shimmed_aws.client("rds"), shimmed_aws.client("ec2")
    kind, identifier = (CLUSTER, "ledger") if is_cluster else (INSTANCE, "orders-db")
    make_cluster(rds, ec2, members=3) if is_cluster else make_instance(rds, ec2)
    before = capture(kind, identifier)
    state, event = run_until_restored(identifier, is_cluster)
    after = capture(kind, identifier)
    for name, value in before["settings"].items():
        assert after["settings"].get(name) == value, name
    assert after["tags"] == before["tags"]
    for wanted, found in zip(before.get("members", []), after.get("members", []), strict=True):
        assert (found["identifier"], found["writer"]) == (wanted["identifier"], wanted["writer"])
        for name, value in wanted["settings"].items():
            assert found["settings"].get(name) == value, (wanted["identifier"], name)
    assert twin_differences(before, after) == []
    assert steps.restore_step(event("verify"))["result"] == "twin"


@pytest.mark.parametrize("is_cluster", [False, True], ids=["instance", "cluster"])
def test_retiring_the_original_keeps_a_final_snapshot(shimmed_aws, is_cluster):
    rds, ec2 = shimmed_aws.client("rds"), shimmed_aws.client("ec2")
    kind, identifier = (CLUSTER, "ledger") if is_cluster else (INSTANCE, "orders-db")
    make_cluster(rds, ec2, members=2) if is_cluster else make_instance(rds, ec2)
    state, event = run_until_restored(identifier, is_cluster)
    result = steps.delete(event("retire"))
    assert result == {"result": "deleting", "identifier": state["names"]["aside"], "finalSnapshot": state["names"]["finalSnapshot"]}
    assert find(kind, state["names"]["aside"]) is None
    snapshot = kind.snapshot
    finals = getattr(rds, snapshot.describe_op)(**{snapshot.id_param: state["names"]["finalSnapshot"]})[snapshot.list_key]
    assert len(finals) == 1
    assert steps.delete(event("retire"))["result"] == "already"


@pytest.mark.parametrize("is_cluster", [False, True], ids=["instance", "cluster"])
def test_rollback_puts_the_original_back(shimmed_aws, is_cluster):
    rds, ec2 = shimmed_aws.client("rds"), shimmed_aws.client("ec2")
    kind, identifier = (CLUSTER, "ledger") if is_cluster else (INSTANCE, "orders-db")
    make_cluster(rds, ec2, members=2) if is_cluster else make_instance(rds, ec2)
    original_resource = find(kind, identifier)["DbClusterResourceId" if is_cluster else "DbiResourceId"]
    state, event = run_until_restored(identifier, is_cluster)
    assert steps.delete(event("discard"))["result"] == "deleting"
    assert steps.rename(event("back"))["result"] == "renamed"
    back = find(kind, identifier)
    assert back["DbClusterResourceId" if is_cluster else "DbiResourceId"] == original_resource
    assert find(kind, state["names"]["aside"]) is None
    if is_cluster:
        assert sorted(m["DBInstanceIdentifier"] for m in back["DBClusterMembers"]) == ["ledger-1", "ledger-2"]


def test_discard_never_deletes_when_the_original_is_not_safely_aside(shimmed_aws):
    rds, ec2 = shimmed_aws.client("rds"), shimmed_aws.client("ec2")
    make_instance(rds, ec2)
    state = steps.validate_input({"input": {"identifier": "orders-db", "task": "create_snapshot", "isCluster": False},
                                  "execution": EXECUTION, "settings": {}})
    # failure before the rename: the database at the original identifier IS the original
    assert steps.delete({"action": "discard", **state, "execution": EXECUTION})["result"] == "kept"
    assert find(INSTANCE, "orders-db") is not None


def test_restore_into_an_identifier_that_predates_the_run_is_refused(shimmed_aws):
    rds, ec2 = shimmed_aws.client("rds"), shimmed_aws.client("ec2")
    make_instance(rds, ec2)
    state = steps.validate_input({"input": {"identifier": "orders-db", "task": "create_snapshot", "isCluster": False},
                                  "execution": {"Name": "r", "StartTime": "2999-01-01T00:00:00Z"}, "settings": {}})
    event = {"action": "restore", **state, "execution": {"Name": "r", "StartTime": "2999-01-01T00:00:00Z"}}
    with pytest.raises(IdentifierInUseError):
        steps.restore_step(event)


def test_restore_from_a_missing_snapshot_raises_restore_error(shimmed_aws):
    rds, ec2 = shimmed_aws.client("rds"), shimmed_aws.client("ec2")
    make_instance(rds, ec2)
    state = steps.validate_input({"input": {"identifier": "orders-db", "task": "create_snapshot", "isCluster": False},
                                  "execution": EXECUTION, "settings": {}})
    event = lambda action: {"action": action, **state, "execution": EXECUTION}  # noqa: E731
    steps.rename(event("aside"))
    with pytest.raises(RestoreError, match="restoring 'orders-db-snapshot'"):
        steps.restore_step(event("restore"))


def test_verify_reports_a_setting_that_did_not_carry(shimmed_aws):
    rds, ec2 = shimmed_aws.client("rds"), shimmed_aws.client("ec2")
    make_instance(rds, ec2)
    state, event = run_until_restored("orders-db", False)
    rds.modify_db_instance(DBInstanceIdentifier="orders-db", BackupRetentionPeriod=3, ApplyImmediately=True)
    with pytest.raises(RestoreError, match="BackupRetentionPeriod: wanted 9, found 3"):
        steps.restore_step(event("verify"))


@pytest.mark.parametrize("is_cluster", [False, True], ids=["instance", "cluster"])
def test_swap_restores_beside_the_original_then_takes_its_identifier(shimmed_aws, is_cluster):
    rds, ec2 = shimmed_aws.client("rds"), shimmed_aws.client("ec2")
    kind, identifier = (CLUSTER, "ledger") if is_cluster else (INSTANCE, "orders-db")
    make_cluster(rds, ec2, members=2) if is_cluster else make_instance(rds, ec2)
    before = capture(kind, identifier)
    state = steps.validate_input({"input": {"identifier": identifier, "task": "create_snapshot", "isCluster": is_cluster},
                                  "execution": EXECUTION, "settings": {}})
    event = lambda action, **extra: {"action": action, **state, "execution": EXECUTION, **extra}  # noqa: E731
    for action in ("take", "remove_old", "copy_into_place", "remove_next"):
        steps.snapshot(event(action))
    for action in ("restore", "configure", "verify"):
        steps.restore_step(event(action, target="staged"))
        # the original keeps serving under its own identifier while the copy is prepared
        assert find(kind, identifier)[kind.arn_key].endswith(identifier)
        assert capture(kind, identifier)["resourceId"] == before["resourceId"]
    staged = capture(kind, state["names"]["staged"])
    assert staged["resourceId"] != before["resourceId"]
    steps.rename(event("aside"))
    steps.rename(event("stage_in"))
    after = capture(kind, identifier)
    assert after["resourceId"] == staged["resourceId"]
    assert twin_differences(before, after) == []
    assert capture(kind, state["names"]["aside"])["resourceId"] == before["resourceId"]


def test_swap_rollback_discards_the_staged_copy_and_never_the_original(shimmed_aws):
    rds, ec2 = shimmed_aws.client("rds"), shimmed_aws.client("ec2")
    make_instance(rds, ec2)
    original = capture(INSTANCE, "orders-db")["resourceId"]
    state = steps.validate_input({"input": {"identifier": "orders-db", "task": "create_snapshot", "isCluster": False},
                                  "execution": EXECUTION, "settings": {}})
    event = lambda action, **extra: {"action": action, **state, "execution": EXECUTION, **extra}  # noqa: E731
    for action in ("take", "remove_old", "copy_into_place", "remove_next"):
        steps.snapshot(event(action))
    steps.restore_step(event("restore", target="staged"))
    # rollback sequence of the workflow: copy at the original id, rename back, staged copy
    assert steps.delete(event("discard", target="original"))["result"] == "kept"
    assert steps.rename(event("back"))["result"] == "already"
    assert steps.delete(event("discard", target="staged")) == {"result": "deleting", "identifier": "orders-db-trapheus-new"}
    assert capture(INSTANCE, "orders-db")["resourceId"] == original
    assert find(INSTANCE, "orders-db-trapheus-new") is None
