"""The committed diagrams of every workflow: what ``trapheus graph`` writes and ``--check`` compares.

Each workflow's diagram is its Mermaid text (``<name>.mmd``), generated from the ASL file and
committed. An SVG picture (``<name>.svg``) is drawn only where Graphviz is installed
(:mod:`trapheus_cli.graphviz`); it depends on the local Graphviz, so it is not committed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from trapheus_cli import graphviz
from trapheus_cli.asl import Workflow, parse_workflow
from trapheus_cli.mermaid import to_mermaid

ASL_SUFFIX = ".asl.json"


@dataclass(frozen=True)
class Diagram:
    path: Path
    text: str

    def is_current(self) -> bool:
        return self.path.is_file() and self.path.read_text(encoding="utf-8") == self.text


def asl_files(asl_dir: Path) -> list[Path]:
    return sorted(asl_dir.glob(f"*{ASL_SUFFIX}"))


def workflows(asl_dir: Path) -> list[tuple[str, Path, Workflow]]:
    """(name, ASL file, parsed workflow) for each ASL file: ``restore.asl.json`` is ``restore``."""
    return [
        (path.name.removesuffix(ASL_SUFFIX), path, parse_workflow(json.loads(path.read_text(encoding="utf-8"))))
        for path in asl_files(asl_dir)
    ]


def diagrams_for(asl_dir: Path, output_dir: Path) -> list[Diagram]:
    """The Mermaid text each ASL file gives (``restore.asl.json`` -> ``restore.mmd``)."""
    return [
        Diagram(output_dir / f"{name}.mmd", to_mermaid(workflow, source=f"{asl_dir.name}/{path.name}"))
        for name, path, workflow in workflows(asl_dir)
    ]


def pictures_for(asl_dir: Path, output_dir: Path, dot: str) -> list[Diagram]:
    """The SVG Graphviz's ``dot`` (at path ``dot``) draws of each workflow (``restore.svg``)."""
    return [
        Diagram(output_dir / f"{name}.svg", graphviz.render_svg(graphviz.to_dot(workflow, title=name), dot))
        for name, _, workflow in workflows(asl_dir)
    ]


def stale(diagrams: list[Diagram]) -> list[Diagram]:
    return [diagram for diagram in diagrams if not diagram.is_current()]


def write(diagrams: list[Diagram]) -> list[Diagram]:
    """Write the diagrams that changed; return them."""
    changed = stale(diagrams)
    for diagram in changed:
        diagram.path.parent.mkdir(parents=True, exist_ok=True)
        diagram.path.write_text(diagram.text, encoding="utf-8")
    return changed
