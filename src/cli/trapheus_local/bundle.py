"""Where the trapheus stack files are: the repository checkout, or the copy shipped in the package.

The engine imports each handler from its ``CodeUri`` folder relative to the
template, so the template, ``statemachine/`` and ``src/functions/`` must stay
side by side. A wheel carries them under ``trapheus_local/stack/`` (see the
``[tool.setuptools]`` sections of pyproject.toml), laid out as in the repository.
"""

from __future__ import annotations

from pathlib import Path

TEMPLATE_NAME = "template.yaml"
PACKAGE_DIR = Path(__file__).resolve().parent
# src/cli/trapheus_local/bundle.py -> the repository root
CHECKOUT_DIR = PACKAGE_DIR.parents[2]
INSTALLED_DIR = PACKAGE_DIR / "stack"


def _is_stack(directory: Path) -> bool:
    return (directory / TEMPLATE_NAME).is_file() and (directory / "statemachine").is_dir()


def stack_dir() -> Path | None:
    """The folder holding trapheus's own template.yaml: the checkout first, else the installed copy."""
    for candidate in (CHECKOUT_DIR, INSTALLED_DIR):
        if _is_stack(candidate):
            return candidate
    return None


def stack_template() -> Path:
    """trapheus's own template.yaml; FileNotFoundError when neither a checkout nor an installed copy has it."""
    directory = stack_dir()
    if directory is None:
        raise FileNotFoundError(
            f"the trapheus stack files are missing: neither {CHECKOUT_DIR} nor {INSTALLED_DIR} holds "
            f"{TEMPLATE_NAME} and statemachine/ (reinstall the package, or run from the repository)"
        )
    return directory / TEMPLATE_NAME
