"""Each moto deviation the emulator shims: still there in plain moto, corrected with the shim.

The ``test_plain_moto_still_*`` tests fail the day moto behaves like AWS on its
own; the failure message names the shim to delete from trapheus_local/moto_shims.py.
"""

from __future__ import annotations

import contextlib
import datetime
import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from unittest import mock

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws
from moto.core.config import default_user_config

from trapheus_local import moto_shims

# moto names automated snapshots by the minute; freeze it so both sides of a scenario share one.
FROZEN_NOW = datetime.datetime(2026, 1, 2, 3, 4, 5)


@contextlib.contextmanager
def plain_moto() -> Iterator[Any]:
    with (
        mock_aws(),
        mock.patch.dict(default_user_config["stepfunctions"], {"execute_state_machine": True}),
        mock.patch("moto.rds.models.utcnow", return_value=FROZEN_NOW),
    ):
        yield boto3.client("rds", region_name="us-east-1")


@contextlib.contextmanager
def shimmed_moto() -> Iterator[Any]:
    with plain_moto() as rds, moto_shims.installed():
        yield rds


def _instance(rds: Any, identifier: str, **settings: Any) -> None:
    rds.create_db_instance(
        DBInstanceIdentifier=identifier,
        DBInstanceClass="db.t3.micro",
        Engine="postgres",
        MasterUsername="trapheus",
        MasterUserPassword="not-a-secret-1",
        AllocatedStorage=20,
        **settings,
    )


def _cluster(rds: Any, identifier: str) -> None:
    rds.create_db_cluster(
        DBClusterIdentifier=identifier,
        Engine="aurora-postgresql",
        MasterUsername="trapheus",
        MasterUserPassword="not-a-secret-1",
    )


def _succeeds(call: Callable[[], Any], deviation_code: str) -> bool:
    """True if ``call`` works as in AWS; False if it fails with the code moto's deviation produces."""
    try:
        call()
    except ClientError as error:
        if error.response["Error"]["Code"] == deviation_code:
            return False
        raise
    return True


# -- scenarios: each returns True when moto behaves like AWS -------------------------------------


def instance_restore_after_rename(rds: Any) -> bool:
    _instance(rds, "orders-db")
    rds.create_db_snapshot(DBInstanceIdentifier="orders-db", DBSnapshotIdentifier="orders-db-snapshot")
    rds.modify_db_instance(
        DBInstanceIdentifier="orders-db", NewDBInstanceIdentifier="orders-db-old", ApplyImmediately=True
    )
    return _succeeds(
        lambda: rds.restore_db_instance_from_db_snapshot(
            DBInstanceIdentifier="orders-db", DBSnapshotIdentifier="orders-db-snapshot"
        ),
        "DBSnapshotAlreadyExists",
    )


def cluster_restore_after_rename(rds: Any) -> bool:
    _cluster(rds, "orders")
    rds.create_db_cluster_snapshot(DBClusterIdentifier="orders", DBClusterSnapshotIdentifier="orders-snapshot")
    rds.modify_db_cluster(DBClusterIdentifier="orders", NewDBClusterIdentifier="orders-old", ApplyImmediately=True)
    return _succeeds(
        lambda: rds.restore_db_cluster_from_snapshot(
            DBClusterIdentifier="orders", SnapshotIdentifier="orders-snapshot", Engine="aurora-postgresql"
        ),
        "DBClusterSnapshotAlreadyExistsFault",
    )


def cluster_rename_keeps_members(rds: Any) -> bool:
    _cluster(rds, "orders")
    rds.create_db_instance(
        DBInstanceIdentifier="orders-1",
        DBClusterIdentifier="orders",
        Engine="aurora-postgresql",
        DBInstanceClass="db.r6g.large",
    )
    rds.modify_db_cluster(DBClusterIdentifier="orders", NewDBClusterIdentifier="orders-old", ApplyImmediately=True)
    members = rds.describe_db_clusters(DBClusterIdentifier="orders-old")["DBClusters"][0]["DBClusterMembers"]
    member = rds.describe_db_instances(DBInstanceIdentifier="orders-1")["DBInstances"][0]
    return [m["DBInstanceIdentifier"] for m in members] == ["orders-1"] and member["DBClusterIdentifier"] == "orders-old"


def default_option_group_can_be_named(rds: Any) -> bool:
    _instance(rds, "orders-db")
    described = rds.describe_db_instances(DBInstanceIdentifier="orders-db")["DBInstances"][0]
    default_group = described["OptionGroupMemberships"][0]["OptionGroupName"]
    assert default_group.startswith("default:")
    created = _succeeds(lambda: _instance(rds, "orders-db-twin", OptionGroupName=default_group), "OptionGroupNotFoundFault")
    if not created:
        return False
    twin = rds.describe_db_instances(DBInstanceIdentifier="orders-db-twin")["DBInstances"][0]
    return twin["OptionGroupMemberships"][0]["OptionGroupName"] == default_group


def instances_have_their_own_resource_ids(rds: Any) -> bool:
    _instance(rds, "orders-db")
    _instance(rds, "billing-db")
    described = rds.describe_db_instances()["DBInstances"]
    return len({instance["DbiResourceId"] for instance in described}) == 2


def unnamed_executions_get_unique_names(rds: Any) -> bool:
    sfn = boto3.client("stepfunctions", region_name="us-east-1")
    machine = sfn.create_state_machine(
        name="pass",
        definition=json.dumps({"StartAt": "Pass", "States": {"Pass": {"Type": "Pass", "End": True}}}),
        roleArn="arn:aws:iam::123456789012:role/states",
    )["stateMachineArn"]
    first = sfn.start_execution(stateMachineArn=machine)["executionArn"]
    second_started = _succeeds(lambda: sfn.start_execution(stateMachineArn=machine), "ExecutionAlreadyExists")
    return second_started and not first.endswith(":None")


def contributor_insights_can_be_read_and_changed(rds: Any) -> bool:
    dynamodb = boto3.client("dynamodb", region_name="us-east-1")
    dynamodb.create_table(TableName="orders", KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                          AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                          BillingMode="PAY_PER_REQUEST")  # fmt: skip
    try:
        before = dynamodb.describe_contributor_insights(TableName="orders")["ContributorInsightsStatus"]
        dynamodb.update_contributor_insights(TableName="orders", ContributorInsightsAction="ENABLE")
        after = dynamodb.describe_contributor_insights(TableName="orders")["ContributorInsightsStatus"]
    except NotImplementedError:
        return False
    return (before, after) in {("DISABLED", "ENABLED"), ("DISABLED", "ENABLING")}


def settings_are_described(rds: Any) -> bool:
    _instance(rds, "orders-db", EngineLifecycleSupport="open-source-rds-extended-support-disabled",
              DedicatedLogVolume=False, EnablePerformanceInsights=True, PerformanceInsightsRetentionPeriod=31)
    described = rds.describe_db_instances(DBInstanceIdentifier="orders-db")["DBInstances"][0]
    return (
        described.get("EngineLifecycleSupport") == "open-source-rds-extended-support-disabled"
        and described.get("PerformanceInsightsEnabled") is True
        and described.get("PerformanceInsightsRetentionPeriod") == 31
        and described.get("DatabaseInsightsMode") == "standard"
    )


def a_restore_takes_no_secret_roles_or_protection_of_the_source(rds: Any) -> bool:
    _instance(rds, "orders-db", DeletionProtection=True, ManageMasterUserPassword=True,
              EngineLifecycleSupport="open-source-rds-extended-support-disabled")
    rds.add_role_to_db_instance(DBInstanceIdentifier="orders-db", RoleArn="arn:aws:iam::123456789012:role/s3", FeatureName="s3Import")
    rds.create_db_snapshot(DBInstanceIdentifier="orders-db", DBSnapshotIdentifier="orders-db-snapshot")
    rds.restore_db_instance_from_db_snapshot(DBInstanceIdentifier="orders-db-copy", DBSnapshotIdentifier="orders-db-snapshot")
    copy = rds.describe_db_instances(DBInstanceIdentifier="orders-db-copy")["DBInstances"][0]
    return (
        not copy.get("DeletionProtection")
        and not copy.get("MasterUserSecret")
        and not copy.get("AssociatedRoles")
        and copy.get("EngineLifecycleSupport") == "open-source-rds-extended-support"
    )


def engine_versions_are_described(rds: Any) -> bool:
    try:
        versions = rds.describe_db_engine_versions(Engine="mysql", EngineVersion="8.0.39")["DBEngineVersions"]
    except NotImplementedError:
        return False
    return versions[0]["DBParameterGroupFamily"] == "mysql8.0" and versions[0]["MajorEngineVersion"] == "8.0"


def the_aws_rds_key_is_aws_managed(rds: Any) -> bool:
    kms = boto3.client("kms", region_name="us-east-1")
    return kms.describe_key(KeyId="alias/aws/rds")["KeyMetadata"]["KeyManager"] == "AWS"


OTHER_ACCOUNT = "222233334444"


def _session_in(account: str) -> boto3.session.Session:
    """Credentials of a role assumed in ``account``: moto answers their requests in that account."""
    credentials = boto3.client("sts", region_name="us-east-1").assume_role(
        RoleArn=f"arn:aws:iam::{account}:role/operator", RoleSessionName="scenario"
    )["Credentials"]
    return boto3.session.Session(
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
        region_name="us-east-1",
    )


def a_shared_snapshot_is_copied_by_its_arn(rds: Any) -> bool:
    _instance(rds, "orders-db")
    snapshot = rds.create_db_snapshot(DBInstanceIdentifier="orders-db", DBSnapshotIdentifier="orders-db-daily")["DBSnapshot"]
    rds.modify_db_snapshot_attribute(DBSnapshotIdentifier="orders-db-daily", AttributeName="restore", ValuesToAdd=[OTHER_ACCOUNT])
    other = _session_in(OTHER_ACCOUNT).client("rds")
    copied = _succeeds(
        lambda: other.copy_db_snapshot(
            SourceDBSnapshotIdentifier=snapshot["DBSnapshotArn"], TargetDBSnapshotIdentifier="orders-db-daily"
        ),
        "DBSnapshotNotFound",
    )
    return copied and other.describe_db_snapshots(DBSnapshotIdentifier="orders-db-daily")["DBSnapshots"][0][
        "DBSnapshotArn"
    ].startswith(f"arn:aws:rds:us-east-1:{OTHER_ACCOUNT}:")


def a_cross_region_copy_with_an_unknown_alias_is_refused(rds: Any) -> bool:
    _instance(rds, "orders-db")
    snapshot = rds.create_db_snapshot(DBInstanceIdentifier="orders-db", DBSnapshotIdentifier="orders-db-daily")["DBSnapshot"]
    west = boto3.client("rds", region_name="us-west-2")
    try:
        west.copy_db_snapshot(
            SourceDBSnapshotIdentifier=snapshot["DBSnapshotArn"], TargetDBSnapshotIdentifier="orders-db-daily",
            KmsKeyId="alias/only-in-the-source-region", SourceRegion="us-east-1",
        )
    except ClientError as error:
        return error.response["Error"]["Code"] == "KMSKeyNotAccessibleFault"
    except AttributeError:
        return False  # moto trips over the alias it could not resolve (an HTTP 500 from a server)
    return False


def a_state_machine_of_another_account_writes_into_its_own(rds: Any) -> bool:
    other = _session_in(OTHER_ACCOUNT)
    other.client("dynamodb").create_table(
        TableName="locks", KeySchema=[{"AttributeName": "lockId", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "lockId", "AttributeType": "S"}], BillingMode="PAY_PER_REQUEST",
    )
    definition = {"StartAt": "Lock", "States": {"Lock": {
        "Type": "Task", "Resource": "arn:aws:states:::dynamodb:putItem", "End": True,
        "Parameters": {"TableName": "locks", "Item": {"lockId": {"S": "instance:orders-db"}}},
    }}}
    sfn = other.client("stepfunctions")
    machine = sfn.create_state_machine(
        name="lock", definition=json.dumps(definition), roleArn=f"arn:aws:iam::{OTHER_ACCOUNT}:role/states"
    )["stateMachineArn"]
    status = _run(sfn, machine, {})["status"]
    return status == "SUCCEEDED" and "Item" in other.client("dynamodb").get_item(
        TableName="locks", Key={"lockId": {"S": "instance:orders-db"}}
    )


def _run(sfn: Any, machine: str, execution_input: dict) -> dict:
    execution = sfn.start_execution(stateMachineArn=machine, input=json.dumps(execution_input))["executionArn"]
    deadline = time.monotonic() + 60  # a guard against a hang only: on a loaded machine the run takes a while
    while (described := sfn.describe_execution(executionArn=execution))["status"] == "RUNNING" and time.monotonic() < deadline:
        time.sleep(0.01)  # yields to the execution's thread
    return described


def a_state_starts_a_child_execution_and_reads_its_output(rds: Any) -> bool:
    sfn = boto3.client("stepfunctions", region_name="us-east-1")
    role = "arn:aws:iam::123456789012:role/states"
    child = sfn.create_state_machine(name="child", roleArn=role, definition=json.dumps(
        {"StartAt": "Answer", "States": {"Answer": {"Type": "Pass", "Parameters": {"report.$": "$.database"}, "End": True}}}
    ))["stateMachineArn"]
    parent = sfn.create_state_machine(name="parent", roleArn=role, definition=json.dumps({"StartAt": "Child", "States": {
        "Child": {"Type": "Task", "Resource": "arn:aws:states:::states:startExecution.sync:2",
                  "Parameters": {"StateMachineArn": child, "Input": {"database.$": "$.database"}},
                  "ResultSelector": {"report.$": "$.Output.report"}, "End": True}}}))["stateMachineArn"]
    ended = _run(sfn, parent, {"database": "orders-db"})
    return ended["status"] == "SUCCEEDED" and json.loads(ended["output"]) == {"report": "orders-db"}


def an_encrypted_database_names_the_aws_rds_key(rds: Any) -> bool:
    _instance(rds, "orders-db", StorageEncrypted=True)
    snapshot = rds.create_db_snapshot(DBInstanceIdentifier="orders-db", DBSnapshotIdentifier="orders-db-daily")["DBSnapshot"]
    aws_rds = boto3.client("kms", region_name="us-east-1").describe_key(KeyId="alias/aws/rds")["KeyMetadata"]["Arn"]
    return snapshot.get("KmsKeyId") == aws_rds
def a_point_in_time_restore_takes_no_secret_roles_or_protection_of_the_source(rds: Any) -> bool:
    _instance(rds, "orders-db", DeletionProtection=True, ManageMasterUserPassword=True, BackupRetentionPeriod=7)
    rds.add_role_to_db_instance(DBInstanceIdentifier="orders-db", RoleArn="arn:aws:iam::123456789012:role/s3", FeatureName="s3Import")
    rds.restore_db_instance_to_point_in_time(
        SourceDBInstanceIdentifier="orders-db", TargetDBInstanceIdentifier="orders-db-copy", UseLatestRestorableTime=True
    )
    copy = rds.describe_db_instances(DBInstanceIdentifier="orders-db-copy")["DBInstances"][0]
    return (
        not copy.get("DeletionProtection") and not copy.get("MasterUserSecret") and not copy.get("AssociatedRoles")
        and not copy.get("ReadReplicaSourceDBInstanceIdentifier")
    )


def a_point_in_time_restore_copies_the_database_its_resource_id_names(rds: Any) -> bool:
    _instance(rds, "billing-db", BackupRetentionPeriod=7)
    _instance(rds, "orders-db", BackupRetentionPeriod=7, DBName="orders")
    orders = rds.describe_db_instances(DBInstanceIdentifier="orders-db")["DBInstances"][0]
    _cluster(rds, "ledger")
    ledger = rds.describe_db_clusters(DBClusterIdentifier="ledger")["DBClusters"][0]
    rds.restore_db_instance_to_point_in_time(
        SourceDbiResourceId=orders["DbiResourceId"], TargetDBInstanceIdentifier="orders-db-copy", UseLatestRestorableTime=True
    )
    copy = rds.describe_db_instances(DBInstanceIdentifier="orders-db-copy")["DBInstances"][0]
    try:
        rds.restore_db_cluster_to_point_in_time(
            SourceDbClusterResourceId=ledger["DbClusterResourceId"], DBClusterIdentifier="ledger-copy", UseLatestRestorableTime=True
        )
    except TypeError:  # moto needs the source cluster by identifier
        return False
    return copy.get("DBName") == "orders" and rds.describe_db_clusters(DBClusterIdentifier="ledger-copy")["DBClusters"][0]["Engine"] == "aurora-postgresql"


def a_nested_execution_takes_its_parameters_as_the_asl_names_them(rds: Any) -> bool:
    sfn = boto3.client("stepfunctions", region_name="us-east-1")
    role = "arn:aws:iam::123456789012:role/states"
    child = sfn.create_state_machine(
        name="child", roleArn=role, definition=json.dumps({"StartAt": "Echo", "States": {"Echo": {"Type": "Pass", "End": True}}})
    )["stateMachineArn"]
    parent = sfn.create_state_machine(name="parent", roleArn=role, definition=json.dumps({"StartAt": "Nested", "States": {"Nested": {
        "Type": "Task", "Resource": "arn:aws:states:::states:startExecution.sync:2",
        "Parameters": {"StateMachineArn": child, "Input": {"hello": "world"}}, "OutputPath": "$.Output", "End": True,
    }}}))["stateMachineArn"]
    execution = sfn.start_execution(stateMachineArn=parent, name="nested")["executionArn"]
    while (described := sfn.describe_execution(executionArn=execution))["status"] == "RUNNING":
        time.sleep(0.01)
    return described["status"] == "SUCCEEDED" and json.loads(described["output"]) == {"hello": "world"}


@dataclass(frozen=True)
class Deviation:
    shim: str
    scenario: Callable[[Any], bool]
    moto_fixed: str


DEVIATIONS = (
    Deviation(
        "unique_automated_snapshot_names",
        instance_restore_after_rename,
        "restoring an instance under a name renamed away in the same minute",
    ),
    Deviation(
        "unique_automated_snapshot_names",
        cluster_restore_after_rename,
        "restoring a cluster under a name renamed away in the same minute",
    ),
    Deviation("cluster_rename_keeps_members", cluster_rename_keeps_members, "cluster rename keeping its members"),
    Deviation("default_option_groups_exist", default_option_group_can_be_named, "default option groups"),
    Deviation(
        "unique_instance_resource_ids",
        instances_have_their_own_resource_ids,
        "DbiResourceId being unique per instance",
    ),
    Deviation(
        "executions_without_a_name_get_one",
        unnamed_executions_get_unique_names,
        "naming executions started without a name",
    ),
    Deviation(
        "contributor_insights_are_described",
        contributor_insights_can_be_read_and_changed,
        "DescribeContributorInsights and UpdateContributorInsights",
    ),
    Deviation("settings_are_kept", settings_are_described, "keeping lifecycle, Performance Insights and Insights settings"),
    Deviation(
        "restores_start_from_the_snapshot",
        a_restore_takes_no_secret_roles_or_protection_of_the_source,
        "restores that do not copy the source's secret, roles, protection and lifecycle",
    ),
    Deviation(
        "restores_start_from_the_snapshot",
        a_point_in_time_restore_takes_no_secret_roles_or_protection_of_the_source,
        "point-in-time restores that do not copy the source's secret, roles and protection",
    ),
    Deviation(
        "point_in_time_sources_by_resource_id",
        a_point_in_time_restore_copies_the_database_its_resource_id_names,
        "point-in-time restores by source resource id",
    ),
    Deviation(
        "nested_executions_speak_asl",
        a_nested_execution_takes_its_parameters_as_the_asl_names_them,
        "states:startExecution tasks taking StateMachineArn and giving Output",
    ),
    Deviation("engine_versions_are_described", engine_versions_are_described, "DescribeDBEngineVersions"),
    Deviation("aws_managed_keys_are_aws_managed", the_aws_rds_key_is_aws_managed, "AWS managed keys"),
    Deviation(
        "shared_snapshots_are_found_in_their_account",
        a_shared_snapshot_is_copied_by_its_arn,
        "copying a snapshot shared by another account",
    ),
    Deviation(
        "encrypted_databases_default_to_the_aws_rds_key",
        an_encrypted_database_names_the_aws_rds_key,
        "encrypting with aws/rds when no key is named",
    ),
    Deviation(
        "nested_executions_speak_asl",
        a_state_starts_a_child_execution_and_reads_its_output,
        "child executions started by a state (startExecution.sync:2)",
    ),
    Deviation(
        "unknown_kms_aliases_are_not_accessible",
        a_cross_region_copy_with_an_unknown_alias_is_refused,
        "refusing a copy whose KMS alias is unknown in its region",
    ),
    Deviation(
        "service_integrations_act_in_the_state_machines_account",
        a_state_machine_of_another_account_writes_into_its_own,
        "service integrations acting in the state machine's account",
    ),
)


@pytest.mark.parametrize("deviation", DEVIATIONS, ids=lambda d: d.scenario.__name__)
def test_plain_moto_still_deviates(deviation: Deviation) -> None:
    with plain_moto() as rds:
        behaves_like_aws = deviation.scenario(rds)
    assert not behaves_like_aws, f"moto fixed {deviation.moto_fixed}; remove shim {deviation.shim}"


@pytest.mark.parametrize("deviation", DEVIATIONS, ids=lambda d: d.scenario.__name__)
def test_shim_restores_aws_behaviour(deviation: Deviation) -> None:
    with shimmed_moto() as rds:
        assert deviation.scenario(rds), f"shim {deviation.shim} no longer gives: {deviation.moto_fixed}"


def test_every_shim_has_a_deviation_scenario() -> None:
    assert {shim.name for shim in moto_shims.SHIMS} == {deviation.shim for deviation in DEVIATIONS}


def test_shims_are_removed_when_the_block_ends() -> None:
    with plain_moto() as rds:
        with moto_shims.installed():
            pass
        assert not cluster_rename_keeps_members(rds)


def test_plain_moto_still_makes_every_resource_available_at_once() -> None:
    # Not a shim: the latency model (trapheus_local.latency) stands in for the missing transitions.
    with plain_moto() as rds:
        _instance(rds, "orders-db")
        status = rds.describe_db_instances(DBInstanceIdentifier="orders-db")["DBInstances"][0]["DBInstanceStatus"]
        rds.create_db_snapshot(DBInstanceIdentifier="orders-db", DBSnapshotIdentifier="orders-db-snapshot")
        snapshot = rds.describe_db_snapshots(DBSnapshotIdentifier="orders-db-snapshot")["DBSnapshots"][0]["Status"]
    assert (status, snapshot) == ("available", "available"), (
        "moto fixed instant RDS transitions; revisit trapheus_local.latency"
    )
