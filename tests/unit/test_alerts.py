"""Failure alerts: reading the event, finding the failed step, email through SES, Slack through webhooks."""

from __future__ import annotations

import json
import logging
import re
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
import requests
from botocore.stub import Stubber
from support.slack import SlackListener

from trapheus import alerts, secrets
from trapheus.alerts import Alert, AlertKind, failed_step_from_history, find_failed_step, locate_failed_step
from trapheus.errors import AlertError, ThrottlingError

EVENTS = Path(__file__).resolve().parents[1] / "events"
ACCOUNT = "123456789012"
REGION = "us-east-1"
SENDER = "trapheus@example.com"


def load_event(name: str) -> dict[str, Any]:
    return json.loads((EVENTS / name).read_text())


@pytest.fixture
def restore_failure() -> dict[str, Any]:
    return load_event("alert_restore_failure.json")


@pytest.fixture(autouse=True)
def _fresh_secret_cache():
    secrets.reset_cache()
    yield
    secrets.reset_cache()


# --- a Slack stand-in: a real HTTP server on the loopback interface -----------------------------


@pytest.fixture
def slack() -> Iterator[SlackListener]:
    with SlackListener() as listener:
        yield listener


def fast_session():
    """The production retry policy without backoff, so no test waits."""
    return alerts.slack_session(backoff_factor=0)


# --- reading the event ------------------------------------------------------------------------


def test_alert_carries_every_field_of_a_restore_failure(restore_failure):
    alert = Alert.from_event(restore_failure, failed_step="Restore the snapshot")

    assert alert.identifier == "orders-db"
    assert alert.task == "db_restore"
    assert alert.database_type == "DB instance"
    assert alert.snapshot_identifier == "orders-db-snapshot"
    assert alert.kind is AlertKind.RESTORE
    assert alert.failed_step == "Restore the snapshot"
    assert alert.error == "RestoreError"
    assert alert.message == (
        "restoring orders-db from orders-db-snapshot failed: InvalidParameterCombination: "
        "the instance class db.x9.huge is not available"
    )
    assert alert.rollback_outcome == "rolled back: the original database is back under its identifier"
    assert alert.execution_name == "orders-db-20261122t053000"
    assert alert.console_url == (
        "https://us-east-1.console.aws.amazon.com/states/home?region=us-east-1#/v2/executions/details/"
        "arn:aws:states:us-east-1:123456789012:execution:trapheus-restore:orders-db-20261122t053000"
    )


def test_cluster_alert_names_the_cluster_and_the_region_of_its_execution():
    alert = Alert.from_event(load_event("alert_export_failure.json"))

    assert alert.database_type == "Aurora cluster"
    assert alert.console_url.startswith("https://eu-west-1.console.aws.amazon.com/states/home?region=eu-west-1#")


def test_export_failure_is_a_warning_that_says_the_restore_went_on():
    alert = Alert.from_event(load_event("alert_export_failure.json"), failed_step="Export the snapshot")

    assert alert.kind is AlertKind.EXPORT
    assert alerts.subject(alert) == "[trapheus] WARNING: snapshot export failed for analytics"
    assert "The restore went on" in alerts.headline(alert)
    assert "Rollback" not in dict(alerts.alert_fields(alert))


@pytest.mark.parametrize(
    ("cause", "error_type", "message"),
    [
        pytest.param('{"errorMessage": "cut off', None, '{"errorMessage": "cut off', id="truncated-json"),
        pytest.param(
            'Restore failed\nTraceback (most recent call last):\n  File "app.py", line 3',
            None,
            "Restore failed",
            id="plain-text-with-traceback",
        ),
        pytest.param(
            '{"errorType": "Sandbox.Timedout", "stackTrace": ["  File x"], "requestId": "r-1"}',
            "Sandbox.Timedout",
            '{"requestId": "r-1"}',
            id="json-without-message",
        ),
        pytest.param(
            {"errorMessage": "already parsed", "errorType": "RenameError"}, "RenameError", "already parsed", id="dict"
        ),
        pytest.param(None, None, "", id="missing"),
        pytest.param("[1, 2]", None, "[1, 2]", id="json-list"),
    ],
)
def test_malformed_or_unusual_cause_becomes_readable_text_without_stack_trace(cause, error_type, message):
    assert alerts.readable_cause(cause) == (error_type, message)


def test_stack_trace_never_reaches_any_channel(restore_failure):
    alert = Alert.from_event(restore_failure)
    rendered = alerts.email_text(alert) + alerts.email_html(alert) + json.dumps(alerts.slack_message(alert))

    assert "stackTrace" not in rendered
    assert "/var/task/app.py" not in rendered


@pytest.mark.parametrize(
    "event",
    [
        pytest.param({"failure": {"Error": "InvalidInputError"}}, id="no-request"),
        pytest.param({"request": "orders-db", "failure": {"Error": "InvalidInputError"}}, id="request-not-an-object"),
        pytest.param({"request": {}, "failure": {"Error": "InvalidInputError"}, "execution": "x"}, id="empty-request"),
    ],
)
def test_partial_event_still_builds_an_alert(event):
    alert = Alert.from_event(event)

    assert (alert.identifier, alert.task, alert.database_type) == ("unknown", "unknown", "unknown")
    assert alert.error == "InvalidInputError"
    assert alert.message == "no cause was given"
    assert alert.console_url is None
    assert "unknown" in alerts.email_text(alert)


@pytest.mark.parametrize("event", [None, [], "oops", 42])
def test_event_that_is_not_an_object_still_builds_an_alert(event):
    alert = Alert.from_event(event)

    assert (alert.identifier, alert.error, alert.failed_step) == ("unknown", "unknown", "unknown")
    assert alerts.slack_message(alert)["text"]


def test_invalid_input_shows_the_values_the_user_typed():
    alert = Alert.from_event(load_event("alert_invalid_input.json"))

    assert alert.task == "restore_everything"
    assert alert.database_type == 'unknown (isCluster was "false")'
    assert alert.message.startswith("'task' must be one of")
    assert alert.rollback_outcome == "not needed: nothing had been changed yet"


def test_error_name_comes_from_the_cause_when_the_failure_has_none():
    alert = Alert.from_event({"failure": {"Cause": '{"errorType": "DeleteError", "errorMessage": "boom"}'}})

    assert (alert.error, alert.message) == ("DeleteError", "boom")


@pytest.mark.parametrize(
    "arn",
    [
        None,
        "",
        "not-an-arn",
        "arn:aws:states:us-east-1:123456789012:stateMachine:sm",
        "arn:aws:lambda:us-east-1:1:function:f:x",
    ],
)
def test_no_console_link_without_an_execution_arn(arn):
    assert alerts.execution_console_url(arn) is None


def test_markup_in_values_is_escaped_in_html_and_slack():
    alert = Alert.from_event({"request": {"identifier": "<b>x</b>&"}, "failure": {"Cause": "<script>"}})

    assert "<script>" not in alerts.email_html(alert)
    assert "&lt;script&gt;" in alerts.email_html(alert)
    assert "<script>" not in json.dumps(alerts.slack_message(alert))


# --- the failed step ----------------------------------------------------------------------------


def _catch(next_state: str) -> list[dict[str, Any]]:
    return [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.failure", "Next": next_state}]


# Two tasks fail with different errors; the first is caught and the run goes on.
FAILING_DEFINITION = {
    "StartAt": "Check the snapshot",
    "States": {
        "Check the snapshot": {
            "Type": "Task",
            "Resource": "arn:aws:states:::aws-sdk:rds:describeDBSnapshots",
            "Parameters": {"DBSnapshotIdentifier": "missing-snapshot"},
            "Catch": _catch("Restore the snapshot"),
            "Next": "Restore the snapshot",
        },
        "Restore the snapshot": {
            "Type": "Task",
            "Resource": "arn:aws:states:::aws-sdk:rds:describeDBInstances",
            "Parameters": {"DBInstanceIdentifier": "missing-db"},
            "Catch": _catch("Send the alerts"),
            "End": True,
        },
        "Send the alerts": {"Type": "Pass", "Next": "Restore failed"},
        "Restore failed": {"Type": "Fail", "Error": "RestoreError", "Cause": "see the history"},
    },
}


@pytest.fixture
def failed_execution() -> Iterator[tuple[Any, str]]:
    """A finished, FAILED execution run by moto's Step Functions interpreter."""
    from moto import mock_aws
    from moto.stepfunctions.parser.utils import TMP_THREADS

    with mock_aws(config={"stepfunctions": {"execute_state_machine": True}}):
        sfn = boto3.client("stepfunctions", region_name=REGION)
        machine = sfn.create_state_machine(
            name="trapheus-restore",
            definition=json.dumps(FAILING_DEFINITION),
            roleArn=f"arn:aws:iam::{ACCOUNT}:role/trapheus-states",
        )
        execution_arn = sfn.start_execution(stateMachineArn=machine["stateMachineArn"], name="run-1", input="{}")[
            "executionArn"
        ]
        for worker in list(TMP_THREADS):  # the interpreter runs in threads; wait for it to finish
            worker.join(timeout=60)
        assert sfn.describe_execution(executionArn=execution_arn)["status"] == "FAILED"
        yield sfn, execution_arn


def test_failed_step_is_read_from_a_moto_execution_history(failed_execution):
    sfn, execution_arn = failed_execution

    assert find_failed_step(execution_arn, "rds.DBInstanceNotFoundFaultException", sfn) == "Restore the snapshot"
    assert find_failed_step(execution_arn, None, sfn) == "Restore the snapshot"


def test_failed_step_matches_the_error_of_the_alert_not_any_earlier_failure(failed_execution):
    sfn, execution_arn = failed_execution

    assert find_failed_step(execution_arn, "rds.DBSnapshotNotFoundFaultException", sfn) == "Check the snapshot"
    assert find_failed_step(execution_arn, "NoSuchError", sfn) == "unknown"


def test_alert_gets_its_failed_step_from_the_history(failed_execution):
    sfn, execution_arn = failed_execution
    event = {
        "request": {"identifier": "orders-db", "task": "db_restore", "isCluster": False},
        "failure": {"Error": "rds.DBInstanceNotFoundFaultException", "Cause": "DBInstance missing-db not found."},
        "execution": {"Id": execution_arn, "Name": "run-1"},
    }

    alert = locate_failed_step(Alert.from_event(event), sfn)

    assert alert.failed_step == "Restore the snapshot"


def _event(event_id: int, previous: int, event_type: str, **details: Any) -> dict[str, Any]:
    return {"id": event_id, "previousEventId": previous, "type": event_type, **details}


def _entered(event_id: int, previous: int, event_type: str, name: str) -> dict[str, Any]:
    return _event(event_id, previous, event_type, stateEnteredEventDetails={"name": name})


def _lambda_failed(event_id: int, previous: int, error: str) -> dict[str, Any]:
    return _event(event_id, previous, "LambdaFunctionFailed", lambdaFunctionFailedEventDetails={"error": error})


# Built by hand: moto's interpreter cannot run Lambda tasks without Docker, so it never
# writes LambdaFunction* events, nor interleaves branches as a Parallel state does.
PARALLEL_HISTORY = [
    _event(1, 0, "ExecutionStarted"),
    _entered(2, 1, "ParallelStateEntered", "Delete the old copies"),
    _entered(3, 2, "TaskStateEntered", "Delete the instance"),
    _entered(4, 2, "TaskStateEntered", "Delete the snapshot"),
    _event(5, 3, "LambdaFunctionScheduled"),
    _event(6, 4, "LambdaFunctionScheduled"),
    _event(7, 5, "LambdaFunctionStarted"),
    _event(8, 6, "LambdaFunctionStarted"),
    _lambda_failed(9, 7, "DeleteError"),
    _event(10, 8, "LambdaFunctionSucceeded"),
    _entered(11, 10, "TaskStateEntered", "Send the email alert"),
]


def test_failed_step_follows_the_event_chain_through_interleaved_branches():
    # the state entered just before the failure is "Delete the snapshot"; the chain says otherwise
    assert failed_step_from_history(PARALLEL_HISTORY, "DeleteError") == "Delete the instance"
    assert failed_step_from_history(list(reversed(PARALLEL_HISTORY))) == "Delete the instance"


def test_failed_step_falls_back_to_the_nearest_earlier_state_when_the_chain_is_broken():
    history = [
        _entered(2, 1, "TaskStateEntered", "Restore the snapshot"),
        _event(40, 39, "TaskTimedOut", taskTimedOutEventDetails={"error": "States.Timeout"}),
    ]

    assert failed_step_from_history(history, "States.Timeout") == "Restore the snapshot"


def test_history_without_a_task_failure_names_no_step():
    history = [_entered(2, 1, "ChoiceStateEntered", "Is the database available?"), _event(3, 2, "ChoiceStateExited")]

    assert failed_step_from_history(history) is None


def _stubbed_sfn() -> tuple[Any, Stubber]:
    sfn = boto3.client("stepfunctions", region_name=REGION)
    return sfn, Stubber(sfn)


def test_history_read_newest_first_stops_at_the_first_page_that_answers():
    sfn, stubber = _stubbed_sfn()
    arn = f"arn:aws:states:{REGION}:{ACCOUNT}:execution:trapheus-restore:run-1"
    newest_first = [
        _entered(8, 7, "TaskStateEntered", "Send the email alert"),
        _lambda_failed(7, 6, "RestoreError"),
        _event(6, 5, "LambdaFunctionStarted"),
        _event(5, 4, "LambdaFunctionScheduled"),
        _entered(4, 3, "TaskStateEntered", "Restore the snapshot"),
    ]
    for event in newest_first:
        event["timestamp"] = "2026-11-22T05:30:00Z"
    # only one page is stubbed: asking for the next one would fail the lookup
    stubber.add_response(
        "get_execution_history",
        {"events": newest_first, "nextToken": "more"},
        {"executionArn": arn, "reverseOrder": True, "includeExecutionData": False, "maxResults": 500},
    )
    with stubber:
        assert find_failed_step(arn, "RestoreError", sfn) == "Restore the snapshot"


@pytest.mark.parametrize("code", ["AccessDeniedException", "ExecutionDoesNotExist", "ThrottlingException"])
def test_unreadable_history_leaves_the_step_unknown(code):
    sfn, stubber = _stubbed_sfn()
    stubber.add_client_error("get_execution_history", service_error_code=code, http_status_code=400)
    with stubber:
        assert find_failed_step(f"arn:aws:states:{REGION}:{ACCOUNT}:execution:sm:run", "RestoreError", sfn) == "unknown"


def test_missing_execution_in_moto_leaves_the_step_unknown(aws, restore_failure):
    alert = locate_failed_step(Alert.from_event(restore_failure))

    assert alert.failed_step == "unknown"


def test_step_named_by_the_event_is_kept_without_reading_the_history(restore_failure):
    sfn, stubber = _stubbed_sfn()  # no responses: any call would fail
    with stubber:
        alert = locate_failed_step(Alert.from_event({**restore_failure, "failedStep": "Wait for the restore"}), sfn)

    assert alert.failed_step == "Wait for the restore"


# --- email ---------------------------------------------------------------------------------------


def sent_emails() -> list[Any]:
    from moto.ses.models import ses_backends

    return ses_backends[ACCOUNT][REGION].sent_messages


def test_email_is_sent_through_ses_with_the_failure_details(aws, restore_failure):
    ses = aws.client("ses")
    ses.verify_email_identity(EmailAddress=SENDER)
    requests_made: list[dict[str, Any]] = []
    ses.meta.events.register("provide-client-params.ses.SendEmail", lambda params, **_: requests_made.append(params))
    alert = Alert.from_event(restore_failure, failed_step="Restore the snapshot")

    result = alerts.send_email(alert, SENDER, ["dba@example.com", "oncall@example.com"])

    assert result.to_dict() == {"channel": "email", "sent": 2, "skipped": False}
    [message] = sent_emails()  # moto keeps the HTML part of what it received
    assert message.source == SENDER
    assert message.destinations["ToAddresses"] == ["dba@example.com", "oncall@example.com"]
    assert message.subject == "[trapheus] FAILED: db_restore of orders-db"
    assert '<th align="left">Failed step</th><td>Restore the snapshot</td>' in message.body
    assert '<th align="left">Error</th><td>RestoreError</td>' in message.body
    assert f'<a href="{alert.console_url}">' in message.body
    [sent] = requests_made
    text = sent["Message"]["Body"]["Text"]["Data"]
    assert "Failed step: Restore the snapshot\nError: RestoreError\n" in text
    assert "the instance class db.x9.huge is not available" in text
    assert f"Step Functions console: {alert.console_url}" in text
    assert "stackTrace" not in text + message.body


def test_email_without_recipients_is_skipped(aws, restore_failure):
    result = alerts.send_email(Alert.from_event(restore_failure), SENDER, [" ", ""])

    assert result.to_dict() == {"channel": "email", "sent": 0, "skipped": True, "reason": "no recipients configured"}
    assert sent_emails() == []


def test_email_from_an_unverified_sender_raises_alert_error(aws, restore_failure):
    with pytest.raises(AlertError, match="MessageRejected") as raised:
        alerts.send_email(Alert.from_event(restore_failure), "nobody@example.com", ["dba@example.com"])

    assert not isinstance(raised.value, ThrottlingError)
    assert sent_emails() == []


def test_email_without_a_sender_raises_alert_error(restore_failure):
    with pytest.raises(AlertError, match="SENDER_EMAIL"):
        alerts.send_email(Alert.from_event(restore_failure), "", ["dba@example.com"])


def test_throttled_email_raises_throttling_error_so_the_workflow_retries(restore_failure):
    ses = boto3.client("ses", region_name=REGION)
    stubber = Stubber(ses)
    stubber.add_client_error(
        "send_email", service_error_code="Throttling", service_message="Maximum sending rate exceeded."
    )
    with stubber, pytest.raises(ThrottlingError, match="Maximum sending rate exceeded"):
        alerts.send_email(Alert.from_event(restore_failure), SENDER, ["dba@example.com"], ses_client=ses)


def test_email_to_many_recipients_goes_out_in_batches_ses_accepts(aws, restore_failure):
    aws.client("ses").verify_email_identity(EmailAddress=SENDER)
    recipients = [f"person{number}@example.com" for number in range(120)]

    result = alerts.send_email(Alert.from_event(restore_failure), SENDER, recipients)

    assert result.sent == 120
    assert [len(message.destinations["ToAddresses"]) for message in sent_emails()] == [50, 50, 20]


# --- Slack ---------------------------------------------------------------------------------------


def test_slack_message_reaches_every_webhook_exactly_as_built(slack, restore_failure):
    alert = Alert.from_event(restore_failure, failed_step="Restore the snapshot")
    urls = [slack.url("/services/T000/B001/first"), slack.url("/services/T000/B002/second")]

    result = alerts.send_slack(alert, urls, session=fast_session())

    assert result.to_dict() == {"channel": "slack", "sent": 2, "skipped": False}
    headline = "The db_restore run for DB instance orders-db failed in step 'Restore the snapshot'."
    expected = {
        "text": headline,
        "blocks": [
            {"type": "header", "text": {"type": "plain_text", "text": "[trapheus] FAILED: db_restore of orders-db"}},
            {"type": "section", "text": {"type": "mrkdwn", "text": headline}},
            {
                "type": "section",
                "fields": [
                    {"type": "mrkdwn", "text": "*Database*\norders-db (DB instance)"},
                    {"type": "mrkdwn", "text": "*Task*\ndb_restore"},
                    {"type": "mrkdwn", "text": "*Snapshot*\norders-db-snapshot"},
                    {"type": "mrkdwn", "text": "*Failed step*\nRestore the snapshot"},
                    {"type": "mrkdwn", "text": "*Error*\nRestoreError"},
                    {
                        "type": "mrkdwn",
                        "text": "*Rollback*\nrolled back: the original database is back under its identifier",
                    },
                    {"type": "mrkdwn", "text": "*Execution*\norders-db-20261122t053000"},
                    {"type": "mrkdwn", "text": "*Started*\n2026-11-22T05:30:00.000Z"},
                ],
            },
            {
                "type": "section",
                "text": {
                    "type": "mrkdwn",
                    "text": "```restoring orders-db from orders-db-snapshot failed: InvalidParameterCombination: "
                    "the instance class db.x9.huge is not available```",
                },
            },
            {
                "type": "actions",
                "elements": [
                    {
                        "type": "button",
                        "text": {"type": "plain_text", "text": "Open the execution"},
                        "url": "https://us-east-1.console.aws.amazon.com/states/home?region=us-east-1#/v2/executions/"
                        "details/arn:aws:states:us-east-1:123456789012:execution:trapheus-restore:"
                        "orders-db-20261122t053000",
                    }
                ],
            },
        ],
    }
    assert slack.received == [("/services/T000/B001/first", expected), ("/services/T000/B002/second", expected)]


def test_one_failing_webhook_does_not_stop_the_others_and_its_url_stays_secret(slack, restore_failure, caplog):
    caplog.set_level(logging.DEBUG)
    failing, working = "/services/T000/B001/broken-secret", "/services/T000/B002/working-secret"
    slack.always[failing] = 500
    alert = Alert.from_event(restore_failure)

    with pytest.raises(AlertError) as raised:
        alerts.send_slack(alert, [slack.url(failing), slack.url(working)], session=fast_session())

    assert str(raised.value) == "1 of 2 Slack webhooks failed (webhook 1: HTTP 500)"
    assert len(slack.bodies(working)) == 1
    assert len(slack.bodies(failing)) == 3  # the first try and two bounded retries
    logged = "\n".join(record.getMessage() + repr(record.__dict__) for record in caplog.records)
    assert "secret" not in logged
    assert "services" not in logged


def test_webhook_answering_429_once_is_retried_and_delivered(slack, restore_failure):
    path = "/services/T000/B001/busy"
    slack.scripted[path] = [429]

    result = alerts.send_slack(Alert.from_event(restore_failure), [slack.url(path)], session=fast_session())

    assert result.sent == 1
    assert len(slack.bodies(path)) == 2


def test_webhook_refused_by_slack_is_not_retried_and_reports_slacks_reason(slack, restore_failure):
    path = "/services/T000/B001/removed"
    slack.always[path] = 404

    with pytest.raises(AlertError, match=r"^1 of 1 Slack webhooks failed \(webhook 1: HTTP 404 no_service\)$"):
        alerts.send_slack(Alert.from_event(restore_failure), [slack.url(path)], session=fast_session())

    assert len(slack.bodies(path)) == 1


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_unreachable_and_malformed_webhooks_are_reported_without_their_urls(slack, restore_failure):
    unreachable = f"http://127.0.0.1:{_closed_port()}/services/T000/B001/unreachable-secret"
    working = slack.url("/services/T000/B002/ok")

    with pytest.raises(AlertError) as raised:
        alerts.send_slack(
            Alert.from_event(restore_failure), [unreachable, "not a url secret", working], session=fast_session()
        )

    message = str(raised.value)
    # each failure is named by its position and the kind of error, never by the URL (which is the secret)
    reported = re.fullmatch(r"2 of 3 Slack webhooks failed \(webhook 1: (\w+); webhook 2: (\w+)\)", message)
    assert reported, message
    assert reported[1] == "ConnectionError"
    assert issubclass(getattr(requests.exceptions, reported[2]), (requests.RequestException, ValueError)), reported[2]
    for part_of_a_url in ("secret", "127.0.0.1", "not a url", "/services/"):
        assert part_of_a_url not in message
    assert len(slack.bodies("/services/T000/B002/ok")) == 1


def test_slack_without_webhooks_is_skipped(restore_failure):
    result = alerts.send_slack(Alert.from_event(restore_failure), [])

    assert result.to_dict() == {
        "channel": "slack",
        "sent": 0,
        "skipped": True,
        "reason": "no Slack webhooks configured",
    }


# --- webhook URLs from Secrets Manager -------------------------------------------------------------

HOOK_A, HOOK_B = "https://hooks.example/a", "https://hooks.example/b"


@pytest.mark.parametrize(
    ("secret", "urls"),
    [
        ('["https://hooks.example/a", "https://hooks.example/b"]', (HOOK_A, HOOK_B)),
        ('{"webhooks": ["https://hooks.example/a"]}', ("https://hooks.example/a",)),
        ('{"webhooks": "https://hooks.example/a,https://hooks.example/b"}', (HOOK_A, HOOK_B)),
        ("https://hooks.example/a, https://hooks.example/b,", ("https://hooks.example/a", "https://hooks.example/b")),
        ('"https://hooks.example/a"', ("https://hooks.example/a",)),
        ("", ()),
        ("[]", ()),
    ],
)
def test_webhook_secret_shapes(secret, urls):
    assert secrets.parse_webhook_urls(secret) == urls


@pytest.mark.parametrize(
    "secret", ['{"urls": ["https://hooks.example/secret"]}', '[{"url": "https://hooks.example/secret"}]', "42"]
)
def test_unsupported_webhook_secret_is_refused_without_echoing_it(secret):
    with pytest.raises(AlertError) as raised:
        secrets.parse_webhook_urls(secret)

    assert "hooks.example" not in str(raised.value)


def test_webhook_urls_are_read_from_secrets_manager_once_per_cold_start(aws):
    manager = aws.client("secretsmanager")
    arn = manager.create_secret(Name="trapheus/slack", SecretString='{"webhooks": ["https://hooks.example/a"]}')["ARN"]

    assert secrets.slack_webhook_urls(arn) == ("https://hooks.example/a",)
    manager.delete_secret(SecretId=arn, ForceDeleteWithoutRecovery=True)
    assert secrets.slack_webhook_urls(arn) == ("https://hooks.example/a",)  # cached

    secrets.reset_cache()
    with pytest.raises(AlertError, match="ResourceNotFoundException"):
        secrets.slack_webhook_urls(arn)


def test_no_secret_configured_means_no_webhooks():
    assert secrets.slack_webhook_urls(None) == ()
    assert secrets.slack_webhook_urls("") == ()
