"""The real restore workflow, end to end: template.yaml deployed into the emulator, the real ASL run.

The module deploys the repository's template once (its functions run the
repository's handlers in-process); each test creates databases of its own with
non-default settings, starts an execution with the console input and checks
what happened to the databases, the snapshots and the alerts. Failures are injected into the emulated RDS API
(:mod:`trapheus_local.latency`) at every step that changes something.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from moto.ses.models import ses_backends
from support.rds_fixtures import ROOMY_QUOTAS, STACK_PARAMETERS, make_cluster, make_instance
from support.slack import SlackListener

from trapheus import clients, databases
from trapheus.alerts import ROLLBACK_OUTCOMES
from trapheus.configuration import twin_differences
from trapheus.kinds import kind_for
from trapheus.names import derive_names
from trapheus_local import Emulator
from trapheus_local.engine import Deployment, ExecutionResult
from trapheus_local.latency import ApiFault, LatencyModel
from trapheus_local.resources import ACCOUNT_ID

# one emulator serves the module: what each test makes in RDS is dropped when it ends
pytestmark = pytest.mark.usefixtures("rds_made_by_the_test_forgotten")

MACHINE = "RestoreStateMachine"
REAL_TEMPLATE = Path(__file__).resolve().parents[2] / "template.yaml"
SENDER = "trapheus@example.com"
RECIPIENT = "dba@example.com"
SLACK_PATH = "/services/T000/B000/restore-alerts"
MAX_ATTEMPTS = 6
TEMPORARY_INFIX = "-trapheus-"  # every name trapheus parks or stages a database under

SNAPSHOT_OPERATIONS = {
    "CreateDBSnapshot", "CopyDBSnapshot", "DeleteDBSnapshot",
    "CreateDBClusterSnapshot", "CopyDBClusterSnapshot", "DeleteDBClusterSnapshot",
}


# -- fixtures ---------------------------------------------------------------------------------------
# One emulator and one deployment per module keep the file fast. Tests stay independent:
# each works on databases with identifiers of its own, and starts with no faults, no
# latency, no recorded RDS calls and no alerts.


@pytest.fixture(scope="module")
def emulator() -> Iterator[Emulator]:
    assert REAL_TEMPLATE.is_file(), "template.yaml is missing"
    clients.reset()
    with Emulator(quotas=ROOMY_QUOTAS) as aws:
        yield aws
    clients.reset()


@pytest.fixture(scope="module")
def stack(emulator: Emulator, slack: SlackListener) -> Deployment:
    deployment = emulator.deploy(
        REAL_TEMPLATE,
        {
            "LogLevel": "WARNING",
            "MaxPollAttempts": MAX_ATTEMPTS,
            "PollIntervalSeconds": 600,
            "SenderEmail": SENDER,
            "RecipientEmails": RECIPIENT,
            "SlackWebhookUrls": slack.url(SLACK_PATH),
            **STACK_PARAMETERS,
        },
    )
    emulator.client("ses").verify_email_identity(EmailAddress=SENDER)
    return deployment


@dataclass
class Alerts:
    """The alerts sent since the test started."""

    emulator: Emulator
    slack: SlackListener
    emails_before: int

    def emails(self) -> list[Any]:
        return list(ses_backends[ACCOUNT_ID][self.emulator.region].sent_messages)[self.emails_before :]

    def slack_messages(self) -> list[Any]:
        return self.slack.bodies(SLACK_PATH)


@pytest.fixture
def alerts(emulator: Emulator, stack: Deployment, slack: SlackListener) -> Iterator[Alerts]:
    """A clean start for every test: no faults, no latency, no recorded calls, no alerts yet."""
    emulator.latency.clear()
    emulator.latency.polls = emulator.latency.backing_up_polls = 0
    emulator.rds_calls.clear()
    slack.clear()
    yield Alerts(emulator, slack, len(ses_backends[ACCOUNT_ID][emulator.region].sent_messages))
    emulator.latency.clear()
    emulator.latency.polls = emulator.latency.backing_up_polls = 0


@dataclass
class Database:
    """A database under test, its configuration before the run and what the run must not lose."""

    emulator: Emulator
    identifier: str
    is_cluster: bool
    before: dict = field(default_factory=dict)
    snapshots_before: set[str] = field(default_factory=set)

    @property
    def kind(self) -> Any:
        return kind_for(self.is_cluster)

    @property
    def rds(self) -> Any:
        return self.emulator.client("rds")

    def capture(self) -> dict:
        return databases.capture(self.kind, self.identifier, self.rds)

    def remember(self) -> None:
        self.before = self.capture()
        self.snapshots_before = snapshot_ids(self.emulator)

    def request(self, task: str, **extra: Any) -> dict:
        return {"identifier": self.identifier, "task": task, "isCluster": self.is_cluster, **extra}

    def names(self, run_name: str) -> Any:
        members = [m["identifier"] for m in self.before.get("members", [])]
        return derive_names(self.identifier, f"{self.identifier}-snapshot", run_name, members)

    def take_snapshot(self) -> str:
        snapshot_id = f"{self.identifier}-snapshot"
        with self.emulator.settled():
            if self.is_cluster:
                self.rds.create_db_cluster_snapshot(DBClusterIdentifier=self.identifier, DBClusterSnapshotIdentifier=snapshot_id)
            else:
                self.rds.create_db_snapshot(DBInstanceIdentifier=self.identifier, DBSnapshotIdentifier=snapshot_id)
        self.snapshots_before = snapshot_ids(self.emulator)
        return snapshot_id


def create_database(emulator: Emulator, is_cluster: bool) -> Database:
    """An instance (make_instance) or a two-member Aurora cluster (make_cluster) under a fresh identifier."""
    rds, ec2 = emulator.client("rds"), emulator.client("ec2")
    identifier = f"{'ledger' if is_cluster else 'orders'}-{uuid.uuid4().hex[:6]}"
    with emulator.settled():
        if is_cluster:
            make_cluster(rds, ec2, identifier, members=2)
        else:
            make_instance(rds, ec2, identifier)
    database = Database(emulator, identifier, is_cluster)
    database.remember()
    return database


@pytest.fixture(params=["instance", "cluster"])
def database(request, emulator: Emulator, alerts: Alerts) -> Database:
    return create_database(emulator, request.param == "cluster")


# -- reading the emulated account ------------------------------------------------------------------


def snapshot_ids(emulator: Emulator) -> set[str]:
    rds = emulator.client("rds")
    instance = {s["DBSnapshotIdentifier"] for s in rds.describe_db_snapshots(SnapshotType="manual")["DBSnapshots"]}
    cluster = {s["DBClusterSnapshotIdentifier"] for s in rds.describe_db_cluster_snapshots(SnapshotType="manual")["DBClusterSnapshots"]}
    return instance | cluster


def database_ids(emulator: Emulator) -> set[str]:
    rds = emulator.client("rds")
    instances = {d["DBInstanceIdentifier"] for d in rds.describe_db_instances()["DBInstances"]}
    clusters = {d["DBClusterIdentifier"] for d in rds.describe_db_clusters()["DBClusters"]}
    return instances | clusters


def states_of_type(emulator: Emulator, stack: Deployment, state_type: str) -> set[str]:
    """Names of the deployed workflow's states of one type (Parallel branches included)."""
    described = emulator.client("stepfunctions").describe_state_machine(stateMachineArn=stack.state_machine_arn(MACHINE))
    found: set[str] = set()

    def walk(states: dict) -> None:
        for name, state in states.items():
            if state["Type"] == state_type:
                found.add(name)
            for branch in state.get("Branches", []):
                walk(branch["States"])

    walk(json.loads(described["definition"])["States"])
    return found


def assert_poll_loops_looped(emulator: Emulator, stack: Deployment, result: ExecutionResult) -> None:
    wait_states = states_of_type(emulator, stack, "Wait")
    waits = [state for state in result.entered_states if state in wait_states]
    looped = {state for state in waits if waits.count(state) > 1}
    assert len(looped) >= 3, f"poll loops that looped: {looped}"  # snapshot, rename, restore at least
    assert result.virtual_seconds >= 30 * len(waits)


def run(stack: Deployment, execution_input: Any, name: str | None = None) -> ExecutionResult:
    return stack.run(MACHINE, execution_input, name=name or f"run-{uuid.uuid4().hex[:10]}")


def assert_alerted(alerts: Alerts, identifier: str, rollback: str | None = None) -> None:
    """An email (SES) and a Slack message (the local listener) name the database, and the rollback outcome."""
    sent = alerts.emails()
    assert sent, "no email alert was sent"
    assert any(identifier in f"{message.subject} {message.body}" for message in sent), "no email names the database"
    assert all(RECIPIENT in message.destinations["ToAddresses"] for message in sent)
    messages = alerts.slack_messages()
    assert messages, "no Slack alert was received"
    assert any(identifier in message.get("text", "") for message in messages), messages
    if rollback is not None:
        assert any(ROLLBACK_OUTCOMES[rollback] in json.dumps(message) for message in messages), messages


def assert_nothing_lost(database: Database, names: Any) -> None:
    """Every database and snapshot the user had is still there (a replaced snapshot only once its successor exists)."""
    after = snapshot_ids(database.emulator)
    lost = database.snapshots_before - after
    if lost == {names.snapshot}:
        assert names.snapshot_next in after, f"{names.snapshot} was removed and its successor is missing"
    else:
        assert not lost, f"snapshots deleted: {sorted(lost)}"


def assert_original_back(database: Database) -> None:
    """The original is available under its identifier, with its own resource ids, members included."""
    now = database.capture()
    assert now["resourceId"] == database.before["resourceId"], "a different database holds the identifier"
    description = databases.describe(database.kind, database.identifier, database.rds)
    assert databases.status(database.kind, description) == "available"
    rds = database.rds
    for member in database.before.get("members", []):
        found = rds.describe_db_instances(DBInstanceIdentifier=member["identifier"])["DBInstances"][0]
        assert found["DBClusterIdentifier"] == database.identifier
        assert found["DBInstanceStatus"] == "available"
    members_now = [m["identifier"] for m in now.get("members", [])]
    assert sorted(members_now) == sorted(m["identifier"] for m in database.before.get("members", []))
    assert twin_differences(database.before, now) == []
    leftovers = sorted(i for i in database_ids(database.emulator) if i.startswith(database.identifier) and TEMPORARY_INFIX in i)
    assert leftovers == [], f"temporary databases left behind: {leftovers}"


# -- happy paths --------------------------------------------------------------------------------------


@pytest.mark.parametrize("task", ["create_snapshot", "db_restore"])
def test_a_restore_puts_the_originals_twin_under_its_identifier(emulator, stack, alerts, database, task):
    if task == "db_restore":
        assert run(stack, database.request("create_snapshot_only")).succeeded
        database.snapshots_before = snapshot_ids(emulator)
    else:
        emulator.latency.polls = 2  # RDS takes its time: every poll loop has to loop

    result = run(stack, database.request(task))

    assert result.status == "SUCCEEDED", (result.error, result.cause)
    if task == "create_snapshot":
        assert_poll_loops_looped(emulator, stack, result)
    names = result.output["names"]
    restored = database.capture()
    assert restored["resourceId"] != database.before["resourceId"], "the original was not replaced"
    assert twin_differences(database.before, restored) == []
    assert databases.find(database.kind, names["aside"], database.rds) is None, "the renamed original is still there"
    for member in names["members"]:
        assert databases.find(kind_for(False), member["aside"], database.rds) is None
    snapshots = snapshot_ids(emulator)
    assert names["finalSnapshot"] in snapshots, "the retired original has no final snapshot"
    assert f"{database.identifier}-snapshot" in snapshots
    assert database.snapshots_before <= snapshots
    assert alerts.emails() == [] and alerts.slack_messages() == [], "a successful run sent an alert"


def test_create_snapshot_only_refreshes_the_snapshot_and_changes_no_database(emulator, stack, alerts, database):
    old = database.take_snapshot()
    emulator.rds_calls.clear()

    result = run(stack, database.request("create_snapshot_only"))

    assert result.status == "SUCCEEDED", (result.error, result.cause)
    snapshots = snapshot_ids(emulator)
    assert old in snapshots
    assert not [name for name in snapshots if name.startswith(f"{old}-next-")], "temporary snapshot left behind"
    mutating = {call.operation for call in emulator.rds_calls.mutating()}
    assert mutating and mutating <= SNAPSHOT_OPERATIONS, f"not only snapshot calls: {mutating}"
    assert database.capture() == database.before


def test_the_refreshed_snapshot_is_exported_on_request(emulator, stack, alerts):
    database = create_database(emulator, is_cluster=True)

    result = run(stack, database.request("create_snapshot_only", export=True))

    assert result.status == "SUCCEEDED", (result.error, result.cause)
    assert result.output["export"]["exportTaskIdentifier"]
    tasks = emulator.client("rds").describe_export_tasks()["ExportTasks"]
    assert any(task["SourceArn"].endswith(f":{database.identifier}-snapshot") for task in tasks)


def test_a_failed_export_is_alerted_and_the_restore_still_succeeds(emulator, stack, alerts):
    database = create_database(emulator, is_cluster=False)
    emulator.latency.fail_api("StartExportTask", code="InvalidExportSourceState", message="not exportable")

    result = run(stack, database.request("create_snapshot", export=True))

    assert result.status == "SUCCEEDED", (result.error, result.cause)
    assert "Note the export failure" in result.entered_states
    assert_alerted(alerts, database.identifier)
    restored = database.capture()
    assert restored["resourceId"] != database.before["resourceId"]
    assert twin_differences(database.before, restored) == []


# -- bad input: refused before anything changes ------------------------------------------------------

BAD_INPUTS: dict[str, tuple[Callable[[str], Any], str]] = {
    "unknown task": (lambda db: {"identifier": db, "task": "drop_everything", "isCluster": False}, "InvalidInputError"),
    "isCluster as a string": (lambda db: {"identifier": db, "task": "db_restore", "isCluster": "false"}, "InvalidInputError"),
    "no identifier": (lambda db: {"task": "db_restore", "isCluster": False}, "InvalidInputError"),
    "no task": (lambda db: {"identifier": db, "isCluster": False}, "InvalidInputError"),
    "no isCluster": (lambda db: {"identifier": db, "task": "db_restore"}, "InvalidInputError"),
    "identifier too long": (lambda db: {"identifier": "o" * 60, "task": "db_restore", "isCluster": False}, "InvalidInputError"),
    "a list": (lambda db: [db, "db_restore"], "InvalidInputError"),
    "a string": (lambda db: db, "InvalidInputError"),
    "no such database": (lambda db: {"identifier": f"{db}-gone", "task": "create_snapshot", "isCluster": False}, "DatabaseNotFoundError"),
    "instance sent as a cluster": (lambda db: {"identifier": db, "task": "create_snapshot", "isCluster": True}, "DatabaseNotFoundError"),
    "db_restore without a snapshot": (lambda db: {"identifier": db, "task": "db_restore", "isCluster": False}, "SnapshotNotFoundError"),
}


@pytest.mark.parametrize("case", BAD_INPUTS)
def test_bad_input_fails_the_run_changes_nothing_and_alerts(emulator, stack, alerts, case):
    make_input, error = BAD_INPUTS[case]
    database = create_database(emulator, is_cluster=False)
    emulator.rds_calls.clear()

    result = run(stack, make_input(database.identifier))

    assert result.status == "FAILED"
    assert result.error == error, result.cause
    assert emulator.rds_calls.mutating() == []
    assert alerts.emails(), "no email alert"
    assert alerts.slack_messages(), "no Slack alert"
    assert database.capture() == database.before


def test_alerts_that_cannot_be_delivered_do_not_change_how_the_run_ends(emulator, stack, alerts, slack):
    database = create_database(emulator, is_cluster=False)
    ses = emulator.client("ses")
    ses.delete_identity(Identity=SENDER)  # SES refuses an unverified sender
    slack.always[SLACK_PATH] = 404
    try:
        result = run(stack, database.request("db_restore"))
    finally:
        ses.verify_email_identity(EmailAddress=SENDER)

    assert (result.status, result.error) == ("FAILED", "SnapshotNotFoundError")
    assert {"Email alert not sent", "Slack alert not sent"} <= set(result.entered_states)
    assert alerts.emails() == []


def test_a_task_the_validation_let_through_by_mistake_is_rejected_without_changes(emulator, stack, alerts, monkeypatch):
    """The task branches end in a refusal by default, should validation and workflow ever disagree."""
    from trapheus import preflight

    database = create_database(emulator, is_cluster=False)
    emulator.rds_calls.clear()
    real_prepare = preflight.prepare

    def prepare_but_garble_the_task(*args: Any, **kwargs: Any) -> dict:
        state = real_prepare(*args, **kwargs)
        state["request"]["task"] = "drop_everything"
        return state

    monkeypatch.setattr(preflight, "prepare", prepare_but_garble_the_task)

    result = run(stack, database.request("create_snapshot"))

    assert (result.status, result.error) == ("FAILED", "InvalidInputError")
    assert emulator.rds_calls.mutating() == []


# -- failures: injected at every step that changes something ------------------------------------------


def fail_calls(latency: LatencyModel, operation: str, where: Callable[[dict], bool], code: str) -> None:
    latency.api_faults.append(ApiFault(operation, code=code, message="injected by the test", where=where))


IN_PLACE = "in-place"
API_ERROR = "InvalidParameterCombination"  # not transient: neither the SDK nor the workflow retries it
THROTTLED = "Throttling"  # retried by the SDK, then by the workflow, and still failing


def _renames_aside(params: dict) -> bool:
    new = params.get("NewDBInstanceIdentifier") or params.get("NewDBClusterIdentifier") or ""
    return new.endswith("-trapheus-old")


def _configures(identifier: str) -> Callable[[dict], bool]:
    # a modify of the restored database that is neither a rename nor lifting deletion protection
    return lambda p: p.get("DBInstanceIdentifier") == identifier and "NewDBInstanceIdentifier" not in p and "DeletionProtection" not in p


def _is(parameter: str, value_of: Callable[[Any], str]) -> Callable[[Any], Callable[[dict], bool]]:
    return lambda names: (lambda params: params.get(parameter) == value_of(names))


@dataclass(frozen=True)
class Fault:
    """One failure of one step: how to inject it, and the error the run must end with."""

    step: str
    is_cluster: bool
    task: str
    error: str
    inject: Callable[[LatencyModel, Any], None]
    rolls_back: bool = True
    strategy: str | None = None  # None: the default (swap); "in-place" renames the original aside first

    @property
    def id(self) -> str:
        return f"{'cluster' if self.is_cluster else 'instance'}{f' {self.strategy}' if self.strategy else ''}: {self.step}"

    def request(self, database: Database) -> dict:
        return database.request(self.task, **({"strategy": self.strategy} if self.strategy else {}))


def api(operation: str, code: str, where: Callable[[Any], Callable[[dict], bool]] = lambda names: lambda p: True):
    return lambda latency, names: fail_calls(latency, operation, where(names), code)


def ends(operation: str, status: str, targets: Callable[[Any], list[str]], times: int | None = 1):
    """The resource ``operation`` produces ends ``status``; a non-terminal status never finishes (attempts run out)."""

    def inject(latency: LatencyModel, names: Any) -> None:
        for target in targets(names):
            latency.end_status(operation, target, status, times=times)

    return inject


def restored_names(names: Any) -> list[str]:
    # the restore lands on the original identifier, or beside it under the staged name
    return [names.original, names.staged]


SNAPSHOT_FAULTS = [
    Fault("take the snapshot: API error", False, "create_snapshot_only", "SnapshotError", api("CreateDBSnapshot", API_ERROR)),
    Fault("new snapshot ends failed", False, "create_snapshot_only", "DatabaseFailedError",
          ends("CreateDBSnapshot", "failed", lambda n: [n.snapshot_next])),
    Fault("new snapshot never finishes", True, "create_snapshot_only", "WaitTimeoutError",
          ends("CreateDBClusterSnapshot", "creating", lambda n: [n.snapshot_next])),
    Fault("remove the old snapshot: API error", True, "create_snapshot_only", "SnapshotError",
          api("DeleteDBClusterSnapshot", API_ERROR, _is("DBClusterSnapshotIdentifier", lambda n: n.snapshot))),
    Fault("remove the old snapshot: throttled", False, "create_snapshot_only", "ThrottlingError",
          api("DeleteDBSnapshot", THROTTLED, _is("DBSnapshotIdentifier", lambda n: n.snapshot))),
    Fault("copy into place: API error", True, "create_snapshot_only", "SnapshotError", api("CopyDBClusterSnapshot", API_ERROR)),
    Fault("copy ends failed", False, "create_snapshot_only", "DatabaseFailedError",
          ends("CopyDBSnapshot", "failed", lambda n: [n.snapshot])),
    Fault("remove the temporary snapshot: API error", False, "create_snapshot", "SnapshotError",
          api("DeleteDBSnapshot", API_ERROR, _is("DBSnapshotIdentifier", lambda n: n.snapshot_next))),
]

RESTORE_FAULTS = [
    Fault("rename aside: API error", False, "db_restore", "RenameError", api("ModifyDBInstance", API_ERROR, lambda n: _renames_aside),
          strategy=IN_PLACE),
    Fault("rename aside: throttled", True, "db_restore", "ThrottlingError", api("ModifyDBCluster", THROTTLED, lambda n: _renames_aside)),
    Fault("rename a member aside: API error", True, "db_restore", "RenameError",
          api("ModifyDBInstance", API_ERROR, lambda n: lambda p: _renames_aside(p) and p.get("DBInstanceIdentifier") == n.members[-1].original)),
    Fault("restore: API error", False, "create_snapshot", "RestoreError", api("RestoreDBInstanceFromDBSnapshot", API_ERROR),
          strategy=IN_PLACE),
    Fault("restore: throttled", True, "db_restore", "ThrottlingError", api("RestoreDBClusterFromSnapshot", THROTTLED)),
    Fault("restored database ends failed", False, "db_restore", "DatabaseFailedError",
          ends("RestoreDBInstanceFromDBSnapshot", "failed", restored_names), strategy=IN_PLACE),
    Fault("restored database ends failed", False, "db_restore", "DatabaseFailedError",
          ends("RestoreDBInstanceFromDBSnapshot", "failed", restored_names)),
    Fault("restored database never finishes", True, "db_restore", "WaitTimeoutError",
          ends("RestoreDBClusterFromSnapshot", "creating", restored_names)),
    Fault("create a member: API error", True, "db_restore", "RestoreError",
          api("CreateDBInstance", API_ERROR, lambda n: lambda p: p.get("DBInstanceIdentifier") in (n.members[-1].original, n.members[-1].staged)),
          strategy=IN_PLACE),
    Fault("created member ends failed", True, "db_restore", "DatabaseFailedError",
          ends("CreateDBInstance", "failed", lambda n: [n.members[-1].original, n.members[-1].staged])),
    Fault("configure: API error", False, "db_restore", "RestoreError",
          lambda latency, n: [fail_calls(latency, "ModifyDBInstance", _configures(name), API_ERROR) for name in restored_names(n)],
          strategy=IN_PLACE),
    Fault("configured database never settles", False, "db_restore", "WaitTimeoutError",
          ends("ModifyDBInstance", "modifying", restored_names)),
    # swap only: the original has moved aside when the copy fails to take its place
    Fault("move the staged copy into place: API error", False, "db_restore", "RenameError",
          api("ModifyDBInstance", API_ERROR, lambda n: lambda p: p.get("DBInstanceIdentifier") == n.staged and p.get("NewDBInstanceIdentifier") == n.original)),
    Fault("move a staged member into place: API error", True, "db_restore", "RenameError",
          api("ModifyDBInstance", API_ERROR, lambda n: lambda p: p.get("DBInstanceIdentifier") == n.members[-1].staged and p.get("NewDBInstanceIdentifier") == n.members[-1].original)),
]

RETIRE_FAULTS = [
    Fault("retire the original: API error", False, "db_restore", "DeleteError",
          api("DeleteDBInstance", API_ERROR, _is("DBInstanceIdentifier", lambda n: n.aside)), rolls_back=False),
    Fault("retire the original: throttled", True, "db_restore", "ThrottlingError",
          api("DeleteDBCluster", THROTTLED, _is("DBClusterIdentifier", lambda n: n.aside)), rolls_back=False),
    Fault("retire a member: API error", True, "db_restore", "DeleteError",
          api("DeleteDBInstance", API_ERROR, _is("DBInstanceIdentifier", lambda n: n.members[0].aside)), rolls_back=False),
    Fault("retired original never goes", False, "db_restore", "WaitTimeoutError",
          ends("DeleteDBInstance", "deleting", lambda n: [n.aside]), rolls_back=False),
]

FAULTS = SNAPSHOT_FAULTS + RESTORE_FAULTS + RETIRE_FAULTS


def prepared(emulator: Emulator, fault: Fault) -> Database:
    database = create_database(emulator, fault.is_cluster)
    database.take_snapshot()  # the snapshot db_restore needs, and the one a refresh replaces
    return database


@pytest.mark.parametrize("fault", [f for f in FAULTS if f.rolls_back], ids=lambda f: f.id)
def test_a_failed_step_rolls_back_alerts_and_a_rerun_succeeds(emulator, stack, alerts, fault):
    database = prepared(emulator, fault)
    run_name = f"fails-{uuid.uuid4().hex[:8]}"
    names = database.names(run_name)
    fault.inject(emulator.latency, names)

    result = run(stack, fault.request(database), name=run_name)

    assert result.status == "FAILED"
    assert result.error == fault.error, result.cause
    assert result.entered_states[-1] == "Report the failure"
    assert_original_back(database)
    assert_nothing_lost(database, names)
    assert_alerted(alerts, database.identifier)

    emulator.latency.clear()
    rerun = run(stack, fault.request(database))
    assert rerun.status == "SUCCEEDED", (rerun.error, rerun.cause)
    if fault.task != "create_snapshot_only":
        assert twin_differences(database.before, database.capture()) == []


@pytest.mark.parametrize("fault", [f for f in FAULTS if not f.rolls_back], ids=lambda f: f.id)
def test_a_failed_retirement_keeps_the_restored_database_and_alerts(emulator, stack, alerts, fault):
    database = prepared(emulator, fault)
    run_name = f"retire-{uuid.uuid4().hex[:8]}"
    names = database.names(run_name)
    fault.inject(emulator.latency, names)

    result = run(stack, fault.request(database), name=run_name)

    assert result.status == "FAILED"
    assert result.error == fault.error, result.cause
    assert "Keep the restored database" in result.entered_states
    assert "Remove the partial restore" not in result.entered_states, "rolled back although the restore was complete"
    restored = database.capture()
    assert restored["resourceId"] != database.before["resourceId"], "rolled back although the restore was complete"
    assert twin_differences(database.before, restored) == []
    aside = databases.find(database.kind, names.aside, database.rds)
    kept = aside is not None and databases.status(database.kind, aside) not in databases.GONE_STATUSES
    assert kept or names.final_snapshot in snapshot_ids(emulator), "the original was deleted without a final snapshot"
    assert_nothing_lost(database, names)
    assert_alerted(alerts, database.identifier, rollback="skipped")


# -- a rollback that fails is reported, and the run still ends with the error that started it ---------

ROLLBACK_FAULTS = {
    "renaming back is refused": api("ModifyDBInstance", API_ERROR, lambda n: lambda p: p.get("NewDBInstanceIdentifier") == n.original),
    # every modify of that name, as lifting the copy's deletion protection before deleting it is one too
    "the returned original ends failed": ends("ModifyDBInstance", "failed", lambda n: [n.original], times=None),
    "the returned original never settles": ends("ModifyDBInstance", "renaming", lambda n: [n.original], times=None),
    "the partial restore is never gone": ends("DeleteDBInstance", "deleting", restored_names),
}


@pytest.mark.parametrize("case", ROLLBACK_FAULTS)
def test_a_failed_rollback_is_alerted_and_the_run_fails_with_the_original_error(emulator, stack, alerts, case):
    database = prepared(emulator, Fault("restore", False, "db_restore", "DatabaseFailedError", lambda *_: None))
    run_name = f"rollback-{uuid.uuid4().hex[:8]}"
    names = database.names(run_name)
    # in place, the original is already aside when the restored database fails
    ends("RestoreDBInstanceFromDBSnapshot", "failed", restored_names)(emulator.latency, names)
    ROLLBACK_FAULTS[case](emulator.latency, names)

    result = run(stack, database.request("db_restore", strategy=IN_PLACE), name=run_name)

    assert (result.status, result.error) == ("FAILED", "DatabaseFailedError"), result.cause
    assert "Rollback failed" in result.entered_states
    assert_nothing_lost(database, names)
    assert_alerted(alerts, database.identifier, rollback="failed")


def test_a_rename_that_never_finishes_holds_the_rollback_and_the_original_is_not_touched(emulator, stack, alerts):
    """RDS refuses to rename a database that is still renaming: the rollback waits for it, and when the wait
    runs out the run fails with the rollback reported as failed, the original parked but intact."""
    database = prepared(emulator, Fault("rename", False, "db_restore", "WaitTimeoutError", lambda *_: None))
    run_name = f"renaming-{uuid.uuid4().hex[:8]}"
    names = database.names(run_name)
    ends("ModifyDBInstance", "renaming", lambda n: [n.aside], times=None)(emulator.latency, names)

    result = run(stack, database.request("db_restore", strategy=IN_PLACE), name=run_name)

    assert (result.status, result.error) == ("FAILED", "WaitTimeoutError"), result.cause
    assert {"Check for renames in flight", "Rollback failed"} <= set(result.entered_states)
    assert "Rename the original back" not in result.entered_states, "renamed back while the rename was under way"
    parked = databases.describe(database.kind, names.aside, database.rds)
    assert databases.capture(database.kind, names.aside, database.rds)["resourceId"] == database.before["resourceId"]
    assert databases.status(database.kind, parked) == "renaming"
    assert_nothing_lost(database, names)
    assert_alerted(alerts, database.identifier, rollback="failed")


def test_a_retirement_that_ends_in_a_failure_status_is_recorded(emulator, stack, alerts):
    database = prepared(emulator, Fault("retire", False, "db_restore", "DatabaseFailedError", lambda *_: None))
    run_name = f"retire-{uuid.uuid4().hex[:8]}"
    names = database.names(run_name)
    emulator.latency.end_status("DeleteDBInstance", names.aside, "modifying")  # a failure for the "deleted" waiter

    result = run(stack, database.request("db_restore"), name=run_name)

    assert (result.status, result.error) == ("FAILED", "DatabaseFailedError"), result.cause
    assert "Keep the restored database" in result.entered_states
    assert twin_differences(database.before, database.capture()) == []
    assert_alerted(alerts, database.identifier, rollback="skipped")


# -- what real RDS refuses, found before any change (issue: the strict RDS model) ---------------------------


def test_a_refresh_never_replaces_another_databases_snapshot(emulator, stack, alerts):
    alpha = create_database(emulator, is_cluster=False)
    beta = create_database(emulator, is_cluster=False)
    with emulator.settled():
        emulator.client("rds").create_db_snapshot(DBInstanceIdentifier=beta.identifier, DBSnapshotIdentifier="beta-keep")
    emulator.rds_calls.clear()

    result = run(stack, alpha.request("create_snapshot_only", snapshotIdentifier="beta-keep"))

    assert (result.status, result.error) == ("FAILED", "ForeignSnapshotError"), result.cause
    assert emulator.rds_calls.mutating() == []
    kept = emulator.client("rds").describe_db_snapshots(DBSnapshotIdentifier="beta-keep")["DBSnapshots"][0]
    assert kept["DBInstanceIdentifier"] == beta.identifier
    assert_alerted(alerts, alpha.identifier)


def test_an_instance_with_a_read_replica_is_refused_and_its_replica_left_following_it(emulator, stack, alerts):
    database = create_database(emulator, is_cluster=False)
    database.take_snapshot()
    rds = emulator.client("rds")
    replica = f"{database.identifier}-replica"
    with emulator.settled():
        rds.create_db_instance_read_replica(DBInstanceIdentifier=replica, SourceDBInstanceIdentifier=database.identifier)
    emulator.rds_calls.clear()

    result = run(stack, database.request("db_restore"))

    assert (result.status, result.error) == ("FAILED", "UnsupportedTopologyError"), result.cause
    assert replica in result.cause
    assert emulator.rds_calls.mutating() == []
    following = rds.describe_db_instances(DBInstanceIdentifier=replica)["DBInstances"][0]
    assert following["ReadReplicaSourceDBInstanceIdentifier"] == database.identifier


@pytest.mark.parametrize("is_cluster", [False, True], ids=["instance", "cluster"])
def test_a_database_made_by_cloudformation_is_restored_without_its_reserved_tags(emulator, stack, alerts, is_cluster):
    database = create_database(emulator, is_cluster)
    emulator.strict.made_by_cloudformation("cluster" if is_cluster else "instance", database.identifier, "orders-stack", "Database")
    database.remember()
    database.take_snapshot()

    result = run(stack, database.request("db_restore"))

    assert result.status == "SUCCEEDED", (result.error, result.cause)
    for call in emulator.rds_calls.mutating():
        keys = [tag["Key"] for tag in call.params.get("Tags") or []]
        assert not [key for key in keys if key.startswith(("aws:", "rds:"))], (call.operation, keys)
    restored = database.capture()
    assert restored["resourceId"] != database.before["resourceId"]
    assert twin_differences(database.before, restored) == []


def test_a_managed_master_secret_is_replaced_by_the_copys_own_and_reported(emulator, stack, alerts):
    database = create_database(emulator, is_cluster=False)
    rds = emulator.client("rds")
    with emulator.settled():
        rds.modify_db_instance(DBInstanceIdentifier=database.identifier, ManageMasterUserPassword=True, ApplyImmediately=True)
    old_secret = rds.describe_db_instances(DBInstanceIdentifier=database.identifier)["DBInstances"][0]["MasterUserSecret"]["SecretArn"]
    database.remember()
    database.take_snapshot()

    result = run(stack, database.request("db_restore"))

    assert result.status == "SUCCEEDED", (result.error, result.cause)
    new_secret = result.output["restored"]["summary"]["masterUserSecretArn"]
    assert new_secret != old_secret
    assert rds.describe_db_instances(DBInstanceIdentifier=database.identifier)["DBInstances"][0]["MasterUserSecret"]["SecretArn"] == new_secret
    emulator.client("secretsmanager").describe_secret(SecretId=new_secret)
    assert "exist only in the final snapshot" in result.output["notice"]


def custom_endpoints(emulator: Emulator, cluster_id: str) -> list[tuple[str, str, list[str]]]:
    listed = emulator.client("rds").describe_db_cluster_endpoints(DBClusterIdentifier=cluster_id)["DBClusterEndpoints"]
    return sorted((e["DBClusterEndpointIdentifier"], e["Status"], e["StaticMembers"]) for e in listed if e["EndpointType"] == "CUSTOM")


def cluster_with_a_custom_endpoint(emulator: Emulator, endpoint_type: str, **members: list[str]) -> tuple[Database, str]:
    database = create_database(emulator, is_cluster=True)
    endpoint = f"{database.identifier}-reporting"
    emulator.client("rds").create_db_cluster_endpoint(
        DBClusterIdentifier=database.identifier, DBClusterEndpointIdentifier=endpoint, EndpointType=endpoint_type,
        **{key: [f"{database.identifier}-{suffix}" for suffix in value] for key, value in members.items()},
    )
    emulator.settle()
    database.remember()
    database.take_snapshot()
    return database, endpoint


@pytest.mark.parametrize("strategy", ["swap", IN_PLACE])
def test_aurora_custom_endpoints_follow_the_restored_cluster(emulator, stack, alerts, strategy):
    database, reporting = cluster_with_a_custom_endpoint(emulator, "READER", StaticMembers=["2"])

    result = run(stack, database.request("db_restore", strategy=strategy))

    assert result.status == "SUCCEEDED", (result.error, result.cause)
    restored = database.capture()
    assert restored["resourceId"] != database.before["resourceId"]
    assert custom_endpoints(emulator, database.identifier) == [(reporting, "available", [f"{database.identifier}-2"])]
    assert twin_differences(database.before, restored) == []


def test_custom_endpoints_moved_to_a_copy_that_is_rolled_back_return_to_the_original(emulator, stack, alerts):
    database, reporting = cluster_with_a_custom_endpoint(emulator, "ANY", ExcludedMembers=["1"])
    # the copy has taken the identifier and the endpoint when protecting it fails
    fail_calls(emulator.latency, "ModifyDBCluster", lambda p: p.get("DeletionProtection") is True, API_ERROR)

    result = run(stack, database.request("db_restore"))

    assert (result.status, result.error) == ("FAILED", "RestoreError"), result.cause
    assert {"Move the custom endpoints", "Return the custom endpoints", "Rollback finished"} <= set(result.entered_states)
    assert_original_back(database)
    assert custom_endpoints(emulator, database.identifier) == [(reporting, "available", [])]
