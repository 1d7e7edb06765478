"""Run the real restore and recover workflows on the local engine under the RDS timing model, and measure them.

One emulator and one deployment of the repository's ``template.yaml`` serve every
scenario. A scenario creates its own database (the non-default sample settings),
takes the snapshot the run restores (or, for a point in time, restores from its
automated backups), switches the timing model on for the database's size and runs
the restore workflow with the scenario's strategy. A recovery scenario creates
several databases and brings them back to one instant with the recover workflow,
or with one restore run after another. The emulator parses the workflows once for
all of them (:mod:`trapheus_local.speedups`).
"""

from __future__ import annotations

import contextlib
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from trapheus import clients
from trapheus_local import Emulator
from trapheus_local.engine import Deployment, entered_states
from trapheus_local.functions import FunctionSpec, InProcessRuntime
from trapheus_local.resources import ACCOUNT_ID
from trapheus_local.samples import STACK_PARAMETERS, make_cluster, make_instance

from bench.downtime import DowntimeMeter, ObservedClock
from bench.lambda_cost import (
    LambdaBill,
    MeteredInvocation,
    break_even_billed_ms,
    our_bill,
    waiting_in_lambda_bill,
)
from trapheus_local.rds_timing import DEFAULT_ASSUMPTIONS, Assumptions, RdsTiming

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = ROOT / "template.yaml"
MACHINE = "RestoreStateMachine"
RECOVER_MACHINE = "RecoverStateMachine"
SNAPSHOT, POINT_IN_TIME = "snapshot", "point in time"
POLL_SECONDS = 30  # the template's default PollIntervalSeconds
MAX_POLL_ATTEMPTS = 240  # the template's default MaxPollAttempts
REAL_TIMEOUT_SECONDS = 120.0  # only guards against a hang
LAMBDA_GBS_TARGET = 1 / 50  # issue 5: ours <= 1/50 of waiting inside Lambda


@dataclass(frozen=True)
class Scenario:
    strategy: str
    size_gib: int
    is_cluster: bool = False
    assumptions: Assumptions = DEFAULT_ASSUMPTIONS
    source: str = SNAPSHOT  # or POINT_IN_TIME: the original's automated backups, at their latest restorable time

    @property
    def kind(self) -> str:
        return "cluster" if self.is_cluster else "instance"

    def execution_input(self, identifier: str) -> dict[str, Any]:
        request = {"identifier": identifier, "isCluster": self.is_cluster, "strategy": self.strategy}
        if self.source == POINT_IN_TIME:
            return {**request, "task": "point_in_time_restore", "restoreTime": "latest"}
        return {**request, "task": "db_restore"}

    @property
    def timing(self) -> RdsTiming:
        return RdsTiming(self.size_gib, self.assumptions)


@dataclass(frozen=True)
class Measurement:
    scenario: Scenario
    status: str
    downtime_seconds: float
    total_seconds: float
    state_transitions: int
    rds_calls: int
    rds_mutating_calls: int
    ours: LambdaBill
    waiting_in_lambda: LambdaBill
    break_even_billed_ms: float  # flat billed ms per invocation at which the GB-s ratio reaches the target

    @property
    def lambda_gbs_ratio(self) -> float:
        return self.ours.gb_seconds / self.waiting_in_lambda.gb_seconds


class InvocationMeter:
    """Times every in-process invocation and keeps the RDS calls it made."""

    def __init__(self, emulator: Emulator) -> None:
        self.emulator = emulator
        self.invocations: list[MeteredInvocation] = []
        runtime: InProcessRuntime = emulator.runtime
        original_invoke = runtime.invoke

        def invoke(spec: FunctionSpec, event: Any) -> tuple[bytes, bool]:
            calls_before = len(emulator.rds_calls.calls)
            started = time.perf_counter()
            try:
                return original_invoke(spec, event)
            finally:
                real_seconds = time.perf_counter() - started
                made = tuple((call.operation, call.params) for call in emulator.rds_calls.calls[calls_before:])
                self.invocations.append(MeteredInvocation(spec.logical_id, spec.memory_mb, real_seconds, made))

        # the runtime's moto hook looks the method up on the instance at every invocation
        runtime.invoke = invoke  # type: ignore[method-assign]


class StrategyBench:
    """The emulator, the deployed template and the meters; a context manager."""

    def __init__(self, poll_seconds: int = POLL_SECONDS) -> None:
        self.poll_seconds = poll_seconds
        self.clock = ObservedClock()
        self.emulator = Emulator()
        self.emulator.clock = self.clock  # before entering: the emulator installs its clock then
        self.deployment: Deployment | None = None
        self.invocation_meter: InvocationMeter | None = None
        self._stack = contextlib.ExitStack()

    def __enter__(self) -> StrategyBench:
        clients.reset()  # handlers cache boto3 clients; they must be built inside the emulator
        with contextlib.ExitStack() as stack:
            stack.enter_context(self.emulator)
            stack.callback(clients.reset)
            self.deployment = self.emulator.deploy(
                TEMPLATE,
                {"LogLevel": "ERROR", "PollIntervalSeconds": self.poll_seconds, "MaxPollAttempts": MAX_POLL_ATTEMPTS,
                 **STACK_PARAMETERS, "ManagedDatabasePattern": "bench-*"},  # every bench database is bench-...
            )
            self.invocation_meter = InvocationMeter(self.emulator)
            self._stack = stack.pop_all()
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self._stack.__exit__(*exc_info)

    def measure(self, scenario: Scenario) -> Measurement:
        assert self.deployment is not None and self.invocation_meter is not None, "use StrategyBench as a context"
        emulator, latency = self.emulator, self.emulator.latency
        latency.clear()
        with emulator.settled():  # the database and its snapshot exist before the run starts
            identifier = self._create_database(scenario)
        default_timing = latency.timing
        latency.timed(scenario.timing, lambda: self.clock.elapsed)
        emulator.rds_calls.clear()
        first_invocation = len(self.invocation_meter.invocations)
        meter = DowntimeMeter(ACCOUNT_ID, emulator.region, latency, identifier, scenario.is_cluster)
        self.clock.observers.append(meter.observe)
        started_at = self.clock.elapsed
        try:
            status, events, _ = self._run(MACHINE, scenario.execution_input(identifier))
        finally:
            self.clock.observers.remove(meter.observe)
            latency.timing = default_timing
        invocations = self.invocation_meter.invocations[first_invocation:]
        calls = emulator.rds_calls.calls
        return Measurement(
            scenario=scenario,
            status=status,
            downtime_seconds=meter.unserved_seconds,
            total_seconds=self.clock.elapsed - started_at,
            state_transitions=len(entered_states(events)),
            rds_calls=len(calls),
            rds_mutating_calls=sum(call.mutating for call in calls),
            ours=our_bill(invocations),
            waiting_in_lambda=waiting_in_lambda_bill(invocations, scenario.timing, self.poll_seconds),
            break_even_billed_ms=break_even_billed_ms(
                invocations, scenario.timing, self.poll_seconds, LAMBDA_GBS_TARGET
            ),
        )

    def measure_recovery(self, size_gib: int, count: int, *, together: bool) -> RecoveryMeasurement:
        """``count`` instances of ``size_gib`` brought back to one instant: by the recover workflow (``together``),
        or by one point-in-time restore run after another. Each database's downtime is metered on its own."""
        emulator, latency = self.emulator, self.emulator.latency
        latency.clear()
        scenario = Scenario("swap", size_gib, source=POINT_IN_TIME)
        with emulator.settled():
            identifiers = [self._create_database(scenario) for _ in range(count)]
        default_timing = latency.timing
        latency.timed(scenario.timing, lambda: self.clock.elapsed)
        meters = [DowntimeMeter(ACCOUNT_ID, emulator.region, latency, identifier, False) for identifier in identifiers]
        self.clock.observers.extend(meter.observe for meter in meters)
        started_at = self.clock.elapsed
        instant = (datetime.now(timezone.utc) - timedelta(minutes=30)).isoformat()  # the same for both ways
        try:
            if together:
                # one Map lane at a time: the local clock is one timeline, on which parallel waits would add up
                reports = [self._run(RECOVER_MACHINE, {"databases": [{"identifier": i, "isCluster": False} for i in identifiers],
                                                       "restoreTime": instant, "maxConcurrency": 1})[2]]  # fmt: skip
            else:
                reports = [self._run(MACHINE, {**scenario.execution_input(i), "restoreTime": instant})[2] for i in identifiers]
        finally:
            for meter in meters:
                self.clock.observers.remove(meter.observe)
            latency.timing = default_timing
        items = [item for report in reports for item in report["items"]]
        return RecoveryMeasurement(
            together=together, size_gib=size_gib,
            downtime_seconds=tuple(meter.unserved_seconds for meter in meters),
            total_seconds=self.clock.elapsed - started_at,
            swap_spread_seconds=_spread(items),
            restore_times=tuple(sorted({item["restoredTo"] for item in items})),
        )  # fmt: skip

    def _create_database(self, scenario: Scenario) -> str:
        rds, ec2 = self.emulator.client("rds"), self.emulator.client("ec2")
        identifier = f"bench-{scenario.kind[:2]}-{scenario.size_gib}-{uuid.uuid4().hex[:6]}"
        if scenario.is_cluster:
            make_cluster(rds, ec2, identifier)
            if scenario.source == SNAPSHOT:
                rds.create_db_cluster_snapshot(DBClusterIdentifier=identifier, DBClusterSnapshotIdentifier=f"{identifier}-snapshot")
        else:
            make_instance(
                rds, ec2, identifier, AllocatedStorage=scenario.size_gib, MaxAllocatedStorage=2 * scenario.size_gib
            )
            if scenario.source == SNAPSHOT:
                rds.create_db_snapshot(DBInstanceIdentifier=identifier, DBSnapshotIdentifier=f"{identifier}-snapshot")
        return identifier

    def _run(self, machine: str, execution_input: dict[str, Any]) -> tuple[str, list[dict[str, Any]], dict[str, Any]]:
        """Run to the end: its status, its events and its report."""
        assert self.deployment is not None
        arn = self.deployment.start(machine, execution_input, name=f"bench-{uuid.uuid4().hex[:12]}")
        result = self.deployment.wait(arn, real_timeout=REAL_TIMEOUT_SECONDS)
        if not result.succeeded:
            raise RuntimeError(f"{execution_input} ended {result.status}: {result.error}: {result.cause}")
        return result.status, result.events, result.output["report"]


@dataclass(frozen=True)
class RecoveryMeasurement:
    together: bool  # the recover workflow, or one restore run after another
    size_gib: int
    downtime_seconds: tuple[float, ...]  # per database, metered
    total_seconds: float
    swap_spread_seconds: float  # from the first database going unserved to the last one served again
    restore_times: tuple[str, ...]  # the instants the databases were restored to


def _spread(items: list[dict[str, Any]]) -> float:
    started = min(datetime.fromisoformat(item["swapStarted"]) for item in items)
    ended = max(datetime.fromisoformat(item["swapEnded"]) for item in items)
    return (ended - started).total_seconds()
