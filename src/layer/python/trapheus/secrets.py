"""Secrets read at run time: the Slack webhook URLs.

Webhook URLs grant posting rights to a channel, so they live in Secrets Manager
rather than in template parameters or environment variables, and no message or
log line built here contains them.
"""

from __future__ import annotations

import json
from typing import Any

from trapheus import clients
from trapheus.errors import AlertError
from trapheus.throttling import aws_errors

# One read per cold start: the secret is the same for every alert of a container.
_webhook_cache: dict[str, tuple[str, ...]] = {}

_SHAPES = "a JSON list of URLs, a JSON object {\"webhooks\": [...]}, or a comma-separated string"


def parse_webhook_urls(secret_text: str) -> tuple[str, ...]:
    """Return the URLs in ``secret_text``; empty entries are dropped, order is kept."""
    text = secret_text.strip()
    if not text:
        return ()
    try:
        value: Any = json.loads(text)
    except ValueError:
        value = text  # not JSON: a comma-separated string
    if isinstance(value, dict):
        if "webhooks" not in value:
            raise AlertError(f"the Slack webhook secret has no 'webhooks' key; expected {_SHAPES}")
        value = value["webhooks"]
    if isinstance(value, str):
        value = value.split(",")
    if not isinstance(value, list) or not all(isinstance(entry, str) for entry in value):
        # never echo the value: it may hold a URL
        raise AlertError(f"the Slack webhook secret has an unsupported shape; expected {_SHAPES}")
    return tuple(entry.strip() for entry in value if entry.strip())


def slack_webhook_urls(secret_arn: str | None, client: Any = None) -> tuple[str, ...]:
    """The webhook URLs stored in ``secret_arn``; none when no secret is configured."""
    if not secret_arn:
        return ()
    if secret_arn not in _webhook_cache:
        secrets_client = client or clients.client("secretsmanager")
        with aws_errors(AlertError, "reading the Slack webhook secret"):
            response = secrets_client.get_secret_value(SecretId=secret_arn)
        text = response.get("SecretString")
        if text is None and response.get("SecretBinary") is not None:
            text = bytes(response["SecretBinary"]).decode("utf-8")
        _webhook_cache[secret_arn] = parse_webhook_urls(text or "")
    return _webhook_cache[secret_arn]


def reset_cache() -> None:
    """Forget secrets read so far (tests, or after a rotation)."""
    _webhook_cache.clear()
