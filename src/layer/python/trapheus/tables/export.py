"""A backup by DynamoDB's own export to S3 (``"method": "export"``, tables with PITR on).

DynamoDB writes the export (format DYNAMODB_JSON, the same item lines trapheus writes)
under the backup's ``export/`` prefix, encrypted with the stack's key. Once it is
complete, its data files are read once to count and checksum their items, each file
becoming a segment of the manifest, so a restore reads both kinds of backup alike.
"""

from __future__ import annotations

import gzip
import hashlib
from typing import Any

from trapheus import clients
from trapheus.errors import InvalidInputError, TableBackupError
from trapheus.tables import store
from trapheus.tables.budget import Budget
from trapheus.tables.codec import ContentChecksum, decode_lines
from trapheus.tables.manifest import BackupFile, BackupLocation
from trapheus.throttling import aws_errors


def start(table_arn: str, location: BackupLocation, kms_key_arn: str | None, dynamodb: Any = None) -> str:
    """Start the export (idempotent for one backup: the backup id is its client token); returns its ARN."""
    arguments: dict[str, Any] = {
        "TableArn": table_arn,
        "S3Bucket": location.bucket,
        "S3Prefix": location.export_prefix,
        "ExportFormat": "DYNAMODB_JSON",
        "ExportType": "FULL_EXPORT",
        "ClientToken": location.backup_id,
    }
    if kms_key_arn:
        arguments.update(S3SseAlgorithm="KMS", S3SseKmsKeyId=kms_key_arn)
    with aws_errors(TableBackupError, f"starting the export of {location.table}"):
        return str((dynamodb or clients.client("dynamodb")).export_table_to_point_in_time(**arguments)["ExportDescription"]["ExportArn"])


def data_files(location: BackupLocation, s3: Any = None) -> list[str]:
    """The export's data files, in a stable order."""
    return sorted(key for key in store.keys_under(location.bucket, location.export_prefix + "/", s3)
                  if "/data/" in key and key.endswith(".gz"))  # fmt: skip


def index(location: BackupLocation, position: int, budget: Budget, s3: Any = None) -> tuple[int, int, bool]:
    """Count and checksum the export's data files from ``position`` on, one ledger per file.

    Returns (next position, number of files, done).
    """
    files = data_files(location, s3)
    if not files and position == 0:
        raise TableBackupError(f"the export of {location.table} wrote no data files under {location.export_prefix}/")
    while position < len(files) and not budget.exhausted:
        key = files[position]
        body = store.read_file(location.bucket, key, s3)
        checksum = ContentChecksum()
        for item in decode_lines(gzip.decompress(body).splitlines(), key):
            checksum.add(item)
        head = (s3 or clients.client("s3")).head_object(Bucket=location.bucket, Key=key)
        entry = BackupFile(key, len(body), str(head.get("ETag", "")), hashlib.sha256(body).hexdigest(), checksum)
        store.put_json(location.bucket, location.ledger_key(position, 0),
                       {"segment": position, "sequence": 0, "done": True, "files": [entry.to_dict()]}, s3)  # fmt: skip
        budget.spend(checksum.items)
        position += 1
    return position, len(files), position >= len(files)


def require_pitr(settings: dict[str, Any]) -> None:
    if not (settings.get("pointInTimeRecovery") or {}).get("enabled"):
        raise InvalidInputError(
            f"method 'export' needs point-in-time recovery on {settings.get('tableName')}; it is off "
            "(turn it on, or back up with the default method 'scan')"
        )
