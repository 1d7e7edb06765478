"""Failures the command line explains in one sentence instead of a traceback."""

from __future__ import annotations


class CliError(Exception):
    """Something the operator can fix; exit code 2 unless told otherwise."""

    def __init__(self, message: str, exit_code: int = 2) -> None:
        super().__init__(message)
        self.exit_code = exit_code


class StateMachineNotFoundError(CliError):
    """No restore state machine could be found at the target."""


class ExecutionNotFoundError(CliError):
    """The execution named on the command line does not exist."""
