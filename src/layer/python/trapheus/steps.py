"""The workflow's steps: one function per handler, taking the step's event.

Handlers stay thin by delegating here; these functions turn the workflow state
into typed values, call the domain modules and shape the small result each
state stores.
"""

from __future__ import annotations

import os
from typing import Any

from trapheus import (
    backtrack,
    clients,
    databases,
    endpoints,
    exports,
    hooks,
    preflight,
    recovery,
    restore,
    retention,
    run_report,
    snapshots,
    sources,
    waiters,
)
from trapheus.errors import InvalidInputError, RestoreError
from trapheus.names import RestoreNames


def _flag(name: str, default: bool) -> bool:
    value = os.environ.get(name, "").strip().lower()
    return default if value == "" else value in ("1", "true", "yes", "on")


def _run_id(event: dict) -> str:
    return str((event.get("execution") or {}).get("Name") or "manual")


def _settings(event: dict) -> dict[str, int]:
    raw = event.get("settings") or {}
    settings = {}
    for name, default in (("pollSeconds", 30), ("maxAttempts", 240)):
        value = raw.get(name, default)
        if isinstance(value, bool) or not isinstance(value, int) or value < (0 if name == "pollSeconds" else 1):
            raise InvalidInputError(f"setting {name} must be a positive whole number, got {value!r}")
        settings[name] = value
    return settings


def validate_input(event: dict) -> dict:
    action = event.get("action")
    if action == "plan":
        return preflight.plan(event.get("input"), _run_id(event))
    if action == "phase":
        return recovery.enter_phase(event.get("input"))
    if action == "recover":
        state = recovery.prepare(event.get("input"), event.get("execution") or {}, _settings(event))
    else:
        state = preflight.prepare(event.get("input"), _run_id(event))
        state["settings"] = _settings(event)
    state["timeline"] = {"started": event.get("startedAt")}
    return state


def snapshot(event: dict) -> dict:
    request, kind, names = preflight.load(event)
    action = event.get("action")
    if action == "take":
        return {"result": snapshots.take(kind, names.original, names.snapshot_next)}
    if action == "remove_old":
        return {"result": snapshots.remove(kind, names.snapshot)}
    if action == "copy_into_place":
        return {"result": snapshots.copy(kind, names.snapshot_next, names.snapshot)}
    if action == "remove_next":
        return {"result": snapshots.remove(kind, names.snapshot_next)}
    raise InvalidInputError(f"unknown snapshot action {action!r}")


def _pairs(names: RestoreNames, source: str, target: str) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """(database pairs, member pairs) renaming every ``source`` name to its ``target`` name."""
    return [(getattr(names, source), getattr(names, target))], [(getattr(m, source), getattr(m, target)) for m in names.members]


RENAMES = {
    "aside": ("original", "aside"),  # the original steps out of the way
    "back": ("aside", "original"),  # rollback: the original returns
    "stage_in": ("staged", "original"),  # swap: the staged copy takes the original identifier
}


def rename(event: dict) -> dict:
    request, kind, names = preflight.load(event)
    action = event.get("action")
    if action not in RENAMES:
        raise InvalidInputError(f"unknown rename action {action!r}")
    pairs, member_pairs = _pairs(names, *RENAMES[action])
    results = databases.rename_database(kind, pairs, member_pairs)
    return {"result": "renamed" if "renamed" in results.values() else "already", "renamed": results}


def _target(event: dict, names: RestoreNames) -> tuple[str, dict[str, str]]:
    """The identifier a restore step works on, and where each member goes ("original" or "staged")."""
    where = event.get("target", "original")
    if where not in ("original", "staged"):
        raise InvalidInputError(f"unknown restore target {where!r}")
    return getattr(names, where), {m.original: getattr(m, where) for m in names.members}


def restore_step(event: dict) -> dict:
    request, kind, names = preflight.load(event)
    configuration = event.get("configuration")
    if not isinstance(configuration, dict):
        raise InvalidInputError("restore step needs the captured 'configuration'")
    target, members = _target(event, names)
    action = event.get("action")
    if action == "restore":
        source = sources.source_of(request, names, configuration)
        outcome = restore.restore_twin(kind, source, target, configuration, configuration.get("resourceId"))
        return {"result": "restoring", **outcome}
    if action == "add_members":
        return restore.add_members(kind, target, configuration, members, int(event.get("attempt") or 0))
    if action == "configure":
        outcome = restore.apply_configuration(kind, target, configuration, members)
        return {"result": "modifying" if outcome["changed"] else "unchanged", **outcome}
    if action in ("verify", "verify_protected"):
        # "verify": everything but deletion protection, before it is set; "verify_protected": everything
        differences, restored = restore.verify_twin(kind, target, configuration, members, protected=action == "verify_protected")
        if differences:
            raise RestoreError(f"restored {kind.label} {target!r} is not the original's twin: " + "; ".join(differences))
        return {"result": "twin", "differences": [], **_restored_summary(kind, target)}
    if action == "protect":
        return {"result": "protecting", **restore.protect(kind, target, configuration)}
    if action == "rewind":
        return backtrack.rewind(names.original, str(request.restore_time))
    if action in ("move_endpoints", "return_endpoints"):
        # onto the copy at the original identifier, from the original parked aside; or back onto the original
        source = names.aside if action == "move_endpoints" else None
        return endpoints.place(configuration.get("endpoints", []), names.original, source, clients.client("rds"), int(event.get("attempt") or 0))
    raise InvalidInputError(f"unknown restore action {action!r}")


def _restored_summary(kind: Any, identifier: str) -> dict:
    """What the operator needs to know about the restored database: its identifier and, when RDS manages its
    master password, the ARN of its NEW secret (the original's secret goes with the original)."""
    description = databases.describe(kind, identifier)
    summary: dict[str, Any] = {"identifier": identifier}
    secret = (description.get("MasterUserSecret") or {}).get("SecretArn")
    if secret:
        summary["masterUserSecretArn"] = secret
    return summary


def delete(event: dict) -> dict:
    request, kind, names = preflight.load(event)
    action = event.get("action")
    if action in ("retire", "retire_expired"):
        hours = float(os.environ.get("RETAIN_OLD_COPY_HOURS") or 0)
        if action == "retire":
            # tagged first: if the delete below fails, the next run finds the parked original
            # and retires it (with a final snapshot) instead of refusing to start
            parked = databases.find(kind, names.aside)
            if parked is not None and databases.status(kind, parked) not in databases.GONE_STATUSES:
                until = retention.keep(kind, parked, hours)
                if hours > 0:
                    return {"result": "kept", "identifier": names.aside, "retireAfter": until}
        final = None
        if _flag("FINAL_SNAPSHOT", True):
            # a kept original retired by a later run: this run's own retirement may need the plain name later
            final = names.final_snapshot_kept if action == "retire_expired" else names.final_snapshot
        result = databases.delete_database(
            kind, names.aside, final_snapshot=final, keep_automated_backups=_flag("KEEP_AUTOMATED_BACKUPS", True)
        )
        return {"result": result, "identifier": names.aside, "finalSnapshot": final}
    if action == "discard":
        # the copy at the original identifier (in place, or swapped in) or at the staged one (swap)
        target, _ = _target(event, names)
        original = (event.get("configuration") or {}).get("resourceId")
        keepers = [names.original, names.aside]
        # a copy that held the original identifier may have taken writes: it goes with a final snapshot
        rollback_snapshot = names.rollback_snapshot if target == names.original else None
        outcome = restore.discard_partial_restore(kind, target, keepers, original, rollback_snapshot=rollback_snapshot)
        return {**outcome, "identifier": target}
    raise InvalidInputError(f"unknown delete action {action!r}")


def verify_hook(event: dict) -> dict:
    """Run the user's verify function on the copy about to take over: the staged copy (swap), or the restored
    database before it is protected (in place)."""
    if "copy" in event:  # the copy workflow: its copy, as trapheus.copies names it
        from trapheus.copies.steps import verify_target

        function = ((event.get("request") or {}).get("verify") or {}).get("functionArn")
        if not function:  # the survey refused any function not in VerifyFunctionArns; IAM allows no other
            raise InvalidInputError("no verify function was given")
        return hooks.verify(str(function), verify_target(event))
    request, kind, names = preflight.load(event)
    if not request.verify_function:
        raise InvalidInputError("no verify function was given")
    copy = names.staged if request.strategy.value == "swap" else names.original
    return hooks.verify(request.verify_function, hooks.target(kind, copy, names.original, "restore"))


def report(event: dict) -> dict:
    """Bookkeeping steps: a run's report, and what a recovery learns between its phases."""
    action = event.get("action")
    state = event.get("state") or {}
    if action == "restore":
        return run_report.restore_report(state, str(event.get("endedAt")))
    if action == "recover":
        return run_report.recovery_report(state, str(event.get("endedAt")))
    if action == "staging":
        return recovery.staging(event.get("results") or [])
    if action == "retirement":
        return recovery.retirement(event.get("results") or [])
    if action == "failure":
        return recovery.failure(state)
    raise InvalidInputError(f"unknown report action {action!r}")


def check_status(event: dict) -> dict:
    return waiters.check(event)


def export_snapshot(event: dict) -> dict:
    request, kind, names = preflight.load(event)
    return exports.start_export(kind, names.snapshot, _run_id(event))


def context_keys(event: Any) -> dict[str, Any]:
    """Identifier and execution name for log lines, from whatever shape the event has."""
    if not isinstance(event, dict):
        return {}
    request = event.get("request") or event.get("database") or event.get("input") or {}
    named = (request.get("identifier") or request.get("table")) if isinstance(request, dict) else None
    copy = event.get("copy")
    identifier = event.get("identifier") or event.get("table") or named or (copy.get("identifier") if isinstance(copy, dict) else None)
    return {"identifier": identifier, "execution": _run_id(event)}

