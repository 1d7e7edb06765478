"""The copy workflow's survey: everything a run needs, read only, and everything that stands in its way.

A run starts only when its survey finds no blocker, so a copy is never half made for a reason that could be
known before: the source and its snapshot, the names, the DNS names the lifecycle may write, the verify
function, the KMS keys and roles the copy needs, and the account's quotas. The survey also decides which
stages the run goes through (the ``stages`` of the state), so the workflow branches on data, not on actions.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from trapheus import clients, hooks, permissions, point_in_time, quotas
from trapheus.configuration import PROTECTION
from trapheus.copies import dns, lifecycle
from trapheus.copies.configuration import copy_configuration
from trapheus.copies.request import Action, CopyRequest, parse
from trapheus.copies.tags import Stage
from trapheus.databases import capture, find, status
from trapheus.errors import (
    AccessNotGrantedError,
    DatabaseNotAvailableError,
    DatabaseNotFoundError,
    DnsOwnershipError,
    IdentifierInUseError,
    InvalidInputError,
    SnapshotNotAvailableError,
    SnapshotNotFoundError,
    TrapheusError,
)
from trapheus.inputs import LATEST, format_time
from trapheus.kinds import CLUSTER, DatabaseKind, kind_for
from trapheus.locks import lock_window
from trapheus.preflight import keys_and_roles
from trapheus.snapshots import find_snapshot

LOCK_PREFIX = "copy:"
MAX_TAGS = 50  # per RDS resource (https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_Tagging.html)


@dataclass
class CopySurvey:
    request: CopyRequest
    kind: DatabaseKind
    started: datetime
    copy: str | None = None
    members: list[str] = field(default_factory=list)
    configuration: dict | None = None
    configuration_from: str | None = None  # "source", "DR configuration record" or "input"
    snapshot: dict | None = None
    restore_time: str | None = None
    existing: lifecycle.CopyRecord | None = None  # modify, verify, promote: the copy they work on
    promoted: list[str] = field(default_factory=list)  # copies DNS points at now (they become retired)
    would_retire: list[str] = field(default_factory=list)
    skipped: str | None = None
    blockers: list[TrapheusError] = field(default_factory=list)


def _newest_snapshot(kind: DatabaseKind, source: str, client: Any) -> dict | None:
    """The newest available snapshot of ``source``, manual or automated, over every page."""
    snapshot = kind.snapshot
    paginator = client.get_paginator(snapshot.describe_op)
    found = [
        item
        for page in paginator.paginate(**{snapshot.source_param: source})
        for item in page[snapshot.list_key]
        if item.get("Status") == "available"
    ]
    return max(found, key=lambda item: item.get("SnapshotCreateTime") or datetime.min.replace(tzinfo=timezone.utc), default=None)


def _snapshot_by_arn(kind: DatabaseKind, arn: str, client: Any) -> dict | None:
    """A snapshot named by its ARN: this account's own (by its identifier), or one another account shared with
    this one (the shared snapshots, paginated, found by ARN)."""
    snapshot = kind.snapshot
    own = find_snapshot(kind, arn.rsplit(":", 1)[-1], client)
    if own is not None and own.get(snapshot.arn_key) == arn:
        return own
    pages = client.get_paginator(snapshot.describe_op).paginate(SnapshotType="shared", IncludeShared=True)
    return next((item for page in pages for item in page[snapshot.list_key] if item.get(snapshot.arn_key) == arn), None)


def _resolve_snapshot(found: CopySurvey, client: Any) -> None:
    request, kind = found.request, found.kind
    wanted = str(request.origin.snapshot)
    if wanted == LATEST:
        found.snapshot = _newest_snapshot(kind, str(request.source), client)
        if found.snapshot is None:
            found.blockers.append(SnapshotNotFoundError(f"{kind.label} {request.source!r} has no available snapshot, manual or automated"))
        return
    found.snapshot = _snapshot_by_arn(kind, wanted, client) if wanted.startswith("arn:") else find_snapshot(kind, wanted, client)
    if found.snapshot is None:
        found.blockers.append(SnapshotNotFoundError(f"snapshot {wanted!r} does not exist (or is not shared with this account)"))
    elif found.snapshot.get("Status") != "available":
        found.blockers.append(SnapshotNotAvailableError(f"snapshot {wanted!r} is {found.snapshot.get('Status')!r}, not 'available'"))


def _dr_configuration(found: CopySurvey, environ: Mapping[str, str], s3: Any = None) -> dict | None:
    """The source's configuration the backup workflow stored beside a DR copy (``configurationKey`` tag)."""
    bucket = environ.get("DR_CATALOG_BUCKET")
    snapshot = found.snapshot or {}
    tagged = lifecycle.as_dict(snapshot.get("TagList"))
    arn = str(snapshot.get(found.kind.snapshot.arn_key) or "")
    account, source, name = tagged.get("trapheus:source-account") or (arn.split(":")[4] if arn.count(":") >= 6 else ""), tagged.get("trapheus:source"), arn.rsplit(":", 1)[-1]
    if not bucket or not account or not source or not name:
        return None
    # where the DR copy workflow stores it (trapheus.backups.dr): by source account, kind, database and copy name
    key = f"configurations/{account}/{found.kind.name}/{source}/{name}.json"
    client = s3 or clients.client("s3")
    try:
        document = json.loads(client.get_object(Bucket=bucket, Key=key)["Body"].read())
    except Exception as error:  # noqa: BLE001 - the survey says why, and the input's configuration is the way out
        found.blockers.append(InvalidInputError(f"the DR configuration record s3://{bucket}/{key} could not be read ({error}); give 'configuration' in the input"))
        return None
    return document.get("configuration")


def _source_configuration(found: CopySurvey, database: dict | None, client: Any, environ: Mapping[str, str]) -> dict | None:
    request, kind = found.request, found.kind
    if database is not None:
        found.configuration_from = "source"
        return capture(kind, str(request.source), client)
    if request.configuration is not None:
        found.configuration_from = "input"
        return {"kind": kind.name, "settings": {}, "tags": [], "roles": [], "members": []}
    recorded = _dr_configuration(found, environ)
    if recorded is not None:
        found.configuration_from = "DR configuration record"
        return recorded
    found.blockers.append(InvalidInputError(
        "the snapshot's source is not in this account and no DR configuration record was found: give 'configuration' "
        "(dbSubnetGroup, vpcSecurityGroupIds, parameter groups, instanceClass, members) in the input"
    ))
    return None


def _newest_copy_age(found: CopySurvey, copies: list[lifecycle.CopyRecord]) -> None:
    request = found.request
    if request.minimum_age_hours is None:
        return
    for copy in copies:
        age = copy.age_hours(found.started)
        if copy.stage != Stage.RETIRED.value and age is not None:
            if age < request.minimum_age_hours:
                found.skipped = (
                    f"the newest copy {copy.identifier} is {age:.1f} h old, younger than minimumAgeHours "
                    f"{request.minimum_age_hours:g}: no new copy is made"
                )
            return


def _survey_new_copy(found: CopySurvey, copies: list[lifecycle.CopyRecord], client: Any, environ: Mapping[str, str]) -> None:
    request, kind = found.request, found.kind
    _newest_copy_age(found, copies)
    database = None
    if request.source is not None:
        database = find(kind, request.source, client)
        if database is None and not request.origin.snapshot_arn:
            found.blockers.append(DatabaseNotFoundError(f"{kind.label} {request.source!r} does not exist"))
            return
        if database is not None and kind is not CLUSTER and database.get("DBClusterIdentifier"):
            found.blockers.append(InvalidInputError(f"{request.source!r} is a member of cluster {database['DBClusterIdentifier']!r}: copy the cluster (isCluster true)"))
            return
        if database is not None and lifecycle.record_of(kind, database) is not None:
            found.blockers.append(InvalidInputError(f"{request.source!r} is itself a copy (it carries trapheus:lifecycle): copy the production database"))
            return
    if request.origin.snapshot is not None:
        _resolve_snapshot(found, client)
    elif database is not None and (request.origin.point_in_time is not None or request.origin.clone):
        if status(kind, database) != "available":
            found.blockers.append(DatabaseNotAvailableError(f"{kind.label} {request.source!r} is {status(kind, database)!r}; a clone or point-in-time copy needs it 'available'"))
        if request.origin.clone and not database.get("DBClusterMembers"):
            found.blockers.append(InvalidInputError(
                f"cluster {request.source!r} has no DB instance: Aurora clones only a cluster with at least one "
                "(https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/Aurora.Managing.Clone.html)"
            ))
        if request.origin.point_in_time is not None:
            window = point_in_time.read_window(kind, database, client)
            found.restore_time, refusals = point_in_time.choose_time(window, request.origin.point_in_time)
            found.blockers.extend(refusals)
    source_configuration = _source_configuration(found, database, client, environ)
    found.copy = lifecycle.copy_identifier(request.lifecycle, found.started, request.suffix)
    if source_configuration is None:
        return
    found.configuration = copy_configuration(request, found.copy, source_configuration, found.started, environ, found.snapshot)
    found.members = [m["identifier"] for m in found.configuration.get("members", [])]
    later = int(request.action.promotes) + int(request.modify.master_password == "rotate")  # trapheus:dns, trapheus:secret
    if len(found.configuration["tags"]) + later > MAX_TAGS:
        found.blockers.append(InvalidInputError(
            f"the copy would carry {len(found.configuration['tags']) + later} tags, and RDS keeps at most {MAX_TAGS} on a "
            "database: drop some of the source's with CopyDroppedTagKeys"
        ))
    taken = [i for i in [found.copy] if find(kind, i, client) is not None] + [m for m in found.members if find(kind_for(False), m, client) is not None]
    if taken:
        found.blockers.append(IdentifierInUseError(
            f"{', '.join(taken)} already exist: a copy of this lifecycle was made this minute; run again later or give a 'suffix'"
        ))
    if kind is CLUSTER and not found.members:
        found.blockers.append(InvalidInputError(f"the copy of {request.source or request.origin.snapshot!r} would have no instance: give 'readers' or configuration.members"))
    data_source = database if found.snapshot is None else found.snapshot
    arn = str((data_source or {}).get(kind.arn_key if found.snapshot is None else kind.snapshot.arn_key) or "arn:aws:rds:::")
    account_id = arn.split(":")[4]
    keys, roles = keys_and_roles(kind, found.configuration, data_source, account_id, "snapshot" if found.snapshot else "source")
    found.blockers.extend(permissions.keys_not_allowed(keys, clients.client("kms"), environ))
    found.blockers.extend(permissions.roles_not_passable(roles, environ))
    instances = len(found.members) if kind is CLUSTER else 1
    found.blockers.extend(quotas.shortfalls({"DBInstances": instances, "DBClusters": 1 if kind is CLUSTER else 0}, client))


def _survey_existing_copy(found: CopySurvey, copies: list[lifecycle.CopyRecord]) -> None:
    request = found.request
    kinds = (True, False) if request.is_cluster is None else (request.is_cluster,)
    candidates = [c for c in copies if c.is_cluster in kinds and c.stage != Stage.RETIRED.value]
    if request.copy is not None:
        named = [c for c in copies if c.identifier == request.copy and c.is_cluster in kinds]
        if not named:
            found.blockers.append(DatabaseNotFoundError(
                f"{found.kind.label} {request.copy!r} is not a copy of lifecycle {request.lifecycle!r} (no such database, or it "
                "does not carry the lifecycle's tags): trapheus works only on the copies it made"
            ))
            return
        candidates = named
    if not candidates:
        found.blockers.append(DatabaseNotFoundError(f"lifecycle {request.lifecycle!r} has no {found.kind.label} copy to {request.action.value}"))
        return
    found.existing = candidates[0]
    found.kind = found.existing.kind
    found.copy = found.existing.identifier
    found.members = list(found.existing.members)
    if request.modify.master_password == "rotate" and found.existing.managed_password:
        found.blockers.append(InvalidInputError(
            f"copy {found.copy!r} has its master password managed by RDS (Secrets Manager): RDS refuses a password "
            "of trapheus's beside it; use \"masterPassword\": \"managed\", or make a new copy with \"rotate\""
        ))
    if request.action is Action.PROMOTE and found.existing.status != "available":
        found.blockers.append(DatabaseNotAvailableError(f"copy {found.copy!r} is {found.existing.status!r}; only an available copy is promoted"))
    if request.action is Action.PROMOTE and found.existing.stage == Stage.PROMOTED.value:
        found.blockers.append(InvalidInputError(f"copy {found.copy!r} is already promoted"))


def _survey_dns(found: CopySurvey, environ: Mapping[str, str], route53: Any = None) -> None:
    request = found.request
    if not request.action.promotes or not request.dns:
        return
    allowed = permissions.listed(environ.get("COPY_HOSTED_ZONE_IDS"))
    outside = [target.hosted_zone_id for target in request.dns if target.hosted_zone_id not in allowed]
    if outside:
        found.blockers.append(AccessNotGrantedError(
            f"hosted zone(s) {', '.join(outside)} are not in the stack's CopyHostedZoneIds (listed: {', '.join(allowed) or 'none'}): "
            "the stack may write records there only once they are listed"
        ))
        return
    problems = dns.ownership_problems(list(request.dns), request.lifecycle, adopt=request.adopt, route53=route53)
    found.blockers.extend(DnsOwnershipError(problem) for problem in problems)


def survey(
    request: CopyRequest, started: datetime, rds: Any = None, environ: Mapping[str, str] | None = None, route53: Any = None
) -> CopySurvey:
    env = os.environ if environ is None else environ
    client = rds or clients.client("rds")
    found = CopySurvey(request, kind_for(request.is_cluster), started)
    copies = lifecycle.find_copies(request.lifecycle, rds=client)
    if request.action.makes_copy:
        _survey_new_copy(found, copies, client, env)
    elif request.action.on_existing_copy:
        _survey_existing_copy(found, copies)
    if request.action.promotes:
        promoted = [c for c in copies if c.stage == Stage.PROMOTED.value and c.identifier != found.copy]
        found.promoted = [c.identifier for c in promoted]
        asked = {target.key for target in request.dns}
        for copy in promoted:
            left = sorted(set(copy.dns) - asked)
            if left:
                found.blockers.append(InvalidInputError(
                    f"copy {copy.identifier!r} is also reached by {', '.join(left)}: promote with every DNS name of the "
                    "lifecycle, so that the copy it replaces can be retired"
                ))
    if request.action.retires:
        from trapheus.copies.retire import to_retire  # the retire stage decides again when it runs

        retiring = to_retire(copies, request.keep, assume_retired=found.promoted)
        found.would_retire = [c.identifier for c in retiring]
        if request.final_snapshot:  # each retired copy leaves its final snapshot, under the account's manual quota
            needs = Counter("ManualClusterSnapshots" if c.is_cluster else "ManualSnapshots" for c in retiring)
            found.blockers.extend(quotas.shortfalls(dict(needs), client))
    refusal = hooks.not_allowed(request.verify_function, env)
    if refusal is not None:
        found.blockers.append(refusal)
    _survey_dns(found, env, route53)
    return found


def _mark(found: CopySurvey) -> str | None:
    """The stage tag a run gives its copy: new, or modified; a promoted copy stays promoted (the next promotion
    retires it)."""
    action, request = found.request.action, found.request
    if action is Action.MODIFY:
        return None if found.existing is not None and found.existing.stage == Stage.PROMOTED.value else Stage.MODIFIED.value
    if action.makes_copy:
        return (Stage.NEW if request.modify.empty else Stage.MODIFIED).value
    return None


def _stages(found: CopySurvey) -> dict[str, Any]:
    action = found.request.action
    request = found.request
    protect = bool((found.configuration or {}).get("settings", {}).get(PROTECTION)) or (
        action is Action.MODIFY and request.modify.deletion_protection is not None
    )
    return {
        "make": action.makes_copy,
        "clone": request.origin.clone,
        "members": action.makes_copy and found.kind is CLUSTER,
        "modify": action is Action.MODIFY or (action.makes_copy and not request.modify.empty),
        "rotatePassword": request.modify.master_password == "rotate",
        "protect": protect,
        "verify": bool(request.verify_function),
        "approve": request.approve,
        "promote": action.promotes,
        "waitBeforeRetire": action is Action.REFRESH,
        "retire": action.retires,
        "drill": action is Action.DRILL,
        "mark": _mark(found),
    }


POLL_LOOPS = 6  # the copy, its members, configuration, password, protection and DNS change, each polled in turn


def longest_run_minutes(request: CopyRequest, settings: Mapping[str, int]) -> int:
    """How long a run can hold its lifecycle's lock: every poll loop to its last attempt, the approval wait and the
    delay before retiring. The lock outlives it, so that an expired lock never lets a scheduled run interleave."""
    polls = POLL_LOOPS * int(settings.get("maxAttempts", 240)) * int(settings.get("pollSeconds", 30))
    approval = request.approval_timeout_minutes * 60 if request.approve else 0
    retire = request.retire_after_seconds if request.action is Action.REFRESH else 0
    return (polls + approval + retire) // 60 + 60


def _restore_name(found: CopySurvey) -> str | None:
    """How the restore names the snapshot: this account's own by its identifier, a shared one by its ARN."""
    snapshot = found.snapshot or {}
    arn = str(snapshot.get(found.kind.snapshot.arn_key) or "")
    shared = found.request.origin.snapshot_arn and snapshot.get("SnapshotType") == "shared"
    return arn if shared else snapshot.get(found.kind.snapshot.id_param) or arn or None


def run_state(found: CopySurvey, environ: Mapping[str, str], settings: dict[str, int]) -> dict[str, Any]:
    """The state every later step works from."""
    request = found.request
    minutes = max(int(environ.get("LOCK_TIMEOUT_MINUTES") or 720), longest_run_minutes(request, settings))
    snapshot = found.snapshot or {}
    created = snapshot.get("SnapshotCreateTime")
    return {
        "request": request.to_dict(),
        "copy": {
            "identifier": found.copy,
            "isCluster": found.kind is CLUSTER,
            "members": found.members,
            "lifecycle": request.lifecycle,
            "source": request.source or snapshot.get(found.kind.snapshot.source_param) or "",
        },
        "source": {
            "identifier": request.source,
            "snapshot": _restore_name(found),
            "snapshotTime": format_time(created) if isinstance(created, datetime) else None,
            "pointInTime": found.restore_time,
            "clone": request.origin.clone,
            "resourceId": (found.configuration or {}).get("resourceId"),
            "configurationFrom": found.configuration_from,
        },
        "configuration": found.configuration,
        "stages": _stages(found),
        "promoted": found.promoted,
        "alertRequest": {"lifecycle": request.lifecycle, "action": request.action.value, "isCluster": found.kind is CLUSTER, "copy": found.copy},
        "lockTaken": False,
        "skipped": found.skipped,
        "lock": lock_window(LOCK_PREFIX + request.lifecycle, minutes),
        "settings": settings,
        "retireAfterSeconds": request.retire_after_seconds,
        "approvalTimeoutSeconds": request.approval_timeout_minutes * 60,
        "timeline": {"started": format_time(found.started)},
    }


def prepare(raw_input: Any, started: datetime, settings: dict[str, int], rds: Any = None, environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Validate and survey; raise the first blocker (nothing has changed yet)."""
    env = os.environ if environ is None else environ
    found = survey(parse(raw_input), started, rds, env)
    if found.blockers and found.skipped is None:
        raise found.blockers[0]
    return run_state(found, env, settings)


def plan(raw_input: Any, started: datetime, rds: Any = None, environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """What a run would do, and what stands in its way; changes nothing."""
    env = os.environ if environ is None else environ
    found = survey(parse(raw_input), started, rds, env)
    return {"plan": {
        "copy": found.copy,
        "members": found.members,
        "from": found.request.origin.to_dict() if found.request.action.makes_copy else None,
        "snapshot": (found.snapshot or {}).get(found.kind.snapshot.id_param),
        "pointInTime": found.restore_time,
        "configurationFrom": found.configuration_from,
        "configuration": found.configuration,
        "dns": [target.to_dict() for target in found.request.dns],
        "promoted": found.promoted,
        "wouldRetire": found.would_retire,
        "skipped": found.skipped,
        "blockers": [{"error": type(b).__name__, "message": str(b)} for b in found.blockers],
    }}
