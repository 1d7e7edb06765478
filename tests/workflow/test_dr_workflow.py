"""The DR side, end to end: the source stack (template.yaml) in the emulator's own account and the DR stack
(dr/template.yaml) in a second account, each under the strict RDS model of its own account and Regions.

The source's backup runs share their snapshots with the DR account; the DR copy workflow copies them under the DR
account's own key (in the source Region first, then on to a second Region under that Region's DR key), stores
each source database's configuration beside its copy, keeps its own retention and reports the source time each
copy holds, which the source's next run reads as its recovery point.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from backup_support import (
    DR_ACCOUNT,
    DR_TEMPLATE,
    TEMPLATE,
    WEST,
    cluster,
    customer_key,
    instance,
    old_policy_snapshot,
    policy,
    run_backup,
    snapshots_of,
    tags_of,
)
from support.rds_fixtures import ROOMY_QUOTAS, STACK_PARAMETERS

from trapheus import clients
from trapheus_local import Emulator
from trapheus_local.engine import Deployment
from trapheus_local.resources import ACCOUNT_ID
from trapheus_local.strict_rds import Quotas

# one emulator serves the module: what each test makes in RDS is dropped when it ends
pytestmark = pytest.mark.usefixtures("rds_made_by_the_test_forgotten")

DR = "DrCopyStateMachine"
EAST = "us-east-1"
KEEP_COUNT = 2


@pytest.fixture(scope="module")
def emulator() -> Iterator[Emulator]:
    clients.reset()
    with Emulator(quotas=ROOMY_QUOTAS) as aws:
        for account, region in ((DR_ACCOUNT, EAST), (DR_ACCOUNT, WEST)):
            aws.strict_in(account, region).quotas = ROOMY_QUOTAS
        yield aws
    clients.reset()


@pytest.fixture(scope="module")
def dr_west_key(emulator: Emulator) -> str:
    return customer_key(emulator, account_id=DR_ACCOUNT, region=WEST)


@pytest.fixture(scope="module")
def stacks(emulator: Emulator, dr_west_key: str) -> tuple[Deployment, Deployment]:
    """The DR stack first (it trusts the source and may read its databases' configuration), then the source stack
    with the DR report's role and table; the source's reader role has the name the engine derives from its stack."""
    source_reader = f"arn:aws:iam::{ACCOUNT_ID}:role/trapheus-local-BackupSourceReaderRole"
    dr = emulator.deploy(DR_TEMPLATE, {
        "SourceAccountIds": ACCOUNT_ID, "SourceReaderRoleArns": source_reader, "CopyToRegion": WEST,
        "CopyToKmsKeyArn": dr_west_key, "KeepCount": KEEP_COUNT, "KeepDays": 0, "PollIntervalSeconds": 600,
        "MaxPollAttempts": 6, "LogLevel": "WARNING",
    }, account_id=DR_ACCOUNT, stack_name="trapheus-dr")
    source = emulator.deploy(TEMPLATE, {
        "LogLevel": "WARNING", "PollIntervalSeconds": 900, "MaxPollAttempts": 6, "DrAccountIds": DR_ACCOUNT,
        "DrReportRoleArn": dr.resources["DrReportReaderRole"].attributes["Arn"],
        "DrReportTableName": dr.physical_id("DrReportTable"), **STACK_PARAMETERS,
    })
    assert source.resources["BackupSourceReaderRole"].attributes["Arn"] == source_reader
    return source, dr


@pytest.fixture
def source(stacks: tuple[Deployment, Deployment]) -> Deployment:
    return stacks[0]


@pytest.fixture
def dr(stacks: tuple[Deployment, Deployment]) -> Deployment:
    return stacks[1]


@pytest.fixture(autouse=True)
def clean_start(emulator: Emulator, stacks: Any) -> Iterator[None]:
    emulator.latency.clear()
    emulator.rds_calls.clear()
    yield
    emulator.latency.clear()


@pytest.fixture
def dr_messages(emulator: Emulator, dr: Deployment) -> Any:
    """Alerts the DR topic receives, through an SQS queue of the DR account subscribed to it."""
    sqs, sns = emulator.client("sqs", account_id=DR_ACCOUNT), emulator.client("sns", account_id=DR_ACCOUNT)
    queue = sqs.create_queue(QueueName="dr-alerts")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    topic = dr.physical_id("AlertTopic")
    if not sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]:
        sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn, Attributes={"RawMessageDelivery": "true"})

    def read() -> list[dict[str, Any]]:
        found = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10).get("Messages", [])
        for message in found:
            sqs.delete_message(QueueUrl=queue, ReceiptHandle=message["ReceiptHandle"])
        return [json.loads(message["Body"]) for message in found]

    read()
    return read


def dr_copies(emulator: Emulator, identifier: str, *, is_cluster: bool = False, region: str = EAST) -> list[dict[str, Any]]:
    rds = emulator.client("rds", account_id=DR_ACCOUNT, region=region)
    if is_cluster:
        found = rds.describe_db_cluster_snapshots(SnapshotType="manual")["DBClusterSnapshots"]
    else:
        found = rds.describe_db_snapshots(SnapshotType="manual")["DBSnapshots"]
    return [item for item in found if tags_of(item).get("trapheus:source") == identifier]


def item_of(report: dict[str, Any], database: str) -> dict[str, Any]:
    (found,) = [item for item in report["items"] if item["database"] == database]
    return found


def test_shared_snapshots_are_copied_into_the_dr_account_under_its_own_keys_in_both_regions(emulator, source, dr, dr_west_key):
    source_key = customer_key(emulator, lets_in=DR_ACCOUNT)
    instance(emulator, "drc-orders-db", StorageEncrypted=True, KmsKeyId=source_key)
    cluster(emulator, "drc-ledger", StorageEncrypted=True, KmsKeyId=source_key)
    backup = run_backup(source, policy("drc", "^drc-", shareWith=[DR_ACCOUNT]))

    run = dr.run(DR, {})

    dr_key = dr.resources["DrKey"].attributes["Arn"]
    assert backup.status == "SUCCEEDED" and run.status == "SUCCEEDED", (backup.result.cause, run.cause)
    for identifier, is_cluster in (("drc-orders-db", False), ("drc-ledger", True)):
        (east,) = dr_copies(emulator, identifier, is_cluster=is_cluster)
        (west,) = dr_copies(emulator, identifier, is_cluster=is_cluster, region=WEST)
        assert east["KmsKeyId"] == dr_key and west["KmsKeyId"] == dr_west_key  # the DR account's keys, not the source's
        (source_snapshot,) = snapshots_of(emulator, identifier, is_cluster=is_cluster)
        name = source_snapshot["DBClusterSnapshotIdentifier" if is_cluster else "DBSnapshotIdentifier"]
        assert tags_of(east)["trapheus:source-snapshot"].endswith(f":{name}")
        assert tags_of(east)["trapheus:source-account"] == ACCOUNT_ID
        entry = item_of(run.output["report"], f"{ACCOUNT_ID}:{'cluster' if is_cluster else 'instance'}:{identifier}")
        assert entry["outcome"] == "copied" and entry["onward"]["region"] == WEST
    # the cluster copy was made in the source Region (a shared cluster snapshot cannot leave it in one step)
    (copy_call,) = [c for c in emulator.rds_calls.calls
                    if c.operation == "CopyDBClusterSnapshot" and c.account == DR_ACCOUNT and c.region == EAST]
    assert copy_call.params["KmsKeyId"] == dr_key
    # the instance copy holds the source snapshot's time
    (east,) = dr_copies(emulator, "drc-orders-db")
    (source_snapshot,) = snapshots_of(emulator, "drc-orders-db")
    assert east["OriginalSnapshotCreateTime"] == source_snapshot["OriginalSnapshotCreateTime"]


def test_each_copy_has_the_source_databases_configuration_beside_it(emulator, source, dr):
    instance(emulator, "drcfg-db", MultiAZ=True, BackupRetentionPeriod=9, Tags=[{"Key": "team", "Value": "payments"}])
    run_backup(source, policy("drcfg", "^drcfg-db$", shareWith=[DR_ACCOUNT]))

    run = dr.run(DR, {})

    entry = item_of(run.output["report"], f"{ACCOUNT_ID}:instance:drcfg-db")
    s3 = emulator.client("s3", account_id=DR_ACCOUNT)
    stored = json.loads(s3.get_object(Bucket=dr.physical_id("DrCatalogBucket"), Key=entry["configurationKey"])["Body"].read())
    configuration = stored["configuration"]
    assert configuration["kind"] == "instance"  # trapheus.databases.capture's format
    assert configuration["settings"]["MultiAZ"] is True and configuration["settings"]["BackupRetentionPeriod"] == 9
    assert {"Key": "team", "Value": "payments"} in configuration["tags"]
    assert stored["sourceSnapshot"] == entry["sourceSnapshot"] and stored["sourceTime"] == entry["sourceTime"]


def test_the_source_run_reports_the_recovery_point_the_dr_account_holds(emulator, source, dr):
    instance(emulator, "drrpo-db")
    first = run_backup(source, policy("drrpo", "^drrpo-db$", shareWith=[DR_ACCOUNT]))
    dr.run(DR, {})

    second = run_backup(source, policy("drrpo", "^drrpo-db$", shareWith=[DR_ACCOUNT]))

    item = second.item("drrpo-db")
    assert first.item("drrpo-db")["rpoMeasuredAt"] == "source"
    assert item["outcome"] == "skipped" and item["rpoMeasuredAt"] == "dr"
    (source_snapshot,) = snapshots_of(emulator, "drrpo-db")
    assert datetime.fromisoformat(item["drCopy"]["sourceTime"]) == source_snapshot["OriginalSnapshotCreateTime"]
    assert 0 <= item["rpoSeconds"] < 600 and not item["rpoExceeded"]


def test_a_second_dr_run_copies_nothing_new(emulator, source, dr):
    instance(emulator, "dragain-db")
    run_backup(source, policy("dragain", "^dragain-db$", shareWith=[DR_ACCOUNT]))
    dr.run(DR, {})
    emulator.rds_calls.clear()

    again = dr.run(DR, {})

    assert item_of(again.output["report"], f"{ACCOUNT_ID}:instance:dragain-db")["outcome"] == "up-to-date"
    assert not [call for call in emulator.rds_calls.mutating() if call.operation.startswith("Copy")]


def test_a_source_key_that_does_not_let_the_dr_account_in_fails_that_database_with_the_statement_to_add(
    emulator, source, dr, dr_messages
):
    tight = customer_key(emulator)  # its policy names the source account only
    instance(emulator, "drkey-db", StorageEncrypted=True, KmsKeyId=tight)
    instance(emulator, "drkey-open-db")
    run_backup(source, policy("drkey", "^drkey-", shareWith=[DR_ACCOUNT]))
    (refused_snapshot,) = snapshots_of(emulator, "drkey-db")

    try:
        run = dr.run(DR, {})
    finally:  # later runs of the module's DR stack would meet it again
        emulator.client("rds").modify_db_snapshot_attribute(
            DBSnapshotIdentifier=refused_snapshot["DBSnapshotIdentifier"], AttributeName="restore",
            ValuesToRemove=[DR_ACCOUNT])

    failed = item_of(_report(dr, run), f"{ACCOUNT_ID}:instance:drkey-db")
    assert run.status == "FAILED" and run.error == "DrCopyIncompleteError"
    assert failed["outcome"] == "failed" and tight in failed["reason"] and "kms:CreateGrant" in failed["reason"]
    assert f"arn:aws:iam::{DR_ACCOUNT}:root" in failed["reason"]
    assert dr_copies(emulator, "drkey-db") == [] and len(dr_copies(emulator, "drkey-open-db")) == 1
    (message,) = dr_messages()
    assert message["error"] == "DrCopyIncompleteError" and "drkey-db" in message["message"]


def _report(dr: Deployment, run: Any) -> dict[str, Any]:
    from trapheus_cli.reports import report_of

    return report_of(dr.client("stepfunctions"), run.arn)[1]


def share(emulator: Emulator, name: str) -> None:
    emulator.client("rds").modify_db_snapshot_attribute(DBSnapshotIdentifier=name, AttributeName="restore",
                                                        ValuesToAdd=[DR_ACCOUNT])


def test_dr_retention_is_its_own_and_never_touches_what_it_did_not_make(emulator, source, dr):
    instance(emulator, "drkeep-db")
    for hours in (4, 3, 2):  # earlier snapshots of the source, each copied by the DR run of its time
        share(emulator, old_policy_snapshot(emulator, "drkeep-db", f"drkeep-db-{hours}h", "drkeep", timedelta(hours=hours)))
        dr.run(DR, {})
    first_copies = {region: sorted(c["DBSnapshotIdentifier"] for c in dr_copies(emulator, "drkeep-db", region=region))
                    for region in (EAST, WEST)}
    dr_rds = emulator.client("rds", account_id=DR_ACCOUNT)
    with emulator.settled():  # a copy someone else made in the DR account
        dr_rds.copy_db_snapshot(SourceDBSnapshotIdentifier=snapshots_of(emulator, "drkeep-db")[0]["DBSnapshotArn"],
                                TargetDBSnapshotIdentifier="by-hand-copy")
    run_backup(source, policy("drkeep", "^drkeep-db$", shareWith=[DR_ACCOUNT]))

    run = dr.run(DR, {})

    for region in (EAST, WEST):
        # each DR run kept its newest KEEP_COUNT copies of the database (KeepDays 0): the 4h one went already
        assert [name[-2:] for name in first_copies[region]] == ["2h", "3h"]
        left = sorted(c["DBSnapshotIdentifier"] for c in dr_copies(emulator, "drkeep-db", region=region))
        assert len(left) == KEEP_COUNT and left[0].endswith("2h") and "drkeep-db-drkeep-" in left[1], left
    assert dr_rds.describe_db_snapshots(DBSnapshotIdentifier="by-hand-copy")["DBSnapshots"]
    assert run.status == "SUCCEEDED" and run.output["report"]["summary"]["pruned"] == 2


def test_the_dr_accounts_own_quota_refuses_a_copy_and_alerts(emulator, source, dr, dr_messages):
    instance(emulator, "drquota-db")
    run_backup(source, policy("drquota", "^drquota-db$", shareWith=[DR_ACCOUNT]))
    model = emulator.strict_in(DR_ACCOUNT, EAST)
    used = len(emulator.client("rds", account_id=DR_ACCOUNT).describe_db_snapshots(SnapshotType="manual")["DBSnapshots"])
    model.quotas = Quotas(**{**ROOMY_QUOTAS.__dict__, "manual_snapshots": used})
    try:
        run = dr.run(DR, {})
    finally:
        model.quotas = ROOMY_QUOTAS

    entry = item_of(_report(dr, run), f"{ACCOUNT_ID}:instance:drquota-db")
    assert run.status == "FAILED" and entry["outcome"] == "refused" and f"{used} of {used} used" in entry["reason"]
    assert dr_copies(emulator, "drquota-db") == [] and dr_messages()


def test_an_onward_copy_refused_in_the_other_region_is_reported_and_alerted(emulator, source, dr, dr_messages):
    instance(emulator, "dronward-db")
    run_backup(source, policy("dronward", "^dronward-db$", shareWith=[DR_ACCOUNT]))
    model = emulator.strict_in(DR_ACCOUNT, WEST)
    west = emulator.client("rds", account_id=DR_ACCOUNT, region=WEST)
    used = len(west.describe_db_snapshots(SnapshotType="manual")["DBSnapshots"])
    model.quotas = Quotas(**{**ROOMY_QUOTAS.__dict__, "manual_snapshots": used})
    try:
        run = dr.run(DR, {})
    finally:
        model.quotas = ROOMY_QUOTAS

    database = f"{ACCOUNT_ID}:instance:dronward-db"
    entry = item_of(_report(dr, run), database)
    assert run.status == "FAILED" and entry["outcome"] == "refused" and WEST in entry["reason"], entry
    (east,) = dr_copies(emulator, "dronward-db")
    assert dr_copies(emulator, "dronward-db", region=WEST) == [] and dr_messages()
    # the report the source reads names the copy that exists, in the Region it exists in
    table = dr.physical_id("DrReportTable")
    items = emulator.client("dynamodb", account_id=DR_ACCOUNT).scan(TableName=table)["Items"]
    (recorded,) = [i for i in items if i["database"]["S"] == database]
    assert (recorded["copyRegion"]["S"], recorded["copyArn"]["S"]) == (EAST, east["DBSnapshotArn"])


def test_a_dr_run_that_cannot_read_the_shares_fails_and_alerts(emulator, dr, dr_messages):
    emulator.latency.fail_api("DescribeDBSnapshots", code="InternalFailure", message="injected", account=DR_ACCOUNT)

    run = dr.run(DR, {})

    assert run.status == "FAILED" and "Note the failure" in run.entered_states
    (message,) = dr_messages()
    assert message["kind"] == "dr-copy" and message["subject"].startswith("[trapheus] DR COPY NEEDS ATTENTION")


def test_long_dr_copies_are_left_running_for_the_next_run(emulator, source, dr):
    instance(emulator, "drslow-db")
    run_backup(source, policy("drslow", "^drslow-db$", shareWith=[DR_ACCOUNT]))
    emulator.latency.end_status("CopyDBSnapshot", None, "copying", times=None, account=DR_ACCOUNT, region=EAST)

    run = dr.run(DR, {})

    assert run.status == "SUCCEEDED" and "Leave the copies running" in run.entered_states
    assert item_of(run.output["report"], f"{ACCOUNT_ID}:instance:drslow-db")["outcome"] == "copying"
    assert f"{ACCOUNT_ID}:instance:drslow-db" in run.output["report"]["summary"]["stillCopying"]


def test_a_dr_alert_that_cannot_be_delivered_does_not_change_how_the_run_ends(emulator, dr):
    sns = emulator.client("sns", account_id=DR_ACCOUNT)
    topic = dr.physical_id("AlertTopic")
    emulator.latency.fail_api("DescribeDBSnapshots", code="InternalFailure", message="injected", account=DR_ACCOUNT)
    sns.delete_topic(TopicArn=topic)
    try:
        run = dr.run(DR, {})
    finally:
        sns.create_topic(Name=topic.split(":")[-1])

    assert run.status == "FAILED" and "SNS alert not sent" in run.entered_states


@contextlib.contextmanager
def dr_copy_trigger(emulator: Emulator, source: Deployment, dr: Deployment, machine_arn: str | None = None) -> Iterator[None]:
    """The source stack as deployed with DrCopyTriggerRoleArn and DrCopyStateMachineArn (the DR stack's outputs)."""
    spec = emulator.runtime.lookup(source.physical_id("BackupPlanFunction"))
    assert spec is not None
    role = dr.resources["DrCopyTriggerRole"].attributes["Arn"]
    emulator.runtime.register(dataclasses.replace(spec, environment={
        **spec.environment, "DR_TRIGGER_ROLE_ARN": role, "DR_COPY_STATE_MACHINE_ARN": machine_arn or dr.state_machine_arn(DR)}))
    try:
        yield
    finally:
        emulator.runtime.register(spec)


def test_a_backup_run_that_shared_new_snapshots_starts_the_dr_copy_at_once(emulator, source, dr):
    instance(emulator, "drnow-db")
    with dr_copy_trigger(emulator, source, dr):
        backup = run_backup(source, policy("drnow", "^drnow-db$", shareWith=[DR_ACCOUNT]))
        started = backup.report["summary"]["drCopyRun"]
        assert started["started"] is True, started
        run = dr.wait(started["execution"], real_timeout=120)

        again = run_backup(source, policy("drnow", "^drnow-db$", shareWith=[DR_ACCOUNT]))

    assert run.status == "SUCCEEDED" and started["execution"].split(":")[4] == DR_ACCOUNT
    assert item_of(run.output["report"], f"{ACCOUNT_ID}:instance:drnow-db")["outcome"] == "copied"
    (copy,) = dr_copies(emulator, "drnow-db")
    assert copy["KmsKeyId"] == dr.resources["DrKey"].attributes["Arn"]
    # nothing new was shared by the second run (the snapshot was not due): no DR run started
    assert again.item("drnow-db")["outcome"] == "skipped" and again.report["summary"]["drCopyRun"] is None
    assert again.item("drnow-db")["rpoMeasuredAt"] == "dr"


def test_a_dr_copy_that_cannot_be_started_leaves_the_backup_run_as_it_was(emulator, source, dr):
    instance(emulator, "drnot-db")
    gone = dr.state_machine_arn(DR).replace("-dr-copy", "-dr-copy-deleted")
    with dr_copy_trigger(emulator, source, dr, machine_arn=gone):
        backup = run_backup(source, policy("drnot", "^drnot-db$", shareWith=[DR_ACCOUNT]))

    assert backup.status == "SUCCEEDED", backup.result.cause
    assert backup.item("drnot-db")["outcome"] == "snapshot"
    assert backup.report["summary"]["drCopyRun"]["started"] is False  # the DR schedule copies it instead
    assert dr.run(DR, {}).succeeded and len(dr_copies(emulator, "drnot-db")) == 1
