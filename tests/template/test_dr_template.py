"""dr/template.yaml, the DR account's stack: lint clean, handlers importable, and nothing in it a source account
can change or delete."""

from __future__ import annotations

import importlib.util
import json
import sys

import pytest

from template_support import DR_TEMPLATE, LAYER_PYTHON, inline_definitions, lint, load_template, resources_of_type, statements

DR = load_template(DR_TEMPLATE)
BASE = DR_TEMPLATE.parent
# actions IAM cannot scope to a resource
STAR_ACTIONS = {
    "xray:PutTraceSegments", "xray:PutTelemetryRecords", "xray:GetSamplingRules", "xray:GetSamplingTargets",
    "logs:CreateLogDelivery", "logs:GetLogDelivery", "logs:UpdateLogDelivery", "logs:DeleteLogDelivery",
    "logs:ListLogDeliveries", "logs:PutResourcePolicy", "logs:DescribeResourcePolicies", "logs:DescribeLogGroups",
    "rds:DescribeAccountAttributes", "sts:GetCallerIdentity",
}  # fmt: skip


def role_statements() -> list[tuple[str, dict]]:
    found = []
    for name, role in resources_of_type(DR, "AWS::IAM::Role").items():
        for policy in role["Properties"].get("Policies", []):
            for statement in statements(policy["PolicyDocument"]):
                if isinstance(statement, dict) and "Fn::If" in statement:
                    statement = statement["Fn::If"][1]
                found.append((name, statement))
    return found


def actions(statement: dict) -> list[str]:
    value = statement["Action"]
    return [value] if isinstance(value, str) else list(value)


def test_the_dr_template_is_lint_clean_with_and_without_its_definition_inlined():
    assert lint(DR_TEMPLATE.read_text()) == []
    inlined = inline_definitions(DR, BASE)
    assert all("Definition" in m["Properties"] for m in resources_of_type(inlined, "AWS::Serverless::StateMachine").values())
    assert lint(inlined) == []


@pytest.mark.parametrize("logical_id", sorted(resources_of_type(DR, "AWS::Serverless::Function")))
def test_every_dr_handler_imports_from_its_code_uri(logical_id, monkeypatch):
    monkeypatch.syspath_prepend(str(LAYER_PYTHON))
    source = (BASE / DR["Resources"][logical_id]["Properties"]["CodeUri"] / "app.py").resolve()
    spec = importlib.util.spec_from_file_location(f"dr_handler_{logical_id}", source)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    try:
        spec.loader.exec_module(module)
    finally:
        sys.modules.pop(spec.name, None)
    assert callable(module.handler)


def test_no_dr_role_grants_a_wildcard_action_or_a_star_resource_it_could_scope():
    for name, statement in role_statements():
        assert all("*" not in action for action in actions(statement)), name
        resources = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
        if "*" in resources:
            assert set(actions(statement)) <= STAR_ACTIONS, (name, actions(statement))


def test_the_source_accounts_may_only_read_the_report_and_start_a_copy_run():
    trusting = {
        name: role for name, role in resources_of_type(DR, "AWS::IAM::Role").items()
        if any("AWS" in statement.get("Principal", {}) for statement in role["Properties"]["AssumeRolePolicyDocument"]["Statement"])
    }
    assert sorted(trusting) == ["DrCopyTriggerRole", "DrReportReaderRole"]
    granted = {name: [(actions(s), s["Resource"]) for role, s in role_statements() if role == name] for name in trusting}
    assert granted == {
        "DrReportReaderRole": [(["dynamodb:GetItem", "dynamodb:BatchGetItem"], {"Fn::GetAtt": ["DrReportTable", "Arn"]})],
        "DrCopyTriggerRole": [(["states:StartExecution"], {"Ref": "DrCopyStateMachine"})],
    }
    for role in trusting.values():
        principal = role["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]["Principal"]
        assert principal == {"AWS": {"Ref": "SourceAccountIds"}}


def test_the_dr_account_deletes_and_tags_only_its_own_copies():
    for name, statement in role_statements():
        mutating = [a for a in actions(statement) if a.startswith(("rds:Delete", "rds:AddTags", "rds:Modify"))]
        if mutating:
            resources = json.dumps(statement["Resource"])
            assert ":${AWS::AccountId}:snapshot:dr-*" in resources and ":${AWS::AccountId}:cluster-snapshot:dr-*" in resources
            assert resources.count("arn:") == 2, (name, resources)


def test_the_copies_are_encrypted_with_the_dr_accounts_own_key():
    env = DR["Resources"]["DrCopyFunction"]["Properties"]["Environment"]["Variables"]
    assert env["DR_KMS_KEY_ARN"] == {"Fn::GetAtt": ["DrKey", "Arn"]}
    assert env["COPY_TO_KMS_KEY_ARN"] == {"Ref": "CopyToKmsKeyArn"}
    key_policy = DR["Resources"]["DrKey"]["Properties"]["KeyPolicy"]["Statement"]
    assert [s["Principal"] for s in key_policy] == [
        {"AWS": {"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:root"}},
        {"Service": {"Fn::Sub": "logs.${AWS::Region}.amazonaws.com"}},
    ]  # no other account uses the DR key
