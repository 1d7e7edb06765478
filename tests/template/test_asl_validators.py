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

from template_support import REPO, asl_files, for_statelint, resolved_definition

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


@pytest.mark.parametrize("asl_file", FILES, ids=[f.name for f in FILES])
def test_statelint_accepts(asl_file, tmp_path):
    copy = resolved_copy(asl_file, tmp_path)
    copy.write_text(for_statelint(copy.read_text()))
    result = run([str(BIN / "statelint"), str(copy)])
    assert result.returncode == 0 and not result.stdout.strip(), result.stdout + result.stderr


def test_validators_reject_a_broken_definition(tmp_path):
    broken = tmp_path / "broken.asl.json"
    broken.write_text(json.dumps({"StartAt": "Nowhere", "States": {"Only": {"Type": "Pass", "End": True}}}))
    assert run([str(BIN / "asl-validator"), "--json-path", str(broken)]).returncode != 0
    result = run([str(BIN / "statelint"), str(broken)])
    assert result.returncode != 0 or result.stdout.strip()
