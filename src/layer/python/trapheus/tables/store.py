"""The backup bucket: files, ledgers and manifests, what backups a table has, retention, copies.

Everything here writes only under ``backups/<table>/<backupId>/`` and ``restores/``, the
prefixes trapheus owns in its own bucket. A backup is complete once its manifest exists;
only complete backups are listed as restorable, kept by retention or copied, and an
incomplete one is the only kind :func:`discard` removes.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from botocore.exceptions import ClientError

from trapheus import clients
from trapheus.errors import BackupCorruptError, BackupIncompleteError, BackupNotFoundError, TableBackupError
from trapheus.log import logger
from trapheus.tables.budget import Budget
from trapheus.tables.manifest import BACKUPS_PREFIX, BackupFile, BackupLocation, Manifest
from trapheus.throttling import aws_errors, error_code

NOT_FOUND = frozenset({"NoSuchKey", "404", "NotFound"})
HEAD_THREADS = 16
DELETE_BATCH = 1000  # DeleteObjects takes at most 1,000 keys


def _s3(s3: Any) -> Any:
    return s3 or clients.client("s3")


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="microseconds")


# -- objects ---------------------------------------------------------------------------------------


def put_json(bucket: str, key: str, document: Any, s3: Any = None) -> None:
    with aws_errors(TableBackupError, f"writing s3://{bucket}/{key}"):
        _s3(s3).put_object(Bucket=bucket, Key=key, Body=json.dumps(document, default=str).encode(),
                           ContentType="application/json")  # fmt: skip


def get_json(bucket: str, key: str, s3: Any = None) -> Any | None:
    """The JSON document at ``key``, or None when there is none."""
    try:
        body = _s3(s3).get_object(Bucket=bucket, Key=key)["Body"].read()
    except ClientError as error:
        if error_code(error) in NOT_FOUND:
            return None
        with aws_errors(TableBackupError, f"reading s3://{bucket}/{key}"):
            raise
    try:
        return json.loads(body)
    except ValueError as error:
        raise BackupCorruptError(f"s3://{bucket}/{key} is not JSON") from error


def put_file(bucket: str, key: str, body: bytes, s3: Any = None) -> tuple[int, str, str]:
    """Write a backup file; S3 checks and keeps its SHA-256. Returns (size, ETag, SHA-256 hex)."""
    digest = hashlib.sha256(body).digest()
    with aws_errors(TableBackupError, f"writing s3://{bucket}/{key}"):
        response = _s3(s3).put_object(
            Bucket=bucket, Key=key, Body=body, ContentType="application/gzip", ChecksumAlgorithm="SHA256",
            ChecksumSHA256=base64.b64encode(digest).decode("ascii"),
        )  # fmt: skip
    return len(body), str(response.get("ETag", "")), digest.hex()


def read_file(bucket: str, key: str, s3: Any = None) -> bytes:
    with aws_errors(BackupCorruptError, f"reading s3://{bucket}/{key}"):
        return _s3(s3).get_object(Bucket=bucket, Key=key)["Body"].read()


def keys_under(bucket: str, prefix: str, s3: Any = None) -> Iterator[str]:
    with aws_errors(TableBackupError, f"listing s3://{bucket}/{prefix}"):
        for page in _s3(s3).get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
            for entry in page.get("Contents", []):
                yield entry["Key"]


def delete_keys(bucket: str, keys: list[str], s3: Any = None) -> int:
    client = _s3(s3)
    for start in range(0, len(keys), DELETE_BATCH):
        batch = keys[start : start + DELETE_BATCH]
        with aws_errors(TableBackupError, f"deleting {len(batch)} objects from s3://{bucket}"):
            response = client.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": k} for k in batch], "Quiet": True})
        if response.get("Errors"):
            first = response["Errors"][0]
            raise TableBackupError(f"deleting s3://{bucket}/{first.get('Key')}: {first.get('Code')}: {first.get('Message')}")
    return len(keys)


# -- manifests -------------------------------------------------------------------------------------


def has_manifest(location: BackupLocation, s3: Any = None) -> bool:
    try:
        _s3(s3).head_object(Bucket=location.bucket, Key=location.manifest_key)
    except ClientError as error:
        if error_code(error) in NOT_FOUND:
            return False
        with aws_errors(TableBackupError, f"looking for {location.manifest_key}"):
            raise
    return True


def read_manifest(location: BackupLocation, s3: Any = None) -> Manifest:
    """The backup's manifest; a backup without one is incomplete and never restored from."""
    try:
        body = _s3(s3).get_object(Bucket=location.bucket, Key=location.manifest_key)["Body"].read()
    except ClientError as error:
        if error_code(error) not in NOT_FOUND:
            with aws_errors(BackupIncompleteError, f"reading {location.manifest_key}"):
                raise
        if next(keys_under(location.bucket, location.prefix, s3), None) is None:
            raise BackupNotFoundError(f"table {location.table} has no backup {location.backup_id}") from error
        raise BackupIncompleteError(
            f"backup {location.backup_id} of {location.table} has no manifest: it never finished and cannot be restored"
        ) from error
    return Manifest.from_json(body, location)


def write_manifest(manifest: Manifest, s3: Any = None) -> None:
    location = manifest.location
    with aws_errors(TableBackupError, f"writing {location.manifest_key}"):
        _s3(s3).put_object(Bucket=location.bucket, Key=location.manifest_key, Body=manifest.to_json(),
                           ContentType="application/json")  # fmt: skip


def ledgers(location: BackupLocation, s3: Any = None) -> list[dict[str, Any]]:
    found = []
    for key in sorted(keys_under(location.bucket, location.ledger_prefix(), s3)):
        ledger = get_json(location.bucket, key, s3)
        if isinstance(ledger, dict):
            found.append(ledger)
    return found


def _file_problem(location: BackupLocation, entry: BackupFile, s3: Any) -> str | None:
    try:
        head = _s3(s3).head_object(Bucket=location.bucket, Key=entry.key, ChecksumMode="ENABLED")
    except ClientError as error:
        if error_code(error) in NOT_FOUND:
            return f"{entry.key} is missing"
        raise
    if int(head.get("ContentLength", -1)) != entry.size or (entry.etag and head.get("ETag") != entry.etag):
        return f"{entry.key} was replaced since the backup (size or ETag differs)"
    stored = head.get("ChecksumSHA256")
    if stored and "-" not in stored and base64.b64decode(stored).hex() != entry.sha256:
        return f"{entry.key} has SHA-256 {base64.b64decode(stored).hex()}, the manifest says {entry.sha256}"
    return None


def check_files(manifest: Manifest, s3: Any = None) -> None:
    """Every file the manifest lists is there, unchanged: refused before anything is restored."""
    client = _s3(s3)
    with ThreadPoolExecutor(max_workers=HEAD_THREADS) as pool:
        problems = [p for p in pool.map(lambda f: _file_problem(manifest.location, f, client), manifest.files) if p]
    if problems:
        raise BackupCorruptError(
            f"backup {manifest.location.backup_id} of {manifest.location.table} does not match its manifest: "
            + "; ".join(problems[:5]) + (f" (and {len(problems) - 5} more)" if len(problems) > 5 else "")
        )


# -- what a table has ------------------------------------------------------------------------------


@dataclass(frozen=True)
class BackupSummary:
    backup_id: str
    complete: bool
    items: int | None = None
    bytes: int | None = None
    method: str | None = None
    created_at: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"backupId": self.backup_id, "complete": self.complete, "items": self.items, "bytes": self.bytes,
                "method": self.method, "createdAt": self.created_at or None}  # fmt: skip


def backup_ids(bucket: str, table: str, s3: Any = None) -> list[str]:
    ids = []
    with aws_errors(TableBackupError, f"listing the backups of {table}"):
        pages = _s3(s3).get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=f"{BACKUPS_PREFIX}{table}/", Delimiter="/")
        for page in pages:
            ids += [p["Prefix"].rstrip("/").rsplit("/", 1)[-1] for p in page.get("CommonPrefixes", [])]
    return sorted(ids)


def list_backups(bucket: str, table: str, s3: Any = None) -> list[BackupSummary]:
    """Every backup of ``table``, oldest first (by when it started); a complete one with its totals."""
    summaries = []
    for backup_id in backup_ids(bucket, table, s3):
        location = BackupLocation(bucket, table, backup_id)
        document = get_json(bucket, location.manifest_key, s3)
        if not isinstance(document, dict):
            summaries.append(BackupSummary(backup_id, False))
            continue
        totals = document.get("totals") or {}
        summaries.append(BackupSummary(backup_id, True, totals.get("items"), totals.get("bytes"), document.get("method"),
                                       str(document.get("createdAt") or "")))  # fmt: skip
    # ids sort by their start second; within a second, the manifest's start time orders them
    return sorted(summaries, key=lambda s: (s.backup_id[:16], s.created_at, s.backup_id))


def prune(bucket: str, table: str, keep: int, s3: Any = None) -> list[str]:
    """Delete the complete backups of ``table`` older than the newest ``keep``; incomplete ones are left to expire."""
    if keep <= 0:
        return []
    complete = [s.backup_id for s in list_backups(bucket, table, s3) if s.complete]
    retired = complete[:-keep] if len(complete) > keep else []
    for backup_id in retired:
        location = BackupLocation(bucket, table, backup_id)
        # the manifest goes first: a half-deleted backup must read as incomplete, never as restorable
        delete_keys(bucket, [location.manifest_key], s3)
        delete_keys(bucket, list(keys_under(bucket, location.prefix, s3)), s3)
        logger.info("Backup retired by retention", table=table, backup_id=backup_id, keep=keep)
    return retired


def discard(location: BackupLocation, s3: Any = None) -> int:
    """Remove an incomplete backup's files; a backup with a manifest is never discarded."""
    if has_manifest(location, s3):
        raise TableBackupError(f"backup {location.backup_id} of {location.table} is complete; it is not discarded")
    return delete_keys(location.bucket, list(keys_under(location.bucket, location.prefix, s3)), s3)


# -- copies ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CopyDestination:
    bucket: str
    region: str | None = None
    kms_key_arn: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"bucket": self.bucket, "region": self.region, "kmsKeyArn": self.kms_key_arn}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CopyDestination:
        return cls(str(data["bucket"]), data.get("region"), data.get("kmsKeyArn"))


def copy_backup(
    manifest: Manifest, destination: CopyDestination, position: int, budget: Budget, s3: Any = None, target_s3: Any = None
) -> tuple[int, bool]:
    """Copy the backup's files from ``position`` on, then its manifest; returns (next position, done).

    Each object is encrypted with the destination's own key (or the destination bucket's
    default encryption); the manifest is copied last, so the copy is restorable only once whole.
    """
    source = _s3(s3)
    target = target_s3 or (clients.client_in("s3", destination.region) if destination.region else source)
    extra: dict[str, Any] = {}
    if destination.kms_key_arn:
        extra = {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": destination.kms_key_arn}
    keys = [f.key for f in manifest.files] + [manifest.location.manifest_key]
    while position < len(keys) and not budget.exhausted:
        key = keys[position]
        with aws_errors(TableBackupError, f"copying {key} to s3://{destination.bucket}"):
            target.copy({"Bucket": manifest.location.bucket, "Key": key}, destination.bucket, key,
                        ExtraArgs=extra or None, SourceClient=source)  # fmt: skip
        position += 1
        budget.spend(1)
    return position, position >= len(keys)
