"""Copies of production from the command line: the copy workflow's input, its approvals, and the copies that exist.

The copy workflow validates its input itself (and refuses a bad one before any change); what is built here is
only the JSON a command's options stand for, one function per part of it, so every command builds it alike.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import Enum
from typing import Any

import typer

from trapheus.copies import dns
from trapheus.copies.lifecycle import CopyRecord
from trapheus.copies.lifecycle import find_copies as lifecycle_copies
from trapheus_cli.errors import CliError
from trapheus_cli.executions import snapshot
from trapheus_cli.steps import current_step

APPROVAL_STATE = "Wait for the approval"  # the copy workflow's waitForTaskToken state
REJECTED = "ApprovalRejected"


class Action(str, Enum):
    REFRESH = "refresh"
    NEW = "new"
    CLONE = "clone"
    DRILL = "drill"
    PROMOTE = "promote"
    RETIRE = "retire"


# -- the input -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DnsName:
    """A Route 53 name the lifecycle points at its promoted copy: ``ZONE:NAME[:TTL]`` on the command line."""

    hosted_zone_id: str
    record_name: str
    ttl: int | None = None  # None: the workflow's default

    def to_input(self) -> dict[str, Any]:
        document: dict[str, Any] = {"hostedZoneId": self.hosted_zone_id, "recordName": self.record_name}
        if self.ttl is not None:
            document["ttl"] = self.ttl
        return document


def parse_dns(text: str) -> DnsName:
    """``ZONE:NAME`` or ``ZONE:NAME:TTL`` (typer's parser for --dns: a malformed one is a usage error)."""
    if isinstance(text, DnsName):
        return text
    parts = text.split(":")
    if len(parts) not in (2, 3) or not all(parts[:2]):
        raise typer.BadParameter(f"{text!r} is not ZONE:NAME or ZONE:NAME:TTL (e.g. Z123:ledger-staging.db.internal:60)")
    ttl = None
    if len(parts) == 3:
        try:
            ttl = int(parts[2])
        except ValueError:
            raise typer.BadParameter(f"the TTL of {text!r} is not a whole number of seconds") from None
    return DnsName(parts[0], parts[1], ttl)


@dataclass(frozen=True)
class CopyRequest:
    """What a copy command's options ask for; None (or the default) leaves a field to the workflow."""

    lifecycle: str
    source: str | None = None
    is_cluster: bool | None = None
    from_snapshot: str | None = None  # "latest", a snapshot identifier or ARN
    to: str | None = None  # point in time: ISO-8601 or "latest"
    clone: bool = False
    dns: tuple[DnsName, ...] = ()
    suffix: str | None = None
    minimum_age_hours: float | None = None
    instance_class: str | None = None
    readers: int | None = None
    verify: str | None = None
    approve: bool = False
    approval_timeout_minutes: int | None = None
    keep: int | None = None
    final_snapshot: bool = True
    retire_after_minutes: int | None = None
    copy: str | None = None
    adopt: bool = False


def from_input(request: CopyRequest) -> dict[str, Any] | None:
    """Where the copy comes from (``from``): one of --from, --to and --clone, or None for the workflow's default."""
    chosen = [
        ({"snapshot": request.from_snapshot} if request.from_snapshot is not None else None),
        ({"pointInTime": request.to} if request.to is not None else None),
        ({"clone": True} if request.clone else None),
    ]
    given = [document for document in chosen if document is not None]
    if len(given) > 1:
        raise CliError("--from, --to and --clone each say where the copy comes from: give one of them")
    return given[0] if given else None


def dns_input(names: tuple[DnsName, ...]) -> dict[str, Any] | list[dict[str, Any]] | None:
    """One name as an object (as the console input is written), several as a list."""
    if not names:
        return None
    documents = [name.to_input() for name in names]
    return documents[0] if len(documents) == 1 else documents


def copy_input(action: Action, request: CopyRequest) -> dict[str, Any]:
    """The copy workflow's input, with exactly the spec's field names; unset options are left out."""
    document: dict[str, Any] = {
        "source": request.source,
        "isCluster": request.is_cluster,
        "lifecycle": request.lifecycle,
        "action": action.value,
        "from": from_input(request),
        "dns": dns_input(request.dns),
        "copy": request.copy,
        "suffix": request.suffix,
        "minimumAgeHours": request.minimum_age_hours,
        "instanceClass": request.instance_class,
        "readers": request.readers,
        "verify": {"functionArn": request.verify} if request.verify else None,
        "approve": True if request.approve else None,
        "approvalTimeoutMinutes": request.approval_timeout_minutes,
        "adopt": True if request.adopt else None,
        "keep": request.keep,
        "finalSnapshot": None if request.final_snapshot else False,
        "retireAfterMinutes": request.retire_after_minutes,
    }
    return {key: value for key, value in document.items() if value is not None}


def plan_input(copy_document: dict[str, Any]) -> dict[str, Any]:
    """A plan of that run: the workflow answers ``{"plan": {...}}`` and changes nothing."""
    return {"plan": copy_document}


# -- approvals -------------------------------------------------------------------------------------------

_TASK_ENDS = frozenset({"TaskSucceeded", "TaskFailed", "TaskTimedOut", "TaskStartFailed", "TaskSubmitFailed"})


def pending_token(events: list[dict[str, Any]]) -> str | None:
    """The task token of the approval the run waits for now (None: it waits for none).

    The newest entry into the approval state; its TaskScheduled event's parameters carry Payload.taskToken; the
    token is spent once that task ended or the state was left."""
    ordered = sorted(events, key=lambda event: event.get("id", 0))
    entered = [
        event for event in ordered
        if event.get("type") == "TaskStateEntered" and event.get("stateEnteredEventDetails", {}).get("name") == APPROVAL_STATE
    ]  # fmt: skip
    if not entered:
        return None
    after = [event for event in ordered if event.get("id", 0) > entered[-1].get("id", 0)]
    scheduled = next((event for event in reversed(after) if event.get("type") == "TaskScheduled"), None)
    if scheduled is None:
        return None
    later = [event for event in after if event.get("id", 0) > scheduled.get("id", 0)]
    if any(event.get("type") in _TASK_ENDS or event.get("type", "").startswith("Execution") for event in later):
        return None
    if any(event.get("type") == "TaskStateExited" for event in later):
        return None
    try:
        parameters = json.loads(scheduled.get("taskScheduledEventDetails", {}).get("parameters") or "{}")
    except ValueError:
        return None
    payload = parameters.get("Payload") if isinstance(parameters, dict) else None
    token = payload.get("taskToken") if isinstance(payload, dict) else None
    return str(token) if token else None


def waiting_token(stepfunctions: Any, execution_arn: str, events: list[dict[str, Any]]) -> str:
    """The token to answer, or a CliError saying what the run is doing instead."""
    latest = snapshot(stepfunctions, execution_arn, events=events)
    token = pending_token(events) if latest.status == "RUNNING" else None
    if token is None:
        step = current_step(latest.steps)
        where = f", in step {step.name!r}" if latest.status == "RUNNING" and step else ""
        raise CliError(f"the run {latest.name} is not waiting for an approval ({latest.status}{where})")
    return token


def approve(stepfunctions: Any, token: str, caller: str) -> dict[str, Any]:
    output = {"approved": True, "by": caller}
    stepfunctions.send_task_success(taskToken=token, output=json.dumps(output))
    return output


def reject(stepfunctions: Any, token: str, caller: str, reason: str | None) -> dict[str, Any]:
    cause = reason or f"rejected by {caller}"
    stepfunctions.send_task_failure(taskToken=token, error=REJECTED, cause=cause)
    return {"approved": False, "by": caller, "error": REJECTED, "cause": cause}


# -- the copies that exist -------------------------------------------------------------------------------


def find_copies(rds: Any, *, lifecycle: str | None = None, source: str | None = None, page_size: int | None = None) -> list[CopyRecord]:
    """Every copy by its tags (trapheus.copies.lifecycle), by lifecycle, newest first."""
    found = lifecycle_copies(lifecycle, source=source, rds=rds, page_size=page_size)
    return sorted(found, key=lambda c: c.lifecycle)  # stable: newest first within each lifecycle


def _dns_name(name: str) -> str:
    return name.rstrip(".").lower()


def cname_targets(route53: Any, names: list[DnsName]) -> dict[str, str | None]:
    """What each name's CNAME points at now (record name -> value, None: no CNAME), as the workflow reads it."""
    targets = [dns.DnsTarget(name.hosted_zone_id, dns.dns_name(name.record_name)) for name in names]
    current = dns.current_targets(targets, route53)
    return {name.record_name: current[target.key] for name, target in zip(names, targets)}


def points_at(copy: CopyRecord, targets: dict[str, str | None]) -> list[str]:
    """The names (record name -> CNAME value) that point at this copy's endpoint."""
    endpoint = _dns_name(copy.endpoint or "")
    return [name for name, value in targets.items() if endpoint and value == endpoint]
