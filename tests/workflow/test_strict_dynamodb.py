"""The strict DynamoDB model refuses what DynamoDB refuses, with DynamoDB's error code and message.

Each rule is shown twice: plain moto accepts the call (so the rule is needed), and the model
refuses it the way DynamoDB does, until the modelled time has passed on the virtual clock.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from trapheus_local import strict_dynamodb
from trapheus_local.clock import VirtualClock

KEYS = {"KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
        "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}], "BillingMode": "PAY_PER_REQUEST"}  # fmt: skip


@contextlib.contextmanager
def plain_moto() -> Iterator[object]:
    with mock_aws():
        yield boto3.client("dynamodb", region_name="us-east-1")


@contextlib.contextmanager
def strict_moto() -> Iterator[tuple[object, strict_dynamodb.StrictDynamoDB, VirtualClock]]:
    clock = VirtualClock()
    with mock_aws(), strict_dynamodb.installed(clock) as model:
        yield boto3.client("dynamodb", region_name="us-east-1"), model, clock


@pytest.fixture
def strict() -> Iterator[tuple[object, strict_dynamodb.StrictDynamoDB, VirtualClock]]:
    with strict_moto() as found:
        yield found


def _puts(count: int, size: int = 10) -> list[dict]:
    return [{"PutRequest": {"Item": {"pk": {"S": f"item-{i}"}, "v": {"S": "x" * size}}}} for i in range(count)]


def _error(call) -> tuple[str, str]:
    with pytest.raises(ClientError) as raised:
        call()
    return raised.value.response["Error"]["Code"], raised.value.response["Error"]["Message"]


def test_batch_write_takes_at_most_25_requests():
    with plain_moto() as plain:
        plain.create_table(TableName="orders", **KEYS)
        plain.batch_write_item(RequestItems={"orders": _puts(26)})  # moto takes it
    with strict_moto() as (client, model, _):
        client.create_table(TableName="orders", **KEYS)
        model.settle()
        code, message = _error(lambda: client.batch_write_item(RequestItems={"orders": _puts(26)}))
        assert code == "ValidationException"
        assert "Member must have length less than or equal to 25" in message and "'requestItems'" in message
        assert client.scan(TableName="orders")["Count"] == 0
        client.batch_write_item(RequestItems={"orders": _puts(25)})
        assert client.scan(TableName="orders")["Count"] == 25


def test_batch_write_takes_at_most_16_mb():
    # Items are measured as stored (at most 400 KB each), the request as sent: a control character is
    # one byte stored and six ("\u0001") in the JSON, so ten such items are well under the item limit
    # and over 16 MB on the wire.
    escaped = [{"PutRequest": {"Item": {"pk": {"S": f"e-{i}"}, "v": {"S": "\x01" * (300 * 1024)}}}} for i in range(10)]
    with plain_moto() as plain:
        plain.create_table(TableName="orders", **KEYS)
        plain.batch_write_item(RequestItems={"orders": escaped})  # moto takes it
    with strict_moto() as (client, model, _):
        client.create_table(TableName="orders", **KEYS)
        model.settle()
        code, message = _error(lambda: client.batch_write_item(RequestItems={"orders": escaped}))
        assert (code, message) == ("ValidationException", "Request size exceeded the maximum allowed size of 16 MB")
        client.batch_write_item(RequestItems={"orders": escaped[:2]})
        assert client.scan(TableName="orders")["Count"] == 2


def test_a_new_table_is_creating_before_it_is_active():
    with plain_moto() as plain:
        plain.create_table(TableName="orders", **KEYS)
        assert plain.describe_table(TableName="orders")["Table"]["TableStatus"] == "ACTIVE"  # moto: at once
        plain.put_item(TableName="orders", Item={"pk": {"S": "a"}})
    with strict_moto() as (client, model, clock):
        created = client.create_table(TableName="orders", **KEYS)["TableDescription"]
        assert created["TableStatus"] == "CREATING"
        assert client.describe_table(TableName="orders")["Table"]["TableStatus"] == "CREATING"
        assert _error(lambda: client.put_item(TableName="orders", Item={"pk": {"S": "a"}})) == (
            "ResourceNotFoundException", "Requested resource not found")
        assert _error(lambda: client.batch_write_item(RequestItems={"orders": _puts(1)}))[0] == "ResourceNotFoundException"
        assert _error(lambda: client.delete_table(TableName="orders")) == (
            "ResourceInUseException", "Attempt to change a resource which is still in use: Table is being created: orders")
        clock.advance(model.create_seconds)
        assert client.describe_table(TableName="orders")["Table"]["TableStatus"] == "ACTIVE"
        client.put_item(TableName="orders", Item={"pk": {"S": "a"}})


def test_a_deleted_tables_name_is_taken_until_the_delete_completes():
    with plain_moto() as plain:
        plain.create_table(TableName="orders", **KEYS)
        plain.delete_table(TableName="orders")
        plain.create_table(TableName="orders", **KEYS)  # moto: the name is free at once
    with strict_moto() as (client, model, clock):
        client.create_table(TableName="orders", **KEYS)
        model.settle()
        assert client.delete_table(TableName="orders")["TableDescription"]["TableStatus"] == "DELETING"
        assert client.describe_table(TableName="orders")["Table"]["TableStatus"] == "DELETING"
        assert _error(lambda: client.create_table(TableName="orders", **KEYS)) == (
            "ResourceInUseException", "Attempt to change a resource which is still in use: Table is being deleted: orders")
        clock.advance(model.delete_seconds)
        assert _error(lambda: client.describe_table(TableName="orders"))[0] == "ResourceNotFoundException"
        client.create_table(TableName="orders", **KEYS)


def test_a_restore_into_a_name_being_deleted_is_refused(strict):
    client, model, clock = strict
    client.create_table(TableName="orders", **KEYS)
    model.settle()
    backup = client.create_backup(TableName="orders", BackupName="orders-before")["BackupDetails"]["BackupArn"]
    client.delete_table(TableName="orders")
    assert _error(lambda: client.restore_table_from_backup(TargetTableName="orders", BackupArn=backup)) == (
        "TableInUseException", "A target table with the specified name is either being created or deleted.")
    clock.advance(model.delete_seconds)
    restored = client.restore_table_from_backup(TargetTableName="orders", BackupArn=backup)["TableDescription"]
    assert restored["TableStatus"] == "CREATING"


def test_a_backup_is_creating_before_it_is_available(strict):
    client, model, clock = strict
    client.create_table(TableName="orders", **KEYS)
    model.settle()
    details = client.create_backup(TableName="orders", BackupName="orders-before")["BackupDetails"]
    assert details["BackupStatus"] == "CREATING"
    described = client.describe_backup(BackupArn=details["BackupArn"])["BackupDescription"]["BackupDetails"]
    assert described["BackupStatus"] == "CREATING"
    clock.advance(model.backup_seconds)
    assert client.describe_backup(BackupArn=details["BackupArn"])["BackupDescription"]["BackupDetails"]["BackupStatus"] == "AVAILABLE"


def test_throttling_hands_items_back_unwritten():
    with plain_moto() as plain:
        plain.create_table(TableName="orders", **KEYS)
        assert plain.batch_write_item(RequestItems={"orders": _puts(25)})["UnprocessedItems"] == {}  # moto never throttles
    with strict_moto() as (client, model, _):
        client.create_table(TableName="orders", **KEYS)
        model.settle()
        model.throttle("orders", calls=2, items=10)
        first = client.batch_write_item(RequestItems={"orders": _puts(25)})
        handed_back = first["UnprocessedItems"]["orders"]
        assert [r["PutRequest"]["Item"]["pk"]["S"] for r in handed_back] == [f"item-{i}" for i in range(15, 25)]
        assert client.scan(TableName="orders")["Count"] == 15
        second = client.batch_write_item(RequestItems={"orders": handed_back})
        assert second["UnprocessedItems"] == {"orders": handed_back} and client.scan(TableName="orders")["Count"] == 15
        assert client.batch_write_item(RequestItems={"orders": handed_back})["UnprocessedItems"] == {}
        assert client.scan(TableName="orders")["Count"] == 25
        assert model.unprocessed_items == 20


def test_injected_faults_answer_with_the_given_code(strict):
    client, model, _ = strict
    model.fail("CreateTable", "orders", code="LimitExceededException", message="Too many tables being created")
    assert _error(lambda: client.create_table(TableName="orders", **KEYS)) == (
        "LimitExceededException", "Too many tables being created")
    client.create_table(TableName="orders", **KEYS)  # once only


def test_the_model_is_off_when_its_block_ends():
    clock = VirtualClock()
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        with strict_dynamodb.installed(clock):
            pass
        assert client.create_table(TableName="orders", **KEYS)["TableDescription"]["TableStatus"] == "ACTIVE"
        with pytest.raises(RuntimeError):
            strict_dynamodb.current()
