"""The local engine: deploying a SAM template into moto and running its state machine for real.

Runs against the small application in tests/workflow/fixtures (three functions, a
layer, a Wait loop, Retry on a custom error, Catch, Fail), plus a deploy of the
repository's own template.

These tests exercise the engine's own mechanics (deploying, in-process handlers, the
clock, and the latency and fault model the strict RDS model is built on), so they run
the emulator with the strict model off: a poll-counted ``creating`` is what they look
at. The strict model's rules have their own tests (tests/workflow/test_strict_rds.py).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from trapheus_local import Emulator
from trapheus_local.samples import make_instance
from trapheus_local.template import TemplateError

FIXTURE_TEMPLATE = Path(__file__).parent / "fixtures" / "template.yaml"
REAL_TEMPLATE = Path(__file__).resolve().parents[2] / "template.yaml"

MACHINE = "SnapshotStateMachine"
POLL_SECONDS = 30  # the fixture template's default
HAPPY_PATH = [
    "Read the settings",
    "Take the snapshot",
    "Wait for the snapshot",
    "Check the snapshot",
    "Is the snapshot available?",
    "Done",
]


@pytest.fixture
def emulator():
    """The engine as it is, without the strict RDS model (see the module docstring)."""
    from trapheus import clients

    clients.reset()
    with Emulator(strict=False) as aws:
        yield aws
    clients.reset()


@pytest.fixture
def stack(emulator: Emulator):
    return emulator.deploy(FIXTURE_TEMPLATE)


@pytest.fixture
def database(create_instance) -> str:
    return create_instance("orders-db")


def report(emulator: Emulator, deployment) -> dict[str, Any]:
    bucket = deployment.physical_id("ReportBucket")
    body = emulator.client("s3").get_object(Bucket=bucket, Key="reports/latest.json")["Body"].read()
    return json.loads(body)


# -- deploying ------------------------------------------------------------------------------------


def test_functions_get_their_template_environment_resolved(emulator, stack):
    configuration = emulator.client("lambda").get_function_configuration(FunctionName=stack.function_arn("ReportFunction"))
    variables = configuration["Environment"]["Variables"]
    assert variables["REPORT_BUCKET"] == stack.physical_id("ReportBucket")
    assert variables["REPORT_KEY_ARN"].startswith("arn:aws:kms:us-east-1:123456789012:key/")
    assert variables["WEBHOOK_SECRET_ARN"] == stack.physical_id("WebhookSecret")
    assert variables["POWERTOOLS_SERVICE_NAME"] == "fixture"  # from Globals
    assert variables["ARCHIVE_BUCKET"] == ""  # !If on a false condition
    assert configuration["Role"] == stack.resources["ReportRole"].attributes["Arn"]


def test_parameters_override_template_defaults(emulator):
    deployment = emulator.deploy(FIXTURE_TEMPLATE, {"Greeting": "bonjour", "WithArchive": "true"})
    variables = emulator.client("lambda").get_function_configuration(FunctionName=deployment.function_arn("SnapshotFunction"))[
        "Environment"
    ]["Variables"]
    assert variables["GREETING"] == "bonjour"
    archive = deployment.physical_id("ArchiveBucket")
    emulator.client("s3").head_bucket(Bucket=archive)
    report_variables = emulator.client("lambda").get_function_configuration(
        FunctionName=deployment.function_arn("ReportFunction")
    )["Environment"]["Variables"]
    assert report_variables["ARCHIVE_BUCKET"] == archive


def test_resources_behind_a_false_condition_are_not_created(stack):
    with pytest.raises(KeyError, match="ArchiveBucket"):
        stack.physical_id("ArchiveBucket")


def test_unknown_parameters_are_refused(emulator):
    with pytest.raises(TemplateError, match="NoSuchParameter"):
        emulator.deploy(FIXTURE_TEMPLATE, {"NoSuchParameter": "x"})


def test_resource_types_without_local_behaviour_are_listed(stack):
    assert stack.not_emulated == ["NotEmulatedTopic"]


def test_state_machine_is_created_from_its_asl_with_substitutions(emulator, stack):
    definition = json.loads(
        emulator.client("stepfunctions").describe_state_machine(stateMachineArn=stack.state_machine_arn(MACHINE))[
            "definition"
        ]
    )
    take = definition["States"]["Take the snapshot"]["Parameters"]["FunctionName"]
    check = definition["States"]["Check the snapshot"]["Resource"]
    assert take == stack.function_arn("SnapshotFunction")
    assert check == stack.function_arn("CheckFunction")
    assert "${" not in json.dumps(definition)


def test_a_raising_handler_is_a_function_error_named_after_its_exception(emulator, stack):
    response = emulator.client("lambda").invoke(FunctionName=stack.function_arn("SnapshotFunction"), Payload=b"{}")
    assert response["FunctionError"] == "Unhandled"
    assert json.loads(response["Payload"].read()) == {
        "errorType": "BadRequestError",
        "errorMessage": "identifier is required",
    }


# -- running --------------------------------------------------------------------------------------


def test_a_run_succeeds_and_reports_the_states_it_entered(stack, database):
    result = stack.run(MACHINE, {"identifier": database})
    assert result.status == "SUCCEEDED", result.cause
    assert result.entered_states == HAPPY_PATH
    assert result.output["poll"] == {"snapshot": "orders-db-hello", "status": "available", "attempt": 1}
    assert result.virtual_seconds == POLL_SECONDS
    assert [event["type"] for event in result.events][0] == "ExecutionStarted"


def test_a_custom_error_is_retried_with_backoff_on_the_simulated_clock(stack, database):
    result = stack.run(MACHINE, {"identifier": database, "transientFailures": 2})
    assert result.status == "SUCCEEDED", result.cause
    attempts = [call.error_type for call in stack.invocations("SnapshotFunction")]
    assert attempts == ["TransientError", "TransientError", None]
    assert result.virtual_seconds == 5 + 10 + POLL_SECONDS  # IntervalSeconds 5, BackoffRate 2, then one Wait


def test_exhausted_retries_are_caught_by_the_error_class_name(emulator, stack, database):
    result = stack.run(MACHINE, {"identifier": database, "transientFailures": 9})
    assert result.status == "FAILED"
    assert (result.error, result.cause) == ("SnapshotRunFailed", "see the report")
    assert result.entered_states[-2:] == ["Report the failure", "Run failed"]
    failure = report(emulator, stack)["failure"]
    assert failure["Error"] == "TransientError"
    assert json.loads(failure["Cause"])["errorType"] == "TransientError"
    assert len(stack.invocations("SnapshotFunction")) == 4  # first try + MaxAttempts 3


def test_a_caught_failure_leaves_no_mutating_rds_call(emulator, stack):
    result = stack.run(MACHINE, {"identifier": ""})
    assert result.status == "FAILED"
    assert report(emulator, stack)["failure"]["Error"] == "BadRequestError"
    assert stack.rds_calls.mutating() == []


def test_the_failure_report_reaches_s3_secrets_and_ses(emulator, stack):
    stack.run(MACHINE, {"identifier": ""})
    written = report(emulator, stack)
    assert written["webhooks"] == ["http://127.0.0.1:9/hook"]
    assert emulator.client("ses").get_send_quota()["SentLast24Hours"] == 1


def test_rds_calls_are_recorded_with_their_api_parameters(stack, database):
    stack.run(MACHINE, {"identifier": database})
    mutating = [(call.operation, call.params) for call in stack.rds_calls.mutating()]
    assert mutating == [
        ("CreateDBInstance", pytest.approx(mutating[0][1])),
        ("CreateDBSnapshot", {"DBInstanceIdentifier": "orders-db", "DBSnapshotIdentifier": "orders-db-hello"}),
    ]
    assert stack.rds_calls.operations()[-1] == "DescribeDBSnapshots"


# -- latency and faults in a run ----------------------------------------------------------------


def test_latency_makes_the_wait_loop_loop(emulator, stack, database):
    emulator.latency.polls = 2
    result = stack.run(MACHINE, {"identifier": database})
    assert result.status == "SUCCEEDED", result.cause
    assert result.entered_states.count("Check the snapshot") == 3
    assert [call.result["status"] for call in stack.invocations("CheckFunction")] == ["creating", "creating", "available"]
    assert result.virtual_seconds == 3 * POLL_SECONDS


def test_a_snapshot_ending_failed_takes_the_failure_exit(emulator, stack, database):
    emulator.latency.polls = 1
    emulator.latency.end_status("CreateDBSnapshot", "orders-db-hello", "failed")
    result = stack.run(MACHINE, {"identifier": database})
    assert result.status == "FAILED"
    assert "Snapshot failed" in result.entered_states
    assert report(emulator, stack)["failure"]["Error"] == "SnapshotFailedError"


def test_a_wait_loop_that_runs_out_of_attempts_fails(emulator):
    deployment = emulator.deploy(FIXTURE_TEMPLATE, {"MaxAttempts": 2})
    emulator.client("rds").create_db_instance(
        DBInstanceIdentifier="orders-db", DBInstanceClass="db.t3.micro", Engine="postgres",
        MasterUsername="trapheus", MasterUserPassword="not-a-secret-1", AllocatedStorage=20,
    )
    emulator.latency.polls = 10
    result = deployment.run(MACHINE, {"identifier": "orders-db"})
    assert result.status == "FAILED"
    assert result.entered_states.count("Check the snapshot") == 2
    assert "Out of attempts" in result.entered_states


def test_throttling_is_retried_by_the_sdk_on_the_simulated_clock(emulator, stack, database):
    emulator.latency.fail_api("CreateDBSnapshot", database, code="Throttling", times=2)
    result = stack.run(MACHINE, {"identifier": database})
    assert result.status == "SUCCEEDED", result.cause
    assert stack.rds_calls.operations().count("CreateDBSnapshot") == 3
    assert len(emulator.clock.sleeps) == 2 + 1  # two SDK back-offs, one Wait state


def test_an_injected_api_error_fails_the_step(emulator, stack, database):
    emulator.latency.fail_api("CreateDBSnapshot", code="InvalidDBInstanceState", message="busy")
    result = stack.run(MACHINE, {"identifier": database})
    assert result.status == "FAILED"
    failure = report(emulator, stack)["failure"]
    assert failure["Error"] == "InvalidDBInstanceStateFault"  # botocore's modeled exception class
    assert "busy" in json.loads(failure["Cause"])["errorMessage"]


# -- the latency model, through plain RDS calls ------------------------------------------------------


def instance_status(emulator: Emulator, identifier: str) -> str:
    return emulator.client("rds").describe_db_instances(DBInstanceIdentifier=identifier)["DBInstances"][0][
        "DBInstanceStatus"
    ]


def test_latency_shows_in_between_statuses_for_n_describe_calls(emulator, create_instance):
    emulator.latency.polls = 2
    create_instance("orders-db")
    assert [instance_status(emulator, "orders-db") for _ in range(3)] == ["creating", "creating", "available"]


def test_latency_is_off_by_default(emulator, create_instance):
    create_instance("orders-db")
    assert instance_status(emulator, "orders-db") == "available"


def test_a_renamed_instance_is_renaming_under_its_new_name(emulator, create_instance):
    create_instance("orders-db")
    emulator.latency.polls = 1
    emulator.client("rds").modify_db_instance(
        DBInstanceIdentifier="orders-db", NewDBInstanceIdentifier="orders-db-old", ApplyImmediately=True
    )
    assert [instance_status(emulator, "orders-db-old") for _ in range(2)] == ["renaming", "available"]


def test_a_deleted_instance_is_deleting_before_it_is_gone(emulator, create_instance):
    create_instance("orders-db")
    emulator.latency.polls = 2
    rds = emulator.client("rds")
    rds.delete_db_instance(DBInstanceIdentifier="orders-db", SkipFinalSnapshot=True)
    listed = [db["DBInstanceIdentifier"] for db in rds.describe_db_instances()["DBInstances"]]
    assert listed == ["orders-db"]  # a listing sees it too (and counts as a poll)
    assert instance_status(emulator, "orders-db") == "deleting"
    with pytest.raises(ClientError, match="DBInstanceNotFound"):
        instance_status(emulator, "orders-db")


def test_a_deleted_cluster_takes_its_deleting_members_with_it(emulator):
    rds = emulator.client("rds")
    rds.create_db_cluster(
        DBClusterIdentifier="orders", Engine="aurora-postgresql", MasterUsername="trapheus",
        MasterUserPassword="not-a-secret-1",
    )
    rds.create_db_instance(
        DBInstanceIdentifier="orders-1", DBClusterIdentifier="orders", Engine="aurora-postgresql",
        DBInstanceClass="db.r6g.large",
    )
    emulator.latency.polls = 1
    rds.delete_db_instance(DBInstanceIdentifier="orders-1", SkipFinalSnapshot=True)
    rds.delete_db_cluster(DBClusterIdentifier="orders", SkipFinalSnapshot=True)
    assert rds.describe_db_clusters(DBClusterIdentifier="orders")["DBClusters"][0]["Status"] == "deleting"
    with pytest.raises(ClientError, match="DBClusterNotFound"):
        rds.describe_db_clusters(DBClusterIdentifier="orders")
    with pytest.raises(ClientError, match="DBInstanceNotFound"):
        instance_status(emulator, "orders-1")


def test_taking_a_snapshot_keeps_the_source_backing_up(emulator, create_instance):
    create_instance("orders-db")
    emulator.latency.backing_up_polls = 1
    emulator.latency.polls = 1
    rds = emulator.client("rds")
    rds.create_db_snapshot(DBInstanceIdentifier="orders-db", DBSnapshotIdentifier="orders-db-snapshot")
    assert instance_status(emulator, "orders-db") == "backing-up"
    assert rds.describe_db_snapshots(DBSnapshotIdentifier="orders-db-snapshot")["DBSnapshots"][0]["Status"] == "creating"
    assert instance_status(emulator, "orders-db") == "available"


def test_a_terminal_status_applies_to_one_operation_once(emulator, create_instance):
    rds = emulator.client("rds")
    create_instance("orders-db")
    rds.create_db_snapshot(DBInstanceIdentifier="orders-db", DBSnapshotIdentifier="orders-db-snapshot")
    emulator.latency.polls = 1
    emulator.latency.end_status("RestoreDBInstanceFromDBSnapshot", "orders-db-copy", "failed")
    restore = {"DBInstanceIdentifier": "orders-db-copy", "DBSnapshotIdentifier": "orders-db-snapshot"}
    rds.restore_db_instance_from_db_snapshot(**restore)
    assert [instance_status(emulator, "orders-db-copy") for _ in range(3)] == ["creating", "failed", "failed"]
    rds.delete_db_instance(DBInstanceIdentifier="orders-db-copy", SkipFinalSnapshot=True)
    emulator.latency.polls = 0
    rds.restore_db_instance_from_db_snapshot(**restore)
    assert instance_status(emulator, "orders-db-copy") == "available"


def test_api_faults_match_operation_identifier_and_count(emulator, create_instance):
    rds = emulator.client("rds")
    create_instance("orders-db")
    create_instance("other-db")
    emulator.latency.fail_api("RebootDBInstance", "orders-db", code="InvalidDBInstanceState", times=1)
    rds.reboot_db_instance(DBInstanceIdentifier="other-db")
    with pytest.raises(ClientError, match="InvalidDBInstanceState"):
        rds.reboot_db_instance(DBInstanceIdentifier="orders-db")
    rds.reboot_db_instance(DBInstanceIdentifier="orders-db")


# -- the repository's own template ---------------------------------------------------------------


@pytest.mark.skipif(not REAL_TEMPLATE.is_file(), reason="template.yaml not written yet")
def test_the_repository_template_deploys_and_refuses_bad_input_without_changes():
    with Emulator() as strict:  # the strict model is what every other workflow test runs on
        _deploys_and_refuses_bad_input(strict)


def _deploys_and_refuses_bad_input(emulator: Emulator) -> None:
    deployment = emulator.deploy(REAL_TEMPLATE, {"LogLevel": "WARNING", "ManagedDatabasePattern": "orders-*"})
    machines = deployment.state_machines()
    assert machines
    functions = [
        logical_id
        for logical_id, resource in deployment.template.resources.items()
        if resource["Type"] == "AWS::Serverless::Function" and deployment.template.is_enabled(logical_id)
    ]
    for logical_id in functions:
        assert deployment.function_arn(logical_id)
    result = deployment.run(next(iter(machines)), {"identifier": "orders-db", "task": "drop_everything", "isCluster": False})
    assert result.status == "FAILED"
    assert deployment.rds_calls.mutating() == []


@pytest.mark.skipif(not REAL_TEMPLATE.is_file(), reason="template.yaml not written yet")
def test_the_repository_template_must_be_told_which_databases_it_manages(emulator):
    with pytest.raises(TemplateError, match="ManagedDatabasePattern has no default"):
        emulator.deploy(REAL_TEMPLATE, {"LogLevel": "WARNING"})


@pytest.mark.skipif(not REAL_TEMPLATE.is_file(), reason="template.yaml not written yet")
def test_a_database_outside_the_managed_pattern_is_refused_before_any_change():
    with Emulator() as strict:
        deployment = strict.deploy(REAL_TEMPLATE, {"LogLevel": "WARNING", "ManagedDatabasePattern": "orders-*"})
        with strict.settled():
            make_instance(strict.client("rds"), strict.client("ec2"), "billing-db")
        deployment.rds_calls.clear()
        run = {"identifier": "billing-db", "task": "create_snapshot_only", "isCluster": False}
        result = deployment.run("RestoreStateMachine", run)
        assert result.status == "FAILED"
        assert "does not match ManagedDatabasePattern 'orders-*'" in (result.cause or ""), result.cause
        assert deployment.rds_calls.mutating() == []
