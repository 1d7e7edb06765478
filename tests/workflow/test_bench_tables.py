"""The table benchmark's own machinery (bench/tables.py); the benchmark itself is not run here.

Its page accelerator must return exactly the pages moto's scan returns, and the one-invocation-
per-page design it compares against must make one invocation per page and lose no item.
"""

from __future__ import annotations

import sys
from pathlib import Path

import boto3
import pytest
from moto import mock_aws
from moto.dynamodb.models import dynamodb_backends

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.tables import SolaceDesign, fast_segment_scans, make_item  # noqa: E402

KEYS = {"KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}, {"AttributeName": "sk", "AttributeType": "S"}],
        "BillingMode": "PAY_PER_REQUEST"}  # fmt: skip


def _pages(client, segment: int, total: int, limit: int | None = None) -> list[list[dict]]:
    pages, arguments = [], {"TableName": "orders", "Segment": segment, "TotalSegments": total}
    if limit:
        arguments["Limit"] = limit
    while True:
        page = client.scan(**arguments)
        pages.append(page["Items"])
        if "LastEvaluatedKey" not in page:
            return pages
        arguments["ExclusiveStartKey"] = page["LastEvaluatedKey"]


@pytest.fixture
def table():
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        client.create_table(TableName="orders", **KEYS)
        backend = dynamodb_backends["123456789012"]["us-east-1"]
        for number in range(2600):
            backend.put_item("orders", make_item(number))
        yield client


@pytest.mark.parametrize(("total", "limit"), [(1, None), (3, 70)])
def test_fast_scans_return_moto_s_own_pages(table, total, limit):
    plain = [_pages(table, segment, total, limit) for segment in range(total)]
    with fast_segment_scans():
        fast = [_pages(table, segment, total, limit) for segment in range(total)]
        table.put_item(TableName="orders", Item=make_item(99_999))  # a change is seen by the next scan
        after = sum(len(item_page) for segment in range(total) for item_page in _pages(table, segment, total))
    assert fast == plain
    assert sum(len(p) for segment in plain for p in segment) == 2600 and after == 2601
    if total == 1:
        assert len(plain[0]) > 1, "the table spans several 1 MB pages"


def test_the_per_page_design_makes_one_invocation_per_page_and_loses_nothing(table):
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket="bench-pages")
    table.create_table(TableName="orders-copy", **KEYS)

    class Emulated:
        region = "us-east-1"

        def client(self, service):
            return {"dynamodb": table, "s3": s3}[service]

    design = SolaceDesign(Emulated(), "bench-pages", segments=2)
    keys = design.backup("orders")
    design.restore(keys, "orders-copy")

    pages = sum(len(_pages(table, segment, 2)) for segment in range(2))
    names = [call.logical_id for call in design.invocations]
    assert names.count("solace-backup") == pages == len(keys) == names.count("solace-restore")
    assert names.count("solace-request") == 2
    copied = [item for page in _pages(table, 0, 1) for item in page]  # (of "orders": same key set below)
    restored = []
    arguments = {"TableName": "orders-copy"}
    while True:
        page = table.scan(**arguments)
        restored += page["Items"]
        if "LastEvaluatedKey" not in page:
            break
        arguments["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    assert sorted(i["sk"]["S"] for i in restored) == sorted(i["sk"]["S"] for i in copied) and len(restored) == 2600
