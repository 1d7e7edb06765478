"""Every state of every workflow is entered by at least one test execution.

The executions are the ones the rest of the session ran (tests/workflow/conftest.py
records the states each ExecutionResult entered); this test runs after all of them.
Under pytest-xdist the controller gives this verdict once every worker is done
(tests/support/state_coverage.py). A state that no test enters is either dead or
untested: both need attention.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from support.state_coverage import EnteredStates, skip_reason, state_names

RESTORE = Path(__file__).resolve().parents[2] / "statemachine" / "restore.asl.json"


def test_state_names_include_parallel_branches():
    nested = {"A": {"Type": "Parallel", "Branches": [{"States": {"B": {"Type": "Pass"}}}]}, "C": {"Type": "Map", "ItemProcessor": {"States": {"D": {}}}}}
    assert list(state_names(nested)) == ["A", "B", "C", "D"]


def test_the_check_fails_for_a_state_no_execution_entered():
    every_state = list(state_names(json.loads(RESTORE.read_text())["States"]))
    seen = EnteredStates()
    seen.record(RESTORE, every_state[1:])

    assert f"'restore.asl.json': ['{every_state[0]}']" in (seen.verdict() or "")

    seen.record(RESTORE, every_state[:1])
    assert "restore.asl.json" not in seen.never_entered()


def test_what_each_worker_saw_adds_up():
    first, second, together = EnteredStates(), EnteredStates(), EnteredStates()
    first.record(RESTORE, ["A", "B"])
    second.record(RESTORE, ["B", "C"])
    together.merge(first.to_json())
    together.merge(second.to_json())
    assert (together.entered(RESTORE), together.executions) == ({"A", "B", "C"}, 2)


@pytest.mark.after_all_workflows
def test_every_state_of_every_workflow_is_entered(request, entered_states):
    reason = skip_reason(request.session.items, request.config)
    # CI runs the whole suite: a partial selection there is a broken run, not a reason to skip
    assert not (reason and os.environ.get("CI") == "true"), reason
    if reason:
        pytest.skip(reason)
    failure = entered_states.verdict()
    assert failure is None, failure
