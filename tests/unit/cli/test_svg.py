"""The SVG picture: well-formed, deterministic, every state drawn with its shape, loops laid out."""

from __future__ import annotations

import xml.etree.ElementTree as ElementTree

from trapheus_cli.asl import parse_workflow
from trapheus_cli.layout import Box, layered_layout
from trapheus_cli.svg import to_svg

SVG = "{http://www.w3.org/2000/svg}"


def _groups(svg: str) -> dict[str, ElementTree.Element]:
    root = ElementTree.fromstring(svg)
    return {
        group.find(f"{SVG}title").text: group
        for group in root.iter(f"{SVG}g")
        if group.get("class", "").startswith("state")
    }


def test_every_state_is_drawn_with_the_shape_of_its_type(small_definition):
    svg = to_svg(parse_workflow(small_definition), title="small")
    groups = _groups(svg)

    assert set(groups) == {
        "Check it (Task)",
        "Is it done? (Choice)",
        "Wait a bit (Wait)",
        "Finished (Succeed)",
        "Give up (Fail)",
    }
    assert groups["Is it done? (Choice)"].find(f"{SVG}polygon") is not None
    assert groups["Wait a bit (Wait)"].find(f"{SVG}polygon") is not None
    assert groups["Finished (Succeed)"].get("class") == "state succeed"
    assert len(groups["Give up (Fail)"].findall(f"{SVG}rect")) == 2  # double border
    assert "poll.state = done" in svg and "otherwise" in svg


def test_edges_are_drawn_and_catch_edges_are_dashed(small_definition):
    root = ElementTree.fromstring(to_svg(parse_workflow(small_definition)))
    paths = [p for p in root.iter(f"{SVG}path") if p.get("marker-end")]

    assert len(paths) == 7  # start + 6 transitions
    assert sum(1 for p in paths if p.get("stroke-dasharray")) == 1


def test_the_picture_is_the_same_every_time(small_definition):
    assert to_svg(parse_workflow(small_definition)) == to_svg(parse_workflow(small_definition))


def test_layout_puts_successors_below_and_keeps_boxes_apart():
    boxes = [Box(k, 80, 30) for k in ("a", "b", "c", "d")]
    edges = [("a", "b"), ("a", "c"), ("b", "d"), ("c", "d"), ("d", "a")]
    layout = layered_layout(boxes, edges, "a")
    y = {k: n.y for k, n in layout.nodes.items()}

    assert y["a"] < y["b"] == y["c"] < y["d"]
    assert abs(layout.nodes["b"].x - layout.nodes["c"].x) >= 80
    back = [r for r in layout.routes if r.edge == 4][0]
    assert back.points[0][1] < y["d"] and back.points[-1][1] > y["a"]  # drawn from d's top up to a's bottom
    assert len(back.points) == 3  # threaded past the middle layer
