"""Latency and fault model for the emulated RDS API.

moto finishes every RDS operation at once, so a workflow's Wait -> Check ->
Choice loops would never loop. With ``polls=N`` a resource touched by a
mutating call shows its in-between status (``creating``, ``renaming``,
``modifying``, ``backing-up``, ``deleting``) to the next N describe calls that
see it, then its real status. With a timing (``timed(...)``) the in-between
status lasts a number of simulated seconds per operation instead, read from the
emulator's virtual clock, so a benchmark can give every operation a realistic
duration. On top of that, tests can inject:

- a terminal status: the resource a chosen operation produces ends ``failed``
  (or any status) instead of ``available``;
- API failures: a chosen operation raises a ``ClientError`` with a chosen code
  (e.g. ``Throttling``) for a chosen identifier, N times or always.

The model is pure bookkeeping; :mod:`trapheus_local.rds_calls` feeds it every
RDS call and applies its answers. Off by default: ``polls=0`` and no faults.

Resources live in an account and a region (a *scope*): the same snapshot name in
two accounts is two resources. Every method takes the scope of the call it is
about; None is the emulator's own account and region (``default_scope``).
"""

from __future__ import annotations

import copy
import math
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

# One timed in-between status: (status, seconds).
Phase = tuple[str, float]
# (account id, region) of a resource; None: the default one.
Scope = tuple[str, str]
# How long a mutating call keeps its resource busy: seconds in the call's in-between status, a sequence of
# phases (e.g. ``renaming`` then ``rebooting``), or None to count polls instead.
OperationTiming = Callable[[str, Mapping[str, Any]], "float | Sequence[Phase] | None"]

INSTANCE = "instance"
CLUSTER = "cluster"
SNAPSHOT = "snapshot"
CLUSTER_SNAPSHOT = "cluster-snapshot"

# Every parameter that names an RDS resource; a fault's identifier matches any of them.
IDENTIFIER_PARAMETERS = (
    "DBInstanceIdentifier",
    "NewDBInstanceIdentifier",
    "TargetDBInstanceIdentifier",
    "SourceDBInstanceIdentifier",
    "DBClusterIdentifier",
    "NewDBClusterIdentifier",
    "DBSnapshotIdentifier",
    "SourceDBSnapshotIdentifier",
    "TargetDBSnapshotIdentifier",
    "DBClusterSnapshotIdentifier",
    "SourceDBClusterSnapshotIdentifier",
    "TargetDBClusterSnapshotIdentifier",
    "SnapshotIdentifier",
    "FinalDBSnapshotIdentifier",
)

# describe operation -> (kind, identifier parameter, result key, model attribute naming the resource)
DESCRIBES: dict[str, tuple[str, str, str, str]] = {
    "DescribeDBInstances": (INSTANCE, "DBInstanceIdentifier", "DBInstances", "db_instance_identifier"),
    "DescribeDBClusters": (CLUSTER, "DBClusterIdentifier", "DBClusters", "db_cluster_identifier"),
    "DescribeDBSnapshots": (SNAPSHOT, "DBSnapshotIdentifier", "DBSnapshots", "db_snapshot_identifier"),
    "DescribeDBClusterSnapshots": (
        CLUSTER_SNAPSHOT,
        "DBClusterSnapshotIdentifier",
        "DBClusterSnapshots",
        "db_cluster_snapshot_identifier",
    ),
}

# mutating operation -> (kind, identifier parameter, in-between status); renames and deletes are special-cased
_TRANSITIONS: dict[str, tuple[str, str, str]] = {
    "CreateDBInstance": (INSTANCE, "DBInstanceIdentifier", "creating"),
    "CreateDBInstanceReadReplica": (INSTANCE, "DBInstanceIdentifier", "creating"),
    "RestoreDBInstanceFromDBSnapshot": (INSTANCE, "DBInstanceIdentifier", "creating"),
    "RestoreDBInstanceToPointInTime": (INSTANCE, "TargetDBInstanceIdentifier", "creating"),
    "ModifyDBInstance": (INSTANCE, "DBInstanceIdentifier", "modifying"),
    "RebootDBInstance": (INSTANCE, "DBInstanceIdentifier", "rebooting"),
    "DeleteDBInstance": (INSTANCE, "DBInstanceIdentifier", "deleting"),
    "CreateDBCluster": (CLUSTER, "DBClusterIdentifier", "creating"),
    "RestoreDBClusterFromSnapshot": (CLUSTER, "DBClusterIdentifier", "creating"),
    "RestoreDBClusterToPointInTime": (CLUSTER, "DBClusterIdentifier", "creating"),
    "ModifyDBCluster": (CLUSTER, "DBClusterIdentifier", "modifying"),
    "DeleteDBCluster": (CLUSTER, "DBClusterIdentifier", "deleting"),
    "BacktrackDBCluster": (CLUSTER, "DBClusterIdentifier", "backtracking"),
    "CreateDBSnapshot": (SNAPSHOT, "DBSnapshotIdentifier", "creating"),
    "CopyDBSnapshot": (SNAPSHOT, "TargetDBSnapshotIdentifier", "creating"),
    "CreateDBClusterSnapshot": (CLUSTER_SNAPSHOT, "DBClusterSnapshotIdentifier", "creating"),
    "CopyDBClusterSnapshot": (CLUSTER_SNAPSHOT, "TargetDBClusterSnapshotIdentifier", "creating"),
}
_RENAMES = {"ModifyDBInstance": "NewDBInstanceIdentifier", "ModifyDBCluster": "NewDBClusterIdentifier"}
_DELETES = {"DeleteDBInstance", "DeleteDBCluster"}
_SNAPSHOT_DELETES = {"DeleteDBSnapshot": SNAPSHOT, "DeleteDBClusterSnapshot": CLUSTER_SNAPSHOT}
# taking a snapshot keeps its source ``backing-up``: snapshot operation -> (source kind, source parameter)
_BACKUP_SOURCES = {
    "CreateDBSnapshot": (INSTANCE, "DBInstanceIdentifier"),
    "CreateDBClusterSnapshot": (CLUSTER, "DBClusterIdentifier"),
}


@dataclass
class ApiFault:
    """Make ``operation`` raise a ClientError ``code`` (for ``identifier``, or any when None)."""

    operation: str
    identifier: str | None = None
    code: str = "Throttling"
    message: str = "Rate exceeded"
    times: int | None = None  # None = always
    raised: int = 0
    account: str | None = None  # None = in any account
    region: str | None = None  # None = in any region
    where: Callable[[Mapping[str, Any]], bool] | None = None  # only the calls whose parameters it accepts

    def matches(self, operation: str, params: dict[str, Any], scope: Scope | None = None) -> bool:
        if operation != self.operation or (self.times is not None and self.raised >= self.times):
            return False
        if not _in_scope(self.account, self.region, scope):
            return False
        if self.where is not None and not self.where(params):
            return False
        return self.identifier is None or self.identifier in _identifiers(params)


@dataclass
class TerminalStatus:
    """The resource ``operation`` produces for ``identifier`` ends in ``status`` (only calls ``where`` accepts)."""

    operation: str
    identifier: str | None  # None: whatever the operation makes
    status: str = "failed"
    times: int | None = 1
    applied: int = 0
    where: Callable[[Mapping[str, Any]], bool] | None = None
    account: str | None = None
    region: str | None = None


@dataclass
class _Timeline:
    status: str
    remaining: int
    final: str | None = None
    ghost: Any = None  # the deleted resource, still shown while ``deleting``
    until: float | None = None  # virtual second the in-between status ends (timed transitions)
    then: list[tuple[str, float]] = field(default_factory=list)  # later timed phases: (status, virtual second it ends)

    def advance(self, now: float) -> bool:
        """Move past the timed phases that have ended; True while a timed phase is still running."""
        while self.until is not None and now >= self.until and self.then:
            self.status, self.until = self.then.pop(0)
        return self.until is not None and now < self.until

    def ends_at(self) -> float | None:
        """Virtual second the last timed phase ends (None: counted in polls)."""
        return self.then[-1][1] if self.then else self.until


@dataclass
class LatencyModel:
    """In-between statuses for ``polls`` describe calls (or for timed durations), plus injected faults."""

    polls: int = 0
    backing_up_polls: int = 0
    api_faults: list[ApiFault] = field(default_factory=list)
    terminal_statuses: list[TerminalStatus] = field(default_factory=list)
    timing: OperationTiming | None = None
    now: Callable[[], float] | None = None
    default_scope: Scope | None = None  # the scope a call without one is about

    def __post_init__(self) -> None:
        self._lock = threading.RLock()
        self._timelines: dict[tuple[Scope | None, str, str], _Timeline] = {}

    # -- configuration -------------------------------------------------------------------------

    def fail_api(
        self,
        operation: str,
        identifier: str | None = None,
        *,
        code: str = "Throttling",
        message: str = "Rate exceeded",
        times: int | None = None,
        account: str | None = None,
        region: str | None = None,
        where: Callable[[Mapping[str, Any]], bool] | None = None,
    ) -> ApiFault:
        """Raise ``code`` from ``operation`` (for ``identifier``, in ``account``/``region``) ``times`` times, or
        always; ``where`` narrows it to the calls whose parameters it accepts."""
        fault = ApiFault(operation, identifier, code, message, times, account=account, region=region, where=where)
        with self._lock:
            self.api_faults.append(fault)
        return fault

    def end_status(
        self,
        operation: str,
        identifier: str | None,
        status: str = "failed",
        *,
        times: int | None = 1,
        where: Callable[[Mapping[str, Any]], bool] | None = None,
        account: str | None = None,
        region: str | None = None,
    ) -> None:
        """The resource ``operation`` produces for ``identifier`` ends ``status`` (after its in-between polls);
        ``where`` narrows it to the calls whose parameters it accepts, ``account``/``region`` to one scope."""
        with self._lock:
            self.terminal_statuses.append(
                TerminalStatus(operation, identifier, status, times, where=where, account=account, region=region)
            )

    def timed(self, timing: OperationTiming, now: Callable[[], float]) -> None:
        """Give each operation ``timing(operation, params)`` simulated seconds, measured on ``now()``.

        An operation the timing answers None for falls back to ``polls``. Taking a
        timed snapshot keeps its source ``backing-up`` for as long as the snapshot.
        """
        with self._lock:
            self.timing, self.now = timing, now

    def clear(self) -> None:
        """Forget faults and in-flight transitions (a fresh start for the next scenario)."""
        with self._lock:
            self.api_faults.clear()
            self.terminal_statuses.clear()
            self._timelines.clear()

    # -- hooks called for every RDS request ------------------------------------------------------

    def fault_for(self, operation: str, params: dict[str, Any], scope: Scope | None = None) -> ApiFault | None:
        with self._lock:
            for fault in self.api_faults:
                if fault.matches(operation, params, self._scope(scope)):
                    fault.raised += 1
                    return fault
        return None

    def after_success(
        self,
        operation: str,
        params: dict[str, Any],
        result: dict[str, Any],
        scope: Scope | None = None,
        timing: OperationTiming | None = None,
    ) -> None:
        """Start the transition a successful mutating call causes (``timing``: the scope's own, if it has one)."""
        scope = self._scope(scope)
        with self._lock:
            if operation in _SNAPSHOT_DELETES:
                self._timelines.pop((scope, _SNAPSHOT_DELETES[operation], str(params.get(_snapshot_param(operation)))), None)
                return
            if operation not in _TRANSITIONS:
                return
            kind, parameter, status = _TRANSITIONS[operation]
            identifier = str(params.get(parameter))
            new_name = params.get(_RENAMES.get(operation, ""))
            if new_name:
                self._timelines.pop((scope, kind, identifier), None)
                identifier, status = str(new_name), "renaming"
            ghost = None
            if operation in _DELETES:
                ghost = next(iter(result.values()), None)
                ghost = copy.copy(ghost) if ghost is not None else None
            phases = self._phases(operation, params, status, timing)
            until = phases[0][1] if phases else None
            terminal = self._terminal(operation, identifier, params, scope)
            self._start(scope, kind, identifier, status, self.polls, terminal, ghost, phases)
            if operation in _BACKUP_SOURCES and (self.backing_up_polls or until is not None):
                source_kind, source_parameter = _BACKUP_SOURCES[operation]
                backing_up = [("backing-up", until)] if until is not None else None
                self._start(scope, source_kind, str(params.get(source_parameter)), "backing-up", self.backing_up_polls,
                            phases=backing_up)

    def view(self, kind: str, identifier: str, scope: Scope | None = None) -> str | None:
        """Status to show for one resource in a describe result (counts as one poll), or None for the real one."""
        scope = self._scope(scope)
        with self._lock:
            timeline = self._timelines.get((scope, kind, identifier))
            if timeline is None:
                return None
            if timeline.until is not None:
                if timeline.advance(self._now()):
                    return timeline.status
            elif timeline.remaining > 0:
                timeline.remaining -= 1
                return timeline.status
            if timeline.final is not None:
                return timeline.final
            del self._timelines[(scope, kind, identifier)]
            if kind == CLUSTER and timeline.ghost is not None:
                self._forget_member_ghosts(scope, identifier)
            return None

    def peek(self, kind: str, identifier: str, scope: Scope | None = None) -> tuple[str | None, float | None]:
        """The status a describe would show now (None = the real one) and when a timed one ends; counts no poll."""
        with self._lock:
            timeline = self._timelines.get((self._scope(scope), kind, identifier))
            if timeline is None:
                return None, None
            if timeline.until is not None:
                if timeline.advance(self._now()):
                    return timeline.status, timeline.until
                return timeline.final, None
            if timeline.remaining > 0:
                return timeline.status, None
            return timeline.final, None

    def served_from(
        self, kind: str, identifier: str, usable: frozenset[str], scope: Scope | None = None
    ) -> float | None:
        """Virtual second from which the resource shows a ``usable`` status (None: only its real status tells).

        Timed phases are looked through: a restore that ends ``backing-up`` is usable from when ``creating`` ends.
        """
        with self._lock:
            timeline = self._timelines.get((self._scope(scope), kind, identifier))
            if timeline is None or timeline.until is None or not timeline.advance(self._now()):
                return None
            start = self._now()
            for status, ends in [(timeline.status, timeline.until), *timeline.then]:
                if status in usable:
                    return start
                start = ends
            return start if timeline.final is None else math.inf

    def busy(self, kind: str, identifier: str, scope: Scope | None = None) -> bool:
        """True while a transition of the resource is under way (a timed phase, or polls left); counts no poll."""
        with self._lock:
            timeline = self._timelines.get((self._scope(scope), kind, identifier))
            if timeline is None:
                return False
            if timeline.until is not None:
                return timeline.advance(self._now())
            return timeline.remaining > 0

    def settle(self) -> None:
        """End every transition in flight now, as if enough time had passed (terminal statuses stay)."""
        with self._lock:
            for key, timeline in list(self._timelines.items()):
                if timeline.final is None:
                    del self._timelines[key]
                    continue
                timeline.then.clear()
                timeline.remaining = 0
                timeline.until = None if timeline.until is None else -math.inf

    def in_phase(self, kind: str, status: str, scope: Scope | None = None) -> list[str]:
        """Identifiers of the scope's resources of ``kind`` now in the timed or counted phase ``status``."""
        scope = self._scope(scope)
        with self._lock:
            found = []
            for (timeline_scope, timeline_kind, name), timeline in list(self._timelines.items()):
                if timeline_scope != scope or timeline_kind != kind:
                    continue
                if timeline.until is not None:
                    if timeline.advance(self._now()) and timeline.status == status:
                        found.append(name)
                elif timeline.remaining > 0 and timeline.status == status:
                    found.append(name)
            return found

    def ghosts(self, kind: str, identifier: str | None, scope: Scope | None = None) -> list[Any]:
        """Deleted resources still shown as ``deleting`` (consumes one poll each)."""
        scope = self._scope(scope)
        with self._lock:
            found = []
            for (timeline_scope, timeline_kind, name), timeline in list(self._timelines.items()):
                if timeline_scope != scope or timeline_kind != kind or timeline.ghost is None:
                    continue
                if identifier and identifier != name:
                    continue
                status = self.view(kind, name, scope)
                if status is not None:
                    shown = copy.copy(timeline.ghost)
                    shown.status = status
                    found.append(shown)
            return found

    # -- internals ---------------------------------------------------------------------------------

    def _scope(self, scope: Scope | None) -> Scope | None:
        return scope if scope is not None else self.default_scope

    def _start(
        self,
        scope: Scope | None,
        kind: str,
        identifier: str,
        status: str,
        polls: int,
        final: str | None = None,
        ghost: Any = None,
        phases: list[tuple[str, float]] | None = None,
    ) -> None:
        if phases is not None:
            polls = 0  # timed: the phases say how long
            phases = [(phase_status, ends) for phase_status, ends in phases if ends > self._now()]
        key = (scope, kind, identifier)
        if polls <= 0 and final is None and not phases:
            self._timelines.pop(key, None)
            return
        if phases:
            (first_status, until), *then = phases
            self._timelines[key] = _Timeline(first_status, 0, final, ghost, until, then)
        else:
            self._timelines[key] = _Timeline(status, polls, final, ghost)

    def _phases(
        self, operation: str, params: Mapping[str, Any], status: str, timing_of: OperationTiming | None = None
    ) -> list[tuple[str, float]] | None:
        """The timed phases an operation goes through, as (status, virtual second it ends); None: count polls."""
        timing_of = timing_of if timing_of is not None and self.timing is not None else self.timing
        if timing_of is None:
            return None
        timing = timing_of(operation, params)
        if timing is None:
            return None
        steps = [(status, float(timing))] if isinstance(timing, (int, float)) else [(s, float(t)) for s, t in timing]
        now, phases = self._now(), []
        for phase_status, seconds in steps:
            now += max(0.0, seconds)
            phases.append((phase_status, now))
        return phases

    def _now(self) -> float:
        if self.now is None:
            raise RuntimeError("a timed latency model needs a clock: use LatencyModel.timed(timing, now)")
        return self.now()

    def _forget_member_ghosts(self, scope: Scope | None, cluster: str) -> None:
        # A cluster's deletion completes only after its members' deletions did.
        for key, timeline in list(self._timelines.items()):
            if key[0] == scope and key[1] == INSTANCE and getattr(timeline.ghost, "db_cluster_identifier", None) == cluster:
                del self._timelines[key]

    def _terminal(self, operation: str, identifier: str, params: Mapping[str, Any], scope: Scope | None) -> str | None:
        for rule in self.terminal_statuses:
            if not _in_scope(rule.account, rule.region, scope):
                continue
            if rule.operation == operation and rule.identifier in (None, identifier) and (rule.where is None or rule.where(params)):
                if rule.times is None or rule.applied < rule.times:
                    rule.applied += 1
                    return rule.status
        return None


def _in_scope(account: str | None, region: str | None, scope: Scope | None) -> bool:
    """A fault limited to an account or region applies only to calls in it (a call with no scope: the default)."""
    if account is None and region is None:
        return True
    if scope is None:
        return False
    return (account is None or account == scope[0]) and (region is None or region == scope[1])


def _identifiers(params: dict[str, Any]) -> set[str]:
    return {str(params[name]) for name in IDENTIFIER_PARAMETERS if params.get(name)}


def _snapshot_param(operation: str) -> str:
    return "DBSnapshotIdentifier" if operation == "DeleteDBSnapshot" else "DBClusterSnapshotIdentifier"
