"""Nothing is changed when a run is refused; a valid run gets its names and configuration.

Run on the strict RDS model: the survey's reads (quotas, engine versions, proxies...) are answered as RDS does.
"""

import pytest

from support.rds_fixtures import make_cluster, make_instance
from trapheus import steps
from trapheus.errors import (
    AccessNotGrantedError,
    DatabaseNotAvailableError,
    DatabaseNotFoundError,
    EngineMismatchError,
    ForeignSnapshotError,
    IdentifierInUseError,
    InvalidInputError,
    QuotaExceededError,
    SnapshotNotFoundError,
    UnsupportedTopologyError,
)
from trapheus.names import CLUSTER_SNAPSHOT_ID_MAX

EXECUTION = {"Name": "run-1", "StartTime": "2026-01-01T00:00:00Z"}


def validate(input_, settings=None):
    return steps.validate_input({"input": input_, "execution": EXECUTION, "settings": settings or {"pollSeconds": 1, "maxAttempts": 3}})


def plan(input_):
    return steps.validate_input({"action": "plan", "input": {"task": "plan", **input_}, "execution": EXECUTION})


@pytest.fixture
def rds(strict_aws):
    return strict_aws.client("rds")


@pytest.fixture
def instance(strict_aws, rds):
    with strict_aws.settled():
        make_instance(rds, strict_aws.client("ec2"))
    return "orders-db"


@pytest.fixture
def cluster(strict_aws, rds):
    with strict_aws.settled():
        make_cluster(rds, strict_aws.client("ec2"), members=2)
    return "ledger"


def world(rds):
    instances = [(i["DBInstanceIdentifier"], i["DbiResourceId"]) for i in rds.describe_db_instances()["DBInstances"]]
    snapshots = [s["DBSnapshotIdentifier"] for s in rds.describe_db_snapshots()["DBSnapshots"]]
    return instances, snapshots


def test_valid_cluster_run_gets_names_for_every_member(cluster):
    state = validate({"identifier": "ledger", "task": "create_snapshot", "isCluster": True})
    assert state["names"]["aside"] == "ledger-trapheus-old"
    assert [m["original"] for m in state["names"]["members"]] == ["ledger-1", "ledger-2"]
    assert state["configuration"]["members"][0]["writer"] is True
    assert state["settings"] == {"pollSeconds": 1, "maxAttempts": 3}


def test_identifiers_are_lower_cased_for_names_and_the_lock(instance):
    state = validate({"identifier": "Orders-DB", "task": "create_snapshot", "isCluster": False, "snapshotIdentifier": "Orders-DB-Gold"})
    assert state["request"]["identifier"] == "orders-db"
    assert state["names"]["snapshot"] == "orders-db-gold"
    assert state["lock"]["key"] == "instance:orders-db"


def test_db_restore_without_snapshot_is_refused_before_any_change(instance, rds):
    before = world(rds)
    with pytest.raises(SnapshotNotFoundError):
        validate({"identifier": "orders-db", "task": "db_restore", "isCluster": False})
    assert world(rds) == before


def test_missing_database_is_refused(strict_aws):
    with pytest.raises(DatabaseNotFoundError, match="'ghost' does not exist"):
        validate({"identifier": "ghost", "task": "create_snapshot_only", "isCluster": False})


def test_cluster_member_given_as_instance_is_refused_with_a_hint(cluster):
    with pytest.raises(InvalidInputError, match="member of cluster 'ledger'"):
        validate({"identifier": "ledger-1", "task": "db_restore", "isCluster": False})


def test_leftover_temporary_identifier_is_refused(strict_aws, instance, rds):
    with strict_aws.settled():
        make_instance(rds, strict_aws.client("ec2"), identifier="orders-db-trapheus-old")
    with pytest.raises(IdentifierInUseError, match="orders-db-trapheus-old"):
        validate({"identifier": "orders-db", "task": "create_snapshot", "isCluster": False})


def test_database_not_available_is_refused(instance, rds):
    rds.modify_db_instance(DBInstanceIdentifier="orders-db", BackupRetentionPeriod=3, ApplyImmediately=True)  # now modifying
    with pytest.raises(DatabaseNotAvailableError, match="'modifying'"):
        validate({"identifier": "orders-db", "task": "create_snapshot", "isCluster": False})


@pytest.mark.parametrize("settings", [{"pollSeconds": -1, "maxAttempts": 3}, {"pollSeconds": 1, "maxAttempts": 0}, {"pollSeconds": "5", "maxAttempts": 3}])
def test_bad_settings_are_refused(instance, settings):
    with pytest.raises(InvalidInputError, match="setting"):
        validate({"identifier": "orders-db", "task": "create_snapshot_only", "isCluster": False}, settings)


# -- a refresh replaces only a manual snapshot of the same database ----------------------------------------


def test_a_refresh_refuses_to_replace_another_databases_snapshot(strict_aws, instance, rds):
    with strict_aws.settled():
        make_instance(rds, strict_aws.client("ec2"), identifier="beta-db")
        rds.create_db_snapshot(DBInstanceIdentifier="beta-db", DBSnapshotIdentifier="beta-keep")
    before = world(rds)
    with pytest.raises(ForeignSnapshotError, match="'beta-keep' is a manual snapshot of 'beta-db'"):
        validate({"identifier": "orders-db", "task": "create_snapshot_only", "isCluster": False, "snapshotIdentifier": "beta-keep"})
    assert world(rds) == before
    report = plan({"identifier": "orders-db", "isCluster": False, "snapshotIdentifier": "beta-keep"})
    # a plan describes a db_restore, which only reads the snapshot: restoring from another database's is allowed
    assert "ForeignSnapshotError" not in [b["error"] for b in report["blockers"]]


def test_a_restore_from_another_databases_snapshot_stays_allowed(strict_aws, instance, rds):
    with strict_aws.settled():
        make_instance(rds, strict_aws.client("ec2"), identifier="beta-db")
        rds.create_db_snapshot(DBInstanceIdentifier="beta-db", DBSnapshotIdentifier="beta-keep")
    state = validate({"identifier": "orders-db", "task": "db_restore", "isCluster": False, "snapshotIdentifier": "beta-keep"})
    assert state["names"]["snapshot"] == "beta-keep"


# -- topologies a restore cannot carry ------------------------------------------------------------------


def test_an_instance_with_a_read_replica_is_refused(strict_aws, instance, rds):
    with strict_aws.settled():
        rds.create_db_instance_read_replica(DBInstanceIdentifier="orders-db-replica", SourceDBInstanceIdentifier="orders-db")
    with pytest.raises(UnsupportedTopologyError, match="read replica\\(s\\) orders-db-replica"):
        validate({"identifier": "orders-db", "task": "create_snapshot", "isCluster": False})
    with pytest.raises(UnsupportedTopologyError, match="is a read replica of 'orders-db'"):
        validate({"identifier": "orders-db-replica", "task": "create_snapshot", "isCluster": False})


def test_a_member_of_a_global_database_is_refused(strict_aws, cluster, rds):
    rds.create_global_cluster(GlobalClusterIdentifier="ledger-global", SourceDBClusterIdentifier=rds.describe_db_clusters(
        DBClusterIdentifier="ledger")["DBClusters"][0]["DBClusterArn"])
    with pytest.raises(UnsupportedTopologyError, match="global database 'ledger-global'"):
        validate({"identifier": "ledger", "task": "create_snapshot", "isCluster": True})


def test_a_multi_az_db_cluster_is_refused(strict_aws, rds):
    with strict_aws.settled():
        rds.create_db_cluster(DBClusterIdentifier="maz", Engine="postgres", EngineVersion="16.3", MasterUsername="admin",
                              MasterUserPassword="not-a-real-password-1", DBClusterInstanceClass="db.m6gd.large",
                              StorageType="io1", AllocatedStorage=100, Iops=1000)
    with pytest.raises(UnsupportedTopologyError, match="Multi-AZ DB cluster"):
        validate({"identifier": "maz", "task": "create_snapshot", "isCluster": True})


def test_a_blue_green_source_is_refused(strict_aws, instance, rds):
    arn = rds.describe_db_instances(DBInstanceIdentifier="orders-db")["DBInstances"][0]["DBInstanceArn"]
    with strict_aws.settled():
        rds.create_blue_green_deployment(BlueGreenDeploymentName="upgrade", Source=arn)
    with pytest.raises(UnsupportedTopologyError, match="Blue/Green deployment 'upgrade'"):
        validate({"identifier": "orders-db", "task": "create_snapshot", "isCluster": False})


def test_an_rds_proxy_target_is_refused(strict_aws, instance, rds):
    group = rds.describe_db_instances(DBInstanceIdentifier="orders-db")["DBInstances"][0]["DBSubnetGroup"]
    subnets = [s["SubnetIdentifier"] for s in group["Subnets"]]
    rds.create_db_proxy(DBProxyName="orders-proxy", EngineFamily="MYSQL", RoleArn="arn:aws:iam::123456789012:role/proxy",
                        Auth=[{"AuthScheme": "SECRETS", "SecretArn": "arn:aws:secretsmanager:us-east-1:123456789012:secret:x"}],
                        VpcSubnetIds=subnets)
    rds.register_db_proxy_targets(DBProxyName="orders-proxy", DBInstanceIdentifiers=["orders-db"])
    with pytest.raises(UnsupportedTopologyError, match="RDS Proxy 'orders-proxy'"):
        validate({"identifier": "orders-db", "task": "create_snapshot", "isCluster": False})


# -- the snapshot must fit the original's groups -----------------------------------------------------------


def test_a_snapshot_of_another_engine_version_than_the_groups_is_refused(strict_aws, instance, rds):
    with strict_aws.settled():
        rds.create_db_instance(DBInstanceIdentifier="old-mysql", DBInstanceClass="db.t3.micro", Engine="mysql",
                               EngineVersion="5.7.44", MasterUsername="admin", MasterUserPassword="not-a-real-password-1",
                               AllocatedStorage=20)
        rds.create_db_snapshot(DBInstanceIdentifier="old-mysql", DBSnapshotIdentifier="old-mysql-snapshot")
    with pytest.raises(EngineMismatchError, match="'orders-db-params' is for mysql8.0.*mysql5.7"):
        validate({"identifier": "orders-db", "task": "db_restore", "isCluster": False, "snapshotIdentifier": "old-mysql-snapshot"})


# -- what the stack may touch -------------------------------------------------------------------------------


def test_names_outside_the_managed_pattern_are_refused(instance, monkeypatch):
    monkeypatch.setenv("MANAGED_DATABASE_PATTERN", "billing-*")
    with pytest.raises(AccessNotGrantedError, match="'orders-db' does not match ManagedDatabasePattern 'billing-\\*'"):
        validate({"identifier": "orders-db", "task": "create_snapshot", "isCluster": False})
    monkeypatch.setenv("MANAGED_DATABASE_PATTERN", "orders-*")
    validate({"identifier": "orders-db", "task": "create_snapshot", "isCluster": False})


def test_a_role_that_may_not_be_passed_is_a_blocker_not_an_access_denied_halfway(instance, monkeypatch):
    monkeypatch.setenv("PASSABLE_ROLE_ARNS", "")
    with pytest.raises(AccessNotGrantedError, match="enhanced monitoring passes role .*rds-monitoring"):
        validate({"identifier": "orders-db", "task": "create_snapshot", "isCluster": False})


def test_a_customer_key_outside_the_allowed_keys_is_a_blocker(strict_aws, rds, monkeypatch):
    key = strict_aws.client("kms").create_key()["KeyMetadata"]["Arn"]
    with strict_aws.settled():
        make_instance(rds, strict_aws.client("ec2"), EnablePerformanceInsights=True, PerformanceInsightsKMSKeyId=key)
    with pytest.raises(AccessNotGrantedError, match=f"Performance Insights data is encrypted with KMS key {key}"):
        validate({"identifier": "orders-db", "task": "create_snapshot", "isCluster": False})
    monkeypatch.setenv("DATABASE_KMS_KEY_ARNS", key)
    validate({"identifier": "orders-db", "task": "create_snapshot", "isCluster": False})


def test_an_aws_managed_key_needs_no_grant(strict_aws, rds):
    aws_rds_key = strict_aws.client("kms").describe_key(KeyId="alias/aws/rds")["KeyMetadata"]["Arn"]
    with strict_aws.settled():
        make_instance(rds, strict_aws.client("ec2"), EnablePerformanceInsights=True, PerformanceInsightsKMSKeyId=aws_rds_key)
    validate({"identifier": "orders-db", "task": "create_snapshot", "isCluster": False})


# -- quotas ---------------------------------------------------------------------------------------------------


def test_a_run_that_would_exceed_the_instance_quota_is_refused(strict_aws, instance):
    from trapheus_local.strict_rds import Quotas

    strict_aws.emulator.strict.quotas = Quotas(db_instances=1)
    with pytest.raises(QuotaExceededError, match="0 left of the account quota DBInstances .*needs 1"):
        validate({"identifier": "orders-db", "task": "create_snapshot", "isCluster": False})
    # a snapshot refresh creates no database
    validate({"identifier": "orders-db", "task": "create_snapshot_only", "isCluster": False})


def test_a_run_that_would_exceed_the_cluster_snapshot_quota_is_refused(strict_aws, cluster):
    from trapheus_local.strict_rds import Quotas

    strict_aws.emulator.strict.quotas = Quotas(manual_cluster_snapshots=1)
    with pytest.raises(QuotaExceededError, match="ManualClusterSnapshots"):
        validate({"identifier": "ledger", "task": "create_snapshot", "isCluster": True})


def test_quotas_that_cannot_be_read_are_a_blocker_not_a_pass(instance, monkeypatch):
    from botocore.exceptions import ClientError

    from trapheus import quotas

    def denied(client):
        raise ClientError({"Error": {"Code": "AccessDenied", "Message": "no"}}, "DescribeAccountAttributes")

    real = quotas.account_quotas
    monkeypatch.setattr(quotas, "account_quotas", lambda client: real(type("Denied", (), {"describe_account_attributes": lambda self: denied(self)})()))
    with pytest.raises(QuotaExceededError, match="could not be read \\(AccessDenied\\)"):
        validate({"identifier": "orders-db", "task": "create_snapshot", "isCluster": False})


# -- names that fit ------------------------------------------------------------------------------------------


def test_every_derived_name_of_the_longest_cluster_identifier_fits_its_limit(strict_aws, rds):
    identifier = "l" * 50
    with strict_aws.settled():
        make_cluster(rds, strict_aws.client("ec2"), identifier=identifier, members=1)
    state = validate({"identifier": identifier, "task": "create_snapshot", "isCluster": True, "snapshotIdentifier": "s" * 63})
    names = state["names"]
    for key in ("snapshot", "snapshotNext", "finalSnapshot", "finalSnapshotKept", "rollbackSnapshot"):
        assert len(names[key]) <= CLUSTER_SNAPSHOT_ID_MAX, key
    assert all(len(n) <= 63 for m in names["members"] for n in m.values())


# -- plans -------------------------------------------------------------------------------------------------------


def test_plan_lists_every_blocker_and_what_would_happen_without_changing_anything(strict_aws, instance, rds):
    with strict_aws.settled():
        make_instance(rds, strict_aws.client("ec2"), identifier="orders-db-trapheus-new")
    before = world(rds)
    report = plan({"identifier": "orders-db", "isCluster": False})
    errors = [b["error"] for b in report["blockers"]]
    assert errors == ["IdentifierInUseError", "SnapshotNotFoundError"]
    assert report["ready"] is False and report["strategy"] == "swap"
    assert report["creates"] == ["orders-db-trapheus-new"]
    assert ["orders-db-trapheus-new", "orders-db"] in report["renames"]
    assert report["deletes"][0]["identifier"] == "orders-db-trapheus-old"
    assert report["configuration"]["settings"]["Port"] == 3307
    assert "about 10 minutes" in report["expectedDowntime"]
    assert "exist only in the final snapshot" in report["dataNotice"]
    assert world(rds) == before


def test_plan_reports_the_snapshot_age_and_a_held_lock(strict_aws, instance, rds, monkeypatch):
    dynamodb = strict_aws.client("dynamodb")
    with strict_aws.settled():
        rds.create_db_snapshot(DBInstanceIdentifier="orders-db", DBSnapshotIdentifier="orders-db-snapshot")
        dynamodb.create_table(TableName="locks", KeySchema=[{"AttributeName": "lockId", "KeyType": "HASH"}],
                              AttributeDefinitions=[{"AttributeName": "lockId", "AttributeType": "S"}], BillingMode="PAY_PER_REQUEST")
    dynamodb.put_item(TableName="locks", Item={"lockId": {"S": "instance:orders-db"}, "execution": {"S": "other-run"},
                                               "expiresAt": {"N": "99999999999"}})
    monkeypatch.setenv("LOCK_TABLE_NAME", "locks")
    report = plan({"identifier": "orders-db", "isCluster": False, "strategy": "in-place"})
    assert report["snapshot"]["status"] == "available" and report["snapshot"]["ageHours"] is not None
    assert report["blockers"] == [{"error": "RestoreInProgressError", "message": "run other-run holds the lock on 'orders-db'"}]
    assert report["creates"] == ["orders-db"] and report["strategy"] == "in-place"


def test_plan_says_a_managed_master_secret_is_replaced(strict_aws, instance, rds):
    with strict_aws.settled():
        rds.modify_db_instance(DBInstanceIdentifier="orders-db", ManageMasterUserPassword=True, ApplyImmediately=True)
        rds.create_db_snapshot(DBInstanceIdentifier="orders-db", DBSnapshotIdentifier="orders-db-snapshot")
    report = plan({"identifier": "orders-db", "isCluster": False})
    assert "NEW secret" in report["masterUserSecret"]
