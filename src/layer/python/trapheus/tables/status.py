"""Is it done? One describe call judged by waiter acceptors: a table, an on-demand backup, an export.

The table workflows poll with Wait -> Check -> Choice loops; the Check step answers
``done``, ``waiting`` or ``failed`` from one call, using botocore's own DynamoDB waiter
models where they fit (TableNotExists, ExportCompleted) and small custom ones where they
do not (a table that must become ACTIVE and can end up DELETING; a backup).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Any

import botocore.session
from botocore.exceptions import ClientError
from botocore.waiter import WaiterModel

from trapheus import clients
from trapheus.errors import InvalidInputError, TableRestoreError, ThrottlingError
from trapheus.throttling import is_throttling
from trapheus.waiters import Outcome

_BOTOCORE = botocore.session.get_session().get_waiter_model("dynamodb")
_CUSTOM = WaiterModel({
    "version": 2,
    "waiters": {
        "TableActive": {
            "operation": "DescribeTable", "delay": 20, "maxAttempts": 25,
            "acceptors": [
                {"matcher": "path", "argument": "Table.TableStatus", "expected": "ACTIVE", "state": "success"},
                *({"matcher": "path", "argument": "Table.TableStatus", "expected": status, "state": "failure"}
                  for status in ("DELETING", "INACCESSIBLE_ENCRYPTION_CREDENTIALS", "ARCHIVING", "ARCHIVED")),
                {"matcher": "error", "expected": "ResourceNotFoundException", "state": "retry"},
            ],
        },
        "BackupAvailable": {
            "operation": "DescribeBackup", "delay": 20, "maxAttempts": 25,
            "acceptors": [
                {"matcher": "path", "argument": "BackupDescription.BackupDetails.BackupStatus", "expected": "AVAILABLE",
                 "state": "success"},
                {"matcher": "path", "argument": "BackupDescription.BackupDetails.BackupStatus", "expected": "DELETED",
                 "state": "failure"},
                {"matcher": "error", "expected": "BackupNotFoundException", "state": "failure"},
            ],
        },
    },
})  # fmt: skip


class Target(str, Enum):
    TABLE_ACTIVE = "table_active"
    TABLE_GONE = "table_gone"
    BACKUP_AVAILABLE = "backup_available"
    EXPORT_COMPLETED = "export_completed"


@dataclass(frozen=True)
class Probe:
    model: WaiterModel
    waiter: str
    operation: str
    parameter: str


PROBES = {
    Target.TABLE_ACTIVE: Probe(_CUSTOM, "TableActive", "describe_table", "TableName"),
    Target.TABLE_GONE: Probe(_BOTOCORE, "TableNotExists", "describe_table", "TableName"),
    Target.BACKUP_AVAILABLE: Probe(_CUSTOM, "BackupAvailable", "describe_backup", "BackupArn"),
    Target.EXPORT_COMPLETED: Probe(_BOTOCORE, "ExportCompleted", "describe_export", "ExportArn"),
}


def _observed(response: dict[str, Any]) -> str:
    if "Error" in response:
        return str(response["Error"].get("Code"))
    return str(
        (response.get("Table") or {}).get("TableStatus")
        or ((response.get("BackupDescription") or {}).get("BackupDetails") or {}).get("BackupStatus")
        or (response.get("ExportDescription") or {}).get("ExportStatus")
        or "unknown"
    )


def evaluate(target: Target, identifier: str, dynamodb: Any = None) -> tuple[Outcome, str]:
    probe = PROBES[target]
    try:
        response = getattr(dynamodb or clients.client("dynamodb"), probe.operation)(**{probe.parameter: identifier})
    except ClientError as error:
        if is_throttling(error):
            raise ThrottlingError(f"checking {identifier}: {error}") from error
        response = error.response
    for acceptor in probe.model.get_waiter(probe.waiter).acceptors:
        if acceptor.matcher_func(response):
            return {"success": Outcome.DONE, "failure": Outcome.FAILED, "retry": Outcome.WAITING}[acceptor.state], _observed(response)
    if "Error" in response:
        error = response["Error"]
        raise TableRestoreError(f"checking {identifier}: {error.get('Code')}: {error.get('Message')}")
    return Outcome.WAITING, _observed(response)


def _attempt(previous: Any, identifier: str, target: Target, step: str | None) -> int:
    """This check's number in its loop: the previous poll counts only if it was this loop's (same state, same thing)."""
    if not isinstance(previous, dict):
        return 1
    same_loop = (previous.get("step"), previous.get("identifier"), previous.get("target")) == (step, identifier, target.value)
    return (int(previous.get("attempt") or 0) if same_loop else 0) + 1


def check(event: dict[str, Any], dynamodb: Any = None) -> dict[str, Any]:
    """``{"identifier", "target", "step", "previous"}`` -> the poll state the workflow's Choice reads.

    ``previous`` is the last poll state; a check in another loop starts counting again, so
    no workflow state has to reset the count between two waits.
    """
    try:
        target = Target(event["target"])
        identifier = str(event["identifier"])
    except (KeyError, ValueError) as error:
        raise InvalidInputError(f"a table status check needs an identifier and a known target: {error}") from error
    step = str(event["step"]) if event.get("step") else None
    outcome, observed = evaluate(target, identifier, dynamodb)
    result: dict[str, Any] = {"identifier": identifier, "target": target.value, "state": outcome.value, "status": observed,
                              "attempt": _attempt(event.get("previous"), identifier, target, step), "error": None,
                              "step": step}  # fmt: skip
    if outcome is Outcome.FAILED:
        result["error"] = {"Error": "TableFailedError",
                           "Cause": f"{identifier} ended {observed} while waiting for {target.value.replace('_', ' ')}"}  # fmt: skip
    return result
