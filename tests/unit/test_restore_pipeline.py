"""The restore pipeline, step by step as the workflow calls it, for an instance and a cluster, on the strict RDS model.

Each test drives the step functions in the order the state machine does, letting time pass where the
workflow waits (``settle``), and checks the result the user cares about: the twin under the original
identifier, the original retired with a final snapshot, or — when something fails — the original back
under its own identifier.
"""

import pytest
from botocore.exceptions import ClientError

from support.rds_fixtures import make_cluster, make_instance
from trapheus import steps
from trapheus.configuration import twin_differences
from trapheus.databases import capture, find
from trapheus.errors import IdentifierInUseError, RestoreError
from trapheus.kinds import CLUSTER, INSTANCE

EXECUTION = {"Name": "run-1", "StartTime": "2000-01-01T00:00:00Z"}


def create(strict_aws, is_cluster, members=2):
    rds, ec2 = strict_aws.client("rds"), strict_aws.client("ec2")
    with strict_aws.settled():
        make_cluster(rds, ec2, members=members) if is_cluster else make_instance(rds, ec2)
    return (CLUSTER, "ledger") if is_cluster else (INSTANCE, "orders-db")


def validate(identifier, is_cluster, **extra):
    state = steps.validate_input(
        {"input": {"identifier": identifier, "task": "create_snapshot", "isCluster": is_cluster, **extra},
         "execution": EXECUTION, "settings": {"pollSeconds": 0, "maxAttempts": 3}}
    )
    return state, lambda action, **more: {"action": action, **state, "execution": EXECUTION, **more}


def refresh_snapshot(strict_aws, event):
    for action in ("take", "remove_old", "copy_into_place", "remove_next"):
        steps.snapshot(event(action))
        strict_aws.settle()


def add_members(strict_aws, event, **target):
    """The workflow's member loop: the writer once the cluster is available, then the readers."""
    for _ in range(4):
        if steps.restore_step(event("add_members", **target))["state"] == "done":
            return
        strict_aws.settle()
    raise AssertionError("the members never became available")


def run_in_place_until_restored(strict_aws, identifier, is_cluster):
    state, event = validate(identifier, is_cluster)
    refresh_snapshot(strict_aws, event)
    steps.rename(event("aside"))
    strict_aws.settle()
    steps.restore_step(event("restore"))
    strict_aws.settle()
    add_members(strict_aws, event)
    steps.restore_step(event("configure"))
    strict_aws.settle()
    return state, event


@pytest.mark.parametrize("is_cluster", [False, True], ids=["instance", "cluster"])
def test_restored_database_is_the_originals_twin_attribute_by_attribute(strict_aws, is_cluster):
    kind, identifier = create(strict_aws, is_cluster, members=3)
    before = capture(kind, identifier)
    state, event = run_in_place_until_restored(strict_aws, identifier, is_cluster)
    assert steps.restore_step(event("verify"))["result"] == "twin"
    steps.restore_step(event("protect"))
    strict_aws.settle()
    after = capture(kind, identifier)
    for name, value in before["settings"].items():
        assert after["settings"].get(name) == value, name
    assert after["tags"] == before["tags"]
    for wanted, found in zip(before.get("members", []), after.get("members", []), strict=True):
        assert (found["identifier"], found["writer"]) == (wanted["identifier"], wanted["writer"])
        for name, value in wanted["settings"].items():
            assert found["settings"].get(name) == value, (wanted["identifier"], name)
    assert twin_differences(before, after) == []
    assert steps.restore_step(event("verify_protected"))["result"] == "twin"


def test_members_are_created_only_once_the_cluster_is_available_writer_first(strict_aws):
    kind, identifier = create(strict_aws, True, members=3)
    state, event = validate(identifier, True)
    refresh_snapshot(strict_aws, event)
    steps.rename(event("aside"))
    strict_aws.settle()
    steps.restore_step(event("restore"))
    rds = strict_aws.client("rds")
    # the cluster is still being restored: RDS refuses members, so the step creates none and waits
    assert steps.restore_step(event("add_members"))["state"] == "waiting"
    assert rds.describe_db_instances(Filters=[{"Name": "db-cluster-id", "Values": [identifier]}])["DBInstances"] == []
    strict_aws.settle()
    first = steps.restore_step(event("add_members"))
    assert first["state"] == "waiting"
    created = [i["DBInstanceIdentifier"] for i in rds.describe_db_instances(Filters=[{"Name": "db-cluster-id", "Values": [identifier]}])["DBInstances"]]
    assert created == ["ledger-1"], "the writer comes alone, first"
    strict_aws.settle()
    steps.restore_step(event("add_members"))
    strict_aws.settle()
    assert steps.restore_step(event("add_members"))["state"] == "done"
    members = {m["DBInstanceIdentifier"]: m["IsClusterWriter"] for m in rds.describe_db_clusters(DBClusterIdentifier=identifier)["DBClusters"][0]["DBClusterMembers"]}
    assert members == {"ledger-1": True, "ledger-2": False, "ledger-3": False}


def test_a_copy_is_restored_unprotected_and_protected_once_verified(strict_aws):
    kind, identifier = create(strict_aws, False)
    state, event = run_in_place_until_restored(strict_aws, identifier, False)
    restore_call = [c for c in strict_aws.emulator.rds_calls.calls if c.operation == "RestoreDBInstanceFromDBSnapshot"][0]
    assert "DeletionProtection" not in restore_call.params
    assert capture(kind, identifier)["settings"]["DeletionProtection"] is False
    steps.restore_step(event("verify"))
    assert steps.restore_step(event("protect"))["changed"] == ["DeletionProtection"]
    strict_aws.settle()
    assert capture(kind, identifier)["settings"]["DeletionProtection"] is True


@pytest.mark.parametrize("is_cluster", [False, True], ids=["instance", "cluster"])
def test_retiring_the_original_keeps_a_final_snapshot(strict_aws, is_cluster):
    kind, identifier = create(strict_aws, is_cluster)
    state, event = run_in_place_until_restored(strict_aws, identifier, is_cluster)
    result = steps.delete(event("retire"))
    assert result == {"result": "deleting", "identifier": state["names"]["aside"], "finalSnapshot": state["names"]["finalSnapshot"]}
    strict_aws.settle()
    assert find(kind, state["names"]["aside"]) is None
    snapshot = kind.snapshot
    rds = strict_aws.client("rds")
    finals = getattr(rds, snapshot.describe_op)(**{snapshot.id_param: state["names"]["finalSnapshot"]})[snapshot.list_key]
    assert len(finals) == 1
    assert steps.delete(event("retire"))["result"] == "already"


@pytest.mark.parametrize("is_cluster", [False, True], ids=["instance", "cluster"])
def test_rollback_puts_the_original_back(strict_aws, is_cluster):
    kind, identifier = create(strict_aws, is_cluster)
    original_resource = find(kind, identifier)["DbClusterResourceId" if is_cluster else "DbiResourceId"]
    state, event = run_in_place_until_restored(strict_aws, identifier, is_cluster)
    discarded = steps.delete(event("discard"))
    # the copy held the original identifier, so clients may have written to it: it goes with a final snapshot
    assert discarded["result"] == "deleting" and discarded["finalSnapshot"] == state["names"]["rollbackSnapshot"]
    strict_aws.settle()
    assert steps.rename(event("back"))["result"] == "renamed"
    strict_aws.settle()
    back = find(kind, identifier)
    assert back["DbClusterResourceId" if is_cluster else "DbiResourceId"] == original_resource
    assert find(kind, state["names"]["aside"]) is None
    if is_cluster:
        assert sorted(m["DBInstanceIdentifier"] for m in back["DBClusterMembers"]) == ["ledger-1", "ledger-2"]
    snapshot = kind.snapshot
    kept = getattr(strict_aws.client("rds"), snapshot.describe_op)(**{snapshot.id_param: state["names"]["rollbackSnapshot"]})
    assert len(kept[snapshot.list_key]) == 1


def test_renaming_back_while_the_rename_is_under_way_is_refused_by_rds(strict_aws):
    kind, identifier = create(strict_aws, False)
    state, event = validate(identifier, False)
    steps.rename(event("aside"))  # no time passes: the original is still renaming
    with pytest.raises(Exception, match="InvalidDBInstanceState"):
        steps.rename(event("back"))
    assert steps.check_status({"identifier": identifier, "isCluster": False, "target": "renames_settled",
                               "names": state["names"], "attempt": 0})["state"] == "waiting"
    strict_aws.settle()
    assert steps.check_status({"identifier": identifier, "isCluster": False, "target": "renames_settled",
                               "names": state["names"], "attempt": 0})["state"] == "done"
    assert steps.rename(event("back"))["result"] == "renamed"


def test_discard_never_deletes_when_the_original_is_not_safely_aside(strict_aws):
    create(strict_aws, False)
    state, event = validate("orders-db", False)
    # failure before the rename: the database at the original identifier IS the original
    assert steps.delete(event("discard"))["result"] == "kept"
    assert find(INSTANCE, "orders-db") is not None


def test_restore_into_an_identifier_that_predates_the_run_is_refused(strict_aws):
    create(strict_aws, False)
    state, event = validate("orders-db", False)
    with pytest.raises(IdentifierInUseError):
        steps.restore_step(event("restore"))


def test_restore_from_a_missing_snapshot_raises_restore_error(strict_aws):
    create(strict_aws, False)
    state, event = validate("orders-db", False)
    steps.rename(event("aside"))
    strict_aws.settle()
    with pytest.raises(RestoreError, match="restoring 'orders-db-snapshot'"):
        steps.restore_step(event("restore"))


def test_verify_reports_a_setting_that_did_not_carry(strict_aws):
    create(strict_aws, False)
    state, event = run_in_place_until_restored(strict_aws, "orders-db", False)
    strict_aws.client("rds").modify_db_instance(DBInstanceIdentifier="orders-db", BackupRetentionPeriod=3, ApplyImmediately=True)
    strict_aws.settle()
    with pytest.raises(RestoreError, match="BackupRetentionPeriod: wanted 9, found 3"):
        steps.restore_step(event("verify"))


@pytest.mark.parametrize("is_cluster", [False, True], ids=["instance", "cluster"])
def test_swap_restores_beside_the_original_then_takes_its_identifier(strict_aws, is_cluster):
    kind, identifier = create(strict_aws, is_cluster)
    before = capture(kind, identifier)
    state, event = validate(identifier, is_cluster)
    refresh_snapshot(strict_aws, event)
    steps.restore_step(event("restore", target="staged"))
    strict_aws.settle()
    add_members(strict_aws, event, target="staged")
    for action in ("configure", "verify"):
        steps.restore_step(event(action, target="staged"))
        strict_aws.settle()
        # the original keeps serving under its own identifier while the copy is prepared
        assert capture(kind, identifier)["resourceId"] == before["resourceId"]
    staged = capture(kind, state["names"]["staged"])
    assert staged["resourceId"] != before["resourceId"]
    steps.rename(event("aside"))
    with pytest.raises(Exception, match="AlreadyExists"):
        steps.rename(event("stage_in"))  # the original identifier is free only once the rename is done
    strict_aws.settle()
    steps.rename(event("stage_in"))
    strict_aws.settle()
    steps.restore_step(event("protect"))
    strict_aws.settle()
    after = capture(kind, identifier)
    assert after["resourceId"] == staged["resourceId"]
    assert twin_differences(before, after) == []
    assert capture(kind, state["names"]["aside"])["resourceId"] == before["resourceId"]


def test_swap_rollback_discards_the_staged_copy_and_never_the_original(strict_aws):
    create(strict_aws, False)
    original = capture(INSTANCE, "orders-db")["resourceId"]
    state, event = validate("orders-db", False)
    refresh_snapshot(strict_aws, event)
    steps.restore_step(event("restore", target="staged"))
    strict_aws.settle()
    # rollback sequence of the workflow: copy at the original id, rename back, staged copy
    assert steps.delete(event("discard", target="original"))["result"] == "kept"
    assert steps.rename(event("back"))["result"] == "already"
    # the staged copy never held the original identifier: no final snapshot of a partial restore
    assert steps.delete(event("discard", target="staged")) == {"result": "deleting", "finalSnapshot": None, "identifier": "orders-db-trapheus-new"}
    strict_aws.settle()
    assert capture(INSTANCE, "orders-db")["resourceId"] == original
    assert find(INSTANCE, "orders-db-trapheus-new") is None


def test_a_managed_master_secret_is_turned_on_for_the_copy_and_reported(strict_aws):
    rds, ec2 = strict_aws.client("rds"), strict_aws.client("ec2")
    with strict_aws.settled():
        make_instance(rds, ec2)
        rds.modify_db_instance(DBInstanceIdentifier="orders-db", ManageMasterUserPassword=True, ApplyImmediately=True)
    original_secret = rds.describe_db_instances(DBInstanceIdentifier="orders-db")["DBInstances"][0]["MasterUserSecret"]["SecretArn"]
    state, event = run_in_place_until_restored(strict_aws, "orders-db", False)
    steps.restore_step(event("protect"))
    strict_aws.settle()
    verified = steps.restore_step(event("verify_protected"))
    assert verified["masterUserSecretArn"] and verified["masterUserSecretArn"] != original_secret
    steps.delete(event("retire"))
    strict_aws.settle()
    # the original's secret went with it; the copy's is there
    secrets = strict_aws.client("secretsmanager")
    secrets.describe_secret(SecretId=verified["masterUserSecretArn"])
    with pytest.raises(ClientError):
        secrets.describe_secret(SecretId=original_secret)


def test_settings_a_restore_does_not_take_by_itself_are_carried_and_verified(strict_aws, monkeypatch):
    """Lifecycle support (a restore defaults to paid extended support), the directory membership, the dedicated
    log volume, Database Insights, Performance Insights, associated roles and the CA all end up on the twin."""
    directory_role, s3_role = "arn:aws:iam::123456789012:role/rds-directory", "arn:aws:iam::123456789012:role/s3-import"
    monkeypatch.setenv("PASSABLE_ROLE_ARNS", ",".join([directory_role, s3_role]))
    rds = strict_aws.client("rds")
    with strict_aws.settled():
        rds.create_db_instance(
            DBInstanceIdentifier="billing-db", DBInstanceClass="db.m6g.large", Engine="postgres", EngineVersion="16.3",
            MasterUsername="admin", MasterUserPassword="not-a-real-password-1", AllocatedStorage=500, StorageType="io1",
            Iops=5000, DedicatedLogVolume=True, Domain="d-1234567890", DomainIAMRoleName="rds-directory",
            EngineLifecycleSupport="open-source-rds-extended-support-disabled", EnablePerformanceInsights=True,
            PerformanceInsightsRetentionPeriod=465, DatabaseInsightsMode="advanced", CACertificateIdentifier="rds-ca-ecc384-g1",
        )
        rds.add_role_to_db_instance(DBInstanceIdentifier="billing-db", RoleArn=s3_role, FeatureName="s3Import")
    before = capture(INSTANCE, "billing-db")
    for name in ("EngineLifecycleSupport", "DedicatedLogVolume", "Domain", "DomainIAMRoleName", "DatabaseInsightsMode",
                 "EnablePerformanceInsights", "PerformanceInsightsRetentionPeriod", "CACertificateIdentifier", "Iops"):
        assert name in before["settings"], name
    assert "DomainFqdn" not in before["settings"], "an AWS Managed AD membership is carried by Domain alone"
    assert before["roles"] == [{"RoleArn": s3_role, "FeatureName": "s3Import"}]
    state, event = run_in_place_until_restored(strict_aws, "billing-db", False)
    restore_call = [c for c in strict_aws.emulator.rds_calls.calls if c.operation == "RestoreDBInstanceFromDBSnapshot"][0]
    assert restore_call.params["EngineLifecycleSupport"] == "open-source-rds-extended-support-disabled"
    assert steps.restore_step(event("verify"))["result"] == "twin"
    after = capture(INSTANCE, "billing-db")
    assert after["resourceId"] != before["resourceId"]
    assert twin_differences(before, after) == []
