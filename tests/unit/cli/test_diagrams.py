"""The committed diagrams in docs/diagrams are what the ASL files give today."""

from __future__ import annotations

from pathlib import Path

from trapheus_cli import diagrams

ROOT = Path(__file__).resolve().parents[3]
ASL_DIR = ROOT / "statemachine"
OUTPUT_DIR = ROOT / "docs" / "diagrams"


def test_committed_diagrams_match_the_workflows():
    assert diagrams.asl_files(ASL_DIR), "statemachine/ has no .asl.json"
    wanted = diagrams.diagrams_for(ASL_DIR, OUTPUT_DIR)

    out_of_date = [str(d.path.relative_to(ROOT)) for d in diagrams.stale(wanted)]

    assert not out_of_date, f"run `trapheus graph` and commit: {out_of_date}"


def test_every_workflow_state_appears_in_its_mermaid_text():
    import json

    from trapheus_cli.asl import parse_workflow

    for asl_path in diagrams.asl_files(ASL_DIR):
        mermaid = (OUTPUT_DIR / asl_path.name.replace(".asl.json", ".mmd")).read_text(encoding="utf-8")
        for state in parse_workflow(json.loads(asl_path.read_text(encoding="utf-8"))).all_states():
            assert f'"{state.name}' in mermaid.replace("#quot;", '"'), state.name


def test_check_notices_a_changed_workflow(tmp_path, small_definition):
    import json

    asl_dir, output_dir = tmp_path / "statemachine", tmp_path / "diagrams"
    asl_dir.mkdir()
    (asl_dir / "small.asl.json").write_text(json.dumps(small_definition))
    assert {d.path.name for d in diagrams.write(diagrams.diagrams_for(asl_dir, output_dir))} == {"small.mmd"}
    assert diagrams.stale(diagrams.diagrams_for(asl_dir, output_dir)) == []

    small_definition["States"]["Wait a bit"]["Next"] = "Finished"
    (asl_dir / "small.asl.json").write_text(json.dumps(small_definition))

    assert {d.path.name for d in diagrams.stale(diagrams.diagrams_for(asl_dir, output_dir))} == {"small.mmd"}
