"""Failure alerts: what went wrong in a run, told by email (SES), Slack and an SNS topic (as JSON).

The state machines hand the alert handlers ``$.request``, ``$.failure``,
``$.rollback``, ``kind`` and ``$$.Execution``; the table workflows' requests name a
``table`` where the restore workflow's name an ``identifier``. Any of it may be missing or
malformed (input validation fails before a clean request exists), and an alert
must still go out with whatever is there: nothing in this module raises on a
strange event, only on a delivery that failed.
"""

from __future__ import annotations

import contextlib
import html
import json
import logging
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from enum import Enum
from typing import Any

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from trapheus import clients
from trapheus.errors import AlertError
from trapheus.kinds import kind_for
from trapheus.log import logger
from trapheus.throttling import aws_errors

UNKNOWN = "unknown"
MESSAGE_LIMIT = 1500
VALUE_LIMIT = 200

# SES refuses a message with more than 50 recipients.
SES_MAX_RECIPIENTS = 50

SLACK_TIMEOUT_SECONDS = (3.05, 10.0)  # (connect, read)
SLACK_RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})

# A full history holds at most 25,000 events; read newest first and stop early.
HISTORY_PAGE_SIZE = 500
HISTORY_MAX_PAGES = 50
FAILURE_EVENT_PREFIXES = ("Task", "LambdaFunction", "Activity")
FAILURE_EVENT_SUFFIXES = ("Failed", "TimedOut")


class AlertKind(str, Enum):
    RESTORE = "restore"
    EXPORT = "export"  # a warning: the restore went on without the export
    BACKUP = "backup"  # a backup run: some databases failed, were refused, or are past their recovery point
    DR_COPY = "dr-copy"  # a DR copy run (the DR account): some shared snapshots were not copied
    TABLE_BACKUP = "table-backup"
    TABLE_RESTORE = "table-restore"
    TABLE_CLEANUP = "table-cleanup"  # a table run was stopped or timed out; the clean-up reports what it did
    COPY = "copy"  # a copy workflow run (its request names the lifecycle and the copy)
    APPROVAL = "approval"  # not a failure: a copy waits for a person to approve its promotion

    @property
    def is_table(self) -> bool:
        return self in (AlertKind.TABLE_BACKUP, AlertKind.TABLE_RESTORE, AlertKind.TABLE_CLEANUP)


ROLLBACK_OUTCOMES = {
    "done": "rolled back: the original database is back under its identifier",
    "failed": "ROLLBACK FAILED: the original database may still be renamed or unavailable; check it now",
    "not_needed": "not needed: nothing had been changed yet",
    "skipped": "skipped",
}

TABLE_ROLLBACK_OUTCOMES = {
    "recovered": "rolled back: the table is back under its name, restored from its on-demand backup with its settings",
    "failed": "ROLLBACK FAILED: the table may be missing or half-restored; its on-demand backup is kept; check it now",
    "kept": "the unfinished target table is kept (tagged with the backup id); a re-run with the same input resumes the load",
    "discarded": "the incomplete backup's files were removed; no backup was made",
    "backup_kept": "the backup itself is complete and restorable; only a step after it failed",
    "not_needed": "not needed: no table had been changed",
}


@dataclass(frozen=True)
class Alert:
    """Everything a person needs to know about one failure, as plain text values."""

    identifier: str
    task: str
    database_type: str
    snapshot_identifier: str | None
    kind: AlertKind
    failed_step: str
    error: str
    message: str
    rollback: str | None
    execution_name: str | None
    execution_arn: str | None
    started_at: str | None
    console_url: str | None

    @classmethod
    def from_event(cls, event: Any, failed_step: str | None = None) -> Alert:
        """Read an alert event; missing or malformed parts become ``unknown``, never an exception."""
        event = _mapping(event)
        request = _mapping(event.get("request"))
        failure = _mapping(event.get("failure"))
        execution = _mapping(event.get("execution"))
        error_type, message = readable_cause(failure.get("Cause"))
        execution_arn = _optional_text(execution.get("Id"))
        kind = next((k for k in AlertKind if k.value == event.get("kind")), AlertKind.RESTORE)
        return cls(
            identifier=_text(request.get("table") if kind.is_table else request.get("identifier") or request.get("policy") or request.get("lifecycle")),
            task=_table_task(kind, request) if kind.is_table else _text(request.get("task") or _copy_task(request)),
            database_type="DynamoDB table" if kind.is_table else _database_type(request.get("isCluster")),
            snapshot_identifier=_optional_text(
                request.get("backupId") if kind.is_table else request.get("snapshotIdentifier") or request.get("copy")
            ),
            kind=kind,
            # a failure found by a status check names its step; task failures are looked up in the history
            failed_step=failed_step or _optional_text(event.get("failedStep")) or _optional_text(failure.get("Step")) or UNKNOWN,
            error=_optional_text(failure.get("Error")) or error_type or UNKNOWN,
            message=message or "no cause was given",
            rollback=_optional_text(event.get("rollback")),
            execution_name=_optional_text(execution.get("Name")),
            execution_arn=execution_arn,
            started_at=_optional_text(execution.get("StartTime")),
            console_url=execution_console_url(execution_arn),
        )

    @property
    def rollback_outcome(self) -> str | None:
        if self.rollback is None:
            return None
        return (TABLE_ROLLBACK_OUTCOMES if self.kind.is_table else ROLLBACK_OUTCOMES).get(self.rollback, self.rollback)


@dataclass(frozen=True)
class AlertResult:
    channel: str
    sent: int
    skipped: bool
    reason: str | None = None

    def to_dict(self) -> dict[str, Any]:
        result: dict[str, Any] = {"channel": self.channel, "sent": self.sent, "skipped": self.skipped}
        if self.reason:
            result["reason"] = self.reason
        return result


# --- reading the event -------------------------------------------------------------------------


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _optional_text(value: Any) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, str):
        return _clip(value, VALUE_LIMIT)
    # a wrong type in the input is itself worth seeing, e.g. isCluster "false"
    return _clip(json.dumps(value, default=str), VALUE_LIMIT)


def _text(value: Any) -> str:
    return _optional_text(value) or UNKNOWN


def _table_task(kind: AlertKind, request: dict[str, Any]) -> str:
    if kind is AlertKind.TABLE_BACKUP or ("backupId" not in request and "table" in request):
        return "backup"
    if request.get("replace") is True:
        return "replace"
    target = _optional_text(request.get("target"))
    return f"restore into {target}" if target else "restore"


def _copy_task(request: dict[str, Any]) -> str | None:
    """The copy workflow's requests name an action, not a task."""
    action = request.get("action")
    return f"copy {action}" if isinstance(action, str) else None


def _database_type(is_cluster: Any) -> str:
    if isinstance(is_cluster, bool):
        return kind_for(is_cluster).label
    if is_cluster is None:
        return UNKNOWN
    # quoted, so the string "false" reads as the mistake it is
    return f"{UNKNOWN} (isCluster was {_clip(json.dumps(is_cluster, default=str), VALUE_LIMIT)})"


def _without_traceback(text: str) -> str:
    cut = text.find("Traceback (most recent call last)")
    return (text if cut < 0 else text[:cut]).strip()


def readable_cause(cause: Any) -> tuple[str | None, str]:
    """(error type, message) from a Catch's ``Cause``; Lambda's JSON is unwrapped, stack traces dropped."""
    payload: Any = cause
    if isinstance(cause, str):
        try:
            payload = json.loads(cause)
        except ValueError:
            payload = cause
    if isinstance(payload, dict):
        error_type = payload.get("errorType")
        message = next(
            (payload[key] for key in ("errorMessage", "message", "Message", "Cause", "cause") if payload.get(key)),
            None,
        )
        if message is None:
            rest = {k: v for k, v in payload.items() if k not in ("stackTrace", "trace", "errorType")}
            message = json.dumps(rest, default=str) if rest else ""
        return (error_type if isinstance(error_type, str) and error_type else None), _readable(message)
    if payload is None:
        return None, ""
    return None, _readable(payload)


def _readable(message: Any) -> str:
    text = message if isinstance(message, str) else json.dumps(message, default=str)
    return _clip(_without_traceback(text), MESSAGE_LIMIT)


def execution_console_url(execution_arn: str | None) -> str | None:
    """Link to the execution in the Step Functions console, or None without a usable ARN."""
    if not execution_arn:
        return None
    parts = execution_arn.split(":")
    if len(parts) < 8 or parts[0] != "arn" or parts[2] != "states" or parts[5] != "execution" or not parts[3]:
        return None
    region = parts[3]
    return f"https://{region}.console.aws.amazon.com/states/home?region={region}#/v2/executions/details/{execution_arn}"


# --- the failed step, from the execution history ----------------------------------------------


def _is_failure_event(event: dict[str, Any]) -> bool:
    event_type = str(event.get("type", ""))
    return event_type.startswith(FAILURE_EVENT_PREFIXES) and event_type.endswith(FAILURE_EVENT_SUFFIXES)


def _failure_error(event: dict[str, Any]) -> Any:
    event_type = str(event.get("type", ""))
    details_key = event_type[:1].lower() + event_type[1:] + "EventDetails"  # TaskFailed -> taskFailedEventDetails
    return _mapping(event.get(details_key)).get("error")


def _entered_state(event: dict[str, Any] | None) -> str | None:
    if event is None or not str(event.get("type", "")).endswith("StateEntered"):
        return None
    return _optional_text(_mapping(event.get("stateEnteredEventDetails")).get("name"))


def _index(events: Iterable[dict[str, Any]]) -> dict[int, dict[str, Any]]:
    return {event["id"]: event for event in events if isinstance(event.get("id"), int)}


def _latest_failure(by_id: dict[int, dict[str, Any]], error: str | None) -> dict[str, Any] | None:
    failures = [
        event
        for event in by_id.values()
        if _is_failure_event(event) and (error is None or _failure_error(event) == error)
    ]
    return max(failures, key=lambda event: event["id"]) if failures else None


def _state_by_chain(by_id: dict[int, dict[str, Any]], failure: dict[str, Any]) -> str | None:
    """Follow ``previousEventId`` from the failure back to the state that ran the task (exact, even in Parallel)."""
    seen: set[int] = set()
    current = by_id.get(failure.get("previousEventId"))
    while current is not None and current["id"] not in seen:
        if name := _entered_state(current):
            return name
        seen.add(current["id"])
        current = by_id.get(current.get("previousEventId"))
    return None


def _state_entered_before(by_id: dict[int, dict[str, Any]], failure: dict[str, Any]) -> str | None:
    earlier = [event for event in by_id.values() if event["id"] < failure["id"] and _entered_state(event)]
    return _entered_state(max(earlier, key=lambda event: event["id"])) if earlier else None


def failed_step_from_history(events: Iterable[dict[str, Any]], error: str | None = None) -> str | None:
    """The state in which the most recent task failure (with ``error``, when given) happened.

    Events may come in any order. The chain of ``previousEventId`` leads from the
    failure back to the state that scheduled the task; when part of that chain is
    missing, the nearest earlier ``...StateEntered`` event stands in.
    """
    by_id = _index(events)
    failure = _latest_failure(by_id, error)
    if failure is None:
        return None
    return _state_by_chain(by_id, failure) or _state_entered_before(by_id, failure)


def _newest_first(events: Sequence[dict[str, Any]]) -> bool:
    ids = [event.get("id") for event in events if isinstance(event.get("id"), int)]
    return len(ids) >= 2 and ids[0] > ids[-1]


def _answer_so_far(events: Sequence[dict[str, Any]], error: str | None) -> str | None:
    """The failed step if the newest-first events read so far already settle it, else None."""
    if not _newest_first(events):
        return None
    by_id = _index(events)
    failure = _latest_failure(by_id, error)  # every newer event has been read, so this one is the latest
    return _state_by_chain(by_id, failure) if failure else None


def find_failed_step(execution_arn: str | None, error: str | None = None, client: Any = None) -> str:
    """Name of the state that failed, or ``unknown`` when the history cannot be read or says nothing."""
    if not execution_arn:
        return UNKNOWN
    events: list[dict[str, Any]] = []
    try:
        paginator = (client or clients.client("stepfunctions")).get_paginator("get_execution_history")
        pages = paginator.paginate(
            executionArn=execution_arn,
            reverseOrder=True,
            includeExecutionData=False,
            PaginationConfig={"PageSize": HISTORY_PAGE_SIZE, "MaxItems": HISTORY_PAGE_SIZE * HISTORY_MAX_PAGES},
        )
        for page in pages:
            events.extend(page.get("events", []))
            if step := _answer_so_far(events, error):
                return step
        return failed_step_from_history(events, error) or UNKNOWN
    except Exception as problem:  # best effort: the alert matters more than its step name
        logger.warning("Could not read the execution history; the failed step is unknown", problem=repr(problem))
        return UNKNOWN


def locate_failed_step(alert: Alert, client: Any = None) -> Alert:
    """``alert`` with its failed step read from the execution history, unless the event named it."""
    if alert.failed_step != UNKNOWN or alert.kind is AlertKind.APPROVAL:
        return alert
    error = None if alert.error == UNKNOWN else alert.error
    return replace(alert, failed_step=find_failed_step(alert.execution_arn, error, client))


# --- what the alert says ----------------------------------------------------------------------


def subject(alert: Alert) -> str:
    if alert.kind is AlertKind.APPROVAL:
        return _clip(f"[trapheus] APPROVAL NEEDED: promote {alert.snapshot_identifier} ({alert.identifier})", VALUE_LIMIT)
    if alert.kind is AlertKind.BACKUP:
        return _clip(f"[trapheus] BACKUP NEEDS ATTENTION: policy {alert.identifier}", VALUE_LIMIT)
    if alert.kind is AlertKind.DR_COPY:
        return _clip("[trapheus] DR COPY NEEDS ATTENTION: shared snapshots not copied", VALUE_LIMIT)
    if alert.kind is AlertKind.TABLE_CLEANUP:
        return _clip(f"[trapheus] STOPPED: {alert.task} of {alert.identifier}", VALUE_LIMIT)
    if alert.kind is AlertKind.EXPORT:
        return _clip(f"[trapheus] WARNING: snapshot export failed for {alert.identifier}", VALUE_LIMIT)
    return _clip(f"[trapheus] FAILED: {alert.task} of {alert.identifier}", VALUE_LIMIT)


def headline(alert: Alert) -> str:
    if alert.kind is AlertKind.APPROVAL:
        return (
            f"The copy {alert.snapshot_identifier} of lifecycle {alert.identifier} is ready and verified, and waits for your "
            f"approval before its DNS name points at it: trapheus copy approve {alert.execution_name} "
            f"(or: trapheus copy reject {alert.execution_name} --reason ...)."
        )
    if alert.kind is AlertKind.BACKUP:
        return f"The backup run of policy {alert.identifier} did not back everything up (see below)."
    if alert.kind is AlertKind.DR_COPY:
        return "The DR copy run did not copy every snapshot shared with this account (see below)."
    if alert.kind is AlertKind.TABLE_CLEANUP:
        return (
            f"A {alert.task} run of {alert.database_type} {alert.identifier} was stopped before it finished; "
            "trapheus cleaned up after it."
        )
    if alert.kind is AlertKind.EXPORT:
        return (
            f"Exporting the snapshot of {alert.identifier} to S3 failed in step '{alert.failed_step}'. "
            "The restore went on without it."
        )
    return f"The {alert.task} run for {alert.database_type} {alert.identifier} failed in step '{alert.failed_step}'."


def alert_fields(alert: Alert) -> list[tuple[str, str]]:
    """Label/value pairs shown by every channel, in order; absent values are left out."""
    copies = alert.kind in (AlertKind.COPY, AlertKind.APPROVAL)
    fields = [
        ("Table" if alert.kind.is_table else "Lifecycle" if copies else "Database", f"{alert.identifier} ({alert.database_type})"),
        ("Task", alert.task),
        ("Backup" if alert.kind.is_table else "Copy" if copies else "Snapshot", alert.snapshot_identifier),
        ("Failed step", alert.failed_step),
        ("Error", alert.error),
        ("Rollback", alert.rollback_outcome),
        ("Execution", alert.execution_name),
        ("Started", alert.started_at),
    ]
    return [(label, value) for label, value in fields if value is not None]


def email_text(alert: Alert) -> str:
    lines = [headline(alert), ""]
    lines += [f"{label}: {value}" for label, value in alert_fields(alert)]
    lines += ["", "What went wrong:", alert.message]
    if alert.console_url:
        lines += ["", f"Step Functions console: {alert.console_url}"]
    return "\n".join(lines) + "\n"


def email_html(alert: Alert) -> str:
    rows = "".join(
        f"<tr><th align=\"left\">{html.escape(label)}</th><td>{html.escape(value)}</td></tr>"
        for label, value in alert_fields(alert)
    )
    link = (
        f'<p><a href="{html.escape(alert.console_url)}">Open the execution in the Step Functions console</a></p>'
        if alert.console_url
        else ""
    )
    return (
        f"<html><body><p>{html.escape(headline(alert))}</p><table>{rows}</table>"
        f"<p>What went wrong:</p><pre>{html.escape(alert.message)}</pre>{link}</body></html>"
    )


def _slack_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slack_message(alert: Alert) -> dict[str, Any]:
    """A Slack message: ``text`` for notifications and old clients, ``blocks`` for the layout."""
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": _clip(subject(alert), 150)}},
        {"type": "section", "text": {"type": "mrkdwn", "text": _slack_escape(headline(alert))}},
        {
            "type": "section",
            "fields": [
                {"type": "mrkdwn", "text": f"*{label}*\n{_slack_escape(value)}"} for label, value in alert_fields(alert)
            ][:10],
        },
        {"type": "section", "text": {"type": "mrkdwn", "text": f"```{_slack_escape(alert.message)}```"}},
    ]
    if alert.console_url:
        blocks.append(
            {
                "type": "actions",
                "elements": [
                    {
                        "type": "button",
                        "text": {"type": "plain_text", "text": "Open the execution"},
                        "url": alert.console_url,
                    }
                ],
            }
        )
    return {"text": headline(alert), "blocks": blocks}


# --- delivery ---------------------------------------------------------------------------------


def split_addresses(text: str | None) -> tuple[str, ...]:
    """``a@x, b@y`` -> ("a@x", "b@y"); empty entries dropped."""
    return tuple(part.strip() for part in (text or "").split(",") if part.strip())


def send_email(
    alert: Alert, sender: str, recipients: Sequence[str], ses_client: Any = None, configuration_set: str | None = None
) -> AlertResult:
    """Email ``alert`` to ``recipients`` through SES (and ``configuration_set``, when one is configured, for its
    event publishing and suppression rules); skipped when there are no recipients."""
    recipients = [address.strip() for address in recipients if address and address.strip()]
    if not recipients:
        return AlertResult("email", 0, True, "no recipients configured")
    if not sender:
        raise AlertError("no sender address is configured (SENDER_EMAIL), so the email alert cannot be sent")
    ses = ses_client or clients.client("ses")
    message = {
        "Subject": {"Data": subject(alert), "Charset": "UTF-8"},
        "Body": {
            "Text": {"Data": email_text(alert), "Charset": "UTF-8"},
            "Html": {"Data": email_html(alert), "Charset": "UTF-8"},
        },
    }
    for start in range(0, len(recipients), SES_MAX_RECIPIENTS):
        batch = recipients[start : start + SES_MAX_RECIPIENTS]
        arguments: dict[str, Any] = {"Source": sender, "Destination": {"ToAddresses": batch}, "Message": message}
        if configuration_set:
            arguments["ConfigurationSetName"] = configuration_set
        with aws_errors(AlertError, "sending the email alert"):
            response = ses.send_email(**arguments)
        logger.info("Email alert sent", message_id=response.get("MessageId"), recipients=len(batch))
    return AlertResult("email", len(recipients), False)


def slack_session(retries: int = 2, backoff_factor: float = 0.5) -> requests.Session:
    """A session that retries a webhook a few times on 429/5xx, and never on connection errors.

    ``Retry-After`` is not honoured: Slack may ask for long waits, and the Lambda
    must finish; the workflow's own retry covers a longer outage.
    """
    retry = Retry(
        total=retries,
        status=retries,
        connect=0,
        read=0,
        other=0,
        redirect=0,
        status_forcelist=SLACK_RETRY_STATUSES,
        allowed_methods=frozenset({"POST"}),
        backoff_factor=backoff_factor,
        backoff_max=4,
        respect_retry_after_header=False,
        raise_on_status=False,
    )
    session = requests.Session()
    adapter = HTTPAdapter(max_retries=retry)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return session


@contextlib.contextmanager
def _urllib3_logs_quiet() -> Iterator[None]:
    """urllib3 logs the request path (the secret part of a webhook URL) while it retries; keep it out."""
    urllib3_logger = logging.getLogger("urllib3")
    previous = urllib3_logger.level
    urllib3_logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        urllib3_logger.setLevel(previous)


_SLACK_ERROR_TOKEN = re.compile(r"^[a-z_]{1,64}$")  # e.g. no_service, invalid_payload


def _post_to_webhook(session: requests.Session, url: str, message: dict[str, Any]) -> str | None:
    """None on success, else a problem description that does not contain the URL."""
    try:
        response = session.post(url, json=message, timeout=SLACK_TIMEOUT_SECONDS)
    except (requests.RequestException, ValueError) as error:
        return type(error).__name__  # its message would carry the URL
    if 200 <= response.status_code < 300:
        return None
    body = response.text.strip()
    return f"HTTP {response.status_code}" + (f" {body}" if _SLACK_ERROR_TOKEN.match(body) else "")


def send_slack(alert: Alert, webhook_urls: Sequence[str], session: requests.Session | None = None) -> AlertResult:
    """Post ``alert`` to every webhook; one that fails does not stop the others.

    Webhooks are named by their position (``webhook 2``), never by URL.
    """
    urls = [url for url in webhook_urls if url]
    if not urls:
        return AlertResult("slack", 0, True, "no Slack webhooks configured")
    message = slack_message(alert)
    problems: list[str] = []
    with contextlib.ExitStack() as stack:
        http = session if session is not None else stack.enter_context(slack_session())
        stack.enter_context(_urllib3_logs_quiet())
        for number, url in enumerate(urls, start=1):
            problem = _post_to_webhook(http, url, message)
            if problem:
                logger.warning("Slack webhook failed", webhook=number, problem=problem)
                problems.append(f"webhook {number}: {problem}")
    if problems:
        raise AlertError(f"{len(problems)} of {len(urls)} Slack webhooks failed ({'; '.join(problems)})")
    logger.info("Slack alert sent", webhooks=len(urls))
    return AlertResult("slack", len(urls), False)


# --- SNS ------------------------------------------------------------------------------------------

SNS_SUBJECT_LIMIT = 100  # SNS refuses a longer Subject


def alert_document(alert: Alert) -> dict[str, Any]:
    """The alert as one JSON document, for pagers and chat integrations that subscribe to the topic."""
    return {
        "source": "trapheus",
        "kind": alert.kind.value,
        "subject": subject(alert),
        "headline": headline(alert),
        "identifier": alert.identifier,
        "task": alert.task,
        "databaseType": alert.database_type,
        "snapshotIdentifier": alert.snapshot_identifier,
        "failedStep": alert.failed_step,
        "error": alert.error,
        "message": alert.message,
        "rollback": alert.rollback,
        "rollbackOutcome": alert.rollback_outcome,
        "execution": {"name": alert.execution_name, "arn": alert.execution_arn, "startedAt": alert.started_at},
        "consoleUrl": alert.console_url,
    }


def _sns_subject(alert: Alert) -> str:
    # SNS takes printable ASCII only, no line breaks, and at most 100 characters
    text = "".join(ch if 32 <= ord(ch) < 127 else "?" for ch in subject(alert))
    return text[:SNS_SUBJECT_LIMIT]


def send_sns(alert: Alert, topic_arn: str | None, sns_client: Any = None) -> AlertResult:
    """Publish ``alert`` as JSON to the topic; skipped when there is none."""
    if not topic_arn:
        return AlertResult("sns", 0, True, "no alert topic configured")
    sns = sns_client or clients.client("sns")
    with aws_errors(AlertError, "publishing the alert to the SNS topic"):
        response = sns.publish(
            TopicArn=topic_arn,
            Subject=_sns_subject(alert),
            Message=json.dumps(alert_document(alert)),
            MessageAttributes={"kind": {"DataType": "String", "StringValue": alert.kind.value}},
        )
    logger.info("SNS alert published", message_id=response.get("MessageId"))
    return AlertResult("sns", 1, False)
