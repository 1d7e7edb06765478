"""The DR account's side: copy what trusted source accounts share into this account under ITS OWN key, then on
to another Region if asked; store each source database's configuration beside its copy; keep the DR account's
own retention; report per database the newest copy and the source time it holds.

A snapshot shared by another account is copied within its own Region first (a shared cluster snapshot, or an
encrypted instance snapshot, cannot leave it in one step), under the DR key of that Region; that copy is the DR
account's own and goes on to ``COPY_TO_REGION`` under that Region's key. The source account's roles can neither
see nor delete anything here: the DR stack offers them only a read-only role on its report table.

Environment: ``SOURCE_ACCOUNT_IDS`` (trusted), ``SOURCE_READER_ROLE_ARNS`` (one per source account, to read its
databases' configuration), ``SOURCE_REGION``, ``DR_KMS_KEY_ARN`` (a key of this account in SOURCE_REGION),
``COPY_TO_REGION`` and ``COPY_TO_KMS_KEY_ARN`` (optional), ``DR_POLICY``, ``KEEP_COUNT``, ``KEEP_DAYS``,
``REPORT_TABLE``, ``CATALOG_BUCKET``, ``COPIES_IN_FLIGHT_LIMIT``.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from botocore.exceptions import ClientError

from trapheus import clients, databases
from trapheus.backups import keys, quota, report, retention
from trapheus.backups import snapshots as policy_snapshots
from trapheus.backups import tags as tagging
from trapheus.backups.policy import Keep
from trapheus.errors import InvalidInputError, QuotaExceededError, SnapshotError
from trapheus.kinds import CLUSTER, INSTANCE, DatabaseKind
from trapheus.log import logger
from trapheus.names import fit, snapshot_id_max
from trapheus.statuses import FAILED_SNAPSHOT_STATUSES
from trapheus.throttling import error_code

WORKFLOW = "dr-copy"
COPY_PREFIX = "dr-"  # every copy the DR stack makes starts with it (its IAM policy deletes nothing else)


def _listed(value: str | None) -> list[str]:
    return [item.strip() for item in (value or "").split(",") if item.strip()]


@dataclass(frozen=True)
class DrSettings:
    source_accounts: tuple[str, ...]
    reader_roles: dict[str, str]  # source account -> role reading its databases' configuration
    source_region: str
    key: str
    copy_to_region: str | None
    copy_to_key: str | None
    policy: str
    keep: Keep
    table: str
    bucket: str
    copy_limit: int

    @classmethod
    def from_environment(cls, environ: Any = None) -> DrSettings:
        env = os.environ if environ is None else environ
        accounts = tuple(_listed(env.get("SOURCE_ACCOUNT_IDS")))
        if not accounts:
            raise InvalidInputError("SOURCE_ACCOUNT_IDS names no source account: the DR stack copies nothing")
        roles = {role.split(":")[4]: role for role in _listed(env.get("SOURCE_READER_ROLE_ARNS"))}
        region = env.get("SOURCE_REGION") or env.get("AWS_REGION") or clients.client("rds").meta.region_name
        copy_to = env.get("COPY_TO_REGION") or None
        if copy_to and not env.get("COPY_TO_KMS_KEY_ARN"):
            raise InvalidInputError(f"COPY_TO_REGION {copy_to} needs COPY_TO_KMS_KEY_ARN, a key of this account there")
        return cls(
            source_accounts=accounts,
            reader_roles=roles,
            source_region=region,
            key=str(env.get("DR_KMS_KEY_ARN") or ""),
            copy_to_region=copy_to,
            copy_to_key=env.get("COPY_TO_KMS_KEY_ARN") or None,
            policy=env.get("DR_POLICY") or "dr",
            keep=Keep(int(env.get("KEEP_COUNT") or 7), float(env.get("KEEP_DAYS") or 7)),
            table=str(env.get("REPORT_TABLE") or ""),
            bucket=str(env.get("CATALOG_BUCKET") or ""),
            copy_limit=int(env.get("COPIES_IN_FLIGHT_LIMIT") or 20),
        )


def copy_name(account: str, source_name: str, *, is_cluster: bool) -> str:
    """``dr-<source account>-<source snapshot>``, cut with a hash to the limit of its kind."""
    return fit(f"{COPY_PREFIX}{account}-{source_name}", snapshot_id_max(is_cluster))


def _kind(is_cluster: bool) -> DatabaseKind:
    return CLUSTER if is_cluster else INSTANCE


def _source_time(kind: DatabaseKind, shared: dict) -> datetime | None:
    """The time of the data a shared snapshot holds (itself a copy: the original's)."""
    original = shared.get(kind.snapshot.original_time_key) if kind.snapshot.original_time_key else None
    value = original or shared.get("SnapshotCreateTime")
    return value if isinstance(value, datetime) else report.parse_time(value)


def _shared(kind: DatabaseKind, settings: DrSettings) -> list[dict]:
    """Available snapshots shared with this account by the trusted accounts, in the source Region."""
    snapshot = kind.snapshot
    pages = clients.client("rds", settings.source_region).get_paginator(snapshot.describe_op).paginate(
        SnapshotType="shared", IncludeShared=True
    )
    found = []
    for page in pages:
        for item in page[snapshot.list_key]:
            account = str(item[snapshot.arn_key]).split(":")[4]
            if account in settings.source_accounts and item.get("Status") == "available":
                found.append(item)
    return found


def _report_item(settings: DrSettings, key: str) -> dict[str, Any]:
    item = clients.client("dynamodb").get_item(TableName=settings.table, Key={"database": {"S": key}}, ConsistentRead=True).get("Item")
    return {name: next(iter(value.values())) for name, value in (item or {}).items()}


def _tags(settings: DrSettings, account: str, kind: DatabaseKind, shared: dict, source_time: datetime) -> list[dict]:
    identifier = str(shared.get(kind.snapshot.source_param))
    return [
        *tagging.policy_tags(settings.policy, identifier, datetime.now(timezone.utc)),
        {"Key": tagging.SOURCE_ACCOUNT, "Value": account},
        {"Key": tagging.SOURCE_TIME, "Value": source_time.isoformat()},
        {"Key": tagging.SOURCE_SNAPSHOT, "Value": str(shared[kind.snapshot.arn_key])[:256]},
    ]


def _key_advice(error: Exception, shared: dict, kind: DatabaseKind) -> str:
    """A refused copy of a shared encrypted snapshot names the statement the source key policy lacks."""
    cause = error.__cause__ if isinstance(error.__cause__, ClientError) else None
    if cause is not None and error_code(cause) == "KMSKeyNotAccessibleFault" and shared.get("KmsKeyId"):
        account = clients.client("sts").get_caller_identity()["Account"]
        return (f"{error}. The source key {shared['KmsKeyId']} must let this account ({account}) use it: add to its key "
                f"policy {json.dumps(keys.statement_for([account], str(shared['KmsKeyId'])))}")
    return str(error)


def _start_copy(settings: DrSettings, account: str, kind: DatabaseKind, shared: dict, source_time: datetime) -> dict:
    name = copy_name(account, str(shared[kind.snapshot.id_param]).split(":")[-1], is_cluster=kind.is_cluster)
    entry = {"name": name, "region": settings.source_region, "status": "copying"}
    rds = clients.client("rds", settings.source_region)
    if policy_snapshots.snapshot_ops.find_snapshot(kind, name, rds) is not None:
        return entry
    short = quota.shortfall(kind, 1, region=settings.source_region, rds=rds)
    if short:
        return {**entry, "status": "refused", "reason": short}
    try:
        policy_snapshots.copy_under_key(kind, str(shared[kind.snapshot.arn_key]), name, settings.key,
                                        _tags(settings, account, kind, shared, source_time), rds)
    except QuotaExceededError as refused:
        return {**entry, "status": "refused", "reason": str(refused)}
    except SnapshotError as failed:
        return {**entry, "status": "failed", "reason": _key_advice(failed, shared, kind)}
    return entry


def find(event: dict) -> dict:
    """Start a copy of the newest snapshot each trusted account shared of each database, when it is newer than
    the DR account's newest copy of that database."""
    settings = DrSettings.from_environment()
    newest: dict[str, tuple[DatabaseKind, dict, datetime]] = {}
    for kind in (INSTANCE, CLUSTER):
        for shared in _shared(kind, settings):
            account = str(shared[kind.snapshot.arn_key]).split(":")[4]
            key = report.dr_key(account, kind.is_cluster, str(shared.get(kind.snapshot.source_param)))
            moment = _source_time(kind, shared)
            if moment is not None and (key not in newest or moment > newest[key][2]):
                newest[key] = (kind, shared, moment)
    items = []
    for key, (kind, shared, moment) in sorted(newest.items()):
        account = key.split(":")[0]
        item: dict[str, Any] = {"database": key, "account": account, "identifier": shared.get(kind.snapshot.source_param),
                                "isCluster": kind.is_cluster, "sourceSnapshot": shared[kind.snapshot.arn_key],
                                "sourceTime": moment.isoformat()}
        recorded = report.parse_time(_report_item(settings, key).get("sourceTime"))
        if recorded is not None and recorded >= moment:
            items.append({**item, "outcome": "up-to-date"})
            continue
        copy = _start_copy(settings, account, kind, shared, moment)
        outcome = {"copying": "copying", "refused": "refused", "failed": "failed"}[copy["status"]]
        items.append({**item, "copy": copy, "outcome": outcome, **({"reason": copy["reason"]} if "reason" in copy else {})})
    return _progress({"items": items, "attempt": 0})


def _progress(state: dict) -> dict:
    waiting = any(item.get("outcome") in ("copying", "onward") for item in state["items"])
    return {**state, "state": "waiting" if waiting else "done"}


def _store_configuration(settings: DrSettings, item: dict, kind: DatabaseKind) -> str:
    """The source database's configuration (trapheus.databases.capture), beside the copy; the last one stored
    stays when the source cannot be read (a disaster may have taken it)."""
    key = f"configurations/{item['account']}/{kind.name}/{item['identifier']}/{item['copy']['name']}.json"
    role = settings.reader_roles.get(item["account"])
    try:
        if not role:
            raise InvalidInputError(f"no SOURCE_READER_ROLE_ARNS role for account {item['account']}")
        source = clients.assumed(role, "trapheus-dr-capture", settings.source_region).client("rds")
        document: dict[str, Any] = {"configuration": databases.capture(kind, str(item["identifier"]), source)}
    except Exception as problem:  # noqa: BLE001 - the copy is kept whatever happens to the capture
        logger.warning("the source configuration could not be captured", database=item["database"], problem=repr(problem))
        document = {"configuration": None, "unavailable": str(problem)[:500]}
    document.update({"sourceSnapshot": item["sourceSnapshot"], "sourceTime": item["sourceTime"], "copy": item["copy"]})
    clients.client("s3").put_object(Bucket=settings.bucket, Key=key, Body=json.dumps(document, default=str).encode(),
                                    ContentType="application/json")
    return key


def _record(settings: DrSettings, item: dict) -> None:
    """The report entry of a database: its newest copy in the DR account and the source time it holds."""
    onward = item.get("onward") or {}
    final = onward if onward.get("status") == "copied" else item["copy"]  # the newest copy that is really there
    entry = {
        "database": item["database"], "sourceTime": item["sourceTime"], "sourceSnapshot": item["sourceSnapshot"],
        "copyArn": final.get("arn", ""), "copyRegion": final["region"], "localCopy": item["copy"]["name"],
        "configurationKey": item.get("configurationKey", ""), "copiedAt": datetime.now(timezone.utc).isoformat(),
    }
    clients.client("dynamodb").put_item(TableName=settings.table, Item={k: {"S": str(v)} for k, v in entry.items()})


def _start_onward(settings: DrSettings, item: dict, kind: DatabaseKind, local: dict) -> dict:
    region = str(settings.copy_to_region)
    entry = {"name": item["copy"]["name"], "region": region, "status": "copying"}
    rds = clients.client("rds", region)
    if policy_snapshots.snapshot_ops.find_snapshot(kind, entry["name"], rds) is not None:
        return entry
    if policy_snapshots.copies_in_flight(region) >= settings.copy_limit:
        return {**entry, "status": "queued", "reason": f"{settings.copy_limit} copies in progress to {region}"}
    short = quota.shortfall(kind, 1, region=region)
    if short:
        return {**entry, "status": "refused", "reason": short}
    tags = [tag for tag in local.get("TagList") or [] if not str(tag.get("Key", "")).startswith(("aws:", "rds:"))]
    try:
        policy_snapshots.copy_to_region(kind, local[kind.snapshot.arn_key], entry["name"], region, str(settings.copy_to_key),
                                        tags, settings.source_region)
    except policy_snapshots.CopyQueuedError as queued:
        return {**entry, "status": "queued", "reason": str(queued)}
    except (QuotaExceededError, SnapshotError) as refused:
        return {**entry, "status": "failed", "reason": str(refused)}
    return entry


def _advance(settings: DrSettings, item: dict) -> dict:
    kind = _kind(bool(item["isCluster"]))
    stage = "onward" if item.get("outcome") == "onward" else "copy"
    where = item[stage]
    found = policy_snapshots.snapshot_ops.find_snapshot(kind, where["name"], clients.client("rds", where["region"]))
    status = (found or {}).get("Status")
    if found is None or status in FAILED_SNAPSHOT_STATUSES:
        return {**item, "outcome": "failed", "reason": f"the copy {where['name']} in {where['region']} is {status or 'gone'}"}
    if status != "available":
        return item
    item = {**item, stage: {**where, "status": "copied", "arn": found[kind.snapshot.arn_key]}}
    if stage == "copy":
        item["configurationKey"] = _store_configuration(settings, item, kind)
        if settings.copy_to_region:
            onward = _start_onward(settings, item, kind, found)
            item["onward"] = onward
            if onward["status"] == "copying":
                return {**item, "outcome": "onward"}
            # the copy in the source Region holds the data; the report says so, and the run alerts: the
            # other Region has no copy of this source time
            _record(settings, item)
            return {**item, "outcome": "refused", "reason": (
                f"copied in {where['region']} as {where['name']}; the copy to {onward['region']} was "
                f"{onward['status']}: {onward.get('reason')}")}
    _record(settings, item)
    return {**item, "outcome": "copied"}


def check(event: dict) -> dict:
    """One look at each copy in progress; a copy done in the source Region goes on to the other Region."""
    settings = DrSettings.from_environment()
    state = event.get("copies") or {}
    items = [_advance(settings, item) if item.get("outcome") in ("copying", "onward") else item for item in state.get("items", [])]
    return _progress({**state, "items": items, "attempt": int(state.get("attempt") or 0) + 1})


def prune(event: dict) -> dict:
    """The DR account's own retention, in each Region it keeps copies in: only its own copies, never the newest."""
    settings = DrSettings.from_environment()
    now = datetime.now(timezone.utc)
    pruned = []
    for region in [settings.source_region, *([settings.copy_to_region] if settings.copy_to_region else [])]:
        client = clients.client("rds", region)
        for kind in (INSTANCE, CLUSTER):
            snapshot = kind.snapshot
            by_database: dict[str, list[dict]] = {}
            for page in client.get_paginator(snapshot.describe_op).paginate(SnapshotType="manual"):
                for found in page[snapshot.list_key]:
                    found_tags = tagging.as_dict(found.get("TagList"))
                    if found_tags.get(tagging.POLICY) == settings.policy and str(found[snapshot.id_param]).startswith(COPY_PREFIX):
                        database = f"{found_tags.get(tagging.SOURCE_ACCOUNT)}:{found_tags.get(tagging.SOURCE)}"
                        by_database.setdefault(database, []).append(found)
            for owned in by_database.values():
                owned.sort(key=lambda s: policy_snapshots.created_at(s) or policy_snapshots.EPOCH, reverse=True)
                for item in retention.to_prune(owned, settings.keep, now):
                    name = item[snapshot.id_param]
                    policy_snapshots.remove(kind, name, settings.policy, client)
                    pruned.append(f"{region}:{name}")
    return {"pruned": pruned}


def summarise(event: dict) -> dict:
    """The DR run's report: per database, what was copied (or why not); an alert when one failed or was refused."""
    state = event.get("copies") or {}
    items = state.get("items") or []
    problems = [item for item in items if item.get("outcome") in ("failed", "refused")]
    still = [item["database"] for item in items if item.get("outcome") in ("copying", "onward")]
    summary = {
        "databases": len(items),
        "copied": sum(1 for item in items if item.get("outcome") == "copied"),
        "upToDate": sum(1 for item in items if item.get("outcome") == "up-to-date"),
        "stillCopying": still,
        "failed": [item["database"] for item in problems],
        "pruned": len((event.get("pruned") or {}).get("pruned") or []),
        "needsAttention": [item["database"] for item in problems],
    }
    result: dict[str, Any] = {"report": {"workflow": WORKFLOW, "generatedAt": datetime.now(timezone.utc).isoformat(),
                                         "items": items, "summary": summary},
                              "alert": bool(problems)}
    if problems:
        result["failure"] = {"Error": "DrCopyIncompleteError", "Step": "Check the copies",
                             "Cause": "; ".join(f"{item['database']}: {item.get('outcome')}: {item.get('reason')}" for item in problems)[:30000]}
    return result


STEPS = {"find": find, "check": check, "prune": prune, "summarise": summarise}


def dr_step(event: dict) -> dict:
    action = event.get("action")
    if action not in STEPS:
        raise InvalidInputError(f"unknown DR action {action!r}; this function takes {', '.join(STEPS)}")
    return STEPS[action](event)
