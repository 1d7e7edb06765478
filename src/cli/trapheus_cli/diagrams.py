"""The committed pictures of every workflow: what ``trapheus graph`` writes and ``--check`` compares."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from trapheus_cli.asl import parse_workflow
from trapheus_cli.mermaid import to_mermaid
from trapheus_cli.svg import to_svg

ASL_SUFFIX = ".asl.json"


@dataclass(frozen=True)
class Diagram:
    path: Path
    text: str

    def is_current(self) -> bool:
        return self.path.is_file() and self.path.read_text(encoding="utf-8") == self.text


def asl_files(asl_dir: Path) -> list[Path]:
    return sorted(asl_dir.glob(f"*{ASL_SUFFIX}"))


def diagrams_for(asl_dir: Path, output_dir: Path) -> list[Diagram]:
    """The Mermaid and SVG files each ASL file gives (``restore.asl.json`` -> ``restore.mmd``, ``restore.svg``)."""
    diagrams = []
    for asl_path in asl_files(asl_dir):
        name = asl_path.name.removesuffix(ASL_SUFFIX)
        workflow = parse_workflow(json.loads(asl_path.read_text(encoding="utf-8")))
        source = f"{asl_dir.name}/{asl_path.name}"
        diagrams.append(Diagram(output_dir / f"{name}.mmd", to_mermaid(workflow, source=source)))
        diagrams.append(Diagram(output_dir / f"{name}.svg", to_svg(workflow, title=name)))
    return diagrams


def stale(diagrams: list[Diagram]) -> list[Diagram]:
    return [diagram for diagram in diagrams if not diagram.is_current()]


def write(diagrams: list[Diagram]) -> list[Diagram]:
    """Write the diagrams that changed; return them."""
    changed = stale(diagrams)
    for diagram in changed:
        diagram.path.parent.mkdir(parents=True, exist_ok=True)
        diagram.path.write_text(diagram.text, encoding="utf-8")
    return changed
