"""Keep the databases of a long-lived emulator down to those of the test running.

A test module that shares one emulator between its tests (one deployment, databases of their own per test)
would otherwise pile up every test's databases and snapshots: each later describe, listing and quota check
then reads them all, and a module's run grew with the square of its tests. The DB instances, clusters and
their snapshots a test made are dropped from the emulated RDS when it ends, straight from moto's tables:
housekeeping, not an RDS call, so none of RDS's rules (final snapshots, deletion protection) apply to it.

What else a test made stays: its network (VPC, subnets, security groups), DB subnet, parameter and option
groups, secrets, custom endpoints (trapheus_local.cluster_endpoints) and moto's RDS event list. Each is
small, and no answer a later test reads lists them all.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, MutableMapping
from typing import Any


def _tables() -> list[MutableMapping[str, Any]]:
    """moto's RDS tables of every account and region that exists (none is created by looking)."""
    from moto.rds.models import rds_backends

    found = []
    for regions in dict.values(rds_backends):
        for backend in dict.values(regions):
            found += [backend.databases, backend.clusters, backend.database_snapshots, backend.cluster_snapshots]
    return found


def _entries() -> set[tuple[int, str]]:
    return {(id(table), key) for table in _tables() for key in list(table)}


@contextlib.contextmanager
def rds_made_here_forgotten() -> Iterator[None]:
    """Databases and snapshots created inside the block are gone from the emulated RDS after it."""
    before = _entries()
    try:
        yield
    finally:
        for table in _tables():
            for key in [key for key in list(table) if (id(table), key) not in before]:
                table.pop(key, None)
