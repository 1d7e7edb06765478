"""One segment of a parallel scan, page after page, until the invocation's budget is used.

Backing up, the items go into gzip'd JSON-lines files of at most :data:`PART_BYTES`
(uncompressed) each, and a ledger records what this invocation wrote; verifying, the items
are only counted and summed. Either way the invocation returns the ``LastEvaluatedKey``
where it stopped, and the workflow calls it again from there until the segment is done.
A retry of the same invocation writes the same file names (they are numbered by the
invocation's sequence), so nothing is counted twice.
"""

from __future__ import annotations

import gzip
import io
from dataclasses import dataclass, field
from typing import Any

from trapheus import clients
from trapheus.errors import TableBackupError
from trapheus.tables import store
from trapheus.tables.budget import Budget
from trapheus.tables.codec import ContentChecksum, encode_item
from trapheus.tables.manifest import BackupFile, BackupLocation
from trapheus.throttling import aws_errors

PART_BYTES = 64 * 1024 * 1024  # uncompressed JSON per file: a few MB once gzip'd, well within Lambda memory


class PartWriter:
    """Items into numbered gzip'd JSON-lines files under one segment and invocation."""

    def __init__(self, location: BackupLocation, segment: int, sequence: int, s3: Any = None) -> None:
        self.location, self.segment, self.sequence, self.s3 = location, segment, sequence, s3
        self.files: list[BackupFile] = []
        self._start()

    def _start(self) -> None:
        self._buffer = io.BytesIO()
        self._gzip = gzip.GzipFile(fileobj=self._buffer, mode="wb", compresslevel=6, mtime=0)
        self._raw = 0
        self._checksum = ContentChecksum()

    def add(self, item: dict[str, Any]) -> None:
        line = encode_item(item).encode() + b"\n"
        self._gzip.write(line)
        self._raw += len(line)
        self._checksum.add(item)
        if self._raw >= PART_BYTES:
            self.flush()

    def flush(self) -> None:
        if self._checksum.items == 0:
            return
        self._gzip.close()
        key = self.location.part_key(self.segment, self.sequence, len(self.files) + 1)
        size, etag, sha256 = store.put_file(self.location.bucket, key, self._buffer.getvalue(), self.s3)
        self.files.append(BackupFile(key, size, etag, sha256, self._checksum))
        self._start()


@dataclass
class Cursor:
    """Where a lane of segments stands between invocations: its current segment and how far that got.

    A Map iteration works through a lane (segments ``lane[0]``, ``lane[1]``, ...) one after
    the other; the number of lanes is the number of segments scanned at once.
    """

    lane: list[int]
    total_segments: int
    segment: int
    start_key: dict[str, Any] | None = None
    sequence: int = 0
    done: bool = False
    checksum: ContentChecksum = field(default_factory=ContentChecksum)

    @classmethod
    def start(cls, lane: list[int], total_segments: int) -> Cursor:
        if not lane or any(not 0 <= s < total_segments for s in lane):
            raise TableBackupError(f"lane {lane!r} is not made of segments of {total_segments}")
        return cls(list(lane), total_segments, lane[0])

    def next_segment(self) -> None:
        """The current segment is finished: on to the lane's next one, or the lane is done."""
        position = self.lane.index(self.segment) + 1
        if position >= len(self.lane):
            self.done = True
        else:
            self.segment, self.start_key, self.sequence = self.lane[position], None, 0

    def to_dict(self) -> dict[str, Any]:
        return {"lane": self.lane, "totalSegments": self.total_segments, "segment": self.segment,
                "startKey": self.start_key, "sequence": self.sequence, "done": self.done,
                **self.checksum.to_dict()}  # fmt: skip

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Cursor:
        cursor = cls.start([int(s) for s in data["lane"]], int(data["totalSegments"]))
        segment = int(data["segment"])
        if segment not in cursor.lane:
            raise TableBackupError(f"segment {segment} is not in lane {cursor.lane}")
        cursor.segment, cursor.start_key = segment, data.get("startKey") or None
        cursor.sequence, cursor.done = int(data.get("sequence") or 0), bool(data.get("done"))
        cursor.checksum = ContentChecksum.from_dict(data)
        return cursor


def _pages(table: str, cursor: Cursor, budget: Budget, dynamodb: Any):
    """Scan pages of the cursor's segment while the budget lasts; the cursor follows each page.

    Stops at the end of the segment: the next invocation starts the lane's next segment.
    """
    client = dynamodb or clients.client("dynamodb")
    finished = False
    while not finished and not budget.exhausted:
        arguments: dict[str, Any] = {"TableName": table, "Segment": cursor.segment,
                                     "TotalSegments": cursor.total_segments, "ConsistentRead": True}  # fmt: skip
        if cursor.start_key:
            arguments["ExclusiveStartKey"] = cursor.start_key
        if budget.left is not None:
            arguments["Limit"] = max(budget.left, 1)
        with aws_errors(TableBackupError, f"scanning segment {cursor.segment} of {table}"):
            page = client.scan(**arguments)
        items = page.get("Items", [])
        budget.spend(len(items))
        cursor.start_key = page.get("LastEvaluatedKey")
        finished = cursor.start_key is None
        yield items


def back_up(table: str, location: BackupLocation, cursor: Cursor, budget: Budget, dynamodb: Any = None, s3: Any = None) -> Cursor:
    """Scan on from ``cursor`` into backup files; the ledger of this invocation is written last."""
    writer = PartWriter(location, cursor.segment, cursor.sequence, s3)
    for items in _pages(table, cursor, budget, dynamodb):
        for item in items:
            writer.add(item)
    writer.flush()
    finished = cursor.start_key is None
    store.put_json(location.bucket, location.ledger_key(cursor.segment, cursor.sequence), {
        "segment": cursor.segment, "sequence": cursor.sequence, "done": finished,
        "files": [f.to_dict() for f in writer.files],
    }, s3)  # fmt: skip
    for written in writer.files:
        cursor.checksum = cursor.checksum.merge(written.checksum)
    cursor.sequence += 1
    if finished:
        cursor.next_segment()
    return cursor


def digest(table: str, cursor: Cursor, budget: Budget, dynamodb: Any = None) -> Cursor:
    """Scan on from ``cursor``, adding every item to the segment's content checksum (nothing written)."""
    for items in _pages(table, cursor, budget, dynamodb):
        for item in items:
            cursor.checksum.add(item)
    cursor.sequence += 1
    if cursor.start_key is None:
        cursor.next_segment()
    return cursor
