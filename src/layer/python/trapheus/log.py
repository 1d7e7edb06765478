"""The one Powertools logger every module shares (JSON lines, keys appended per invocation)."""

from __future__ import annotations

from aws_lambda_powertools import Logger

logger = Logger(service="trapheus")


def bind_run(identifier: str | None, execution: str | None) -> None:
    """Put the database identifier and execution name on every following log line."""
    logger.append_keys(identifier=identifier, execution=execution)
