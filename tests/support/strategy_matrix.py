"""The strategy matrix's line at the end of the session (tests/workflow/test_strategy_matrix.py).

Everything is counted from the test reports, which pytest-xdist forwards to its controller, so
the line is the same whether the session ran in one process or on several workers.
"""

from __future__ import annotations

import os
from typing import Any

import pytest

MATRIX_TEST = "test_a_failed_step_leaves_the_database_served_and_a_rerun_succeeds"
PLUGIN_NAME = "strategy-matrix-report"
NOT_SELECTED = "not in the pairwise selection"  # the skip reason of a possible case left out


def full_matrix() -> bool:
    """TRAPHEUS_FULL_MATRIX=1 runs every possible combination instead of a pairwise selection."""
    return os.environ.get("TRAPHEUS_FULL_MATRIX", "") not in ("", "0", "false")


class MatrixReport:
    """Counts the matrix cases as pytest reports them, and adds one line to the terminal summary."""

    def __init__(self) -> None:
        self.outcomes = {"passed": 0, "xfailed": 0, "failed": 0}
        self.not_selected = 0
        self.impossible = 0

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if f"::{MATRIX_TEST}[" not in report.nodeid:
            return
        if report.skipped and report.when == "setup":
            reason = report.longrepr[2] if isinstance(report.longrepr, (tuple, list)) else str(report.longrepr)
            if NOT_SELECTED in reason:
                self.not_selected += 1
            else:
                self.impossible += 1
            return
        if report.when != "call":
            return
        if hasattr(report, "wasxfail"):
            self.outcomes["failed" if report.passed else "xfailed"] += 1  # strict: an xpass fails
        else:
            self.outcomes["passed" if report.passed else "failed"] += 1

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        cases = sum(self.outcomes.values())
        if not cases:
            return
        possible = cases + self.not_selected
        selection = "every possible combination" if full_matrix() else f"pairwise selection of {possible} possible"
        terminalreporter.write_line(
            f"strategy matrix: {cases} cases, {self.outcomes['passed']} passed, "
            f"{self.outcomes['xfailed']} xfailed (known gap), {self.outcomes['failed']} failed "
            f"({selection}; {self.impossible} of {possible + self.impossible} combinations cannot occur)"
        )
