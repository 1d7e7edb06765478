"""DynamoDB table backup and restore: trapheus's workflows beside one invocation per 1 MB page.

Runs the real table-backup and table-restore workflows (template.yaml and their ASL, on the
local engine, under the strict DynamoDB model) on a table of ``--items`` items (200,000 by
default, about 1 KB each), then does the same backup and restore the way solace does it on
the same data: one Lambda invocation per 1 MB scan page for the backup, one per stored page for
the restore, each handing the next page on (through SQS in solace; counted here, not queued),
plus one request invocation per task. Both designs are timed in the same emulator, at the same
memory (the template's 1024 MB for the scan and load functions), so the emulator's own speed
weighs on both alike.

Printed: items, items per second, Lambda invocations and Lambda GB-s per million items, for
backup and restore, per design. The last line is machine-readable:

    table_invocations_ratio=<ours / solace's>   (backup and restore together; target <= 0.1)

Usage: ``python bench/tables.py [--items 200000] [--segments 8]``. It takes a few minutes: moto
serialises every page it returns. ``--items 2000`` is a quick look (the ratio needs a table large
enough for pages to dominate).
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import copy
import gzip
import json
import sys
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any
from unittest import mock

ROOT = Path(__file__).resolve().parents[1]
for _path in (ROOT, ROOT / "src" / "cli", ROOT / "src" / "layer" / "python"):
    if str(_path) not in sys.path[:3]:
        sys.path.insert(0, str(_path))

from moto.dynamodb.models import DynamoDBBackend, dynamodb_backends  # noqa: E402
from moto.core.responses import ActionResult  # noqa: E402
from moto.dynamodb.models.table import RESULT_SIZE_LIMIT, Table  # noqa: E402
from moto.dynamodb.responses import DynamoHandler  # noqa: E402
from trapheus import clients  # noqa: E402
from trapheus.tables.codec import decode_item, encode_item  # noqa: E402
from trapheus_local import Emulator, strict_dynamodb  # noqa: E402
from trapheus_local.functions import FunctionSpec  # noqa: E402
from trapheus_local.resources import ACCOUNT_ID  # noqa: E402

from bench.lambda_cost import MeteredInvocation, our_bill  # noqa: E402

TEMPLATE = ROOT / "template.yaml"
TARGET_RATIO = 0.1
SOLACE_MEMORY_MB = 1024  # the same memory as our scan and load functions, so only the work differs
MILLION = 1_000_000


def make_item(number: int) -> dict[str, Any]:
    """About 1 KB: an order's keys, its total and its body (few attributes: moto's serialiser costs per attribute)."""
    return {
        "pk": {"S": f"customer-{number % 5000:05d}"},
        "sk": {"S": f"order-{number:08d}"},
        "total": {"N": f"{number % 10_000}.{number % 100:02d}"},
        "body": {"S": "x" * 950},
    }


@contextlib.contextmanager
def fast_segment_scans() -> Iterator[None]:
    """Scan pages in O(page) instead of O(table): same pages as moto's own scan, for a benchmark's sake.

    moto sorts the whole table and walks it from the start for every page; with 200,000 items
    that is seconds per 1 MB page. Here each table keeps its items in moto's order, per segment,
    with the position of every key, until the table next changes. Only plain segment scans
    (no index, filter or projection) take this path.
    """
    original_scan = DynamoDBBackend.scan
    original_put, original_delete = Table.put_item, Table.delete_item
    cache: dict[int, tuple[int, dict[tuple[Any, Any], tuple[list[Any], dict[tuple[Any, ...], int]]]]] = {}

    def changed(table: Table) -> None:
        table.bench_version = getattr(table, "bench_version", 0) + 1

    def put_item(self: Table, *args: Any, **kwargs: Any) -> Any:
        changed(self)
        return original_put(self, *args, **kwargs)

    def delete_item(self: Table, *args: Any, **kwargs: Any) -> Any:
        changed(self)
        return original_delete(self, *args, **kwargs)

    def key_of(table: Table, values: dict[str, Any]) -> tuple[Any, ...]:
        names = [table.hash_key_attr] + ([table.range_key_attr] if table.range_key_attr else [])
        return tuple(next(iter(values[name].values())) if isinstance(values[name], dict) else values[name].value
                     for name in names)  # fmt: skip

    def ordered(table: Table, segments: Any) -> tuple[list[Any], dict[tuple[Any, ...], int]]:
        version = getattr(table, "bench_version", 0)
        known = cache.get(id(table))
        if known is None or known[0] != version:
            known = (version, {})
            cache[id(table)] = known
        if segments not in known[1]:
            items = [item for item in table.all_items() if item.is_within_segment(segments)]
            positions = {key_of(table, item.attrs): index for index, item in enumerate(items)}
            known[1][segments] = (items, positions)
        return known[1][segments]

    def scan(self: DynamoDBBackend, table_name: str, filters: Any, limit: Any, exclusive_start_key: Any,
             filter_expression: Any, expr_names: Any, expr_values: Any, index_name: Any, consistent_read: bool,
             projection_expression: Any, segments: Any) -> Any:  # fmt: skip
        if index_name or filters or filter_expression or projection_expression:
            return original_scan(self, table_name, filters, limit, exclusive_start_key, filter_expression, expr_names,
                                 expr_values, index_name, consistent_read, projection_expression, segments)  # fmt: skip
        table = self.get_table(table_name)
        items, positions = ordered(table, tuple(segments))
        start = 0 if exclusive_start_key is None else positions[key_of(table, exclusive_start_key)] + 1
        results, size, last_key = [], 0, None
        for item in items[start:]:
            if len(results) == limit or size + item.size() > RESULT_SIZE_LIMIT:
                last_key = table._get_last_evaluated_key(results[-1], None)
                break
            results.append(copy.deepcopy(item))
            size += item.size()
        return results, len(results), last_key

    original_response = DynamoHandler.scan

    def scan_response(self: DynamoHandler) -> Any:
        # moto's generic serialiser walks the API model value by value (about 1 ms an item);
        # a Scan answer in DynamoDB's JSON protocol is its result as JSON, binary values base64
        response = original_response(self)
        if not isinstance(response, ActionResult) or not isinstance(response.result, dict):
            return response
        return json.dumps(response.result, default=_json_value)

    with (
        mock.patch.object(DynamoHandler, "scan", scan_response),
        mock.patch.object(DynamoDBBackend, "scan", scan),
        mock.patch.object(Table, "put_item", put_item),
        mock.patch.object(Table, "delete_item", delete_item),
    ):
        yield


def _json_value(value: Any) -> Any:
    if isinstance(value, (bytes, bytearray)):
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"cannot write {type(value).__name__} as JSON")


def seed(emulator: Emulator, table: str, count: int) -> None:
    emulator.client("dynamodb").create_table(
        TableName=table,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}, {"AttributeName": "sk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    strict_dynamodb.current().settle()
    backend = dynamodb_backends[ACCOUNT_ID][emulator.region]
    for number in range(count):  # straight into moto: seeding is not what is measured
        backend.put_item(table, make_item(number))


class SolaceDesign:
    """One invocation per 1 MB page, as solace runs a backup and a restore; each call is timed like ours."""

    def __init__(self, emulator: Emulator, bucket: str, segments: int) -> None:
        self.emulator, self.bucket, self.segments = emulator, bucket, segments
        self.dynamodb, self.s3 = emulator.client("dynamodb"), emulator.client("s3")
        self.invocations: list[MeteredInvocation] = []

    def _invoke(self, name: str, work: Any, *args: Any) -> Any:
        started = time.thread_time()
        try:
            return work(*args)
        finally:
            self.invocations.append(MeteredInvocation(name, SOLACE_MEMORY_MB, time.thread_time() - started))

    def _backup_page(self, table: str, segment: int, start_key: Any, batch: int) -> Any:
        arguments: dict[str, Any] = {"TableName": table, "Segment": segment, "TotalSegments": self.segments}
        if start_key:
            arguments["ExclusiveStartKey"] = start_key
        page = self.dynamodb.scan(**arguments)
        body = gzip.compress("".join(encode_item(item) + "\n" for item in page["Items"]).encode())
        self.s3.put_object(Bucket=self.bucket, Key=f"solace/{table}/{segment:x}/{batch:x}", Body=body)
        return page.get("LastEvaluatedKey")

    def _restore_page(self, key: str, target: str) -> None:
        lines = gzip.decompress(self.s3.get_object(Bucket=self.bucket, Key=key)["Body"].read()).splitlines()
        rows = [decode_item(line) for line in lines if line.strip()]
        for start in range(0, len(rows), 25):
            self.dynamodb.batch_write_item(RequestItems={target: [{"PutRequest": {"Item": r}} for r in rows[start : start + 25]]})

    def backup(self, table: str) -> list[str]:
        self._invoke("solace-request", lambda: None)
        keys = []
        for segment in range(self.segments):
            start_key, batch = None, 0
            while True:
                start_key = self._invoke("solace-backup", self._backup_page, table, segment, start_key, batch)
                keys.append(f"solace/{table}/{segment:x}/{batch:x}")
                batch += 1
                if not start_key:
                    break
        return keys

    def restore(self, keys: list[str], target: str) -> None:
        self._invoke("solace-request", lambda: None)
        for key in keys:
            self._invoke("solace-restore", self._restore_page, key, target)


class HandlerMeter:
    """Times each handler call by its thread's CPU time: Map lanes run in parallel threads, the in-process
    runtime serves one invocation at a time and the interpreter's threads share the interpreter lock, so
    wall time would count the queue and the other threads too. Solace's calls are timed the same way."""

    def __init__(self, emulator: Emulator) -> None:
        self.invocations: list[MeteredInvocation] = []
        runtime = emulator.runtime
        find_handler = runtime._handler

        def timed_handler(spec: FunctionSpec) -> Any:
            handler = find_handler(spec)

            def run(event: Any, context: Any) -> Any:
                started = time.thread_time()
                try:
                    return handler(event, context)
                finally:
                    self.invocations.append(MeteredInvocation(spec.logical_id, spec.memory_mb, time.thread_time() - started))

            return run

        runtime._handler = timed_handler  # type: ignore[method-assign]


def _line(label: str, items: int, seconds: float, calls: list[MeteredInvocation]) -> dict[str, Any]:
    bill = our_bill(calls)
    return {"label": label, "items": items, "seconds": seconds, "items_per_second": items / seconds if seconds else 0.0,
            "invocations": bill.invocations, "gb_seconds_per_million": bill.gb_seconds * MILLION / items if items else 0.0}  # fmt: skip


def run(count: int, segments: int) -> tuple[list[dict[str, Any]], float]:
    clients.reset()
    with Emulator() as emulator, fast_segment_scans():
        stack = emulator.deploy(TEMPLATE, {"LogLevel": "WARNING", "ManagedDatabasePattern": "none"})  # tables only
        meter = HandlerMeter(emulator)
        seed(emulator, "orders", count)
        rows = []

        started, before = time.perf_counter(), len(meter.invocations)
        backup = stack.run("TableBackupStateMachine", {"table": "orders", "segments": segments}, real_timeout=3600)
        assert backup.status == "SUCCEEDED", (backup.error, backup.cause)
        rows.append(_line("trapheus backup", count, time.perf_counter() - started, meter.invocations[before:]))

        started, before = time.perf_counter(), len(meter.invocations)
        restore = stack.run("TableRestoreStateMachine", {"backupId": backup.output["backupId"], "table": "orders",
                                                          "target": "orders-restored"}, real_timeout=3600)  # fmt: skip
        assert restore.status == "SUCCEEDED", (restore.error, restore.cause)
        assert restore.output["items"] == count
        rows.append(_line("trapheus restore (with verify)", count, time.perf_counter() - started, meter.invocations[before:]))

        solace = SolaceDesign(emulator, str(stack.physical_id("TableBackupBucket")), segments)
        started = time.perf_counter()
        keys = solace.backup("orders")
        rows.append(_line("solace backup", count, time.perf_counter() - started, solace.invocations))
        emulator.client("dynamodb").create_table(**{**_schema(emulator, "orders"), "TableName": "orders-solace"})
        strict_dynamodb.current().settle()
        started, before = time.perf_counter(), len(solace.invocations)
        solace.restore(keys, "orders-solace")
        rows.append(_line("solace restore", count, time.perf_counter() - started, solace.invocations[before:]))
        restored = emulator.client("dynamodb").describe_table(TableName="orders-solace")["Table"]["ItemCount"]
        assert restored == count, f"solace's restore wrote {restored} items"

        ours = sum(r["invocations"] for r in rows[:2])
        theirs = sum(r["invocations"] for r in rows[2:])
    clients.reset()
    return rows, ours / theirs


def _schema(emulator: Emulator, table: str) -> dict[str, Any]:
    described = emulator.client("dynamodb").describe_table(TableName=table)["Table"]
    return {"KeySchema": described["KeySchema"], "AttributeDefinitions": described["AttributeDefinitions"],
            "BillingMode": "PAY_PER_REQUEST"}  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--items", type=int, default=200_000, help="items in the table (default 200,000)")
    parser.add_argument("--segments", type=int, default=8, help="parallel scan segments for both designs")
    options = parser.parse_args(argv)
    rows, ratio = run(options.items, options.segments)
    print(f"{'':34}{'items':>9}{'items/s':>10}{'invocations':>13}{'GB-s per 1M items':>19}")
    for row in rows:
        print(f"{row['label']:34}{row['items']:>9}{row['items_per_second']:>10.0f}{row['invocations']:>13}"
              f"{row['gb_seconds_per_million']:>19.1f}")  # fmt: skip
    ours = sum(r["invocations"] for r in rows[:2]) * MILLION / options.items
    theirs = sum(r["invocations"] for r in rows[2:]) * MILLION / options.items
    print(f"invocations per million items: trapheus {ours:.0f}, solace {theirs:.0f} (target ratio <= {TARGET_RATIO})")
    print(f"table_invocations_ratio={ratio:.4f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
