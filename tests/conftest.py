"""Shared fixtures: fake credentials, a moto mock per test, fresh clients."""

from __future__ import annotations

import atexit
import gc
import os

import pytest

REGION = "us-east-1"


def pytest_configure(config: pytest.Config) -> None:
    from support import state_coverage, strategy_matrix

    # at exit, the interpreter's last collections would walk every object the emulators left (seconds per worker)
    atexit.register(gc.freeze)

    config.addinivalue_line("markers", f"{state_coverage.MARK}: runs after every other test of the session")
    config.pluginmanager.register(state_coverage.StateCoverage(config), state_coverage.PLUGIN_NAME)
    if not hasattr(config, "workerinput"):  # a worker's terminal summary is never shown
        config.pluginmanager.register(strategy_matrix.MatrixReport(), strategy_matrix.PLUGIN_NAME)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests pinned to one worker together (``xdist_group``: long and sharing costly fixtures) start first,
    so under ``--dist loadgroup`` the other workers share everything else while they run."""
    items.sort(key=lambda item: item.get_closest_marker("xdist_group") is None)


@pytest.fixture(scope="session", autouse=True)
def _moto_work_done_once():
    """Every test, not only those in the local engine, parses each ASL file and service model once per process."""
    from trapheus_local import speedups

    with speedups.installed():
        yield


@pytest.fixture(autouse=True)
def _fake_aws_environment(monkeypatch):
    """No test can reach a real account: fake credentials, fixed region, no endpoint override."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_SECURITY_TOKEN", "testing")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_REGION", REGION)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.setenv("POWERTOOLS_SERVICE_NAME", "trapheus-test")
    monkeypatch.setenv("POWERTOOLS_LOG_LEVEL", os.environ.get("POWERTOOLS_LOG_LEVEL", "WARNING"))


@pytest.fixture
def aws():
    """Start moto, then hand out fresh clients (never created before the mock)."""
    from moto import mock_aws

    from trapheus import clients

    clients.reset()
    with mock_aws():
        yield clients
    clients.reset()


@pytest.fixture
def shimmed_aws():
    """moto with the known deviations from AWS shimmed (trapheus_local.moto_shims)."""
    from moto import mock_aws

    from trapheus import clients
    from trapheus_local import moto_shims

    clients.reset()
    with mock_aws(), moto_shims.installed():
        yield clients
    clients.reset()


class StrictAws:
    """What ``strict_aws`` hands out: the clients handlers use, and the emulator's notion of time."""

    def __init__(self, emulator) -> None:
        from trapheus import clients

        self.emulator = emulator
        self.client = clients.client

    def settled(self):
        """RDS operations inside finish at once: the world as it was before the run."""
        return self.emulator.settled()

    def settle(self) -> None:
        """Time passes: every RDS operation in flight finishes (what the workflow's Wait states are for)."""
        self.emulator.settle()


@pytest.fixture
def strict_aws(monkeypatch):
    """moto with the shims and the strict RDS model, as the local engine runs it (no stack deployed).

    The environment is a stack's that may restore the sample databases (their monitoring role is passable).
    """
    from trapheus import clients
    from trapheus_local import Emulator
    from trapheus_local.samples import MONITORING_ROLE_ARN

    monkeypatch.setenv("PASSABLE_ROLE_ARNS", MONITORING_ROLE_ARN)
    clients.reset()
    with Emulator() as emulator:
        yield StrictAws(emulator)
    clients.reset()
