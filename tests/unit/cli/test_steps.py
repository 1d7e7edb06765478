"""Execution history events -> the steps an operator reads."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from trapheus_cli.steps import Outcome, current_step, failed_states, steps_from_history, visited_states

T0 = datetime(2026, 11, 22, 5, 30, tzinfo=timezone.utc)


class History:
    """Builds an event list the way Step Functions numbers and links it."""

    def __init__(self) -> None:
        self.events: list[dict] = []

    def add(
        self, kind: str, second: float, previous: int | None = None, details_key: str | None = None, **details
    ) -> History:
        event = {
            "id": len(self.events) + 1,
            "previousEventId": len(self.events) if previous is None else previous,
            "type": kind,
            "timestamp": T0 + timedelta(seconds=second),
        }
        if details:
            event[details_key or kind[0].lower() + kind[1:] + "EventDetails"] = details
        self.events.append(event)
        return self

    def enter(self, state_type: str, name: str, second: float) -> History:
        return self.add(f"{state_type}StateEntered", second, details_key="stateEnteredEventDetails", name=name)

    def leave(self, state_type: str, name: str, second: float) -> History:
        return self.add(f"{state_type}StateExited", second, details_key="stateExitedEventDetails", name=name)


def test_a_successful_run_gives_one_step_per_state_with_durations():
    history = (
        History()
        .add("ExecutionStarted", 0, input="{}")
        .enter("Task", "Validate the request", 0)
        .add("LambdaFunctionScheduled", 0.1, resource="arn")
        .add("LambdaFunctionStarted", 0.2)
        .add("LambdaFunctionSucceeded", 1.5, output="{}")
        .leave("Task", "Validate the request", 1.5)
        .enter("Choice", "Is it ready?", 1.5)
        .leave("Choice", "Is it ready?", 1.6)
        .enter("Succeed", "Done", 1.6)
        .leave("Succeed", "Done", 1.6)
        .add("ExecutionSucceeded", 1.7, output="{}")
    )

    steps = steps_from_history(history.events)

    assert [(s.name, s.state_type, s.outcome, s.attempts) for s in steps] == [
        ("Validate the request", "Task", Outcome.SUCCEEDED, 1),
        ("Is it ready?", "Choice", Outcome.SUCCEEDED, 0),
        ("Done", "Succeed", Outcome.SUCCEEDED, 0),
    ]
    assert steps[0].seconds == 1.5
    assert steps[0].retries == 0 and steps[0].error is None
    assert current_step(steps) is None


def test_retries_are_counted_and_a_caught_failure_is_told_apart():
    history = (
        History()
        .add("ExecutionStarted", 0)
        .enter("Task", "Restore the snapshot", 0)
        .add("TaskScheduled", 0)
        .add("TaskFailed", 1, error="ThrottlingError", cause="slow down")
        .add("TaskScheduled", 6)
        .add("TaskSucceeded", 7)
        .leave("Task", "Restore the snapshot", 7)
        .enter("Task", "Rename the original aside", 7)
        .add("TaskScheduled", 7)
        .add("TaskFailed", 8, error="RenameError", cause="in use")
        .leave("Task", "Rename the original aside", 8)
        .enter("Pass", "Roll back", 8)
    )

    restore, rename, rollback = steps_from_history(history.events)

    assert (restore.outcome, restore.attempts, restore.retries) == (Outcome.SUCCEEDED, 2, 1)
    assert restore.error == "ThrottlingError"  # the last error it saw, even though a retry succeeded
    assert (rename.outcome, rename.error, rename.cause) == (Outcome.CAUGHT, "RenameError", "in use")
    assert rollback.outcome is Outcome.RUNNING and rollback.ended is None
    assert current_step([restore, rename, rollback]) is rollback


def test_a_fail_state_takes_the_error_of_the_run():
    history = (
        History()
        .add("ExecutionStarted", 0)
        .enter("Pass", "Record the failure", 0)
        .leave("Pass", "Record the failure", 0.5)
        .enter("Fail", "Report the failure", 0.5)
        .add("ExecutionFailed", 0.6, error="RestoreError", cause="restored database failed")
    )

    steps = steps_from_history(history.events)

    assert steps[-1].outcome is Outcome.FAILED
    assert (steps[-1].error, steps[-1].cause) == ("RestoreError", "restored database failed")
    assert steps[-1].ended == T0 + timedelta(seconds=0.6)
    assert failed_states(steps) == ["Report the failure"]
    assert visited_states(steps) == ["Record the failure", "Report the failure"]


def test_an_uncaught_task_failure_fails_its_step():
    history = (
        History()
        .add("ExecutionStarted", 0)
        .enter("Task", "Snapshot", 0)
        .add("TaskScheduled", 0)
        .add("TaskFailed", 2, error="SnapshotError", cause="quota")
        .add("ExecutionFailed", 2, error="SnapshotError", cause="quota")
    )

    (step,) = steps_from_history(history.events)

    assert (step.outcome, step.error, step.attempts) == (Outcome.FAILED, "SnapshotError", 1)


def test_an_aborted_run_closes_the_open_step():
    history = History().add("ExecutionStarted", 0).enter("Wait", "Wait for it", 0).add("ExecutionAborted", 9)

    (step,) = steps_from_history(history.events)

    assert (step.outcome, step.error, step.seconds) == (Outcome.FAILED, "Aborted", 9.0)


def test_events_of_parallel_branches_go_to_their_own_state():
    history = History().add("ExecutionStarted", 0).enter("Parallel", "Alerts", 0)
    history.enter("Task", "Email", 0)  # id 3
    history.enter("Task", "Slack", 0)  # id 4
    history.add("TaskScheduled", 0, previous=3)  # id 5, Email's
    history.add("TaskFailed", 1, previous=5, error="AlertError", cause="ses down")
    history.leave("Task", "Email", 1).leave("Task", "Slack", 1).leave("Parallel", "Alerts", 1)

    steps = {s.name: s for s in steps_from_history(history.events)}

    assert steps["Email"].outcome is Outcome.CAUGHT and steps["Email"].error == "AlertError"
    assert steps["Slack"].outcome is Outcome.SUCCEEDED and steps["Slack"].error is None


def test_events_arrive_in_id_order_whatever_order_they_are_given():
    history = History().add("ExecutionStarted", 0).enter("Pass", "A", 0).leave("Pass", "A", 1).enter("Pass", "B", 1)
    assert [s.name for s in steps_from_history(reversed(history.events))] == ["A", "B"]
