"""Publish the failure of a trapheus run, as JSON, to the stack's SNS alert topic."""

from __future__ import annotations

import os
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from trapheus.alerts import Alert, locate_failed_step, send_sns
from trapheus.log import bind_run, logger


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    alert = Alert.from_event(event)
    bind_run(alert.identifier, alert.execution_name)
    alert = locate_failed_step(alert)
    result = send_sns(alert, os.environ.get("ALERT_TOPIC_ARN"))
    logger.info("SNS alert handled", **result.to_dict())
    return result.to_dict()
