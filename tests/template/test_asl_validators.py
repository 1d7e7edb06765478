"""asl-validator and @wmfs/statelint (npm, pinned in package.json) accept every ASL file.

Both read plain ASL, so each file is checked with its substitutions resolved the way
CloudFormation resolves them (function ARNs, poll settings from the template defaults).
"""

from __future__ import annotations

import json
import re
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


def resolved_copy(asl_file: Path, directory: Path) -> Path:
    text = resolved_definition(asl_file)
    json.loads(text)  # still JSON after substitution
    out = directory / asl_file.name
    out.write_text(text)
    return out


def run(command: list[str]) -> subprocess.CompletedProcess:
    return subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=120, check=False)


def findings_by_file(output: str, copies: dict[Path, Path], opens_a_finding: re.Pattern[str]) -> dict[Path, str]:
    """A tool's report of several files, cut into what it said about each (a line naming a copy opens it)."""
    said: dict[Path, list[str]] = {asl_file: [] for asl_file in copies}
    current: Path | None = None
    by_copy = {str(copy): asl_file for asl_file, copy in copies.items()}
    for line in output.splitlines():
        opened = opens_a_finding.match(line)
        if opened:
            current = by_copy[opened.group("path")]
        assert current is not None or not line.strip(), f"said before naming a file: {line}"
        if current is not None:
            said[current].append(line)
    return {asl_file: "\n".join(lines) for asl_file, lines in said.items()}


# Each tool runs once over every file (a node start is most of a check's time); each file is still its own test.
ASL_VALIDATOR_VERDICT = re.compile(r'^[✓✕] State machine definition "(?P<path>[^"]+)" is (?P<verdict>valid|invalid)')
STATELINT_FINDING = re.compile(r"^ERROR: (?P<path>\S+) (?:is|os) not valid")


@pytest.fixture(scope="module")
def asl_validator_said(tmp_path_factory) -> dict[Path, str]:
    directory = tmp_path_factory.mktemp("asl-validator")
    copies = {asl_file: resolved_copy(asl_file, directory) for asl_file in FILES}
    result = run([str(BIN / "asl-validator"), *[part for copy in copies.values() for part in ("--json-path", str(copy))]])
    said = findings_by_file(result.stdout + "\n" + result.stderr, copies, ASL_VALIDATOR_VERDICT)
    assert result.returncode == 0 or any(" is invalid" in text for text in said.values()), result.stdout + result.stderr
    return said


@pytest.fixture(scope="module")
def statelint_said(tmp_path_factory) -> tuple[int, dict[Path, str]]:
    directory = tmp_path_factory.mktemp("statelint")
    copies = {asl_file: resolved_copy(asl_file, directory) for asl_file in FILES}
    for copy in copies.values():
        copy.write_text(for_statelint(copy.read_text()))
    result = run([str(BIN / "statelint"), *map(str, copies.values())])
    assert not result.stderr.strip(), result.stderr
    return result.returncode, findings_by_file(result.stdout, copies, STATELINT_FINDING)


@pytest.mark.parametrize("asl_file", FILES, ids=[f.name for f in FILES])
def test_asl_validator_accepts(asl_file, asl_validator_said):
    assert ASL_VALIDATOR_VERDICT.match(asl_validator_said[asl_file]).group("verdict") == "valid", asl_validator_said[asl_file]


@pytest.mark.parametrize("asl_file", FILES, ids=[f.name for f in FILES])
def test_statelint_accepts(asl_file, statelint_said):
    returncode, said = statelint_said
    assert said[asl_file] == "", said[asl_file]
    assert returncode == 0 or any(said.values())


def test_validators_reject_a_broken_definition_beside_a_valid_one(tmp_path):
    """Each tool, given several files, names the broken one and fails; the valid one gets no finding."""
    broken = tmp_path / "broken.asl.json"
    broken.write_text(json.dumps({"StartAt": "Nowhere", "States": {"Only": {"Type": "Pass", "End": True}}}))
    valid = tmp_path / "valid.asl.json"
    valid.write_text(json.dumps({"StartAt": "Only", "States": {"Only": {"Type": "Pass", "End": True}}}))
    copies = {Path("broken"): broken, Path("valid"): valid}

    checked = run([str(BIN / "asl-validator"), "--json-path", str(valid), "--json-path", str(broken)])
    said = findings_by_file(checked.stdout + "\n" + checked.stderr, copies, ASL_VALIDATOR_VERDICT)
    assert checked.returncode != 0
    assert ASL_VALIDATOR_VERDICT.match(said[Path("broken")]).group("verdict") == "invalid"
    assert ASL_VALIDATOR_VERDICT.match(said[Path("valid")]).group("verdict") == "valid"

    linted = run([str(BIN / "statelint"), str(valid), str(broken)])
    said = findings_by_file(linted.stdout, copies, STATELINT_FINDING)
    assert linted.returncode != 0
    assert "StartAt value Nowhere not found" in said[Path("broken")] and said[Path("valid")] == ""
