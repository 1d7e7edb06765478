"""The table workflows' steps: one function per Lambda handler, taking the step's event.

Each function turns the workflow state into typed values, calls the domain modules and
returns the small result its state stores. The workflows themselves
(``statemachine/table-backup.asl.json``, ``statemachine/table-restore.asl.json``) hold the
control flow: the segment Maps, the poll loops, the rollback and the alerts.
"""

from __future__ import annotations

import json
import os
from typing import Any

from botocore.exceptions import ClientError

from trapheus import clients
from trapheus.errors import (
    BackupIncompleteError,
    GlobalTableError,
    InvalidInputError,
    RestoreVerificationError,
    TableBackupError,
    TableBusyError,
    TableExistsError,
    TableNotFoundError,
    TableRestoreError,
)
from trapheus.locks import lock_window, table_lock_key
from trapheus.tables import export, journal, loader, ondemand, requests, scan, settings, status, store
from trapheus.tables.budget import Budget
from trapheus.tables.codec import ContentChecksum
from trapheus.tables.manifest import BackupLocation, Manifest, backup_id_for, segments_from_ledgers
from trapheus.throttling import aws_errors, error_code

RESTORED_FROM_TAG = "trapheus:restored-from"
RESTORE_RUN_TAG = "trapheus:restore-run"
RESTORE_STATE_TAG = "trapheus:restore-state"
LOADING, COMPLETE = "loading", "complete"
MAX_VERIFY_SEGMENTS = 64
MAX_CLEANUP_DEPTH = 5

_manifests: dict[BackupLocation, Manifest] = {}


def _env(name: str, default: str = "") -> str:
    return os.environ.get(name, default).strip()


def _execution(event: dict[str, Any]) -> dict[str, Any]:
    execution = event.get("execution")
    return execution if isinstance(execution, dict) else {}


def _run(event: dict[str, Any]) -> str:
    return str(_execution(event).get("Name") or "manual")


def _settings(event: dict[str, Any], concurrency_default: int) -> dict[str, int]:
    raw = event.get("settings") or {}
    found = {}
    for name, default, low in (("pollSeconds", 30, 0), ("maxAttempts", 240, 1), ("concurrency", concurrency_default, 1)):
        value = raw.get(name, default)
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            raise InvalidInputError(f"setting {name} must be a whole number of at least {low}, got {value!r}")
        found[name] = value
    return found


def lanes(segments: list[int], concurrency: int) -> list[list[int]]:
    """Segments dealt into ``concurrency`` lanes; a Map runs one iteration per lane, so this bounds the parallelism."""
    count = max(1, min(concurrency, len(segments)))
    return [segments[lane::count] for lane in range(count)] if segments else []


def _location(event: dict[str, Any]) -> BackupLocation:
    return BackupLocation.from_dict(event.get("backup"))


def _manifest(location: BackupLocation) -> Manifest:
    """The manifest, read once per container (a manifest never changes once written)."""
    if location not in _manifests:
        _manifests[location] = store.read_manifest(location)
    return _manifests[location]


def _copy_buckets() -> tuple[str, ...]:
    """Names of the buckets copies may go to (TableCopyBucketArns: arn:aws:s3:::name)."""
    return tuple(arn.strip().rsplit(":", 1)[-1] for arn in _env("TABLE_COPY_BUCKETS").split(",") if arn.strip())


def _lock(target: str) -> dict[str, str]:
    return lock_window(table_lock_key(target), int(_env("LOCK_TIMEOUT_MINUTES") or 720))


def _tags(arn: str) -> dict[str, str]:
    return {t["Key"]: t["Value"] for t in settings.tags_of(arn)}


# -- validation (read only) ---------------------------------------------------------------------------


def _active(table: str) -> dict[str, Any]:
    described = settings.require(table)
    if described.get("TableStatus") not in ("ACTIVE", "UPDATING"):
        raise TableNotFoundError(f"table {table!r} is {described.get('TableStatus')}; it must be ACTIVE")
    return described


def validate_backup(event: dict[str, Any]) -> dict[str, Any]:
    request = requests.parse_backup_request(event.get("input"), _copy_buckets())
    _active(request.table)
    captured = settings.capture(request.table)
    if request.method == "export":
        export.require_pitr(captured)
    segments = 1 if request.method == "export" else (request.segments or requests.segments_for(captured["sizeBytes"]))
    keep = request.keep if request.keep is not None else int(_env("TABLE_BACKUPS_TO_KEEP") or 0)
    execution = _execution(event)
    location = BackupLocation(_env("TABLE_BACKUP_BUCKET"), request.table, backup_id_for(execution.get("StartTime"), _run(event)))
    run_settings = _settings(event, 8)
    return {
        "request": {**request.to_dict(), "segments": segments, "keep": keep},
        "backup": location.to_dict(),
        "lanes": lanes(list(range(segments)), run_settings["concurrency"]),
        "capture": captured,
        "createdAt": store.now_iso(),
        "settings": run_settings,
        "poll": {},
        "index": {"position": 0, "done": False},
        "copy": {"position": 0, "done": False},
        "report": {"kind": "table-backup", "rollback": "not_needed"},
    }


def _target_state(request: requests.RestoreRequest, backup_id: str) -> dict[str, Any]:
    """Whether the run creates the target, resumes an unfinished restore of it, or replaces the table."""
    current = settings.describe(request.target)
    if request.replace:
        if current is None:
            return {"name": request.target, "resume": False, "replaceExisting": False}
        if current.get("Replicas"):
            raise GlobalTableError(f"{request.table} is a global table (replicas in other regions); trapheus does not replace it")
        if current.get("TableStatus") != "ACTIVE":
            raise TableNotFoundError(f"table {request.table!r} is {current.get('TableStatus')}; it must be ACTIVE to be replaced")
        return {"name": request.target, "resume": False, "replaceExisting": True}
    if current is None:
        return {"name": request.target, "resume": False, "replaceExisting": False}
    tags = _tags(current["TableArn"])
    if tags.get(RESTORED_FROM_TAG) == backup_id and tags.get(RESTORE_STATE_TAG) == LOADING:
        return {"name": request.target, "resume": True, "replaceExisting": False}
    raise TableExistsError(
        f"table {request.target!r} exists and is not an unfinished restore of backup {backup_id}; "
        "choose another target (a restore never writes into an existing table)"
    )


def validate_restore(event: dict[str, Any]) -> dict[str, Any]:
    request = requests.parse_restore_request(event.get("input"))
    location = BackupLocation(_env("TABLE_BACKUP_BUCKET"), request.table, request.backup_id)
    manifest = store.read_manifest(location)
    store.check_files(manifest)
    if manifest.settings.get("replicas"):
        raise GlobalTableError(
            f"backup {request.backup_id} is of a global table (replicas in {', '.join(manifest.settings['replicas'])}); "
            "trapheus restores single-region tables only"
        )
    target = _target_state(request, request.backup_id)
    original = settings.capture(request.table) if target["replaceExisting"] else None
    run = _run(event)
    verify_segments = max(1, min(MAX_VERIFY_SEGMENTS, len(manifest.segments)))
    run_settings = _settings(event, 4)
    return {
        "request": request.to_dict(),
        "backup": location.to_dict(),
        "manifest": {"items": manifest.items, "sum": manifest.checksum.digest, "method": manifest.method,
                     "segments": len(manifest.segments)},  # fmt: skip
        "lanes": lanes([s.number for s in manifest.segments], run_settings["concurrency"]),
        "verifyLanes": lanes(list(range(verify_segments)), run_settings["concurrency"]),
        "verifyTotal": verify_segments,
        "target": target,
        "names": {"run": run, "onDemandBackup": ondemand.backup_name(request.table, run) if target["replaceExisting"] else None},
        "onDemand": {"backupArn": None},
        "original": original,
        "lock": _lock(request.target),
        "settings": run_settings,
        "poll": {},
        "report": {"kind": "table-restore", "rollback": "not_needed"},
    }


def _stopped_run(arn: str, depth: int = 0) -> tuple[str, str, dict[str, Any], dict[str, Any]]:
    """(machine, run name, input, description) of the stopped run; a stopped clean-up leads to the run it cleaned."""
    described = clients.client("stepfunctions").describe_execution(executionArn=arn)
    if described.get("status") not in ("ABORTED", "TIMED_OUT"):
        raise InvalidInputError(f"{arn} is {described.get('status')}; only stopped or timed-out runs are cleaned up")
    machine_names = (_env("TABLE_BACKUP_MACHINE"), _env("TABLE_RESTORE_MACHINE"))
    stopped_arn, name = requests.parse_cleanup({"cleanupOf": arn}, machine_names)
    machine = stopped_arn.split(":")[6]
    try:
        stopped_input = json.loads(described.get("input") or "{}")
    except ValueError:
        stopped_input = None
    if isinstance(stopped_input, dict) and "cleanupOf" in stopped_input and depth < MAX_CLEANUP_DEPTH:
        return _stopped_run(str(stopped_input["cleanupOf"]), depth + 1)
    return machine, name, stopped_input, described


def validate_cleanup(event: dict[str, Any]) -> dict[str, Any]:
    """What a stopped run left behind, and what the clean-up does about it (read only)."""
    machine_names = (_env("TABLE_BACKUP_MACHINE"), _env("TABLE_RESTORE_MACHINE"))
    arn, _ = requests.parse_cleanup(event.get("input"), machine_names)
    machine, run, stopped_input, described = _stopped_run(arn)
    bucket = _env("TABLE_BACKUP_BUCKET")
    cleanup = {"of": described["executionArn"], "status": described["status"], "action": "nothing"}
    failure = {"Error": f"Execution{described['status'].title().replace('_', '')}",
               "Cause": f"run {run} ended {described['status']} before it finished; a stopped run runs no rollback"}  # fmt: skip
    state: dict[str, Any] = {"cleanup": cleanup, "failure": failure, "settings": _settings(event, 4), "poll": {},
                             "names": {"run": run, "onDemandBackup": None}, "onDemand": {"backupArn": None},
                             "original": None, "request": stopped_input if isinstance(stopped_input, dict) else {}}  # fmt: skip
    if machine == machine_names[0]:
        try:
            request = requests.parse_backup_request(stopped_input, _copy_buckets())
        except InvalidInputError:
            return {**state, "report": {"kind": "table-cleanup", "rollback": "not_needed"}}  # it never started
        location = BackupLocation(bucket, request.table, backup_id_for(described.get("startDate"), run))
        cleanup["action"] = "nothing" if store.has_manifest(location) else "discard_backup"
        return {**state, "backup": location.to_dict(), "report": {"kind": "table-cleanup", "rollback": "not_needed"}}
    try:
        request = requests.parse_restore_request(stopped_input)
    except InvalidInputError:
        return {**state, "report": {"kind": "table-cleanup", "rollback": "not_needed"}}
    recorded = journal.read_journal(bucket, request.target, run) or {}
    state.update(
        request=request.to_dict(),
        backup=BackupLocation(bucket, request.table, request.backup_id).to_dict(),
        target={"name": request.target, "resume": False, "replaceExisting": bool(recorded.get("replaceExisting"))},
        lock={**_lock(request.target), "holder": described["executionArn"]},
        report={"kind": "table-cleanup", "rollback": "not_needed"},
    )
    if recorded.get("replaceExisting"):
        cleanup["action"] = "recover"
        state["names"]["onDemandBackup"] = recorded.get("onDemandBackup")
        state["onDemand"] = {"backupArn": recorded.get("onDemandBackupArn")}
        state["original"] = recorded.get("original")
    elif recorded:
        cleanup["action"] = "keep"
    return state


def validate(event: dict[str, Any]) -> dict[str, Any]:
    actions = {"backup": validate_backup, "restore": validate_restore, "cleanup": validate_cleanup}
    action = event.get("action")
    if action not in actions:
        raise InvalidInputError(f"unknown validation {action!r}")
    return actions[action](event)


# -- scanning: backup and verify ------------------------------------------------------------------------


def scan_step(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    action = event.get("action")
    if action == "compare":
        return compare(event)
    given = event.get("cursor")
    if given:
        cursor = scan.Cursor.from_dict(given)
    else:
        cursor = scan.Cursor.start([int(s) for s in event.get("lane") or []], int(event.get("totalSegments") or 0))
    budget = Budget.for_invocation(context)
    if action == "backup":
        return scan.back_up(str(event["table"]), _location(event), cursor, budget).to_dict()
    if action == "verify":
        return scan.digest(str(event["table"]), cursor, budget).to_dict()
    raise InvalidInputError(f"unknown scan action {action!r}")


def compare(event: dict[str, Any]) -> dict[str, Any]:
    """The restored table's items and content checksum against the manifest's."""
    expected = ContentChecksum.from_dict(event.get("expected"))
    found = ContentChecksum.combine(event.get("segments") or [])
    if (found.items, found.total) != (expected.items, expected.total):
        detail = (f"{found.items} items where the backup has {expected.items}" if found.items != expected.items
                  else f"the content checksum is {found.digest}, the backup's is {expected.digest}")  # fmt: skip
        raise RestoreVerificationError(f"the restored table does not match the backup: {detail}")
    return {"items": found.items, "sum": found.digest, "matches": True}


# -- export ---------------------------------------------------------------------------------------------


def export_step(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    location = _location(event)
    action = event.get("action")
    if action == "start":
        table_arn = str((event.get("capture") or {}).get("tableArn") or "")
        return {"exportArn": export.start(table_arn, location, _env("TABLE_BACKUP_KMS_KEY_ARN") or None)}
    if action == "index":
        position, files, done = export.index(location, int(event.get("position") or 0), Budget.for_invocation(context))
        return {"position": position, "files": files, "done": done}
    raise InvalidInputError(f"unknown export action {action!r}")


# -- the backup bucket ------------------------------------------------------------------------------------


def write_manifest(event: dict[str, Any]) -> dict[str, Any]:
    location = _location(event)
    request = event.get("request") or {}
    method = str(request.get("method") or "scan")
    found = store.ledgers(location)
    segments = segments_from_ledgers(found)
    if method == "scan":
        expected = set(range(int(request.get("segments") or 0)))
        finished = {int(ledger["segment"]) for ledger in found if ledger.get("done")}
        if expected - finished:
            raise TableBackupError(f"segments {sorted(expected - finished)} of {location.table} did not finish; no manifest written")
    captured = dict(event.get("capture") or {})
    manifest = Manifest(
        location=location,
        method=method,
        settings={key: value for key, value in captured.items() if key != "alarms"},
        segments=segments,
        created_at=str(event.get("createdAt") or store.now_iso()),
        completed_at=store.now_iso(),
        alarms=tuple(captured.get("alarms") or ()),
        source={"tableArn": captured.get("tableArn"), "itemCountEstimate": captured.get("itemCount")},
    )
    store.write_manifest(manifest)
    return {"backupId": location.backup_id, "table": location.table, "items": manifest.items, "bytes": manifest.bytes,
            "files": len(manifest.files), "method": method,
            "manifest": f"s3://{location.bucket}/{location.manifest_key}"}  # fmt: skip


def store_step(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    action = event.get("action")
    if action == "manifest":
        return write_manifest(event)
    location = _location(event)
    if action == "copy":
        destination = store.CopyDestination.from_dict(event.get("copyTo") or {})
        position, done = store.copy_backup(_manifest(location), destination, int(event.get("position") or 0),
                                           Budget.for_invocation(context))  # fmt: skip
        return {"position": position, "done": done}
    if action == "prune":
        return {"retired": store.prune(location.bucket, location.table, int(event.get("keep") or 0))}
    if action == "discard":
        return {"discarded": store.discard(location)}
    raise InvalidInputError(f"unknown store action {action!r}")


# -- changing tables -------------------------------------------------------------------------------------


def _extra_tags(event: dict[str, Any], state: str) -> dict[str, str]:
    return {RESTORED_FROM_TAG: _location(event).backup_id, RESTORE_RUN_TAG: str((event.get("names") or {}).get("run")),
            RESTORE_STATE_TAG: state}  # fmt: skip


def _journal(event: dict[str, Any], **changes: Any) -> None:
    location, request = _location(event), event.get("request") or {}
    names = event.get("names") or {}
    recorded = journal.read_journal(location.bucket, request["target"], names["run"]) or {
        "request": request, "backup": location.to_dict(), "startedAt": store.now_iso(),
        "replaceExisting": bool((event.get("target") or {}).get("replaceExisting")),
        "onDemandBackup": names.get("onDemandBackup"), "original": event.get("original"),
    }  # fmt: skip
    journal.write_journal(location.bucket, request["target"], names["run"], {**recorded, **changes})


def backup_current(event: dict[str, Any]) -> dict[str, Any]:
    request, names = event["request"], event["names"]
    _journal(event, phase="backing-up")
    arn = ondemand.take(request["table"], names["onDemandBackup"])
    _journal(event, phase="backed-up", onDemandBackupArn=arn)
    return {"backupArn": arn, "name": names["onDemandBackup"]}


def delete_current(event: dict[str, Any]) -> dict[str, Any]:
    """Delete the table being replaced, once its on-demand backup is AVAILABLE and it is still the table captured."""
    request, original = event["request"], event.get("original") or {}
    backup_arn = (event.get("onDemand") or {}).get("backupArn")
    outcome, _ = status.evaluate(status.Target.BACKUP_AVAILABLE, str(backup_arn))
    if outcome.value != "done":
        raise TableRestoreError(f"the on-demand backup of {request['table']} is not AVAILABLE; the table is not deleted")
    current = settings.describe(request["table"])
    if current is None:
        _journal(event, phase="deleted")
        return {"result": "absent"}
    if journal.table_instance(current) != journal.table_instance({"CreationDateTime": original.get("createdAt")}):
        raise TableRestoreError(f"table {request['table']!r} was re-created since the run started; it is not deleted")
    _journal(event, phase="deleting")
    # the request names this table as the one to replace, and its backup is AVAILABLE
    return _delete(current)


def _delete(description: dict[str, Any]) -> dict[str, Any]:
    """Delete a table, lifting its deletion protection first; a table still busy is a retried TableBusyError."""
    name, client = description["TableName"], clients.client("dynamodb")
    try:
        if description.get("DeletionProtectionEnabled"):
            client.update_table(TableName=name, DeletionProtectionEnabled=False)
        client.delete_table(TableName=name)
    except ClientError as error:
        if error_code(error) == "ResourceInUseException":
            raise TableBusyError(f"{name} is being updated; deleting it is retried: {error}") from error
        with aws_errors(TableRestoreError, f"deleting {name}"):
            raise
    return {"result": "deleting"}


def create_target(event: dict[str, Any]) -> dict[str, Any]:
    request = event["request"]
    target = request["target"]
    manifest = _manifest(_location(event))
    current = settings.describe(target)
    if current is not None:
        tags = _tags(current["TableArn"])
        if tags.get(RESTORED_FROM_TAG) == manifest.location.backup_id and tags.get(RESTORE_STATE_TAG) == LOADING:
            _journal(event, phase="loading", resumedFrom=tags.get(RESTORE_RUN_TAG))
            return {"result": "resuming"}
        raise TableExistsError(f"table {target!r} exists and is not an unfinished restore of this backup")
    _journal(event, phase="creating")
    arguments = settings.create_arguments(manifest.settings, target, _extra_tags(event, LOADING))
    with aws_errors(TableRestoreError, f"creating {target}"):
        clients.client("dynamodb").create_table(**arguments)
    return {"result": "creating"}


def configure(event: dict[str, Any]) -> dict[str, Any]:
    """Apply the settings a create or a recovery left out; ``phase`` says whose: the backup's or the original's."""
    request = event["request"]
    if event.get("phase") == "original":
        wanted, table, extra = event.get("original") or {}, request["table"], {}
    else:
        wanted, table, extra = _manifest(_location(event)).settings, request["target"], _extra_tags(event, LOADING)
    result, applied = settings.configure(wanted, table, extra)
    return {"result": result, "applied": applied}


def discard_partial(event: dict[str, Any]) -> dict[str, Any]:
    """Rollback: delete the table under the name only if this run made it; anything else is left alone.

    A table already DELETING (the original, stopped or failed mid-delete) is waited out, so the
    recovery that follows finds the name free instead of a table about to vanish.
    """
    request, run = event["request"], str((event.get("names") or {}).get("run"))
    current = settings.describe(request["table"])
    if current is None:
        return {"result": "absent"}
    if current.get("TableStatus") == "DELETING":
        return {"result": "deleting"}
    if _tags(current["TableArn"]).get(RESTORE_RUN_TAG) != run:
        return {"result": "original"}
    return _delete(current)


def recover(event: dict[str, Any]) -> dict[str, Any]:
    """Rollback: put the original back from its on-demand backup if the name is free; never touches a table that is there."""
    request = event["request"]
    if settings.describe(request["table"]) is not None:
        # the partial table (if any) is gone by now, so a table under the name is the original, never deleted
        return {"result": "present", "rollback": "not_needed"}
    backup_arn = (event.get("onDemand") or {}).get("backupArn")
    if not backup_arn:
        raise TableRestoreError(f"{request['table']} is missing and this run has no on-demand backup of it to recover from")
    ondemand.recover(request["table"], backup_arn, (event.get("original") or {}).get("billingMode"))
    _journal(event, phase="recovering")
    return {"result": "recovering", "rollback": "recovered"}


def finish(event: dict[str, Any]) -> dict[str, Any]:
    """Mark the restored table complete and report what was restored, and what was not carried."""
    request = event["request"]
    location = _location(event)
    manifest = _manifest(location)
    target = settings.require(request["target"])
    with aws_errors(TableRestoreError, f"tagging {request['target']} complete"):
        clients.client("dynamodb").tag_resource(ResourceArn=target["TableArn"], Tags=[{"Key": RESTORE_STATE_TAG, "Value": COMPLETE}])
    restored = settings.capture(request["target"])
    before = (event.get("original") or {}).get("streamArn")
    after = target.get("LatestStreamArn")
    _journal(event, phase="complete", finishedAt=store.now_iso())
    report = {
        "backupId": location.backup_id,
        "table": request["table"],
        "target": request["target"],
        "replace": bool(request.get("replace")),
        "items": manifest.items,
        "onDemandBackupArn": (event.get("onDemand") or {}).get("backupArn"),
        "settingsNotCarried": settings.differences(manifest.settings, restored, ignore_tags=("trapheus:",)),
        "alarmsNotCarried": [] if request.get("replace") else list(manifest.alarms),
    }
    if (event.get("target") or {}).get("replaceExisting"):
        report["streamArn"] = {"before": before, "after": after, "changed": before != after}
    return report


def restore_step(event: dict[str, Any]) -> dict[str, Any]:
    actions = {
        "backup_current": backup_current,
        "delete_current": delete_current,
        "create": create_target,
        "configure": configure,
        "discard_partial": discard_partial,
        "recover": recover,
        "finish": finish,
    }
    action = event.get("action")
    if action not in actions:
        raise InvalidInputError(f"unknown restore action {action!r}")
    return actions[action](event)


# -- loading -----------------------------------------------------------------------------------------------


def load_step(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    """Load a lane of segments on from where it stands; each segment's progress is saved for a re-run."""
    location = _location(event)
    manifest = _manifest(location)
    target = str(event["target"])
    lane = [int(s) for s in event.get("lane") or []]
    if not lane:
        raise InvalidInputError("a load needs a lane of segments")
    instance = journal.table_instance(settings.require(target))
    previous = (event.get("load") or {}).get("cursor")
    if previous is None:
        previous = _saved_cursor(location, target, instance, lane[0])
    cursor = loader.LoadCursor.from_dict(previous)
    if cursor.segment not in lane:
        raise BackupIncompleteError(f"progress of segment {cursor.segment} handed to lane {lane}")
    outcome, cursor, wait = loader.load(manifest, target, cursor, Budget.for_invocation(context))
    journal.write_progress(location.bucket, target, instance, cursor.segment, {
        "segment": cursor.segment, "cursor": cursor.to_dict(), "done": outcome == "loaded",
        "items": cursor.items, "of": manifest.segment(cursor.segment).checksum.items, "backupId": location.backup_id,
    })  # fmt: skip
    following = lane[lane.index(cursor.segment) + 1 :]
    if outcome == "loaded" and following:
        # on to the lane's next segment (from its saved progress, if a run before got that far)
        return {"state": "more", "cursor": _saved_cursor(location, target, instance, following[0]), "waitSeconds": 0}
    return {"state": outcome, "cursor": cursor.to_dict(), "waitSeconds": wait}


def _saved_cursor(location: BackupLocation, target: str, instance: str, segment: int) -> dict[str, Any]:
    saved = journal.read_progress(location.bucket, target, instance, segment)
    return (saved or {}).get("cursor") or {"segment": segment}


def check(event: dict[str, Any]) -> dict[str, Any]:
    return status.check(event)
