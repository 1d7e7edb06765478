"""The backup workflow, end to end: template.yaml deployed into the emulator, the real ASL (the run and one child
execution per database) under the strict RDS model.

One emulator and one deployment serve the module; each test works on databases whose identifiers start with a
prefix of its own, selected by a policy of its own. Operations take their modelled time (the poll interval is
long, so a snapshot is seen available at the first check). Faults are injected into the emulated RDS API at
every step that changes something.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from backup_support import (
    CHILD,
    DR_ACCOUNT,
    PARENT,
    TEMPLATE,
    WEST,
    cluster,
    customer_key,
    instance,
    lock_item,
    old_policy_snapshot,
    policy,
    run_backup,
    snapshots_of,
    tags_of,
)
from moto.ses.models import ses_backends
from support.alert_topic import alert_topic_reader
from support.rds_fixtures import ROOMY_QUOTAS, STACK_PARAMETERS
from support.slack import SlackListener
from typer.testing import CliRunner

from trapheus import clients
from trapheus.backups import schedule
from trapheus.backups.run import summarise
from trapheus_cli.main import app
from trapheus_local import Emulator
from trapheus_local.engine import Deployment
from trapheus_local.resources import ACCOUNT_ID
from trapheus_local.strict_rds import Quotas

# one emulator serves the module: what each test makes in RDS is dropped when it ends
pytestmark = pytest.mark.usefixtures("rds_made_by_the_test_forgotten")

SENDER, RECIPIENT = "trapheus@example.com", "dba@example.com"
SLACK_PATH = "/services/T000/B000/backup-alerts"
MAX_ATTEMPTS = 6


class Keys:
    """The keys of the module: a database key the DR account may use, the share key, a key in the west."""

    def __init__(self, emulator: Emulator) -> None:
        self.database = customer_key(emulator, lets_in=DR_ACCOUNT)
        self.share = customer_key(emulator, lets_in=DR_ACCOUNT)
        self.west = customer_key(emulator, region=WEST)


@pytest.fixture(scope="module")
def emulator() -> Iterator[Emulator]:
    clients.reset()
    with Emulator(quotas=ROOMY_QUOTAS) as aws:
        aws.strict_in(ACCOUNT_ID, WEST).quotas = ROOMY_QUOTAS
        yield aws
    clients.reset()


@pytest.fixture(scope="module")
def keys(emulator: Emulator) -> Keys:
    return Keys(emulator)


@pytest.fixture(scope="module")
def stack(emulator: Emulator, slack: SlackListener, keys: Keys) -> Deployment:
    deployment = emulator.deploy(TEMPLATE, {
        "LogLevel": "WARNING", "PollIntervalSeconds": 900, "MaxPollAttempts": MAX_ATTEMPTS,
        "SenderEmail": SENDER, "RecipientEmails": RECIPIENT, "SlackWebhookUrls": slack.url(SLACK_PATH),
        "DatabaseKmsKeyArns": keys.database, "BackupKmsKeyArns": f"{keys.share},{keys.west}", **STACK_PARAMETERS,
    })
    emulator.client("ses").verify_email_identity(EmailAddress=SENDER)
    return deployment


@pytest.fixture(scope="module")
def topic_messages(emulator: Emulator, stack: Deployment) -> Any:
    """Every message the alert topic received, read from an SQS queue subscribed to it (as a pager would be)."""
    return alert_topic_reader(emulator, stack)


@pytest.fixture(autouse=True)
def clean_start(emulator: Emulator, stack: Deployment, slack: SlackListener, topic_messages: Any) -> Iterator[None]:
    emulator.latency.clear()
    emulator.rds_calls.clear()
    slack.clear()
    topic_messages()
    yield
    emulator.latency.clear()


def emails_since(emulator: Emulator, before: int) -> list[Any]:
    return list(ses_backends[ACCOUNT_ID][emulator.region].sent_messages)[before:]


def email_count(emulator: Emulator) -> int:
    return len(ses_backends[ACCOUNT_ID][emulator.region].sent_messages)


def created(emulator: Emulator, operation: str = "CreateDBSnapshot") -> list[str]:
    """Identifiers of the databases the run snapshotted."""
    parameter = "DBClusterIdentifier" if "Cluster" in operation else "DBInstanceIdentifier"
    return sorted(call.params[parameter] for call in emulator.rds_calls.calls if call.operation == operation)


# -- selection -------------------------------------------------------------------------------------------


def test_a_policy_selects_by_pattern_tag_and_name_over_instances_and_clusters(emulator, stack, slack, topic_messages):
    hourly = [{"Key": "backup", "Value": "hourly"}]
    instance(emulator, "sel-app-1", Tags=hourly)
    instance(emulator, "sel-app-2")  # the pattern, not the tag
    instance(emulator, "sel-web-1", Tags=hourly)  # the tag, not the pattern
    cluster(emulator, "sel-app-ledger", members=2, Tags=hourly)  # its members match too: never on their own
    instance(emulator, "sel-app-copy", Tags=[*hourly, {"Key": "trapheus:lifecycle", "Value": "staging"}])
    instance(emulator, "sel-app-3-trapheus-old", Tags=hourly)  # parked by a restore
    instance(emulator, "sel-other-named")
    emails = email_count(emulator)

    run = run_backup(stack, policy("hourly", select={"pattern": "^sel-app-", "tags": {"backup": "hourly"},
                                                     "identifiers": ["sel-other-named", "sel-app-missing"]}))

    assert created(emulator) == ["sel-app-1", "sel-other-named"]
    assert created(emulator, "CreateDBClusterSnapshot") == ["sel-app-ledger"]
    assert not [call for call in emulator.rds_calls.calls if call.operation == "ListTagsForResource"]
    (snapshot,) = snapshots_of(emulator, "sel-app-1")
    assert tags_of(snapshot)["trapheus:policy"] == "hourly"
    assert tags_of(snapshot)["trapheus:source"] == "sel-app-1"
    assert datetime.fromisoformat(tags_of(snapshot)["trapheus:created"]) <= datetime.now(timezone.utc)
    # a name in identifiers that exists nowhere: that database failed, the others were backed up, and it alerts
    assert run.status == "FAILED" and run.result.error == "BackupIncompleteError"
    assert run.item("sel-app-missing")["outcome"] == "failed"
    assert {item["identifier"] for item in run.report["items"]} == {
        "sel-app-1", "sel-other-named", "sel-app-ledger", "sel-app-missing"}
    assert run.item("sel-app-ledger")["isCluster"] is True
    assert "sel-app-missing" in run.result.cause
    assert emails_since(emulator, emails) and slack.bodies(SLACK_PATH)
    (message,) = topic_messages()
    assert message["kind"] == "backup" and message["identifier"] == "hourly" and "sel-app-missing" in message["message"]


def test_a_second_run_within_every_minutes_takes_nothing(emulator, stack):
    instance(emulator, "again-db")
    cluster(emulator, "again-ledger")
    first = run_backup(stack, policy("again", "^again-"))
    emulator.rds_calls.clear()

    second = run_backup(stack, policy("again", "^again-"))

    assert first.status == second.status == "SUCCEEDED"
    assert [item["outcome"] for item in first.report["items"]] == ["snapshot", "snapshot"]
    assert [item["outcome"] for item in second.report["items"]] == ["skipped", "skipped"]
    assert "not due" in second.item("again-db")["reason"]
    assert created(emulator) == [] and created(emulator, "CreateDBClusterSnapshot") == []
    assert len(snapshots_of(emulator, "again-db")) == 1


@pytest.mark.parametrize(("minutes_ago", "takes"), [(57, True), (53, False)])
def test_a_snapshot_is_due_once_older_than_every_minutes_less_the_tolerance(emulator, stack, minutes_ago, takes):
    identifier = f"due-{minutes_ago}-db"
    instance(emulator, identifier)
    old_policy_snapshot(emulator, identifier, f"{identifier}-earlier", "due", timedelta(minutes=minutes_ago))
    assert schedule.tolerance_seconds(60) == 360

    run = run_backup(stack, policy("due", f"^{identifier}$"))

    assert run.status == "SUCCEEDED"
    assert run.item(identifier)["outcome"] == ("snapshot" if takes else "skipped")
    assert len(snapshots_of(emulator, identifier)) == (2 if takes else 1)


def test_cluster_snapshot_names_fit_63_characters(emulator, stack):
    identifier = "long-" + "l" * 47 + "-ledger"  # 59 characters (its member: 61)
    cluster(emulator, identifier)

    run = run_backup(stack, policy("long", f"^{identifier}$"))

    (snapshot,) = snapshots_of(emulator, identifier, is_cluster=True)
    name = snapshot["DBClusterSnapshotIdentifier"]
    assert run.status == "SUCCEEDED"
    assert len(name) <= 63 and name.startswith("long-lll") and name == run.item(identifier)["snapshot"]


# -- the lock shared with the restore workflow, and the recovery point ----------------------------------------


def test_a_database_a_restore_holds_is_skipped_with_the_holder_named_and_its_late_recovery_point_alerts(
    emulator, stack, topic_messages
):
    instance(emulator, "locked-db")
    instance(emulator, "locked-free-db")
    old_policy_snapshot(emulator, "locked-db", "locked-db-three-hours-ago", "locked", timedelta(hours=3))
    restore_run = f"arn:aws:states:{emulator.region}:{ACCOUNT_ID}:execution:trapheus-local-restore:renaming-it"
    in_an_hour = str(int(datetime.now(timezone.utc).timestamp()) + 3600)
    emulator.client("dynamodb").put_item(TableName=stack.physical_id("LockTable"), Item={
        "lockId": {"S": "instance:locked-db"}, "execution": {"S": restore_run}, "expiresAt": {"N": in_an_hour}})
    emulator.rds_calls.clear()

    run = run_backup(stack, policy("locked", "^locked-"))

    item = run.item("locked-db")
    assert item["outcome"] == "skipped" and restore_run in item["reason"]
    assert created(emulator) == ["locked-free-db"]  # never snapshotted mid-rename
    assert lock_item(emulator, stack, "instance:locked-db")["execution"]["S"] == restore_run  # the restore's, untouched
    assert lock_item(emulator, stack, "instance:locked-free-db") is None  # released once its snapshot existed
    # its newest snapshot is three hours old: past 2 x everyMinutes, the run alerts
    assert item["rpoSeconds"] >= 3 * 3600 and item["rpoExceeded"] and item["rpoMeasuredAt"] == "source"
    assert not run.item("locked-free-db")["rpoExceeded"]
    assert run.status == "FAILED" and run.report["summary"]["rpoExceeded"] == ["locked-db"]
    assert "recovery point" in run.result.cause
    (message,) = topic_messages()
    assert message["error"] == "BackupIncompleteError"


def test_the_backup_takes_the_lock_a_restore_is_refused_by_while_it_snapshots(emulator, stack):
    instance(emulator, "held-db")
    taken = []
    original = emulator.latency.after_success

    def look_at_the_lock(operation, params, result, scope=None, timing=None):
        if operation == "CreateDBSnapshot" and params.get("DBInstanceIdentifier") == "held-db":
            taken.append(lock_item(emulator, stack, "instance:held-db"))
        return original(operation, params, result, scope, timing)

    emulator.latency.after_success = look_at_the_lock
    try:
        run = run_backup(stack, policy("held", "^held-db$"))
    finally:
        del emulator.latency.after_success
    assert run.status == "SUCCEEDED"
    (held,) = taken
    assert held["execution"]["S"] == run.child("held-db").arn  # held by the database's run while it snapshots
    assert lock_item(emulator, stack, "instance:held-db") is None


# -- keys, sharing and copies ------------------------------------------------------------------------------------


def test_an_aws_rds_encrypted_database_is_copied_under_the_customer_key_before_it_is_shared(emulator, stack, keys):
    instance(emulator, "aws-key-db", StorageEncrypted=True)  # encrypted with aws/rds: RDS cannot share it

    run = run_backup(stack, policy("shared", "^aws-key-db$", shareWith=[DR_ACCOUNT], shareKmsKeyId=keys.share))

    (snapshot,) = snapshots_of(emulator, "aws-key-db")  # the staging snapshot under aws/rds is gone
    item = run.item("aws-key-db")
    assert run.status == "SUCCEEDED", run.result.cause
    assert snapshot["DBSnapshotIdentifier"] == item["snapshot"] and snapshot["KmsKeyId"] == keys.share
    attributes = emulator.client("rds").describe_db_snapshot_attributes(DBSnapshotIdentifier=item["snapshot"])
    assert attributes["DBSnapshotAttributesResult"]["DBSnapshotAttributes"][0]["AttributeValues"] == [DR_ACCOUNT]
    assert item["shared"] == [DR_ACCOUNT]
    assert {"Copy under the customer key", "Remove the staging snapshot"} <= set(run.child("aws-key-db").entered_states)
    assert any("copied under" in notice for notice in run.report["summary"]["notices"])


def test_without_a_customer_key_an_aws_rds_database_fails_and_nothing_is_shared(emulator, stack):
    instance(emulator, "no-key-db", StorageEncrypted=True)

    run = run_backup(stack, policy("nokey", "^no-key-db$", shareWith=[DR_ACCOUNT]))

    assert run.status == "FAILED"
    assert run.item("no-key-db")["outcome"] == "failed" and "shareKmsKeyId" in run.item("no-key-db")["reason"]
    assert snapshots_of(emulator, "no-key-db") == []
    assert not [call for call in emulator.rds_calls.mutating() if "Snapshot" in call.operation]


def test_the_plan_says_what_a_source_key_policy_must_add_for_the_dr_account(emulator, stack):
    own_only = customer_key(emulator)  # its policy names this account only
    instance(emulator, "tight-key-db", StorageEncrypted=True, KmsKeyId=own_only)

    run = run_backup(stack, policy("tight", "^tight-key-db$", shareWith=[DR_ACCOUNT]))

    (notice,) = run.report["summary"]["notices"]
    assert own_only in notice and f"arn:aws:iam::{DR_ACCOUNT}:root" in notice and "kms:CreateGrant" in notice


def test_copies_to_another_region_are_made_there_with_its_key(emulator, stack, keys):
    instance(emulator, "west-db", StorageEncrypted=True, KmsKeyId=keys.database)

    run = run_backup(stack, policy("west", "^west-db$", copyTo=[{"region": WEST, "kmsKeyId": keys.west}]))

    item = run.item("west-db")
    (copy,) = snapshots_of(emulator, "west-db", region=WEST)
    assert run.status == "SUCCEEDED", run.result.cause
    assert copy["KmsKeyId"] == keys.west and copy["DBSnapshotIdentifier"] == item["snapshot"]
    assert item["copies"] == [{"region": WEST, "kmsKeyId": keys.west, "snapshot": item["snapshot"], "status": "copied"}]
    (call,) = [c for c in emulator.rds_calls.calls if c.operation == "CopyDBSnapshot"]
    # called in the destination Region, with the URL the SDK signs for the source Region from SourceRegion
    assert call.region == WEST and "rds.us-east-1.amazonaws.com" in call.params["PreSignedUrl"]
    assert tags_of(copy)["trapheus:policy"] == "west"


def test_copies_past_the_regions_in_flight_limit_are_queued_to_the_next_run(emulator, stack, keys):
    for name in ("queue-a-db", "queue-b-db"):
        instance(emulator, name)
    # another copy already in flight to the west, as far as RDS lets one account go there
    instance(emulator, "queue-blocker-db")
    rds = emulator.client("rds")
    with emulator.settled():
        blocker = rds.create_db_snapshot(DBInstanceIdentifier="queue-blocker-db", DBSnapshotIdentifier="queue-blocker-s")
    emulator.latency.end_status("CopyDBSnapshot", "queue-blocker-s", "copying", region=WEST)
    emulator.client("rds", region=WEST).copy_db_snapshot(
        SourceDBSnapshotIdentifier=blocker["DBSnapshot"]["DBSnapshotArn"], TargetDBSnapshotIdentifier="queue-blocker-s",
        SourceRegion="us-east-1")
    west_model = emulator.strict_in(ACCOUNT_ID, WEST)
    west_model.quotas = Quotas(**{**ROOMY_QUOTAS.__dict__, "copies_in_flight_per_region": 1})
    copy_to = [{"region": WEST, "kmsKeyId": keys.west}]
    try:
        first = run_backup(stack, policy("queue", "^queue-[ab]-db$", copyTo=copy_to))
        emulator.client("rds", region=WEST).delete_db_snapshot(DBSnapshotIdentifier="queue-blocker-s")  # cancels it
        emulator.latency.clear()
        second = run_backup(stack, policy("queue", "^queue-[ab]-db$", copyTo=copy_to))
    finally:
        west_model.quotas = ROOMY_QUOTAS

    assert first.status == "SUCCEEDED"
    for name in ("queue-a-db", "queue-b-db"):
        (queued,) = first.item(name)["copies"]
        assert queued["status"] == "queued" and "across regions" in queued["reason"]
        assert second.item(name)["outcome"] == "skipped"  # not due: the queued copy is caught up all the same
        assert second.item(name)["copies"][0]["status"] == "copied"
        assert len(snapshots_of(emulator, name, region=WEST)) == 1
    assert sorted(first.report["summary"]["queuedCopies"]) == [f"queue-a-db->{WEST}", f"queue-b-db->{WEST}"]


# -- quotas and retention ------------------------------------------------------------------------------------------


def test_a_snapshot_past_the_manual_snapshot_quota_is_refused_naming_which_policy_holds_how_many(emulator, stack, topic_messages):
    instance(emulator, "quota-db")
    old_policy_snapshot(emulator, "quota-db", "quota-db-earlier", "quota", timedelta(hours=2))
    used = sum(1 for _ in emulator.client("rds").describe_db_snapshots(SnapshotType="manual")["DBSnapshots"])
    emulator.strict.quotas = Quotas(**{**ROOMY_QUOTAS.__dict__, "manual_snapshots": used})
    try:
        run = run_backup(stack, policy("quota", "^quota-db$"))
    finally:
        emulator.strict.quotas = ROOMY_QUOTAS

    item = run.item("quota-db")
    assert run.status == "FAILED" and item["outcome"] == "refused"
    assert f"ManualSnapshots: {used} of {used} used" in item["reason"] and "quota 1" in item["reason"]
    assert len(snapshots_of(emulator, "quota-db")) == 1
    assert "refused" in topic_messages()[0]["message"]


def test_retention_keeps_the_newest_count_and_the_young_and_never_another_policys_or_an_untagged_one(emulator, stack, keys):
    instance(emulator, "keep-db")
    for hours in (5, 4, 3, 2):
        old_policy_snapshot(emulator, "keep-db", f"keep-db-{hours}h", "keep", timedelta(hours=hours))
    old_policy_snapshot(emulator, "keep-db", "keep-db-other-policy", "daily", timedelta(days=3))
    with emulator.settled():
        emulator.client("rds").create_db_snapshot(DBInstanceIdentifier="keep-db", DBSnapshotIdentifier="keep-db-by-hand")

    run = run_backup(stack, policy("keep", "^keep-db$", keep={"count": 2, "days": 0.1}))

    left = {s["DBSnapshotIdentifier"] for s in snapshots_of(emulator, "keep-db")}
    item = run.item("keep-db")
    assert run.status == "SUCCEEDED"
    assert left == {item["snapshot"], "keep-db-2h", "keep-db-other-policy", "keep-db-by-hand"}
    assert sorted(item["pruned"]) == ["keep-db-3h", "keep-db-4h", "keep-db-5h"]


def test_retention_applies_in_each_copy_region_too(emulator, stack, keys):
    instance(emulator, "prune-west-db")
    earlier = old_policy_snapshot(emulator, "prune-west-db", "prune-west-db-earlier", "prunew", timedelta(hours=2))
    source = snapshots_of(emulator, "prune-west-db")[0]
    with emulator.settled():  # its copy in the west, from that earlier run
        emulator.client("rds", region=WEST).copy_db_snapshot(
            SourceDBSnapshotIdentifier=source["DBSnapshotArn"], TargetDBSnapshotIdentifier=earlier, KmsKeyId=keys.west,
            SourceRegion="us-east-1", Tags=source["TagList"])

    run = run_backup(stack, policy("prunew", "^prune-west-db$", copyTo=[{"region": WEST, "kmsKeyId": keys.west}],
                                   keep={"count": 1}))

    item = run.item("prune-west-db")
    assert item["outcome"] == "snapshot" and item["copies"][0]["status"] == "copied"
    assert sorted(item["pruned"]) == sorted([earlier, f"{WEST}:{earlier}"])
    assert [s["DBSnapshotIdentifier"] for s in snapshots_of(emulator, "prune-west-db", region=WEST)] == [item["snapshot"]]


# -- failures: one database failing, every mutating step ---------------------------------------------------------


def test_a_database_failing_mid_run_does_not_stop_the_others(emulator, stack, slack, topic_messages):
    for name in ("mid-a-db", "mid-b-db", "mid-c-db"):
        instance(emulator, name)
    emulator.latency.fail_api("CreateDBSnapshot", "mid-b-db", code="InternalFailure", message="injected")
    emails = email_count(emulator)

    run = run_backup(stack, policy("mid", "^mid-"))

    assert [run.item(name)["outcome"] for name in ("mid-a-db", "mid-b-db", "mid-c-db")] == ["snapshot", "failed", "snapshot"]
    assert "InternalFailure" in run.item("mid-b-db")["reason"]
    assert run.status == "FAILED" and run.child("mid-b-db").status == "FAILED"
    assert lock_item(emulator, stack, "instance:mid-b-db") is None
    assert emails_since(emulator, emails) and slack.bodies(SLACK_PATH) and topic_messages()


SHARED = {"shareWith": [DR_ACCOUNT]}


@pytest.mark.parametrize(
    ("case", "fault", "step"),
    [
        ("take", ("api", "CreateDBSnapshot", None), "Take the snapshot"),
        ("snapshot-fails", ("ends", "CreateDBSnapshot", "failed"), "Note the snapshot failure"),
        ("snapshot-hangs", ("ends", "CreateDBSnapshot", "creating"), "Note the snapshot timeout"),
        ("reencrypt", ("api", "CopyDBSnapshot", None), "Copy under the customer key"),
        ("reencrypt-fails", ("ends", "CopyDBSnapshot", "failed"), "Note the customer-key copy failure"),
        ("reencrypt-hangs", ("ends", "CopyDBSnapshot", "creating"), "Note the customer-key copy timeout"),
        ("remove-stage", ("api", "DeleteDBSnapshot", None), "Remove the staging snapshot"),
        ("share", ("api", "ModifyDBSnapshotAttribute", None), "Share and copy the newest snapshot"),
        ("copy-west", ("api-west", "CopyDBSnapshot", None), "Share and copy the newest snapshot"),
        ("copy-west-fails", ("ends-west", "CopyDBSnapshot", "failed"), "Note the copy failure"),
        ("prune", ("api", "DeleteDBSnapshot", "prune"), "Prune old snapshots"),
    ],
    ids=lambda value: value if isinstance(value, str) else None,
)
def test_a_fault_at_each_mutating_step_fails_that_database_and_releases_its_lock(emulator, stack, keys, case, fault, step):
    identifier = f"fault-{case}-db"
    # under aws/rds the run copies the snapshot under the customer key first: the steps of that copy need it
    instance(emulator, identifier, StorageEncrypted=case.startswith(("reencrypt", "remove-stage")))
    kind, operation, detail = fault
    region = WEST if kind.endswith("west") else None
    if detail == "prune":
        old_policy_snapshot(emulator, identifier, f"{identifier}-old", case, timedelta(hours=5))
    if kind.startswith("api"):
        emulator.latency.fail_api(operation, code="InternalFailure", message=f"injected into {operation}", region=region,
                                  times=None)
    else:
        emulator.latency.end_status(operation, None, detail, times=None, region=region)  # whatever it makes
    fields = {**SHARED, "shareKmsKeyId": keys.share, "copyTo": [{"region": WEST, "kmsKeyId": keys.west}],
              "keep": {"count": 1}}

    run = run_backup(stack, policy(case, f"^{identifier}$", **fields))

    item = run.item(identifier)
    assert run.status == "FAILED", item
    assert item["outcome"] == "failed", item
    assert step in run.child(identifier).entered_states
    assert lock_item(emulator, stack, f"instance:{identifier}") is None
    described = emulator.client("rds").describe_db_instances(DBInstanceIdentifier=identifier)["DBInstances"][0]
    assert described["DBInstanceStatus"] == "available"  # the database itself is never touched


def test_long_copies_to_another_region_are_left_running_and_reported(emulator, stack, keys):
    instance(emulator, "slow-west-db")
    emulator.latency.end_status("CopyDBSnapshot", None, "copying", times=None, region=WEST)

    run = run_backup(stack, policy("slow", "^slow-west-db$", copyTo=[{"region": WEST, "kmsKeyId": keys.west}]))

    assert run.status == "SUCCEEDED"
    assert run.item("slow-west-db")["copies"][0]["status"] == "copying"
    assert "Leave the copies running" in run.child("slow-west-db").entered_states


def test_a_step_that_fails_before_the_lock_still_reports_the_database(emulator, stack):
    instance(emulator, "unreadable-db")
    emulator.latency.fail_api("DescribeDBSnapshots", "unreadable-db", code="InternalFailure", message="injected")

    run = run_backup(stack, policy("unreadable", "^unreadable-db$"))

    assert run.status == "FAILED"
    assert run.item("unreadable-db")["outcome"] == "failed"
    assert {"Note the failure before the lock", "Report the unreported failure"} <= set(run.child("unreadable-db").entered_states)


# -- the run itself: its input, its history, its alerts and its report ---------------------------------------------


def test_an_invalid_policy_is_refused_before_any_change_and_alerted(emulator, stack, topic_messages):
    run = run_backup(stack, {"policy": "bad", "select": {"pattern": "^x"}, "everyMinutes": 60, "keep": {"count": 1},
                             "shareWith": ["not-an-account"]})

    assert run.status == "FAILED" and run.result.error == "InvalidInputError"
    assert "shareWith" in run.result.cause
    assert emulator.rds_calls.mutating() == [] and run.children == []
    assert "Refuse the policy" in run.result.entered_states
    assert topic_messages()[0]["failedStep"] == "Plan the run"


def test_a_key_the_stack_may_not_use_is_refused_before_any_snapshot(emulator, stack, keys):
    instance(emulator, "unlisted-key-db")
    unlisted = customer_key(emulator, region=WEST)  # not in BackupKmsKeyArns
    emulator.rds_calls.clear()

    run = run_backup(stack, policy("unlisted", "^unlisted-key-db$", copyTo=[{"region": WEST, "kmsKeyId": unlisted}]))

    assert run.status == "FAILED" and run.result.error == "InvalidInputError"
    assert f"copyTo[0].kmsKeyId {unlisted}" in run.result.cause and "BackupKmsKeyArns" in run.result.cause
    assert emulator.rds_calls.mutating() == [] and run.children == []


def test_a_summary_that_fails_still_alerts(emulator, stack, monkeypatch, topic_messages):
    instance(emulator, "summary-db")

    def broken(*args, **kwargs):
        from trapheus.errors import InvalidInputError

        raise InvalidInputError("the report could not be built")

    monkeypatch.setattr("trapheus.backups.report.build", broken)
    run = run_backup(stack, policy("summary", "^summary-db$"))

    assert run.status == "FAILED" and "Note the summary failure" in run.result.entered_states
    assert topic_messages()[0]["failedStep"] == "Summarise the run"


def test_hundreds_of_databases_would_stay_far_inside_the_history_limit(emulator, stack):
    names = [f"many-{number}-db" for number in range(6)]
    for name in names:
        instance(emulator, name)
    few = run_backup(stack, policy("many", "^many-[0-2]-db$"))
    more = run_backup(stack, policy("manyall", "^many-[0-9]-db$"))

    per_database = (len(more.result.events) - len(few.result.events)) / 3
    assert more.status == "SUCCEEDED" and len(more.children) == 6
    assert per_database <= 12, per_database
    # the polling lives in each database's own history; a run of 500 databases keeps the parent far from 25,000
    assert len(few.result.events) + 500 * per_database < 10_000
    assert all("Wait for the snapshot" in child.entered_states for child in more.children)


def test_alerts_that_cannot_be_delivered_do_not_change_how_a_run_ends(emulator, stack, slack):
    instance(emulator, "undelivered-db")
    emulator.latency.fail_api("CreateDBSnapshot", "undelivered-db", code="InternalFailure", message="injected")
    ses, sns = emulator.client("ses"), emulator.client("sns")
    topic = stack.physical_id("AlertTopic")
    ses.delete_identity(Identity=SENDER)
    slack.always[SLACK_PATH] = 404
    sns.delete_topic(TopicArn=topic)
    try:
        run = run_backup(stack, policy("undelivered", "^undelivered-db$"))
        restore = stack.run("RestoreStateMachine", {"identifier": "undelivered-none", "task": "db_restore", "isCluster": False})
    finally:
        ses.verify_email_identity(EmailAddress=SENDER)
        slack.always.pop(SLACK_PATH)
        sns.create_topic(Name=topic.split(":")[-1])

    assert run.status == "FAILED" and run.result.error == "BackupIncompleteError"
    assert {"Email alert not sent", "Slack alert not sent", "SNS alert not sent"} <= set(run.result.entered_states)
    assert restore.status == "FAILED" and "SNS alert not sent" in restore.entered_states


def test_a_failed_restore_alerts_the_topic_as_json(emulator, stack, topic_messages):
    result = stack.run("RestoreStateMachine", {"identifier": "restore-none-db", "task": "db_restore", "isCluster": False})

    (message,) = topic_messages()
    assert result.status == "FAILED" and "Send the SNS alert" in result.entered_states
    assert message["kind"] == "restore" and message["identifier"] == "restore-none-db"
    assert message["error"] == result.error and message["execution"]["arn"] == result.arn
    assert message["consoleUrl"].startswith("https://")


def test_trapheus_report_renders_the_report_of_a_run_that_succeeded_and_of_one_that_failed(emulator, stack):
    instance(emulator, "shown-db")
    good = run_backup(stack, policy("shown", "^shown-db$"))
    bad = run_backup(stack, policy("shown", select={"identifiers": ["shown-db", "shown-missing"]}))
    runner = CliRunner()

    as_json = runner.invoke(app, ["report", good.result.arn, "--json", "--region", emulator.region])
    table = runner.invoke(app, ["report", bad.result.arn, "--region", emulator.region], env={"COLUMNS": "400"})

    assert as_json.exit_code == 0, as_json.output
    document = json.loads(as_json.output)
    assert document["status"] == "SUCCEEDED" and document["report"] == good.report
    assert document["report"]["workflow"] == "backup"
    assert table.exit_code == 0, table.output
    assert "shown-missing" in table.output and "FAILED" in table.output and "rpoSeconds" in table.output
    refused = stack.run("RestoreStateMachine", {"identifier": "x"})  # ended before the CLI reads it
    unknown = runner.invoke(app, ["report", refused.arn, "--region", emulator.region])
    assert unknown.exit_code == 2 and "has no report" in unknown.output


def test_summarise_reads_each_databases_item_from_its_failed_childs_cause():
    item = {"identifier": "orders-db", "isCluster": False, "outcome": "refused", "reason": "quota"}
    described = {"Status": "FAILED", "Error": "BackupFailedError", "Cause": json.dumps(item)}
    plan = {"policy": policy("hourly", "^orders-"), "run": {"account": ACCOUNT_ID}, "unselected": []}

    built = summarise({"plan": {**plan, "policy": {**plan["policy"], "keep": {"count": 1, "days": 0}}}, "results": [
        {"database": {"identifier": "orders-db"}, "failure": {"Error": "States.TaskFailed", "Cause": json.dumps(described)}},
        {"database": {"identifier": "billing-db", "isCluster": False}, "failure": {"Error": "States.Runtime", "Cause": "boom"}},
    ]})

    items = {entry["identifier"]: entry for entry in built["report"]["items"]}
    assert items["orders-db"]["outcome"] == "refused" and items["orders-db"]["reason"] == "quota"
    assert items["billing-db"]["outcome"] == "failed" and "boom" in items["billing-db"]["reason"]
    assert built["alert"] and built["failure"]["Error"] == "BackupIncompleteError"


def test_every_state_machine_of_the_backup_workflow_is_deployed(stack):
    machines = stack.state_machines()
    assert machines[PARENT].endswith(":stateMachine:trapheus-local-backup")
    assert machines[CHILD].endswith(":stateMachine:trapheus-local-backup-db")
