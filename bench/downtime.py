"""Client-visible downtime, measured on the emulator's virtual clock.

A client reaches a database through its identifier's endpoint. The identifier
is *served* while it resolves to a database RDS reports ``available`` (for a
cluster: the cluster is ``available`` and so is at least one of its members).

Virtual time only moves when the clock advances (Wait states, retry back-off);
Lambda handlers, and so every RDS call, run at an instant. So the meter looks at
the identifier each time the clock is about to advance, and splits the interval
where a timed in-between status (``renaming``, ``creating``...) ends inside it:
the measure is exact, not sampled at the poll interval.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from moto.rds.models import rds_backends
from trapheus_local.clock import VirtualClock
from trapheus_local.latency import CLUSTER, INSTANCE, LatencyModel
from trapheus_local.rds_timing import USABLE_STATUSES

AVAILABLE = "available"
NEVER = math.inf


class ObservedClock(VirtualClock):
    """A virtual clock that tells its observers about every advance before it happens."""

    def __init__(self) -> None:
        super().__init__()
        self.observers: list[Callable[[float, float], None]] = []

    def advance(self, seconds: float) -> None:
        start = self.elapsed
        for observe in list(self.observers):
            observe(start, max(0.0, float(seconds)))
        super().advance(seconds)


@dataclass
class DowntimeMeter:
    """Seconds during which ``identifier`` was not served, while attached to a clock."""

    account_id: str
    region: str
    latency: LatencyModel
    identifier: str
    is_cluster: bool
    unserved_seconds: float = 0.0
    observed_seconds: float = 0.0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def observe(self, start: float, seconds: float) -> None:
        """The clock is about to move from ``start`` by ``seconds``; nothing else changes RDS meanwhile."""
        unserved = unserved_part(start, seconds, self.available_from())
        with self._lock:
            self.unserved_seconds += unserved
            self.observed_seconds += seconds

    def available_from(self) -> float:
        """Virtual second from which the identifier is served (now if it is; ``NEVER`` if nothing will serve it)."""
        backend = rds_backends[self.account_id][self.region]
        if not self.is_cluster:
            instance = backend.databases.get(self.identifier)
            return NEVER if instance is None else self._resource_from(INSTANCE, self.identifier, instance.status)
        cluster = backend.clusters.get(self.identifier)
        if cluster is None:
            return NEVER
        members = [
            self._resource_from(INSTANCE, name, instance.status)
            for name, instance in list(backend.databases.items())
            if getattr(instance, "db_cluster_identifier", None) == self.identifier
        ]
        return max(self._resource_from(CLUSTER, self.identifier, cluster.status), min(members, default=NEVER))

    def _resource_from(self, kind: str, identifier: str, real_status: str) -> float:
        served_from = self.latency.served_from(kind, identifier, USABLE_STATUSES)
        if served_from is not None:  # a timed transition: served once its last non-usable phase ends
            return served_from if real_status == AVAILABLE else NEVER
        shown, _ = self.latency.peek(kind, identifier)
        now = self.latency.now() if self.latency.now else 0.0
        status = shown if shown is not None else real_status  # a terminal status, or one counted in polls
        return now if status in USABLE_STATUSES else NEVER


def unserved_part(start: float, seconds: float, available_from: float) -> float:
    """How much of ``[start, start + seconds)`` lies before ``available_from``."""
    return min(seconds, max(0.0, available_from - start))
