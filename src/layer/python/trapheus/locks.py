"""One run per database: the lock item the workflow writes to DynamoDB.

The state machine takes and releases the lock itself (a conditional PutItem and
DeleteItem through the DynamoDB service integration); this module names the
item and reads it for a plan.
"""

from __future__ import annotations

import time
from typing import Any

from trapheus import clients


def lock_key(is_cluster: bool, identifier: str) -> str:
    return f"{'cluster' if is_cluster else 'instance'}:{identifier}"


def lock_holder(is_cluster: bool, identifier: str, table: str | None, dynamodb: Any = None) -> str | None:
    """The execution holding an unexpired lock on the database, or None."""
    if not table:
        return None
    client = dynamodb or clients.client("dynamodb")
    item = client.get_item(TableName=table, Key={"lockId": {"S": lock_key(is_cluster, identifier)}}, ConsistentRead=True).get("Item")
    if not item or int(item.get("expiresAt", {}).get("N", "0")) < int(time.time()):
        return None
    return item.get("execution", {}).get("S", "unknown")


def table_lock_key(table: str) -> str:
    """One restore per table name: the lock a table restore takes on its target."""
    return f"table:{table}"


def lock_window(key: str, minutes: int, now: int | None = None) -> dict[str, str]:
    """The lock item's key and its validity; DynamoDB numbers travel as strings in the service integration."""
    moment = int(time.time()) if now is None else now
    return {"key": key, "now": str(moment), "expiresAt": str(moment + minutes * 60)}
