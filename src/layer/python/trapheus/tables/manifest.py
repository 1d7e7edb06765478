"""Where a backup's files live, and the manifest that makes a backup complete.

Layout in the backup bucket, all under ``backups/<table>/<backupId>/``::

    data/segment-00003/part-000002-001.json.gz   items of segment 3, written by its 3rd invocation
    ledger/segment-00003/000002.json             what that invocation wrote (files, counts, checksums)
    export/AWSDynamoDB/<exportId>/data/*.json.gz a native export (method "export")
    manifest.json                                written last: a backup without it is incomplete

A manifest lists every file with its size, ETag, SHA-256 and item count per segment,
the table's settings, totals and the content checksum of all items
(:class:`trapheus.tables.codec.ContentChecksum`).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from trapheus.errors import BackupCorruptError, BackupIncompleteError
from trapheus.tables.codec import ContentChecksum

FORMAT = "trapheus.table-backup/1"
BACKUPS_PREFIX = "backups/"
METHODS = ("scan", "export")
BACKUP_ID = re.compile(r"^\d{8}T\d{6}Z-[0-9a-f]{8}$")
TABLE_NAME = re.compile(r"^[A-Za-z0-9_.-]{3,255}$")


@dataclass(frozen=True)
class BackupLocation:
    """One backup's place in the bucket."""

    bucket: str
    table: str
    backup_id: str

    @property
    def prefix(self) -> str:
        return f"{BACKUPS_PREFIX}{self.table}/{self.backup_id}/"

    @property
    def manifest_key(self) -> str:
        return self.prefix + "manifest.json"

    @property
    def export_prefix(self) -> str:
        return self.prefix + "export"

    def part_key(self, segment: int, sequence: int, number: int) -> str:
        return self.prefix + f"data/segment-{segment:05d}/part-{sequence:06d}-{number:03d}.json.gz"

    def ledger_prefix(self, segment: int | None = None) -> str:
        return self.prefix + ("ledger/" if segment is None else f"ledger/segment-{segment:05d}/")

    def ledger_key(self, segment: int, sequence: int) -> str:
        return self.ledger_prefix(segment) + f"{sequence:06d}.json"

    def owns(self, key: str) -> bool:
        return key.startswith(self.prefix) and ".." not in key

    def to_dict(self) -> dict[str, str]:
        return {"bucket": self.bucket, "table": self.table, "backupId": self.backup_id}

    @classmethod
    def from_dict(cls, data: Any) -> BackupLocation:
        if not isinstance(data, dict):
            raise BackupIncompleteError("the step needs the backup's location")
        return cls(str(data["bucket"]), str(data["table"]), str(data["backupId"]))


def backup_id_for(started: datetime | str | None, execution_name: str) -> str:
    """A sortable id, the same for every retry of one execution: ``20260102T030405Z-1a2b3c4d``."""
    if isinstance(started, str):
        try:
            started = datetime.fromisoformat(started.replace("Z", "+00:00"))
        except ValueError:
            started = None
    moment = (started or datetime.now(timezone.utc)).astimezone(timezone.utc)
    return f"{moment:%Y%m%dT%H%M%SZ}-{hashlib.sha256(execution_name.encode()).hexdigest()[:8]}"


@dataclass(frozen=True)
class BackupFile:
    """One file of a backup: its key, size, ETag, SHA-256 and the items it holds."""

    key: str
    size: int
    etag: str
    sha256: str
    checksum: ContentChecksum

    @property
    def items(self) -> int:
        return self.checksum.items

    def to_dict(self) -> dict[str, Any]:
        return {"key": self.key, "size": self.size, "etag": self.etag, "sha256": self.sha256, **self.checksum.to_dict()}

    @classmethod
    def from_dict(cls, data: Any) -> BackupFile:
        if not isinstance(data, dict) or not isinstance(data.get("key"), str):
            raise BackupCorruptError(f"unreadable file entry {data!r}")
        return cls(str(data["key"]), int(data.get("size") or 0), str(data.get("etag") or ""),
                   str(data.get("sha256") or ""), ContentChecksum.from_dict(data))  # fmt: skip


@dataclass(frozen=True)
class Segment:
    number: int
    files: tuple[BackupFile, ...]

    @property
    def checksum(self) -> ContentChecksum:
        return ContentChecksum.combine(f.checksum for f in self.files)

    def to_dict(self) -> dict[str, Any]:
        return {"segment": self.number, "items": self.checksum.items, "files": [f.to_dict() for f in self.files]}


@dataclass(frozen=True)
class Manifest:
    location: BackupLocation
    method: str
    settings: dict[str, Any]
    segments: tuple[Segment, ...]
    created_at: str
    completed_at: str
    alarms: tuple[str, ...] = ()
    source: dict[str, Any] = field(default_factory=dict)

    @property
    def checksum(self) -> ContentChecksum:
        return ContentChecksum.combine(s.checksum for s in self.segments)

    @property
    def items(self) -> int:
        return self.checksum.items

    @property
    def bytes(self) -> int:
        return sum(f.size for s in self.segments for f in s.files)

    @property
    def files(self) -> list[BackupFile]:
        return [f for s in self.segments for f in s.files]

    def segment(self, number: int) -> Segment:
        for segment in self.segments:
            if segment.number == number:
                return segment
        raise BackupCorruptError(f"backup {self.location.backup_id} has no segment {number}")

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            **self.location.to_dict(),
            "method": self.method,
            "createdAt": self.created_at,
            "completedAt": self.completed_at,
            "source": self.source,
            "settings": self.settings,
            "alarms": list(self.alarms),
            "segments": [s.to_dict() for s in self.segments],
            "totals": {"items": self.items, "bytes": self.bytes, "files": len(self.files)},
            "contentChecksum": self.checksum.to_dict(),
        }

    def to_json(self) -> bytes:
        return json.dumps(self.to_dict(), indent=1, sort_keys=True).encode()

    @classmethod
    def from_json(cls, text: bytes | str, location: BackupLocation) -> Manifest:
        """Parse and check a manifest read from ``location``; anything inconsistent is refused."""
        try:
            data = json.loads(text)
        except ValueError as error:
            raise BackupIncompleteError(f"the manifest of {location.backup_id} is not JSON") from error
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise BackupIncompleteError(f"the manifest of {location.backup_id} is not a {FORMAT} manifest")
        if (data.get("table"), data.get("backupId")) != (location.table, location.backup_id):
            raise BackupCorruptError(
                f"the manifest at {location.manifest_key} describes {data.get('table')}/{data.get('backupId')}"
            )
        if data.get("method") not in METHODS or not isinstance(data.get("settings"), dict):
            raise BackupCorruptError(f"the manifest of {location.backup_id} has no method or settings")
        segments = []
        for entry in data.get("segments") or []:
            files = tuple(BackupFile.from_dict(f) for f in entry.get("files") or [])
            outside = [f.key for f in files if not location.owns(f.key)]
            if outside:
                raise BackupCorruptError(f"the manifest of {location.backup_id} names files outside the backup: {outside[:3]}")
            segments.append(Segment(int(entry["segment"]), files))
        manifest = cls(
            location=location,
            method=data["method"],
            settings=data["settings"],
            segments=tuple(segments),
            created_at=str(data.get("createdAt") or ""),
            completed_at=str(data.get("completedAt") or ""),
            alarms=tuple(data.get("alarms") or ()),
            source=data.get("source") or {},
        )
        recorded = ContentChecksum.from_dict(data.get("contentChecksum"))
        if (recorded.items, recorded.total) != (manifest.checksum.items, manifest.checksum.total):
            raise BackupCorruptError(f"the manifest of {location.backup_id}: its totals do not add up over its files")
        return manifest


def segments_from_ledgers(ledgers: Iterable[dict[str, Any]]) -> tuple[Segment, ...]:
    """Group the files the ledgers list by segment, in segment and write order."""
    by_segment: dict[int, list[tuple[int, list[BackupFile]]]] = {}
    for ledger in ledgers:
        files = [BackupFile.from_dict(entry) for entry in ledger.get("files") or []]
        by_segment.setdefault(int(ledger["segment"]), []).append((int(ledger.get("sequence") or 0), files))
    return tuple(
        Segment(number, tuple(f for _, files in sorted(writes, key=lambda w: w[0]) for f in files))
        for number, writes in sorted(by_segment.items())
    )
