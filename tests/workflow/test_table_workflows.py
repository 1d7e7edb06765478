"""The table-backup and table-restore workflows, end to end: template.yaml in the emulator, the real ASL run.

One emulator and one deployment for the module, under the strict DynamoDB model
(trapheus_local.strict_dynamodb): tables are CREATING before ACTIVE, a deleted table's name
stays taken while it is DELETING, BatchWriteItem takes 25 requests at most, and throttling
comes back as UnprocessedItems. Each test works on tables of its own; faults are injected
into the emulated DynamoDB API at the step that changes something.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from moto.s3.exceptions import AccessDeniedByLock
from moto.s3.models import S3Backend
from moto.ses.models import ses_backends
from support.alert_topic import alert_topic_reader
from support.slack import SlackListener
from support.table_fixtures import all_items, contents, create_table, items, number, put_items

from trapheus import clients
from trapheus.tables import settings as table_settings
from trapheus.tables.manifest import BackupLocation
from trapheus_local import Emulator, strict_dynamodb
from trapheus_local.engine import Deployment, ExecutionResult
from trapheus_local.resources import ACCOUNT_ID

BACKUP, RESTORE = "TableBackupStateMachine", "TableRestoreStateMachine"
REAL_TEMPLATE = Path(__file__).resolve().parents[2] / "template.yaml"
SENDER, RECIPIENT = "trapheus@example.com", "dba@example.com"
SLACK_PATH = "/services/T000/B000/table-alerts"
MAX_ATTEMPTS = 8
ITEMS_PER_INVOCATION = 40
COPY_BUCKET, COPY_REGION = "trapheus-dr-copies", "eu-west-1"
MISSING_BUCKET = "trapheus-dr-missing"  # allowed by the stack, never created


@pytest.fixture(scope="module")
def slack() -> Iterator[SlackListener]:
    with SlackListener() as listener:
        yield listener


@pytest.fixture(scope="module")
def emulator() -> Iterator[Emulator]:
    clients.reset()
    with Emulator() as aws:
        yield aws
    clients.reset()


@pytest.fixture(scope="module")
def stack(emulator: Emulator, slack: SlackListener) -> Deployment:
    deployment = emulator.deploy(REAL_TEMPLATE, {
        "LogLevel": "WARNING", "ManagedDatabasePattern": "none",  # these runs change tables, no database
        "MaxPollAttempts": MAX_ATTEMPTS, "PollIntervalSeconds": 30,
        "SenderEmail": SENDER, "RecipientEmails": RECIPIENT, "SlackWebhookUrls": slack.url(SLACK_PATH),
        "TableItemsPerInvocation": ITEMS_PER_INVOCATION, "TableScanConcurrency": 3, "TableLoadConcurrency": 2,
        "TableCopyBucketArns": f"arn:aws:s3:::{COPY_BUCKET},arn:aws:s3:::{MISSING_BUCKET}",
    })  # fmt: skip
    emulator.client("ses").verify_email_identity(EmailAddress=SENDER)
    return deployment


@dataclass
class Tables:
    """The test's view of the stack: runs, the strict model, the bucket, the alerts sent since the test began."""

    emulator: Emulator
    stack: Deployment
    slack: SlackListener
    emails_before: int

    @property
    def model(self) -> strict_dynamodb.StrictDynamoDB:
        return strict_dynamodb.current()

    @property
    def dynamodb(self) -> Any:
        return self.emulator.client("dynamodb")

    @property
    def s3(self) -> Any:
        return self.emulator.client("s3")

    @property
    def bucket(self) -> str:
        return str(self.stack.physical_id("TableBackupBucket"))

    def backup(self, table: str, **extra: Any) -> ExecutionResult:
        return self.stack.run(BACKUP, {"table": table, **extra})

    def backed_up(self, table: str, **extra: Any) -> str:
        result = self.backup(table, **extra)
        assert result.status == "SUCCEEDED", (result.error, result.cause)
        return str(result.output["backupId"])

    def restore(self, backup_id: str, table: str, **extra: Any) -> ExecutionResult:
        return self.stack.run(RESTORE, {"backupId": backup_id, "table": table, **extra})

    def keys(self, prefix: str) -> list[str]:
        pages = self.s3.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=prefix)
        return [entry["Key"] for page in pages for entry in page.get("Contents", [])]

    def location(self, table: str, backup_id: str) -> BackupLocation:
        return BackupLocation(self.bucket, table, backup_id)

    def exists(self, table: str) -> bool:
        return table in self.dynamodb.list_tables()["TableNames"]

    def emails(self) -> list[Any]:
        return list(ses_backends[ACCOUNT_ID][self.emulator.region].sent_messages)[self.emails_before :]

    def slack_messages(self) -> list[Any]:
        return self.slack.bodies(SLACK_PATH)

    def on_demand_backups(self, table: str) -> list[dict[str, Any]]:
        return self.dynamodb.list_backups(TableName=table, BackupType="USER")["BackupSummaries"]


@pytest.fixture
def tables(emulator: Emulator, stack: Deployment, slack: SlackListener) -> Iterator[Tables]:
    slack.clear()
    yield Tables(emulator, stack, slack, len(ses_backends[ACCOUNT_ID][emulator.region].sent_messages))
    strict_dynamodb.current().clear()


def _alerted(tables: Tables, rollback_text: str) -> None:
    emails, posts = tables.emails(), tables.slack_messages()
    assert len(emails) == 1 and len(posts) == 1
    assert rollback_text in emails[0].body
    assert rollback_text in json.dumps(posts[0])


# -- backup and restore ----------------------------------------------------------------------------


def test_every_attribute_type_round_trips_through_backup_and_restore(tables):
    create_table(tables.emulator, "types")
    rows = items(130)
    put_items(tables.emulator, "types", rows)

    backup = tables.backup("types", segments=4)

    assert backup.status == "SUCCEEDED", backup.cause
    assert backup.output["items"] == 130 and backup.output["method"] == "scan"
    assert backup.entered_states.count("Scan a segment") > 4, "segments are scanned over several invocations"
    location = tables.location("types", backup.output["backupId"])
    manifest = json.loads(tables.s3.get_object(Bucket=tables.bucket, Key=location.manifest_key)["Body"].read())
    assert manifest["totals"]["items"] == 130 and len(manifest["segments"]) == 4
    part = next(key for key in tables.keys(location.prefix) if key.endswith(".json.gz"))
    first_line = gzip.decompress(tables.s3.get_object(Bucket=tables.bucket, Key=part)["Body"].read()).splitlines()[0]
    assert set(json.loads(first_line)) == {"Item"}, "backup files hold typed JSON, nothing executable"

    restored = tables.restore(backup.output["backupId"], "types", target="types-restored")

    assert restored.status == "SUCCEEDED", restored.cause
    assert restored.output["items"] == 130
    copied = all_items(tables.emulator, "types-restored")
    assert contents(copied) == contents(rows)
    by_key = {(r["pk"]["S"], r["sk"]["N"]): r for r in copied}
    for row in rows:
        twin = by_key[(row["pk"]["S"], row["sk"]["N"])]
        assert number(twin, "total") == number(row, "total") and number(twin, "tiny") == number(row, "tiny")
        assert twin["blob"] == row["blob"] and set(twin["keys"]["BS"]) == set(row["keys"]["BS"])
    assert all_items(tables.emulator, "types") and len(all_items(tables.emulator, "types")) == 130  # source untouched


def test_a_table_with_every_setting_is_restored_with_all_of_them(tables):
    create_table(tables.emulator, "ledger", provisioned=True, settings=True)
    put_items(tables.emulator, "ledger", items(30))
    before = table_settings.capture("ledger", tables.dynamodb, tables.emulator.client("application-autoscaling"),
                                    tables.emulator.client("cloudwatch"))  # fmt: skip
    backup_id = tables.backed_up("ledger")

    result = tables.restore(backup_id, "ledger", target="ledger-restored")

    assert result.status == "SUCCEEDED", result.cause
    after = table_settings.capture("ledger-restored", tables.dynamodb, tables.emulator.client("application-autoscaling"),
                                   tables.emulator.client("cloudwatch"))  # fmt: skip
    assert table_settings.differences(before, after, ignore_tags=("trapheus:",)) == []
    assert after["globalSecondaryIndexes"][0]["IndexName"] == "by-day" and after["localSecondaryIndexes"]
    assert after["ttl"] == {"enabled": True, "attributeName": "expires"}
    assert after["stream"] == {"enabled": True, "viewType": "NEW_AND_OLD_IMAGES"} and after["pointInTimeRecovery"]["enabled"]
    assert {t["Key"]: t["Value"] for t in after["tags"]}.items() >= {"team": "payments", "cost-centre": "42",
                                                                    "trapheus:restore-state": "complete"}.items()  # fmt: skip
    assert after["autoScaling"]["policies"][0]["name"] == "ledger-writes" and after["deletionProtection"]
    assert after["billingMode"] == "PROVISIONED" and after["provisionedThroughput"]["WriteCapacityUnits"] == 7
    assert after["contributorInsights"][""] == "ENABLED"
    assert json.loads(after["resourcePolicy"])["Statement"][0]["Resource"] == after["tableArn"]
    assert result.output["alarmsNotCarried"] == ["ledger-throttles"] and result.output["settingsNotCarried"] == []
    assert "Wait for the settings" in result.entered_states  # streams, then deletion protection: one update at a time


def test_a_restore_never_writes_into_a_table_it_did_not_make(tables):
    create_table(tables.emulator, "catalog")
    put_items(tables.emulator, "catalog", items(10))
    backup_id = tables.backed_up("catalog")
    create_table(tables.emulator, "catalog-live")
    put_items(tables.emulator, "catalog-live", items(3, start=500))

    result = tables.restore(backup_id, "catalog", target="catalog-live")

    assert result.status == "FAILED" and result.error == "TableExistsError"
    assert "Refuse the request" in result.entered_states and "Create the target table" not in result.entered_states
    assert len(all_items(tables.emulator, "catalog-live")) == 3


def test_replace_keeps_an_on_demand_backup_and_reports_the_new_stream(tables):
    create_table(tables.emulator, "accounts", settings=True)
    put_items(tables.emulator, "accounts", items(40))
    backup_id = tables.backed_up("accounts")
    put_items(tables.emulator, "accounts", items(5, start=900))  # written after the backup
    stream_before = tables.dynamodb.describe_table(TableName="accounts")["Table"]["LatestStreamArn"]

    result = tables.restore(backup_id, "accounts", replace=True)

    assert result.status == "SUCCEEDED", result.cause
    assert contents(all_items(tables.emulator, "accounts")) == contents(items(40))
    kept = tables.dynamodb.describe_backup(BackupArn=result.output["onDemandBackupArn"])["BackupDescription"]
    assert kept["BackupDetails"]["BackupStatus"] == "AVAILABLE" and kept["SourceTableDetails"]["ItemCount"] == 45
    assert result.output["streamArn"]["before"] == stream_before and result.output["streamArn"]["changed"] is True
    described = tables.dynamodb.describe_table(TableName="accounts")["Table"]
    assert described["DeletionProtectionEnabled"] and described["StreamSpecification"]["StreamEnabled"]
    lock = tables.dynamodb.get_item(TableName=tables.stack.physical_id("LockTable"), Key={"lockId": {"S": "table:accounts"}})
    assert "Item" not in lock, "the lock is released"


@pytest.mark.parametrize("fault", ["CreateTable", "BatchWriteItem"], ids=["before the re-create", "while loading"])
def test_a_fault_after_the_delete_puts_the_original_back_from_its_on_demand_backup(tables, fault):
    name = f"wallets-{fault.lower()}"
    create_table(tables.emulator, name, provisioned=True, settings=True)
    put_items(tables.emulator, name, items(45))
    backup_id = tables.backed_up(name)
    put_items(tables.emulator, name, items(5, start=700))
    original = table_settings.capture(name, tables.dynamodb, tables.emulator.client("application-autoscaling"))
    tables.model.fail(fault, name, code="InternalServerError", message="injected after the delete", times=None)

    result = tables.restore(backup_id, name, replace=True)

    assert result.status == "FAILED" and result.error == "TableRestoreError"
    for state in ("Delete the current table", "Remove the partial table", "Recover the original table",
                  "Wait for the recovered table", "Re-apply the original settings", "Rollback finished"):  # fmt: skip
        assert state in result.entered_states, state
    if fault == "BatchWriteItem":
        assert "Wait for the partial table to go" in result.entered_states, "the half-loaded table was removed first"
    tables.model.clear()
    assert contents(all_items(tables.emulator, name)) == contents(items(45) + items(5, start=700))
    recovered = table_settings.capture(name, tables.dynamodb, tables.emulator.client("application-autoscaling"))
    assert table_settings.differences(original, recovered) == []
    assert recovered["ttl"]["enabled"] and recovered["stream"]["enabled"] and recovered["pointInTimeRecovery"]["enabled"]
    assert len(tables.on_demand_backups(name)) == 1, "the on-demand backup is kept"
    _alerted(tables, "restored from its on-demand backup")


def test_a_fault_while_the_original_is_being_deleted_waits_for_it_then_puts_it_back(tables):
    create_table(tables.emulator, "rewards")
    put_items(tables.emulator, "rewards", items(15))
    backup_id = tables.backed_up("rewards")
    tables.model.delete_seconds = 100.0  # several polls of DELETING
    # validation describes the table twice, the delete step once, the first check sees DELETING: the second fails
    tables.model.fail("DescribeTable", "rewards", code="InternalServerError", after=4)
    try:
        result = tables.restore(backup_id, "rewards", replace=True)
    finally:
        tables.model.delete_seconds = 10.0

    assert result.status == "FAILED" and "Check the deleted table" in result.entered_states
    assert "Wait for the partial table to go" in result.entered_states, "the deleting original was waited out"
    assert "Recover the original table" in result.entered_states and "Create the target table" not in result.entered_states
    assert contents(all_items(tables.emulator, "rewards")) == contents(items(15))
    _alerted(tables, "restored from its on-demand backup")


def test_a_fault_before_the_delete_leaves_the_table_alone(tables):
    create_table(tables.emulator, "invoices")
    put_items(tables.emulator, "invoices", items(12))
    backup_id = tables.backed_up("invoices")
    tables.model.fail("CreateBackup", "invoices", code="LimitExceededException", message="too many backups", times=None)

    result = tables.restore(backup_id, "invoices", replace=True)

    assert result.status == "FAILED" and result.error == "TableRestoreError"
    assert "Recover the original table" in result.entered_states and "Delete the current table" not in result.entered_states
    assert len(all_items(tables.emulator, "invoices")) == 12
    _alerted(tables, "no table had been changed")


def test_a_failed_recovery_is_reported_and_the_on_demand_backup_kept(tables):
    create_table(tables.emulator, "payouts")
    put_items(tables.emulator, "payouts", items(20))
    backup_id = tables.backed_up("payouts")
    tables.model.fail("BatchWriteItem", "payouts", times=None)
    tables.model.fail("RestoreTableFromBackup", "payouts", code="LimitExceededException", message="too many restores",
                      times=None)  # fmt: skip

    result = tables.restore(backup_id, "payouts", replace=True)

    assert result.status == "FAILED" and "Record the rollback failure" in result.entered_states
    assert len(tables.on_demand_backups("payouts")) == 1
    _alerted(tables, "ROLLBACK FAILED")


# -- throttling and resuming -----------------------------------------------------------------------


def test_throttling_slows_the_load_but_loses_no_item(tables):
    create_table(tables.emulator, "events")
    rows = items(150)
    put_items(tables.emulator, "events", rows)
    backup_id = tables.backed_up("events", segments=2)
    tables.model.throttle("events-restored", calls=6, items=10)
    handed_back = tables.model.unprocessed_items
    waited_before = tables.emulator.clock.elapsed

    result = tables.restore(backup_id, "events", target="events-restored")

    assert result.status == "SUCCEEDED", result.cause
    assert tables.model.unprocessed_items - handed_back == 60
    assert result.entered_states.count("Wait for write capacity") == 6
    assert tables.emulator.clock.elapsed - waited_before >= 6, "each throttle is waited out in the workflow"
    assert contents(all_items(tables.emulator, "events-restored")) == contents(rows)


def test_writes_throttled_too_long_fail_and_a_rerun_resumes_without_duplicates_or_misses(tables):
    create_table(tables.emulator, "clicks")
    rows = items(200)
    put_items(tables.emulator, "clicks", rows)
    backup_id = tables.backed_up("clicks", segments=4)
    tables.model.throttle("clicks-copy", calls=None, after=4)

    first = tables.restore(backup_id, "clicks", target="clicks-copy")

    assert first.status == "FAILED" and first.error == "WriteThrottledError"
    assert "Writes throttled too long" in first.entered_states and "Keep the unfinished target" in first.entered_states
    loaded = len(all_items(tables.emulator, "clicks-copy"))
    assert 0 < loaded < 200
    _alerted(tables, "a re-run with the same input resumes")
    tables.model.clear()
    written = tables.model.written.get("clicks-copy", 0)

    second = tables.restore(backup_id, "clicks", target="clicks-copy")

    assert second.status == "SUCCEEDED", second.cause
    assert contents(all_items(tables.emulator, "clicks-copy")) == contents(rows)
    assert tables.model.written["clicks-copy"] - written <= 200 - loaded + 25, "the re-run skipped what was loaded"


# -- refused before any change ----------------------------------------------------------------------


def _no_change(tables: Tables, result: ExecutionResult, tables_before: set[str], objects_before: int) -> None:
    assert result.status == "FAILED"
    assert "Refuse the request" in result.entered_states
    assert set(tables.dynamodb.list_tables()["TableNames"]) == tables_before
    assert len(tables.keys("")) == objects_before
    assert len(tables.emails()) == 1 and len(tables.slack_messages()) == 1


def test_a_backup_without_manifest_or_with_a_changed_file_is_never_restored(tables):
    create_table(tables.emulator, "orders")
    put_items(tables.emulator, "orders", items(60))
    unfinished, tampered, relabelled = (tables.backed_up("orders", segments=2) for _ in range(3))
    tables.s3.delete_object(Bucket=tables.bucket, Key=tables.location("orders", unfinished).manifest_key)
    part = next(k for k in tables.keys(tables.location("orders", tampered).prefix) if k.endswith(".json.gz"))
    forged = gzip.compress(json.dumps({"Item": {"pk": {"S": "customer-1"}, "sk": {"N": "1"}}}).encode() + b"\n")
    tables.s3.put_object(Bucket=tables.bucket, Key=part, Body=forged)
    manifest_key = tables.location("orders", relabelled).manifest_key
    manifest = json.loads(tables.s3.get_object(Bucket=tables.bucket, Key=manifest_key)["Body"].read())
    manifest["segments"][0]["files"][0]["sha256"] = "0" * 64
    tables.s3.put_object(Bucket=tables.bucket, Key=manifest_key, Body=json.dumps(manifest).encode())

    for backup_id, error in ((unfinished, "BackupIncompleteError"), (tampered, "BackupCorruptError"),
                             (relabelled, "BackupCorruptError")):  # fmt: skip
        for request in ({"target": "orders-copy"}, {"replace": True}):
            tables.slack.clear()
            tables.emails_before = len(ses_backends[ACCOUNT_ID][tables.emulator.region].sent_messages)
            before = set(tables.dynamodb.list_tables()["TableNames"]), len(tables.keys(""))
            result = tables.restore(backup_id, "orders", **request)
            assert result.error == error, (backup_id, request, result.cause)
            _no_change(tables, result, *before)
    assert len(all_items(tables.emulator, "orders")) == 60 and tables.on_demand_backups("orders") == []


BAD_BACKUPS = [
    ("not an object", "InvalidInputError"),
    ({}, "InvalidInputError"),
    ({"table": "no-such-table"}, "TableNotFoundError"),
    ({"table": "stock", "segments": 0}, "InvalidInputError"),
    ({"table": "stock", "method": "export"}, "InvalidInputError"),
    ({"table": "stock", "copyTo": {"bucket": "somebody-elses-bucket"}}, "InvalidInputError"),
]
BAD_RESTORES = [
    ({"table": "stock", "target": "stock-copy"}, "InvalidInputError"),
    ({"backupId": "20260101T000000Z-00000000", "table": "stock", "target": "stock-copy"}, "BackupNotFoundError"),
    ({"backupId": "20260101T000000Z-00000000", "table": "stock", "target": "stock"}, "InvalidInputError"),
    ({"backupId": "20260101T000000Z-00000000", "table": "stock", "replace": "yes"}, "InvalidInputError"),
]


@pytest.fixture(scope="module")
def stock(stack: Deployment, emulator: Emulator) -> str:
    create_table(emulator, "stock")
    put_items(emulator, "stock", items(5))
    return "stock"


BAD_REQUESTS = [(BACKUP, *case) for case in BAD_BACKUPS] + [(RESTORE, *case) for case in BAD_RESTORES]


@pytest.mark.parametrize(("machine", "request_input", "error"), BAD_REQUESTS,
                         ids=lambda v: json.dumps(v)[:40])  # fmt: skip
def test_a_bad_request_is_refused_before_any_change(tables, stock, machine, request_input, error):
    before = set(tables.dynamodb.list_tables()["TableNames"]), len(tables.keys(""))
    result = tables.stack.run(machine, request_input)
    assert result.error == error, result.cause
    _no_change(tables, result, *before)


def test_a_global_table_backup_is_refused(tables, stock):
    backup_id = tables.backed_up("stock")
    key = tables.location("stock", backup_id).manifest_key
    manifest = json.loads(tables.s3.get_object(Bucket=tables.bucket, Key=key)["Body"].read())
    manifest["settings"]["replicas"] = ["eu-west-1"]
    tables.s3.put_object(Bucket=tables.bucket, Key=key, Body=json.dumps(manifest).encode())
    before = set(tables.dynamodb.list_tables()["TableNames"]), len(tables.keys(""))

    result = tables.restore(backup_id, "stock", target="stock-global")

    assert result.error == "GlobalTableError" and "replicas in eu-west-1" in result.cause
    _no_change(tables, result, *before)


def test_a_second_restore_of_the_same_table_is_refused(tables):
    create_table(tables.emulator, "baskets")
    put_items(tables.emulator, "baskets", items(5))
    backup_id = tables.backed_up("baskets")
    lock_table = tables.stack.physical_id("LockTable")
    tables.dynamodb.put_item(TableName=lock_table, Item={"lockId": {"S": "table:baskets-copy"},
                                                         "execution": {"S": "arn:aws:states:us-east-1:123456789012:execution:x:other"},
                                                         "expiresAt": {"N": "9999999999"}})  # fmt: skip

    result = tables.restore(backup_id, "baskets", target="baskets-copy")

    assert result.status == "FAILED" and result.error == "RestoreInProgressError"
    assert "Refuse the second run" in result.entered_states and not tables.exists("baskets-copy")
    held = tables.dynamodb.get_item(TableName=lock_table, Key={"lockId": {"S": "table:baskets-copy"}})["Item"]
    assert held["execution"]["S"].endswith(":other"), "another run's lock is never released"


# -- waits that fail or time out, and faults in the new-table path ------------------------------------


def test_a_target_that_never_becomes_active_times_out_and_is_kept(tables, stock):
    backup_id = tables.backed_up("stock")
    tables.model.create_seconds = 30 * (MAX_ATTEMPTS + 2)
    try:
        result = tables.restore(backup_id, "stock", target="stock-slow")
    finally:
        tables.model.create_seconds = 20.0
    assert result.status == "FAILED" and result.error == "WaitTimeoutError"
    assert "Record the wait timeout" in result.entered_states and "Keep the unfinished target" in result.entered_states
    _alerted(tables, "resumes the load")


def test_an_on_demand_backup_that_disappears_fails_the_wait(tables):
    create_table(tables.emulator, "coupons")
    put_items(tables.emulator, "coupons", items(5))
    backup_id = tables.backed_up("coupons")
    tables.model.fail("DescribeBackup", code="BackupNotFoundException", message="Backup not found", times=None)

    result = tables.restore(backup_id, "coupons", replace=True)

    assert result.status == "FAILED" and result.error == "TableFailedError"
    assert "Record the failed wait" in result.entered_states and "Delete the current table" not in result.entered_states
    assert len(all_items(tables.emulator, "coupons")) == 5


@pytest.mark.parametrize("operation", ["CreateTable", "UpdateTable", "TagResource"])
def test_a_failed_step_of_a_new_table_restore_keeps_the_target_for_a_rerun(tables, operation):
    create_table(tables.emulator, f"streamed-{operation.lower()}", settings=True)
    put_items(tables.emulator, f"streamed-{operation.lower()}", items(8))
    source = f"streamed-{operation.lower()}"
    backup_id = tables.backed_up(source)
    target = f"{source}-copy"
    tables.model.fail(operation, target, times=None)

    result = tables.restore(backup_id, source, target=target)

    assert result.status == "FAILED" and "Keep the unfinished target" in result.entered_states
    tables.model.clear()
    rerun = tables.restore(backup_id, source, target=target)
    assert rerun.status == "SUCCEEDED", rerun.cause
    assert contents(all_items(tables.emulator, target)) == contents(items(8))


def test_a_lock_table_error_changes_nothing(tables, stock):
    backup_id = tables.backed_up("stock")
    tables.model.fail("PutItem", str(tables.stack.physical_id("LockTable")), code="InternalServerError")

    result = tables.restore(backup_id, "stock", target="stock-unlocked")

    assert result.status == "FAILED" and "Nothing changed" in result.entered_states and not tables.exists("stock-unlocked")


# -- export, copy, retention, discard ------------------------------------------------------------------


def test_a_native_export_backup_writes_the_same_manifest_and_restores(tables):
    create_table(tables.emulator, "history", pitr=True)
    rows = items(70)
    put_items(tables.emulator, "history", rows)

    backup = tables.backup("history", method="export")

    assert backup.status == "SUCCEEDED", backup.cause
    assert backup.output["method"] == "export" and backup.output["items"] == 70
    assert {"Start the export", "Wait for the export", "Index the export"} <= set(backup.entered_states)
    restored = tables.restore(backup.output["backupId"], "history", target="history-restored")
    assert restored.status == "SUCCEEDED", restored.cause
    assert contents(all_items(tables.emulator, "history-restored")) == contents(rows)


@pytest.mark.parametrize("ending", ["failed", "never finishes"])
def test_an_export_that_fails_or_never_finishes_leaves_no_backup(tables, ending):
    table = f"archive-{ending.replace(' ', '-')}"
    create_table(tables.emulator, table, pitr=True)
    put_items(tables.emulator, table, items(10))
    if ending == "failed":
        tables.model.end_export(table, "FAILED")
    else:
        tables.model.export_seconds = 30 * (MAX_ATTEMPTS + 2)
    try:
        result = tables.backup(table, method="export")
    finally:
        tables.model.export_seconds = 60.0

    assert result.status == "FAILED"
    assert ("Record the failed wait" if ending == "failed" else "Record the wait timeout") in result.entered_states
    assert "Discard the incomplete backup" in result.entered_states
    assert tables.keys(f"backups/{table}/") == []
    _alerted(tables, "files were removed")


def test_a_backup_is_copied_to_another_region_and_old_backups_are_retired(tables):
    tables.emulator.client("s3").create_bucket(Bucket=COPY_BUCKET, CreateBucketConfiguration={"LocationConstraint": COPY_REGION})
    create_table(tables.emulator, "prices")
    put_items(tables.emulator, "prices", items(20))
    older = [tables.backed_up("prices") for _ in range(2)]

    result = tables.backup("prices", keep=2, copyTo={"bucket": COPY_BUCKET, "region": COPY_REGION})

    assert result.status == "SUCCEEDED", result.cause
    assert "Copy the backup" in result.entered_states
    location = tables.location("prices", result.output["backupId"])
    copied = [e["Key"] for e in tables.s3.list_objects_v2(Bucket=COPY_BUCKET, Prefix=location.prefix)["Contents"]]
    assert location.manifest_key in copied and any(k.endswith(".json.gz") for k in copied)
    assert tables.keys(tables.location("prices", older[0]).prefix) == [], "the oldest backup was retired"
    assert tables.keys(tables.location("prices", older[1]).manifest_key)


def test_a_failed_copy_keeps_the_complete_backup(tables, stock):
    before = set(tables.keys("backups/stock/"))

    result = tables.backup("stock", copyTo={"bucket": MISSING_BUCKET})

    assert result.status == "FAILED" and "Keep the complete backup" in result.entered_states
    written = set(tables.keys("backups/stock/")) - before
    assert any(key.endswith("/manifest.json") for key in written), "the backup stays restorable"
    _alerted(tables, "the backup itself is complete")


def test_a_failed_scan_discards_the_backup_and_a_failed_discard_is_reported(tables):
    create_table(tables.emulator, "ratings")
    put_items(tables.emulator, "ratings", items(100))
    tables.model.fail("Scan", "ratings", code="InternalServerError", after=1, times=None)

    discarded = tables.backup("ratings")

    assert discarded.status == "FAILED" and "Discard the incomplete backup" in discarded.entered_states
    assert tables.keys("backups/ratings/") == [], "the files the first invocation wrote are gone"
    _alerted(tables, "files were removed")

    tables.slack.clear()
    tables.model.clear()
    tables.emails_before = len(ses_backends[ACCOUNT_ID][tables.emulator.region].sent_messages)
    tables.model.fail("Scan", "ratings", code="InternalServerError", after=1, times=None)
    with mock.patch.object(S3Backend, "delete_objects", side_effect=AccessDeniedByLock):
        failed = tables.backup("ratings")
    assert failed.status == "FAILED" and "Discard failed" in failed.entered_states
    assert tables.keys("backups/ratings/"), "nothing could be removed"
    _alerted(tables, "ROLLBACK FAILED")


def test_alerts_that_cannot_be_delivered_do_not_change_how_a_run_ends(tables, stock):
    ses, sns = tables.emulator.client("ses"), tables.emulator.client("sns")
    topic = tables.stack.physical_id("AlertTopic")
    ses.delete_identity(Identity=SENDER)  # SES refuses an unverified sender
    tables.slack.always[SLACK_PATH] = 404
    sns.delete_topic(TopicArn=topic)  # SNS answers NotFound
    try:
        backup = tables.stack.run(BACKUP, {"table": "no-such-table"})
        restore = tables.stack.run(RESTORE, {"backupId": "20260101T000000Z-00000000", "table": "stock", "target": "x-copy"})
    finally:
        ses.verify_email_identity(EmailAddress=SENDER)
        sns.create_topic(Name=topic.split(":")[-1])

    for result, error in ((backup, "TableNotFoundError"), (restore, "BackupNotFoundError")):
        assert (result.status, result.error) == ("FAILED", error)
        assert {"Email alert not sent", "Slack alert not sent", "SNS alert not sent"} <= set(result.entered_states)
    assert tables.emails() == []


def test_a_failed_table_run_alerts_the_topic_as_json(tables):
    topic = alert_topic_reader(tables.emulator, tables.stack)

    result = tables.stack.run(BACKUP, {"table": "no-such-table"})

    (published,) = topic()
    assert (result.status, published["error"]) == ("FAILED", "TableNotFoundError")
    assert published["execution"]["arn"] == result.arn
