"""Lambda GB-seconds: what the workflow's invocations cost, and what waiting inside Lambda would cost.

Our design: every invocation is billed its real handler time, measured in the
emulator and rounded up to 1 ms (Lambda's billing granularity), at the memory
the template gives the function. The handlers never wait: RDS operations are
followed by Step Functions Wait states, which cost no Lambda time.

The older design: each step starts its RDS operation and then waits for it
inside the same Lambda (a boto3 waiter polling every ``poll_seconds``), so the
function is occupied for the whole operation. It does the same work as our
handlers (the same sequence of RDS operations, timed by the same model), minus
the separate status checks, plus the waiting. A Lambda runs 15 minutes at most,
so a longer wait is continued by re-invoking the function; each re-invocation is
counted, and the waiting is billed once, at the same memory.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from trapheus_local.rds_timing import RdsTiming, polled

MAX_INVOCATION_SECONDS = 15 * 60
MB_PER_GB = 1024
STATUS_CHECK_FUNCTION = "CheckStatusFunction"  # the poll loop's function (docs/architecture.md)

RdsOperation = tuple[str, Mapping[str, Any]]
Timing = RdsTiming  # how long each operation keeps its resource busy


@dataclass(frozen=True)
class MeteredInvocation:
    """One invocation of ours: which function, its memory, its real handler time and the RDS calls it made."""

    logical_id: str
    memory_mb: int
    real_seconds: float
    rds_operations: tuple[RdsOperation, ...] = ()

    @property
    def billed_ms(self) -> int:
        return billed_ms(self.real_seconds)

    def mutating_operations(self) -> list[RdsOperation]:
        return [(name, params) for name, params in self.rds_operations if not name.startswith(("Describe", "List"))]


@dataclass(frozen=True)
class LambdaBill:
    invocations: int
    gb_seconds: float
    occupied_seconds: float


def billed_ms(real_seconds: float) -> int:
    """Lambda bills whole milliseconds, at least one."""
    return max(1, math.ceil(real_seconds * 1000 - 1e-9))


def gb_seconds(billed_milliseconds: float, memory_mb: int) -> float:
    return billed_milliseconds / 1000 * memory_mb / MB_PER_GB


def our_bill(invocations: Iterable[MeteredInvocation]) -> LambdaBill:
    calls = list(invocations)
    return LambdaBill(
        invocations=len(calls),
        gb_seconds=sum(gb_seconds(call.billed_ms, call.memory_mb) for call in calls),
        occupied_seconds=sum(call.billed_ms for call in calls) / 1000,
    )


def step_wait(operations: Sequence[RdsOperation], timing: Timing, poll_seconds: float) -> float:
    """How long a step that started ``operations`` (at once) waits for them inside its Lambda."""
    longest = max((timing.seconds(name, params) for name, params in operations), default=0.0)
    return polled(longest, poll_seconds)


def waiting_in_lambda_bill(
    invocations: Iterable[MeteredInvocation], timing: Timing, poll_seconds: float
) -> LambdaBill:
    """The older design's bill for the same run: each step waits for its own operations."""
    count, occupied_ms, total_gbs = 0, 0.0, 0.0
    for call in invocations:
        if call.logical_id == STATUS_CHECK_FUNCTION:
            continue  # the older design has no separate status checks: the waiting step polls
        wait_ms = step_wait(call.mutating_operations(), timing, poll_seconds) * 1000
        occupied = call.billed_ms + wait_ms
        count += max(1, math.ceil(occupied / 1000 / MAX_INVOCATION_SECONDS))
        occupied_ms += occupied
        total_gbs += gb_seconds(occupied, call.memory_mb)
    return LambdaBill(invocations=count, gb_seconds=total_gbs, occupied_seconds=occupied_ms / 1000)


def break_even_billed_ms(
    invocations: Iterable[MeteredInvocation], timing: Timing, poll_seconds: float, target_ratio: float
) -> float:
    """The flat billed duration per invocation at which ours / waiting-in-Lambda reaches ``target_ratio``.

    Both bills grow linearly with a flat per-invocation duration ``b``:
    ours = b * sum(memory); waiting = sum over non-check steps of (b + wait) * memory.
    """
    calls = list(invocations)
    all_memory = sum(call.memory_mb for call in calls)
    steps = [call for call in calls if call.logical_id != STATUS_CHECK_FUNCTION]
    step_memory = sum(call.memory_mb for call in steps)
    waited = sum(step_wait(call.mutating_operations(), timing, poll_seconds) * call.memory_mb for call in steps)
    return 1000 * target_ratio * waited / (all_memory - target_ratio * step_memory)
