"""The email and Slack alert Lambda handlers, invoked as Lambda would, against moto and a local Slack."""

from __future__ import annotations

import importlib.util
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from support.slack import SlackListener
from test_alerts import ACCOUNT, REGION, SENDER, load_event

from trapheus import secrets
from trapheus.errors import AlertError
from trapheus.log import logger

FUNCTIONS = Path(__file__).resolve().parents[2] / "src" / "functions"
EXECUTION_NAME = "orders-db-20261122t053000"


@dataclass
class FakeLambdaContext:
    function_name: str = "trapheus-alert"
    memory_limit_in_mb: int = 256
    invoked_function_arn: str = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:trapheus-alert"
    aws_request_id: str = "6f1c2a9e-0000-4000-8000-000000000001"


@dataclass
class LoadedHandler:
    module: ModuleType
    log: io.StringIO

    def __call__(self, event: dict[str, Any]) -> dict[str, Any]:
        return self.module.handler(event, FakeLambdaContext())

    def log_lines(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.log.getvalue().splitlines() if line.strip()]


def _load_handler(folder: str) -> Iterator[LoadedHandler]:
    """Import ``src/functions/<folder>/app.py`` the way Lambda does, with the shared JSON log captured."""
    spec = importlib.util.spec_from_file_location(f"{folder}_app", FUNCTIONS / folder / "app.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    log = io.StringIO()
    stream_handler = logger.registered_handler
    previous_stream, previous_level = stream_handler.setStream(log), logger.log_level
    logger.setLevel("INFO")
    try:
        yield LoadedHandler(module, log)
    finally:
        stream_handler.setStream(previous_stream)
        logger.setLevel(previous_level)


@pytest.fixture
def email_handler() -> Iterator[LoadedHandler]:
    yield from _load_handler("email_alert")


@pytest.fixture
def slack_handler() -> Iterator[LoadedHandler]:
    secrets.reset_cache()
    yield from _load_handler("slack_alert")
    secrets.reset_cache()


@pytest.fixture
def slack() -> Iterator[SlackListener]:
    with SlackListener() as listener:
        yield listener


def _sent_emails() -> list[Any]:
    from moto.ses.models import ses_backends

    return ses_backends[ACCOUNT][REGION].sent_messages


def _assert_every_line_names_the_run(lines: list[dict[str, Any]]) -> None:
    assert lines
    for line in lines:
        assert (line.get("identifier"), line.get("execution")) == ("orders-db", EXECUTION_NAME), line


# --- email ---------------------------------------------------------------------------------------


def test_email_handler_sends_to_every_recipient_and_names_the_run_on_every_log_line(aws, email_handler, monkeypatch):
    aws.client("ses").verify_email_identity(EmailAddress=SENDER)
    monkeypatch.setenv("SENDER_EMAIL", SENDER)
    monkeypatch.setenv("RECIPIENT_EMAILS", "dba@example.com, oncall@example.com")

    result = email_handler(load_event("alert_restore_failure.json"))

    assert result == {"channel": "email", "sent": 2, "skipped": False}
    [message] = _sent_emails()
    assert message.subject == "[trapheus] FAILED: db_restore of orders-db"
    assert message.destinations["ToAddresses"] == ["dba@example.com", "oncall@example.com"]
    lines = email_handler.log_lines()
    _assert_every_line_names_the_run(lines)
    # the execution is not in moto: the step is unknown and the email went out anyway
    assert "Could not read the execution history; the failed step is unknown" in [line["message"] for line in lines]


def test_email_handler_without_recipients_sends_nothing(aws, email_handler, monkeypatch):
    monkeypatch.setenv("SENDER_EMAIL", SENDER)
    monkeypatch.delenv("RECIPIENT_EMAILS", raising=False)

    result = email_handler(load_event("alert_restore_failure.json"))

    assert result == {"channel": "email", "sent": 0, "skipped": True, "reason": "no recipients configured"}
    assert _sent_emails() == []


def test_email_handler_alerts_on_input_that_failed_validation(aws, email_handler, monkeypatch):
    aws.client("ses").verify_email_identity(EmailAddress=SENDER)
    monkeypatch.setenv("SENDER_EMAIL", SENDER)
    monkeypatch.setenv("RECIPIENT_EMAILS", "dba@example.com")

    result = email_handler(load_event("alert_invalid_input.json"))

    assert result["sent"] == 1
    [message] = _sent_emails()
    assert message.subject == "[trapheus] FAILED: restore_everything of orders-db"
    assert "isCluster was &quot;false&quot;" in message.body


def test_email_handler_fails_when_ses_rejects_the_sender(aws, email_handler, monkeypatch):
    monkeypatch.setenv("SENDER_EMAIL", "unverified@example.com")
    monkeypatch.setenv("RECIPIENT_EMAILS", "dba@example.com")

    with pytest.raises(AlertError, match="Email address not verified"):
        email_handler(load_event("alert_restore_failure.json"))


# --- Slack ---------------------------------------------------------------------------------------


def _store_webhooks(aws, urls: list[str]) -> str:
    return aws.client("secretsmanager").create_secret(
        Name="trapheus/slack-webhooks", SecretString=json.dumps({"webhooks": urls})
    )["ARN"]


def test_slack_handler_posts_to_every_webhook_in_the_secret(aws, slack_handler, slack, monkeypatch):
    paths = ["/services/T000/B001/first-secret", "/services/T000/B002/second-secret"]
    monkeypatch.setenv("SLACK_WEBHOOKS_SECRET_ARN", _store_webhooks(aws, [slack.url(path) for path in paths]))

    result = slack_handler(load_event("alert_restore_failure.json"))

    assert result == {"channel": "slack", "sent": 2, "skipped": False}
    assert [path for path, _ in slack.received] == paths
    for _, body in slack.received:
        assert body["text"] == "The db_restore run for DB instance orders-db failed in step 'unknown'."
    _assert_every_line_names_the_run(slack_handler.log_lines())


def test_slack_handler_without_a_secret_is_skipped(aws, slack_handler, monkeypatch):
    monkeypatch.delenv("SLACK_WEBHOOKS_SECRET_ARN", raising=False)

    result = slack_handler(load_event("alert_export_failure.json"))

    assert result == {"channel": "slack", "sent": 0, "skipped": True, "reason": "no Slack webhooks configured"}


def test_slack_handler_reports_a_refused_webhook_without_revealing_it(aws, slack_handler, slack, monkeypatch):
    refused, working = "/services/T000/B001/refused-secret", "/services/T000/B002/working-secret"
    slack.always[refused] = 404  # not retried, so the handler's own backoff never runs here
    monkeypatch.setenv("SLACK_WEBHOOKS_SECRET_ARN", _store_webhooks(aws, [slack.url(refused), slack.url(working)]))

    with pytest.raises(AlertError) as raised:
        slack_handler(load_event("alert_restore_failure.json"))

    assert str(raised.value) == "1 of 2 Slack webhooks failed (webhook 1: HTTP 404 no_service)"
    assert [path for path, _ in slack.received] == [refused, working]
    logged = slack_handler.log.getvalue()
    assert "Slack webhook failed" in logged
    assert "secret" not in logged
    assert "/services/" not in logged
