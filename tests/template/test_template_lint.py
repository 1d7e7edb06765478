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
    """The lint helper is not blind: a dangling reference is found."""
    template = load_template()
    template["Resources"]["ValidateInputFunction"]["Properties"]["Role"] = {"Fn::GetAtt": ["NoSuchRole", "Arn"]}
    assert any(line.startswith("E") for line in lint(template))
