"""Read a SAM template and resolve its intrinsic functions.

Only what a local deployment needs: parameters (with defaults and overrides),
conditions, SAM ``Globals`` for functions, and the intrinsics a template uses
to wire resources together (``Ref``, ``Fn::GetAtt``, ``Fn::Sub``, ``Fn::If``,
``Fn::Join``, ``Fn::Select``, ``Fn::Split``, ``Fn::FindInMap``, condition
functions). Attribute values come from a lookup the engine provides, because
only the engine knows the physical names moto handed out.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

NO_VALUE = object()  # what ``Ref AWS::NoValue`` resolves to; removed from lists and mappings

_SUB_VARIABLE = re.compile(r"\$\{([^!}][^}]*)\}")
_POLICY_KEYS = frozenset(
    {"Policies", "PolicyDocument", "KeyPolicy", "AssumeRolePolicyDocument", "ManagedPolicyArns", "Policy"}
)

# Resolves ``(logical_id, attribute)``; attribute ``None`` means ``Ref``.
AttributeLookup = Callable[[str, str | None], Any]


class TemplateError(Exception):
    """The template uses something a local deployment cannot resolve."""


# libyaml's parser, where PyYAML was built with it, reads the template ten times faster.
_SafeLoader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _TemplateLoader(_SafeLoader):  # type: ignore[misc,valid-type]
    """YAML with CloudFormation's short-form tags (``!Ref``, ``!GetAtt``, ``!Sub``...)."""


def _short_form(loader: _TemplateLoader, tag_suffix: str, node: yaml.Node) -> dict[str, Any]:
    value: Any
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    if tag_suffix in {"Ref", "Condition"}:
        return {tag_suffix: value}
    if tag_suffix == "GetAtt" and isinstance(value, str):
        value = value.split(".", 1)
    return {f"Fn::{tag_suffix}": value}


_TemplateLoader.add_multi_constructor("!", _short_form)
# Template values are strings as CloudFormation reads them, not YAML timestamps.
_TemplateLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def parse_template(text: str) -> dict[str, Any]:
    """Parse a JSON or YAML template; short-form tags become their ``Fn::`` mappings."""
    body = yaml.load(text, Loader=_TemplateLoader)  # noqa: S506 - a SafeLoader subclass
    if not isinstance(body, dict):
        raise TemplateError("a template is a mapping")
    return body


@dataclass
class Template:
    """A parsed template with its parameters bound."""

    path: Path
    body: dict[str, Any]
    parameters: dict[str, Any]
    pseudo: dict[str, str]
    conditions: dict[str, bool] = field(default_factory=dict)

    @property
    def directory(self) -> Path:
        return self.path.parent

    @property
    def resources(self) -> dict[str, dict[str, Any]]:
        return self.body.get("Resources", {})

    def is_enabled(self, logical_id: str) -> bool:
        condition = self.resources[logical_id].get("Condition")
        return condition is None or self.conditions[condition]

    def function_properties(self, logical_id: str) -> dict[str, Any]:
        """A function's properties with SAM ``Globals.Function`` merged in (unresolved)."""
        merged = copy.deepcopy(self.body.get("Globals", {}).get("Function", {}))
        own = self.resources[logical_id].get("Properties", {})
        for key, value in own.items():
            if key == "Environment":
                variables = merged.setdefault("Environment", {}).setdefault("Variables", {})
                variables.update(value.get("Variables", {}))
            elif key == "Layers" and "Layers" in merged:
                merged["Layers"] = merged["Layers"] + list(value)
            else:
                merged[key] = value
        return merged

    def dependencies(self, logical_id: str) -> set[str]:
        """Logical ids a resource refers to outside its policies (which are never resolved locally)."""
        found: set[str] = set()
        _collect_references(self.resources[logical_id].get("Properties", {}), found)
        found.update(_as_list(self.resources[logical_id].get("DependsOn", [])))
        return {name for name in found if name in self.resources and name != logical_id}

    def resolve(self, value: Any, lookup: AttributeLookup) -> Any:
        """Resolve every intrinsic function in ``value``."""
        return _Resolver(self, lookup).resolve(value)


def load_template(
    path: str | Path,
    parameters: Mapping[str, Any] | None = None,
    *,
    region: str = "us-east-1",
    account_id: str = "123456789012",
    stack_name: str = "trapheus-local",
) -> Template:
    """Parse ``path`` and bind parameters: template defaults, overridden by ``parameters``."""
    template_path = Path(path).resolve()
    body = parse_template(template_path.read_text())
    overrides = dict(parameters or {})
    declared = body.get("Parameters", {})
    unknown = set(overrides) - set(declared)
    if unknown:
        raise TemplateError(f"unknown template parameters: {', '.join(sorted(unknown))}")
    bound: dict[str, Any] = {}
    for name, spec in declared.items():
        if name in overrides:
            value = overrides[name]
        elif "Default" in spec:
            value = spec["Default"]
        else:
            raise TemplateError(f"template parameter {name} has no default; pass a value")
        if spec.get("Type") == "CommaDelimitedList" and isinstance(value, str):
            value = [item.strip() for item in value.split(",")] if value else [""]
        elif spec.get("Type") != "CommaDelimitedList":
            value = str(value)
        bound[name] = value
    pseudo = {
        "AWS::Region": region,
        "AWS::AccountId": account_id,
        "AWS::Partition": "aws",
        "AWS::StackName": stack_name,
        "AWS::StackId": f"arn:aws:cloudformation:{region}:{account_id}:stack/{stack_name}/local",
        "AWS::URLSuffix": "amazonaws.com",
    }
    template = Template(path=template_path, body=body, parameters=bound, pseudo=pseudo)
    _evaluate_conditions(template)
    return template


def _evaluate_conditions(template: Template) -> None:
    pending = dict(template.body.get("Conditions", {}))

    def no_resources(logical_id: str, attribute: str | None) -> Any:
        raise TemplateError(f"a condition refers to resource {logical_id}")

    resolver = _Resolver(template, no_resources)
    for name in pending:
        if name not in template.conditions:
            template.conditions[name] = resolver.condition(name, pending, set())


def _collect_references(value: Any, found: set[str]) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            if key in _POLICY_KEYS:
                continue
            if key == "Ref" and isinstance(item, str):
                found.add(item)
            elif key == "Fn::GetAtt":
                found.add(item[0] if isinstance(item, list) else str(item).split(".", 1)[0])
            elif key == "Fn::Sub":
                text = item[0] if isinstance(item, list) else item
                found.update(match.split(".", 1)[0] for match in _SUB_VARIABLE.findall(text))
                if isinstance(item, list):
                    _collect_references(item[1], found)
            else:
                _collect_references(item, found)
    elif isinstance(value, list):
        for item in value:
            _collect_references(item, found)


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


class _Resolver:
    def __init__(self, template: Template, lookup: AttributeLookup) -> None:
        self.template = template
        self.lookup = lookup

    def resolve(self, value: Any) -> Any:
        if isinstance(value, list):
            items = [self.resolve(item) for item in value]
            return [item for item in items if item is not NO_VALUE]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            (key, argument), = value.items()
            if key == "Ref":
                return self.ref(argument)
            if key == "Condition" and isinstance(argument, str):
                return self.template.conditions[argument]
            if key.startswith("Fn::"):
                return self.function(key, argument)
        resolved = {key: self.resolve(item) for key, item in value.items()}
        return {key: item for key, item in resolved.items() if item is not NO_VALUE}

    def ref(self, name: str) -> Any:
        if name == "AWS::NoValue":
            return NO_VALUE
        if name in self.template.pseudo:
            return self.template.pseudo[name]
        if name in self.template.parameters:
            return self.template.parameters[name]
        if name in self.template.resources:
            return self.lookup(name, None)
        raise TemplateError(f"Ref to unknown name {name}")

    def get_att(self, argument: Any) -> Any:
        if isinstance(argument, str):
            argument = argument.split(".", 1)
        logical_id, attribute = argument[0], self.resolve(argument[1])
        if logical_id not in self.template.resources:
            raise TemplateError(f"GetAtt of unknown resource {logical_id}")
        return self.lookup(logical_id, attribute)

    def sub(self, argument: Any) -> str:
        text, variables = (argument[0], self.resolve(argument[1])) if isinstance(argument, list) else (argument, {})

        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if name in variables:
                return str(variables[name])
            if "." in name and name.split(".", 1)[0] in self.template.resources:
                return str(self.get_att(name))
            return str(self.ref(name))

        return _SUB_VARIABLE.sub(replace, text).replace("${!", "${")

    def function(self, key: str, argument: Any) -> Any:
        if key == "Fn::GetAtt":
            return self.get_att(argument)
        if key == "Fn::Sub":
            return self.sub(argument)
        if key == "Fn::If":
            name, when_true, when_false = argument
            return self.resolve(when_true if self.template.conditions[name] else when_false)
        if key == "Fn::Join":
            separator, items = argument
            return str(separator).join(str(item) for item in self.resolve(items))
        if key == "Fn::Select":
            index, items = self.resolve(argument)
            return items[int(index)]
        if key == "Fn::Split":
            separator, text = self.resolve(argument)
            return str(text).split(separator)
        if key == "Fn::FindInMap":
            name, top, second = self.resolve(argument)[:3]
            return self.template.body["Mappings"][name][top][second]
        if key == "Fn::Base64":
            import base64

            return base64.b64encode(str(self.resolve(argument)).encode()).decode()
        if key == "Fn::GetAZs":
            region = self.resolve(argument) or self.template.pseudo["AWS::Region"]
            return [f"{region}a", f"{region}b", f"{region}c"]
        if key in {"Fn::Equals", "Fn::Not", "Fn::And", "Fn::Or"}:
            return self.boolean(key, argument)
        raise TemplateError(f"intrinsic function {key} is not supported locally")

    def boolean(self, key: str, argument: Any) -> bool:
        if key == "Fn::Equals":
            left, right = (self.resolve(item) for item in argument)
            return _comparable(left) == _comparable(right)
        values = [self.resolve(item) for item in argument]
        if key == "Fn::Not":
            return not values[0]
        if key == "Fn::And":
            return all(values)
        return any(values)

    def condition(self, name: str, declared: dict[str, Any], visiting: set[str]) -> bool:
        if name in self.template.conditions:
            return self.template.conditions[name]
        if name in visiting:
            raise TemplateError(f"condition {name} refers to itself")
        visiting.add(name)
        for dependency in _condition_references(declared[name]):
            self.condition(dependency, declared, visiting)
        value = bool(self.resolve(declared[name]))
        self.template.conditions[name] = value
        return value


def _condition_references(value: Any) -> set[str]:
    found: set[str] = set()
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "Condition" and isinstance(item, str):
                found.add(item)
            else:
                found |= _condition_references(item)
    elif isinstance(value, list):
        for item in value:
            found |= _condition_references(item)
    return found


def _comparable(value: Any) -> Any:
    return [str(item) for item in value] if isinstance(value, list) else str(value)
