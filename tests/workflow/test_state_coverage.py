"""Every state of every workflow is entered by at least one test execution.

The executions are the ones the rest of the session ran (tests/workflow/conftest.py
records the states each ExecutionResult entered); this test runs after all of them.
A state that no test enters is either dead or untested: both need attention.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

# the end-to-end tests whose executions this check relies on: every workflow test module
WORKFLOW_TESTS = sorted(p.resolve() for p in Path(__file__).parent.glob("test_*.py") if p.name != Path(__file__).name)
STATE_MACHINE_DIRECTORY = Path(__file__).resolve().parents[2] / "statemachine"


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


def test_state_names_include_parallel_branches():
    nested = {"A": {"Type": "Parallel", "Branches": [{"States": {"B": {"Type": "Pass"}}}]}, "C": {"Type": "Map", "ItemProcessor": {"States": {"D": {}}}}}
    assert list(state_names(nested)) == ["A", "B", "C", "D"]


@pytest.mark.after_all_workflows
def test_every_state_of_every_workflow_is_entered(request, entered_states):
    selected = {Path(str(item.fspath)).resolve() for item in request.session.items}
    if not set(WORKFLOW_TESTS) <= selected or request.config.getoption("keyword") or request.config.getoption("markexpr"):
        pytest.skip("needs every tests/workflow module in the same session (run tests/workflow/ or the whole suite)")
    assert definitions(), "no statemachine/*.asl.json found"
    never_entered = {}
    for path in definitions():
        declared = list(state_names(json.loads(path.read_text())["States"]))
        missing = [name for name in declared if name not in entered_states.entered(path)]
        if missing:
            never_entered[path.name] = missing
    assert not never_entered, f"states no test entered ({entered_states.executions} executions seen): {never_entered}"
