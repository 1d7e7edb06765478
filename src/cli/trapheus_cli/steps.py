"""An execution history (the event list Step Functions returns) turned into the steps a person reads.

A step is one visit to one state: when it was entered and left, how it ended,
how many attempts its task took and the last error it saw.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from typing import Any


class Outcome(str, Enum):
    SUCCEEDED = "succeeded"
    CAUGHT = "caught"  # failed, and a Catch moved the run on
    FAILED = "failed"
    RUNNING = "running"


ATTEMPT_EVENTS = frozenset({"TaskScheduled", "LambdaFunctionScheduled", "ActivityScheduled"})
SUCCESS_EVENTS = frozenset({"TaskSucceeded", "LambdaFunctionSucceeded", "ActivitySucceeded"})
EXECUTION_END_EVENTS = frozenset({"ExecutionSucceeded", "ExecutionFailed", "ExecutionTimedOut", "ExecutionAborted"})


@dataclass
class Step:
    name: str
    state_type: str
    started: datetime
    ended: datetime | None = None
    outcome: Outcome = Outcome.RUNNING
    attempts: int = 0
    error: str | None = None
    cause: str | None = None
    _last_attempt_failed: bool = field(default=False, repr=False)

    @property
    def retries(self) -> int:
        return max(self.attempts - 1, 0)

    @property
    def seconds(self) -> float | None:
        return None if self.ended is None else (self.ended - self.started).total_seconds()

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "type": self.state_type,
            "started": self.started.isoformat(),
            "ended": self.ended.isoformat() if self.ended else None,
            "seconds": self.seconds,
            "outcome": self.outcome.value,
            "attempts": self.attempts,
            "retries": self.retries,
            "error": self.error,
            "cause": self.cause,
        }


def steps_from_history(events: Iterable[Mapping[str, Any]]) -> list[Step]:
    """Steps in the order their states were entered."""
    steps: list[Step] = []
    open_steps: list[Step] = []
    owner: dict[int, Step] = {}  # event id -> the step it belongs to

    for event in sorted(events, key=lambda e: e["id"]):
        kind: str = event["type"]
        when: datetime = event["timestamp"]
        if kind.endswith("StateEntered"):
            step = Step(
                name=event["stateEnteredEventDetails"]["name"],
                state_type=kind.removesuffix("StateEntered"),
                started=when,
            )
            steps.append(step)
            open_steps.append(step)
            owner[event["id"]] = step
        elif kind.endswith("StateExited"):
            name = event["stateExitedEventDetails"]["name"]
            step = next((s for s in reversed(open_steps) if s.name == name), None)
            if step is not None:
                step.ended = when
                step.outcome = Outcome.CAUGHT if step._last_attempt_failed else Outcome.SUCCEEDED
                open_steps.remove(step)
        elif kind in EXECUTION_END_EVENTS:
            _close_all(open_steps, when, kind, _details(event))
        else:
            step = owner.get(event.get("previousEventId", -1)) or _innermost(open_steps)
            if step is None:
                continue
            owner[event["id"]] = step
            if kind in ATTEMPT_EVENTS:
                step.attempts += 1
                step._last_attempt_failed = False
            elif kind in SUCCESS_EVENTS:
                step._last_attempt_failed = False
            elif _is_failure(kind):
                details = _details(event)
                step.error, step.cause = details.get("error"), details.get("cause")
                step._last_attempt_failed = True
    return steps


def visited_states(steps: Iterable[Step]) -> list[str]:
    return [step.name for step in steps]


def failed_states(steps: Iterable[Step]) -> list[str]:
    return [step.name for step in steps if step.outcome is Outcome.FAILED]


def current_step(steps: list[Step]) -> Step | None:
    """The step the run is in now: the last one still running."""
    return next((step for step in reversed(steps) if step.outcome is Outcome.RUNNING), None)


def _close_all(open_steps: list[Step], when: datetime, kind: str, details: Mapping[str, Any]) -> None:
    succeeded = kind == "ExecutionSucceeded"
    for step in open_steps:
        step.ended = when
        step.outcome = Outcome.SUCCEEDED if succeeded and not step._last_attempt_failed else Outcome.FAILED
        if not succeeded and step.error is None:
            # a Fail state carries the run's error; an aborted or timed-out run names none
            step.error = details.get("error") or kind.removeprefix("Execution")
            step.cause = details.get("cause")
    open_steps.clear()


def _innermost(open_steps: list[Step]) -> Step | None:
    return open_steps[-1] if open_steps else None


def _is_failure(kind: str) -> bool:
    if kind.startswith(("Execution", "MapRun", "MapIteration")):
        return False
    return kind.endswith(("Failed", "TimedOut"))


def _details(event: Mapping[str, Any]) -> Mapping[str, Any]:
    """An event's details: ``TaskFailed`` keeps them under ``taskFailedEventDetails``."""
    kind = event["type"]
    return event.get(kind[0].lower() + kind[1:] + "EventDetails", {})
