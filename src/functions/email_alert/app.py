"""Email the failure of a trapheus run through SES."""

from __future__ import annotations

import os
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from trapheus.alerts import Alert, locate_failed_step, send_email, split_addresses
from trapheus.log import bind_run, logger


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    alert = Alert.from_event(event)
    bind_run(alert.identifier, alert.execution_name)
    alert = locate_failed_step(alert)
    result = send_email(
        alert,
        os.environ.get("SENDER_EMAIL", ""),
        split_addresses(os.environ.get("RECIPIENT_EMAILS")),
        configuration_set=os.environ.get("SES_CONFIGURATION_SET") or None,
    )
    logger.info("Email alert handled", **result.to_dict())
    return result.to_dict()
