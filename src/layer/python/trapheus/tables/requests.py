"""The execution inputs of the table workflows, checked before anything is touched.

Backup: ``{"table": "orders", "segments": 8, "method": "scan" | "export", "keep": 7,
"copyTo": {"bucket": "...", "region": "...", "kmsKeyArn": "..."}}`` (all but ``table`` optional).
Restore: ``{"backupId": "...", "table": "orders", "target": "orders-restored"}`` or
``{"backupId": "...", "table": "orders", "replace": true}``.
Clean-up (started by EventBridge when a run is stopped or times out): ``{"cleanupOf": "<execution ARN>"}``.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

from trapheus.errors import InvalidInputError
from trapheus.tables.manifest import BACKUP_ID, METHODS, TABLE_NAME
from trapheus.tables.store import CopyDestination

MAX_SEGMENTS = 256
DEFAULT_MAX_SEGMENTS = 64
BYTES_PER_SEGMENT = 512 * 1024 * 1024
MAX_KEEP = 1000
BUCKET_NAME = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d+$")
KMS_KEY_ARN = re.compile(r"^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:(key|alias)/[A-Za-z0-9/_-]+$")
EXECUTION_ARN = re.compile(r"^arn:aws[a-z-]*:states:[a-z0-9-]+:\d{12}:execution:(?P<machine>[A-Za-z0-9_-]+):(?P<name>[^:]+)$")

BACKUP_FIELDS = frozenset({"table", "segments", "method", "keep", "copyTo"})
RESTORE_FIELDS = frozenset({"backupId", "table", "target", "replace"})


def _object(data: Any, fields: frozenset[str]) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise InvalidInputError(f"the input must be a JSON object, got {type(data).__name__}")
    unknown = sorted(set(data) - fields)
    if unknown:
        raise InvalidInputError(f"unknown field(s) {', '.join(unknown)}; allowed: {', '.join(sorted(fields))}")
    return data


def table_name(value: Any, field: str = "table") -> str:
    if not isinstance(value, str) or not TABLE_NAME.match(value):
        raise InvalidInputError(f"'{field}' must be a DynamoDB table name (3-255 of A-Z a-z 0-9 _ . -), got {value!r}")
    return value


def _whole(data: dict[str, Any], field: str, low: int, high: int) -> int | None:
    value = data.get(field)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise InvalidInputError(f"'{field}' must be a whole number from {low} to {high}, got {value!r}")
    return value


@dataclass(frozen=True)
class BackupRequest:
    table: str
    segments: int | None
    method: str
    keep: int | None
    copy_to: CopyDestination | None

    def to_dict(self) -> dict[str, Any]:
        return {"table": self.table, "segments": self.segments, "method": self.method, "keep": self.keep,
                "copyTo": self.copy_to.to_dict() if self.copy_to else None}  # fmt: skip


def _copy_to(value: Any, allowed_buckets: tuple[str, ...]) -> CopyDestination | None:
    if value is None:
        return None
    if not isinstance(value, dict) or set(value) - {"bucket", "region", "kmsKeyArn"} or "bucket" not in value:
        raise InvalidInputError("'copyTo' must be {\"bucket\": ..., \"region\"?: ..., \"kmsKeyArn\"?: ...}")
    bucket, region, key = value["bucket"], value.get("region"), value.get("kmsKeyArn")
    if not isinstance(bucket, str) or not BUCKET_NAME.match(bucket):
        raise InvalidInputError(f"'copyTo.bucket' must be an S3 bucket name, got {bucket!r}")
    if bucket not in allowed_buckets:
        raise InvalidInputError(
            f"'copyTo.bucket' {bucket!r} is not one of the buckets this stack may write to "
            f"(TableCopyBucketArns: {', '.join(allowed_buckets) or 'none'})"
        )
    if region is not None and (not isinstance(region, str) or not REGION.match(region)):
        raise InvalidInputError(f"'copyTo.region' must be a region name such as eu-west-1, got {region!r}")
    if key is not None and (not isinstance(key, str) or not KMS_KEY_ARN.match(key)):
        raise InvalidInputError(f"'copyTo.kmsKeyArn' must be a KMS key ARN, got {key!r}")
    return CopyDestination(bucket, region, key)


def parse_backup_request(data: Any, allowed_copy_buckets: tuple[str, ...] = ()) -> BackupRequest:
    data = _object(data, BACKUP_FIELDS)
    if "table" not in data:
        raise InvalidInputError("missing required field 'table'")
    method = data.get("method", "scan")
    if method not in METHODS:
        raise InvalidInputError(f"'method' must be one of {', '.join(METHODS)}, got {method!r}")
    segments = _whole(data, "segments", 1, MAX_SEGMENTS)
    if method == "export" and segments is not None:
        raise InvalidInputError("'segments' applies to method 'scan'; an export is split by DynamoDB")
    return BackupRequest(table_name(data["table"]), segments, method, _whole(data, "keep", 1, MAX_KEEP),
                         _copy_to(data.get("copyTo"), allowed_copy_buckets))  # fmt: skip


def segments_for(size_bytes: int) -> int:
    """One segment per 512 MiB of table, 1 to 64: small tables are not split into many tiny parts."""
    return max(1, min(DEFAULT_MAX_SEGMENTS, math.ceil(max(size_bytes, 0) / BYTES_PER_SEGMENT)))


@dataclass(frozen=True)
class RestoreRequest:
    backup_id: str
    table: str
    target: str
    replace: bool

    def to_dict(self) -> dict[str, Any]:
        return {"backupId": self.backup_id, "table": self.table, "target": self.target, "replace": self.replace}


def parse_restore_request(data: Any) -> RestoreRequest:
    data = _object(data, RESTORE_FIELDS)
    for required in ("backupId", "table"):
        if required not in data:
            raise InvalidInputError(f"missing required field '{required}'")
    backup_id = data["backupId"]
    if not isinstance(backup_id, str) or not BACKUP_ID.match(backup_id):
        raise InvalidInputError(f"'backupId' must look like 20260102T030405Z-1a2b3c4d, got {backup_id!r}")
    table = table_name(data["table"])
    replace = data.get("replace", False)
    if not isinstance(replace, bool):
        raise InvalidInputError(f"'replace' must be the JSON boolean true or false, got {replace!r}")
    if replace:
        if "target" in data and data["target"] != table:
            raise InvalidInputError("'replace': true restores under the table's own name; leave 'target' out")
        return RestoreRequest(backup_id, table, table, True)
    if "target" not in data:
        raise InvalidInputError("give 'target' (a new table name), or 'replace': true to restore under the original name")
    target = table_name(data["target"], "target")
    if target == table:
        raise InvalidInputError(f"'target' {target!r} is the table itself; to restore under its name use 'replace': true")
    return RestoreRequest(backup_id, table, target, False)


def parse_cleanup(data: Any, machine_names: tuple[str, ...]) -> tuple[str, str]:
    """(execution ARN, execution name) of the stopped run, which must belong to this stack's table workflows."""
    data = _object(data, frozenset({"cleanupOf"}))
    arn = data.get("cleanupOf")
    match = EXECUTION_ARN.match(arn) if isinstance(arn, str) else None
    if match is None or match["machine"] not in machine_names:
        raise InvalidInputError(f"'cleanupOf' must be an execution ARN of {' or '.join(machine_names)}, got {arn!r}")
    return arn, match["name"]
