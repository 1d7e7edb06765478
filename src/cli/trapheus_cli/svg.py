"""An SVG picture of a workflow, drawn in pure Python (no browser, no network).

Shapes follow the Mermaid text: rectangles for tasks, hexagons for choices,
parallelograms for waits, rounded boxes for passes, a green stadium for Succeed
and a red double-bordered box for Fail. Catch edges are dashed and red.
"""

from __future__ import annotations

import textwrap
from xml.sax.saxutils import escape

from trapheus_cli.asl import END, EdgeKind, State, Workflow
from trapheus_cli.layout import Box, Layout, Placed, Spacing, layered_layout
from trapheus_cli.palette import CATCH_EDGE, EDGE, STYLES, TEXT, style_of

FONT = "Helvetica, Arial, sans-serif"
FONT_SIZE = 12
LABEL_SIZE = 10
CHAR_WIDTH = 6.6  # average advance of the font at FONT_SIZE, enough to size boxes
LABEL_CHAR_WIDTH = 5.6
LINE_HEIGHT = 15
WRAP = 26
PAD_X, PAD_Y = 12, 8
MARKER_SIZE = 22
START, FINISH = "(start)", END


def to_svg(workflow: Workflow, *, title: str = "") -> str:
    states = {state.name: state for state in workflow.states}
    boxes = [Box(START, MARKER_SIZE, MARKER_SIZE)]
    boxes.extend(_box(state) for state in workflow.states)
    edges = [(START, workflow.start_at, EdgeKind.NEXT, "")]
    edges.extend((e.source, e.target, e.kind, e.label) for e in workflow.edges)
    if any(target == FINISH for _, target, _, _ in edges):
        boxes.append(Box(FINISH, MARKER_SIZE, MARKER_SIZE))
    top = 30 if title else 0
    layout = layered_layout(boxes, [(s, t) for s, t, _, _ in edges], START, Spacing())

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{_n(layout.width)}" height="{_n(layout.height + top)}" '
        f'viewBox="0 0 {_n(layout.width)} {_n(layout.height + top)}" font-family="{FONT}" font-size="{FONT_SIZE}">',
        "<defs>",
        _arrowhead("arrow", EDGE),
        _arrowhead("arrow-catch", CATCH_EDGE),
        "</defs>",
        f'<rect width="100%" height="100%" fill="#ffffff"/>',
    ]
    if title:
        parts.append(f'<text x="24" y="22" font-size="15" font-weight="bold" fill="{TEXT}">{escape(title)}</text>')
    parts.append(f'<g transform="translate(0,{top})">')
    labels: list[str] = []
    taken: list[_Rect] = []
    for route in layout.routes:
        _, _, kind, label = edges[route.edge]
        parts.append(_path(route.points, kind))
        if label and not (kind is EdgeKind.CATCH and label == "States.ALL"):
            labels.append(_edge_label(route.points, label, kind, taken))
    for key, placed in layout.nodes.items():
        parts.append(_node(placed, states.get(key)))
    parts.extend(labels)  # last, so no line is drawn over a label
    parts.append("</g>")
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def _lines(state: State) -> list[str]:
    lines = textwrap.wrap(state.name + (" ↻" if state.retries else ""), WRAP) or [state.name]
    for branch in state.branches:
        lines.append("• " + branch.start_at)
    return lines


def _box(state: State) -> Box:
    lines = _lines(state)
    width = max(len(line) for line in lines) * CHAR_WIDTH + 2 * PAD_X
    height = len(lines) * LINE_HEIGHT + 2 * PAD_Y
    if state.type == "Choice":
        width += height  # room for the pointed sides
    elif state.type == "Wait":
        width += 16
    return Box(state.name, round(width, 1), float(height))


def _node(placed: Placed, state: State | None) -> str:
    if state is None:  # start or end marker
        fill, _ = STYLES["marker"]
        radius = placed.width / 2
        inner = (
            f'<circle cx="{_n(placed.x)}" cy="{_n(placed.y)}" r="{_n(radius - 4)}" fill="{fill}"/>'
            f'<circle cx="{_n(placed.x)}" cy="{_n(placed.y)}" r="{_n(radius)}" fill="none" stroke="{fill}"/>'
            if placed.key == FINISH
            else f'<circle cx="{_n(placed.x)}" cy="{_n(placed.y)}" r="{_n(radius)}" fill="{fill}"/>'
        )
        return f'<g class="marker">{inner}</g>'
    fill, stroke = STYLES[style_of(state.type)]
    left, top = placed.x - placed.width / 2, placed.y - placed.height / 2
    right, bottom = left + placed.width, top + placed.height
    common = f'fill="{fill}" stroke="{stroke}"'
    if state.type == "Choice":
        slant = placed.height / 2
        points = [(left, placed.y), (left + slant, top), (right - slant, top), (right, placed.y),
                  (right - slant, bottom), (left + slant, bottom)]
        shape = f'<polygon points="{_points(points)}" {common}/>'
    elif state.type == "Wait":
        points = [(left + 8, top), (right, top), (right - 8, bottom), (left, bottom)]
        shape = f'<polygon points="{_points(points)}" {common}/>'
    elif state.type == "Succeed":
        shape = _rect(left, top, placed, common + ' stroke-width="2"', radius=placed.height / 2)
    elif state.type == "Fail":
        shape = _rect(left, top, placed, common + ' stroke-width="2"') + (
            f'<rect x="{_n(left + 3)}" y="{_n(top + 3)}" width="{_n(placed.width - 6)}" '
            f'height="{_n(placed.height - 6)}" fill="none" stroke="{stroke}"/>'
        )
    elif state.type == "Pass":
        shape = _rect(left, top, placed, common, radius=8)
    elif state.branches:
        shape = _rect(left, top, placed, common + ' stroke-dasharray="5 3"', radius=4)
    else:
        shape = _rect(left, top, placed, common, radius=2)
    lines = _lines(state)
    first = placed.y - (len(lines) - 1) * LINE_HEIGHT / 2 + FONT_SIZE * 0.35
    text = "".join(
        f'<text x="{_n(placed.x)}" y="{_n(first + i * LINE_HEIGHT)}" text-anchor="middle" fill="{TEXT}"'
        + (' font-size="11" font-style="italic"' if line.startswith("• ") else "")
        + f">{escape(line)}</text>"
        for i, line in enumerate(lines)
    )
    return f'<g class="state {style_of(state.type)}"><title>{escape(state.name)} ({state.type})</title>{shape}{text}</g>'


def _rect(left: float, top: float, placed: Placed, attributes: str, radius: float = 0.0) -> str:
    rounding = f' rx="{_n(radius)}"' if radius else ""
    return (
        f'<rect x="{_n(left)}" y="{_n(top)}" width="{_n(placed.width)}" height="{_n(placed.height)}"'
        f"{rounding} {attributes}/>"
    )


def _path(points: tuple[tuple[float, float], ...], kind: EdgeKind) -> str:
    (x0, y0), rest = points[0], points[1:]
    commands = [f"M{_n(x0)},{_n(y0)}"]
    previous = points[0]
    for point in rest:
        middle = (previous[1] + point[1]) / 2  # vertical tangents at both ends: smooth curves between layers
        commands.append(f"C{_n(previous[0])},{_n(middle)} {_n(point[0])},{_n(middle)} {_n(point[0])},{_n(point[1])}")
        previous = point
    if kind is EdgeKind.CATCH:
        style = f'stroke="{CATCH_EDGE}" stroke-dasharray="5 4" stroke-opacity="0.75" marker-end="url(#arrow-catch)"'
    else:
        style = f'stroke="{EDGE}" marker-end="url(#arrow)"'
    return f'<path d="{" ".join(commands)}" fill="none" stroke-width="1.3" {style}/>'


_Rect = tuple[float, float, float, float]  # left, top, right, bottom


def _edge_label(points: tuple[tuple[float, float], ...], label: str, kind: EdgeKind, taken: list[_Rect]) -> str:
    """A label on the edge's first segment, slid along it until it overlaps no earlier label."""
    (x0, y0), (x1, y1) = points[0], points[1]
    width = len(label) * LABEL_CHAR_WIDTH + 8
    for fraction in (0.5, 0.3, 0.7, 0.15, 0.85, 0.5):
        x, y = x0 + (x1 - x0) * fraction, y0 + (y1 - y0) * fraction
        box = (x - width / 2, y - 8, x + width / 2, y + 7)
        if not any(box[0] < o[2] and o[0] < box[2] and box[1] < o[3] and o[1] < box[3] for o in taken):
            break
    taken.append(box)
    colour = CATCH_EDGE if kind is EdgeKind.CATCH else TEXT
    style = ' font-style="italic"' if kind is EdgeKind.DEFAULT else ""
    return (
        f'<g class="edge-label"><rect x="{_n(x - width / 2)}" y="{_n(y - 8)}" width="{_n(width)}" height="15" '
        f'rx="3" fill="#ffffff" fill-opacity="0.9"/>'
        f'<text x="{_n(x)}" y="{_n(y + 3.5)}" text-anchor="middle" font-size="{LABEL_SIZE}" fill="{colour}"{style}>'
        f"{escape(label)}</text></g>"
    )


def _arrowhead(name: str, colour: str) -> str:
    return (
        f'<marker id="{name}" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" '
        f'orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="{colour}"/></marker>'
    )


def _points(points: list[tuple[float, float]]) -> str:
    return " ".join(f"{_n(x)},{_n(y)}" for x, y in points)


def _n(value: float) -> str:
    """Numbers with one decimal and no trailing zeros: stable text for comparisons."""
    text = f"{value:.1f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text
