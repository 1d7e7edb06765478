"""The copy workflow (``<stack>-copy``): the real ASL, under the strict models of RDS and Route 53.

One emulator and one deployment serve the module; each test works on a source database and a lifecycle of its
own. The sources existed before the run (made inside ``Emulator.settled()``), with a manual snapshot, so their
automated backups reach back their whole retention period as the strict model keeps them.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from support.rds_fixtures import ROOMY_QUOTAS
from support.restore_runs import Alerts, DatabaseUnderTest, VerifyFunctions, ago, clean_start, deploy, snapshot_ids
from support.slack import SlackListener

from trapheus import clients
from trapheus.copies import lifecycle, tags
from trapheus.copies.tags import ownership_marker
from trapheus_local import Emulator
from trapheus_local.engine import Deployment, ExecutionResult

# one emulator serves the module: what each test makes in RDS is dropped when it ends
pytestmark = pytest.mark.usefixtures("rds_made_by_the_test_forgotten")

MACHINE = "CopyStateMachine"
SLACK_PATH = "/services/T000/B000/copies"
ZONE_NAME = "db.example.internal"


@pytest.fixture(scope="module")
def emulator() -> Iterator[Emulator]:
    clients.reset()
    with Emulator(quotas=ROOMY_QUOTAS) as aws:
        yield aws
    clients.reset()


@pytest.fixture(scope="module")
def zone(emulator: Emulator) -> str:
    created = emulator.client("route53").create_hosted_zone(Name=ZONE_NAME, CallerReference=uuid.uuid4().hex)
    return created["HostedZone"]["Id"].rsplit("/", 1)[-1]


@pytest.fixture(scope="module")
def stack(emulator: Emulator, slack: SlackListener, verify: VerifyFunctions, zone: str) -> Deployment:
    return deploy(emulator, slack, SLACK_PATH, verify, CopyHostedZoneIds=zone)


@pytest.fixture
def alerts(emulator: Emulator, stack: Deployment, slack: SlackListener) -> Iterator[Alerts]:
    yield from clean_start(emulator, slack, SLACK_PATH)


class Source(DatabaseUnderTest):
    """A production database to copy, with a manual snapshot, and a lifecycle of its own."""

    def __init__(self, emulator: Emulator, is_cluster: bool, **settings: Any) -> None:
        super().__init__(emulator, is_cluster, **settings)
        self.lifecycle = f"{self.identifier}-staging"
        self.record_name = f"{self.lifecycle}.{ZONE_NAME}"
        with emulator.settled():
            if is_cluster:
                self.rds.create_db_cluster_snapshot(DBClusterIdentifier=self.identifier, DBClusterSnapshotIdentifier=f"{self.identifier}-manual")
            else:
                self.rds.create_db_snapshot(DBInstanceIdentifier=self.identifier, DBSnapshotIdentifier=f"{self.identifier}-manual")
        emulator.settle()

    def copy_input(self, zone: str, action: str = "refresh", **extra: Any) -> dict:
        data: dict[str, Any] = {"source": self.identifier, "isCluster": self.is_cluster, "lifecycle": self.lifecycle, "action": action}
        if action in ("refresh", "promote"):
            data["dns"] = {"hostedZoneId": zone, "recordName": self.record_name, "ttl": 60}
        data.update(extra)
        return data

    def copies(self) -> list[lifecycle.CopyRecord]:
        return lifecycle.find_copies(self.lifecycle, rds=self.rds)

    def records(self, zone: str, name: str | None = None) -> dict[str, list[str]]:
        """The record sets at the lifecycle's DNS name (or ``name``): type -> values."""
        wanted = name or self.record_name
        route53 = self.emulator.client("route53")
        found = route53.list_resource_record_sets(HostedZoneId=zone, StartRecordName=wanted)["ResourceRecordSets"]
        return {r["Type"]: [v["Value"] for v in r.get("ResourceRecords", [])] for r in found if r["Name"].rstrip(".") == wanted}

    def marker(self, zone: str) -> list[str] | None:
        """The TXT ownership marker, kept just below the CNAME (a CNAME shares its name with no other record)."""
        return self.records(zone, f"_trapheus.{self.record_name}").get("TXT")


def run(stack: Deployment, execution_input: Any) -> ExecutionResult:
    stack.emulator.rds_calls.clear()
    return stack.run(MACHINE, execution_input, name=f"copy-{uuid.uuid4().hex[:10]}")


def tags_of(emulator: Emulator, arn: str) -> dict[str, str]:
    return lifecycle.as_dict(emulator.client("rds").list_tags_for_resource(ResourceName=arn)["TagList"])


def member_tags(emulator: Emulator, member: str) -> dict[str, str]:
    description = emulator.client("rds").describe_db_instances(DBInstanceIdentifier=member)["DBInstances"][0]
    return lifecycle.as_dict(description["TagList"])


# -- refresh ----------------------------------------------------------------------------------------------


def test_a_cluster_refresh_makes_a_tagged_twin_with_its_members_and_points_the_cname_at_its_writer(emulator, stack, zone, alerts):
    source = Source(emulator, is_cluster=True)

    result = run(stack, source.copy_input(zone))

    assert result.status == "SUCCEEDED", (result.error, result.cause)
    (copy,) = source.copies()
    assert copy.identifier.startswith(f"{source.lifecycle}-") and copy.stage == "promoted" and copy.status == "available"
    assert copy.members == (f"{copy.identifier}-1", f"{copy.identifier}-2"), "the source's writer and reader, writer first"
    cluster = emulator.client("rds").describe_db_clusters(DBClusterIdentifier=copy.identifier)["DBClusters"][0]
    assert [m["IsClusterWriter"] for m in sorted(cluster["DBClusterMembers"], key=lambda m: m["DBInstanceIdentifier"])] == [True, False]
    assert cluster["DBClusterParameterGroup"] == source.before["settings"]["DBClusterParameterGroupName"]
    assert cluster["Port"] == source.before["settings"]["Port"]
    for member in copy.members:  # every member carries the lifecycle's tags, not only the cluster
        assert member_tags(emulator, member)[tags.LIFECYCLE] == source.lifecycle
        assert member_tags(emulator, member)[tags.STAGE] == "promoted"
    assert tags_of(emulator, copy.arn)[tags.SOURCE] == source.identifier
    assert tags_of(emulator, copy.arn).get("team") == "ledger", "the source's own tags are carried"
    records = source.records(zone)
    assert records["CNAME"] == [cluster["Endpoint"]], "the CNAME names the cluster's writer endpoint, not an instance"
    assert source.marker(zone) == [ownership_marker(source.lifecycle)]
    assert stack.emulator.resolve(zone, source.record_name) is not None, "the name resolves to the copy"
    report = result.output["report"]
    assert (report["copy"], report["lifecycle"], report["promoted"][0]["value"]) == (copy.identifier, source.lifecycle, cluster["Endpoint"])
    assert {"check": "configuration", "passed": True} in report["checks"]
    assert alerts.none()


def test_a_second_refresh_the_same_day_replaces_the_first_and_retires_it_with_a_final_snapshot(emulator, stack, zone, alerts):
    source = Source(emulator, is_cluster=False)
    first = run(stack, source.copy_input(zone))
    assert first.status == "SUCCEEDED", (first.error, first.cause)

    second = run(stack, source.copy_input(zone))

    assert second.status == "SUCCEEDED", (second.error, second.cause)
    new, old = second.output["copy"]["identifier"], first.output["copy"]["identifier"]
    assert new != old and new[:-4] == old[:-4] or new != old, "two copies of the same day have their own names"
    assert second.output["report"]["previous"] == [old]
    (retired,) = second.output["retirement"]["retired"]
    assert retired["identifier"] == old and retired["finalSnapshot"] == f"final-{old}"
    assert f"final-{old}" in snapshot_ids(emulator)
    assert "Wait before retiring" in second.entered_states
    endpoint = emulator.client("rds").describe_db_instances(DBInstanceIdentifier=new)["DBInstances"][0]["Endpoint"]["Address"]
    assert source.records(zone)["CNAME"] == [endpoint]
    assert [c.identifier for c in source.copies()] in ([new], [new, old])  # the old one is deleting or gone
    assert all(c.stage == "promoted" for c in source.copies() if c.identifier == new)


def test_an_instance_refresh_copies_the_newest_snapshot_with_the_instances_settings(emulator, stack, zone, alerts):
    source = Source(emulator, is_cluster=False)

    result = run(stack, source.copy_input(zone, instanceClass="db.t4g.medium"))

    assert result.status == "SUCCEEDED", (result.error, result.cause)
    assert result.output["source"]["snapshot"] == f"{source.identifier}-manual"
    copy = result.output["copy"]["identifier"]
    described = emulator.client("rds").describe_db_instances(DBInstanceIdentifier=copy)["DBInstances"][0]
    assert described["DBInstanceClass"] == "db.t4g.medium"
    assert described["DBParameterGroups"][0]["DBParameterGroupName"] == source.before["settings"]["DBParameterGroupName"]
    assert described["DeletionProtection"] is False, "a copy is removable unless modify protects it"
    assert source.records(zone)["CNAME"] == [described["Endpoint"]["Address"]]


def test_a_clone_is_a_copy_on_write_clone_at_the_latest_restorable_time(emulator, stack, zone, alerts):
    source = Source(emulator, is_cluster=True)

    result = run(stack, source.copy_input(zone, "clone"))

    assert result.status == "SUCCEEDED", (result.error, result.cause)
    (call,) = [c for c in emulator.rds_calls.mutating() if c.operation == "RestoreDBClusterToPointInTime"]
    assert call.params["RestoreType"] == "copy-on-write" and call.params["UseLatestRestorableTime"] is True
    assert call.params["SourceDBClusterIdentifier"] == source.identifier
    (copy,) = source.copies()
    assert copy.stage == "new", "a clone is not promoted by action clone"
    assert "Point the DNS names at the copy" not in result.entered_states


def test_a_clone_of_an_instance_is_refused(emulator, stack, zone, alerts):
    source = Source(emulator, is_cluster=False)
    result = run(stack, source.copy_input(zone, "clone"))
    assert result.status == "FAILED" and result.error == "InvalidInputError"
    assert "Aurora" in result.cause and not source.copies()


def test_a_point_in_time_copy_restores_the_time_asked(emulator, stack, zone, alerts):
    source = Source(emulator, is_cluster=False)
    wanted = ago(hours=2)

    result = run(stack, source.copy_input(zone, "new", **{"from": {"pointInTime": wanted}}))

    assert result.status == "SUCCEEDED", (result.error, result.cause)
    (call,) = [c for c in emulator.rds_calls.mutating() if c.operation == "RestoreDBInstanceToPointInTime"]
    assert call.params["SourceDbiResourceId"] == source.before["resourceId"]
    assert result.output["source"]["pointInTime"] == result.output["report"]["pointInTime"]


def test_a_refresh_younger_than_minimum_age_changes_nothing_and_succeeds_without_alert(emulator, stack, zone, alerts):
    source = Source(emulator, is_cluster=False)
    first = run(stack, source.copy_input(zone))
    assert first.status == "SUCCEEDED", (first.error, first.cause)
    before = [(c.identifier, c.stage) for c in source.copies()]

    result = run(stack, source.copy_input(zone, minimumAgeHours=6))

    assert result.status == "SUCCEEDED"
    assert "minimumAgeHours" in result.output["report"]["skipped"]
    assert [(c.identifier, c.stage) for c in source.copies()] == before
    assert not emulator.rds_calls.mutating()
    assert alerts.none()


# -- verify, approval -------------------------------------------------------------------------------------


def test_a_failing_verify_function_removes_the_copy_and_leaves_dns_alone(emulator, stack, zone, verify, alerts):
    source = Source(emulator, is_cluster=False)

    result = run(stack, source.copy_input(zone, verify={"functionArn": verify.fails}))

    assert result.status == "FAILED" and result.error == "VerificationFailedError", (result.error, result.cause)
    assert "Remove the half-made copy" in result.entered_states
    assert all(c.status == "deleting" for c in source.copies()) or not source.copies()
    assert "CNAME" not in source.records(zone)
    assert alerts.name(source.lifecycle)


def test_a_passing_verify_function_is_told_where_the_copy_answers(emulator, stack, zone, verify, alerts):
    source = Source(emulator, is_cluster=True)

    result = run(stack, source.copy_input(zone, verify={"functionArn": verify.passes}))

    assert result.status == "SUCCEEDED", (result.error, result.cause)
    assert result.output["hook"]["passed"] is True
    assert {"check": "verify function", "passed": True, "function": verify.passes} in result.output["report"]["checks"]


def _approve_when_asked(stack: Deployment, execution_arn: str, answer: str) -> threading.Thread:
    """Answers the approval as `trapheus copy approve|reject` does (with the task token from the history)."""
    thread = threading.Thread(target=_answer, args=(stack, execution_arn, answer), daemon=True)
    thread.start()
    return thread


@pytest.mark.parametrize("answer", ["approve", "reject"])
def test_an_approval_gates_the_promotion(emulator, stack, zone, alerts, answer):
    source = Source(emulator, is_cluster=False)
    arn = stack.start(MACHINE, source.copy_input(zone, approve=True), name=f"copy-{uuid.uuid4().hex[:10]}")
    _approve_when_asked(stack, arn, answer).join(timeout=30)

    result = stack.wait(arn)

    assert "Wait for the approval" in result.entered_states and "Ask for approval" in result.entered_states
    assert alerts.name("APPROVAL NEEDED") or any("APPROVAL NEEDED" in str(b) for b in alerts.slack_messages())
    if answer == "approve":
        assert result.status == "SUCCEEDED", (result.error, result.cause)
        assert result.output["approval"]["approved"] is True
        assert "CNAME" in source.records(zone)
    else:
        assert result.status == "FAILED" and result.error == "ApprovalRejected"
        assert "CNAME" not in source.records(zone)
        assert all(c.status == "deleting" for c in source.copies()) or not source.copies()


def test_an_unanswered_approval_times_out_and_removes_the_copy(emulator, stack, zone, alerts):
    source = Source(emulator, is_cluster=False)
    patience, emulator.clock.callback_patience = emulator.clock.callback_patience, 0.2
    try:
        result = run(stack, source.copy_input(zone, approve=True, approvalTimeoutMinutes=30))
    finally:
        emulator.clock.callback_patience = patience

    assert result.status == "FAILED" and result.error == "ApprovalTimedOut", (result.error, result.cause)
    assert 30 * 60 <= result.virtual_seconds < 2 * 86400, "the approval's own timeout passed on the simulated clock"
    assert "Remove the half-made copy" in result.entered_states
    assert "CNAME" not in source.records(zone)


# -- DNS ownership -----------------------------------------------------------------------------------------


def _put_record(emulator: Emulator, zone: str, name: str, record_type: str, value: str) -> None:
    emulator.client("route53").change_resource_record_sets(HostedZoneId=zone, ChangeBatch={"Changes": [
        {"Action": "CREATE", "ResourceRecordSet": {"Name": name, "Type": record_type, "TTL": 300, "ResourceRecords": [{"Value": value}]}}
    ]})
    emulator.settle()


def test_a_cname_trapheus_did_not_write_is_refused_before_any_change(emulator, stack, zone, alerts):
    source = Source(emulator, is_cluster=False)
    _put_record(emulator, zone, source.record_name, "CNAME", "legacy.example.internal")

    result = run(stack, source.copy_input(zone))

    assert result.status == "FAILED" and result.error == "DnsOwnershipError", (result.error, result.cause)
    assert not emulator.rds_calls.mutating() and not source.copies()
    assert source.records(zone)["CNAME"] == ["legacy.example.internal"]

    adopted = run(stack, source.copy_input(zone, adopt=True))
    assert adopted.status == "SUCCEEDED", (adopted.error, adopted.cause)
    assert source.marker(zone) == [ownership_marker(source.lifecycle)]


def test_a_name_holding_another_record_type_is_refused(emulator, stack, zone, alerts):
    source = Source(emulator, is_cluster=False)
    _put_record(emulator, zone, source.record_name, "A", "10.0.0.12")

    result = run(stack, source.copy_input(zone, adopt=True))

    assert result.status == "FAILED" and result.error == "DnsOwnershipError"
    assert not source.copies() and "CNAME" not in source.records(zone)


# -- retire and drill ---------------------------------------------------------------------------------------


def test_retire_keeps_the_newest_retired_copies_and_snapshots_the_rest(emulator, stack, zone, alerts):
    source = Source(emulator, is_cluster=False)
    made = []
    for _ in range(3):
        result = run(stack, source.copy_input(zone, keep=1))
        assert result.status == "SUCCEEDED", (result.error, result.cause)
        made.append(result.output["copy"]["identifier"])

    result = run(stack, source.copy_input(zone, "retire", keep=0))

    assert result.status == "SUCCEEDED", (result.error, result.cause)
    retired = {r["identifier"]: r for r in result.output["retirement"]["retired"]}
    assert set(retired) == {made[1]}, "the newest retired copy was kept by keep=1; now keep=0 retires it"
    assert retired[made[1]]["finalSnapshot"] == f"final-{made[1]}"
    assert made[2] not in retired, "the promoted copy is never retired"


def test_a_drill_measures_rto_and_rpo_and_deletes_its_copy_without_a_final_snapshot(emulator, stack, zone, verify, alerts):
    source = Source(emulator, is_cluster=True)

    result = run(stack, source.copy_input(zone, "drill", verify={"functionArn": verify.passes}))

    assert result.status == "SUCCEEDED", (result.error, result.cause)
    report = result.output["report"]
    assert report["rtoSeconds"] > 0 and report["rpoSeconds"] >= 0
    assert report["snapshot"] == f"{source.identifier}-manual"
    assert {c["check"] for c in report["checks"]} == {"configuration", "verify function"}
    delete = [c for c in emulator.rds_calls.mutating() if c.operation == "DeleteDBCluster"]
    assert delete and delete[0].params.get("SkipFinalSnapshot") is True
    assert "CNAME" not in source.records(zone)
    # trapheus report <execution>: read from the run's output as the command reads it, and rendered
    from rich.console import Console

    from trapheus_cli.reports import render, report_of

    name, found = report_of(stack.client("stepfunctions"), result.arn)
    console = Console(width=200, record=True)
    console.print(render(found, name))
    shown = console.export_text()
    assert found == report and "rto" in shown.lower() and report["copy"] in shown


def test_a_copy_of_a_snapshot_arn_with_no_live_source_takes_the_configuration_given(emulator, stack, zone, alerts):
    source = Source(emulator, is_cluster=False)
    rds = emulator.client("rds")
    arn = rds.describe_db_snapshots(DBSnapshotIdentifier=f"{source.identifier}-manual")["DBSnapshots"][0]["DBSnapshotArn"]
    with emulator.settled():
        rds.modify_db_instance(DBInstanceIdentifier=source.identifier, DeletionProtection=False, ApplyImmediately=True)
        rds.delete_db_instance(DBInstanceIdentifier=source.identifier, SkipFinalSnapshot=True)
    emulator.settle()
    lifecycle_name = f"{source.identifier}-dr"
    given = {"dbSubnetGroup": source.before["settings"]["DBSubnetGroupName"], "instanceClass": "db.m6g.large",
             "vpcSecurityGroupIds": source.before["settings"]["VpcSecurityGroupIds"]}

    result = run(stack, {"isCluster": False, "lifecycle": lifecycle_name, "action": "new", "from": {"snapshot": arn}, "configuration": given})

    assert result.status == "SUCCEEDED", (result.error, result.cause)
    assert result.output["source"]["configurationFrom"] == "input"
    copy = result.output["copy"]["identifier"]
    described = rds.describe_db_instances(DBInstanceIdentifier=copy)["DBInstances"][0]
    assert described["DBSubnetGroup"]["DBSubnetGroupName"] == given["dbSubnetGroup"]
    assert tags_of(emulator, described["DBInstanceArn"])[tags.LIFECYCLE] == lifecycle_name


# -- bad input ----------------------------------------------------------------------------------------------


BAD_INPUTS = {
    "unknown field": {"lifecycle": "x-staging", "action": "new", "isCluster": False, "source": "x", "colour": "red"},
    "unknown action": {"lifecycle": "x-staging", "action": "copy", "isCluster": False, "source": "x"},
    "string isCluster": {"lifecycle": "x-staging", "action": "new", "isCluster": "false", "source": "x"},
    "refresh without dns": {"lifecycle": "x-staging", "action": "refresh", "isCluster": False, "source": "x"},
    "no source": {"lifecycle": "x-staging", "action": "new", "isCluster": False},
    "bad time": {"lifecycle": "x-staging", "action": "new", "isCluster": False, "source": "x", "from": {"pointInTime": "yesterday"}},
    "not an object": ["refresh"],
    "lifecycle too long": {"lifecycle": "a" * 60, "action": "new", "isCluster": True, "source": "x"},
    "unlisted verify function": {"lifecycle": "x-staging", "action": "new", "isCluster": False, "source": "x",
                                 "verify": {"functionArn": "arn:aws:lambda:us-east-1:123456789012:function:someone-elses"}},
}


@pytest.mark.parametrize("bad", list(BAD_INPUTS.values()), ids=list(BAD_INPUTS))
def test_bad_input_fails_before_any_change(emulator, stack, alerts, bad):
    result = run(stack, bad)
    assert result.status == "FAILED" and result.error in ("InvalidInputError", "DatabaseNotFoundError", "AccessNotGrantedError"), (result.error, result.cause)
    assert not emulator.rds_calls.mutating()
    assert "Take the lifecycle lock" not in result.entered_states or result.error != "InvalidInputError"


# -- plan, lock, modify, password, protection ----------------------------------------------------------------


def test_a_plan_says_what_a_refresh_would_do_and_changes_nothing(emulator, stack, zone, alerts):
    source = Source(emulator, is_cluster=True)

    result = run(stack, {"plan": source.copy_input(zone)})

    assert result.status == "SUCCEEDED", (result.error, result.cause)
    plan = result.output["plan"]
    assert plan["copy"].startswith(f"{source.lifecycle}-") and len(plan["members"]) == 2
    assert plan["snapshot"] == f"{source.identifier}-manual" and plan["blockers"] == []
    assert not emulator.rds_calls.mutating() and not source.copies()


def test_promote_and_retire_find_the_lifecycles_copies_of_either_kind(emulator, stack, zone, alerts):
    source = Source(emulator, is_cluster=True)
    made = run(stack, source.copy_input(zone, "new"))
    assert made.status == "SUCCEEDED", (made.error, made.cause)
    promote = source.copy_input(zone, "promote")
    del promote["isCluster"], promote["source"]

    result = run(stack, promote)

    assert result.status == "SUCCEEDED", (result.error, result.cause)
    assert result.output["copy"] == {**result.output["copy"], "identifier": made.output["copy"]["identifier"], "isCluster": True}
    assert source.copies()[0].stage == "promoted"
    modified = run(stack, {"lifecycle": source.lifecycle, "action": "modify", "modify": {"backupRetentionPeriod": 1}})
    assert modified.status == "SUCCEEDED", (modified.error, modified.cause)
    assert source.copies()[0].stage == "promoted", "a modified promoted copy stays promoted, so the next promotion retires it"


def test_a_plan_names_what_stands_in_the_way(emulator, stack, zone, alerts):
    source = Source(emulator, is_cluster=False)
    _put_record(emulator, zone, source.record_name, "CNAME", "legacy.example.internal")

    result = run(stack, {"plan": source.copy_input(zone)})

    assert result.status == "SUCCEEDED"
    assert [b for b in result.output["plan"]["blockers"] if b["error"] == "DnsOwnershipError" and source.record_name in b["message"]]


def test_a_second_run_on_a_lifecycle_is_refused_while_the_first_holds_the_lock(emulator, stack, zone, alerts):
    source = Source(emulator, is_cluster=False)
    first = stack.start(MACHINE, source.copy_input(zone, approve=True), name=f"copy-{uuid.uuid4().hex[:10]}")
    _wait_for_approval_task(stack, first)

    second = run(stack, source.copy_input(zone))
    _answer(stack, first, "reject")
    stack.wait(first)

    assert second.status == "FAILED" and second.error == "CopyInProgressError", (second.error, second.cause)
    assert "Refuse the second run" in second.entered_states
    assert len(source.copies()) <= 1, "the second run made no copy"


def test_modify_rotates_the_password_into_a_secret_protects_and_marks_the_copy(emulator, stack, zone, alerts):
    source = Source(emulator, is_cluster=False)
    made = run(stack, source.copy_input(zone, "new"))
    assert made.status == "SUCCEEDED", (made.error, made.cause)

    result = run(stack, source.copy_input(zone, "modify", modify={
        "masterPassword": "rotate", "deletionProtection": True, "backupRetentionPeriod": 0}))

    assert result.status == "SUCCEEDED", (result.error, result.cause)
    copy = made.output["copy"]["identifier"]
    described = emulator.client("rds").describe_db_instances(DBInstanceIdentifier=copy)["DBInstances"][0]
    assert described["DeletionProtection"] is True and described["BackupRetentionPeriod"] == 0
    secret_arn = result.output["password"]["secretArn"]
    secret = json.loads(emulator.client("secretsmanager").get_secret_value(SecretId=secret_arn)["SecretString"])
    assert secret["host"] == described["Endpoint"]["Address"] and secret["username"] == described["MasterUsername"]
    assert secret["password"] not in json.dumps(result.events, default=str), "the password is in the execution history"
    assert source.copies()[0].stage == "modified"
    assert {"Set a new master password", "Protect the copy", "Modify the copy"} <= set(result.entered_states)


def test_a_new_copy_with_a_modify_stage_gets_it_at_once(emulator, stack, zone, verify, alerts):
    source = Source(emulator, is_cluster=True)

    result = run(stack, source.copy_input(zone, "new", readers=0, verify={"functionArn": verify.passes},
                                          modify={"deletionProtection": True, "masterPassword": "rotate"}))

    assert result.status == "SUCCEEDED", (result.error, result.cause)
    (told,) = [call.event for call in emulator.runtime.invocations if call.logical_id == "smoke-query-passes"]
    assert told["masterUserSecretArn"] == result.output["password"]["secretArn"], "the verify function can sign in"
    (copy,) = source.copies()
    assert copy.members == (f"{copy.identifier}-1",) and copy.stage == "modified"
    cluster = emulator.client("rds").describe_db_clusters(DBClusterIdentifier=copy.identifier)["DBClusters"][0]
    assert cluster["DeletionProtection"] is True
    assert result.output["report"]["masterUserSecretArn"] == result.output["password"]["secretArn"]


# -- faults ----------------------------------------------------------------------------------------------------


def _wait_for_approval_task(stack: Deployment, execution_arn: str) -> str:
    sfn = stack.client("stepfunctions")
    deadline = time.monotonic() + 60  # a loaded machine may take a while to reach the approval
    while time.monotonic() < deadline:
        for event in sfn.get_execution_history(executionArn=execution_arn, maxResults=1000)["events"]:
            details = event.get("taskScheduledEventDetails")
            if details and "taskToken" in details.get("parameters", ""):
                return json.loads(details["parameters"])["Payload"]["taskToken"]
        time.sleep(0.02)
    raise AssertionError("the run never waited for an approval")


def _answer(stack: Deployment, execution_arn: str, answer: str) -> None:
    token = _wait_for_approval_task(stack, execution_arn)
    sfn = stack.client("stepfunctions")
    if answer == "approve":
        sfn.send_task_success(taskToken=token, output=json.dumps({"approved": True, "by": "tester"}))
    else:
        sfn.send_task_failure(taskToken=token, error="ApprovalRejected", cause="not today")


def test_a_name_taken_while_the_copy_waited_for_approval_fails_the_promotion_and_removes_the_copy(emulator, stack, zone, alerts):
    source = Source(emulator, is_cluster=False)
    arn = stack.start(MACHINE, source.copy_input(zone, approve=True), name=f"copy-{uuid.uuid4().hex[:10]}")
    _wait_for_approval_task(stack, arn)
    _put_record(emulator, zone, source.record_name, "A", "10.0.0.9")  # someone else's record, meanwhile
    _answer(stack, arn, "approve")

    result = stack.wait(arn)

    assert result.status == "FAILED" and result.error == "DnsOwnershipError", (result.error, result.cause)
    assert "Remove the half-made copy" in result.entered_states
    assert source.records(zone) == {"A": ["10.0.0.9"]}, "the other record is untouched"


def test_a_dns_change_that_never_syncs_fails_the_run_and_keeps_the_promoted_copy(emulator, stack, zone, alerts):
    from trapheus_local import strict_route53

    source = Source(emulator, is_cluster=False)
    model = strict_route53.current()
    propagation, model.propagation_seconds = model.propagation_seconds, 10.0**9
    try:
        result = run(stack, source.copy_input(zone))
    finally:
        model.propagation_seconds = propagation

    assert result.status == "FAILED" and result.error == "WaitTimeoutError", (result.error, result.cause)
    assert {"Record the DNS timeout", "Record the failure after promotion"} <= set(result.entered_states)
    assert "Remove the half-made copy" not in result.entered_states, "DNS may already answer with this copy"
    (copy,) = source.copies()
    assert copy.status == "available"
    assert alerts.name(source.lifecycle)


def test_a_copy_that_ends_failed_is_removed_and_the_run_fails(emulator, stack, zone, alerts):
    source = Source(emulator, is_cluster=False)
    emulator.latency.end_status("RestoreDBInstanceFromDBSnapshot", None, "failed")

    result = run(stack, source.copy_input(zone))

    assert result.status == "FAILED" and result.error == "DatabaseFailedError", (result.error, result.cause)
    assert {"Record the copy failure", "Remove the half-made copy"} <= set(result.entered_states)
    assert "CNAME" not in source.records(zone) and source.capture() == source.before


def test_a_copy_that_never_becomes_available_times_out_and_is_removed(emulator, stack, zone, alerts):
    source = Source(emulator, is_cluster=False)
    emulator.latency.end_status("RestoreDBInstanceFromDBSnapshot", None, "maintenance")  # never usable, never failed

    result = run(stack, source.copy_input(zone))

    assert result.status == "FAILED" and result.error == "WaitTimeoutError", (result.error, result.cause)
    assert {"Record the copy timeout", "Remove the half-made copy"} <= set(result.entered_states)
    assert "CNAME" not in source.records(zone)


API_ERROR = "InvalidDBInstanceState"  # not transient: neither the SDK nor the workflow retries it
# every mutating RDS call of a refresh (and of its retire stage), each failing once, in turn
@dataclass(frozen=True)
class Step:
    operation: str
    state: str
    before_promotion: bool
    is_cluster: bool = False
    extra: dict = field(default_factory=dict)
    where: Any = None  # (working copy, call parameters) -> does the fault hit this call


def _tagging(stage: str) -> Any:
    return lambda working, params: any(t.get("Value") == stage for t in params.get("Tags", []))


def _on_the_new_copy(working: str, params: dict) -> bool:
    return working not in json.dumps(params, default=str)


# every mutating RDS call of a refresh (and of its retire stage), each failing once, in turn
MUTATING_STEPS = {
    "make the copy": Step("RestoreDBInstanceFromDBSnapshot", "Make the copy", True),
    "add the members": Step("CreateDBInstance", "Add the members", True, is_cluster=True),
    "configure the copy": Step("ModifyDBInstance", "Configure the copy", True, where=_on_the_new_copy),
    "set the password": Step("ModifyDBInstance", "Set a new master password", True, extra={"modify": {"masterPassword": "rotate"}},
                             where=lambda working, params: "MasterUserPassword" in params),
    "protect the copy": Step("ModifyDBInstance", "Protect the copy", True, extra={"modify": {"deletionProtection": True}},
                             where=lambda working, params: params.get("DeletionProtection") is True),
    "tag its stage": Step("AddTagsToResource", "Tag the copy's stage", True, where=_tagging("new")),
    "mark it promoted": Step("AddTagsToResource", "Mark the copy promoted", False, where=_tagging("promoted")),
    "retire the old copy": Step("DeleteDBInstance", "Retire the old copies", False),
}


@pytest.mark.parametrize("name", list(MUTATING_STEPS))
def test_a_failing_step_never_loses_the_source_or_the_working_copy(emulator, stack, zone, alerts, name):
    step = MUTATING_STEPS[name]
    source = Source(emulator, is_cluster=step.is_cluster)
    first = run(stack, source.copy_input(zone))
    assert first.status == "SUCCEEDED", (first.error, first.cause)
    working = first.output["copy"]["identifier"]
    where = step.where
    emulator.latency.fail_api(step.operation, code=API_ERROR, message="injected", times=1,
                              where=(lambda params: where(working, params)) if where else None)

    result = run(stack, source.copy_input(zone, **step.extra))

    assert result.status == "FAILED", step.state
    assert step.state in result.entered_states
    assert source.capture() == source.before, "the source is untouched"
    endpoint = {c.identifier: c.endpoint for c in source.copies()}
    assert source.records(zone)["CNAME"][0] in endpoint.values(), "DNS points at a copy that exists"
    if step.before_promotion:
        assert "Remove the half-made copy" in result.entered_states
        assert source.records(zone)["CNAME"] == [endpoint[working]], "DNS still points at the working copy"
        assert all(c.status == "deleting" for c in source.copies() if c.identifier != working), "the half-made copy goes"
    else:
        assert "Remove the half-made copy" not in result.entered_states
    assert alerts.name(source.lifecycle)


def test_a_drill_whose_copy_cannot_be_removed_fails_and_says_so(emulator, stack, zone, alerts):
    source = Source(emulator, is_cluster=False)
    emulator.latency.fail_api("DeleteDBInstance", code=API_ERROR, message="injected", times=1)

    result = run(stack, source.copy_input(zone, "drill"))

    assert result.status == "FAILED" and "Remove the drill's copy" in result.entered_states, (result.error, result.cause)
    assert source.capture() == source.before and alerts.name(source.lifecycle)


def test_alerts_that_cannot_be_sent_do_not_change_how_a_run_ends(emulator, stack, slack, zone, alerts):
    from support.restore_runs import SENDER

    ses, sns = emulator.client("ses"), emulator.client("sns")
    topic = stack.physical_id("AlertTopic")
    ses.delete_identity(Identity=SENDER)
    slack.always[SLACK_PATH] = 404
    sns.delete_topic(TopicArn=topic)
    source = Source(emulator, is_cluster=False)
    try:
        refused = run(stack, {"lifecycle": "x-staging", "action": "copy", "isCluster": False})
        arn = stack.start(MACHINE, source.copy_input(zone, approve=True), name=f"copy-{uuid.uuid4().hex[:10]}")
        _answer(stack, arn, "reject")
        rejected = stack.wait(arn)
    finally:
        ses.verify_email_identity(EmailAddress=SENDER)
        slack.always.pop(SLACK_PATH)
        sns.create_topic(Name=topic.split(":")[-1])

    assert (refused.status, refused.error) == ("FAILED", "InvalidInputError")
    assert {"Email alert not sent", "Slack alert not sent", "SNS alert not sent"} <= set(refused.entered_states)
    assert {"Request not sent by email", "Request not sent by Slack", "Request not sent by SNS"} <= set(rejected.entered_states)
    assert rejected.status == "FAILED" and rejected.error == "ApprovalRejected"


def test_a_promotion_that_would_leave_a_name_on_the_copy_it_replaces_is_refused(emulator, stack, zone, alerts):
    source = Source(emulator, is_cluster=False)
    second_name = {"hostedZoneId": zone, "recordName": f"reports.{source.record_name}", "ttl": 60}
    both = source.copy_input(zone)
    both["dns"] = [both["dns"], second_name]
    first = run(stack, both)
    assert first.status == "SUCCEEDED", (first.error, first.cause)

    one = run(stack, source.copy_input(zone))

    assert one.status == "FAILED" and one.error == "InvalidInputError" and "also reached by" in one.cause
    assert [c.identifier for c in source.copies()] == [first.output["copy"]["identifier"]], "nothing was made"


def test_a_lock_that_cannot_be_taken_fails_the_run_with_an_alert_and_changes_nothing(emulator, stack, zone, alerts):
    from trapheus_local import strict_dynamodb

    source = Source(emulator, is_cluster=False)
    strict_dynamodb.current().fail("PutItem", stack.physical_id("LockTable"), code="AccessDeniedException", times=1)

    result = run(stack, source.copy_input(zone))

    assert result.status == "FAILED" and result.error == "DynamoDB.AccessDeniedException", (result.error, result.cause)
    assert not emulator.rds_calls.mutating() and not source.copies()
    assert alerts.name(source.lifecycle)
