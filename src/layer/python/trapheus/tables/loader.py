"""Load one segment of a backup into the target table with BatchWriteItem.

Batches hold at most 25 items and 16 MB, and never two items with the same key (DynamoDB
rejects such batches; https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_BatchWriteItem.html).
Each file's SHA-256 is checked before any of its items is written.

Throttling never loses an item and never sleeps here: when DynamoDB hands items back as
``UnprocessedItems`` (or throttles the whole call), the loader stops at the start of that
batch and returns ``throttled`` with a back-off the workflow waits out (exponential, full
jitter) before it calls the loader again. Writing a batch twice is harmless: a put of the
same item is the same item, so a resumed or retried load neither duplicates nor misses.
"""

from __future__ import annotations

import gzip
import hashlib
import math
import random
from dataclasses import asdict, dataclass
from typing import Any

from botocore.exceptions import ClientError

from trapheus import clients
from trapheus.errors import BackupCorruptError, TableRestoreError
from trapheus.tables import store
from trapheus.tables.budget import Budget
from trapheus.tables.codec import decode_lines, encode_item
from trapheus.tables.manifest import Manifest
from trapheus.throttling import error_code, is_throttling

BATCH_ITEMS = 25
BATCH_BYTES = 16 * 1024 * 1024
BACKOFF_BASE_SECONDS = 2
BACKOFF_CAP_SECONDS = 120
THROTTLE_CODES = frozenset({"ProvisionedThroughputExceededException", "RequestLimitExceeded", "ThrottlingException"})


@dataclass
class LoadCursor:
    """Where a segment's load stands: the file, and how many of its items are written."""

    segment: int
    file: int = 0
    line: int = 0
    items: int = 0
    throttles: int = 0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LoadCursor:
        return cls(int(data["segment"]), int(data.get("file") or 0), int(data.get("line") or 0),
                   int(data.get("items") or 0), int(data.get("throttles") or 0))  # fmt: skip


def backoff_seconds(throttles: int, rng: random.Random | None = None) -> int:
    """Exponential back-off with full jitter: a whole number of seconds in [1, min(cap, base * 2**(n-1))]."""
    ceiling = min(BACKOFF_CAP_SECONDS, BACKOFF_BASE_SECONDS * 2 ** max(throttles - 1, 0))
    return max(1, math.ceil((rng or random).uniform(0, ceiling)))


def _key_of(item: dict[str, Any], key_names: tuple[str, ...]) -> str:
    return encode_item({name: item[name] for name in key_names if name in item})


def _batches(items: list[dict[str, Any]], key_names: tuple[str, ...]):
    """Consecutive batches within DynamoDB's limits, as (first index, items)."""
    start, batch, size, keys = 0, [], 0, set()
    for index, item in enumerate(items):
        item_size = len(encode_item(item))
        key = _key_of(item, key_names)
        if batch and (len(batch) == BATCH_ITEMS or size + item_size > BATCH_BYTES or key in keys):
            yield start, batch
            start, batch, size, keys = index, [], 0, set()
        batch.append(item)
        size += item_size
        keys.add(key)
    if batch:
        yield start, batch


def _write(target: str, batch: list[dict[str, Any]], client: Any) -> bool:
    """Write one batch; False when DynamoDB throttled any of it (nothing is retried here)."""
    try:
        response = client.batch_write_item(RequestItems={target: [{"PutRequest": {"Item": item}} for item in batch]})
    except ClientError as error:
        if error_code(error) in THROTTLE_CODES or is_throttling(error):
            return False
        raise TableRestoreError(f"writing to {target}: {error_code(error)}: {error}") from error
    return not response.get("UnprocessedItems")


def _file_items(manifest: Manifest, segment: int, file_index: int, s3: Any) -> list[dict[str, Any]]:
    entry = manifest.segment(segment).files[file_index]
    body = store.read_file(manifest.location.bucket, entry.key, s3)
    if entry.sha256 and hashlib.sha256(body).hexdigest() != entry.sha256:
        raise BackupCorruptError(f"{entry.key} does not match the SHA-256 its manifest recorded; nothing of it was loaded")
    items = list(decode_lines(gzip.decompress(body).splitlines(), entry.key))
    if len(items) != entry.items:
        raise BackupCorruptError(f"{entry.key} holds {len(items)} items, its manifest says {entry.items}")
    return items


def load(manifest: Manifest, target: str, cursor: LoadCursor, budget: Budget, dynamodb: Any = None, s3: Any = None,
         rng: random.Random | None = None) -> tuple[str, LoadCursor, int]:  # fmt: skip
    """Write the segment's items from ``cursor`` on while the budget lasts.

    Returns (``loaded`` | ``more`` | ``throttled``, the cursor, seconds to wait before the next call).
    """
    client = dynamodb or clients.client("dynamodb")
    key_names = tuple(k["AttributeName"] for k in manifest.settings["keySchema"])
    files = manifest.segment(cursor.segment).files
    while cursor.file < len(files):
        if budget.exhausted:
            return "more", cursor, 0
        items = _file_items(manifest, cursor.segment, cursor.file, s3)
        for _, batch in _batches(items[cursor.line :], key_names):
            if not _write(target, batch, client):
                cursor.throttles += 1
                return "throttled", cursor, backoff_seconds(cursor.throttles, rng)
            cursor.line += len(batch)
            cursor.items += len(batch)
            cursor.throttles = 0
            budget.spend(len(batch))
            if budget.exhausted and cursor.line < len(items):
                return "more", cursor, 0
        cursor.file, cursor.line = cursor.file + 1, 0
    return "loaded", cursor, 0
