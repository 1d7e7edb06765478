"""asl-validator and @wmfs/statelint (npm, pinned in package.json) accept every ASL file.

Both read plain ASL, so each file is checked with its substitutions resolved the way
CloudFormation resolves them (function ARNs, poll settings from the template defaults).
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from template_support import REPO, asl_files, resolved_definition

BIN = REPO / "node_modules" / ".bin"
TOOLS = ("asl-validator", "statelint")
FILES = asl_files()

pytestmark = [
    pytest.mark.skipif(not FILES, reason="statemachine/*.asl.json not written yet"),
    pytest.mark.skipif(
        not all((BIN / tool).exists() for tool in TOOLS) or shutil.which("node") is None,
        reason="node_modules missing: run `npm ci` to install asl-validator and statelint",
    ),
]


def resolved_copy(asl_file: Path, tmp_path: Path) -> Path:
    text = resolved_definition(asl_file)
    json.loads(text)  # still JSON after substitution
    out = tmp_path / asl_file.name
    out.write_text(text)
    return out


def run(command: list[str]) -> subprocess.CompletedProcess:
    return subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=120, check=False)


@pytest.mark.parametrize("asl_file", FILES, ids=[f.name for f in FILES])
def test_asl_validator_accepts(asl_file, tmp_path):
    result = run([str(BIN / "asl-validator"), "--json-path", str(resolved_copy(asl_file, tmp_path))])
    assert result.returncode == 0, result.stdout + result.stderr


def without_fields_statelint_predates(path: Path) -> Path:
    """statelint 1.30 (the latest) predates a Map state's MaxConcurrencyPath (ASL, 2022): its copy
    carries MaxConcurrency instead. asl-validator checks the field as written."""

    def replace(state: dict) -> dict:
        if "MaxConcurrencyPath" in state:
            state = {k: v for k, v in state.items() if k != "MaxConcurrencyPath"} | {"MaxConcurrency": 0}
        return state

    path.write_text(json.dumps(json.loads(path.read_text(), object_hook=replace)))
    return path


@pytest.mark.parametrize("asl_file", FILES, ids=[f.name for f in FILES])
def test_statelint_accepts(asl_file, tmp_path):
    result = run([str(BIN / "statelint"), str(without_fields_statelint_predates(resolved_copy(asl_file, tmp_path)))])
    assert result.returncode == 0 and not result.stdout.strip(), result.stdout + result.stderr


def test_validators_reject_a_broken_definition(tmp_path):
    broken = tmp_path / "broken.asl.json"
    broken.write_text(json.dumps({"StartAt": "Nowhere", "States": {"Only": {"Type": "Pass", "End": True}}}))
    assert run([str(BIN / "asl-validator"), "--json-path", str(broken)]).returncode != 0
    result = run([str(BIN / "statelint"), str(broken)])
    assert result.returncode != 0 or result.stdout.strip()
