"""ci/deploy-role.yaml: the CI roles can deploy and run template.yaml, and nothing else.

The deploy role's permissions are checked against a table of what CloudFormation calls, as the
deploying principal, for each resource type template.yaml creates: a resource type added to the
template without an entry here (and in the role) fails, and so does a permission the role grants
that no entry needs. Each permissions boundary is checked against every grant of the roles of its
family (FAMILIES), and the operator role against the calls the ``trapheus`` command really makes.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Any

import pytest

from template_support import (
    BASE_PARAMETERS,
    PARAMETER_SETS,
    REPO,
    TEMPLATE,
    as_list,
    iam_definition,
    load_template,
    render,
    rendered,
    statements,
)
from trapheus_local.template import NO_VALUE, Template
from trapheus_local.template import load_template as bind_template

ROLE_TEMPLATE = REPO / "ci" / "deploy-role.yaml"
ACCOUNT, REGION = "123456789012", "us-east-1"
CALLED_VIA_CLOUDFORMATION = {"ForAnyValue:StringEquals": {"aws:CalledVia": "cloudformation.amazonaws.com"}}

# What CloudFormation calls with the deploy role's credentials to create, update, read back and (for
# resources the stack may delete) delete each resource type: the resource providers' handler
# permissions, less what the template never asks for (no DeleteLogGroup, DeleteBucket or
# ScheduleKeyDeletion: those resources are retained; no DisableKey, code signing or concurrency).
DEPLOY_ACTIONS: dict[str, set[str]] = {
    "AWS::DynamoDB::Table": {
        "dynamodb:CreateTable", "dynamodb:DeleteTable", "dynamodb:DescribeContinuousBackups",
        "dynamodb:DescribeContributorInsights", "dynamodb:DescribeKinesisStreamingDestination",
        "dynamodb:DescribeTable", "dynamodb:DescribeTimeToLive", "dynamodb:GetResourcePolicy",
        "dynamodb:ListTagsOfResource", "dynamodb:TagResource", "dynamodb:UntagResource",
        "dynamodb:UpdateContinuousBackups", "dynamodb:UpdateTable", "dynamodb:UpdateTimeToLive",
    },
    "AWS::EC2::SecurityGroup": {
        "ec2:AuthorizeSecurityGroupEgress", "ec2:CreateSecurityGroup", "ec2:CreateTags", "ec2:DeleteSecurityGroup",
        "ec2:DeleteTags", "ec2:DescribeSecurityGroups", "ec2:RevokeSecurityGroupEgress",
    },
    "AWS::Events::Rule": {
        "events:DeleteRule", "events:DescribeRule", "events:ListTagsForResource", "events:ListTargetsByRule",
        "events:PutRule", "events:PutTargets", "events:RemoveTargets", "events:TagResource", "events:UntagResource",
        "iam:PassRole",
    },
    "AWS::IAM::ManagedPolicy": {
        "iam:CreatePolicy", "iam:CreatePolicyVersion", "iam:DeletePolicy", "iam:DeletePolicyVersion", "iam:GetPolicy",
        "iam:GetPolicyVersion", "iam:ListEntitiesForPolicy", "iam:ListPolicyVersions",
    },
    "AWS::IAM::Role": {
        "iam:AttachRolePolicy", "iam:CreateRole", "iam:DeleteRole", "iam:DeleteRolePolicy", "iam:DetachRolePolicy",
        "iam:GetRole", "iam:GetRolePolicy", "iam:ListAttachedRolePolicies", "iam:ListRolePolicies",
        "iam:PutRolePermissionsBoundary", "iam:PutRolePolicy", "iam:TagRole", "iam:UntagRole",
        "iam:UpdateAssumeRolePolicy", "iam:UpdateRole", "iam:UpdateRoleDescription",
    },
    "AWS::KMS::Key": {
        "kms:CreateKey", "kms:DescribeKey", "kms:EnableKeyRotation", "kms:GetKeyPolicy", "kms:GetKeyRotationStatus",
        "kms:ListResourceTags", "kms:PutKeyPolicy", "kms:TagResource", "kms:UntagResource", "kms:UpdateKeyDescription",
    },
    "AWS::Lambda::Function": {
        "lambda:CreateFunction", "lambda:DeleteFunction", "lambda:GetFunction", "lambda:GetFunctionCodeSigningConfig",
        "lambda:GetLayerVersion", "lambda:GetRuntimeManagementConfig", "lambda:ListTags", "lambda:TagResource",
        "lambda:UntagResource", "lambda:UpdateFunctionCode", "lambda:UpdateFunctionConfiguration", "iam:PassRole",
        "s3:GetObject", "ec2:DescribeNetworkInterfaces", "ec2:DescribeSecurityGroups", "ec2:DescribeSubnets",
        "ec2:DescribeVpcs",
    },
    "AWS::Lambda::LayerVersion": {
        "lambda:DeleteLayerVersion", "lambda:GetLayerVersion", "lambda:PublishLayerVersion", "s3:GetObject",
    },
    "AWS::Logs::LogGroup": {
        "logs:AssociateKmsKey", "logs:CreateLogGroup", "logs:DeleteRetentionPolicy", "logs:DescribeLogGroups",
        "logs:DisassociateKmsKey", "logs:ListTagsForResource", "logs:ListTagsLogGroup", "logs:PutRetentionPolicy",
        "logs:TagLogGroup", "logs:TagResource", "logs:UntagLogGroup", "logs:UntagResource",
    },
    "AWS::S3::Bucket": {
        "s3:CreateBucket", "s3:GetAccelerateConfiguration", "s3:GetAnalyticsConfiguration", "s3:GetBucketAcl",
        "s3:GetBucketCORS", "s3:GetBucketLogging", "s3:GetBucketNotification", "s3:GetBucketObjectLockConfiguration",
        "s3:GetBucketOwnershipControls", "s3:GetBucketPolicy", "s3:GetBucketPublicAccessBlock", "s3:GetBucketTagging",
        "s3:GetBucketVersioning", "s3:GetBucketWebsite", "s3:GetEncryptionConfiguration",
        "s3:GetIntelligentTieringConfiguration", "s3:GetInventoryConfiguration", "s3:GetLifecycleConfiguration",
        "s3:GetMetricsConfiguration", "s3:GetReplicationConfiguration", "s3:ListBucket",
        "s3:PutBucketOwnershipControls", "s3:PutBucketPublicAccessBlock", "s3:PutBucketTagging",
        "s3:PutBucketVersioning", "s3:PutEncryptionConfiguration", "s3:PutLifecycleConfiguration",
    },
    "AWS::S3::BucketPolicy": {"s3:DeleteBucketPolicy", "s3:GetBucketPolicy", "s3:PutBucketPolicy"},
    "AWS::SNS::Topic": {
        "sns:CreateTopic", "sns:DeleteTopic", "sns:GetDataProtectionPolicy", "sns:GetTopicAttributes",
        "sns:ListSubscriptionsByTopic", "sns:ListTagsForResource", "sns:PutDataProtectionPolicy", "sns:SetTopicAttributes",
        "sns:Subscribe", "sns:TagResource", "sns:Unsubscribe", "sns:UntagResource",
    },
    "AWS::Scheduler::ScheduleGroup": {
        "scheduler:CreateScheduleGroup", "scheduler:DeleteScheduleGroup", "scheduler:GetScheduleGroup",
        "scheduler:ListTagsForResource", "scheduler:TagResource", "scheduler:UntagResource",
    },
    "AWS::Scheduler::Schedule": {
        "scheduler:CreateSchedule", "scheduler:DeleteSchedule", "scheduler:GetSchedule", "scheduler:UpdateSchedule",
        "iam:PassRole",
    },
    "AWS::SecretsManager::Secret": {
        "secretsmanager:CreateSecret", "secretsmanager:DeleteSecret", "secretsmanager:DescribeSecret",
        "secretsmanager:GetSecretValue", "secretsmanager:TagResource", "secretsmanager:UntagResource",
        "secretsmanager:UpdateSecret", "kms:Decrypt", "kms:GenerateDataKey",
    },
    "AWS::StepFunctions::StateMachine": {
        "states:CreateStateMachine", "states:DeleteStateMachine", "states:DescribeStateMachine",
        "states:ListTagsForResource", "states:TagResource", "states:UntagResource", "states:UpdateStateMachine",
        "iam:PassRole", "s3:GetObject",
    },
}  # fmt: skip

# What `sam deploy` calls itself: change sets of the stack (and of SAM's managed artifacts stack)
# and the artifacts it uploads.
SAM_DEPLOY_ACTIONS = {
    "cloudformation:CreateChangeSet", "cloudformation:DeleteChangeSet", "cloudformation:DescribeChangeSet",
    "cloudformation:DescribeStackEvents", "cloudformation:DescribeStacks", "cloudformation:ExecuteChangeSet",
    "cloudformation:GetTemplateSummary", "s3:GetObject", "s3:PutObject",
}  # fmt: skip

# SAM's managed artifacts stack (aws-sam-cli-managed-default) holds a bucket and its policy.
MANAGED_ARTIFACTS_STACK_TYPES = {"AWS::S3::Bucket", "AWS::S3::BucketPolicy"}

# What the `trapheus` command may do under the operator role.
OPERATOR_ACTIONS = {
    "states:StartExecution", "states:DescribeExecution", "states:GetExecutionHistory",
    "cloudformation:DescribeStackResources", "states:ListStateMachines",
}  # fmt: skip

# Role template parameter sets: both trusts, both artifact stores, provider created or existing.
ROLE_PARAMETER_SETS: dict[str, dict[str, str]] = {
    "environment-managed-bucket": {"GitHubRepository": "octo-org/trapheus", "TrustName": "staging"},
    "branch-named-bucket": {
        "GitHubRepository": "octo-org/trapheus",
        "TrustKind": "branch",
        "TrustName": "main",
        "GitHubOidcProvider": "existing",
        "ArtifactsBucket": "octo-deploy-artifacts",
        "TrapheusStackName": "trapheus-production",
        "ManagedDatabasePattern": "orders-*",
    },
}
ROLE_SETS = sorted(ROLE_PARAMETER_SETS)

# Generated names CloudFormation gives resources without one: stack-LogicalId-suffix.
SUFFIX = "Ab12Cd34Ef56G"

# template.yaml's table options, which no render of PARAMETER_SETS turns on: the boundary must
# leave their grants (copies to other buckets and keys, table keys, the table backup schedule) in place.
TABLE_OPTIONS = {
    "ManagedTablePattern": "orders*",
    "TableKmsKeyArns": "arn:aws:kms:us-east-1:123456789012:key/1a2b3c4d-1111-2222-3333-444455556666",
    "TableCopyBucketArns": "arn:aws:s3:::orders-dr-backups,arn:aws:s3:::orders-vault",
    "TableCopyKmsKeyArns": "arn:aws:kms:eu-west-1:210987654321:key/5e6f7a8b-1111-2222-3333-444455556666",
    "TableBackupScheduleExpression": "rate(1 day)",
    "TableBackupScheduleInput": '{"table": "orders", "keep": 7}',
}
STACK_PARAMETER_SETS = {**PARAMETER_SETS, "table-options": TABLE_OPTIONS}


@dataclass(frozen=True)
class Family:
    """Roles of template.yaml that carry one permissions boundary of ci/deploy-role.yaml."""

    boundary: str  # the boundary's logical id in ci/deploy-role.yaml
    parameter: str  # the template.yaml parameter its roles take the boundary from (and the role stack's output)
    prefix: str  # the logical ids of its roles start with it; "" = every role no other family claims

    @property
    def condition(self) -> str:
        """template.yaml's Condition that the parameter is given."""
        return "Has" + self.parameter.removesuffix("Arn")


# Which boundary each role of template.yaml carries: the first family whose prefix its logical id
# starts with. A new family is a row here (before the catch-all), plus its boundary and output in
# ci/deploy-role.yaml with an Allow and a Deny in ProvisionRolesPolicy, and its parameter in
# template.yaml; the tests below then hold it to the same rules as these.
FAMILIES = (
    Family("TablePermissionsBoundary", "TablePermissionsBoundaryArn", "Table"),  # table-backup, table-restore
    Family("CopyPermissionsBoundary", "CopyPermissionsBoundaryArn", "Copy"),  # the copy workflow
    Family("PermissionsBoundary", "PermissionsBoundaryArn", ""),  # restore, recover, backup, alerts, schedules
)
GUARDED_ROLE_ACTIONS = {"iam:CreateRole", "iam:PutRolePolicy", "iam:AttachRolePolicy", "iam:DeleteRolePolicy",
                        "iam:DetachRolePolicy", "iam:PutRolePermissionsBoundary"}  # fmt: skip
# the calls that give a role its boundary; the others act on a role that has one already
SETS_THE_BOUNDARY = {"iam:CreateRole", "iam:PutRolePermissionsBoundary"}


def _family_of(role: str) -> Family:
    return next(family for family in FAMILIES if role.startswith(family.prefix))


# -- resolving the templates into concrete policies -------------------------------------------------


def _role_template(parameter_set: str) -> Template:
    return bind_template(ROLE_TEMPLATE, ROLE_PARAMETER_SETS[parameter_set], stack_name="trapheus-ci")


def _role_lookup(template: Template):
    def lookup(logical_id: str, attribute: str | None) -> str:
        kind = template.resources[logical_id]["Type"]
        properties = template.resources[logical_id].get("Properties", {})
        if kind == "AWS::IAM::ManagedPolicy" and "ManagedPolicyName" in properties:  # the boundaries
            name = template.resolve(properties["ManagedPolicyName"], lookup)
            return f"arn:aws:iam::{ACCOUNT}:policy{properties['Path']}{name}"
        if kind == "AWS::IAM::ManagedPolicy":
            return f"arn:aws:iam::{ACCOUNT}:policy/ci/trapheus-ci-{logical_id}-{SUFFIX}"
        if kind == "AWS::IAM::Role":
            return f"arn:aws:iam::{ACCOUNT}:role/ci/trapheus-ci-{logical_id}-{SUFFIX}"
        if kind == "AWS::IAM::OIDCProvider":
            return f"arn:aws:iam::{ACCOUNT}:oidc-provider/token.actions.githubusercontent.com"
        raise AssertionError(f"no example name for {logical_id} ({kind})")

    return lookup


def _stack_lookup(template: Template):
    """Example physical ids of template.yaml's resources, named the way CloudFormation names them."""
    stack = template.pseudo["AWS::StackName"]

    def lookup(logical_id: str, attribute: str | None) -> Any:
        kind = template.resources[logical_id]["Type"]
        generated = f"{stack}-{logical_id}-{SUFFIX}"
        properties = template.resources[logical_id].get("Properties", {})
        if kind == "AWS::IAM::Role":
            return f"arn:aws:iam::{ACCOUNT}:role/{generated}" if attribute == "Arn" else generated
        if kind == "AWS::IAM::ManagedPolicy":
            return f"arn:aws:iam::{ACCOUNT}:policy/{generated}"
        if kind == "AWS::Serverless::Function":
            return f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{generated}" if attribute == "Arn" else generated
        if kind == "AWS::DynamoDB::Table":
            return f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{generated}" if attribute == "Arn" else generated
        if kind == "AWS::S3::Bucket":
            return f"arn:aws:s3:::{generated.lower()}" if attribute == "Arn" else generated.lower()
        if kind == "AWS::KMS::Key":
            key_id = "0d1e2f3a-4b5c-6d7e-8f90-a1b2c3d4e5f6"
            return f"arn:aws:kms:{REGION}:{ACCOUNT}:key/{key_id}" if attribute == "Arn" else key_id
        if kind == "AWS::Logs::LogGroup":
            return f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:{generated}:*" if attribute == "Arn" else generated
        if kind == "AWS::SecretsManager::Secret":
            return f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:{logical_id}-{SUFFIX}-AbCdEf"
        if kind == "AWS::Serverless::StateMachine":
            name = template.resolve(properties["Name"], lookup)
            return name if attribute == "Name" else f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:{name}"
        if kind == "AWS::EC2::SecurityGroup":
            return "sg-0123456789abcdef0"
        if kind == "AWS::SNS::Topic":
            return f"arn:aws:sns:{REGION}:{ACCOUNT}:{generated}"
        if kind == "AWS::Scheduler::ScheduleGroup":
            name = template.resolve(properties["Name"], lookup)
            return f"arn:aws:scheduler:{REGION}:{ACCOUNT}:schedule-group/{name}" if attribute == "Arn" else name
        if kind == "AWS::Serverless::LayerVersion":
            name = template.resolve(properties["LayerName"], lookup)
            return f"arn:aws:lambda:{REGION}:{ACCOUNT}:layer:{name}:1"
        return generated

    return lookup


def _documents(template: Template, lookup, kinds: tuple[str, ...]) -> Iterator[tuple[str, dict[str, Any]]]:
    """Resolved policy documents of the enabled roles and managed policies, named by where they live."""
    for name, resource in template.resources.items():
        if resource["Type"] not in kinds or not template.is_enabled(name):
            continue
        properties = resource.get("Properties", {})
        if resource["Type"] == "AWS::IAM::Role":
            for policy in properties.get("Policies", []):
                yield f"{name}/{policy['PolicyName']}", template.resolve(policy["PolicyDocument"], lookup)
        else:
            yield name, template.resolve(properties["PolicyDocument"], lookup)


def _allows(statements_: list[dict[str, Any]], action: str, resource: str) -> bool:
    """Whether an Allow statement names the action and a resource pattern covering ``resource``
    (conditions aside; a pattern-shaped resource must fall inside the statement's pattern)."""
    for statement in statements_:
        if statement["Effect"] != "Allow" or action not in as_list(statement["Action"]):
            continue
        if any(fnmatchcase(resource, pattern) for pattern in as_list(statement["Resource"])):
            return True
    return False


def _role_policies(template: Template, role: str) -> list[dict[str, Any]]:
    """Every statement of a role of ci/deploy-role.yaml: inline policies and attached managed ones."""
    lookup = _role_lookup(template)
    properties = template.resources[role]["Properties"]
    found = [
        statement
        for policy in properties.get("Policies", [])
        for statement in statements(template.resolve(policy["PolicyDocument"], lookup))
    ]
    for reference in properties.get("ManagedPolicyArns", []):
        logical_id = reference["Ref"]
        document = template.resources[logical_id]["Properties"]["PolicyDocument"]
        found += statements(template.resolve(document, lookup))
    return found


def _granted_actions(statements_: list[dict[str, Any]]) -> set[str]:
    return {action for s in statements_ if s["Effect"] == "Allow" for action in as_list(s["Action"])}


def _stack_resource_types() -> tuple[set[str], set[str]]:
    """Resource types of template.yaml as written (SAM types included) and as CloudFormation deploys them."""
    written = {resource["Type"] for resource in load_template()["Resources"].values()}
    deployed = {r["Type"] for name in PARAMETER_SETS for r in rendered(name)["Resources"].values()}
    return written, deployed


# -- the deploy role ----------------------------------------------------------------------------------


def test_every_resource_type_of_the_stack_has_deploy_actions():
    _, deployed = _stack_resource_types()
    missing = deployed - set(DEPLOY_ACTIONS)
    assert not missing, (
        f"template.yaml deploys {sorted(missing)}: add the actions CloudFormation needs for them to DEPLOY_ACTIONS "
        "and to ci/deploy-role.yaml (and the type to its cloudformation:ResourceTypes list)"
    )
    stale = set(DEPLOY_ACTIONS) - deployed - MANAGED_ARTIFACTS_STACK_TYPES
    assert not stale, f"DEPLOY_ACTIONS lists types the stack no longer deploys: {sorted(stale)}"


@pytest.mark.parametrize("parameter_set", ROLE_SETS)
def test_the_deploy_role_grants_exactly_what_deploying_the_stack_needs(parameter_set):
    granted = _granted_actions(_role_policies(_role_template(parameter_set), "DeployRole"))
    needed = set().union(*DEPLOY_ACTIONS.values()) | SAM_DEPLOY_ACTIONS
    assert sorted(needed - granted) == [], "the deploy role cannot do what deploying needs"
    assert sorted(granted - needed) == [], "the deploy role can do more than deploying needs"


@pytest.mark.parametrize("parameter_set", ROLE_SETS)
def test_change_sets_may_hold_only_the_stacks_resource_types_and_import_nothing(parameter_set):
    policies = _role_policies(_role_template(parameter_set), "DeployRole")
    creates = [s for s in policies if "cloudformation:CreateChangeSet" in as_list(s["Action"])]
    allow = [s for s in creates if s["Effect"] == "Allow"]
    assert len(allow) == 1
    listed = set(allow[0]["Condition"]["ForAllValues:StringEquals"]["cloudformation:ResourceTypes"])
    written, deployed = _stack_resource_types()
    assert listed == written | deployed
    assert f"arn:aws:cloudformation:{REGION}:aws:transform/Serverless-2016-10-31" in allow[0]["Resource"]
    deny = [s for s in creates if s["Effect"] == "Deny"]
    assert [s["Condition"] for s in deny] == [
        {"ForAnyValue:StringLike": {"cloudformation:ImportResourceTypes": "*"}}
    ]


@pytest.mark.parametrize("parameter_set", ROLE_SETS)
def test_resources_change_only_through_cloudformation(parameter_set):
    """Every grant beyond sam deploy's own calls holds only when CloudFormation makes the call."""
    for statement in _role_policies(_role_template(parameter_set), "DeployRole"):
        if statement["Effect"] != "Allow" or set(as_list(statement["Action"])) <= SAM_DEPLOY_ACTIONS:
            continue
        condition = statement["Condition"]
        through_cloudformation = condition.get("ForAnyValue:StringEquals", {}).get("aws:CalledVia")
        through_secrets_manager = condition.get("StringEquals", {}).get("kms:ViaService")
        assert through_cloudformation == "cloudformation.amazonaws.com" or through_secrets_manager == (
            f"secretsmanager.{REGION}.amazonaws.com"
        ), statement["Sid"]


def _condition_holds(operator: str, key: str, expected: Any, request: dict[str, str]) -> bool:
    """One condition of a statement against the request's context keys (a key the request lacks fails
    StringEquals and ArnLike and satisfies StringNotEquals, as in IAM)."""
    actual, expected = request.get(key), as_list(expected)
    if operator in ("StringEquals", "ForAnyValue:StringEquals"):
        return actual in expected
    if operator == "StringNotEquals":
        return actual not in expected
    if operator == "ArnLike":
        return actual is not None and any(fnmatchcase(actual, pattern) for pattern in expected)
    raise AssertionError(f"{operator} on {key}: teach _condition_holds how IAM evaluates it")


def _decides(statements_: list[dict[str, Any]], action: str, resource: str, request: dict[str, str]) -> bool:
    """IAM's answer for one request under these statements: an explicit Deny wins, then any Allow."""
    matching = [
        statement
        for statement in statements_
        if action in as_list(statement["Action"])
        and any(fnmatchcase(resource, pattern) for pattern in as_list(statement["Resource"]))
        and all(_condition_holds(operator, key, expected, request)
                for operator, keys in statement.get("Condition", {}).items() for key, expected in keys.items())
    ]  # fmt: skip
    return any(s["Effect"] == "Allow" for s in matching) and not any(s["Effect"] == "Deny" for s in matching)


@pytest.mark.parametrize("parameter_set", ROLE_SETS)
def test_each_role_gets_exactly_the_boundary_of_its_family(parameter_set):
    """The deploy role creates a role of template.yaml, or replaces its boundary, only with the boundary
    of the role's family; it changes a role's policies only while the role carries one of the stack's
    boundaries (an update may move a role to another family's boundary after changing its policies)."""
    role_template = _role_template(parameter_set)
    boundary_arn = _role_lookup(role_template)
    stack = role_template.parameters["TrapheusStackName"]
    policies = _role_policies(role_template, "DeployRole")
    stack_template = _stack_template("table-options", stack_name=stack)
    roles = [name for name, r in stack_template.resources.items() if r["Type"] == "AWS::IAM::Role"]
    assert {_family_of(role) for role in roles} == set(FAMILIES), "a family without roles: drop it"
    boundaries = {family.boundary: boundary_arn(family.boundary, None) for family in FAMILIES}
    candidates = [*boundaries.values(), None, f"arn:aws:iam::{ACCOUNT}:policy/AdministratorAccess"]
    own_policy = _stack_lookup(stack_template)("VpcNetworkInterfacePolicy", None)
    for role in roles:
        arn = _stack_lookup(stack_template)(role, "Arn")
        for action in sorted(GUARDED_ROLE_ACTIONS):
            for boundary in candidates:
                request = {"aws:CalledVia": "cloudformation.amazonaws.com", "iam:PolicyARN": own_policy}
                if boundary:
                    request["iam:PermissionsBoundary"] = boundary
                if action in SETS_THE_BOUNDARY:
                    expected = boundary == boundaries[_family_of(role).boundary]
                else:
                    expected = boundary in boundaries.values()
                assert _decides(policies, action, arn, request) == expected, f"{action} on {role} with {boundary}"
    guarded = [s for s in policies if s["Effect"] == "Allow" and set(as_list(s["Action"])) & GUARDED_ROLE_ACTIONS]
    for statement in guarded:
        assert set(as_list(statement["Condition"]["StringEquals"]["iam:PermissionsBoundary"])) <= set(
            boundaries.values()
        ), statement["Sid"]
        if "iam:AttachRolePolicy" in as_list(statement["Action"]):
            assert statement["Condition"]["ArnLike"]["iam:PolicyARN"] == f"arn:aws:iam::{ACCOUNT}:policy/{stack}-*"
    assert not _decides(policies, "iam:AttachRolePolicy", _stack_lookup(stack_template)("TableRestoreRole", "Arn"), {
        "aws:CalledVia": "cloudformation.amazonaws.com", "iam:PermissionsBoundary": boundaries["PermissionsBoundary"],
        "iam:PolicyARN": "arn:aws:iam::aws:policy/AdministratorAccess"})  # fmt: skip
    assert "iam:DeleteRolePermissionsBoundary" not in _granted_actions(policies)


@pytest.mark.parametrize("parameter_set", ROLE_SETS)
def test_the_ci_roles_their_policies_and_the_boundary_are_out_of_the_deploy_roles_reach(parameter_set):
    """The deploy role's IAM grants name the stack's roles; its own roles, policies and boundary
    live under paths no such pattern can match, whatever the stack is called."""
    template = _role_template(parameter_set)
    lookup = _role_lookup(template)
    own = [lookup(name, "Arn") for name, r in template.resources.items() if r["Type"].startswith("AWS::IAM::")]
    iam_patterns = [
        pattern
        for statement in _role_policies(template, "DeployRole")
        if statement["Effect"] == "Allow" and any(a.startswith("iam:") for a in as_list(statement["Action"]))
        for pattern in as_list(statement["Resource"])
    ]
    assert iam_patterns
    for arn in own:
        assert not [p for p in iam_patterns if fnmatchcase(arn, p)], arn


@pytest.mark.parametrize("parameter_set", ROLE_SETS)
def test_the_deploy_role_cannot_start_runs(parameter_set):
    template = _role_template(parameter_set)
    stack = template.parameters["TrapheusStackName"]
    machine = f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:{stack}-restore"
    assert not _allows(_role_policies(template, "DeployRole"), "states:StartExecution", machine)
    assert _allows(_role_policies(template, "OperatorRole"), "states:StartExecution", machine)


@pytest.mark.parametrize("parameter_set", ROLE_SETS)
def test_the_operator_role_only_starts_and_follows_this_stacks_runs(parameter_set):
    template = _role_template(parameter_set)
    policies = _role_policies(template, "OperatorRole")
    assert _granted_actions(policies) == OPERATOR_ACTIONS
    stack = template.parameters["TrapheusStackName"]
    other = f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:someone-else-restore"
    assert not _allows(policies, "states:StartExecution", other)
    executions = f"arn:aws:states:{REGION}:{ACCOUNT}:execution"
    assert _allows(policies, "states:DescribeExecution", f"{executions}:{stack}-restore:x")
    assert not _allows(policies, "states:DescribeExecution", f"{executions}:other:x")


@pytest.mark.parametrize(
    ("parameter_set", "subject"),
    [
        ("environment-managed-bucket", "repo:octo-org/trapheus:environment:staging"),
        ("branch-named-bucket", "repo:octo-org/trapheus:ref:refs/heads/main"),
    ],
)
def test_only_the_named_repository_and_environment_or_branch_may_assume_the_roles(parameter_set, subject):
    template = _role_template(parameter_set)
    lookup = _role_lookup(template)
    for role in ("DeployRole", "OperatorRole"):
        trust = template.resolve(template.resources[role]["Properties"]["AssumeRolePolicyDocument"], lookup)
        (statement,) = statements(trust)
        assert statement["Principal"] == {
            "Federated": f"arn:aws:iam::{ACCOUNT}:oidc-provider/token.actions.githubusercontent.com"
        }
        assert statement["Action"] == "sts:AssumeRoleWithWebIdentity"
        assert statement["Condition"] == {
            "StringEquals": {
                "token.actions.githubusercontent.com:aud": "sts.amazonaws.com",
                "token.actions.githubusercontent.com:sub": subject,
            }
        }


def test_the_oidc_provider_is_created_only_when_asked():
    created = _role_template("environment-managed-bucket")
    existing = _role_template("branch-named-bucket")
    assert created.is_enabled("GitHubOidcProviderResource") and not existing.is_enabled("GitHubOidcProviderResource")
    provider = created.resources["GitHubOidcProviderResource"]["Properties"]
    assert provider["Url"] == "https://token.actions.githubusercontent.com"
    assert provider["ClientIdList"] == ["sts.amazonaws.com"]


def test_stack_names_leave_room_for_generated_names():
    """CloudFormation names a role or function stack-LogicalId-suffix (64 characters at most) and cuts
    longer names short, which would move them out of the role's stack-* patterns."""
    spec = bind_template(ROLE_TEMPLATE, ROLE_PARAMETER_SETS["environment-managed-bucket"]).body["Parameters"]
    longest_stack = spec["TrapheusStackName"]["MaxLength"]
    named_by_cloudformation = {"AWS::IAM::Role": 64, "AWS::Serverless::Function": 64, "AWS::Scheduler::Schedule": 64,
                               "AWS::DynamoDB::Table": 255, "AWS::S3::Bucket": 63, "AWS::Events::Rule": 64}  # fmt: skip
    for name, resource in load_template()["Resources"].items():
        limit = named_by_cloudformation.get(resource["Type"])
        if limit and not any(key in resource.get("Properties", {}) for key in ("RoleName", "FunctionName", "Name")):
            assert longest_stack + len(f"-{name}-{SUFFIX}") <= limit, name


@pytest.mark.parametrize("parameter_set", ROLE_SETS)
def test_policies_fit_iam_size_limits(parameter_set):
    template = _role_template(parameter_set)
    lookup = _role_lookup(template)
    for name, document in _documents(template, lookup, ("AWS::IAM::ManagedPolicy",)):
        assert len(json.dumps(document, separators=(",", ":"))) <= 6144, name
    # the stack name is in most ARNs: the managed policies must fit with the longest one allowed too
    longest = "s" * template.body["Parameters"]["TrapheusStackName"]["MaxLength"]
    widest = bind_template(ROLE_TEMPLATE, {**ROLE_PARAMETER_SETS[parameter_set], "TrapheusStackName": longest})
    for name, document in _documents(widest, _role_lookup(widest), ("AWS::IAM::ManagedPolicy",)):
        assert len(json.dumps(document, separators=(",", ":"))) <= 6144, f"{name} with a stack name of {len(longest)}"
    for role in ("DeployRole", "OperatorRole"):
        inline = template.resources[role]["Properties"].get("Policies", [])
        size = sum(len(json.dumps(template.resolve(p["PolicyDocument"], lookup), separators=(",", ":")))
                   for p in inline)  # fmt: skip
        assert size <= 10240, role
        assert len(template.resources[role]["Properties"].get("ManagedPolicyArns", [])) <= 10, role


# -- every policy of the role template ---------------------------------------------------------------


def _all_role_template_statements(parameter_set: str) -> Iterator[tuple[str, dict[str, Any]]]:
    template = _role_template(parameter_set)
    for where, document in _documents(template, _role_lookup(template), ("AWS::IAM::Role", "AWS::IAM::ManagedPolicy")):
        for statement in statements(document):
            yield where, statement


@pytest.mark.parametrize("parameter_set", ROLE_SETS)
def test_no_role_grants_a_wildcard_action(parameter_set):
    for where, statement in _all_role_template_statements(parameter_set):
        assert "NotAction" not in statement and "NotResource" not in statement, where
        if statement["Effect"] == "Allow":
            for action in as_list(statement["Action"]):
                assert "*" not in action and "?" not in action, f"{where}: {action}"



GLOBAL_CONDITION_KEY = re.compile(r"^aws:")


@pytest.mark.parametrize("parameter_set", ROLE_SETS)
def test_every_action_and_condition_key_exists_in_the_iam_reference(parameter_set):
    definition = iam_definition()
    for where, statement in _all_role_template_statements(parameter_set):
        for action in as_list(statement["Action"]):
            service, _, name = action.partition(":")
            privilege = definition[service]["privileges"].get(name)
            assert privilege, f"{where}: unknown action {action}"
            keys = {key for rt in privilege["resource_types"].values() for key in rt["condition_keys"]}
            for operator in statement.get("Condition", {}).values():
                for key in operator:
                    known = GLOBAL_CONDITION_KEY.match(key) or key in keys
                    assert known, f"{where}: {action} has no condition key {key}"
            if "*" in as_list(statement["Resource"]) and statement["Effect"] == "Allow":
                scoped = set(privilege["resource_types"]) - {""}
                assert not scoped, f"{where}: {action} takes Resource '*' but can be scoped to {sorted(scoped)}"


# -- the permissions boundaries and template.yaml -----------------------------------------------------


def _stack_template(parameter_set: str, stack_name: str = "trapheus") -> Template:
    boundaries = {family.parameter: f"arn:aws:iam::{ACCOUNT}:policy/{family.boundary}" for family in FAMILIES}
    parameters = {**BASE_PARAMETERS, **STACK_PARAMETER_SETS[parameter_set], **boundaries}
    return bind_template(TEMPLATE, parameters, stack_name=stack_name)


def _role_grants(template: Template) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """(role, where, statement) for every Allow of every enabled role of template.yaml: its inline
    policies and the stack's managed policies attached to it."""
    lookup = _stack_lookup(template)
    managed = {lookup(name, None): name for name, r in template.resources.items()
               if r["Type"] == "AWS::IAM::ManagedPolicy" and template.is_enabled(name)}  # fmt: skip
    attached = set()
    for role, resource in template.resources.items():
        if resource["Type"] != "AWS::IAM::Role" or not template.is_enabled(role):
            continue
        properties = resource["Properties"]
        documents = [(f"{role}/{p['PolicyName']}", p["PolicyDocument"]) for p in properties.get("Policies", [])]
        arns = template.resolve(properties.get("ManagedPolicyArns", []), lookup)
        for arn in [] if arns is NO_VALUE else arns:
            assert arn in managed, f"{role} attaches {arn}: decide which boundary allows it"
            policy = managed[arn]
            attached.add(policy)
            documents.append((f"{role}/{policy}", template.resources[policy]["Properties"]["PolicyDocument"]))
        for where, document in documents:
            for statement in statements(template.resolve(document, lookup)):
                if statement["Effect"] == "Allow":
                    yield role, where, statement
    assert attached == set(managed.values()), "a managed policy of the stack no role attaches"


@functools.cache
def _boundaries(stack: str, parameters: tuple[tuple[str, str], ...]) -> dict[str, list[dict[str, Any]]]:
    """Statements of each boundary of a role stack made for the trapheus stack ``stack``."""
    roles = bind_template(ROLE_TEMPLATE, {"GitHubRepository": "octo-org/trapheus", "TrustName": "staging",
                                          "TrapheusStackName": stack, **dict(parameters)})  # fmt: skip
    lookup = _role_lookup(roles)
    documents = {family.boundary: roles.resources[family.boundary]["Properties"]["PolicyDocument"] for family in FAMILIES}
    return {boundary: statements(roles.resolve(document, lookup)) for boundary, document in documents.items()}


def _boundary_for(template: Template, role: str) -> list[dict[str, Any]]:
    """The boundary a role of template.yaml carries: its family's."""
    return _family_boundary(template, _family_of(role))


def _family_boundary(template: Template, family: Family) -> list[dict[str, Any]]:
    """A family's boundary as a role stack given the same settings as the trapheus stack makes it."""
    shared = {
        "ManagedDatabasePattern": template.parameters["ManagedDatabasePattern"],
        "ManagedTablePattern": template.parameters["ManagedTablePattern"],
        "TableCopyBucketArns": ",".join(template.parameters["TableCopyBucketArns"]),
        "TableCopyKmsKeyArns": ",".join(template.parameters["TableCopyKmsKeyArns"]),
        "VerifyFunctionArns": ",".join(template.parameters["VerifyFunctionArns"] or []),
    }
    return _boundaries(template.pseudo["AWS::StackName"], tuple(sorted(shared.items())))[family.boundary]


@pytest.mark.parametrize("family", FAMILIES, ids=lambda family: family.boundary)
def test_each_boundary_names_exactly_the_actions_its_roles_use(family):
    used = {a for name in STACK_PARAMETER_SETS for role, _, s in _role_grants(_stack_template(name))
            if _family_of(role) == family for a in as_list(s["Action"])}  # fmt: skip
    allowed = _granted_actions(_family_boundary(_stack_template("defaults"), family))
    assert sorted(used - allowed) == [], f"a role uses an action {family.boundary} would take away"
    assert sorted(allowed - used) == [], f"{family.boundary} allows an action none of its roles uses"


@pytest.mark.parametrize("parameter_set", sorted(STACK_PARAMETER_SETS))
def test_each_boundary_leaves_every_grant_of_its_roles_in_place(parameter_set):
    template = _stack_template(parameter_set)
    for role, where, statement in _role_grants(template):
        boundary, name = _boundary_for(template, role), _family_of(role).boundary
        for action in as_list(statement["Action"]):
            for resource in as_list(statement["Resource"]):
                assert _allows(boundary, action, resource), f"{where}: {name} cuts {action} on {resource}"
        services = statement.get("Condition", {}).get("StringEquals", {}).get("iam:PassedToService")
        if services:
            (passes,) = [s for s in boundary if "iam:PassRole" in as_list(s["Action"])]
            assert set(as_list(services)) <= set(passes["Condition"]["StringEquals"]["iam:PassedToService"]), where


def test_the_boundary_confines_database_changes_to_the_managed_pattern():
    template = _stack_template("everything-on")  # ManagedDatabasePattern orders*
    boundary = _boundary_for(template, "RestoreRole")
    assert _allows(boundary, "rds:DeleteDBInstance", f"arn:aws:rds:{REGION}:{ACCOUNT}:db:orders-db")
    assert not _allows(boundary, "rds:DeleteDBInstance", f"arn:aws:rds:{REGION}:{ACCOUNT}:db:billing-db")
    assert _allows(boundary, "rds:DescribeDBInstances", f"arn:aws:rds:{REGION}:{ACCOUNT}:db:billing-db")
    assert not _allows(boundary, "lambda:InvokeFunction", f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:other-fn")
    table = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table"
    assert not _allows(boundary, "dynamodb:Scan", f"{table}/orders"), "table access is the table roles' alone"


def test_the_table_boundary_confines_tables_to_the_managed_pattern_and_copies_to_the_listed_buckets():
    template = _stack_template("table-options")  # ManagedTablePattern orders*
    boundary = _boundary_for(template, "TableRestoreRole")
    table = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table"
    assert _allows(boundary, "dynamodb:DeleteTable", f"{table}/orders")
    assert _allows(boundary, "dynamodb:RestoreTableFromBackup", f"{table}/orders/backup/01700000000000-abcdef12")
    assert not _allows(boundary, "dynamodb:DeleteTable", f"{table}/billing")
    assert not _allows(boundary, "dynamodb:Scan", f"{table}/billing")
    assert not _allows(boundary, "dynamodb:DeleteTable", f"{table}/trapheus-LockTable-{SUFFIX}")
    assert _allows(boundary, "s3:PutObject", "arn:aws:s3:::orders-vault/backups/orders/x.json.gz")
    assert not _allows(boundary, "s3:PutObject", "arn:aws:s3:::orders-vault/other/x")
    assert not _allows(boundary, "s3:PutObject", "arn:aws:s3:::someone-elses-bucket/backups/x")
    alarm = f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm"
    assert _allows(boundary, "cloudwatch:PutMetricAlarm", f"{alarm}:TargetTracking-table/orders-AlarmHigh-1a2b")
    assert not _allows(boundary, "cloudwatch:PutMetricAlarm", f"{alarm}:billing-errors")
    no_copies = _boundary_for(_stack_template("defaults"), "TableRestoreRole")
    assert not _allows(no_copies, "s3:PutObject", "arn:aws:s3:::orders-vault/backups/x")
    # nothing of the database workflows: no database changes, no restore runs
    assert not _allows(boundary, "rds:DeleteDBInstance", f"arn:aws:rds:{REGION}:{ACCOUNT}:db:orders-db")
    machines = f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine"
    assert not _allows(boundary, "states:StartExecution", f"{machines}:trapheus-restore")
    assert _allows(boundary, "states:StartExecution", f"{machines}:trapheus-table-backup")


@pytest.mark.parametrize("parameter_set", ROLE_SETS)
@pytest.mark.parametrize("family", FAMILIES, ids=lambda family: family.boundary)
def test_each_boundary_fits_in_one_managed_policy_with_the_longest_stack_name(parameter_set, family):
    """A boundary is one managed policy (6,144 characters without white space): with the longest stack name
    the role template accepts, and one entry in each list parameter (each adds its ARNs)."""
    spec = bind_template(ROLE_TEMPLATE, ROLE_PARAMETER_SETS[parameter_set]).body["Parameters"]
    lists = {name: example for name, example in {
        "TableCopyBucketArns": "arn:aws:s3:::orders-dr-backups",
        "TableCopyKmsKeyArns": "arn:aws:kms:eu-west-1:210987654321:key/5e6f7a8b-1111-2222-3333-444455556666",
        "VerifyFunctionArns": f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:orders-smoke-query",
    }.items() if name in spec}  # fmt: skip
    assert len(lists) == sum(spec[name]["Type"] == "CommaDelimitedList" for name in spec), "an example per list"
    longest = "s" * spec["TrapheusStackName"]["MaxLength"]
    parameters = {**ROLE_PARAMETER_SETS[parameter_set], **lists, "TrapheusStackName": longest}
    widest = bind_template(ROLE_TEMPLATE, parameters)
    document = widest.resolve(widest.resources[family.boundary]["Properties"]["PolicyDocument"], _role_lookup(widest))
    assert len(json.dumps(document, separators=(",", ":"))) <= 6144


def test_each_family_has_its_boundary_its_parameter_and_its_output():
    roles = bind_template(ROLE_TEMPLATE, ROLE_PARAMETER_SETS["environment-managed-bucket"]).body
    stack = load_template()
    boundaries = {name for name, r in roles["Resources"].items() if r["Properties"].get("Path") == "/trapheus/"}
    assert boundaries == {family.boundary for family in FAMILIES}, "every boundary of the role stack has a family"
    for family in FAMILIES:
        assert roles["Outputs"][family.parameter]["Value"] == {"Ref": family.boundary}
        assert family.parameter in stack["Parameters"], family.parameter
        assert stack["Conditions"][family.condition] == {"Fn::Not": [{"Fn::Equals": [{"Ref": family.parameter}, ""]}]}
    assert len({family.prefix for family in FAMILIES}) == len(FAMILIES) and FAMILIES[-1].prefix == ""


def test_every_role_of_the_template_takes_its_familys_boundary_parameter():
    for name, resource in load_template()["Resources"].items():
        if resource["Type"] == "AWS::IAM::Role":
            family = _family_of(name)
            expected = {"Fn::If": [family.condition, {"Ref": family.parameter}, {"Ref": "AWS::NoValue"}]}
            assert resource["Properties"].get("PermissionsBoundary") == expected, name


@pytest.mark.parametrize("parameter_set", ROLE_SETS)
def test_the_deploy_role_reaches_every_workflow_and_rule_of_the_stack(parameter_set):
    """State machines are named <stack>-<workflow> and the clean-up rule by CloudFormation: the deploy role's
    grants for their types cover each of them, and it may pass every role to the service that role trusts."""
    role_template = _role_template(parameter_set)
    stack = role_template.parameters["TrapheusStackName"]
    policies = _role_policies(role_template, "DeployRole")
    template = _stack_template("table-options", stack_name=stack)
    lookup = _stack_lookup(template)
    kinds = {"AWS::Serverless::StateMachine": "AWS::StepFunctions::StateMachine", "AWS::Events::Rule": "AWS::Events::Rule"}
    reached = set()
    for name, resource in template.resources.items():
        kind = kinds.get(resource["Type"])
        if not kind or not template.is_enabled(name):
            continue
        if kind == "AWS::Events::Rule":
            arn = f"arn:aws:events:{REGION}:{ACCOUNT}:rule/{stack}-{name}-{SUFFIX}"
        else:
            arn = lookup(name, "Arn")
        service = kind.split("::")[1].lower()
        for action in DEPLOY_ACTIONS[kind]:
            if action.split(":")[0] in {"states", "events"}:
                assert _allows(policies, action, arn), f"{name}: the deploy role cannot {action} on {arn}"
        reached.add(service)
    assert reached == {"stepfunctions", "events"}
    trusted = {
        principal
        for name, resource in template.resources.items()
        if resource["Type"] == "AWS::IAM::Role" and template.is_enabled(name)
        for statement in statements(resource["Properties"]["AssumeRolePolicyDocument"])
        for principal in as_list(statement["Principal"]["Service"])
        # roles RDS assumes (snapshot export) are passed by the functions at run time, not by CloudFormation
        if not principal.endswith(".rds.amazonaws.com")
    }
    (passes,) = [s for s in policies if "iam:PassRole" in as_list(s["Action"])]
    assert trusted == set(passes["Condition"]["StringEquals"]["iam:PassedToService"])


@pytest.mark.parametrize("parameter_set", ["defaults", "everything-on"])
def test_every_role_of_the_stack_carries_its_familys_boundary_when_they_are_given(parameter_set):
    """As deployed (SAM's transform included, so a role SAM generated for a function would count)."""
    boundaries = {family.parameter: f"arn:aws:iam::{ACCOUNT}:policy/{family.boundary}" for family in FAMILIES}
    with_boundaries = render({**PARAMETER_SETS[parameter_set], **boundaries})
    roles = {n: r for n, r in with_boundaries["Resources"].items() if r["Type"] == "AWS::IAM::Role"}
    assert {_family_of(name) for name in roles} == set(FAMILIES)
    for name, role in roles.items():
        assert role["Properties"]["PermissionsBoundary"] == {"Ref": _family_of(name).parameter}, name
    without = rendered(parameter_set)
    assert all("PermissionsBoundary" not in r["Properties"]
               for r in without["Resources"].values() if r["Type"] == "AWS::IAM::Role")  # fmt: skip


# -- the operator role and the calls the command line makes -------------------------------------------


CALL_RESOURCES = {
    "states:StartExecution": lambda params: params["stateMachineArn"],
    "states:DescribeExecution": lambda params: params["executionArn"],
    "states:GetExecutionHistory": lambda params: params["executionArn"],
    "states:ListStateMachines": lambda params: "*",
    "cloudformation:DescribeStackResources": lambda params: (
        f"arn:aws:cloudformation:{REGION}:{ACCOUNT}:stack/{params['StackName']}/0a1b2c3d"
    ),
}


def test_the_operator_role_allows_every_call_of_a_plan_a_followed_restore_and_a_new_copy(monkeypatch):
    """The smoke step, the restore workflow and a new copy, run against the emulator with every AWS call
    recorded; answering a copy's approval stays with people (their own credentials)."""
    from support.rds_fixtures import STACK_PARAMETERS, make_instance
    from typer.testing import CliRunner

    from trapheus import clients
    from trapheus_cli.aws import Aws
    from trapheus_cli.main import app
    from trapheus_local import Emulator

    calls: list[tuple[str, dict[str, Any]]] = []
    original = Aws._client

    def recording_client(self: Aws, service: str) -> Any:
        client = original(self, service)

        def record(model: Any, params: dict[str, Any], **_: Any) -> None:
            calls.append((f"{model.service_model.signing_name}:{model.name}", dict(params)))

        client.meta.events.register("before-parameter-build", record)
        return client

    monkeypatch.setattr(Aws, "_client", recording_client)
    stack = "trapheus-staging"
    runner = CliRunner()
    clients.reset()
    with Emulator() as emulator:
        emulator.deploy(TEMPLATE, {"LogLevel": "WARNING", **STACK_PARAMETERS}, stack_name=stack)
        with emulator.settled():  # a database that existed long before the pipeline ran
            make_instance(emulator.client("rds"), emulator.client("ec2"), "orders-db")
            emulator.client("rds").create_db_snapshot(
                DBInstanceIdentifier="orders-db", DBSnapshotIdentifier="orders-db-snapshot"
            )
        common = ["--stack-name", stack, "--json"]
        plan = runner.invoke(app, ["plan", "orders-db", "--poll-seconds", "0", *common])
        started = runner.invoke(app, ["restore", "orders-db", "--task", "create_snapshot_only", "--no-follow", *common])
        arn = json.loads(started.output)["executionArn"]
        # followed once it has ended: the same calls, without a poll loop racing the run for the interpreter
        assert emulator.execution_ended(arn).wait(timeout=120)
        followed = runner.invoke(app, ["status", arn, "--follow", "--poll-seconds", "0", *common])
        copy = ["copy", "new", "orders-db", "--lifecycle", "orders-staging", "--from", "orders-db-snapshot"]
        copy_plan = runner.invoke(app, [*copy, "--plan", "--poll-seconds", "0", *common])
        copy_started = runner.invoke(app, [*copy, "--no-wait", *common])
        copy_arn = json.loads(copy_started.output)["executionArn"]
        assert emulator.execution_ended(copy_arn).wait(timeout=120)
        copy_followed = runner.invoke(app, ["status", copy_arn, "--follow", "--poll-seconds", "0", *common])
    clients.reset()

    assert plan.exit_code == 0, plan.output
    assert json.loads(plan.output)["ready"] is True
    assert followed.exit_code == 0, followed.output
    operator = _role_policies(
        bind_template(ROLE_TEMPLATE, {"GitHubRepository": "octo-org/trapheus", "TrustName": "staging",
                                      "TrapheusStackName": stack}),  # fmt: skip
        "OperatorRole",
    )
    assert copy_plan.exit_code == 0 and json.loads(copy_plan.output)["plan"]["blockers"] == [], copy_plan.output
    assert copy_started.exit_code == 0, copy_started.output
    assert copy_followed.exit_code == 0, copy_followed.output
    made = {action for action, _ in calls}
    assert {"states:StartExecution", "states:DescribeExecution", "states:GetExecutionHistory"} <= made
    started = {params["stateMachineArn"].rsplit(":", 1)[-1] for action, params in calls if action == "states:StartExecution"}
    assert started == {f"{stack}-restore", f"{stack}-copy"}
    for answer in ("states:SendTaskSuccess", "states:SendTaskFailure"):
        assert not _allows(operator, answer, "*"), f"the operator role may {answer}: approvals are for people"
    for action, params in calls:
        assert action in CALL_RESOURCES, f"the command line calls {action}: decide whether the operator role allows it"
        resource = CALL_RESOURCES[action](params)
        assert _allows(operator, action, resource), f"the operator role refuses {action} on {resource}"


# -- the local engine ---------------------------------------------------------------------------------


def test_the_local_engine_attaches_its_familys_boundary_to_every_role_it_creates():
    from trapheus_local import Emulator

    stack = "trapheus-local"
    boundaries = {family.parameter: f"arn:aws:iam::{ACCOUNT}:policy/trapheus/{stack}-{family.boundary}"
                  for family in FAMILIES}  # fmt: skip
    with Emulator() as emulator:
        parameters = {"LogLevel": "WARNING", "ManagedDatabasePattern": "orders-*", **boundaries}
        emulator.deploy(TEMPLATE, parameters, stack_name=stack)
        iam = emulator.client("iam")
        carried = {role["RoleName"]: iam.get_role(RoleName=role["RoleName"])["Role"].get("PermissionsBoundary", {})
                   .get("PermissionsBoundaryArn") for role in iam.list_roles()["Roles"]}  # fmt: skip
    assert carried
    for name, boundary in carried.items():
        logical_id = name.removeprefix(f"{stack}-").rsplit("-", 1)[0]
        assert boundary == boundaries[_family_of(logical_id).parameter], name
