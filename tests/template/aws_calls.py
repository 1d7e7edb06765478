"""Which AWS API calls each Lambda function can make, read from the code (no AWS, no moto).

A function's calls are the AWS operations named anywhere in the code its handler can reach: its
``app.py``, then every function, class and module-level statement of the layer
(``src/layer/python/trapheus``) that the reachable code refers to. An operation is "named" when a
string or identifier equals an operation of a service the layer builds clients for, in either
spelling (``describe_db_instances`` or ``DescribeDBInstances``), or when the code reads an ``*_op``
field of the kinds in ``trapheus/kinds.py`` (``kind.modify_op``: every value that field takes). Only
operations of services whose client the reachable code builds count.

The analysis over-approximates (a branch that never runs for instances still counts), which is what
a permission check wants: every call the code could make must be granted.
"""

from __future__ import annotations

import ast
import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
LAYER_PACKAGE = REPO / "src" / "layer" / "python" / "trapheus"
PACKAGE = "trapheus"

# botocore service name -> IAM service prefix, for the services the layer builds clients for
IAM_PREFIX = {"stepfunctions": "states"}
CLIENT_CALL = re.compile(r"""clients\.client\(\s*["']([a-z0-9-]+)["']\s*\)""")


@dataclass
class Module:
    name: str
    tree: ast.Module
    imports: dict[str, str] = field(default_factory=dict)  # local name -> qualified name
    definitions: dict[str, ast.AST] = field(default_factory=dict)  # top-level def/class name -> node


def _parse(name: str, source: str) -> Module:
    tree = ast.parse(source, filename=name)
    module = Module(name, tree)
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                module.imports[alias.asname or alias.name] = f"{node.module}.{alias.name}"
        elif isinstance(node, ast.Import):
            for alias in node.names:
                module.imports[alias.asname or alias.name.split(".")[0]] = alias.name
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            module.definitions[node.name] = node
    return module


@functools.lru_cache(maxsize=None)
def layer_modules() -> dict[str, Module]:
    return {
        f"{PACKAGE}.{path.stem}": _parse(f"{PACKAGE}.{path.stem}", path.read_text())
        for path in sorted(LAYER_PACKAGE.glob("*.py"))
        if path.stem != "__init__"
    }


@functools.lru_cache(maxsize=None)
def service_operations() -> dict[str, dict[str, str]]:
    """Spelling (snake_case or CamelCase) -> {botocore service: CamelCase operation} for the layer's clients."""
    import botocore.session
    from botocore import xform_name

    services = sorted({m for path in LAYER_PACKAGE.glob("*.py") for m in CLIENT_CALL.findall(path.read_text())})
    session = botocore.session.get_session()
    spellings: dict[str, dict[str, str]] = {}
    for service in services:
        for operation in session.get_service_model(service).operation_names:
            for spelling in (operation, xform_name(operation)):
                spellings.setdefault(spelling, {})[service] = operation
    return spellings


@functools.lru_cache(maxsize=None)
def kind_operation_fields() -> dict[str, dict[str, frozenset[str]]]:
    """Kind class -> ``*_op`` field -> every operation name trapheus/kinds.py gives that field."""
    values: dict[str, dict[str, set[str]]] = {}
    for node in ast.walk(layer_modules()[f"{PACKAGE}.kinds"].tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            for keyword in node.keywords:
                if keyword.arg and keyword.arg.endswith("_op") and isinstance(keyword.value, ast.Constant):
                    values.setdefault(node.func.id, {}).setdefault(keyword.arg, set()).add(str(keyword.value.value))
    return {kind: {name: frozenset(found) for name, found in fields.items()} for kind, fields in values.items()}


def _field_operations(owner: str, field_name: str) -> set[str]:
    """Operations ``<owner>.<field_name>`` can name: by the code's naming, ``snapshot`` holds a SnapshotKind
    and ``kind``/``each_kind`` a DatabaseKind; any other owner may hold either."""
    tables = kind_operation_fields()
    if owner == "snapshot":
        kinds = ["SnapshotKind"]
    elif owner.endswith("kind"):
        kinds = ["DatabaseKind"]
    else:
        kinds = list(tables)
    return {operation for kind in kinds for operation in tables.get(kind, {}).get(field_name, ())}


def _resolve(module: Module, dotted: list[str]) -> str | None:
    """Qualified name of a layer definition that ``a.b.c`` refers to in ``module``, if any."""
    head, rest = dotted[0], dotted[1:]
    if head in module.definitions:
        return f"{module.name}.{head}"
    qualified = module.imports.get(head)
    if qualified is None:
        return None
    parts = qualified.split(".") + rest
    modules = layer_modules()
    for cut in range(len(parts), 0, -1):
        owner = ".".join(parts[:cut])
        if owner in modules:
            remainder = parts[cut:]
            if not remainder:
                return owner  # the module itself
            return f"{owner}.{remainder[0]}" if remainder[0] in modules[owner].definitions else None
    return None


def _dotted(node: ast.AST) -> list[str] | None:
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.insert(0, node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        return [node.id, *parts]
    return None


@dataclass
class Found:
    references: set[str] = field(default_factory=set)  # layer definitions referred to
    spellings: set[str] = field(default_factory=set)  # operation names named
    services: set[str] = field(default_factory=set)  # services a client is built for


def _scan(module: Module, nodes: Iterable[ast.AST], found: Found) -> None:
    fields = {name for table in kind_operation_fields().values() for name in table}
    spellings = service_operations()
    for root in nodes:
        # the kinds' own table of operation names is data, read through the *_op fields
        table = {id(n.value) for n in ast.walk(root) if isinstance(n, ast.keyword) and n.arg in fields}
        for node in ast.walk(root):
            if isinstance(node, (ast.Name, ast.Attribute)):
                dotted = _dotted(node)
                target = _resolve(module, dotted) if dotted else None
                if target:
                    found.references.add(target)
                name = node.id if isinstance(node, ast.Name) else node.attr
                if isinstance(node, ast.Attribute) and name in fields:
                    owner = (_dotted(node.value) or ["?"])[-1]
                    found.spellings.update(_field_operations(owner, name))
                elif name in spellings:
                    found.spellings.add(name)
            elif isinstance(node, ast.Constant) and isinstance(node.value, str):
                if node.value in spellings and id(node) not in table:
                    found.spellings.add(node.value)
            elif isinstance(node, ast.Call) and (_dotted(node.func) or [""])[-1] == "client" and node.args:
                if isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str):
                    found.services.add(node.args[0].value)


def _module_level(module: Module) -> list[ast.AST]:
    skipped = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Import, ast.ImportFrom)
    return [node for node in module.tree.body if not isinstance(node, skipped)]


def operations_reachable_from(entry: Module) -> set[str]:
    """IAM actions (``service:Operation``) that the code reachable from ``entry``'s module body can call.

    Only operations of services the reachable code builds a client for count (a step named "verify" is
    not KMS's Verify when no KMS client is in reach).
    """
    modules = layer_modules()
    seen: set[str] = set()
    found = Found()
    pending: list[tuple[Module, list[ast.AST]]] = [(entry, list(entry.tree.body))]
    while pending:
        module, nodes = pending.pop()
        _scan(module, nodes, found)
        for target in found.references - seen:
            seen.add(target)
            if target in modules:  # a module used as a namespace: its top-level code runs on import
                pending.append((modules[target], _module_level(modules[target])))
                continue
            owner, _, name = target.rpartition(".")
            pending.append((modules[owner], [modules[owner].definitions[name]]))
            if owner not in seen:
                seen.add(owner)
                pending.append((modules[owner], _module_level(modules[owner])))
    actions = set()
    for spelling in found.spellings:
        for service, operation in service_operations()[spelling].items():
            if service in found.services:
                actions.add(f"{IAM_PREFIX.get(service, service)}:{operation}")
    return actions


def operations_of_source(source: str) -> set[str]:
    """The actions a handler written as ``source`` could call (to test the analysis itself)."""
    return operations_reachable_from(_parse("handler", source))


def function_operations(code_uri: str) -> set[str]:
    """IAM actions the Lambda function whose CodeUri is ``code_uri`` can call."""
    return operations_reachable_from(_parse(f"{code_uri}/app.py", (REPO / code_uri / "app.py").read_text()))
