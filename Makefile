# One entry point for people and CI: `make demo`, `make test`, `make check`.
#
# Everything is installed into the project's own virtualenv, .venv/, created from scratch by the
# first target that needs it (nothing goes into the system Python, which PEP 668 systems refuse
# anyway). Installs are redone only when the files that declare them change.
# Prerequisites: make, Python >= 3.11 with its venv module, and for `make test`/`make check`
# Node.js with npm; scripts/prerequisites.sh says which one is missing.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PIP := $(BIN)/python -m pip --quiet --disable-pip-version-check
# every core; tests marked xdist_group stay on one worker (tests/conftest.py starts them first), and
# tests/support/state_coverage.py gathers the states each worker's executions entered
PYTEST_WORKERS ?= auto

.PHONY: install dev demo test check graph clean

install: $(VENV)/.installed-package     ## the trapheus package and its `trapheus` command, in .venv/

dev: $(VENV)/.installed-dev node_modules/.installed  ## everything the tests need: test tools, the package (editable), npm ASL validators

demo: install       ## the whole workflow on an emulated AWS account, no credentials needed
	$(BIN)/trapheus demo

test: dev           ## the whole test suite, on every core
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) --dist loadgroup

check: dev          ## deployability and security checks of the template (sam, cfn-lint, checkov)
	PYTHON="$(abspath $(BIN)/python)" bash scripts/check-template.sh
	PYTHON="$(abspath $(BIN)/python)" bash scripts/check-ci-examples.sh

graph: install      ## redraw docs/diagrams from the ASL files
	$(BIN)/trapheus graph

clean:              ## forget the virtualenv and the npm tools (the next target installs them again)
	rm -rf $(VENV) node_modules

$(BIN)/python:
	@bash scripts/prerequisites.sh python "$(PYTHON)"
	$(PYTHON) -m venv $(VENV) || { rm -rf $(VENV); exit 1; }

$(VENV)/.installed-package: pyproject.toml requirements.txt | $(BIN)/python
	$(PIP) install --constraint requirements.txt --editable .
	@touch $@

$(VENV)/.installed-dev: requirements-dev.txt requirements.txt pyproject.toml | $(BIN)/python
	$(PIP) install --requirement requirements-dev.txt
	@touch $@

node_modules/.installed: package.json package-lock.json
	@bash scripts/prerequisites.sh node
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@
