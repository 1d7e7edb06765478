"""The wheel, installed into a new empty virtualenv, is a `trapheus` that works from any directory.

Only the wheel and what it declares are installed (its dependencies come from the package
index), so a dependency the package forgot to declare fails here, whatever the machine or
the test virtualenv happen to have. uv builds and installs (pip's resolver alone took about
20 s of the test's 45).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import yaml
from support.served import STOPPED, client, served

REPOSITORY = Path(__file__).resolve().parents[2]
# what the build reads (pyproject.toml's package-dir and package-data, readme, license)
BUILD_INPUTS = ("pyproject.toml", "README.md", "LICENSE.md", "install.py", "template.yaml", "statemachine", "src")
STACK = "trapheus_local/stack/"
NO_NETWORK_SIGNS = ("Failed to fetch", "dns error", "error sending request", "Could not connect", "failed to lookup address")
# CI always reaches the package index: there, an install that fails is a failure, never a skip
OFFLINE_MAY_SKIP = os.environ.get("CI") != "true"
# one worker builds, installs and runs it all (the fixtures are the expensive part)
pytestmark = pytest.mark.xdist_group("packaging")
LIMIT_SECONDS = 600  # guards against a hang only (installing the dependencies downloads them)
UV = [sys.executable, "-m", "uv"]  # requirements-dev.txt installs it
# --system-certs: uv trusts its own copy of the web's root certificates unless told to use the system's store, as
# pip does (a proxy that re-signs traffic is trusted through it). uv reads no pip configuration: behind a package
# mirror, set UV_DEFAULT_INDEX.


def _template_paths() -> list[str]:
    """Every local path the template points at (CodeUri, DefinitionUri), relative to the template."""
    class Loader(yaml.SafeLoader):
        pass

    Loader.add_multi_constructor("!", lambda loader, suffix, node: None)
    template = yaml.load((REPOSITORY / "template.yaml").read_text(), Loader=Loader)
    paths = []
    for resource in template["Resources"].values():
        properties = resource.get("Properties") or {}
        for key in ("CodeUri", "DefinitionUri"):
            if isinstance(properties.get(key), str):
                paths.append(properties[key])
    return paths


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """A wheel built from a copy of the build inputs, so the checkout gets no build/ folder."""
    source = tmp_path_factory.mktemp("source")
    for name in BUILD_INPUTS:
        origin = REPOSITORY / name
        assert origin.exists(), f"{name} is missing"
        if origin.is_dir():
            shutil.copytree(origin, source / name, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
        else:
            shutil.copy2(origin, source / name)
    output = tmp_path_factory.mktemp("wheel")
    built = subprocess.run(
        [*UV, "build", "--wheel", "--quiet", "--no-progress", "--system-certs", "--python", sys.executable,
         "--out-dir", str(output), str(source)],
        capture_output=True,
        text=True,
        timeout=LIMIT_SECONDS,
    )
    if OFFLINE_MAY_SKIP and built.returncode != 0 and any(sign in built.stderr + built.stdout for sign in NO_NETWORK_SIGNS):
        pytest.skip("uv could not fetch the build backend (setuptools) from the package index")
    assert built.returncode == 0, built.stderr + built.stdout
    (found,) = output.glob("trapheus-*.whl")
    return found


def test_the_wheel_carries_the_template_workflows_and_handlers(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    assert STACK + "template.yaml" in names
    for workflow in (REPOSITORY / "statemachine").glob("*.asl.json"):
        assert f"{STACK}statemachine/{workflow.name}" in names
    for handler in (REPOSITORY / "src" / "functions").glob("*/app.py"):
        assert STACK + handler.relative_to(REPOSITORY).as_posix() in names
    for path in _template_paths():
        assert any(name.startswith(STACK + path) for name in names), f"{path} (from template.yaml) is not in the wheel"


def test_the_wheel_carries_the_packages_and_the_command(wheel):
    archive = zipfile.ZipFile(wheel)
    names = set(archive.namelist())
    for module in ("trapheus/inputs.py", "trapheus_cli/demo.py", "trapheus_local/bundle.py", "trapheus_local/samples.py"):
        assert module in names
    entry_points = next(name for name in names if name.endswith(".dist-info/entry_points.txt"))
    assert "trapheus = trapheus_cli.main:app" in archive.read(entry_points).decode()


@pytest.fixture(scope="module")
def installed(wheel, tmp_path_factory) -> Path:
    """A new, empty virtualenv (nothing of this interpreter's) with the wheel and its dependencies from the index."""
    venv = tmp_path_factory.mktemp("venv")
    created = subprocess.run(
        [sys.executable, "-m", "venv", "--without-pip", str(venv)],
        capture_output=True, text=True, timeout=LIMIT_SECONDS,
    )
    assert created.returncode == 0, created.stderr
    python = venv / "bin" / "python"
    assert _distributions(python) == set(), "the new virtualenv is not empty"
    # pinned as the Lambda runtime gets them; everything else is what installing the wheel resolves from the index
    installed = subprocess.run(
        [*UV, "pip", "install", "--quiet", "--no-progress", "--system-certs", "--python", str(python),
         "--constraint", str(REPOSITORY / "requirements.txt"), str(wheel)],
        capture_output=True, text=True, timeout=LIMIT_SECONDS, env=_without_this_virtualenv(),
    )
    if OFFLINE_MAY_SKIP and installed.returncode != 0 and any(sign in installed.stderr for sign in NO_NETWORK_SIGNS):
        pytest.skip("uv could not reach the package index for the wheel's dependencies")
    assert installed.returncode == 0, installed.stderr
    return venv


def _distributions(python: Path) -> set[str]:
    listed = subprocess.run(
        [str(python), "-I", "-c", "import importlib.metadata as m; print('\\n'.join(d.metadata['Name'] for d in m.distributions()))"],
        capture_output=True, text=True, timeout=LIMIT_SECONDS, env=_without_this_virtualenv(),
    )
    assert listed.returncode == 0, listed.stderr
    return {name.lower() for name in listed.stdout.split()}


def _without_this_virtualenv() -> dict[str, str]:
    """The environment with nothing pointing at this checkout or at the virtualenv running the tests."""
    environment = {
        key: value for key, value in os.environ.items() if key not in ("PYTHONPATH", "TRAPHEUS_TEMPLATE", "VIRTUAL_ENV")
    }
    environment["POWERTOOLS_LOG_LEVEL"] = "WARNING"
    return environment


def _run(installed: Path, *arguments: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(installed / "bin" / "trapheus"), *arguments],
        capture_output=True, text=True, cwd=cwd, env=_without_this_virtualenv(), timeout=LIMIT_SECONDS,
    )


def test_the_wheel_installs_what_the_local_engine_needs(installed):
    names = _distributions(installed / "bin" / "python")
    # moto's server extra brings flask (local serve); the per-service extras bring the interpreter's parsers
    assert {"trapheus", "moto", "flask", "flask-cors", "jsonpath-ng", "antlr4-python3-runtime", "pyyaml"} <= names


def test_the_installed_command_shows_its_help(installed, tmp_path):
    ran = _run(installed, "--help", cwd=tmp_path)

    assert ran.returncode == 0, ran.stderr
    for command in ("restore", "plan", "history", "demo", "local"):
        assert command in ran.stdout


def test_the_installed_package_finds_its_own_stack_from_any_directory(installed, tmp_path):
    found = subprocess.run(
        [str(installed / "bin" / "python"), "-c", "from trapheus_local.server import default_template; print(default_template())"],
        capture_output=True, text=True, cwd=tmp_path, env=_without_this_virtualenv(), timeout=LIMIT_SECONDS,
    )
    assert found.returncode == 0, found.stderr
    template = Path(found.stdout.strip())
    assert template.is_relative_to(installed) and template.name == "template.yaml"


def test_the_installed_demo_passes_from_any_directory(installed, tmp_path):
    ran = _run(installed, "demo", "--json", cwd=tmp_path)

    summary = json.loads(ran.stdout)
    assert Path(summary["template"]).is_relative_to(installed)
    assert summary["failedChecks"] == [] and summary.get("error") is None, summary.get("error") or summary["failedChecks"]
    assert ran.returncode == 0


def test_the_installed_local_endpoint_answers_boto3_and_stops_on_sigterm(installed, tmp_path):
    command = [
        str(installed / "bin" / "trapheus"), "local", "serve", "--port", "0",
        "--param", "RecipientEmails=ops@example.com", "--param", "SenderEmail=trapheus@example.com",
    ]
    with served(command, env=_without_this_virtualenv(), cwd=tmp_path) as (running, endpoint):
        announced = running.wait_for(re.compile(r"^state machine RestoreStateMachine: (arn:\S+)$")).group(1)
        machines = client("stepfunctions", endpoint).list_state_machines()["stateMachines"]
        assert announced in [machine["stateMachineArn"] for machine in machines], machines

        running.process.send_signal(signal.SIGTERM)
        assert running.wait_for(STOPPED)
        assert running.process.wait(timeout=LIMIT_SECONDS) == 0
