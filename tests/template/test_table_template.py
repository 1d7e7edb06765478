"""The DynamoDB tables section of template.yaml: least privilege, the bucket, the clean-up rule, the wiring."""

from __future__ import annotations

import pytest

from template_support import as_list, load_template, rendered, resources_of_type, statements

TABLE_FUNCTIONS = {"TableValidateFunction", "TableScanFunction", "TableExportFunction", "TableStoreFunction",
                   "TableRestoreFunction", "TableLoadFunction", "TableCheckFunction"}  # fmt: skip
ALERTS = {"EmailAlertFunction", "SlackAlertFunction", "SnsAlertFunction"}
MANAGED = "arn:${AWS::Partition}:dynamodb:${AWS::Region}:${AWS::AccountId}:table/${ManagedTablePattern}"


def role_statements(template: dict, role: str) -> list[dict]:
    return [s for policy in template["Resources"][role]["Properties"].get("Policies", [])
            for s in statements(policy["PolicyDocument"])]  # fmt: skip


def resources(statement: dict) -> list[str]:
    found = []
    for resource in as_list(statement["Resource"]):
        found.append(resource["Fn::Sub"] if isinstance(resource, dict) and "Fn::Sub" in resource else str(resource))
    return found


@pytest.mark.parametrize("parameter_set", ["defaults", "everything-on"])
def test_every_dynamodb_action_of_the_table_roles_is_scoped_to_managed_tables(parameter_set):
    template = rendered(parameter_set)
    for role in resources_of_type(template, "AWS::IAM::Role"):
        if not role.startswith("Table"):
            continue
        for statement in role_statements(template, role):
            actions = [a for a in as_list(statement["Action"]) if a.startswith("dynamodb:")]
            if not actions or actions == ["dynamodb:ListBackups"]:
                continue  # ListBackups has no resource-level permission
            if role == "TableRestoreMachineRole":
                assert statement["Resource"] == {"Fn::GetAtt": ["LockTable", "Arn"]}
                continue
            for resource in resources(statement):
                assert resource.startswith(MANAGED), f"{role}: {actions} on {resource}"


def test_each_table_workflow_invokes_only_its_own_functions_and_the_alerts():
    template = rendered("defaults")
    expected = {
        "TableBackupMachineRole": {"TableValidateFunction", "TableScanFunction", "TableExportFunction",
                                   "TableStoreFunction", "TableCheckFunction"} | ALERTS,
        "TableRestoreMachineRole": {"TableValidateFunction", "TableScanFunction", "TableStoreFunction",
                                    "TableRestoreFunction", "TableLoadFunction", "TableCheckFunction"} | ALERTS,
    }  # fmt: skip
    for role, functions in expected.items():
        invokes = [s for s in role_statements(template, role) if "lambda:InvokeFunction" in as_list(s["Action"])]
        assert len(invokes) == 1
        assert {r["Fn::GetAtt"][0] for r in invokes[0]["Resource"]} == functions, role
    invoked = set().union(*expected.values())
    assert TABLE_FUNCTIONS <= invoked


def test_only_the_restore_function_may_change_or_delete_tables():
    template = rendered("everything-on")
    changing = {"dynamodb:CreateTable", "dynamodb:DeleteTable", "dynamodb:UpdateTable", "dynamodb:RestoreTableFromBackup",
                "dynamodb:CreateBackup", "dynamodb:TagResource"}  # fmt: skip
    for role in resources_of_type(template, "AWS::IAM::Role"):
        granted = {a for s in role_statements(template, role) for a in as_list(s["Action"])}
        if role == "TableRestoreRole":
            assert changing <= granted
        else:
            assert not granted & changing, role
    load = {a for s in role_statements(template, "TableLoadRole") for a in as_list(s["Action"]) if a.startswith("dynamodb:")}
    assert load == {"dynamodb:BatchWriteItem", "dynamodb:DescribeTable"}
    scan = {a for s in role_statements(template, "TableScanRole") for a in as_list(s["Action"]) if a.startswith("dynamodb:")}
    assert scan == {"dynamodb:Scan"}


def test_copies_may_go_only_to_the_listed_buckets_and_keys():
    defaults = {s.get("Sid") for s in role_statements(rendered("defaults"), "TableStoreRole")}
    assert not {"CopyBackupsToListedBuckets", "EncryptCopiesWithTheirKeys"} & defaults
    template = load_template()
    copy = next(s for s in statements(template["Resources"]["TableStoreRole"]["Properties"]["Policies"][0]["PolicyDocument"])
                if isinstance(s, dict) and "Fn::If" in s and s["Fn::If"][0] == "HasTableCopyBuckets")["Fn::If"][1]  # fmt: skip
    assert copy["Action"] == ["s3:PutObject", "s3:AbortMultipartUpload"]
    assert "TableCopyBucketArns" in str(copy["Resource"]) and "/backups/*" in str(copy["Resource"])


def test_the_backup_bucket_is_encrypted_private_tls_only_versioned_and_expires():
    template = rendered("defaults")
    bucket = template["Resources"]["TableBackupBucket"]
    assert bucket["DeletionPolicy"] == "Retain"
    properties = bucket["Properties"]
    rule = properties["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]["ServerSideEncryptionByDefault"]
    assert rule == {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": {"Fn::GetAtt": ["TrapheusKey", "Arn"]}}
    assert all(properties["PublicAccessBlockConfiguration"].values())
    assert properties["VersioningConfiguration"] == {"Status": "Enabled"}
    assert properties["LifecycleConfiguration"]["Rules"][0]["ExpirationInDays"] == {"Ref": "TableBackupRetentionDays"}
    (deny,) = statements(template["Resources"]["TableBackupBucketPolicy"]["Properties"]["PolicyDocument"])
    assert deny["Effect"] == "Deny" and deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_a_stopped_or_timed_out_table_run_starts_the_clean_up():
    template = load_template()
    rule = template["Resources"]["TableCleanupRule"]["Properties"]
    assert rule["EventPattern"]["detail"]["status"] == ["ABORTED", "TIMED_OUT"]
    assert rule["EventPattern"]["detail"]["stateMachineArn"] == [{"Ref": "TableBackupStateMachine"},
                                                                {"Ref": "TableRestoreStateMachine"}]  # fmt: skip
    (target,) = rule["Targets"]
    assert target["Arn"] == {"Ref": "TableRestoreStateMachine"}
    assert target["InputTransformer"] == {"InputPathsMap": {"execution": "$.detail.executionArn"},
                                          "InputTemplate": '{"cleanupOf": <execution>}'}  # fmt: skip
    (start,) = role_statements(rendered("defaults"), "TableCleanupRuleRole")
    assert start["Action"] == "states:StartExecution" and start["Resource"] == {"Ref": "TableRestoreStateMachine"}


def test_the_table_workflows_are_named_after_the_stack():
    template = load_template()
    for name, suffix in (("TableBackupStateMachine", "table-backup"), ("TableRestoreStateMachine", "table-restore")):
        assert template["Resources"][name]["Properties"]["Name"] == {"Fn::Sub": f"${{AWS::StackName}}-{suffix}"}
    validate = template["Resources"]["TableValidateFunction"]["Properties"]["Environment"]["Variables"]
    assert validate["TABLE_BACKUP_MACHINE"] == {"Fn::Sub": "${AWS::StackName}-table-backup"}
    assert validate["TABLE_RESTORE_MACHINE"] == {"Fn::Sub": "${AWS::StackName}-table-restore"}


def _roles_referenced(node: object, roles: set[str]) -> set[str]:
    """The roles a resource's properties name (GetAtt Role.Arn)."""
    if isinstance(node, dict):
        target = node.get("Fn::GetAtt")
        if target is not None:
            name = target[0] if isinstance(target, list) else target.split(".")[0]
            return {name} & roles
        return set().union(*(_roles_referenced(value, roles) for value in node.values()))
    if isinstance(node, list):
        return set().union(*(_roles_referenced(value, roles) for value in node))
    return set()


RUN_UNDER_A_ROLE = {"AWS::Serverless::Function", "AWS::Serverless::StateMachine", "AWS::Events::Rule",
                    "AWS::Scheduler::Schedule"}  # fmt: skip


def test_the_table_workflows_run_under_the_table_roles_which_carry_the_table_boundary():
    """The CI deploy role gives a role named <stack>-Table* the table boundary and no other
    (ci/deploy-role.yaml): every function, workflow, rule and schedule of the table workflows runs under
    such a role, no other resource uses one, and each takes TablePermissionsBoundaryArn."""
    template = load_template()
    roles = set(resources_of_type(template, "AWS::IAM::Role"))
    table_roles = {name for name in roles if name.startswith("Table")}
    run_under = set()
    for name, resource in template["Resources"].items():
        if name in roles:
            continue
        used = _roles_referenced(resource.get("Properties", {}), roles)
        if name.startswith("Table") and resource["Type"] in RUN_UNDER_A_ROLE:
            assert used and used <= table_roles, f"{name} runs under {sorted(used)}"
            run_under |= used
        else:
            assert not used & table_roles, f"{name} runs under a table role: {sorted(used & table_roles)}"
    assert run_under == table_roles
    for role in table_roles:
        assert template["Resources"][role]["Properties"]["PermissionsBoundary"] == {
            "Fn::If": ["HasTablePermissionsBoundary", {"Ref": "TablePermissionsBoundaryArn"}, {"Ref": "AWS::NoValue"}]
        }, role
