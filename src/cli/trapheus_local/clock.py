"""A simulated clock for everything in the emulator that would otherwise sleep.

Step Functions ``Wait`` states, ``Retry`` back-off and botocore's own retry
back-off all advance this clock instead of sleeping (and a task waiting for its task token, unanswered for
:attr:`VirtualClock.callback_patience` real seconds, times out on it), so a workflow that would
wait an hour in AWS finishes in milliseconds here, and a benchmark can read how
long it would have waited (:attr:`VirtualClock.elapsed`). The time a workflow
reads from its context object (``$$.State.EnteredTime``) is on the same clock:
the moment the emulator started plus the simulated seconds since, so a run's
report measures what the run would have taken. There is one simulated timeline:
the waits of branches that run side by side (Map, Parallel) add up on it.
"""

from __future__ import annotations

import contextlib
import datetime as _datetime
import threading
import time as _real_time
from collections.abc import Iterator
from typing import Any
from unittest import mock

from moto.stepfunctions.parser.asl.component.common.retry import retrier_decl
from moto.stepfunctions.parser.asl.component.state import state as state_module
from moto.stepfunctions.parser.asl.component.state.wait.wait_function.wait_function import WaitFunction
from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.resource import ResourceCondition
from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_callback import (
    StateTaskServiceCallback,
)


class VirtualClock:
    """Seconds of simulated waiting; thread-safe (executions run on moto's threads).

    ``real_time_factor`` > 0 also lets real time pass on the clock, that many times faster (``trapheus
    local serve``: a database created by hand becomes available while its user waits, not never).
    """

    def __init__(self, real_time_factor: float = 0.0) -> None:
        self._lock = threading.Lock()
        self._elapsed = 0.0
        self._started = _real_time.monotonic()
        self.started_at = _datetime.datetime.now(_datetime.timezone.utc)
        self.real_time_factor = real_time_factor
        self.sleeps: list[float] = []
        # real seconds a task token is waited for (a person answering `trapheus copy approve`, or a test) before
        # the task times out at its TimeoutSeconds on this clock
        self.callback_patience = 60.0

    @property
    def elapsed(self) -> float:
        """Total simulated seconds so far: every wait, plus real time at ``real_time_factor``."""
        with self._lock:
            real = (_real_time.monotonic() - self._started) * self.real_time_factor if self.real_time_factor else 0.0
            return self._elapsed + real

    def now(self) -> _datetime.datetime:
        """The simulated wall clock: when the emulator started, plus the simulated seconds since."""
        return self.started_at + _datetime.timedelta(seconds=self.elapsed)

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._elapsed += max(0.0, float(seconds))
            self.sleeps.append(float(seconds))


class _DatetimeModule:
    """Stands in for ``datetime`` in the interpreter's state module: ``datetime.now()`` reads the simulated clock."""

    def __init__(self, clock: VirtualClock) -> None:
        clock_now = clock.now

        class SimulatedDatetime(_datetime.datetime):
            @classmethod
            def now(cls, tz: Any = None) -> Any:  # type: ignore[override]
                return clock_now().astimezone(tz) if tz else clock_now().replace(tzinfo=None)

        self.datetime = SimulatedDatetime

    def __getattr__(self, name: str) -> Any:
        return getattr(_datetime, name)


class _TimeModule:
    """Stands in for the ``time`` module inside one library module: ``sleep`` advances the clock."""

    def __init__(self, clock: VirtualClock) -> None:
        self._clock = clock

    def sleep(self, seconds: float) -> None:
        self._clock.advance(seconds)

    def __getattr__(self, name: str) -> Any:
        return getattr(_real_time, name)


@contextlib.contextmanager
def installed(clock: VirtualClock) -> Iterator[VirtualClock]:
    """Make Wait states, Retry back-off and botocore retries advance ``clock`` instead of sleeping, and the
    context object's times read it."""
    import botocore.endpoint

    def wait_interval(self: WaitFunction, env: Any, wait_seconds: int) -> None:
        clock.advance(wait_seconds)

    fake_time = _TimeModule(clock)
    # a task waiting for its token (.waitForTaskToken only: .sync integrations wait on the same endpoints)
    token_wait = StateTaskServiceCallback._wait_for_task_token_timeout

    def wait_for_token(self: StateTaskServiceCallback, timeout_seconds: int, callback_endpoint: Any) -> Any:
        if self.resource.condition != ResourceCondition.WaitForTaskToken:
            return token_wait(self, timeout_seconds, callback_endpoint)  # a .sync task's watcher: real time, as moto has it
        outcome = token_wait(self, min(timeout_seconds, clock.callback_patience), callback_endpoint)
        if outcome is None:
            clock.advance(timeout_seconds)  # unanswered: the task's whole timeout has passed
        return outcome

    with contextlib.ExitStack() as stack:
        stack.enter_context(mock.patch.object(StateTaskServiceCallback, "_wait_for_task_token_timeout", wait_for_token))
        stack.enter_context(mock.patch.object(WaitFunction, "_wait_interval", wait_interval))
        stack.enter_context(mock.patch.object(retrier_decl, "time", fake_time))
        stack.enter_context(mock.patch.object(botocore.endpoint, "time", fake_time))
        stack.enter_context(mock.patch.object(state_module, "datetime", _DatetimeModule(clock)))
        yield clock
