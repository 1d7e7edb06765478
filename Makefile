# One entry point for people and CI: `make demo`, `make test`, `make check`.
PYTHON ?= python3
PIP := $(PYTHON) -m pip

.PHONY: install dev demo test check graph

install:            ## the trapheus package and its `trapheus` command
	$(PIP) install --quiet .

dev:                ## everything the tests need (Python test deps + npm ASL linters)
	$(PIP) install --quiet -r requirements-dev.txt
	$(PIP) install --quiet --no-deps -e .
	npm ci --no-audit --no-fund --loglevel=error

demo: install       ## the whole workflow on an emulated AWS account, no credentials needed
	trapheus demo

test: dev           ## the whole test suite
	$(PYTHON) -m pytest

check: dev          ## deployability and security checks of the template (sam, cfn-lint, checkov)
	bash scripts/check-template.sh
	PYTHON=$(PYTHON) bash scripts/check-ci-examples.sh

graph:              ## redraw docs/diagrams from the ASL files
	trapheus graph
