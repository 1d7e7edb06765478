"""A workflow definition (Amazon States Language) as a graph of states and labelled edges.

The Mermaid text and the Graphviz picture are drawn from this one model, so they
always agree on which edges exist and what they say.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any

LABEL_LIMIT = 60


class EdgeKind(str, Enum):
    NEXT = "next"
    CHOICE = "choice"
    DEFAULT = "default"
    CATCH = "catch"
    END = "end"


@dataclass(frozen=True)
class State:
    name: str
    type: str
    retries: bool
    branches: tuple[Workflow, ...] = ()

    @property
    def terminal(self) -> bool:
        return self.type in ("Succeed", "Fail")


@dataclass(frozen=True)
class Edge:
    source: str
    target: str  # a state name, or END for the end of the workflow
    kind: EdgeKind
    label: str = ""


END = "(end)"


@dataclass(frozen=True)
class Workflow:
    start_at: str
    states: tuple[State, ...]
    edges: tuple[Edge, ...]

    def all_states(self) -> list[State]:
        """Every state, including those inside Parallel branches and Map processors."""
        found: list[State] = []
        for state in self.states:
            found.append(state)
            for branch in state.branches:
                found.extend(branch.all_states())
        return found


def parse_workflow(definition: Mapping[str, Any], *, nested: bool = False) -> Workflow:
    """Build the graph of one state machine (or one branch of it)."""
    states: list[State] = []
    edges: list[Edge] = []
    for name, body in definition["States"].items():
        kind = body["Type"]
        branches = tuple(parse_workflow(branch, nested=True) for branch in _branches_of(body))
        states.append(State(name=name, type=kind, retries=bool(body.get("Retry")), branches=branches))
        edges.extend(_edges_of(name, body, nested=nested))
    return Workflow(start_at=definition["StartAt"], states=tuple(states), edges=tuple(edges))


def _branches_of(body: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    if body["Type"] == "Parallel":
        return list(body.get("Branches", []))
    for key in ("ItemProcessor", "Iterator"):
        if key in body:
            return [body[key]]
    return []


def _edges_of(name: str, body: Mapping[str, Any], *, nested: bool) -> list[Edge]:
    edges: list[Edge] = []
    for rule in body.get("Choices", []):
        edges.append(Edge(name, rule["Next"], EdgeKind.CHOICE, _shorten(describe_rule(rule))))
    if "Default" in body:
        edges.append(Edge(name, body["Default"], EdgeKind.DEFAULT, "otherwise"))
    if "Next" in body:
        edges.append(Edge(name, body["Next"], EdgeKind.NEXT))
    for catcher in body.get("Catch", []):
        edges.append(Edge(name, catcher["Next"], EdgeKind.CATCH, _shorten(", ".join(catcher.get("ErrorEquals", [])))))
    # the end of a branch is implied by the Parallel state's own edge
    if body.get("End") and not nested:
        edges.append(Edge(name, END, EdgeKind.END))
    return edges


_COMPARISONS = (
    ("GreaterThanEquals", ">="),
    ("LessThanEquals", "<="),
    ("GreaterThan", ">"),
    ("LessThan", "<"),
    ("Equals", "="),
    ("Matches", "matches"),
)
_TESTS = {
    "IsPresent": ("is present", "is absent"),
    "IsNull": ("is null", "is not null"),
    "IsString": ("is a string", "is not a string"),
    "IsNumeric": ("is a number", "is not a number"),
    "IsBoolean": ("is a boolean", "is not a boolean"),
    "IsTimestamp": ("is a timestamp", "is not a timestamp"),
}


def describe_rule(rule: Mapping[str, Any]) -> str:
    """A short, human reading of a Choice rule: ``request.task = db_restore``."""
    if "Condition" in rule:  # JSONata
        return str(rule["Condition"]).removeprefix("{%").removesuffix("%}").strip()
    if "And" in rule:
        return " and ".join(_grouped(part) for part in rule["And"])
    if "Or" in rule:
        alternatives = _alternatives_of_one_variable(rule["Or"])
        if alternatives:
            return alternatives
        return " or ".join(_grouped(part) for part in rule["Or"])
    if "Not" in rule:
        return f"not {_grouped(rule['Not'])}"
    variable = _path(rule.get("Variable", "$"))
    for key, value in rule.items():
        if key in _TESTS:
            yes, no = _TESTS[key]
            return f"{variable} {yes if value else no}"
        for suffix, symbol in _COMPARISONS:
            operator = key.removesuffix("Path")
            if operator.endswith(suffix) and operator != suffix:
                shown = _path(value) if key.endswith("Path") else _literal(value)
                return f"{variable} {symbol} {shown}"
    return variable


def _alternatives_of_one_variable(parts: list[Mapping[str, Any]]) -> str | None:
    """``task = a or b`` instead of ``task = a or task = b``."""
    simple = [part for part in parts if set(part) == {"Variable", "StringEquals"}]
    if len(simple) != len(parts) or len({part["Variable"] for part in simple}) != 1:
        return None
    return f"{_path(simple[0]['Variable'])} = " + " or ".join(part["StringEquals"] for part in simple)


def _grouped(rule: Mapping[str, Any]) -> str:
    text = describe_rule(rule)
    return f"({text})" if any(key in rule for key in ("And", "Or")) else text


def _path(path: str) -> str:
    return path.removeprefix("$.") if path != "$" else path


def _literal(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _shorten(text: str) -> str:
    return text if len(text) <= LABEL_LIMIT else text[: LABEL_LIMIT - 1] + "…"
