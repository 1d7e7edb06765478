"""Every state of every workflow is entered by some test execution: what each test process saw, and the verdict.

Each process records the states its executions entered (tests/workflow/conftest.py feeds
:attr:`StateCoverage.entered`). In one process the verdict is the test
tests/workflow/test_state_coverage.py, ordered after every other test. Under pytest-xdist no
worker sees the other workers' executions, so a worker leaves that test out, hands what it saw
to the controller (``workeroutput``), and the controller, once every worker is done, gives the
verdict and reports it under the test's own id: a state no test entered still fails the run.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
STATE_MACHINE_DIRECTORY = ROOT / "statemachine"
WORKFLOW_TESTS = ROOT / "tests" / "workflow"
MARK = "after_all_workflows"
PLUGIN_NAME = "trapheus-state-coverage"
WORKER_OUTPUT = "trapheus_state_coverage"


def state_names(states: dict[str, Any]) -> Iterator[str]:
    """Every state name, including the states of Parallel branches and Map iterators."""
    for name, state in states.items():
        yield name
        for branch in state.get("Branches", []):
            yield from state_names(branch["States"])
        processor = state.get("ItemProcessor") or state.get("Iterator")
        if processor:
            yield from state_names(processor["States"])


def definitions() -> list[Path]:
    return sorted(STATE_MACHINE_DIRECTORY.glob("*.asl.json"))


class EnteredStates:
    """State names entered by the executions seen so far, per ASL file (resolved path)."""

    def __init__(self) -> None:
        self.by_definition: dict[str, set[str]] = {}
        self.executions = 0

    def record(self, definition: Path | None, states: Sequence[str]) -> None:
        self.executions += 1
        if definition is not None:
            self.by_definition.setdefault(str(definition.resolve()), set()).update(states)

    def entered(self, definition: Path) -> set[str]:
        return self.by_definition.get(str(definition.resolve()), set())

    def to_json(self) -> dict[str, Any]:
        return {"executions": self.executions, "states": {path: sorted(names) for path, names in self.by_definition.items()}}

    def merge(self, seen: dict[str, Any]) -> None:
        self.executions += seen["executions"]
        for path, names in seen["states"].items():
            self.by_definition.setdefault(path, set()).update(names)

    def never_entered(self) -> dict[str, list[str]]:
        """For each workflow with a state no execution entered: those states, in definition order."""
        missing = {}
        for path in definitions():
            declared = state_names(json.loads(path.read_text())["States"])
            names = [name for name in declared if name not in self.entered(path)]
            if names:
                missing[path.name] = names
        return missing

    def verdict(self) -> str | None:
        """Why the check fails, or None when every state was entered."""
        if not definitions():
            return "no statemachine/*.asl.json found"
        missing = self.never_entered()
        if missing:
            return f"states no test entered ({self.executions} executions seen): {missing}"
        return None


def skip_reason(items: Sequence[pytest.Item], config: pytest.Config) -> str | None:
    """The check means something only when the session ran every workflow test module, unfiltered."""
    modules = {p.resolve() for p in WORKFLOW_TESTS.glob("test_*.py")}
    selected = {Path(str(item.fspath)).resolve() for item in items}
    checks = {Path(str(item.fspath)).resolve() for item in items if item.get_closest_marker(MARK)}
    if not modules - checks <= selected or config.getoption("keyword") or config.getoption("markexpr"):
        return "needs every tests/workflow module in the same session (run tests/workflow/ or the whole suite)"
    return None


class StateCoverage:
    """The pytest plugin: orders the check last, and under xdist moves it from the workers to the controller."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.entered = EnteredStates()
        self.is_worker = hasattr(config, "workerinput")
        self.check: dict[str, Any] | None = None  # the check a worker left out, for the controller

    @pytest.hookimpl(trylast=True)
    def pytest_collection_modifyitems(self, session: pytest.Session, config: pytest.Config, items: list[pytest.Item]) -> None:
        checks = [item for item in items if item.get_closest_marker(MARK)]
        items[:] = [item for item in items if item not in checks] + checks
        if self.is_worker and checks:
            (check,) = checks
            self.check = {"nodeid": check.nodeid, "location": list(check.location), "skip": skip_reason(items, config)}
            items.remove(check)

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        if self.is_worker:
            self.config.workeroutput[WORKER_OUTPUT] = {"entered": self.entered.to_json(), "check": self.check}  # type: ignore[attr-defined]

    @pytest.hookimpl(optionalhook=True)
    def pytest_testnodedown(self, node: Any, error: Any) -> None:
        output = getattr(node, "workeroutput", {}).get(WORKER_OUTPUT)
        if output:
            self.entered.merge(output["entered"])
            self.check = self.check or output["check"]

    @pytest.hookimpl(wrapper=True)
    def pytest_runtestloop(self, session: pytest.Session) -> Any:
        result = yield
        if not self.is_worker and self.check is not None:
            self._report(self.check)
        return result

    def _report(self, check: dict[str, Any]) -> None:
        nodeid, location = check["nodeid"], tuple(check["location"])
        hook = self.config.hook
        hook.pytest_runtest_logstart(nodeid=nodeid, location=location)
        now = time.time()
        if check["skip"]:
            outcome, longrepr = "skipped", (str(location[0]), (location[1] or 0) + 1, f"Skipped: {check['skip']}")
        else:
            failure = self.entered.verdict()
            outcome, longrepr = ("failed", failure) if failure else ("passed", None)
        report = pytest.TestReport(nodeid, location, {}, outcome, longrepr, "call", start=now, stop=now)  # type: ignore[arg-type]
        hook.pytest_runtest_logreport(report=report)
        hook.pytest_runtest_logfinish(nodeid=nodeid, location=location)
