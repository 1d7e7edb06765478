"""Pieces of the table domain the workflows rely on: batches, back-off, CreateTable arguments, alerts."""

from __future__ import annotations

import json
import random

from trapheus.alerts import Alert, alert_fields, headline, subject
from trapheus.tables.codec import encode_item
from trapheus.tables.loader import BATCH_BYTES, BATCH_ITEMS, _batches, backoff_seconds
from trapheus.tables.settings import _retarget_policy, create_arguments, differences
from trapheus.tables.steps import lanes

SOURCE_ARN = "arn:aws:dynamodb:us-east-1:123456789012:table/orders"


def _item(key: str, size: int = 10) -> dict:
    return {"pk": {"S": key}, "v": {"S": "x" * size}}


def test_batches_hold_at_most_25_items_and_never_the_same_key_twice():
    items = [_item(f"k{i}") for i in range(60)] + [_item("k59"), _item("k60")]
    batches = list(_batches(items, ("pk",)))
    assert [len(batch) for _, batch in batches] == [25, 25, 10, 2]
    assert [start for start, _ in batches] == [0, 25, 50, 60]
    for _, batch in batches:
        keys = [row["pk"]["S"] for row in batch]
        assert len(keys) == len(set(keys))


def test_batches_stay_under_16_mb_as_sent():
    big = [_item(f"k{i}", size=390 * 1024) for i in range(60)]
    for _, batch in _batches(big, ("pk",)):
        assert len(batch) <= BATCH_ITEMS and sum(len(encode_item(row)) for row in batch) <= BATCH_BYTES
    escaped = [{"pk": {"S": f"e{i}"}, "v": {"S": "\x01" * (300 * 1024)}} for i in range(12)]
    sizes = [len(batch) for _, batch in _batches(escaped, ("pk",))]
    assert sum(sizes) == 12 and max(sizes) < 12, "escaped text counts as sent, six bytes a character"


def test_back_off_is_exponential_with_full_jitter_and_capped():
    rng = random.Random(7)
    for throttles, ceiling in ((1, 2), (2, 4), (3, 8), (6, 64), (20, 120)):
        waits = [backoff_seconds(throttles, rng) for _ in range(200)]
        assert 1 <= min(waits) and max(waits) <= ceiling
        if ceiling >= 8:
            assert len(set(waits)) > 3, "jittered, not a fixed wait"


def test_segments_are_dealt_into_as_many_lanes_as_the_concurrency_allows():
    assert lanes(list(range(8)), 3) == [[0, 3, 6], [1, 4, 7], [2, 5]]
    assert lanes([4, 9], 8) == [[4], [9]]
    assert lanes([], 4) == []


SETTINGS = {
    "tableName": "orders", "tableArn": SOURCE_ARN,
    "keySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
    "attributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}, {"AttributeName": "day", "AttributeType": "S"}],
    "billingMode": "PROVISIONED", "provisionedThroughput": {"ReadCapacityUnits": 5, "WriteCapacityUnits": 7},
    "globalSecondaryIndexes": [{"IndexName": "by-day", "KeySchema": [{"AttributeName": "day", "KeyType": "HASH"}],
                                "Projection": {"ProjectionType": "ALL"},
                                "ProvisionedThroughput": {"ReadCapacityUnits": 3, "WriteCapacityUnits": 4}}],
    "localSecondaryIndexes": [], "tableClass": "STANDARD_INFREQUENT_ACCESS",
    "sse": {"type": "KMS", "kmsKeyArn": "arn:aws:kms:us-east-1:123456789012:key/abc"},
    "tags": [{"Key": "team", "Value": "payments"}], "deletionProtection": True,
    "stream": {"enabled": True, "viewType": "KEYS_ONLY"},
}  # fmt: skip


def test_create_arguments_carry_what_create_table_takes_and_leave_protection_for_last():
    arguments = create_arguments(SETTINGS, "orders-restored", {"trapheus:restore-state": "loading"})
    assert arguments["TableName"] == "orders-restored"
    assert arguments["TableClass"] == "STANDARD_INFREQUENT_ACCESS"
    assert arguments["SSESpecification"] == {"Enabled": True, "SSEType": "KMS",
                                             "KMSMasterKeyId": "arn:aws:kms:us-east-1:123456789012:key/abc"}  # fmt: skip
    assert arguments["ProvisionedThroughput"] == {"ReadCapacityUnits": 5, "WriteCapacityUnits": 7}
    assert arguments["GlobalSecondaryIndexes"][0]["ProvisionedThroughput"]["WriteCapacityUnits"] == 4
    assert arguments["DeletionProtectionEnabled"] is False, "set after the load and the verification"
    assert "StreamSpecification" not in arguments, "streams start after the load: consumers see no replayed inserts"
    assert {"Key": "team", "Value": "payments"} in arguments["Tags"]
    assert {"Key": "trapheus:restore-state", "Value": "loading"} in arguments["Tags"]


def test_a_resource_policy_is_moved_to_the_target_table_and_no_other():
    policy = json.dumps({"Statement": [
        {"Resource": SOURCE_ARN}, {"Resource": f"{SOURCE_ARN}/index/*"}, {"Resource": f"{SOURCE_ARN}-archive"}]})
    moved = json.loads(_retarget_policy(policy, SOURCE_ARN, f"{SOURCE_ARN}-restored"))["Statement"]
    assert [s["Resource"] for s in moved] == [f"{SOURCE_ARN}-restored", f"{SOURCE_ARN}-restored/index/*", f"{SOURCE_ARN}-archive"]


def test_differences_name_what_a_restored_table_lacks():
    restored = {**SETTINGS, "ttl": {"enabled": False}, "tags": [*SETTINGS["tags"], {"Key": "trapheus:x", "Value": "1"}]}
    wanted = {**SETTINGS, "ttl": {"enabled": True, "attributeName": "expires"}}
    found = differences(wanted, restored, ignore_tags=("trapheus:",))
    assert len(found) == 1 and found[0].startswith("time to live:")


def test_table_alerts_name_the_table_the_task_and_what_the_rollback_did():
    failed = Alert.from_event({
        "request": {"backupId": "20260102T030405Z-1a2b3c4d", "table": "orders", "replace": True},
        "failure": {"Error": "TableRestoreError", "Cause": "writing to orders: InternalServerError"},
        "rollback": "recovered", "kind": "table-restore",
        "execution": {"Name": "run-1", "Id": "arn:aws:states:us-east-1:123456789012:execution:prod-table-restore:run-1"},
    }, failed_step="Load a segment")  # fmt: skip
    assert subject(failed) == "[trapheus] FAILED: replace of orders"
    assert headline(failed) == "The replace run for DynamoDB table orders failed in step 'Load a segment'."
    fields = dict(alert_fields(failed))
    assert fields["Table"] == "orders (DynamoDB table)" and fields["Backup"] == "20260102T030405Z-1a2b3c4d"
    assert "on-demand backup" in fields["Rollback"]
    stopped = Alert.from_event({"request": {"table": "orders"}, "failure": {"Error": "ExecutionAborted"},
                                "rollback": "discarded", "kind": "table-cleanup"}, failed_step="-")  # fmt: skip
    assert subject(stopped) == "[trapheus] STOPPED: backup of orders"
    assert "was stopped before it finished" in headline(stopped)
    restore = Alert.from_event({"request": {"identifier": "orders-db", "task": "db_restore", "isCluster": False},
                                "kind": "restore"}, failed_step="x")  # fmt: skip
    assert dict(alert_fields(restore))["Database"] == "orders-db (DB instance)", "restore alerts are unchanged"
