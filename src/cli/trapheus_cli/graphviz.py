"""An SVG picture of a workflow, laid out and drawn by Graphviz's ``dot`` where it is installed.

The diagram trapheus keeps is the Mermaid text (mermaid.py), which GitHub and most documentation
sites draw as they show it. Where Graphviz is installed (Debian/Ubuntu: ``apt-get install
graphviz``), ``trapheus graph`` also hands ``dot`` the same graph (asl.py's model) and writes the
picture it draws; without it there is no SVG, and nothing else changes.
"""

from __future__ import annotations

import shutil
import subprocess

from trapheus_cli.asl import END, EdgeKind, State, Workflow
from trapheus_cli.palette import EDGE, CATCH_EDGE, STYLES, TEXT, style_of

DOT = "dot"
INSTALL_HINT = "Graphviz's dot is not installed (Debian/Ubuntu: apt-get install graphviz)"
RENDER_LIMIT_SECONDS = 60
START, FINISH = "(start)", END

# state type -> Graphviz node shape and style
_SHAPES = {
    "Task": ("box", "filled,rounded"),
    "Choice": ("diamond", "filled"),
    "Wait": ("parallelogram", "filled"),
    "Pass": ("box", "filled,rounded,dashed"),
    "Succeed": ("box", "filled,rounded,bold"),
    "Fail": ("box", "filled,bold"),
    "Parallel": ("box3d", "filled"),
    "Map": ("box3d", "filled"),
}


def installed() -> str | None:
    """The path of ``dot``, or None where Graphviz is not installed."""
    return shutil.which(DOT)


def to_dot(workflow: Workflow, *, title: str = "workflow") -> str:
    """The workflow as a Graphviz digraph: one node per state, one labelled edge per transition."""
    lines = [
        f"digraph {_quoted(title)} {{",
        f'    graph [rankdir=TB, fontname="Helvetica", fontsize=11, fontcolor="{TEXT}"];',
        f'    node [fontname="Helvetica", fontsize=11, fontcolor="{TEXT}"];',
        f'    edge [fontname="Helvetica", fontsize=9, color="{EDGE}", fontcolor="{EDGE}"];',
        f'    {_quoted(START)} [label="start", shape=circle, style=filled, fillcolor="{STYLES["marker"][0]}", '
        'fontcolor="#ffffff", width=0.5, fixedsize=true];',
    ]
    if any(edge.target == END for edge in workflow.edges):
        lines.append(
            f'    {_quoted(FINISH)} [label="end", shape=doublecircle, style=filled, fillcolor="{STYLES["marker"][0]}", '
            'fontcolor="#ffffff", width=0.5, fixedsize=true];'
        )
    _declare(workflow, lines, "    ")
    lines.append(f"    {_quoted(START)} -> {_quoted(workflow.start_at)};")
    _connect(workflow, lines)
    lines.append("}")
    return "\n".join(lines) + "\n"


def render_svg(dot_text: str, program: str) -> str:
    """What ``dot -Tsvg`` draws from ``dot_text``."""
    drawn = subprocess.run(
        [program, "-Tsvg"], input=dot_text, capture_output=True, text=True, timeout=RENDER_LIMIT_SECONDS, check=False
    )
    if drawn.returncode != 0:
        raise RuntimeError(f"dot could not draw the workflow: {drawn.stderr.strip()}")
    return drawn.stdout


def _declare(workflow: Workflow, lines: list[str], indent: str) -> None:
    for state in workflow.states:
        lines.append(f"{indent}{_node(state)}")
        for number, branch in enumerate(state.branches, start=1):
            fill, stroke = STYLES["group"]
            lines.append(f"{indent}subgraph {_quoted(f'cluster {state.name} {number}')} {{")
            lines.append(f'{indent}    label={_quoted(f"{state.name}: branch {number}")}; style=filled; '
                         f'fillcolor="{fill}"; color="{stroke}";')
            _declare(branch, lines, indent + "    ")
            lines.append(f"{indent}}}")


def _node(state: State) -> str:
    shape, style = _SHAPES.get(state.type, _SHAPES["Task"])
    fill, stroke = STYLES[style_of(state.type)]
    label = state.name + (" ↻" if state.retries else "")
    return f'{_quoted(state.name)} [label={_quoted(label)}, shape={shape}, style="{style}", fillcolor="{fill}", color="{stroke}"];'


def _connect(workflow: Workflow, lines: list[str]) -> None:
    for edge in workflow.edges:
        attributes = []
        if edge.kind is EdgeKind.CATCH:
            attributes += [f"label={_quoted('catch ' + edge.label)}", "style=dashed", f'color="{CATCH_EDGE}"',
                           f'fontcolor="{CATCH_EDGE}"']
        elif edge.label:
            attributes.append(f"label={_quoted(edge.label)}")
        suffix = f" [{', '.join(attributes)}]" if attributes else ""
        lines.append(f"    {_quoted(edge.source)} -> {_quoted(edge.target)}{suffix};")
    for state in workflow.states:
        for branch in state.branches:
            lines.append(f"    {_quoted(state.name)} -> {_quoted(branch.start_at)} [style=dotted, arrowhead=none];")
            _connect(branch, lines)


def _quoted(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
