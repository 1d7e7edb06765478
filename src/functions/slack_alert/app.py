"""Post the failure of a trapheus run to the configured Slack webhooks."""

from __future__ import annotations

import os
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from trapheus.alerts import Alert, locate_failed_step, send_slack
from trapheus.log import bind_run, logger
from trapheus.secrets import slack_webhook_urls


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    alert = Alert.from_event(event)
    bind_run(alert.identifier, alert.execution_name)
    alert = locate_failed_step(alert)
    result = send_slack(alert, slack_webhook_urls(os.environ.get("SLACK_WEBHOOKS_SECRET_ARN")))
    logger.info("Slack alert handled", **result.to_dict())
    return result.to_dict()
