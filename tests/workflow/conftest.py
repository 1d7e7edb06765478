"""Fixtures for running workflows in the local emulator."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from trapheus_local import Emulator

REAL_TEMPLATE = Path(__file__).resolve().parents[2] / "template.yaml"


def _reset_cached_clients() -> None:
    # The repository's handlers cache boto3 clients; start each emulator with none.
    from trapheus import clients

    clients.reset()


@pytest.fixture
def emulator() -> Iterator[Emulator]:
    """moto with the trapheus shims, a simulated clock and in-process handlers; latency off."""
    _reset_cached_clients()
    with Emulator() as aws:
        yield aws
    _reset_cached_clients()


@pytest.fixture
def real_template() -> Path:
    """The repository's template.yaml (tests that need it skip until it exists)."""
    if not REAL_TEMPLATE.is_file():
        pytest.skip("template.yaml not written yet")
    return REAL_TEMPLATE


@pytest.fixture
def create_instance(emulator: Emulator) -> Callable[..., str]:
    """Create a small PostgreSQL instance in the emulator (before any latency is configured)."""

    def create(identifier: str, **settings: object) -> str:
        emulator.client("rds").create_db_instance(
            DBInstanceIdentifier=identifier,
            DBInstanceClass="db.t3.micro",
            Engine="postgres",
            MasterUsername="trapheus",
            MasterUserPassword="not-a-secret-1",
            AllocatedStorage=20,
            **settings,
        )
        return identifier

    return create
