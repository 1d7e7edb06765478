"""`pip install .` gives a `trapheus` that carries its own stack and runs the demo from any directory."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import yaml

REPOSITORY = Path(__file__).resolve().parents[2]
# what the build reads (pyproject.toml's package-dir and package-data, readme, license)
BUILD_INPUTS = ("pyproject.toml", "README.md", "LICENSE.md", "install.py", "template.yaml", "statemachine", "src")
STACK = "trapheus_local/stack/"
NO_NETWORK_SIGNS = ("Could not find a version that satisfies", "NewConnectionError", "Temporary failure in name resolution")
BUILD_LIMIT_SECONDS = 300  # guards against a hang only


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
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "--wheel-dir", str(output), str(source)],
        capture_output=True,
        text=True,
        timeout=BUILD_LIMIT_SECONDS,
    )
    if built.returncode != 0 and any(sign in built.stderr + built.stdout for sign in NO_NETWORK_SIGNS):
        pytest.skip("pip could not fetch the build backend (setuptools) from the package index")
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
    """A venv seeing this interpreter's packages, with only the wheel installed into it (no index)."""
    venv = tmp_path_factory.mktemp("venv")
    created = subprocess.run(
        [sys.executable, "-m", "venv", "--without-pip", "--system-site-packages", str(venv)],
        capture_output=True, text=True, timeout=BUILD_LIMIT_SECONDS,
    )
    if created.returncode != 0:
        pytest.skip(f"cannot create a venv here: {created.stderr.strip()}")
    python = venv / "bin" / "python"
    installed = subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet", "--no-deps", "--no-index", str(wheel)],
        capture_output=True, text=True, timeout=BUILD_LIMIT_SECONDS,
    )
    if installed.returncode != 0 and "no such option: --python" in installed.stderr:
        pytest.skip("this pip cannot install into another interpreter (--python needs pip 22.3)")
    assert installed.returncode == 0, installed.stderr
    return venv


def _outside_the_checkout(venv: Path) -> dict[str, str]:
    environment = {key: value for key, value in os.environ.items() if key not in ("PYTHONPATH", "TRAPHEUS_TEMPLATE")}
    environment["POWERTOOLS_LOG_LEVEL"] = "WARNING"
    return environment


def test_the_installed_package_finds_its_own_stack_from_any_directory(installed, tmp_path):
    found = subprocess.run(
        [str(installed / "bin" / "python"), "-c", "from trapheus_local.server import default_template; print(default_template())"],
        capture_output=True, text=True, cwd=tmp_path, env=_outside_the_checkout(installed), timeout=BUILD_LIMIT_SECONDS,
    )
    assert found.returncode == 0, found.stderr
    template = Path(found.stdout.strip())
    assert template.is_relative_to(installed) and template.name == "template.yaml"


def test_the_installed_demo_passes_from_any_directory(installed, tmp_path):
    ran = subprocess.run(
        [str(installed / "bin" / "trapheus"), "demo", "--json"],
        capture_output=True, text=True, cwd=tmp_path, env=_outside_the_checkout(installed), timeout=BUILD_LIMIT_SECONDS,
    )
    summary = json.loads(ran.stdout)
    assert Path(summary["template"]).is_relative_to(installed)
    assert summary["failedChecks"] == [] and summary.get("error") is None, summary.get("error") or summary["failedChecks"]
    assert ran.returncode == 0
