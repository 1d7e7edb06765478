"""The strict RDS model refuses what RDS refuses, and takes the time RDS takes.

One test per rule (``test_<rule name>``, checked below) shows the model refusing a call that moto alone
accepts, with RDS's error code; the behaviours that are effects rather than refusals (renames, replicas,
secrets, eventual consistency, quotas reported) have tests of their own. Every test works on the
emulator's API, as a workflow step or a user would.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from botocore.exceptions import ClientError

from support.rds_fixtures import make_cluster, make_instance
from trapheus_local import Emulator
from trapheus_local.latency import INSTANCE
from trapheus_local.rds_timing import HOUR, MINUTE
from trapheus_local.strict_rds import RULES, Quotas

PASSWORD = "not-a-real-password-1"


@pytest.fixture
def aws() -> Iterator[Emulator]:
    from trapheus import clients

    clients.reset()
    with Emulator() as emulator:
        yield emulator
    clients.reset()


@pytest.fixture
def rds(aws: Emulator) -> Any:
    return aws.client("rds")


def instance(aws: Emulator, identifier: str = "orders-db", **settings: Any) -> str:
    with aws.settled():
        make_instance(aws.client("rds"), aws.client("ec2"), identifier, **settings)
    return identifier


def small_instance(aws: Emulator, identifier: str, region: str | None = None, **settings: Any) -> str:
    if not settings.get("ManageMasterUserPassword"):  # RDS takes a password or manages one, not both
        settings = {"MasterUserPassword": PASSWORD, **settings}
    with aws.settled():
        aws.client("rds", region=region).create_db_instance(
            DBInstanceIdentifier=identifier, DBInstanceClass="db.t3.micro", Engine="postgres", EngineVersion="16.3",
            MasterUsername="admin", AllocatedStorage=20, **settings,
        )
    return identifier


def cluster(aws: Emulator, identifier: str = "ledger", members: int = 1) -> str:
    with aws.settled():
        make_cluster(aws.client("rds"), aws.client("ec2"), identifier, members=members)
    return identifier


def refused(call: Any, code: str) -> str:
    with pytest.raises(ClientError) as raised:
        call()
    assert raised.value.response["Error"]["Code"] == code, raised.value.response["Error"]
    return raised.value.response["Error"]["Message"]


def status(rds: Any, identifier: str) -> str:
    return rds.describe_db_instances(DBInstanceIdentifier=identifier)["DBInstances"][0]["DBInstanceStatus"]


def cluster_status(rds: Any, identifier: str) -> str:
    return rds.describe_db_clusters(DBClusterIdentifier=identifier)["DBClusters"][0]["Status"]


def rename(rds: Any, current: str, new: str) -> None:
    rds.modify_db_instance(DBInstanceIdentifier=current, NewDBInstanceIdentifier=new, ApplyImmediately=True)


# -- every rule has its test ---------------------------------------------------------------------------------


def test_every_rule_cites_its_page_and_has_a_test():
    rules = {rule for rules in RULES.values() for rule in rules}
    for rule in rules:
        assert "https://docs.aws.amazon.com/" in (rule.__doc__ or ""), rule.__name__
        assert f"test_{rule.__name__}" in globals(), f"no test for rule {rule.__name__}"


# -- the rules -------------------------------------------------------------------------------------------------


def test_rename_needs_an_available_database(aws, rds):
    instance(aws)
    small_instance(aws, "other-db")
    rename(rds, "orders-db", "orders-db-old")
    assert status(rds, "orders-db-old") == "renaming"
    refused(lambda: rename(rds, "orders-db-old", "orders-db-older"), "InvalidDBInstanceState")
    aws.clock.advance(10 * MINUTE)
    assert status(rds, "orders-db-old") == "rebooting"  # RDS reboots the instance after a rename
    aws.clock.advance(1 * MINUTE)
    assert status(rds, "orders-db-old") == "available"
    refused(lambda: rename(rds, "orders-db-old", "other-db"), "DBInstanceAlreadyExists")
    rename(rds, "orders-db-old", "orders-db-older")


def test_a_renamed_databases_new_name_answers_only_after_the_dns_delay(aws, rds):
    instance(aws)
    strict = aws.strict
    rename(rds, "orders-db", "orders-db-old")
    assert not strict.resolves(INSTANCE, "orders-db-old") and not strict.resolves(INSTANCE, "orders-db")
    aws.clock.advance(9 * MINUTE)
    assert not strict.resolves(INSTANCE, "orders-db-old")
    aws.clock.advance(1 * MINUTE)  # about 10 minutes, as the RDS guide says
    assert strict.resolves(INSTANCE, "orders-db-old")


def test_a_released_identifier_is_free_only_after_the_rename(aws, rds):
    instance(aws)
    rds.create_db_snapshot(DBInstanceIdentifier="orders-db", DBSnapshotIdentifier="orders-db-snapshot")
    aws.settle()
    rename(rds, "orders-db", "orders-db-old")
    restore = lambda: rds.restore_db_instance_from_db_snapshot(  # noqa: E731
        DBInstanceIdentifier="orders-db", DBSnapshotIdentifier="orders-db-snapshot"
    )
    refused(restore, "DBInstanceAlreadyExists")
    aws.clock.advance(10 * MINUTE)
    restore()


def test_modify_needs_a_settled_database(aws, rds):
    instance(aws)
    rds.modify_db_instance(DBInstanceIdentifier="orders-db", BackupRetentionPeriod=3, ApplyImmediately=True)
    assert status(rds, "orders-db") == "modifying"
    refused(lambda: rds.modify_db_instance(DBInstanceIdentifier="orders-db", DeletionProtection=False, ApplyImmediately=True),
            "InvalidDBInstanceState")
    aws.settle()
    cluster(aws)
    rds.modify_db_cluster(DBClusterIdentifier="ledger", BackupRetentionPeriod=3, ApplyImmediately=True)
    refused(lambda: rds.modify_db_cluster(DBClusterIdentifier="ledger", DeletionProtection=False, ApplyImmediately=True),
            "InvalidDBClusterStateFault")


def test_a_restored_instance_is_backing_up_before_it_is_available_and_takes_no_modify_meanwhile(aws, rds):
    instance(aws)
    with aws.settled():
        rds.create_db_snapshot(DBInstanceIdentifier="orders-db", DBSnapshotIdentifier="orders-db-snapshot")
    rds.restore_db_instance_from_db_snapshot(DBInstanceIdentifier="orders-copy", DBSnapshotIdentifier="orders-db-snapshot")
    aws.clock.advance(30)
    assert status(rds, "orders-copy") == "creating"
    aws.clock.advance(31 * MINUTE)  # 500 GiB: 10 + 20 minutes creating
    assert status(rds, "orders-copy") == "backing-up"
    refused(lambda: rds.modify_db_instance(DBInstanceIdentifier="orders-copy", BackupRetentionPeriod=2, ApplyImmediately=True),
            "InvalidDBInstanceState")
    aws.clock.advance(5 * MINUTE)
    assert status(rds, "orders-copy") == "available"


def test_storage_changes_wait_for_the_last_one(aws, rds):
    instance(aws)
    rds.modify_db_instance(DBInstanceIdentifier="orders-db", AllocatedStorage=600, ApplyImmediately=True)
    aws.clock.advance(5 * MINUTE)
    assert status(rds, "orders-db") == "storage-optimization"
    # usable meanwhile (the status checks count it as done); only another storage change is refused
    message = refused(lambda: rds.modify_db_instance(DBInstanceIdentifier="orders-db", AllocatedStorage=700, ApplyImmediately=True),
                      "InvalidParameterCombination")
    assert "being optimized" in message
    aws.clock.advance(6 * HOUR)
    rds.modify_db_instance(DBInstanceIdentifier="orders-db", AllocatedStorage=700, ApplyImmediately=True)


def test_a_second_storage_change_within_six_hours_is_refused_even_once_optimized(aws, rds):
    instance(aws)
    aws.strict.assumptions = aws.strict.assumptions.__class__(storage_optimization=30)
    rds.modify_db_instance(DBInstanceIdentifier="orders-db", AllocatedStorage=600, ApplyImmediately=True)
    aws.clock.advance(2 * HOUR)
    assert status(rds, "orders-db") == "available"
    message = refused(lambda: rds.modify_db_instance(DBInstanceIdentifier="orders-db", AllocatedStorage=700, ApplyImmediately=True),
                      "InvalidParameterCombination")
    assert "Try again after approximately" in message


def test_members_join_only_an_available_cluster(aws, rds):
    cluster(aws)
    with aws.settled():
        rds.create_db_cluster_snapshot(DBClusterIdentifier="ledger", DBClusterSnapshotIdentifier="ledger-snapshot")
    rds.restore_db_cluster_from_snapshot(DBClusterIdentifier="ledger-copy", SnapshotIdentifier="ledger-snapshot", Engine="aurora-mysql")
    member = lambda: rds.create_db_instance(  # noqa: E731
        DBInstanceIdentifier="ledger-copy-1", DBClusterIdentifier="ledger-copy", Engine="aurora-mysql", DBInstanceClass="db.r6g.large"
    )
    refused(member, "InvalidDBClusterStateFault")
    aws.clock.advance(HOUR)
    member()
    refused(lambda: rds.create_db_instance(DBInstanceIdentifier="ledger-copy-2", DBClusterIdentifier="ledger-copy",
                                           Engine="aurora-mysql", DBInstanceClass="db.r6g.large", DeletionProtection=True),
            "InvalidParameterCombination")


def test_clusters_are_deleted_after_their_members(aws, rds):
    cluster(aws, members=2)
    rds.modify_db_cluster(DBClusterIdentifier="ledger", DeletionProtection=False, ApplyImmediately=True)
    delete = lambda: rds.delete_db_cluster(DBClusterIdentifier="ledger", SkipFinalSnapshot=True)  # noqa: E731
    refused(delete, "InvalidDBClusterStateFault")
    rds.delete_db_instance(DBInstanceIdentifier="ledger-1", SkipFinalSnapshot=True)
    refused(delete, "InvalidDBClusterStateFault")  # ledger-2 is not deleting
    rds.delete_db_instance(DBInstanceIdentifier="ledger-2", SkipFinalSnapshot=True)
    delete()  # members still deleting: RDS takes the cluster's deletion


def test_protected_databases_are_not_deleted(aws, rds):
    instance(aws)
    message = refused(lambda: rds.delete_db_instance(DBInstanceIdentifier="orders-db", SkipFinalSnapshot=True), "InvalidParameterCombination")
    assert "deletion protection" in message
    cluster(aws, members=0)
    refused(lambda: rds.delete_db_cluster(DBClusterIdentifier="ledger", SkipFinalSnapshot=True), "InvalidParameterCombination")


def test_replicas_and_members_take_no_final_snapshot(aws, rds):
    small_instance(aws, "source-db")
    with aws.settled():
        rds.create_db_instance_read_replica(DBInstanceIdentifier="replica-db", SourceDBInstanceIdentifier="source-db")
    refused(lambda: rds.delete_db_instance(DBInstanceIdentifier="replica-db", FinalDBSnapshotIdentifier="replica-final"),
            "InvalidParameterCombination")
    cluster(aws)
    refused(lambda: rds.delete_db_instance(DBInstanceIdentifier="ledger-1", FinalDBSnapshotIdentifier="member-final"),
            "InvalidParameterCombination")
    with aws.settled():
        rds.create_db_snapshot(DBInstanceIdentifier="source-db", DBSnapshotIdentifier="source-snapshot")
    aws.latency.end_status("RestoreDBInstanceFromDBSnapshot", "broken-db", "failed")
    rds.restore_db_instance_from_db_snapshot(DBInstanceIdentifier="broken-db", DBSnapshotIdentifier="source-snapshot")
    aws.settle()
    refused(lambda: rds.delete_db_instance(DBInstanceIdentifier="broken-db", FinalDBSnapshotIdentifier="broken-final"),
            "InvalidDBInstanceState")
    rds.delete_db_instance(DBInstanceIdentifier="broken-db", SkipFinalSnapshot=True)


def test_master_passwords_fit_the_engine(aws, rds):
    def set_password(identifier: str, password: str) -> None:
        rds.modify_db_instance(DBInstanceIdentifier=identifier, MasterUserPassword=password, ApplyImmediately=True)

    small_instance(aws, "pg-db")
    for bad in ("has/slash-in-it", 'has"quote-in-it', "has@at-in-it", "has space in it", "short", "x" * 129):
        message = refused(lambda: set_password("pg-db", bad), "InvalidParameterValue")
        assert bad not in message  # RDS never echoes the password
    set_password("pg-db", "ampersand&and'quote-1")  # only Oracle refuses these
    aws.settle()
    with aws.settled():
        rds.create_db_instance(DBInstanceIdentifier="ora-db", DBInstanceClass="db.m5.large", Engine="oracle-ee",
                               MasterUsername="admin", MasterUserPassword=PASSWORD, AllocatedStorage=20)
    refused(lambda: set_password("ora-db", "ampersand&in-it"), "InvalidParameterValue")
    refused(lambda: set_password("ora-db", "x" * 31), "InvalidParameterValue")
    set_password("ora-db", "x" * 30)
    aws.settle()
    rds.modify_db_instance(DBInstanceIdentifier="pg-db", ManageMasterUserPassword=True, ApplyImmediately=True)
    aws.settle()
    refused(lambda: set_password("pg-db", "a-fine-password-1"), "InvalidParameterCombination")


def test_reserved_tag_keys_are_refused(aws, rds):
    instance(aws)
    arn = rds.describe_db_instances(DBInstanceIdentifier="orders-db")["DBInstances"][0]["DBInstanceArn"]
    for key in ("aws:cloudformation:stack-name", "rds:anything", "AWS:upper"):
        message = refused(lambda: rds.add_tags_to_resource(ResourceName=arn, Tags=[{"Key": key, "Value": "x"}]),
                          "InvalidParameterValue")
        assert "reserved prefix" in message
    refused(lambda: small_instance(aws, "tagged", Tags=[{"Key": "aws:x", "Value": "1"}]), "InvalidParameterValue")


def test_databases_made_by_cloudformation_carry_its_tags(aws, rds):
    instance(aws)
    aws.strict.made_by_cloudformation(INSTANCE, "orders-db", "orders-stack", "Database")
    tags = {t["Key"] for t in rds.describe_db_instances(DBInstanceIdentifier="orders-db")["DBInstances"][0]["TagList"]}
    assert {"aws:cloudformation:stack-name", "aws:cloudformation:logical-id", "aws:cloudformation:stack-id"} <= tags


def test_groups_match_the_engine_version(aws, rds):
    instance(aws)  # mysql 8.0, with a mysql8.0 parameter group and a mysql 8.0 option group
    with aws.settled():
        rds.create_db_snapshot(DBInstanceIdentifier="orders-db", DBSnapshotIdentifier="orders-db-snapshot")
        rds.create_db_parameter_group(DBParameterGroupName="old-params", DBParameterGroupFamily="mysql5.7", Description="old")
        rds.create_option_group(OptionGroupName="old-options", EngineName="mysql", MajorEngineVersion="5.7", OptionGroupDescription="old")
    restore = lambda **groups: rds.restore_db_instance_from_db_snapshot(  # noqa: E731
        DBInstanceIdentifier="copy", DBSnapshotIdentifier="orders-db-snapshot", **groups
    )
    assert "mysql5.7" in refused(lambda: restore(DBParameterGroupName="old-params"), "InvalidParameterCombination")
    assert "mysql 5.7" in refused(lambda: restore(OptionGroupName="old-options"), "InvalidParameterCombination")
    restore(DBParameterGroupName="orders-db-params")
    cluster(aws)
    with aws.settled():
        rds.create_db_cluster_snapshot(DBClusterIdentifier="ledger", DBClusterSnapshotIdentifier="ledger-snapshot")
    message = refused(lambda: rds.restore_db_cluster_from_snapshot(
        DBClusterIdentifier="ledger-copy", SnapshotIdentifier="ledger-snapshot", Engine="aurora-mysql",
        EngineVersion="8.0.mysql_aurora.3.04.0"), "InvalidParameterCombination")
    assert "earlier than the engine version of the DB cluster snapshot" in message


def test_snapshots_are_deleted_when_available_or_copying(aws, rds):
    instance(aws)
    rds.create_db_snapshot(DBInstanceIdentifier="orders-db", DBSnapshotIdentifier="fresh")
    refused(lambda: rds.delete_db_snapshot(DBSnapshotIdentifier="fresh"), "InvalidDBSnapshotState")  # still creating
    aws.settle()
    rds.copy_db_snapshot(SourceDBSnapshotIdentifier="fresh", TargetDBSnapshotIdentifier="fresh-copy")
    aws.clock.advance(30)
    assert rds.describe_db_snapshots(DBSnapshotIdentifier="fresh-copy")["DBSnapshots"][0]["Status"] == "copying"
    rds.delete_db_snapshot(DBSnapshotIdentifier="fresh-copy")  # cancels the copy, as documented
    rds.delete_db_snapshot(DBSnapshotIdentifier="fresh")


def test_a_copy_takes_longer_the_larger_the_snapshot(aws):
    strict = aws.strict
    small, large = instance(aws, "small-db", AllocatedStorage=100), instance(aws, "large-db", AllocatedStorage=1000)
    with aws.settled():
        for name in (small, large):
            aws.client("rds").create_db_snapshot(DBInstanceIdentifier=name, DBSnapshotIdentifier=f"{name}-s")
    copy = lambda name: strict.timing("CopyDBSnapshot", {"SourceDBSnapshotIdentifier": f"{name}-s", "TargetDBSnapshotIdentifier": "t"})  # noqa: E731
    assert copy(large)[0][1] > copy(small)[0][1] > 0


def test_manual_snapshots_stay_within_the_quota(aws, rds):
    instance(aws)
    aws.strict.quotas = Quotas(manual_snapshots=2)
    with aws.settled():
        rds.create_db_snapshot(DBInstanceIdentifier="orders-db", DBSnapshotIdentifier="one")
        rds.create_db_snapshot(DBInstanceIdentifier="orders-db", DBSnapshotIdentifier="two")
    assert "100" not in refused(lambda: rds.create_db_snapshot(DBInstanceIdentifier="orders-db", DBSnapshotIdentifier="three"),
                                "SnapshotQuotaExceeded")
    refused(lambda: rds.copy_db_snapshot(SourceDBSnapshotIdentifier="one", TargetDBSnapshotIdentifier="three"), "SnapshotQuotaExceeded")
    rds.modify_db_instance(DBInstanceIdentifier="orders-db", DeletionProtection=False, ApplyImmediately=True)
    refused(lambda: rds.delete_db_instance(DBInstanceIdentifier="orders-db", FinalDBSnapshotIdentifier="final"), "SnapshotQuotaExceeded")


def test_account_attributes_report_the_modelled_quotas_and_their_use(aws, rds):
    instance(aws)
    cluster(aws, members=2)
    aws.strict.quotas = Quotas(db_instances=7, manual_snapshots=9)
    with aws.settled():
        rds.create_db_snapshot(DBInstanceIdentifier="orders-db", DBSnapshotIdentifier="one")
    quotas = {q["AccountQuotaName"]: (q["Used"], q["Max"]) for q in rds.describe_account_attributes()["AccountQuotas"]}
    assert quotas["DBInstances"] == (3, 7)
    assert quotas["DBClusters"] == (1, 40)
    assert quotas["ManualSnapshots"] == (1, 9)
    assert quotas["ManualClusterSnapshots"] == (0, 100)


def test_databases_stay_within_the_quota(aws, rds):
    small_instance(aws, "one-db")
    aws.strict.quotas = Quotas(db_instances=1, db_clusters=0)
    refused(lambda: small_instance(aws, "two-db"), "InstanceQuotaExceeded")
    refused(lambda: rds.create_db_cluster(DBClusterIdentifier="c", Engine="aurora-mysql", MasterUsername="admin",
                                          MasterUserPassword=PASSWORD), "DBClusterQuotaExceededFault")


def test_cluster_snapshot_identifiers_fit_63_characters(aws, rds):
    cluster(aws)
    refused(lambda: rds.create_db_cluster_snapshot(DBClusterIdentifier="ledger", DBClusterSnapshotIdentifier="s" * 64),
            "InvalidParameterValue")
    rds.create_db_cluster_snapshot(DBClusterIdentifier="ledger", DBClusterSnapshotIdentifier="s" * 63)


def test_snapshots_need_a_usable_source(aws, rds):
    instance(aws)
    rds.modify_db_instance(DBInstanceIdentifier="orders-db", BackupRetentionPeriod=3, ApplyImmediately=True)
    refused(lambda: rds.create_db_snapshot(DBInstanceIdentifier="orders-db", DBSnapshotIdentifier="s"), "InvalidDBInstanceState")
    cluster(aws)
    rds.modify_db_cluster(DBClusterIdentifier="ledger", BackupRetentionPeriod=3, ApplyImmediately=True)
    refused(lambda: rds.create_db_cluster_snapshot(DBClusterIdentifier="ledger", DBClusterSnapshotIdentifier="s"),
            "InvalidDBClusterStateFault")


def test_restores_and_copies_need_an_available_snapshot(aws, rds):
    instance(aws)
    rds.create_db_snapshot(DBInstanceIdentifier="orders-db", DBSnapshotIdentifier="fresh")
    aws.clock.advance(1)
    refused(lambda: rds.restore_db_instance_from_db_snapshot(DBInstanceIdentifier="copy", DBSnapshotIdentifier="fresh"),
            "InvalidDBSnapshotState")
    refused(lambda: rds.copy_db_snapshot(SourceDBSnapshotIdentifier="fresh", TargetDBSnapshotIdentifier="fresh-2"),
            "InvalidDBSnapshotState")


# -- effects ---------------------------------------------------------------------------------------------------


def test_identifiers_are_case_insensitive_and_stored_in_lower_case(aws, rds):
    small_instance(aws, "Orders-DB")
    assert [i["DBInstanceIdentifier"] for i in rds.describe_db_instances()["DBInstances"]] == ["orders-db"]
    assert status(rds, "ORDERS-db") == "available"


def test_a_describe_just_after_a_create_may_not_find_it_a_later_one_does(aws, rds):
    instance(aws)
    rds.create_db_snapshot(DBInstanceIdentifier="orders-db", DBSnapshotIdentifier="fresh")
    refused(lambda: rds.describe_db_snapshots(DBSnapshotIdentifier="fresh"), "DBSnapshotNotFound")
    assert rds.describe_db_snapshots(DBSnapshotIdentifier="fresh")["DBSnapshots"][0]["Status"] == "creating"
    aws.settle()
    rds.create_db_snapshot(DBInstanceIdentifier="orders-db", DBSnapshotIdentifier="later")
    aws.clock.advance(30)  # a poll later, the API knows it
    assert rds.describe_db_snapshots(DBSnapshotIdentifier="later")["DBSnapshots"]


def test_a_deleted_database_is_seen_deleting_until_it_is_gone(aws, rds):
    small_instance(aws, "doomed-db")
    rds.delete_db_instance(DBInstanceIdentifier="doomed-db", SkipFinalSnapshot=True)
    assert status(rds, "doomed-db") == "deleting"
    aws.clock.advance(HOUR)
    refused(lambda: status(rds, "doomed-db"), "DBInstanceNotFound")


def test_a_read_replica_follows_its_source_through_a_rename(aws, rds):
    small_instance(aws, "source-db")
    with aws.settled():
        rds.create_db_instance_read_replica(DBInstanceIdentifier="replica-db", SourceDBInstanceIdentifier="source-db")
    rename(rds, "source-db", "source-db-old")
    aws.settle()
    replica = rds.describe_db_instances(DBInstanceIdentifier="replica-db")["DBInstances"][0]
    assert replica["ReadReplicaSourceDBInstanceIdentifier"] == "source-db-old"
    assert rds.describe_db_instances(DBInstanceIdentifier="source-db-old")["DBInstances"][0]["ReadReplicaDBInstanceIdentifiers"] == ["replica-db"]


def test_deleting_a_source_promotes_its_read_replicas(aws, rds):
    small_instance(aws, "source-db")
    with aws.settled():
        rds.create_db_instance_read_replica(DBInstanceIdentifier="replica-db", SourceDBInstanceIdentifier="source-db")
    rds.delete_db_instance(DBInstanceIdentifier="source-db", SkipFinalSnapshot=True)
    replica = rds.describe_db_instances(DBInstanceIdentifier="replica-db")["DBInstances"][0]
    assert not replica.get("ReadReplicaSourceDBInstanceIdentifier")


def test_a_managed_secret_goes_with_its_database_and_a_restored_copy_has_none(aws, rds):
    small_instance(aws, "secret-db", ManageMasterUserPassword=True)
    secret = rds.describe_db_instances(DBInstanceIdentifier="secret-db")["DBInstances"][0]["MasterUserSecret"]["SecretArn"]
    with aws.settled():
        rds.create_db_snapshot(DBInstanceIdentifier="secret-db", DBSnapshotIdentifier="secret-snapshot")
        rds.restore_db_instance_from_db_snapshot(DBInstanceIdentifier="secret-copy", DBSnapshotIdentifier="secret-snapshot")
    assert "MasterUserSecret" not in rds.describe_db_instances(DBInstanceIdentifier="secret-copy")["DBInstances"][0]
    rds.delete_db_instance(DBInstanceIdentifier="secret-db", SkipFinalSnapshot=True)
    refused(lambda: aws.client("secretsmanager").describe_secret(SecretId=secret), "ResourceNotFoundException")


# -- automated backups, points in time and backtracking -------------------------------------------------------------


def ago(**delta: float) -> datetime:
    return datetime.now(timezone.utc) - timedelta(**delta)


def test_point_in_time_restores_stay_in_the_restorable_window(aws, rds):
    source = rds.describe_db_instances(DBInstanceIdentifier=instance(aws))["DBInstances"][0]  # retention 9 days
    small_instance(aws, "no-backups-db", BackupRetentionPeriod=0)
    cluster(aws)

    def restore(target: str, **when: Any) -> Any:
        return lambda: rds.restore_db_instance_to_point_in_time(SourceDbiResourceId=source["DbiResourceId"], TargetDBInstanceIdentifier=target, **when)

    refused(restore("too-old", RestoreTime=ago(days=10)), "InvalidRestoreFault")
    refused(restore("too-new", RestoreTime=ago(minutes=1)), "InvalidRestoreFault")  # the latest restorable time is ~5 minutes ago
    refused(restore("both", RestoreTime=ago(hours=1), UseLatestRestorableTime=True), "InvalidParameterCombination")
    refused(lambda: rds.restore_db_instance_to_point_in_time(SourceDBInstanceIdentifier="no-backups-db", TargetDBInstanceIdentifier="x",
                                                             UseLatestRestorableTime=True), "PointInTimeRestoreNotEnabled")
    refused(lambda: rds.restore_db_cluster_to_point_in_time(SourceDBClusterIdentifier="ledger", DBClusterIdentifier="ledger-old",
                                                            RestoreToTime=ago(days=8), RestoreType="full-copy"), "InvalidRestoreFault")
    restore("orders-then", RestoreTime=ago(days=8, hours=23))()  # inside the 9 days kept
    rds.restore_db_cluster_to_point_in_time(SourceDBClusterIdentifier="ledger", DBClusterIdentifier="ledger-then",
                                            RestoreToTime=ago(hours=2), RestoreType="full-copy")


def test_clones_are_of_the_latest_time_of_a_cluster_with_an_instance(aws, rds):
    cluster(aws)
    with aws.settled():
        rds.create_db_cluster(DBClusterIdentifier="empty", Engine="aurora-mysql", MasterUsername="admin",
                              MasterUserPassword="not-a-real-password-1", BackupRetentionPeriod=3)

    refused(lambda: rds.restore_db_cluster_to_point_in_time(SourceDBClusterIdentifier="ledger", DBClusterIdentifier="clone-then",
                                                            RestoreType="copy-on-write", RestoreToTime=ago(hours=1)),
            "InvalidParameterCombination")
    refused(lambda: rds.restore_db_cluster_to_point_in_time(SourceDBClusterIdentifier="empty", DBClusterIdentifier="clone-empty",
                                                            RestoreType="copy-on-write", UseLatestRestorableTime=True),
            "InvalidDBClusterStateFault")
    rds.restore_db_cluster_to_point_in_time(SourceDBClusterIdentifier="ledger", DBClusterIdentifier="clone-now",
                                            RestoreType="copy-on-write", UseLatestRestorableTime=True)


def test_tags_fit_rdss_format_and_count(aws, rds):
    small_instance(aws, "tagged-db")
    arn = rds.describe_db_instances(DBInstanceIdentifier="tagged-db")["DBInstances"][0]["DBInstanceArn"]
    many = [{"Key": f"k{n:02d}", "Value": "v"} for n in range(50)]

    refused(lambda: rds.add_tags_to_resource(ResourceName=arn, Tags=[{"Key": "note", "Value": "a, b"}]), "InvalidParameterValue")
    refused(lambda: rds.add_tags_to_resource(ResourceName=arn, Tags=[{"Key": "long", "Value": "x" * 257}]), "InvalidParameterValue")
    rds.add_tags_to_resource(ResourceName=arn, Tags=[{"Key": "trapheus:dns", "Value": "Z123/a.example.internal. Z123/b.example.internal."}])
    refused(lambda: rds.add_tags_to_resource(ResourceName=arn, Tags=many), "InvalidParameterValue")  # 51 with the one it has
    rds.add_tags_to_resource(ResourceName=arn, Tags=many[:49])  # 50: the most a resource has
    assert len(rds.list_tags_for_resource(ResourceName=arn)["TagList"]) == 50


def test_the_restorable_window_is_described_as_rds_reports_it(aws, rds):
    instance(aws)
    small_instance(aws, "no-backups-db", BackupRetentionPeriod=0)
    cluster(aws)
    described = rds.describe_db_instances(DBInstanceIdentifier="orders-db")["DBInstances"][0]
    assert ago(minutes=6) < described["LatestRestorableTime"] < ago(minutes=4)
    backups = rds.describe_db_instance_automated_backups(DBInstanceIdentifier="orders-db")["DBInstanceAutomatedBackups"]
    assert ago(days=9, minutes=1) < backups[0]["RestoreWindow"]["EarliestTime"] < ago(days=8, hours=23)  # the world before the run
    clusters = rds.describe_db_cluster_automated_backups(DbClusterResourceId=cluster_resource_id(rds, "ledger"))["DBClusterAutomatedBackups"]
    assert [c["DBClusterIdentifier"] for c in clusters] == ["ledger"] and clusters[0]["RestoreWindow"]["EarliestTime"] < ago(days=6)
    assert "LatestRestorableTime" not in rds.describe_db_instances(DBInstanceIdentifier="no-backups-db")["DBInstances"][0]
    refused(lambda: rds.describe_db_instance_automated_backups(DBInstanceIdentifier="no-backups-db"), "DBInstanceAutomatedBackupNotFound")
    rds.create_db_instance(DBInstanceIdentifier="new-db", DBInstanceClass="db.t3.micro", Engine="postgres", MasterUsername="admin",
                           MasterUserPassword=PASSWORD, AllocatedStorage=20, BackupRetentionPeriod=1)
    aws.settle()
    new = rds.describe_db_instance_automated_backups(DBInstanceIdentifier="new-db")["DBInstanceAutomatedBackups"][0]
    assert new["RestoreWindow"]["EarliestTime"] > ago(minutes=1)  # made during the run: nothing to restore to before it


def cluster_resource_id(rds: Any, identifier: str) -> str:
    return rds.describe_db_clusters(DBClusterIdentifier=identifier)["DBClusters"][0]["DbClusterResourceId"]


def test_a_point_in_time_restore_takes_longer_than_a_snapshot_restore_of_the_same_size(aws, rds):
    instance(aws)
    with aws.settled():
        rds.create_db_snapshot(DBInstanceIdentifier="orders-db", DBSnapshotIdentifier="orders-db-snapshot")
    rds.restore_db_instance_from_db_snapshot(DBInstanceIdentifier="from-snapshot", DBSnapshotIdentifier="orders-db-snapshot")
    rds.restore_db_instance_to_point_in_time(SourceDBInstanceIdentifier="orders-db", TargetDBInstanceIdentifier="in-time",
                                             RestoreTime=ago(hours=1))
    aws.clock.advance(31 * MINUTE)  # 500 GiB: 10 + 20 minutes creating, then backing-up
    assert (status(rds, "from-snapshot"), status(rds, "in-time")) == ("backing-up", "creating")  # plus the log replay
    aws.clock.advance(5 * MINUTE)
    assert status(rds, "in-time") == "backing-up"


def test_backtracks_stay_in_the_backtrack_window(aws, rds):
    with aws.settled():
        make_cluster(rds, aws.client("ec2"), "rewind", members=1, backtrack_hours=2)
    cluster(aws)  # backtracking off
    refused(lambda: rds.backtrack_db_cluster(DBClusterIdentifier="ledger", BacktrackTo=ago(minutes=10)), "InvalidDBClusterStateFault")
    refused(lambda: rds.backtrack_db_cluster(DBClusterIdentifier="rewind", BacktrackTo=ago(hours=3)), "InvalidParameterValue")
    refused(lambda: rds.backtrack_db_cluster(DBClusterIdentifier="rewind", BacktrackTo=ago(minutes=-10)), "InvalidParameterValue")
    described = rds.describe_db_clusters(DBClusterIdentifier="rewind")["DBClusters"][0]
    assert described["BacktrackWindow"] == 7200 and ago(hours=2, minutes=1) < described["EarliestBacktrackTime"] < ago(hours=1, minutes=59)
    answer = rds.backtrack_db_cluster(DBClusterIdentifier="rewind", BacktrackTo=ago(minutes=30))
    assert ago(minutes=1) < answer["BacktrackedFrom"] and answer["BacktrackTo"] < ago(minutes=29)
    assert cluster_status(rds, "rewind") == "backtracking"
    assert rds.describe_db_cluster_backtracks(DBClusterIdentifier="rewind")["DBClusterBacktracks"][0]["Status"] == "applying"
    refused(lambda: rds.backtrack_db_cluster(DBClusterIdentifier="rewind", BacktrackTo=ago(minutes=20)), "InvalidDBClusterStateFault")
    aws.clock.advance(5 * MINUTE)
    assert cluster_status(rds, "rewind") == "available"
    forward = rds.backtrack_db_cluster(DBClusterIdentifier="rewind", BacktrackTo=answer["BacktrackedFrom"])  # undoing the rewind
    assert forward["BacktrackTo"] == answer["BacktrackedFrom"]


def test_lenient_mode_is_moto_as_it_is():
    with Emulator(strict=False) as lenient:
        rds = lenient.client("rds")
        rds.create_db_instance(DBInstanceIdentifier="orders-db", DBInstanceClass="db.t3.micro", Engine="postgres",
                               MasterUsername="admin", MasterUserPassword=PASSWORD, AllocatedStorage=20)
        rename(rds, "orders-db", "orders-db-old")
        rename(rds, "orders-db-old", "orders-db-older")  # RDS would refuse: still renaming
        assert lenient.strict is None


# -- Aurora custom endpoints (moto has none) ---------------------------------------------------------------------


def create_endpoint(rds: Any, cluster_id: str, identifier: str, **members: Any) -> dict:
    return rds.create_db_cluster_endpoint(DBClusterIdentifier=cluster_id, DBClusterEndpointIdentifier=identifier,
                                          EndpointType="READER", **members)


def test_custom_endpoint_names_are_unique_in_the_account_and_five_per_cluster_at_most(aws, rds):
    cluster(aws, "ledger", members=2)
    cluster(aws, "billing", members=1)
    create_endpoint(rds, "ledger", "reporting")
    refused(lambda: create_endpoint(rds, "billing", "reporting"), "DBClusterEndpointAlreadyExistsFault")
    for index in range(4):
        create_endpoint(rds, "ledger", f"extra-{index}")
    refused(lambda: create_endpoint(rds, "ledger", "sixth"), "DBClusterEndpointQuotaExceededFault")
    refused(lambda: create_endpoint(rds, "billing", "bad", StaticMembers=["ledger-1"]), "DBInstanceNotFound")


def test_custom_endpoints_need_an_available_cluster_and_take_time(aws, rds):
    cluster(aws, "ledger", members=1)
    rds.modify_db_cluster(DBClusterIdentifier="ledger", BackupRetentionPeriod=3, ApplyImmediately=True)
    refused(lambda: create_endpoint(rds, "ledger", "reporting"), "InvalidDBClusterStateFault")
    aws.settle()
    assert create_endpoint(rds, "ledger", "reporting")["Status"] == "creating"
    refused(lambda: rds.delete_db_cluster_endpoint(DBClusterEndpointIdentifier="reporting"), "InvalidDBClusterEndpointStateFault")
    aws.clock.advance(5 * MINUTE)
    assert rds.delete_db_cluster_endpoint(DBClusterEndpointIdentifier="reporting")["Status"] == "deleting"


def test_custom_endpoints_stay_with_a_renamed_cluster_and_go_with_a_deleted_one(aws, rds):
    cluster(aws, "ledger", members=1)
    create_endpoint(rds, "ledger", "reporting")
    aws.settle()
    rds.modify_db_cluster(DBClusterIdentifier="ledger", NewDBClusterIdentifier="ledger-old", ApplyImmediately=True)
    found = rds.describe_db_cluster_endpoints(DBClusterEndpointIdentifier="reporting")["DBClusterEndpoints"][0]
    assert found["DBClusterIdentifier"] == "ledger-old"
    assert found["Endpoint"].startswith("reporting.cluster-custom-")  # the name does not carry the cluster's
    aws.settle()
    rds.modify_db_cluster(DBClusterIdentifier="ledger-old", DeletionProtection=False, ApplyImmediately=True)
    rds.delete_db_instance(DBInstanceIdentifier="ledger-1", SkipFinalSnapshot=True)
    rds.delete_db_cluster(DBClusterIdentifier="ledger-old", SkipFinalSnapshot=True)
    aws.settle()
    assert rds.describe_db_cluster_endpoints(DBClusterEndpointIdentifier="reporting")["DBClusterEndpoints"] == []


# -- several accounts and Regions: sharing and copying snapshots -------------------------------------------

DR_ACCOUNT = "222233334444"
WEST = "us-west-2"


def customer_key(aws: Emulator, *, account_id: str | None = None, region: str | None = None,
                 lets_in: str | None = None, actions: tuple[str, ...] = ("kms:CreateGrant", "kms:Decrypt", "kms:DescribeKey")) -> str:
    """A customer managed key; ``lets_in``: another account its key policy allows ``actions``."""
    kms = aws.client("kms", account_id=account_id, region=region)
    owner = account_id or "123456789012"
    statements = [{"Sid": "Owner", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{owner}:root"},
                   "Action": "kms:*", "Resource": "*"}]
    if lets_in:
        statements.append({"Sid": "DrCopies", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{lets_in}:root"},
                           "Action": list(actions), "Resource": "*"})
    return kms.create_key(Policy=json.dumps({"Version": "2012-10-17", "Statement": statements}))["KeyMetadata"]["Arn"]


def shared_snapshot(aws: Emulator, name: str = "orders-db-daily", *, key: str | None = None, encrypted: bool = True,
                    with_account: str = DR_ACCOUNT) -> str:
    """A settled snapshot of a new instance, shared with ``with_account``; returns its ARN."""
    rds = aws.client("rds")
    settings: dict[str, Any] = {"StorageEncrypted": encrypted, **({"KmsKeyId": key} if key else {})}
    small_instance(aws, f"{name}-source", **settings)
    with aws.settled():
        arn = rds.create_db_snapshot(DBInstanceIdentifier=f"{name}-source", DBSnapshotIdentifier=name)["DBSnapshot"]["DBSnapshotArn"]
    rds.modify_db_snapshot_attribute(DBSnapshotIdentifier=name, AttributeName="restore", ValuesToAdd=[with_account])
    return arn


def test_encrypted_snapshots_are_shared_only_under_a_customer_key(aws, rds):
    small_instance(aws, "aws-key-db", StorageEncrypted=True)  # encrypted with aws/rds
    small_instance(aws, "own-key-db", StorageEncrypted=True, KmsKeyId=customer_key(aws, lets_in=DR_ACCOUNT))
    with aws.settled():
        for name in ("aws-key-db", "own-key-db"):
            rds.create_db_snapshot(DBInstanceIdentifier=name, DBSnapshotIdentifier=f"{name}-s")
    share = lambda name, who: rds.modify_db_snapshot_attribute(  # noqa: E731
        DBSnapshotIdentifier=f"{name}-s", AttributeName="restore", ValuesToAdd=[who])
    assert "AWS managed" in refused(lambda: share("aws-key-db", DR_ACCOUNT), "InvalidParameterValue")
    refused(lambda: share("own-key-db", "all"), "InvalidParameterValue")
    share("own-key-db", DR_ACCOUNT)
    attributes = rds.describe_db_snapshot_attributes(DBSnapshotIdentifier="own-key-db-s")["DBSnapshotAttributesResult"]
    assert attributes["DBSnapshotAttributes"][0]["AttributeValues"] == [DR_ACCOUNT]


def test_copies_need_a_snapshot_shared_with_the_account(aws, rds):
    arn = shared_snapshot(aws, encrypted=False, with_account="999988887777")
    dr = aws.client("rds", account_id=DR_ACCOUNT)
    copy = lambda: dr.copy_db_snapshot(SourceDBSnapshotIdentifier=arn, TargetDBSnapshotIdentifier="orders-db-daily")  # noqa: E731
    refused(copy, "DBSnapshotNotFound")
    rds.modify_db_snapshot_attribute(DBSnapshotIdentifier="orders-db-daily", AttributeName="restore", ValuesToAdd=[DR_ACCOUNT])
    assert copy()["DBSnapshot"]["DBSnapshotArn"].startswith(f"arn:aws:rds:us-east-1:{DR_ACCOUNT}:snapshot:")


def test_shared_snapshots_are_copied_within_their_region(aws, rds):
    key = customer_key(aws, lets_in=DR_ACCOUNT)
    arn = shared_snapshot(aws, key=key)
    dr_key_west = customer_key(aws, account_id=DR_ACCOUNT, region=WEST)
    dr_west = aws.client("rds", account_id=DR_ACCOUNT, region=WEST)
    message = refused(lambda: dr_west.copy_db_snapshot(
        SourceDBSnapshotIdentifier=arn, TargetDBSnapshotIdentifier="orders-db-daily", KmsKeyId=dr_key_west,
        SourceRegion="us-east-1"), "InvalidParameterValue")
    assert "its own Region" in message
    # a cluster snapshot, even unencrypted
    with aws.settled():
        rds.create_db_cluster(DBClusterIdentifier="ledger", Engine="aurora-postgresql", MasterUsername="admin",
                              MasterUserPassword=PASSWORD)
        cluster_arn = rds.create_db_cluster_snapshot(DBClusterIdentifier="ledger", DBClusterSnapshotIdentifier="ledger-daily")[
            "DBClusterSnapshot"]["DBClusterSnapshotArn"]
    rds.modify_db_cluster_snapshot_attribute(DBClusterSnapshotIdentifier="ledger-daily", AttributeName="restore",
                                             ValuesToAdd=[DR_ACCOUNT])
    refused(lambda: dr_west.copy_db_cluster_snapshot(SourceDBClusterSnapshotIdentifier=cluster_arn,
                                                     TargetDBClusterSnapshotIdentifier="ledger-daily", SourceRegion="us-east-1"),
            "InvalidParameterValue")
    dr = aws.client("rds", account_id=DR_ACCOUNT)
    dr.copy_db_cluster_snapshot(SourceDBClusterSnapshotIdentifier=cluster_arn, TargetDBClusterSnapshotIdentifier="ledger-daily")


def test_encrypted_copies_leaving_their_account_or_region_name_a_key(aws, rds):
    arn = shared_snapshot(aws, key=customer_key(aws, lets_in=DR_ACCOUNT))
    dr = aws.client("rds", account_id=DR_ACCOUNT)
    assert "[None]" in refused(lambda: dr.copy_db_snapshot(SourceDBSnapshotIdentifier=arn, TargetDBSnapshotIdentifier="c1"),
                               "KMSKeyNotAccessibleFault")
    west = aws.client("rds", region=WEST)
    refused(lambda: west.copy_db_snapshot(SourceDBSnapshotIdentifier=arn, TargetDBSnapshotIdentifier="c2",
                                          SourceRegion="us-east-1"), "KMSKeyNotAccessibleFault")
    dr_key = customer_key(aws, account_id=DR_ACCOUNT)
    copied = dr.copy_db_snapshot(SourceDBSnapshotIdentifier=arn, TargetDBSnapshotIdentifier="c1", KmsKeyId=dr_key)["DBSnapshot"]
    assert copied["KmsKeyId"] == dr_key


def test_shared_snapshot_keys_must_let_the_copying_account_in(aws, rds):
    key = customer_key(aws, lets_in=DR_ACCOUNT, actions=("kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*",
                                                         "kms:DescribeKey"))  # no kms:CreateGrant
    arn = shared_snapshot(aws, key=key)
    dr = aws.client("rds", account_id=DR_ACCOUNT)
    dr_key = customer_key(aws, account_id=DR_ACCOUNT)
    copy = lambda: dr.copy_db_snapshot(SourceDBSnapshotIdentifier=arn, TargetDBSnapshotIdentifier="c1", KmsKeyId=dr_key)  # noqa: E731
    assert key in refused(copy, "KMSKeyNotAccessibleFault")
    policy = json.loads(aws.client("kms").get_key_policy(KeyId=key, PolicyName="default")["Policy"])
    policy["Statement"][1]["Action"].append("kms:CreateGrant")
    aws.client("kms").put_key_policy(KeyId=key, PolicyName="default", Policy=json.dumps(policy))
    assert copy()["DBSnapshot"]["KmsKeyId"] == dr_key


def test_copy_keys_are_keys_of_the_destination_region(aws, rds):
    source_key = customer_key(aws)
    small_instance(aws, "orders-db", StorageEncrypted=True, KmsKeyId=source_key)
    with aws.settled():
        arn = rds.create_db_snapshot(DBInstanceIdentifier="orders-db", DBSnapshotIdentifier="orders-db-daily")["DBSnapshot"]["DBSnapshotArn"]
    west = aws.client("rds", region=WEST)
    copy = lambda key: west.copy_db_snapshot(  # noqa: E731
        SourceDBSnapshotIdentifier=arn, TargetDBSnapshotIdentifier="orders-db-daily", KmsKeyId=key, SourceRegion="us-east-1")
    assert source_key in refused(lambda: copy(source_key), "KMSKeyNotAccessibleFault")  # the source Region's key
    west_key = customer_key(aws, region=WEST)
    assert copy(west_key)["DBSnapshot"]["KmsKeyId"] == west_key


def test_cross_region_copies_of_encrypted_snapshots_carry_a_presigned_url(aws, rds):
    gov_west, gov_east = "us-gov-west-1", "us-gov-east-1"
    source = aws.client("rds", region=gov_west)
    small_instance(aws, "orders-db", region=gov_west, StorageEncrypted=True, KmsKeyId=customer_key(aws, region=gov_west))
    with aws.settled():
        arn = source.create_db_snapshot(DBInstanceIdentifier="orders-db", DBSnapshotIdentifier="orders-db-daily")["DBSnapshot"]["DBSnapshotArn"]
    east, east_key = aws.client("rds", region=gov_east), customer_key(aws, region=gov_east)
    refused(lambda: east.copy_db_snapshot(SourceDBSnapshotIdentifier=arn, TargetDBSnapshotIdentifier="c1", KmsKeyId=east_key),
            "InvalidParameterValue")
    # SourceRegion makes the SDK sign a PreSignedUrl for the source Region
    east.copy_db_snapshot(SourceDBSnapshotIdentifier=arn, TargetDBSnapshotIdentifier="c1", KmsKeyId=east_key, SourceRegion=gov_west)
    # outside GovCloud RDS ignores the parameter: a copy without it is made
    small_instance(aws, "billing-db", StorageEncrypted=True, KmsKeyId=customer_key(aws))
    with aws.settled():
        commercial = rds.create_db_snapshot(DBInstanceIdentifier="billing-db", DBSnapshotIdentifier="billing-db-daily")["DBSnapshot"]
    west = aws.client("rds", region=WEST)
    west.copy_db_snapshot(SourceDBSnapshotIdentifier=commercial["DBSnapshotArn"], TargetDBSnapshotIdentifier="c2",
                          KmsKeyId=customer_key(aws, region=WEST))


def test_copies_in_flight_to_a_region_are_limited(aws, rds):
    small_instance(aws, "orders-db")
    with aws.settled():
        arns = [rds.create_db_snapshot(DBInstanceIdentifier="orders-db", DBSnapshotIdentifier=f"s{i}")["DBSnapshot"]["DBSnapshotArn"]
                for i in range(3)]
    aws.strict_in(aws.strict.account_id, WEST).quotas = Quotas(copies_in_flight_per_region=2)
    west = aws.client("rds", region=WEST)
    copy = lambda i: west.copy_db_snapshot(SourceDBSnapshotIdentifier=arns[i], TargetDBSnapshotIdentifier=f"s{i}",  # noqa: E731
                                           SourceRegion="us-east-1")
    copy(0)
    copy(1)
    assert "across regions" in refused(lambda: copy(2), "SnapshotQuotaExceeded")
    rds.copy_db_snapshot(SourceDBSnapshotIdentifier="s2", TargetDBSnapshotIdentifier="s2-local")  # same Region: not counted
    aws.settle()
    copy(2)


def test_quotas_are_per_account_and_region(aws, rds):
    small_instance(aws, "orders-db")
    aws.strict.quotas = Quotas(manual_snapshots=1)
    with aws.settled():
        arn = rds.create_db_snapshot(DBInstanceIdentifier="orders-db", DBSnapshotIdentifier="one")["DBSnapshot"]["DBSnapshotArn"]
    rds.modify_db_snapshot_attribute(DBSnapshotIdentifier="one", AttributeName="restore", ValuesToAdd=[DR_ACCOUNT])
    refused(lambda: rds.create_db_snapshot(DBInstanceIdentifier="orders-db", DBSnapshotIdentifier="two"), "SnapshotQuotaExceeded")
    dr = aws.client("rds", account_id=DR_ACCOUNT)
    dr.copy_db_snapshot(SourceDBSnapshotIdentifier=arn, TargetDBSnapshotIdentifier="one")  # the DR account's own quota
    used = {q["AccountQuotaName"]: q["Used"] for q in dr.describe_account_attributes()["AccountQuotas"]}
    assert used["ManualSnapshots"] == 1 and used["DBInstances"] == 0
