"""The copy workflow's steps: one function per action of the copy function, taking the step's event.

The copy is made and converged by the restore workflow's own code (trapheus.restore: restore, members, configure,
twin check, protection) under the copy's names; what is the copy workflow's own is here: its survey, stages,
password, DNS, retirement and report.
"""

from __future__ import annotations

import os
from datetime import datetime, timezone
from typing import Any

from trapheus import clients, restore
from trapheus.copies import dns, lifecycle, passwords
from trapheus.copies import tags as lifecycle_tags
from trapheus.copies import report as run_report
from trapheus.copies import retire as retirement
from trapheus.copies import survey
from trapheus.configuration import PROTECTION
from trapheus.copies.configuration import apply_modification
from trapheus.copies.request import from_state
from trapheus.copies.tags import Stage
from trapheus.databases import capture, describe, find, status
from trapheus.errors import DatabaseNotAvailableError, DatabaseNotFoundError, IdentifierInUseError, InvalidInputError, RestoreError
from trapheus.kinds import DatabaseKind, kind_for
from trapheus.sources import RestoreSource

NO_ORIGINAL = "none"  # a copy's restore never meets its source under its own name: any database there is this run's


def _started(event: dict) -> datetime:
    value = str(event.get("startedAt") or "")
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(timezone.utc)
    except ValueError:
        return datetime.now(timezone.utc)


def _copy(event: dict) -> tuple[DatabaseKind, str, dict]:
    copy = event.get("copy") or {}
    identifier = copy.get("identifier")
    if not isinstance(identifier, str) or not identifier:
        raise InvalidInputError("the step needs the copy's identifier")
    return kind_for(bool(copy.get("isCluster"))), identifier, copy


def _record(event: dict, rds: Any = None) -> lifecycle.CopyRecord:
    kind, identifier, copy = _copy(event)
    description = find(kind, identifier, rds or clients.client("rds"))
    record = lifecycle.record_of(kind, description) if description is not None else None
    if record is None or record.lifecycle != copy.get("lifecycle"):
        raise DatabaseNotFoundError(f"{kind.label} {identifier!r} is not a copy of lifecycle {copy.get('lifecycle')!r}")
    return record


def _settings(event: dict) -> dict[str, int]:
    from trapheus.steps import _settings as restore_settings  # one reading of the poll settings for every workflow

    return restore_settings(event)


def prepare(event: dict) -> dict:
    if isinstance(event.get("input"), dict) and "plan" in event["input"]:
        return survey.plan(event["input"]["plan"], _started(event))
    return survey.prepare(event.get("input"), _started(event), _settings(event))


def _source(event: dict) -> RestoreSource:
    source = event.get("source") or {}
    resource_id = source.get("resourceId")
    if source.get("clone"):
        return RestoreSource(clone=True, original_resource_id=resource_id)
    if source.get("pointInTime"):
        return RestoreSource(point_in_time=source["pointInTime"], original_resource_id=resource_id)
    return RestoreSource(snapshot=source.get("snapshot"))


def make(event: dict) -> dict:
    kind, identifier, copy = _copy(event)
    existing = find(kind, identifier, clients.client("rds"))
    ours = existing is not None and (lifecycle.record_of(kind, existing) or None)
    if existing is not None and not (ours and ours.lifecycle == copy.get("lifecycle") and ours.stage == Stage.NEW.value):
        # free at the survey: only this run's own restore, retried, may be there now
        raise IdentifierInUseError(f"{kind.label} {identifier!r} appeared since the survey and is not this run's copy")
    outcome = restore.restore_twin(kind, _source(event), identifier, event["configuration"], NO_ORIGINAL)
    return {"result": "restoring", **outcome}


def add_members(event: dict) -> dict:
    kind, identifier, _ = _copy(event)
    return restore.add_members(kind, identifier, event["configuration"], {}, int(event.get("attempt") or 0))


def configure(event: dict) -> dict:
    kind, identifier, _ = _copy(event)
    outcome = restore.apply_configuration(kind, identifier, event["configuration"], {})
    return {"result": "modifying" if outcome["changed"] else "unchanged", **outcome}


def check_twin(event: dict) -> dict:
    """The copy has every setting it was made with (the modify stage's included), protection aside."""
    kind, identifier, _ = _copy(event)
    differences, _ = restore.verify_twin(kind, identifier, event["configuration"], {}, protected=False)
    if differences:
        raise RestoreError(f"copy {identifier!r} does not have the configuration it was made with: " + "; ".join(differences))
    return {"check": "configuration", "passed": True}


def protect(event: dict) -> dict:
    """Deletion protection as the copy was made with it, or (modify action) as the modify stage asks."""
    kind, identifier, _ = _copy(event)
    configuration = event.get("configuration")
    if not isinstance(configuration, dict):
        wanted = from_state(event["request"]).modify.deletion_protection
        configuration = {"settings": {PROTECTION: bool(wanted)}}
    return {"result": "protecting", **restore.protect(kind, identifier, configuration)}


def modify_existing(event: dict) -> dict:
    """The modify action on an existing copy: its configuration now, with the modify stage's settings."""
    record = _record(event)
    request = from_state(event["request"])
    current = capture(record.kind, record.identifier, clients.client("rds"))
    wanted = apply_modification(record.is_cluster, current, request.modify)
    outcome = restore.apply_configuration(record.kind, record.identifier, wanted, {})
    return {"result": "modifying" if outcome["changed"] else "unchanged", "configuration": wanted, **outcome}


def rotate_password(event: dict) -> dict:
    """A new random master password, kept only in a Secrets Manager secret; its ARN (never the secret) travels."""
    record = _record(event)
    prefix = os.environ.get("COPY_SECRET_PREFIX", "trapheus/copy/")
    tags = {lifecycle_tags.LIFECYCLE: record.lifecycle, lifecycle_tags.SOURCE: record.source}
    arn = passwords.rotate_master_password(record.kind, record.identifier, prefix + record.identifier, tags)
    # on the copy too: its verify function and `trapheus copy list` find the secret there
    clients.client("rds").add_tags_to_resource(ResourceName=record.arn, Tags=[{"Key": lifecycle_tags.SECRET, "Value": arn}])
    return {"secretArn": arn}


def stage(event: dict) -> dict:
    record = _record(event)
    chosen = Stage(str(event.get("stage")))
    lifecycle.set_stage(record, chosen)
    return {"identifier": record.identifier, "stage": chosen.value}


def _targets(event: dict) -> list[dns.DnsTarget]:
    return list(from_state(event["request"]).dns)


def promote(event: dict) -> dict:
    """Point every DNS name at the copy: the cluster's writer endpoint, or the instance's endpoint."""
    record = _record(event)
    if record.status != "available" or not record.endpoint:
        raise DatabaseNotAvailableError(f"copy {record.identifier!r} is {record.status!r}; only an available copy is promoted")
    request = from_state(event["request"])
    changes = dns.promote(_targets(event), request.lifecycle, record.endpoint, adopt=request.adopt)
    return {"changes": changes, "endpoint": record.endpoint, "attempt": 0}


def dns_in_sync(event: dict) -> dict:
    result = dns.changes_in_sync((event.get("promotion") or {}).get("changes") or [])
    return {**event.get("promotion", {}), **result, "attempt": int((event.get("promotion") or {}).get("attempt") or 0) + 1}


def after_promotion(event: dict) -> dict:
    """The promoted copy is tagged promoted; the copies DNS pointed at before become retired."""
    record = _record(event)
    client = clients.client("rds")
    written = {target.key for target in _targets(event)}
    lifecycle.set_stage(record, Stage.PROMOTED, client, dns_names=written)
    retired = []
    for other in lifecycle.find_copies(record.lifecycle, rds=client):
        # the survey refused a promotion that leaves a name on the copy it replaces: none points at it now
        if other.identifier != record.identifier and other.stage == Stage.PROMOTED.value and set(other.dns) <= written:
            lifecycle.set_stage(other, Stage.RETIRED, client)
            retired.append(other.identifier)
    return {"promoted": record.identifier, "retired": retired}


def retire(event: dict) -> dict:
    request = from_state(event["request"])
    return {"retired": retirement.retire(request.lifecycle, request.keep, request.final_snapshot)}


def discard(event: dict) -> dict:
    copy = event.get("copy") or {}
    return retirement.discard(str(copy.get("lifecycle")), copy.get("identifier"), bool(copy.get("isCluster")))


def verify_target(event: dict) -> dict:
    """What the verify function is told about the copy (trapheus.hooks.target)."""
    from trapheus import hooks

    kind, identifier, copy = _copy(event)
    return hooks.target(kind, identifier, str(copy.get("source") or ""), "copy")


def report(event: dict) -> dict:
    return run_report.build(event.get("state") or {}, str(event.get("endedAt") or ""))


def copy_status(event: dict) -> dict:
    kind, identifier, _ = _copy(event)
    found = find(kind, identifier, clients.client("rds"))
    return {"identifier": identifier, "status": status(kind, found) if found else "gone"}


def await_approval(event: dict) -> dict:
    """The approval wait's task: the token is answered by ``trapheus copy approve|reject``, not by this function."""
    _record(event)  # the copy must still be there to be approved
    return {"waiting": True}


ACTIONS = {
    "await_approval": await_approval,
    "survey": prepare,
    "make": make,
    "add_members": add_members,
    "configure": configure,
    "check_twin": check_twin,
    "protect": protect,
    "modify": modify_existing,
    "rotate_password": rotate_password,
    "stage": stage,
    "promote": promote,
    "dns_in_sync": dns_in_sync,
    "after_promotion": after_promotion,
    "retire": retire,
    "discard": discard,
    "report": report,
}


def run(event: dict) -> dict:
    action = event.get("action")
    if action not in ACTIONS:
        raise InvalidInputError(f"unknown copy action {action!r}")
    return ACTIONS[str(action)](event)


__all__ = ["ACTIONS", "describe", "run"]
