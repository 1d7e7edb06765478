"""cfn-lint is clean on the template, on the copy with the ASL inlined, and on every documented render."""

from __future__ import annotations

import pytest

from template_support import (
    PARAMETER_SETS,
    TEMPLATE,
    asl_files,
    inline_definitions,
    lint,
    load_template,
    rendered,
    resources_of_type,
)

# A render decides every Condition, so parameters read only by Conditions look unused there.
RENDER_IGNORED_RULES = ("W2001",)

needs_asl = pytest.mark.skipif(not asl_files(), reason="statemachine/*.asl.json not written yet")


def test_template_is_lint_clean():
    assert lint(TEMPLATE.read_text()) == []


@needs_asl
def test_template_with_inlined_definitions_is_lint_clean():
    """cfn-lint's state machine rules (E36xx) only read a Definition, never a DefinitionUri."""
    inlined = inline_definitions(load_template())
    machines = resources_of_type(inlined, "AWS::Serverless::StateMachine")
    assert all("Definition" in m["Properties"] for m in machines.values())
    assert lint(inlined) == []


@needs_asl
@pytest.mark.parametrize("parameter_set", sorted(PARAMETER_SETS))
def test_every_documented_parameter_set_renders_lint_clean(parameter_set):
    findings = [line for line in lint(rendered(parameter_set)) if not line.startswith(RENDER_IGNORED_RULES)]
    assert findings == []


def test_lint_reports_a_broken_template():
    """The lint helper is not blind: a dangling reference is found, and the same template without it is clean
    (a small template: what is tested is the helper, the real ones are linted above)."""
    function = {
        "Type": "AWS::Serverless::Function",
        "Properties": {
            "Runtime": "python3.13", "Handler": "app.handler", "CodeUri": "src/functions/validate_input",
            "Role": {"Fn::GetAtt": ["FunctionRole", "Arn"]},
        },
    }
    role = {
        "Type": "AWS::IAM::Role",
        "Properties": {
            "AssumeRolePolicyDocument": {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}],
            },
        },
    }
    template = {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Transform": "AWS::Serverless-2016-10-31",
        "Resources": {"Function": function, "FunctionRole": role},
    }
    assert lint(template) == []

    function["Properties"]["Role"] = {"Fn::GetAtt": ["NoSuchRole", "Arn"]}
    assert any(line.startswith("E") for line in lint(template))
