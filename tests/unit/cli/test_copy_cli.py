"""``trapheus copy``: the input each command sends, following a run and its report, plans, approvals against a real
waitForTaskToken task, and the copies found by their tags."""

from __future__ import annotations

import copy as deep
import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from rich.console import Console
from typer.testing import CliRunner

from trapheus.copies import tags
from trapheus_cli import copies, plan, reports
from trapheus_cli.main import app
from trapheus_local import Emulator

runner = CliRunner()
WIDE = {"COLUMNS": "220"}
VERIFY = "arn:aws:lambda:us-east-1:123456789012:function:ledger-smoke-query"
SNAPSHOT_ARN = "arn:aws:rds:us-east-1:111122223333:cluster-snapshot:ledger-dr-2026-11-30"
COPY_MACHINE = "trapheus-CopyStateMachine-Qr12St34"

REPORT = {
    "workflow": "copy", "action": "refresh", "lifecycle": "ledger-staging", "source": "ledger", "isCluster": True,
    "copy": "ledger-staging-20261130-0412",
    "members": ["ledger-staging-20261130-0412-1", "ledger-staging-20261130-0412-2"],
    "from": {"snapshot": "rds:ledger-2026-11-30-03-00"}, "snapshotTime": "2026-11-30T03:00:12Z",
    "endpoint": "ledger-staging-20261130-0412.cluster-abc.us-east-1.rds.amazonaws.com", "port": 5432,
    "masterUserSecretArn": None,
    "promoted": [{"hostedZoneId": "Z123", "recordName": "ledger-staging.db.example.internal",
                  "value": "ledger-staging-20261130-0412.cluster-abc.us-east-1.rds.amazonaws.com"}],
    "previous": "ledger-staging-20261129-0300",
    "retired": [{"identifier": "ledger-staging-20261129-0300", "finalSnapshot": "ledger-staging-20261129-0300-final",
                 "result": "deleting"}],
    "checks": [{"check": "twin", "passed": True},
               {"check": "verify function", "passed": True, "detail": "42 rows in orders"}],
    "startedAt": "2026-11-30T04:12:00Z", "availableAt": "2026-11-30T04:31:00Z", "endedAt": "2026-11-30T04:33:10Z",
    "rtoSeconds": None, "rpoSeconds": None, "skipped": None,
}  # fmt: skip
PLAN = {
    "copy": "ledger-staging-20261130-0412", "members": ["ledger-staging-20261130-0412-1"],
    "from": {"snapshot": "rds:ledger-2026-11-30-03-00"},
    "configuration": {"settings": {"DBClusterInstanceClass": "db.r6g.large", "Port": 5432}},
    "dns": [{"hostedZoneId": "Z123", "recordName": "ledger-staging.db.example.internal",
             "current": "ledger-staging-20261129-0300.cluster-abc.us-east-1.rds.amazonaws.com",
             "value": "ledger-staging-20261130-0412.cluster-abc.us-east-1.rds.amazonaws.com"}],
    "wouldRetire": [{"identifier": "ledger-staging-20261128-0300", "finalSnapshot": True}],
    "blockers": [],
}  # fmt: skip
BLOCKED = {**PLAN, "blockers": [{"error": "DnsOwnershipError", "message": "the CNAME has no trapheus TXT record"}]}
COPY_LIKE = {
    "StartAt": "Is it a plan?",
    "States": {
        "Is it a plan?": {
            "Type": "Choice",
            "Choices": [
                {"And": [{"Variable": "$.plan", "IsPresent": True},
                         {"Variable": "$.plan.lifecycle", "StringEquals": "blocked"}], "Next": "Refuse the plan"},
                {"Variable": "$.plan", "IsPresent": True, "Next": "Answer the plan"},
                {"Variable": "$.lifecycle", "StringEquals": "broken", "Next": "Report the failure"},
            ],
            "Default": "Report the copy",
        },
        "Answer the plan": {"Type": "Pass", "Result": {"plan": PLAN}, "End": True},
        "Refuse the plan": {"Type": "Pass", "Result": {"plan": BLOCKED}, "End": True},
        "Report the copy": {"Type": "Pass", "Result": {"report": REPORT}, "End": True},
        "Report the failure": {"Type": "Fail", "Error": "CopyError", "Cause": "the copy came up failed"},
    },
}  # fmt: skip


@pytest.fixture
def copy_machine(stepfunctions):
    """The restore-like machine of conftest.py, and a copy-like one beside it (the one copy commands must find)."""
    stepfunctions.create_state_machine(name=COPY_MACHINE, definition=json.dumps(COPY_LIKE),
                                       roleArn="arn:aws:iam::123456789012:role/trapheus-copy")  # fmt: skip
    return stepfunctions


def copy_command(*args: str):
    return runner.invoke(app, ["copy", *args, "--poll-seconds", "0"], env=WIDE)


def machine_arn(stepfunctions, part: str) -> str:
    return next(m["stateMachineArn"] for m in stepfunctions.list_state_machines()["stateMachines"] if part in m["name"])


def sent(stepfunctions) -> list[dict]:
    """The inputs the copy machine was started with."""
    listed = stepfunctions.list_executions(stateMachineArn=machine_arn(stepfunctions, "Copy"))["executions"]
    return [json.loads(stepfunctions.describe_execution(executionArn=e["executionArn"])["input"]) for e in listed]


def started_with(stepfunctions, *args: str) -> dict:
    result = copy_command(*args, "--no-wait", "--json")
    assert result.exit_code == 0, result.output
    (execution_input,) = sent(stepfunctions)
    assert json.loads(result.output)["input"] == execution_input
    return execution_input


# -- the input each command sends ------------------------------------------------------------------------


def test_refresh_sends_the_console_input_of_the_spec(copy_machine):
    assert started_with(copy_machine, "refresh", "ledger", "--cluster", "--lifecycle", "ledger-staging", "--from", "latest",
                        "--dns", "Z123:ledger-staging.db.example.internal:60") == {
        "source": "ledger", "isCluster": True, "lifecycle": "ledger-staging", "action": "refresh",
        "from": {"snapshot": "latest"},
        "dns": {"hostedZoneId": "Z123", "recordName": "ledger-staging.db.example.internal", "ttl": 60}}  # fmt: skip
    assert machine_arn(copy_machine, "Restore")  # beside it, and not started
    assert copy_machine.list_executions(stateMachineArn=machine_arn(copy_machine, "Restore"))["executions"] == []


def test_new_sends_every_option_it_is_given_under_the_specs_names(copy_machine):
    assert started_with(
        copy_machine, "new", "orders-db", "--instance", "--lifecycle", "orders-dev", "--to", "2026-11-30T04:00:00Z",
        "--dns", "Z123:orders-dev.db.example.internal", "--dns", "Z456:orders.dev.example.com:300",
        "--suffix", "b2", "--minimum-age-hours", "6.5", "--instance-class", "db.t4g.medium", "--readers", "2",
        "--verify", VERIFY, "--approve", "--approval-timeout-minutes", "90", "--keep", "1", "--no-final-snapshot",
        "--retire-after-minutes", "30",
    ) == {
        "source": "orders-db", "isCluster": False, "lifecycle": "orders-dev", "action": "new",
        "from": {"pointInTime": "2026-11-30T04:00:00Z"},
        "dns": [{"hostedZoneId": "Z123", "recordName": "orders-dev.db.example.internal"},
                {"hostedZoneId": "Z456", "recordName": "orders.dev.example.com", "ttl": 300}],
        "suffix": "b2", "minimumAgeHours": 6.5, "instanceClass": "db.t4g.medium", "readers": 2,
        "verify": {"functionArn": VERIFY}, "approve": True, "approvalTimeoutMinutes": 90, "keep": 1,
        "finalSnapshot": False, "retireAfterMinutes": 30,
    }  # fmt: skip


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        (["clone", "ledger", "--cluster", "--lifecycle", "ledger-dev"],
         {"source": "ledger", "isCluster": True, "lifecycle": "ledger-dev", "action": "clone"}),
        (["new", "ledger", "--cluster", "--lifecycle", "ledger-dev", "--clone"],
         {"source": "ledger", "isCluster": True, "lifecycle": "ledger-dev", "action": "new", "from": {"clone": True}}),
        (["drill", "--cluster", "--lifecycle", "ledger-drill", "--from", SNAPSHOT_ARN, "--verify", VERIFY],
         {"isCluster": True, "lifecycle": "ledger-drill", "action": "drill", "from": {"snapshot": SNAPSHOT_ARN},
          "verify": {"functionArn": VERIFY}}),
        (["drill", "orders-db", "--lifecycle", "orders-drill", "--to", "latest"],
         {"source": "orders-db", "isCluster": False, "lifecycle": "orders-drill", "action": "drill",
          "from": {"pointInTime": "latest"}}),
        (["promote", "--lifecycle", "ledger-staging", "--copy", "ledger-staging-20261130-0412",
          "--dns", "Z123:ledger-staging.db.example.internal", "--adopt"],
         {"lifecycle": "ledger-staging", "action": "promote",
          "dns": {"hostedZoneId": "Z123", "recordName": "ledger-staging.db.example.internal"},
          "copy": "ledger-staging-20261130-0412", "adopt": True}),
        (["promote", "--lifecycle", "ledger-staging"], {"lifecycle": "ledger-staging", "action": "promote"}),
        (["retire", "--lifecycle", "ledger-staging", "--keep", "2", "--no-final-snapshot", "--cluster"],
         {"isCluster": True, "lifecycle": "ledger-staging", "action": "retire", "keep": 2, "finalSnapshot": False}),
        (["retire", "--lifecycle", "ledger-staging"], {"lifecycle": "ledger-staging", "action": "retire"}),
    ],
    ids=["clone", "new as a clone", "drill from a DR snapshot ARN", "drill to a point in time", "promote",
         "promote the newest", "retire", "retire with defaults"],
)  # fmt: skip
def test_each_command_sends_exactly_its_input(copy_machine, arguments, expected):
    assert started_with(copy_machine, *arguments) == expected


@pytest.mark.parametrize(
    ("arguments", "says"),
    [
        (["new", "ledger", "--lifecycle", "l", "--from", "latest", "--to", "latest"], "give one of them"),
        (["new", "ledger", "--lifecycle", "l", "--dns", "Z123"], "is not ZONE:NAME"),
        (["new", "ledger", "--lifecycle", "l", "--dns", "Z123:name:soon"], "TTL"),
        (["new", "ledger"], "--lifecycle"),
        (["retire", "--lifecycle", "l", "--keep", "-1"], "--keep"),
    ],
    ids=["two origins", "dns without a name", "dns ttl not a number", "no lifecycle", "negative keep"],
)
def test_what_cannot_be_built_starts_nothing(copy_machine, arguments, says):
    result = copy_command(*arguments)

    assert result.exit_code == 2
    assert says in result.output
    assert sent(copy_machine) == []


# -- following a run, its report, plans ----------------------------------------------------------------------


def test_a_followed_run_shows_its_steps_and_then_the_copy_report(copy_machine):
    result = copy_command("refresh", "ledger", "--cluster", "--lifecycle", "ledger-staging")

    assert result.exit_code == 0, result.output
    for expected in ("Report the copy", "SUCCEEDED", "copy refresh", "ledger-staging-20261130-0412",
                     "ledger-staging-20261130-0412.cluster-abc.us-east-1.rds.amazonaws.com:5432", "promoted",
                     "ledger-staging.db.example.internal", "retired", "ledger-staging-20261129-0300-final",
                     "verify function", "42 rows in orders"):  # fmt: skip
        assert expected in result.output, expected
    (name,) = [e["name"] for e in copy_machine.list_executions(stateMachineArn=machine_arn(copy_machine, "Copy"))["executions"]]
    assert name.startswith("ledger-staging-refresh-")


def test_a_followed_run_as_json_carries_the_report_and_a_failure_exits_1(copy_machine):
    good = copy_command("refresh", "ledger", "--cluster", "--lifecycle", "ledger-staging", "--json")
    bad = copy_command("refresh", "ledger", "--cluster", "--lifecycle", "broken", "--json")

    assert good.exit_code == 0, good.output
    assert json.loads(good.output)["report"] == REPORT
    assert bad.exit_code == 1
    failed = json.loads(bad.output)
    assert (failed["status"], failed["error"], failed["report"]) == ("FAILED", "CopyError", None)


def test_a_plan_wraps_the_copy_input_and_shows_what_the_run_would_do(copy_machine):
    result = copy_command("refresh", "ledger", "--cluster", "--lifecycle", "ledger-staging", "--from", "latest",
                          "--dns", "Z123:ledger-staging.db.example.internal", "--plan")  # fmt: skip

    assert result.exit_code == 0, result.output
    assert sent(copy_machine) == [{"plan": {
        "source": "ledger", "isCluster": True, "lifecycle": "ledger-staging", "action": "refresh",
        "from": {"snapshot": "latest"}, "dns": {"hostedZoneId": "Z123", "recordName": "ledger-staging.db.example.internal"}}}]  # fmt: skip
    for expected in ("plan: copy ledger-staging-20261130-0412", "snapshot=rds:ledger-2026-11-30-03-00",
                     "DBClusterInstanceClass", "db.r6g.large", "DNS names it would point at the copy",
                     "ledger-staging-20261129-0300.cluster-abc.us-east-1.rds.amazonaws.com", "current", "copies it would retire", "ledger-staging-20261128-0300",
                     "no blockers"):  # fmt: skip
        assert expected in result.output, expected


def test_a_blocked_plan_lists_its_blockers_and_exits_1(copy_machine):
    shown = copy_command("promote", "--lifecycle", "blocked", "--plan")
    as_json = copy_command("promote", "--lifecycle", "blocked", "--plan", "--json")

    assert shown.exit_code == 1, shown.output
    assert "blockers (1)" in shown.output and "DnsOwnershipError" in shown.output
    assert as_json.exit_code == 1
    assert json.loads(as_json.output)["plan"]["blockers"][0]["error"] == "DnsOwnershipError"


def test_trapheus_plan_plans_a_copy_run_from_its_input(copy_machine, tmp_path):
    document = {"source": "ledger", "isCluster": True, "lifecycle": "ledger-staging", "action": "refresh",
                "dns": {"hostedZoneId": "Z123", "recordName": "ledger-staging.db.example.internal"}}  # fmt: skip
    given = tmp_path / "refresh.json"
    given.write_text(json.dumps(document))

    result = runner.invoke(app, ["plan", "--copy", f"@{given}", "--poll-seconds", "0"], env=WIDE)
    neither = runner.invoke(app, ["plan"], env=WIDE)

    assert result.exit_code == 0, result.output
    assert sent(copy_machine) == [{"plan": document}]
    assert "plan: copy ledger-staging-20261130-0412" in result.output
    assert neither.exit_code == 2 and "--copy" in neither.output


def test_a_plan_the_workflow_does_not_answer_is_an_error(copy_machine):
    result = copy_command("refresh", "ledger", "--lifecycle", "broken", "--plan", "--json")  # answered by "Answer the plan"
    assert result.exit_code == 0, result.output

    no_plan = deep.deepcopy(COPY_LIKE)
    no_plan["States"]["Answer the plan"]["Result"] = {"report": REPORT}
    copy_machine.update_state_machine(stateMachineArn=machine_arn(copy_machine, "Copy"), definition=json.dumps(no_plan))
    result = copy_command("refresh", "ledger", "--lifecycle", "ledger-staging", "--plan", "--json")

    assert result.exit_code == 2
    assert "not a copy plan" in json.loads(result.output)["error"]


def test_report_command_renders_a_copy_run(copy_machine):
    started = json.loads(copy_command("refresh", "ledger", "--cluster", "--lifecycle", "ledger-staging", "--json").output)

    result = runner.invoke(app, ["report", started["executionArn"]], env=WIDE)

    assert result.exit_code == 0, result.output
    assert "copy refresh" in result.output and "ledger-staging-20261129-0300" in result.output


def rendered(report: dict) -> str:
    console = Console(width=200, record=True)
    console.print(reports.render(report, "run-1 (SUCCEEDED)"))
    return console.export_text()


def test_a_drill_report_shows_its_rto_and_rpo_and_no_promotion():
    text = rendered({**REPORT, "action": "drill", "promoted": [], "previous": None, "retired": [
        {"identifier": "ledger-drill-20261130-0412", "finalSnapshot": None, "result": "deleting"}],
        "rtoSeconds": 1234.0, "rpoSeconds": 3600.0})  # fmt: skip

    assert "copy drill" in text
    assert "RTO" in text and "20m34s" in text
    assert "RPO" in text and "1h00m00s" in text
    assert "promoted" not in text
    assert "ledger-drill-20261130-0412" in text and "none" in text  # retired without a final snapshot, said so


def test_a_skipped_run_says_why_first():
    text = rendered({"workflow": "copy", "action": "refresh", "lifecycle": "ledger-staging", "source": "ledger",
                     "isCluster": True, "copy": None, "promoted": [], "retired": [], "checks": [],
                     "skipped": "the newest copy ledger-staging-20261130-0300 is 2.1 h old, younger than minimumAgeHours 6"})  # fmt: skip

    assert text.startswith("skipped, nothing changed: the newest copy ledger-staging-20261130-0300 is 2.1 h old")
    assert "RTO" not in text


def test_a_failed_check_and_stages_are_shown():
    text = rendered({**REPORT, "stages": [{"stage": "make", "seconds": 900}, "verify"],
                     "checks": [{"check": "verify function", "passed": False, "detail": "no rows"}]})  # fmt: skip

    assert "stages" in text and "make" in text and "900" in text
    assert "failed" in text and "no rows" in text


def test_a_copy_report_is_found_in_an_output_without_items():
    assert reports._report_in(json.dumps({"report": REPORT})) == REPORT
    assert reports._report_in(json.dumps({"report": {"workflow": "other"}})) is None


def test_the_copy_plan_of_a_bare_configuration_renders_its_settings():
    console = Console(width=200, record=True)
    console.print(plan.render_copy({**PLAN, "configuration": {"DBInstanceClass": "db.t4g.medium"},
                                    "wouldRetire": ["orders-dev-20261101-0300"]}))  # fmt: skip
    text = console.export_text()

    assert "DBInstanceClass" in text and "db.t4g.medium" in text
    assert "orders-dev-20261101-0300" in text


# -- approvals against a real waitForTaskToken task ------------------------------------------------------------

APPROVAL_LIKE = {
    "StartAt": "Wait for the approval",
    "States": {
        "Wait for the approval": {
            "Type": "Task", "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
            "Parameters": {"FunctionName": "${NotifyFunctionArn}",
                           "Payload": {"taskToken.$": "$$.Task.Token", "copy.$": "$.copy"}},
            "TimeoutSeconds": 3600, "ResultPath": "$.approval", "Next": "Promote the copy",
        },
        "Promote the copy": {"Type": "Pass", "End": True},
    },
}  # fmt: skip


@pytest.fixture
def emulator() -> Iterator[Emulator]:
    from trapheus import clients

    clients.reset()
    with Emulator() as aws:
        yield aws
    clients.reset()


@pytest.fixture
def waiting_run(emulator, tmp_path: Path):
    """A run of a copy-like machine paused in "Wait for the approval" (its notify function has answered)."""
    (tmp_path / "app.py").write_text("def handler(event, context):\n    return {'notified': event['copy']}\n")
    function = emulator.serve_function("copy-approval-notify", tmp_path)
    definition = json.dumps(APPROVAL_LIKE).replace("${NotifyFunctionArn}", function)
    sfn = emulator.client("stepfunctions")
    machine = sfn.create_state_machine(name=COPY_MACHINE, definition=definition,
                                       roleArn="arn:aws:iam::123456789012:role/trapheus-copy")["stateMachineArn"]  # fmt: skip
    arn = sfn.start_execution(stateMachineArn=machine, name="ledger-staging-refresh-1",
                              input=json.dumps({"copy": "ledger-staging-20261130-0412"}))["executionArn"]  # fmt: skip
    deadline = time.monotonic() + 20
    while not any(e["type"] == "TaskSubmitted" for e in sfn.get_execution_history(executionArn=arn)["events"]):
        assert time.monotonic() < deadline, "the approval task was never submitted"
        time.sleep(0.02)
    return sfn, arn


def ended(emulator: Emulator, sfn, arn: str) -> dict:
    assert emulator.execution_ended(arn).wait(20), "the run did not end"
    return sfn.describe_execution(executionArn=arn)


def test_approve_sends_the_token_with_the_caller_and_the_run_goes_on(emulator, waiting_run):
    sfn, arn = waiting_run
    caller = emulator.client("sts").get_caller_identity()["Arn"]

    result = runner.invoke(app, ["copy", "approve", "ledger-staging-refresh-1", "--json"])  # by name

    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == {"executionArn": arn, "approved": True, "by": caller}
    described = ended(emulator, sfn, arn)
    assert described["status"] == "SUCCEEDED"
    assert json.loads(described["output"])["approval"] == {"approved": True, "by": caller}


def test_reject_fails_the_task_with_approval_rejected_and_the_reason(emulator, waiting_run, monkeypatch):
    from moto.stepfunctions.responses import StepFunctionResponse

    sfn, arn = waiting_run
    received = []  # moto drops the cause on its way to the run: what reached Step Functions is checked here
    original = StepFunctionResponse.send_task_failure
    monkeypatch.setattr(StepFunctionResponse, "send_task_failure",
                        lambda self: received.append(self._get_param("cause")) or original(self))  # fmt: skip

    result = runner.invoke(app, ["copy", "reject", arn, "--reason", "the schema migration is not in yet"])

    assert result.exit_code == 0, result.output
    assert "rejected the promotion of run ledger-staging-refresh-1" in result.output
    described = ended(emulator, sfn, arn)
    assert (described["status"], described["error"]) == ("FAILED", "ApprovalRejected")
    assert received == ["the schema migration is not in yet"]


def test_a_run_not_waiting_for_an_approval_is_a_clear_error(emulator, waiting_run):
    sfn, arn = waiting_run
    assert runner.invoke(app, ["copy", "approve", arn]).exit_code == 0
    ended(emulator, sfn, arn)

    again = runner.invoke(app, ["copy", "reject", arn, "--json"])

    assert again.exit_code == 2
    assert json.loads(again.output)["error"] == "the run ledger-staging-refresh-1 is not waiting for an approval (SUCCEEDED)"


def test_the_token_is_the_newest_scheduled_approvals_until_that_task_ends():
    def event(number: int, kind: str, **details) -> dict:
        return {"id": number, "type": kind, **details}

    entered = event(2, "TaskStateEntered", stateEnteredEventDetails={"name": copies.APPROVAL_STATE})
    scheduled = event(3, "TaskScheduled", taskScheduledEventDetails={
        "parameters": json.dumps({"FunctionName": "f", "Payload": {"taskToken": "t-1"}})})  # fmt: skip
    other = event(2, "TaskStateEntered", stateEnteredEventDetails={"name": "Make the copy"})

    assert copies.pending_token([entered, scheduled, event(4, "TaskStarted"), event(5, "TaskSubmitted")]) == "t-1"
    assert copies.pending_token([entered, scheduled, event(4, "TaskSucceeded")]) is None
    assert copies.pending_token([entered, scheduled, event(4, "TaskTimedOut")]) is None
    assert copies.pending_token([other, event(3, "TaskScheduled", taskScheduledEventDetails={"parameters": "{}"})]) is None
    assert copies.pending_token([]) is None


# -- the copies found by their tags ------------------------------------------------------------------------

ZONE_NAME = "db.example.internal"


def copy_tags(lifecycle: str, source: str, stage: str, created: str) -> list[dict]:
    return [{"Key": tags.LIFECYCLE, "Value": lifecycle}, {"Key": tags.SOURCE, "Value": source},
            {"Key": tags.STAGE, "Value": stage}, {"Key": tags.CREATED, "Value": created}]  # fmt: skip


def make_instance(rds, identifier: str, extra_tags: list[dict] | None = None, **settings) -> None:
    rds.create_db_instance(DBInstanceIdentifier=identifier, DBInstanceClass="db.t3.micro", Engine="postgres",
                           MasterUsername="trapheus", MasterUserPassword="not-a-secret-1", AllocatedStorage=20,
                           Tags=[{"Key": "team", "Value": "ledger"}, *(extra_tags or [])], **settings)  # fmt: skip


def make_cluster(rds, identifier: str, members: int, extra_tags: list[dict]) -> None:
    rds.create_db_cluster(DBClusterIdentifier=identifier, Engine="aurora-postgresql", MasterUsername="trapheus",
                          MasterUserPassword="not-a-secret-1", Tags=extra_tags)  # fmt: skip
    for number in range(1, members + 1):
        rds.create_db_instance(DBInstanceIdentifier=f"{identifier}-{number}", DBClusterIdentifier=identifier,
                               Engine="aurora-postgresql", DBInstanceClass="db.r6g.large", Tags=extra_tags)  # fmt: skip


@pytest.fixture
def tagged(emulator):
    """Two lifecycles' copies (instances, a cluster with members), their sources, and a CNAME to one copy."""
    rds = emulator.client("rds")
    with emulator.settled():
        make_instance(rds, "orders-db")
        make_instance(rds, "orders-dev-20261129-0300", copy_tags("orders-dev", "orders-db", "retired", "2026-11-29T03:00:00Z"))
        make_instance(rds, "orders-dev-20261130-0300", copy_tags("orders-dev", "orders-db", "promoted", "2026-11-30T03:00:00Z"))
        make_cluster(rds, "ledger-staging-20261130-0412", 2,
                     copy_tags("ledger-staging", "ledger", "new", "2026-11-30T04:12:00Z"))
    emulator.settle()
    promoted = rds.describe_db_instances(DBInstanceIdentifier="orders-dev-20261130-0300")["DBInstances"][0]
    route53 = emulator.client("route53")
    zone = route53.create_hosted_zone(Name=ZONE_NAME, CallerReference="copies")["HostedZone"]["Id"].split("/")[-1]
    route53.change_resource_record_sets(HostedZoneId=zone, ChangeBatch={"Changes": [
        {"Action": "UPSERT", "ResourceRecordSet": {"Name": f"orders-dev.{ZONE_NAME}", "Type": "CNAME", "TTL": 60,
                                                    "ResourceRecords": [{"Value": promoted["Endpoint"]["Address"]}]}},
        {"Action": "UPSERT", "ResourceRecordSet": {"Name": f"_trapheus.orders-dev.{ZONE_NAME}", "Type": "TXT", "TTL": 60,
                                                    "ResourceRecords": [{"Value": tags.ownership_marker("orders-dev")}]}},
    ]})  # fmt: skip
    return zone


def list_copies(*args: str):
    return runner.invoke(app, ["copy", "list", *args], env=WIDE)


def test_list_finds_every_copy_by_its_tags_one_table_per_lifecycle(tagged):
    result = list_copies()

    assert result.exit_code == 0, result.output
    assert "copies of ledger-staging" in result.output and "copies of orders-dev" in result.output
    lines = result.output.splitlines()
    assert any("ledger-staging-20261130-0412" in line and "cluster" in line and "new" in line for line in lines)
    assert not any("ledger-staging-20261130-0412-1" in line for line in lines)  # a member, not a copy of its own
    # the sources carry no copy tags
    assert sorted(c["identifier"] for c in json.loads(list_copies("--json").output)["copies"]) == [
        "ledger-staging-20261130-0412", "orders-dev-20261129-0300", "orders-dev-20261130-0300"]
    newest, oldest = (result.output.index(name) for name in ("orders-dev-20261130-0300", "orders-dev-20261129-0300"))
    assert newest < oldest
    assert "age" in result.output and "available" in result.output


def test_a_copys_age_is_from_its_created_tag_and_never_negative():
    from datetime import datetime, timezone

    found = copies.CopyRecord("orders-dev-20261130-0300", False, "orders-dev", "orders-db", "new",
                              "2026-11-30T03:00:00Z", "available", None, None, "arn:aws:rds:us-east-1:1:db:x")  # fmt: skip

    assert found.age_hours(datetime(2026, 12, 2, 3, 0, tzinfo=timezone.utc)) == 48.0
    assert found.age_hours(datetime(2026, 11, 30, 2, 0, tzinfo=timezone.utc)) == 0.0  # clocks apart: not -1 hour
    assert plan.readable_age(found.age_hours(datetime(2026, 12, 2, 3, 0, tzinfo=timezone.utc))) == "2.0 days"


def test_list_as_json_narrows_by_lifecycle_and_source(tagged):
    by_lifecycle = json.loads(list_copies("--lifecycle", "orders-dev", "--json").output)["copies"]
    by_source = json.loads(list_copies("--source", "ledger", "--json").output)["copies"]

    assert [(c["identifier"], c["kind"], c["stage"], c["status"]) for c in by_lifecycle] == [
        ("orders-dev-20261130-0300", "instance", "promoted", "available"),
        ("orders-dev-20261129-0300", "instance", "retired", "available")]
    assert by_lifecycle[0]["created"] == "2026-11-30T03:00:00Z" and by_lifecycle[0]["ageHours"] > 0  # the tag as written
    assert [(c["identifier"], c["kind"], c["source"]) for c in by_source] == [
        ("ledger-staging-20261130-0412", "cluster", "ledger")]


def test_list_with_dns_marks_the_copy_the_name_points_at(tagged):
    name = f"orders-dev.{ZONE_NAME}"

    shown = list_copies("--dns", f"{tagged}:{name}")
    as_json = json.loads(list_copies("--dns", f"{tagged}:{name}", "--json").output)
    nowhere = list_copies("--dns", f"{tagged}:ledger-staging.{ZONE_NAME}")

    assert shown.exit_code == 0, shown.output
    (line,) = [line for line in shown.output.splitlines() if f"← {name}" in line]
    assert "orders-dev-20261130-0300" in line
    assert {c["identifier"]: c["dns"] for c in as_json["copies"]}["orders-dev-20261130-0300"] == [name]
    assert {c["identifier"]: c["dns"] for c in as_json["copies"]}["orders-dev-20261129-0300"] == []
    assert f"ledger-staging.{ZONE_NAME} points at nothing (no CNAME)" in nowhere.output


def test_list_reads_every_page(emulator):
    rds = emulator.client("rds")
    with emulator.settled():
        for number in range(25):
            make_instance(rds, f"qa-{number:02d}", copy_tags("qa", "orders-db", "new", f"2026-11-{number + 1:02d}T00:00:00Z"))

    found = copies.find_copies(rds, lifecycle="qa", page_size=20)

    assert len(found) == 25
    assert found[0].identifier == "qa-24" and found[-1].identifier == "qa-00"


def test_no_copies_is_said_plainly(emulator):
    result = list_copies("--lifecycle", "nothing-here")
    assert result.exit_code == 0 and "no copies found" in result.output
