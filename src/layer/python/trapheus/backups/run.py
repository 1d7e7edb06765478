"""The steps of a backup run: the parent plans and summarises, one child run per database does the rest.

Parent (``<stack>-backup``): :func:`plan` checks the input and selects the databases; a Map starts one child
execution per database (bounded concurrency); :func:`summarise` builds the report. Child (``<stack>-backup-db``):
:func:`prepare` decides whether a snapshot is due; the workflow takes the database lock (the restore workflow's),
:func:`take` snapshots, waits, releases the lock; :func:`reencrypt` copies a snapshot under the AWS managed key
to the customer key the policy names (RDS cannot share the former); :func:`distribute` shares the newest
snapshot and copies it to other Regions; :func:`check_copies` follows the copies; :func:`prune` applies the
retention; :func:`finish` writes the database's report item.
"""

from __future__ import annotations

import json
import os
from datetime import datetime, timezone
from typing import Any

from botocore.exceptions import ClientError

from trapheus import clients, databases, permissions
from trapheus.alerts import readable_cause
from trapheus.backups import keys, quota, report, retention, schedule
from trapheus.backups import snapshots as policy_snapshots
from trapheus.backups import tags as tagging
from trapheus.backups.policy import BackupPolicy, parse_policy
from trapheus.backups.selection import select
from trapheus.errors import InvalidInputError, QuotaExceededError
from trapheus.kinds import DatabaseKind, kind_for
from trapheus.locks import lock_settings
from trapheus.log import logger
from trapheus.statuses import FAILED_SNAPSHOT_STATUSES, USABLE
from trapheus.throttling import error_code

DEFAULT_COPIES_IN_FLIGHT = 20  # RDS's documented limit of copies in progress to one destination Region
DEFAULT_CONCURRENCY = 10  # databases backed up at a time (the template's BackupConcurrency)


def _run_time(execution: dict) -> datetime:
    """The run's time (its start, to the minute): every snapshot of the run is named and tagged with it."""
    started = report.parse_time(str(execution.get("StartTime") or "").replace("Z", "+00:00"))
    moment = started or datetime.now(timezone.utc)
    return moment.astimezone(timezone.utc).replace(second=0, microsecond=0)


def _account(execution: dict) -> str:
    parts = str(execution.get("Id") or "").split(":")
    return parts[4] if len(parts) > 4 else ""


# -- parent ---------------------------------------------------------------------------------------------------


def plan(event: dict) -> dict:
    """Check the input, select the databases, and say what the run needs of keys and key policies."""
    execution = event.get("execution") or {}
    rds = clients.client("rds")
    region = rds.meta.region_name
    account = _account(execution)
    policy = parse_policy(event.get("input"), region=region, own_account=account or None)
    _require_listed_keys(policy, os.environ)
    chosen, unselected = select(policy.select, rds)
    return {
        "policy": policy.to_dict(),
        "run": {"time": _run_time(execution).isoformat(), "account": account, "region": region},
        "databases": [database.to_dict() for database in chosen],
        "unselected": [{"identifier": u.identifier, "reason": u.reason} for u in unselected],
        "notices": _key_notices(policy, [database.to_dict() for database in chosen]),
        "concurrency": int(os.environ.get("BACKUP_CONCURRENCY") or DEFAULT_CONCURRENCY),
    }


def _require_listed_keys(policy: BackupPolicy, environ: Any) -> None:
    """The keys a policy names must be ones the stack's roles may use (BackupKmsKeyArns): refused before any
    snapshot, not when RDS refuses the copy of each database."""
    allowed = set(permissions.listed(environ.get("BACKUP_KMS_KEY_ARNS")))
    named = {"shareKmsKeyId": policy.share_kms_key_id, **{f"copyTo[{i}].kmsKeyId": c.kms_key_id for i, c in enumerate(policy.copy_to)}}
    unlisted = [f"{field} {key}" for field, key in named.items() if key and key not in allowed]
    if unlisted:
        raise InvalidInputError(
            f"{'; '.join(unlisted)}: not in the stack's BackupKmsKeyArns, so its roles may not use "
            f"{'it' if len(unlisted) == 1 else 'them'} (add the key ARN to BackupKmsKeyArns)"
        )


def _key_notices(policy: BackupPolicy, chosen: list[dict]) -> list[str]:
    """What the keys need before the DR account can copy: said in the run's plan and report."""
    if not policy.share_with:
        return []
    kms = clients.client("kms")
    notices = []
    shared_keys: dict[str, list[str]] = {}
    for database in chosen:
        key = database.get("kmsKeyId")
        if not database.get("encrypted") or not key:
            continue
        if keys.is_aws_managed(key, kms):
            target = policy.share_kms_key_id or "(no shareKmsKeyId: these snapshots cannot be shared)"
            notices.append(f"{database['identifier']} is encrypted with aws/rds, which RDS cannot share: its snapshots are "
                           f"copied under {target} before they are shared")
            if policy.share_kms_key_id:
                shared_keys.setdefault(policy.share_kms_key_id, []).append(database["identifier"])
        else:
            shared_keys.setdefault(key, []).append(database["identifier"])
    for key, names in shared_keys.items():
        missing = keys.accounts_left_out(key, list(policy.share_with), kms)
        if missing:
            notices.append(
                f"the policy of key {key} (snapshots of {', '.join(names)}) does not let {', '.join(missing)} copy them: "
                f"add the statement {keys.statement_for(missing, key)}"
            )
    return notices


def summarise(event: dict) -> dict:
    """The run's report from every child's item (or failure), with recovery points; and whether to alert."""
    planned = event.get("plan") or {}
    items = []
    for result in event.get("results") or []:
        if isinstance(result.get("report"), dict):
            items.append(result["report"])
        else:
            items.append(report.failed_item(result.get("database") or {}, result.get("failure")))
    for missing in planned.get("unselected") or []:
        items.append({"identifier": missing["identifier"], "outcome": "failed", "reason": missing["reason"]})
    built = report.build(planned["policy"], items, planned["run"]["account"])
    built["report"]["summary"]["notices"] = planned.get("notices") or []
    built["report"]["summary"]["drCopyRun"] = start_dr_copy(items, event.get("execution") or {})
    return built


def start_dr_copy(items: list[dict], execution: dict, environ: Any = None) -> dict[str, Any] | None:
    """Start the DR stack's copy run now that this run shared new snapshots, through the role the DR stack offers
    for that alone (``DR_TRIGGER_ROLE_ARN``, ``states:StartExecution`` on its copy workflow): the DR copy does not
    wait for the DR account's own schedule. Best effort: the DR schedule still finds what a failed start left."""
    env = os.environ if environ is None else environ
    role, machine = env.get("DR_TRIGGER_ROLE_ARN"), env.get("DR_COPY_STATE_MACHINE_ARN")
    fresh = [item["identifier"] for item in items if item.get("outcome") == "snapshot" and item.get("shared")]
    if not role or not machine or not fresh:
        return None
    source = str(execution.get("Id") or "")
    name = ("from-" + source.split(":")[4] + "-" + source.split(":")[-1] if source.count(":") >= 7 else "")[:80] or None
    try:
        sfn = clients.assumed(role, "trapheus-backup-dr-copy", machine.split(":")[3]).client("stepfunctions")
        started = sfn.start_execution(stateMachineArn=machine, input=json.dumps({"startedBy": source, "databases": fresh}),
                                      **({"name": name} if name else {}))
    except ClientError as refused:
        if error_code(refused) == "ExecutionAlreadyExists" and name:  # this run's summary, retried
            return {"started": True, "execution": machine.replace(":stateMachine:", ":execution:") + ":" + name}
        logger.warning("the DR copy run could not be started; the DR schedule will copy", problem=repr(refused))
        return {"started": False, "problem": str(refused)[:500]}
    except Exception as problem:  # noqa: BLE001 - the DR account's schedule copies what a missed start left
        logger.warning("the DR copy run could not be started; the DR schedule will copy", problem=repr(problem))
        return {"started": False, "problem": str(problem)[:500]}
    return {"started": True, "execution": started["executionArn"]}


# -- child ----------------------------------------------------------------------------------------------------


def _context(event: dict) -> tuple[BackupPolicy, dict, DatabaseKind, datetime]:
    try:
        policy = BackupPolicy.from_dict(event["policy"])
        database = event["database"]
        kind = kind_for(bool(database["isCluster"]))
        moment = report.parse_time(event["run"]["time"])
    except (KeyError, TypeError, ValueError) as error:
        raise InvalidInputError(f"a backup step needs policy, database and run: {error}") from error
    if moment is None:
        raise InvalidInputError("a backup step needs the run's time")
    return policy, database, kind, moment


def _names(event: dict) -> dict:
    return (event.get("step") or {}).get("names") or {}


def _minutes(seconds: float) -> int:
    return int(seconds // 60)


def prepare(event: dict) -> dict:
    """Whether the database gets a snapshot now ("take"), and if not why: "skip", "refuse" (quota), "fail"."""
    policy, database, kind, moment = _context(event)
    identifier, is_cluster = database["identifier"], kind.is_cluster
    rds = clients.client("rds")
    name = schedule.snapshot_name(identifier, policy.name, moment, is_cluster=is_cluster)
    step: dict[str, Any] = {
        "names": {"snapshot": name, "stage": None, "first": name},
        "customerKey": None,
        "lock": lock_settings(is_cluster, identifier, os.environ),
    }

    def decided(decision: str, reason: str | None = None) -> dict:
        return {**step, "decision": decision, "reason": reason}

    existing = policy_snapshots.of_policy(kind, identifier, policy.name, rds)
    newest = existing[0] if existing else None
    newest_time = policy_snapshots.created_at(newest) if newest else None
    if not schedule.is_due(newest_time, moment, policy.every_minutes):
        age = _minutes((moment - newest_time).total_seconds()) if newest_time else 0
        return decided("skip", f"its newest snapshot {newest.get(kind.snapshot.id_param)} is {age} minutes old: not due "
                               f"before {policy.every_minutes} minutes (less "
                               f"{int(schedule.tolerance_seconds(policy.every_minutes))} s tolerance)")
    if newest is not None and newest.get("Status") not in ("available", *FAILED_SNAPSHOT_STATUSES):
        return decided("skip", f"its snapshot {newest.get(kind.snapshot.id_param)} is still {newest.get('Status')}: "
                               "no second one is started meanwhile")
    found = databases.find(kind, identifier, rds)
    if found is None:
        return decided("fail", f"the {kind.label} no longer exists")
    status = databases.status(kind, found)
    if status not in USABLE:
        return decided("skip", f"the {kind.label} is {status}: a snapshot needs it available")
    needs_customer_key = bool(policy.share_with) and bool(found.get("StorageEncrypted")) and keys.is_aws_managed(
        found.get("KmsKeyId"), clients.client("kms")
    )
    if needs_customer_key:
        if not policy.share_kms_key_id:
            return decided("fail", "it is encrypted with the AWS managed key aws/rds, which RDS cannot share: give the "
                                   "policy a shareKmsKeyId (a customer managed key in BackupKmsKeyArns)")
        stage = schedule.stage_name(name)
        step["names"] = {"snapshot": name, "stage": stage, "first": stage}
        step["customerKey"] = policy.share_kms_key_id
    outside = permissions.names_outside_pattern([n for n in step["names"].values() if n], os.environ)
    if outside:
        return decided("fail", str(outside[0]))
    short = quota.shortfall(kind, 2 if needs_customer_key else 1, rds=rds)
    if short:
        return decided("refuse", short)
    return decided("take")


def _tags(policy: BackupPolicy, identifier: str, moment: datetime) -> list[dict]:
    return tagging.policy_tags(policy.name, identifier, moment)


def take(event: dict) -> dict:
    policy, database, kind, moment = _context(event)
    names = _names(event)
    result = policy_snapshots.take(kind, database["identifier"], names["first"], _tags(policy, database["identifier"], moment))
    return {"result": result, "attempt": 0}


def reencrypt(event: dict) -> dict:
    policy, database, kind, moment = _context(event)
    names = _names(event)
    key = (event.get("step") or {}).get("customerKey")
    result = policy_snapshots.copy_under_key(kind, names["stage"], names["snapshot"], key, _tags(policy, database["identifier"], moment))
    return {"result": result, "attempt": 0}


def remove_stage(event: dict) -> dict:
    policy, database, kind, _ = _context(event)
    return {"result": policy_snapshots.remove(kind, _names(event)["stage"], policy.name)}


def _copy_limit() -> int:
    return int(os.environ.get("COPIES_IN_FLIGHT_LIMIT") or DEFAULT_COPIES_IN_FLIGHT)


def _copy_one(kind: DatabaseKind, latest: dict, copy: Any, tags: list[dict], source_region: str) -> dict:
    name = latest[kind.snapshot.id_param]
    entry = {"region": copy.region, "kmsKeyId": copy.kms_key_id, "snapshot": name}
    existing = policy_snapshots.snapshot_ops.find_snapshot(kind, name, clients.client("rds", copy.region))
    if existing is not None:
        done = existing.get("Status") == "available"
        return {**entry, "status": "copied" if done else "copying"}
    if policy_snapshots.copies_in_flight(copy.region) >= _copy_limit():
        return {**entry, "status": "queued", "reason": f"{_copy_limit()} copies already in progress to {copy.region}; "
                                                      "the next run copies it"}
    short = quota.shortfall(kind, 1, region=copy.region)
    if short:
        return {**entry, "status": "refused", "reason": short}
    try:
        policy_snapshots.copy_to_region(kind, latest[kind.snapshot.arn_key], name, copy.region, copy.kms_key_id, tags, source_region)
    except policy_snapshots.CopyQueuedError as queued:
        return {**entry, "status": "queued", "reason": str(queued)}
    except QuotaExceededError as refused:
        return {**entry, "status": "refused", "reason": str(refused)}
    return {**entry, "status": "copying"}


def distribute(event: dict) -> dict:
    """Share the newest snapshot of the policy and copy it to the policy's Regions (catching up with a copy a
    previous run queued). Databases skipped by this run get the same, so nothing waits for a new snapshot."""
    policy, database, kind, moment = _context(event)
    rds = clients.client("rds")
    latest = policy_snapshots.newest_available(policy_snapshots.of_policy(kind, database["identifier"], policy.name, rds))
    outcome: dict[str, Any] = {"latest": None, "shared": [], "copies": [], "attempt": 0, "state": "done"}
    if latest is None:
        return outcome
    outcome["latest"] = latest[kind.snapshot.id_param]
    if policy.share_with:
        if latest.get(kind.snapshot.encrypted_key) and keys.is_aws_managed(latest.get("KmsKeyId"), clients.client("kms")):
            outcome["shareProblem"] = f"{outcome['latest']} is encrypted with aws/rds and cannot be shared"
        else:
            outcome["shared"] = policy_snapshots.share(kind, outcome["latest"], list(policy.share_with), rds)
    tags = _tags(policy, database["identifier"], policy_snapshots.created_at(latest) or moment)
    outcome["copies"] = [_copy_one(kind, latest, copy, tags, rds.meta.region_name) for copy in policy.copy_to]
    outcome["state"] = "waiting" if any(c["status"] == "copying" for c in outcome["copies"]) else "done"
    return outcome


def check_copies(event: dict) -> dict:
    """One look at each copy in progress: done when none is copying, failed when one failed."""
    _, _, kind, _ = _context(event)
    distributed = dict(event.get("copies") or {})
    copies = []
    for copy in distributed.get("copies") or []:
        if copy.get("status") == "copying":
            found = policy_snapshots.snapshot_ops.find_snapshot(kind, copy["snapshot"], clients.client("rds", copy["region"]))
            status = (found or {}).get("Status")
            if status == "available":
                copy = {**copy, "status": "copied"}
            elif found is None or status in FAILED_SNAPSHOT_STATUSES:
                copy = {**copy, "status": "failed", "reason": f"the copy in {copy['region']} is {status or 'gone'}"}
        copies.append(copy)
    waiting = any(c["status"] == "copying" for c in copies)
    failed = any(c["status"] == "failed" for c in copies)
    return {**distributed, "copies": copies, "attempt": int(distributed.get("attempt") or 0) + 1,
            "state": "waiting" if waiting else ("failed" if failed else "done")}


def prune(event: dict) -> dict:
    """Retention in this Region and in each copy Region: only the policy's own snapshots, never the newest."""
    policy, database, kind, moment = _context(event)
    now = datetime.now(timezone.utc)
    pruned: list[str] = []
    for region in [None, *(copy.region for copy in policy.copy_to)]:
        client = clients.client("rds", region)
        owned = policy_snapshots.of_policy(kind, database["identifier"], policy.name, client)
        for item in retention.to_prune(owned, policy.keep, now):
            name = item[kind.snapshot.id_param]
            policy_snapshots.remove(kind, name, policy.name, client)
            pruned.append(f"{region}:{name}" if region else name)
    return {"pruned": pruned}


OUTCOMES = {"take": "snapshot", "skip": "skipped", "refuse": "refused", "fail": "failed"}


def finish(event: dict) -> dict:
    """The database's report item; ``failed`` tells the workflow to end this database's run FAILED."""
    policy, database, kind, _ = _context(event)
    step = event.get("step") or {}
    outcome, reason = OUTCOMES.get(step.get("decision"), "failed"), step.get("reason")
    if "lockHolder" in event or "lockReadFailure" in event:
        holder = ((event.get("lockHolder") or {}).get("Item") or {}).get("execution", {}).get("S", "a run that ended meanwhile")
        outcome, reason = "skipped", (f"another run holds its lock ({holder}): a database a restore or copy works on is "
                                      "never snapshotted; its snapshots were still shared, copied and pruned")
    failure = event.get("failure")
    if failure:
        error, message = readable_cause(failure.get("Cause"))
        outcome, reason = "failed", f"{failure.get('Error') or error}: {message}"
    distributed = event.get("copies") or {}
    latest = policy_snapshots.newest_available(policy_snapshots.of_policy(kind, database["identifier"], policy.name))
    newest_time = policy_snapshots.created_at(latest) if latest else None
    item: dict[str, Any] = {
        "identifier": database["identifier"],
        "isCluster": kind.is_cluster,
        "outcome": outcome,
        "reason": reason or distributed.get("shareProblem"),
        "snapshot": _names(event).get("snapshot") if outcome == "snapshot" else None,
        "newestSnapshot": latest.get(kind.snapshot.id_param) if latest else None,
        "newestSourceTime": newest_time.isoformat() if newest_time else None,
        "shared": distributed.get("shared") or [],
        "copies": distributed.get("copies") or [],
        "pruned": (event.get("pruned") or {}).get("pruned") or [],
    }
    failed = outcome in report.ALERTING
    return {"report": item, "failed": failed, "cause": json.dumps(item, default=str)}


PARENT_STEPS = {"plan": plan, "summarise": summarise}
DATABASE_STEPS = {
    "prepare": prepare,
    "take": take,
    "reencrypt": reencrypt,
    "remove_stage": remove_stage,
    "distribute": distribute,
    "check_copies": check_copies,
    "prune": prune,
    "finish": finish,
}


def _dispatch(steps: dict, event: dict) -> dict:
    action = event.get("action")
    if action not in steps:
        raise InvalidInputError(f"unknown backup action {action!r}; this function takes {', '.join(steps)}")
    return steps[action](event)


def run_step(event: dict) -> dict:
    """The parent's steps: plan, summarise."""
    return _dispatch(PARENT_STEPS, event)


def database_step(event: dict) -> dict:
    """One database's steps; the workflow hands each the whole state of the database's run."""
    state = event.get("state")
    if isinstance(state, dict):
        event = {**state, "action": event.get("action"), "execution": event.get("execution")}
    return _dispatch(DATABASE_STEPS, event)
