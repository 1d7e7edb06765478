"""The on-demand DynamoDB backup a replace takes first, and the recovery from it.

A replace deletes the table only once this backup is AVAILABLE (DynamoDB refuses to
delete a table while a backup of it is being made). Its name is derived from the run,
so a retried step finds the backup it already started instead of taking another. trapheus
never deletes it: it is the user's way back, and its ARN is in the run's output.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

from trapheus import clients
from trapheus.errors import TableRestoreError
from trapheus.throttling import aws_errors

_NOT_ALLOWED = re.compile(r"[^A-Za-z0-9_.-]")


def backup_name(table: str, run: str) -> str:
    """``<table>-trapheus-<8 hex of the run>``: 3 to 255 of [A-Za-z0-9_.-], as DynamoDB requires."""
    suffix = f"-trapheus-{hashlib.sha256(run.encode()).hexdigest()[:8]}"
    return _NOT_ALLOWED.sub("-", table)[: 255 - len(suffix)] + suffix


def find(table: str, name: str, dynamodb: Any = None) -> dict[str, Any] | None:
    """The backup of ``table`` called ``name`` (any status but DELETED), or None."""
    client = dynamodb or clients.client("dynamodb")
    arguments: dict[str, Any] = {"TableName": table, "BackupType": "USER"}
    while True:
        with aws_errors(TableRestoreError, f"listing the backups of {table}"):
            page = client.list_backups(**arguments)
        for summary in page.get("BackupSummaries", []):
            if summary.get("BackupName") == name and summary.get("BackupStatus") != "DELETED":
                return summary
        if not page.get("LastEvaluatedBackupArn"):
            return None
        arguments["ExclusiveStartBackupArn"] = page["LastEvaluatedBackupArn"]


def take(table: str, name: str, dynamodb: Any = None) -> str:
    """Start the backup (or find the one this run already started); returns its ARN."""
    client = dynamodb or clients.client("dynamodb")
    existing = find(table, name, client)
    if existing is not None:
        return str(existing["BackupArn"])
    with aws_errors(TableRestoreError, f"taking an on-demand backup of {table}"):
        return str(client.create_backup(TableName=table, BackupName=name)["BackupDetails"]["BackupArn"])


def recover(table: str, backup_arn: str, billing_mode: str | None = None, dynamodb: Any = None) -> None:
    """Restore the on-demand backup under the table's own name (which must be free), in its billing mode."""
    arguments: dict[str, Any] = {"TargetTableName": table, "BackupArn": backup_arn}
    if billing_mode == "PAY_PER_REQUEST":
        # a provisioned table restores with the backup's capacities; on-demand needs no numbers
        arguments["BillingModeOverride"] = billing_mode
    with aws_errors(TableRestoreError, f"restoring {table} from its on-demand backup {backup_arn}"):
        (dynamodb or clients.client("dynamodb")).restore_table_from_backup(**arguments)
