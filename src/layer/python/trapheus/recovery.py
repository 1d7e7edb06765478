"""Several databases brought back to one instant: the recovery's survey, and what it learns between phases.

The recover workflow (``<stack>-recover``) runs the restore workflow once per database and phase, as nested
executions: ``stage`` (a verified copy beside each original), ``swap`` (the copy takes the identifier, one
database after another), ``retire`` (the originals, once every swap succeeded) and ``rollback`` (the restore
workflow's own rollback). Everything is decided here first, read only: every database's restorable window holds
the one time chosen (``"latest"``: the earliest of their latest restorable times), every survey of the restore
workflow passes, and the lock item of every database is ready to be written in one transaction, so no phase of
any database starts unless all of them can.

A phase run holds no lock of its own and sends no alert: it is accepted only from the recovery that holds the
lock on its database, with the names that recovery derived (``enter_phase``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from typing import Any

from trapheus import clients, point_in_time, preflight, quotas
from trapheus.errors import (
    IdentifierInUseError,
    InvalidInputError,
    NoAutomatedBackupsError,
    RecoveryError,
    RestoreTimeError,
    TrapheusError,
)
from trapheus.inputs import LATEST, RestoreRequest, Strategy, Task, require_bool, restore_time_of, verify_function_of
from trapheus.locks import lock_holder
from trapheus.names import RESTORABLE_ID_MAX, check_identifier, derive_names

KNOWN_FIELDS = frozenset({"databases", "restoreTime", "maxConcurrency", "verify"})
# every database's state travels through the run, whose data is at most 256 KB
# (https://docs.aws.amazon.com/step-functions/latest/dg/service-quotas.html); one transaction takes every lock
MAX_DATABASES = 10
MAX_CONCURRENCY = 10
DEFAULT_CONCURRENCY = 4
PHASES = ("stage", "swap", "retire", "rollback")
STARTED_BY = "AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID"


@dataclass(frozen=True)
class RecoveryRequest:
    databases: tuple[tuple[str, bool], ...]  # (identifier, is_cluster)
    restore_time: str  # "latest" or ISO-8601 UTC
    max_concurrency: int
    verify_function: str | None = None

    def restore_request(self, identifier: str, is_cluster: bool) -> RestoreRequest:
        """What the restore workflow does for one of the databases: a point-in-time restore by swap."""
        return RestoreRequest(
            identifier, Task.POINT_IN_TIME_RESTORE, is_cluster, f"{identifier}-snapshot", False, Strategy.SWAP,
            self.restore_time, self.verify_function,
        )

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "databases": [{"identifier": i, "isCluster": c} for i, c in self.databases],
            "restoreTime": self.restore_time,
            "maxConcurrency": self.max_concurrency,
        }
        if self.verify_function:
            data["verify"] = {"functionArn": self.verify_function}
        return data


def parse(data: Any) -> RecoveryRequest:
    """Validate the console input of a recovery; raise InvalidInputError with a message a person can act on."""
    if not isinstance(data, dict):
        raise InvalidInputError(f"the input must be a JSON object, got {type(data).__name__}")
    unknown = sorted(set(data) - KNOWN_FIELDS)
    if unknown:
        raise InvalidInputError(f"unknown field(s) {', '.join(unknown)}; allowed: {', '.join(sorted(KNOWN_FIELDS))}")
    listed = data.get("databases")
    if not isinstance(listed, list) or not listed:
        raise InvalidInputError('\'databases\' must be a non-empty list such as [{"identifier": "orders-db", "isCluster": false}]')
    if len(listed) > MAX_DATABASES:
        raise InvalidInputError(f"a recovery takes at most {MAX_DATABASES} databases, got {len(listed)}")
    databases = []
    for entry in listed:
        if not isinstance(entry, dict) or set(entry) - {"identifier", "isCluster"} or "identifier" not in entry:
            raise InvalidInputError(f'each database is {{"identifier": "...", "isCluster": true|false}}, got {entry!r}')
        identifier = check_identifier(entry["identifier"], field_name="identifier", max_length=RESTORABLE_ID_MAX)
        databases.append((identifier, require_bool(entry, "isCluster")))
    if len(set(databases)) != len(databases):
        raise InvalidInputError("a database is listed twice")
    concurrency = data.get("maxConcurrency", DEFAULT_CONCURRENCY)
    if isinstance(concurrency, bool) or not isinstance(concurrency, int) or not 1 <= concurrency <= MAX_CONCURRENCY:
        raise InvalidInputError(f"'maxConcurrency' must be a whole number from 1 to {MAX_CONCURRENCY}, got {concurrency!r}")
    restore_time = restore_time_of(data, Task.POINT_IN_TIME_RESTORE)
    verify = verify_function_of(data, Task.POINT_IN_TIME_RESTORE, Strategy.SWAP)
    return RecoveryRequest(tuple(databases), str(restore_time), concurrency, verify)


def _refusal(problems: list[tuple[str, TrapheusError]], restore_time: str) -> TrapheusError:
    """One error for the whole run (the first problem's class), naming every database that stands in the way."""
    listed = "; ".join(f"{identifier}: {problem}" for identifier, problem in problems)
    return type(problems[0][1])(f"the recovery to {restore_time} is refused, nothing was changed: {listed}")


def prepare(raw_input: Any, execution: dict, settings: dict, rds: Any = None, environ: Any = None) -> dict:
    """Survey every database (read only) and return the recovery's state; refuse the whole run on any blocker."""
    env = os.environ if environ is None else environ
    request = parse(raw_input)
    run_id = str(execution.get("Name") or "manual")
    surveys = [preflight.survey(request.restore_request(i, c), run_id, rds, env) for i, c in request.databases]
    # one instant for all: the earliest of their latest restorable times, then every window must hold it
    windows = [found.window for found in surveys if found.window is not None]
    chosen = point_in_time.common_latest(windows) if request.restore_time == LATEST else request.restore_time
    problems: list[tuple[str, TrapheusError]] = []
    for found in surveys:
        identifier = found.request.identifier
        blockers = list(found.blockers)
        if found.window is not None and chosen != LATEST:
            # the one time chosen for all, checked again against this database's own window
            blockers = [b for b in blockers if not isinstance(b, (RestoreTimeError, NoAutomatedBackupsError))]
            found.restore_time, refusals = point_in_time.choose_time(found.window, chosen)
            blockers += refusals
        problems += [(identifier, blocker) for blocker in blockers]
        if found.expired_copy:
            problems.append((identifier, IdentifierInUseError(
                f"the original replaced by an earlier run is still kept as {found.names.aside if found.names else '?'}: "
                "retire it first (a restore run of this database does)")))
    problems += [("account", shortfall) for shortfall in quotas.shortfalls(_total_needs(surveys, env), rds or clients.client("rds"))]
    if problems:
        raise _refusal(problems, chosen)
    chosen_request = replace(request, restore_time=chosen)
    states = []
    for found in surveys:
        state = preflight.run_state(found, env)
        state.update(settings=settings, timeline={})
        states.append(state)
    return {
        "request": chosen_request.to_dict(),
        "databases": states,
        "locks": _lock_transaction(states, str(execution.get("Id")), env),
        "settings": settings,
        "timeline": {},
        "alert": {"identifier": ", ".join(i for i, _ in request.databases), "task": "recover", "isCluster": None},
    }


def _total_needs(surveys: list[preflight.Survey], environ: Any) -> dict[str, int]:
    """What the recovery holds at its peak: every database's staged copy (and final snapshot) at once."""
    total: dict[str, int] = {}
    for found in surveys:
        if found.configuration is None:
            continue
        for quota, need in preflight.quota_needs(found.kind, found.request, found.configuration, environ).items():
            total[quota] = total.get(quota, 0) + need
    return total


def _lock_transaction(states: list[dict], execution_arn: str, environ: Any) -> dict:
    """Every database's lock item, written in one DynamoDB transaction (all or none), and how to release them."""
    table = environ.get("LOCK_TABLE_NAME") or "unset"
    take = [
        {"Put": {
            "TableName": table,
            "Item": {"lockId": {"S": s["lock"]["key"]}, "execution": {"S": execution_arn}, "expiresAt": {"N": s["lock"]["expiresAt"]}},
            "ConditionExpression": "attribute_not_exists(lockId) OR expiresAt < :now",
            "ExpressionAttributeValues": {":now": {"N": s["lock"]["now"]}},
        }}
        for s in states
    ]
    return {"take": take, "keys": [s["lock"]["key"] for s in states]}


def enter_phase(raw_input: Any, dynamodb: Any = None, environ: Any = None) -> dict:
    """The state a phase of a recovery runs from; refused unless that recovery holds the database's lock and
    derived its names."""
    env = os.environ if environ is None else environ
    if not isinstance(raw_input, dict) or raw_input.get("phase") not in PHASES or not isinstance(raw_input.get("state"), dict):
        raise InvalidInputError(f"a phase of a recovery is {{\"phase\": one of {', '.join(PHASES)}, \"state\": ..., \"{STARTED_BY}\": ...}}")
    phase, state, parent = raw_input["phase"], raw_input["state"], str(raw_input.get(STARTED_BY) or "")
    parts = parent.split(":")
    recover_machine = env.get("RECOVER_STATE_MACHINE_NAME")
    if len(parts) != 8 or parts[5] != "execution" or not recover_machine or parts[6] != recover_machine:
        raise InvalidInputError(f"a phase runs only as part of a run of {recover_machine or 'the recover workflow'}, not of {parent or 'nothing'}")
    request, kind, names = preflight.load(state)
    if not request.task.to_point_in_time or request.strategy is not Strategy.SWAP:
        raise InvalidInputError("a phase of a recovery is a point-in-time restore by swap")
    expected = derive_names(request.identifier, request.snapshot_identifier, parts[7], [m.original for m in names.members],
                            is_cluster=request.is_cluster)
    if expected != names:
        raise InvalidInputError(f"the names of {request.identifier!r} are not the ones recovery {parts[7]} derived")
    holder = lock_holder(request.is_cluster, request.identifier, env.get("LOCK_TABLE_NAME"), dynamodb)
    if holder != parent:
        raise InvalidInputError(f"the lock on {request.identifier!r} is held by {holder or 'no run'}, not by recovery {parts[7]}")
    entered = {key: value for key, value in state.items() if key != "lock"}  # the recovery holds it
    entered["phase"] = phase
    if phase == "rollback":
        entered["failure"] = {"Error": RecoveryError.__name__, "Cause": f"{request.identifier} rolled back by recovery {parts[7]}"}
    return entered


# -- between the phases --------------------------------------------------------------------------------------


def _failure_text(failure: Any) -> str:
    from trapheus.alerts import readable_cause

    failure = failure if isinstance(failure, dict) else {}
    error, message = readable_cause(failure.get("Cause"))
    return f"{failure.get('Error') or error or 'failed'}: {message}" if message else str(failure.get("Error") or "failed")


def staging(results: list[dict]) -> dict:
    """Whether every copy is staged (and verified); which are, and why the others are not."""
    staged = [r["identifier"] for r in results if r.get("staged")]
    failed = [{"identifier": r["identifier"], "why": _failure_text(r.get("failure"))} for r in results if not r.get("staged")]
    return {"allStaged": not failed, "staged": staged, "failed": failed}


def failure(state: dict) -> dict:
    """The recovery's error, a cause that says what is where, and the rollback's outcome, for the alerts and the
    run's end."""
    lines: list[str] = []
    for failed in (state.get("staging") or {}).get("failed", []):
        lines.append(f"{failed['identifier']}: no staged copy ({failed['why']})")
    if state.get("swapFailure"):
        lines.append(f"a swap failed: {_failure_text(state['swapFailure'])}")
    rollbacks = state.get("rollbacks")
    for result in rollbacks or []:
        outcome = ("the original serves its identifier, no copy is left" if result.get("rolledBack")
                   else f"ROLLBACK FAILED ({_failure_text(result.get('failure'))}): check it now")
        lines.append(f"{result['identifier']}: {outcome}")
    if rollbacks is None:  # every swap succeeded: retiring an original failed
        for item in state.get("databases") or []:
            if not item.get("retired"):
                lines.append(f"{item['identifier']}: restored, but its original is still aside, not retired "
                             f"({_failure_text(item.get('failure'))})")
        where, rollback = "retirement of the originals (every database is restored)", "skipped"
    else:
        where = "swaps" if state.get("swapFailure") else "staging (no original was touched)"
        rollback = "done" if all(r.get("rolledBack") for r in rollbacks) else "failed"
    return {"Error": RecoveryError.__name__, "Cause": f"the recovery failed in the {where}: " + "; ".join(lines), "rollback": rollback}


def retirement(results: list[dict]) -> dict:
    return {"allRetired": all(r.get("retired") for r in results)}
