"""The execution input, checked before anything is touched."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Any

from trapheus.errors import InvalidInputError
from trapheus.names import RESTORABLE_ID_MAX, check_identifier, snapshot_id_max


class Strategy(str, Enum):
    """How the restored copy takes over the original identifier."""

    SWAP = "swap"  # restore beside the original, then two renames: downtime = the renames
    IN_PLACE = "in-place"  # rename the original aside first: downtime = the whole restore


class Task(str, Enum):
    CREATE_SNAPSHOT = "create_snapshot"
    DB_RESTORE = "db_restore"
    CREATE_SNAPSHOT_ONLY = "create_snapshot_only"
    PLAN = "plan"

    @property
    def takes_snapshot(self) -> bool:
        return self in (Task.CREATE_SNAPSHOT, Task.CREATE_SNAPSHOT_ONLY)

    @property
    def restores(self) -> bool:
        return self in (Task.CREATE_SNAPSHOT, Task.DB_RESTORE)


KNOWN_FIELDS = frozenset({"identifier", "task", "isCluster", "snapshotIdentifier", "export", "strategy"})


@dataclass(frozen=True)
class RestoreRequest:
    identifier: str
    task: Task
    is_cluster: bool
    snapshot_identifier: str
    export: bool
    strategy: Strategy = Strategy.SWAP

    def to_dict(self) -> dict[str, Any]:
        return {
            "identifier": self.identifier,
            "task": self.task.value,
            "isCluster": self.is_cluster,
            "snapshotIdentifier": self.snapshot_identifier,
            "export": self.export,
            "strategy": self.strategy.value,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RestoreRequest:
        return parse_request(data, export_default=False, strategy_default=data.get("strategy", Strategy.SWAP))


def _require_bool(data: dict[str, Any], name: str, default: bool | None = None) -> bool:
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
    is_cluster = _require_bool(data, "isCluster")
    snapshot = data.get("snapshotIdentifier", f"{identifier}-snapshot")
    # the names derived from a snapshot identifier are cut to fit (trapheus.names.fit): only RDS's limit applies
    limit = snapshot_id_max(is_cluster)
    snapshot = check_identifier(snapshot, field_name="snapshotIdentifier", max_length=limit, rds_max=limit)
    export = _require_bool(data, "export", default=export_default)
    return RestoreRequest(identifier, task, is_cluster, snapshot, export, _strategy(data, strategy_default))
