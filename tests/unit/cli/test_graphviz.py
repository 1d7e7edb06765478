"""The SVG picture: Graphviz's dot draws it where it is installed; without dot there is none, and nothing fails."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ElementTree

import pytest
from typer.testing import CliRunner

from trapheus_cli import graphviz
from trapheus_cli.asl import parse_workflow
from trapheus_cli.main import app

SVG = "{http://www.w3.org/2000/svg}"


def _nodes(dot: str) -> dict[str, str]:
    """Node name -> its attribute list, for the node statements of a DOT text."""
    return dict(re.findall(r'^\s*"((?:[^"\\]|\\.)*)" \[(label=.*)\];$', dot, re.MULTILINE))


def _edges(dot: str) -> list[tuple[str, str, str]]:
    return re.findall(r'^\s*"((?:[^"\\]|\\.)*)" -> "((?:[^"\\]|\\.)*)"(.*);$', dot, re.MULTILINE)


def test_every_state_is_a_node_with_the_shape_of_its_type(small_definition):
    nodes = _nodes(graphviz.to_dot(parse_workflow(small_definition), title="small"))

    assert set(nodes) - {"(start)"} == {"Check it", "Is it done?", "Wait a bit", "Finished", "Give up"}
    assert "shape=diamond" in nodes["Is it done?"]
    assert "shape=parallelogram" in nodes["Wait a bit"]
    assert "label=\"Check it ↻\"" in nodes["Check it"]  # it retries


def test_every_transition_is_an_edge_and_catches_are_dashed(small_definition):
    edges = _edges(graphviz.to_dot(parse_workflow(small_definition)))

    assert len(edges) == 7  # start + 6 transitions
    (catch,) = [edge for edge in edges if "style=dashed" in edge[2]]
    assert catch[:2] == ("Check it", "Give up") and "catch States.ALL" in catch[2]
    assert ("Is it done?", "Wait a bit", ' [label="otherwise"]') in edges


def test_parallel_branches_are_drawn_inside_their_state():
    definition = {
        "StartAt": "Both",
        "States": {
            "Both": {
                "Type": "Parallel",
                "Branches": [{"StartAt": 'Say "hi"', "States": {'Say "hi"': {"Type": "Pass", "End": True}}}],
                "End": True,
            }
        },
    }
    dot = graphviz.to_dot(parse_workflow(definition))

    assert 'subgraph "cluster Both 1"' in dot
    assert r'"Say \"hi\""' in dot  # quotes in a name are escaped
    assert ("Both", r"Say \"hi\"", " [style=dotted, arrowhead=none]") in _edges(dot)


@pytest.mark.skipif(graphviz.installed() is None, reason=graphviz.INSTALL_HINT)
def test_dot_draws_every_state(small_definition):
    svg = graphviz.render_svg(graphviz.to_dot(parse_workflow(small_definition)), graphviz.installed())

    titles = {title.text for title in ElementTree.fromstring(svg).iter(f"{SVG}title")}
    assert {"Check it", "Is it done?", "Wait a bit", "Finished", "Give up"} <= titles


def test_without_graphviz_graph_writes_the_mermaid_text_and_says_why_there_is_no_svg(
    tmp_path, monkeypatch, small_definition
):
    asl_dir, output_dir = tmp_path / "statemachine", tmp_path / "diagrams"
    asl_dir.mkdir()
    (asl_dir / "small.asl.json").write_text(json.dumps(small_definition))
    monkeypatch.setenv("PATH", str(tmp_path / "no-programs-here"))

    result = CliRunner().invoke(app, ["graph", "--asl-dir", str(asl_dir), "--output-dir", str(output_dir)])

    assert result.exit_code == 0, result.output
    assert sorted(path.name for path in output_dir.iterdir()) == ["small.mmd"]
    assert graphviz.INSTALL_HINT in " ".join(result.output.split())  # however the console wrapped it
