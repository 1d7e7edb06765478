"""Each documented parameter combination deploys what it promises (and nothing it does not)."""

from __future__ import annotations

import pytest

from template_support import PARAMETER_SETS, asl_files, rendered, resources_of_type, rule_holds, statements

pytestmark = pytest.mark.skipif(not asl_files(), reason="statemachine/*.asl.json not written yet")

FUNCTION = "AWS::Lambda::Function"
FUNCTIONS = 22  # nine of the restore workflow, the verify hook and run report, the SNS alert, two of the backup workflow, seven of the table workflows, the copy workflow's


def functions(template: dict) -> dict:
    return resources_of_type(template, FUNCTION)


def role_statements(template: dict, role: str) -> dict[str, dict]:
    found = {}
    for policy in template["Resources"][role]["Properties"].get("Policies", []):
        for statement in statements(policy["PolicyDocument"]):
            found[statement["Sid"]] = statement
    return found


def test_default_render_has_no_optional_parts():
    template = rendered("defaults")
    for optional in ("FunctionSecurityGroup", "VpcNetworkInterfacePolicy", "SlackWebhooksSecret", "RestoreSchedule",
                     "ScheduleRole", "BackupSchedule", "BackupSourceReaderRole"):  # fmt: skip
        assert optional not in template["Resources"], optional
    assert all("VpcConfig" not in f["Properties"] for f in functions(template).values())
    assert "SendFromConfiguredSender" not in role_statements(template, "EmailAlertRole")
    assert "ReadSlackWebhooksSecret" not in role_statements(template, "SlackAlertRole")
    assert "PassMonitoringAndClusterRolesToRds" not in role_statements(template, "RestoreRole")


def test_vpc_render_attaches_every_function_to_the_subnets():
    template = rendered("vpc-on")
    assert len(functions(template)) == FUNCTIONS
    for name, function in functions(template).items():
        config = function["Properties"]["VpcConfig"]
        assert config["SecurityGroupIds"] == [{"Ref": "FunctionSecurityGroup"}], name
        assert config["SubnetIds"] == {"Ref": "SubnetIds"}, name
        role = function["Properties"]["Role"]["Fn::GetAtt"][0]
        assert template["Resources"][role]["Properties"]["ManagedPolicyArns"] == [
            {"Ref": "VpcNetworkInterfacePolicy"}
        ], name
    egress = template["Resources"]["FunctionSecurityGroup"]["Properties"]["SecurityGroupEgress"]
    assert [(rule["FromPort"], rule["ToPort"]) for rule in egress] == [(443, 443)]


def test_email_render_lets_only_the_sender_send():
    statement = role_statements(rendered("email-alerts"), "EmailAlertRole")["SendFromConfiguredSender"]
    assert statement["Condition"]["StringEquals"] == {"ses:FromAddress": {"Ref": "SenderEmail"}}
    env = rendered("email-alerts")["Resources"]["EmailAlertFunction"]["Properties"]["Environment"]["Variables"]
    assert env["SENDER_EMAIL"] == {"Ref": "SenderEmail"}
    assert env["RECIPIENT_EMAILS"] == {"Ref": "RecipientEmails"}
    assert env["SES_CONFIGURATION_SET"] == {"Ref": "EmailConfigurationSet"}


def test_slack_render_with_urls_creates_an_encrypted_secret_and_reads_only_it():
    template = rendered("slack-stack-secret")
    secret = template["Resources"]["SlackWebhooksSecret"]["Properties"]
    assert secret["KmsKeyId"] == {"Ref": "TrapheusKey"}
    slack = role_statements(template, "SlackAlertRole")
    assert slack["ReadSlackWebhooksSecret"]["Resource"] == {"Ref": "SlackWebhooksSecret"}
    assert slack["DecryptSlackWebhooksSecret"]["Condition"]["StringEquals"]["kms:ViaService"]
    env = template["Resources"]["SlackAlertFunction"]["Properties"]["Environment"]["Variables"]
    assert env["SLACK_WEBHOOKS_SECRET_ARN"] == {"Ref": "SlackWebhooksSecret"}


def test_slack_render_with_existing_secret_reads_that_secret():
    template = rendered("slack-existing-secret")
    assert "SlackWebhooksSecret" not in template["Resources"]
    slack = role_statements(template, "SlackAlertRole")
    assert slack["ReadSlackWebhooksSecret"]["Resource"] == {"Ref": "SlackWebhooksSecretArn"}
    assert "DecryptSlackWebhooksSecret" not in slack and "DecryptYourSlackWebhooksSecret" not in slack
    keyed = role_statements(rendered("slack-existing-secret-customer-key"), "SlackAlertRole")
    assert keyed["DecryptYourSlackWebhooksSecret"]["Resource"] == {"Ref": "SlackWebhooksSecretKmsKeyArn"}
    assert "DecryptSlackWebhooksSecret" not in keyed
    env = template["Resources"]["SlackAlertFunction"]["Properties"]["Environment"]["Variables"]
    assert env["SLACK_WEBHOOKS_SECRET_ARN"] == {"Ref": "SlackWebhooksSecretArn"}


def test_export_render_passes_the_flags_to_the_functions():
    template = rendered("export-by-default")
    assert template["Parameters"]["ExportByDefault"]["Default"] == "true"
    validate = template["Resources"]["ValidateInputFunction"]["Properties"]["Environment"]["Variables"]
    assert validate["EXPORT_BY_DEFAULT"] == {"Ref": "ExportByDefault"}
    delete = template["Resources"]["DeleteFunction"]["Properties"]["Environment"]["Variables"]
    assert delete["FINAL_SNAPSHOT"] == {"Ref": "FinalSnapshotOnDelete"}
    assert delete["KEEP_AUTOMATED_BACKUPS"] == {"Ref": "KeepAutomatedBackups"}
    export = template["Resources"]["ExportSnapshotFunction"]["Properties"]["Environment"]["Variables"]
    assert export == {
        "POWERTOOLS_SERVICE_NAME": "trapheus",
        "POWERTOOLS_LOG_LEVEL": {"Ref": "LogLevel"},
        "EXPORT_BUCKET": {"Ref": "ExportBucket"},
        "EXPORT_KMS_KEY_ARN": {"Fn::GetAtt": ["TrapheusKey", "Arn"]},
        "EXPORT_ROLE_ARN": {"Fn::GetAtt": ["ExportRole", "Arn"]},
    }


def test_schedule_render_starts_the_workflow_with_the_given_input():
    template = rendered("schedule")
    schedule = template["Resources"]["RestoreSchedule"]["Properties"]
    assert schedule["State"] == "ENABLED"
    assert schedule["ScheduleExpression"] == {"Ref": "ScheduleExpression"}
    assert schedule["Target"]["Arn"] == {"Ref": "RestoreStateMachine"}
    assert schedule["Target"]["Input"] == {"Ref": "ScheduleInput"}
    start = role_statements(template, "ScheduleRole")["StartRestoreWorkflow"]
    assert start == {
        "Sid": "StartRestoreWorkflow",
        "Effect": "Allow",
        "Action": "states:StartExecution",
        "Resource": {"Ref": "RestoreStateMachine"},
    }


def test_everything_on_render_scopes_passed_roles_and_keys():
    template = rendered("everything-on")
    restore = role_statements(template, "RestoreRole")
    assert restore["PassMonitoringAndClusterRolesToRds"]["Resource"] == {"Ref": "PassableRoleArns"}
    assert restore["UseDatabaseKeysThroughRds"]["Resource"] == {"Ref": "DatabaseKmsKeyArns"}
    assert template["Parameters"]["ManagedDatabasePattern"]["Default"] == "orders*"


@pytest.mark.parametrize("parameter_set", sorted(PARAMETER_SETS))
def test_every_render_keeps_the_workflow_whole(parameter_set):
    template = rendered(parameter_set)
    assert len(functions(template)) == FUNCTIONS
    for name in ("RestoreStateMachine", "RecoverStateMachine", "BackupStateMachine", "BackupDatabaseStateMachine",
                 "TableBackupStateMachine", "TableRestoreStateMachine", "CopyStateMachine"):
        machine = template["Resources"][name]["Properties"]
        assert "Definition" in machine or "DefinitionString" in machine, name
        assert template["Resources"][name]["Type"] == "AWS::StepFunctions::StateMachine", name


RDS_BOUNDARY = {"PermissionsBoundaryArn": "arn:aws:iam::123456789012:policy/trapheus/trapheus-boundary"}
TABLE_BOUNDARY = {"TablePermissionsBoundaryArn": "arn:aws:iam::123456789012:policy/trapheus/trapheus-table-boundary"}
COPY_BOUNDARY = {"CopyPermissionsBoundaryArn": "arn:aws:iam::123456789012:policy/trapheus/trapheus-copy-boundary"}


@pytest.mark.parametrize(
    ("boundaries", "accepted"),
    [
        ({}, True),
        ({**RDS_BOUNDARY, **TABLE_BOUNDARY, **COPY_BOUNDARY}, True),
        (RDS_BOUNDARY, False),
        (TABLE_BOUNDARY, False),
        (COPY_BOUNDARY, False),
        ({**RDS_BOUNDARY, **TABLE_BOUNDARY}, False),
    ],
)  # fmt: skip
def test_the_permissions_boundaries_are_given_together_or_not_at_all(boundaries, accepted):
    """One without the others would leave a family of roles (the table, copy or RDS roles) unbounded."""
    assert rule_holds("BoundariesGoTogether", boundaries) is accepted
