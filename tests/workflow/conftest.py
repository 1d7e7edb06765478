"""Fixtures for running workflows in the local emulator."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any
from pathlib import Path

import pytest
from support.state_coverage import PLUGIN_NAME, EnteredStates

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


@pytest.fixture(scope="module")
def slack() -> Iterator[Any]:
    """A Slack webhook server on 127.0.0.1 for the module (the modules that share one emulator and deployment)."""
    from support.slack import SlackListener

    with SlackListener() as listener:
        yield listener


@pytest.fixture(scope="module")
def verify(emulator: Emulator) -> Any:
    """Verify-hook functions in the module's emulator (a module that asks for it gives ``emulator`` module scope)."""
    from support.restore_runs import serve_verify_functions

    return serve_verify_functions(emulator)


@pytest.fixture
def rds_made_by_the_test_forgotten() -> Iterator[None]:
    """For modules that share one emulator: what a test made in RDS is dropped when it ends
    (``pytestmark = pytest.mark.usefixtures("rds_made_by_the_test_forgotten")``)."""
    from support.housekeeping import rds_made_here_forgotten

    with rds_made_here_forgotten():
        yield


@pytest.fixture
def real_template() -> Path:
    """The repository's template.yaml."""
    assert REAL_TEMPLATE.is_file(), f"{REAL_TEMPLATE} is missing"
    return REAL_TEMPLATE


@pytest.fixture
def create_instance(emulator: Emulator) -> Callable[..., str]:
    """Create a small PostgreSQL instance in the emulator, settled (it existed before the test's calls)."""

    def create(identifier: str, **settings: object) -> str:
        with emulator.settled():
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


# -- which workflow states the test session entered --------------------------------------------------


def _definition_of(deployment: object, execution_arn: str) -> Path | None:
    # arn:aws:states:<region>:<account>:execution:<state machine name>:<execution name>
    machine_name = execution_arn.split(":")[6]
    for logical_id, machine_arn in deployment.state_machines().items():  # type: ignore[attr-defined]
        if machine_arn.split(":")[-1] == machine_name:
            uri = deployment.template.resources[logical_id].get("Properties", {}).get("DefinitionUri")  # type: ignore[attr-defined]
            return deployment.template.directory / uri if isinstance(uri, str) else None  # type: ignore[attr-defined]
    return None


@pytest.fixture(scope="session", autouse=True)
def entered_states(pytestconfig: pytest.Config) -> Iterator[EnteredStates]:
    """Every ExecutionResult of this process feeds the state coverage check (tests/support/state_coverage.py)."""
    from trapheus_local.engine import Deployment

    seen: EnteredStates = pytestconfig.pluginmanager.get_plugin(PLUGIN_NAME).entered
    original_wait = Deployment.wait

    def wait(self: Deployment, execution_arn: str, **kwargs: object) -> object:
        result = original_wait(self, execution_arn, **kwargs)  # type: ignore[arg-type]
        seen.record(_definition_of(self, execution_arn), result.entered_states)
        self.nested(result)  # the runs it started (a recovery's phases) are waited for, so recorded, too
        return result

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(Deployment, "wait", wait)
        yield seen
