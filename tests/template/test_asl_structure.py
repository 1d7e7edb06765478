"""Structural rules every statemachine/*.asl.json must keep (see shared design: traps to avoid)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from template_support import REPO, asl_files, definition_path, load_template, state_machines, substitutions_in, wired_state_machines

FILES = asl_files()
if FILES:
    parametrize_files = pytest.mark.parametrize("asl_file", FILES, ids=[f.name for f in FILES])
else:  # skipped only while no ASL file exists yet
    parametrize_files = pytest.mark.parametrize(
        "asl_file", [pytest.param(None, marks=pytest.mark.skip(reason="no statemachine/*.asl.json yet"))]
    )

FORBIDDEN_RETRY_ERRORS = {"States.ALL", "States.TaskFailed"}
TERMINAL_TYPES = {"Succeed", "Fail"}


@dataclass
class Scope:
    """One StartAt/States graph: the top level, a Parallel branch or a Map's processor."""

    where: str
    start: str
    states: dict[str, dict]
    edges: dict[str, set[str]] = field(default_factory=dict)
    catch_edges: dict[str, set[str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for name, state in self.states.items():
            self.edges[name] = set(normal_targets(state))
            self.catch_edges[name] = {c["Next"] for c in state.get("Catch", [])}

    def successors(self, name: str, with_catch: bool = True) -> set[str]:
        found = set(self.edges.get(name, ()))
        if with_catch:
            found |= self.catch_edges.get(name, set())
        return {target for target in found if target in self.states}

    def reachable(self, starts: set[str], with_catch: bool = True) -> set[str]:
        seen: set[str] = set()
        todo = list(starts)
        while todo:
            name = todo.pop()
            if name in seen:
                continue
            seen.add(name)
            todo.extend(self.successors(name, with_catch))
        return seen


def normal_targets(state: dict) -> Iterator[str]:
    if "Next" in state:
        yield state["Next"]
    if state.get("Type") == "Choice":
        for rule in state.get("Choices", []):
            yield rule["Next"]
        if "Default" in state:
            yield state["Default"]


def is_terminal(state: dict) -> bool:
    return state["Type"] in TERMINAL_TYPES or state.get("End") is True


def scopes(definition: dict, where: str = "") -> Iterator[Scope]:
    yield Scope(where or "top level", definition["StartAt"], definition["States"])
    for name, state in definition["States"].items():
        for i, branch in enumerate(state.get("Branches", [])):
            yield from scopes(branch, f"{where}{name} branch {i}/")
        for key in ("ItemProcessor", "Iterator"):
            if key in state:
                yield from scopes(state[key], f"{where}{name} {key}/")


def load(asl_file: Path) -> dict:
    return json.loads(asl_file.read_text())


def strongly_connected(scope: Scope) -> list[set[str]]:
    """Tarjan's algorithm over all edges (Catch included)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[set[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for succ in scope.successors(node):
            if succ not in index:
                visit(succ)
                low[node] = min(low[node], low[succ])
            elif succ in on_stack:
                low[node] = min(low[node], index[succ])
        if low[node] == index[node]:
            component = set()
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.add(member)
                if member == node:
                    break
            components.append(component)

    for node in scope.states:
        if node not in index:
            visit(node)
    return components


def transition_problems(definition: dict) -> list[str]:
    problems = []
    for scope in scopes(definition):
        for name, state in scope.states.items():
            missing = (scope.edges[name] | scope.catch_edges[name]) - set(scope.states)
            if missing:
                problems.append(f"{scope.where}: {name!r} goes to unknown {sorted(missing)}")
            if not scope.edges[name] and not is_terminal(state):
                problems.append(f"{scope.where}: {name!r} leads nowhere")
    return problems


def choice_problems(definition: dict) -> list[str]:
    return [
        f"{scope.where}: choice {name!r} has no Default"
        for scope in scopes(definition)
        for name, state in scope.states.items()
        if state["Type"] == "Choice" and "Default" not in state
    ]


def reachability_problems(definition: dict) -> list[str]:
    problems = []
    for scope in scopes(definition):
        unreachable = set(scope.states) - scope.reachable({scope.start})
        if unreachable:
            problems.append(f"{scope.where}: unreachable {sorted(unreachable)}")
    return problems


def retry_problems(definition: dict) -> list[str]:
    return [
        f"{scope.where}: {name!r} retries {sorted(set(retry['ErrorEquals']) & FORBIDDEN_RETRY_ERRORS)}"
        for scope in scopes(definition)
        for name, state in scope.states.items()
        for retry in state.get("Retry", [])
        if set(retry["ErrorEquals"]) & FORBIDDEN_RETRY_ERRORS
    ]


def poll_loop_problems(definition: dict) -> list[str]:
    """A Wait inside a cycle needs a Choice in that cycle and a way out of it that reaches a Fail state."""
    problems = []
    for scope in scopes(definition):
        fails = {name for name, state in scope.states.items() if state["Type"] == "Fail"}
        for component in strongly_connected(scope):
            looping = len(component) > 1 or any(name in scope.successors(name) for name in component)
            if not looping or not any(scope.states[name]["Type"] == "Wait" for name in component):
                continue
            if not any(scope.states[name]["Type"] == "Choice" for name in component):
                problems.append(f"{scope.where}: poll loop {sorted(component)} has no Choice to stop it")
            exits = {succ for name in component for succ in scope.successors(name)} - component
            if not fails & scope.reachable(exits):
                problems.append(f"{scope.where}: poll loop {sorted(component)} has no way out to a Fail state")
    return problems


def failure_path_problems(definition: dict) -> list[str]:
    """A terminal reached from failure handling must be a Fail state, so a failed run never shows SUCCEEDED.

    Failure handling starts at every Catch target (except a Catch that just continues
    where the state would have gone anyway, e.g. an export failure that must not stop
    the run). The normal path may not enter failure handling, and a terminal off the
    normal path that failure handling reaches must be a Fail state - whether failure
    handling was entered by a Catch or by a Choice such as "did the restore fail?".
    Failure handling that rejoins the normal path before its end is taken as a
    recovery (an alerted export failure does exactly that); the end-to-end tests
    check what each failure really ends as.
    """
    problems = []
    # Only the top level ends the execution; a branch of a Parallel state (say, one
    # alert whose failure is swallowed) may end in a Pass.
    for scope in list(scopes(definition))[:1]:
        handlers = {
            catch["Next"]
            for state in scope.states.values()
            for catch in state.get("Catch", [])
            if catch["Next"] != state.get("Next")
        }
        normal: set[str] = set()
        todo = [scope.start] if scope.start not in handlers else []
        while todo:
            name = todo.pop()
            if name in normal:
                continue
            normal.add(name)
            todo.extend(succ for succ in scope.successors(name, with_catch=False) if succ not in handlers)
        for name in sorted(scope.reachable(handlers)):
            state = scope.states[name]
            if is_terminal(state) and name not in normal and state["Type"] != "Fail":
                problems.append(f"{scope.where}: failure path ends in {state['Type']} {name!r}")
    return problems


@parametrize_files
def test_file_is_valid_json_with_states(asl_file):
    definition = load(asl_file)
    assert isinstance(definition.get("States"), dict) and definition["States"]
    assert definition["StartAt"] in definition["States"]


@parametrize_files
def test_every_transition_target_exists_and_every_state_continues_or_ends(asl_file):
    assert transition_problems(load(asl_file)) == []


@parametrize_files
def test_every_choice_has_a_default(asl_file):
    assert choice_problems(load(asl_file)) == []


@parametrize_files
def test_every_state_is_reachable(asl_file):
    assert reachability_problems(load(asl_file)) == []


@parametrize_files
def test_only_transient_errors_are_retried(asl_file):
    assert retry_problems(load(asl_file)) == []


@parametrize_files
def test_every_poll_loop_is_bounded_and_can_fail(asl_file):
    assert poll_loop_problems(load(asl_file)) == []


@parametrize_files
def test_failure_paths_end_in_fail(asl_file):
    definition = load(asl_file)
    assert failure_path_problems(definition) == []
    assert any(state["Type"] == "Fail" for state in definition["States"].values()), "no Fail state at all"


@parametrize_files
def test_substitutions_match_the_template(asl_file):
    machines = wired_state_machines()
    assert asl_file.resolve() in machines, f"{asl_file.relative_to(REPO)} is not wired into template.yaml or dr/template.yaml"
    declared = machines[asl_file.resolve()][2]["Properties"].get("DefinitionSubstitutions", {})
    used = substitutions_in(asl_file.read_text())
    assert used - set(declared) == set(), "used in the ASL but not defined in DefinitionSubstitutions"
    assert set(declared) - used == set(), "defined in DefinitionSubstitutions but never used by the ASL"


def test_every_state_machine_in_the_template_has_its_definition_file():
    for name, machine in state_machines(load_template()).items():
        path = definition_path(machine)
        if path is not None and not path.exists():
            pytest.skip(f"{path.relative_to(REPO)} not written yet")
        assert path is None or path.name.endswith(".asl.json"), name


# Each rule must be able to fail: a small broken definition trips it, a sound one does not.

SOUND = {
    "StartAt": "Start",
    "States": {
        "Start": {"Type": "Task", "Resource": "x", "Next": "Wait",
                  "Retry": [{"ErrorEquals": ["Lambda.ServiceException"], "MaxAttempts": 2}],
                  "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.failure", "Next": "Alert"}]},
        "Wait": {"Type": "Wait", "Seconds": 1, "Next": "Check"},
        "Check": {"Type": "Task", "Resource": "x", "Next": "Done?"},
        "Done?": {"Type": "Choice", "Default": "Wait", "Choices": [
            {"Variable": "$.s", "StringEquals": "done", "Next": "Export"},
            {"Variable": "$.s", "StringEquals": "failed", "Next": "Alert"}]},
        "Export": {"Type": "Task", "Resource": "x", "Next": "Ok",
                   "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.exportFailure", "Next": "Ok"}]},
        "Ok": {"Type": "Succeed"},
        "Alert": {"Type": "Task", "Resource": "x", "Next": "Failed"},
        "Failed": {"Type": "Fail", "Error": "E"},
    },
}  # fmt: skip


def broken(**changes: dict) -> dict:
    definition = json.loads(json.dumps(SOUND))
    for name, state in changes.items():
        if state is None:
            definition["States"].pop(name)
        else:
            definition["States"][name] = state
    return definition


def test_the_sound_definition_passes_every_rule():
    for check in (transition_problems, choice_problems, reachability_problems, retry_problems,
                  poll_loop_problems, failure_path_problems):  # fmt: skip
        assert check(SOUND) == [], check.__name__


def test_rules_flag_broken_definitions():
    assert transition_problems(broken(Ok={"Type": "Pass", "Next": "Nowhere"}))
    no_default = broken()
    no_default["States"]["Done?"].pop("Default")
    assert choice_problems(no_default)
    assert reachability_problems(broken(Orphan={"Type": "Succeed"}))
    assert retry_problems(broken(Check={"Type": "Task", "Resource": "x", "Next": "Done?",
                                        "Retry": [{"ErrorEquals": ["States.ALL"]}]}))  # fmt: skip
    success_only = broken()
    success_only["States"]["Done?"]["Choices"].pop()
    success_only["States"]["Start"].pop("Catch")
    success_only["States"]["Alert"] = {"Type": "Pass", "End": True}
    assert poll_loop_problems(success_only)
    assert failure_path_problems(broken(Alert={"Type": "Pass", "End": True}))
