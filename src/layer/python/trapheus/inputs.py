"""The execution input, checked before anything is touched."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timezone
from enum import Enum
from typing import Any

from trapheus.errors import InvalidInputError
from trapheus.names import RESTORABLE_ID_MAX, check_identifier, snapshot_id_max


class Strategy(str, Enum):
    """How the restored copy takes over the original identifier."""

    SWAP = "swap"  # restore beside the original, then two renames: downtime = the renames
    IN_PLACE = "in-place"  # rename the original aside first: downtime = the whole restore
    BACKTRACK = "backtrack"  # Aurora MySQL: rewind the cluster itself (no copy, no rename); point in time only


class Task(str, Enum):
    CREATE_SNAPSHOT = "create_snapshot"
    DB_RESTORE = "db_restore"
    CREATE_SNAPSHOT_ONLY = "create_snapshot_only"
    POINT_IN_TIME_RESTORE = "point_in_time_restore"
    PLAN = "plan"

    @property
    def takes_snapshot(self) -> bool:
        return self in (Task.CREATE_SNAPSHOT, Task.CREATE_SNAPSHOT_ONLY)

    @property
    def restores(self) -> bool:
        return self in (Task.CREATE_SNAPSHOT, Task.DB_RESTORE, Task.POINT_IN_TIME_RESTORE)

    @property
    def to_point_in_time(self) -> bool:
        return self is Task.POINT_IN_TIME_RESTORE


KNOWN_FIELDS = frozenset({"identifier", "task", "isCluster", "snapshotIdentifier", "export", "strategy", "restoreTime", "verify"})
LATEST = "latest"
LAMBDA_FUNCTION_ARN = re.compile(r"^arn:aws[a-z-]*:lambda:[a-z0-9-]+:[0-9]{12}:function:[A-Za-z0-9_-]{1,64}(:[A-Za-z0-9_$-]{1,128})?$")


@dataclass(frozen=True)
class RestoreRequest:
    identifier: str
    task: Task
    is_cluster: bool
    snapshot_identifier: str
    export: bool
    strategy: Strategy = Strategy.SWAP
    restore_time: str | None = None  # point in time: "latest", or ISO-8601 in UTC (the survey resolves "latest")
    verify_function: str | None = None  # the user's Lambda that checks the restored copy before it takes over

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "identifier": self.identifier,
            "task": self.task.value,
            "isCluster": self.is_cluster,
            "export": self.export,
            "strategy": self.strategy.value,
        }
        if not self.task.to_point_in_time:
            data["snapshotIdentifier"] = self.snapshot_identifier
        if self.restore_time is not None:
            data["restoreTime"] = self.restore_time
        if self.verify_function is not None:
            data["verify"] = {"functionArn": self.verify_function}
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RestoreRequest:
        return parse_request(data, export_default=False, strategy_default=data.get("strategy", Strategy.SWAP))


def require_bool(data: dict[str, Any], name: str, default: bool | None = None) -> bool:
    if name not in data:
        if default is None:
            raise InvalidInputError(f"missing required field '{name}' (true or false)")
        return default
    value = data[name]
    # bool only: the string "false" is truthy, and 0/1 are not what the user meant to type
    if not isinstance(value, bool):
        raise InvalidInputError(f"'{name}' must be the JSON boolean true or false, got {value!r}")
    return value


def _strategy(data: dict[str, Any], default: Strategy | str) -> Strategy:
    value = data.get("strategy", Strategy(default).value)
    try:
        return Strategy(value) if isinstance(value, str) else Strategy("?")
    except ValueError:
        raise InvalidInputError(
            f"'strategy' must be one of {', '.join(s.value for s in Strategy)}, got {value!r}"
        ) from None


def parse_request(data: Any, *, export_default: bool, strategy_default: Strategy | str = Strategy.SWAP) -> RestoreRequest:
    """Validate the console input; raise InvalidInputError with a message a person can act on."""
    if not isinstance(data, dict):
        raise InvalidInputError(f"the input must be a JSON object, got {type(data).__name__}")
    unknown = sorted(set(data) - KNOWN_FIELDS)
    if unknown:
        raise InvalidInputError(f"unknown field(s) {', '.join(unknown)}; allowed: {', '.join(sorted(KNOWN_FIELDS))}")
    if "identifier" not in data:
        raise InvalidInputError("missing required field 'identifier'")
    identifier = check_identifier(data["identifier"], field_name="identifier", max_length=RESTORABLE_ID_MAX)
    if "task" not in data:
        raise InvalidInputError(f"missing required field 'task' (one of {', '.join(t.value for t in Task)})")
    try:
        task = Task(data["task"]) if isinstance(data["task"], str) else None
    except ValueError:
        task = None
    if task is None:
        raise InvalidInputError(f"'task' must be one of {', '.join(t.value for t in Task)}, got {data['task']!r}")
    is_cluster = require_bool(data, "isCluster")
    if task.to_point_in_time and "snapshotIdentifier" in data:
        raise InvalidInputError("a point_in_time_restore restores from the database's automated backups: give restoreTime, not snapshotIdentifier")
    snapshot = data.get("snapshotIdentifier", f"{identifier}-snapshot")
    # the names derived from a snapshot identifier are cut to fit (trapheus.names.fit): only RDS's limit applies
    limit = snapshot_id_max(is_cluster)
    snapshot = check_identifier(snapshot, field_name="snapshotIdentifier", max_length=limit, rds_max=limit)
    export = require_bool(data, "export", default=export_default)
    strategy = _strategy(data, strategy_default)
    restore_time = restore_time_of(data, task)
    if strategy is Strategy.BACKTRACK and not (task.to_point_in_time and is_cluster):
        raise InvalidInputError("strategy 'backtrack' rewinds an Aurora MySQL cluster: it needs task point_in_time_restore and isCluster true")
    verify = verify_function_of(data, task, strategy)
    return RestoreRequest(identifier, task, is_cluster, snapshot, export, strategy, restore_time, verify)


def parse_time(value: Any, *, field_name: str = "restoreTime") -> datetime:
    """An ISO-8601 date and time that names its zone (``Z`` or an offset), as a UTC datetime."""
    if not isinstance(value, str):
        raise InvalidInputError(f"'{field_name}' must be an ISO-8601 time with its zone such as 2026-11-29T10:42:00Z, or \"latest\"; got {value!r}")
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise InvalidInputError(f"'{field_name}' {value!r} is not an ISO-8601 time such as 2026-11-29T10:42:00Z") from None
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        raise InvalidInputError(f"'{field_name}' {value!r} names no time zone: add Z (UTC) or an offset such as +02:00")
    return parsed.astimezone(timezone.utc)


def format_time(moment: datetime) -> str:
    """UTC, ISO-8601, to the second when there is no fraction (how RDS takes and shows restore times)."""
    text = moment.astimezone(timezone.utc).isoformat()
    return text.replace("+00:00", "Z")


def restore_time_of(data: dict[str, Any], task: Task) -> str | None:
    if not task.to_point_in_time:
        if "restoreTime" in data:
            raise InvalidInputError(f"'restoreTime' belongs to task point_in_time_restore, not {task.value}")
        return None
    if "restoreTime" not in data:
        raise InvalidInputError("task point_in_time_restore needs 'restoreTime': an ISO-8601 time with its zone, or \"latest\"")
    value = data["restoreTime"]
    if isinstance(value, str) and value.strip().lower() == LATEST:
        return LATEST
    return format_time(parse_time(value))


def verify_function_of(data: dict[str, Any], task: Task, strategy: Strategy) -> str | None:
    if "verify" not in data:
        return None
    value = data["verify"]
    if not isinstance(value, dict) or set(value) != {"functionArn"} or not isinstance(value["functionArn"], str):
        raise InvalidInputError('\'verify\' must be {"functionArn": "<ARN of your Lambda function>"}')
    arn = value["functionArn"]
    if not LAMBDA_FUNCTION_ARN.match(arn):
        raise InvalidInputError(f"'verify.functionArn' {arn!r} is not the ARN of a Lambda function")
    if not (task.restores or task is Task.PLAN):
        raise InvalidInputError(f"'verify' checks a restored copy; task {task.value} restores none")
    if strategy is Strategy.BACKTRACK:
        raise InvalidInputError("'verify' checks a restored copy before it takes over; a backtrack rewinds the cluster itself and has none")
    return arn
