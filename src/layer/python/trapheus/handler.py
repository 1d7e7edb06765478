"""Wrap a step function as a Lambda handler: JSON logs keyed by run, nothing else."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from trapheus.log import logger
from trapheus.steps import context_keys


def step_handler(step: Callable[..., dict], *, with_context: bool = False) -> Callable[[Any, Any], dict]:
    """``step(event)``, or ``step(event, context)`` for steps that budget their time by the Lambda context."""

    def handler(event: Any, context: Any = None) -> dict:
        # keys from a previous invocation (or another function in the local engine) must not leak
        logger.clear_state()
        # the level is read per invocation: one process may serve functions configured differently
        logger.setLevel(os.environ.get("POWERTOOLS_LOG_LEVEL") or "INFO")
        logger.append_keys(step=step.__name__, request_id=getattr(context, "aws_request_id", None), **context_keys(event))
        logger.info("step started", extra={"action": event.get("action") if isinstance(event, dict) else None})
        event = event if isinstance(event, dict) else {"input": event}
        result = step(event, context) if with_context else step(event)
        logger.info("step finished", extra={"result": result.get("result") or result.get("state")})
        return result

    handler.__name__ = f"{step.__name__}_handler"
    return handler
