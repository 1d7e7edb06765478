"""The domain code of point-in-time restores: the input, the windows, backtracking, the verify hook, the phases of a
recovery and the run's report."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from trapheus import backtrack, hooks, point_in_time, recovery, run_report
from trapheus.errors import (
    AccessNotGrantedError,
    InvalidInputError,
    NoAutomatedBackupsError,
    RestoreTimeError,
    VerificationFailedError,
)
from trapheus.inputs import LATEST, Strategy, Task, format_time, parse_request
from trapheus.locks import lock_key
from trapheus.names import derive_names
from trapheus.point_in_time import RestorableWindow

NOW = datetime(2026, 11, 29, 12, 0, tzinfo=timezone.utc)
VERIFY_FUNCTION = Path(__file__).resolve().parents[1] / "workflow" / "fixtures" / "functions" / "verify"


def request(**fields):
    return parse_request({"identifier": "orders-db", "isCluster": False, "task": "point_in_time_restore", **fields}, export_default=False)


# -- the input ---------------------------------------------------------------------------------------------------


def test_a_restore_time_is_taken_in_any_zone_and_kept_in_utc():
    assert request(restoreTime="2026-11-29T12:42:00+02:00").restore_time == "2026-11-29T10:42:00Z"
    assert request(restoreTime="latest").restore_time == LATEST
    assert request(restoreTime="2026-11-29T10:42:00Z").to_dict()["restoreTime"] == "2026-11-29T10:42:00Z"
    assert "snapshotIdentifier" not in request(restoreTime="latest").to_dict()


@pytest.mark.parametrize(
    ("fields", "says"),
    [
        ({}, "needs 'restoreTime'"),
        ({"restoreTime": "2026-11-29T10:42:00"}, "names no time zone"),
        ({"restoreTime": 1796000000}, "must be an ISO-8601 time"),
        ({"restoreTime": "latest", "snapshotIdentifier": "orders-gold"}, "not snapshotIdentifier"),
        ({"restoreTime": "latest", "strategy": "backtrack"}, "isCluster true"),
        ({"restoreTime": "latest", "isCluster": True, "strategy": "backtrack", "verify": {"functionArn": "arn:aws:lambda:us-east-1:123456789012:function:f"}},
         "a backtrack rewinds the cluster itself"),
        ({"restoreTime": "latest", "verify": {"functionArn": "arn:aws:lambda:us-east-1:123456789012:layer:f"}}, "not the ARN of a Lambda function"),
        ({"restoreTime": "latest", "verify": "arn:aws:lambda:us-east-1:123456789012:function:f"}, "must be {\"functionArn\""),
    ],
)
def test_a_point_in_time_input_rds_could_not_take_is_refused(fields, says):
    with pytest.raises(InvalidInputError, match=says.replace("(", r"\(").replace("{", r"\{")):
        request(**fields)


def test_a_restore_time_belongs_to_the_point_in_time_task_only():
    with pytest.raises(InvalidInputError, match="belongs to task point_in_time_restore"):
        parse_request({"identifier": "a", "isCluster": False, "task": "db_restore", "restoreTime": "latest"}, export_default=False)


# -- the restorable window -------------------------------------------------------------------------------------


WINDOW = RestorableWindow("orders-db", 7, NOW - timedelta(days=7), NOW - timedelta(minutes=5))


@pytest.mark.parametrize(
    ("window", "wanted", "chosen", "refused"),
    [
        (WINDOW, "2026-11-29T10:42:00Z", "2026-11-29T10:42:00Z", None),
        (WINDOW, LATEST, format_time(NOW - timedelta(minutes=5)), None),
        (WINDOW, "2026-11-29T13:00:00Z", None, "in the future"),
        (WINDOW, "2026-11-29T11:58:00Z", None, "after the latest restorable time"),
        (WINDOW, "2026-11-01T00:00:00Z", None, "before the earliest restorable time"),
        (RestorableWindow("orders-db", 0, None, None), LATEST, None, "no automated backups"),
        (RestorableWindow("orders-db", 1, NOW - timedelta(minutes=1), NOW - timedelta(minutes=5)), LATEST, None, "no restorable time yet"),
        (RestorableWindow("orders-db", 1, None, None), LATEST, None, "no restorable window"),
    ],
)
def test_a_restore_time_is_chosen_inside_the_window_or_refused_with_the_reason(window, wanted, chosen, refused):
    time, problems = point_in_time.choose_time(window, wanted, NOW)
    assert time == chosen
    if refused is None:
        assert problems == []
    else:
        (problem,) = problems
        assert isinstance(problem, NoAutomatedBackupsError if "backups" in refused else RestoreTimeError)
        assert refused in str(problem).replace("backup retention 0", "no automated backups")


def test_one_instant_for_several_databases_is_the_earliest_of_their_latest_times():
    later = RestorableWindow("ledger", 7, NOW - timedelta(days=7), NOW - timedelta(minutes=2))
    assert point_in_time.common_latest([WINDOW, later]) == format_time(NOW - timedelta(minutes=5))
    assert point_in_time.common_latest([WINDOW, RestorableWindow("x", 0, None, None)]) == LATEST


# -- backtracking ----------------------------------------------------------------------------------------------


def cluster(**fields):
    return {"DBClusterIdentifier": "ledger", "Engine": "aurora-mysql", "BacktrackWindow": 7200,
            "EarliestBacktrackTime": NOW - timedelta(hours=2), **fields}  # fmt: skip


@pytest.mark.parametrize(
    ("described", "wanted", "refused"),
    [
        (cluster(), "2026-11-29T11:30:00Z", None),
        (cluster(), "2026-11-29T09:00:00Z", RestoreTimeError),
        (cluster(Engine="aurora-postgresql"), "2026-11-29T11:30:00Z", InvalidInputError),
        (cluster(BacktrackWindow=0, EarliestBacktrackTime=None), "2026-11-29T11:30:00Z", InvalidInputError),
    ],
    ids=["inside the window", "before it", "Aurora PostgreSQL", "backtracking off"],
)
def test_a_backtrack_applies_only_inside_its_window_on_aurora_mysql(described, wanted, refused):
    found = backtrack.why_not(described, wanted)
    assert (found is None) if refused is None else isinstance(found, refused)


# -- the verify hook -------------------------------------------------------------------------------------------


def test_only_the_listed_verify_functions_may_be_invoked():
    listed = {"VERIFY_FUNCTION_ARNS": "arn:aws:lambda:us-east-1:123456789012:function:a,arn:aws:lambda:us-east-1:123456789012:function:b"}
    assert hooks.not_allowed("arn:aws:lambda:us-east-1:123456789012:function:b", listed) is None
    assert hooks.not_allowed(None, {}) is None
    refusal = hooks.not_allowed("arn:aws:lambda:us-east-1:123456789012:function:c", listed)
    assert isinstance(refusal, AccessNotGrantedError) and "VerifyFunctionArns" in str(refusal)
    assert "listed: none" in str(hooks.not_allowed("arn:aws:lambda:us-east-1:123456789012:function:a", {}))


def test_a_verify_function_that_fails_or_errs_fails_the_check(strict_aws):
    emulator = strict_aws.emulator
    failing = emulator.serve_function("says-no", VERIFY_FUNCTION, environment={"VERDICT": "fail"})
    erring = emulator.serve_function("cannot-connect", VERIFY_FUNCTION, environment={"VERDICT": "raise"})
    copy = {"identifier": "orders-db-trapheus-new", "endpoint": "orders-db-trapheus-new.example", "port": 3306, "isCluster": False}
    with pytest.raises(VerificationFailedError, match="did not pass 'orders-db-trapheus-new'.*0 rows"):
        hooks.verify(failing, copy)
    with pytest.raises(VerificationFailedError, match="failed on 'orders-db-trapheus-new'.*could not connect"):
        hooks.verify(erring, copy)


# -- a recovery's input and its phases --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "says"),
    [
        ({"databases": [{"identifier": "a", "isCluster": False}] * 2, "restoreTime": "latest"}, "listed twice"),
        ({"databases": [{"identifier": f"db{i}", "isCluster": False} for i in range(11)], "restoreTime": "latest"}, "at most 10"),
        ({"databases": [{"identifier": "a", "isCluster": "no"}], "restoreTime": "latest"}, "JSON boolean"),
        ({"databases": [{"identifier": "a", "isCluster": False}], "restoreTime": "latest", "maxConcurrency": 0}, "from 1 to 10"),
        ({"databases": [{"identifier": "a", "isCluster": False}], "restoreTime": "latest", "strategy": "in-place"}, "unknown field"),
    ],
)
def test_a_recovery_input_is_checked_before_anything(data, says):
    with pytest.raises(InvalidInputError, match=says):
        recovery.parse(data)


def test_a_recovery_restores_each_database_to_a_point_in_time_by_swap():
    parsed = recovery.parse({"databases": [{"identifier": "Orders", "isCluster": False}], "restoreTime": "latest"})
    restore = parsed.restore_request(*parsed.databases[0])
    assert (restore.identifier, restore.task, restore.strategy, restore.restore_time) == ("orders", Task.POINT_IN_TIME_RESTORE, Strategy.SWAP, LATEST)


RECOVERY = "arn:aws:states:us-east-1:123456789012:execution:trapheus-recover:recover-1"
ENVIRONMENT = {"RECOVER_STATE_MACHINE_NAME": "trapheus-recover", "LOCK_TABLE_NAME": "locks"}


@pytest.fixture
def locks(aws):
    dynamodb = aws.client("dynamodb")
    dynamodb.create_table(TableName="locks", AttributeDefinitions=[{"AttributeName": "lockId", "AttributeType": "S"}],
                          KeySchema=[{"AttributeName": "lockId", "KeyType": "HASH"}], BillingMode="PAY_PER_REQUEST")  # fmt: skip
    dynamodb.put_item(TableName="locks", Item={"lockId": {"S": lock_key(False, "orders-db")}, "execution": {"S": RECOVERY},
                                               "expiresAt": {"N": "9999999999"}})  # fmt: skip
    return dynamodb


def phase_input(phase: str = "swap", parent: str = RECOVERY, run_name: str = "recover-1") -> dict:
    state = {
        "request": request(restoreTime="2026-11-29T10:42:00Z").to_dict(),
        "names": derive_names("orders-db", "orders-db-snapshot", run_name).to_dict(),
        "configuration": {"resourceId": "db-1"},
        "lock": {"key": lock_key(False, "orders-db")},
    }
    return {"phase": phase, "state": state, recovery.STARTED_BY: parent}


def test_a_phase_runs_for_the_recovery_that_holds_the_lock_and_derived_the_names(locks):
    entered = recovery.enter_phase(phase_input("rollback"), locks, ENVIRONMENT)
    assert entered["phase"] == "rollback" and "lock" not in entered, "the recovery holds the lock, not the phase"
    assert entered["failure"]["Error"] == "RecoveryError"


@pytest.mark.parametrize(
    ("given", "says"),
    [
        (phase_input(parent="arn:aws:states:us-east-1:123456789012:execution:other-recover:x"), "only as part of a run of trapheus-recover"),
        (phase_input(run_name="someone-else"), "not the ones recovery recover-1 derived"),
        (phase_input(parent="arn:aws:states:us-east-1:123456789012:execution:trapheus-recover:recover-2", run_name="recover-2"),
         "held by .*recover-1, not by recovery recover-2"),
        (phase_input(phase="retire-everything"), "a phase of a recovery is"),
        ({**phase_input(), recovery.STARTED_BY: None}, "not of nothing"),
    ],
    ids=["another workflow", "names of another run", "lock of another run", "unknown phase", "no parent"],
)
def test_a_phase_anyone_else_asks_for_is_refused(locks, given, says):
    with pytest.raises(InvalidInputError, match=says):
        recovery.enter_phase(given, locks, ENVIRONMENT)


def test_what_a_recovery_learns_between_its_phases():
    assert recovery.staging([{"identifier": "a", "staged": True}, {"identifier": "b", "staged": True}])["allStaged"] is True
    tally = recovery.staging([{"identifier": "a", "staged": True},
                              {"identifier": "b", "staged": False, "failure": {"Error": "States.TaskFailed", "Cause": "boom"}}])  # fmt: skip
    assert tally == {"allStaged": False, "staged": ["a"], "failed": [{"identifier": "b", "why": "States.TaskFailed: boom"}]}
    after_swap = recovery.failure({"swapFailure": {"Error": "States.TaskFailed", "Cause": "no"},
                                   "rollbacks": [{"identifier": "a", "rolledBack": True}, {"identifier": "b", "rolledBack": False}]})  # fmt: skip
    assert after_swap["rollback"] == "failed" and "in the swaps" in after_swap["Cause"] and "b: ROLLBACK FAILED" in after_swap["Cause"]
    retiring = recovery.failure({"databases": [{"identifier": "a", "retired": True}, {"identifier": "b", "retired": False}]})
    assert retiring["rollback"] == "skipped" and "b: restored, but its original is still aside" in retiring["Cause"]
    assert recovery.retirement([{"retired": True}, {"retired": False}]) == {"allRetired": False}


# -- the report ---------------------------------------------------------------------------------------------------


def test_a_report_measures_the_downtime_between_the_times_the_workflow_noted():
    state = {
        "request": request(restoreTime="2026-11-29T10:42:00Z", isCluster=True, strategy="backtrack").to_dict(),
        "names": derive_names("orders-db", "orders-db-snapshot", "run").to_dict(),
        "timeline": {"started": "2026-11-29T12:00:00+00:00", "stoppedAnswering": {"at": "2026-11-29T12:01:00+00:00"},
                     "answeringAgain": {"at": "2026-11-29T12:06:30+00:00"}},
        "restoredTo": "2026-11-29T10:42:00Z",
        "backtrack": {"rewoundFrom": "2026-11-29T12:01:00Z"},
    }  # fmt: skip
    report = run_report.restore_report(state, "2026-11-29T12:10:00+00:00", {})
    (item,) = report["items"]
    assert (item["source"], item["downtimeSeconds"], item["stagedCopy"], item["backtrack"]) == ("backtrack", 330.0, None, state["backtrack"])
    assert report["summary"] == {"started": "2026-11-29T12:00:00+00:00", "ended": "2026-11-29T12:10:00+00:00",
                                 "rtoSeconds": 600.0, "restoreTime": "2026-11-29T10:42:00Z"}  # fmt: skip
    state["request"] = request(restoreTime="2026-11-29T10:42:00Z").to_dict()
    kept = run_report.item(state, {"RETAIN_OLD_COPY_HOURS": "24"})
    assert kept["finalSnapshot"] is None and kept["keptFor"] == "24 hours as a rollback window" and kept["stagedCopy"] == "orders-db-trapheus-new"
