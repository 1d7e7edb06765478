"""Which AWS API calls each Lambda function can make, read from the code (no AWS, no moto).

A function's calls are the AWS operations named anywhere in the code its handler can reach: its
``app.py``, then every function, class and module-level assignment of the layer
(``src/layer/python/trapheus``, subpackages included) that the reachable code refers to. An operation is "named" when a
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
# a client built for a service named in the code: clients.client("rds"), or a helper such as _client("s3", given)
CLIENT_CALL = re.compile(r"""client\(\s*["']([a-z0-9-]+)["']""")
# S3 (and Lambda) operations authorized by an IAM action of another name
# (https://docs.aws.amazon.com/AmazonS3/latest/API/API_Operations.html, "Permissions" of each operation)
IAM_ACTIONS_OF = {
    "s3:HeadObject": {"s3:GetObject"},
    "s3:HeadBucket": {"s3:ListBucket"},
    "s3:ListObjects": {"s3:ListBucket"},
    "s3:ListObjectsV2": {"s3:ListBucket"},
    "s3:ListObjectVersions": {"s3:ListBucketVersions"},
    "s3:DeleteObjects": {"s3:DeleteObject"},
    "s3:CopyObject": {"s3:GetObject", "s3:PutObject"},
    "s3:CreateMultipartUpload": {"s3:PutObject"},
    "s3:UploadPart": {"s3:PutObject"},
    "s3:CompleteMultipartUpload": {"s3:PutObject"},
    # Lambda's Invoke operation is authorized as lambda:InvokeFunction
    # (https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html)
    "lambda:Invoke": {"lambda:InvokeFunction"},
}
# A one-word operation name (dynamodb "scan", kms "verify") names a call only as a client method: as a
# string or a plain name it is as likely a step or a module.
ONE_WORD = re.compile(r"^[A-Za-z][a-z]*$")


@dataclass
class Module:
    name: str
    tree: ast.Module
    imports: dict[str, str] = field(default_factory=dict)  # local name -> qualified name
    definitions: dict[str, ast.AST] = field(default_factory=dict)  # top-level def, class or assigned name -> node


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
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                for name in ast.walk(target):
                    if isinstance(name, ast.Name):
                        module.definitions[name.id] = node
    return module


def _module_name(path: Path) -> str:
    parts = [PACKAGE, *path.relative_to(LAYER_PACKAGE).with_suffix("").parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


@functools.lru_cache(maxsize=None)
def layer_modules() -> dict[str, Module]:
    """Every module of the layer package, subpackages included (``trapheus.tables.scan``)."""
    return {_module_name(path): _parse(_module_name(path), path.read_text()) for path in sorted(LAYER_PACKAGE.rglob("*.py"))}


@functools.lru_cache(maxsize=None)
def service_operations() -> dict[str, dict[str, str]]:
    """Spelling (snake_case or CamelCase) -> {botocore service: CamelCase operation} for the layer's clients."""
    import botocore.session
    from botocore import xform_name

    services = sorted({m for path in LAYER_PACKAGE.rglob("*.py") for m in CLIENT_CALL.findall(path.read_text())})
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
    spellings: set[tuple[str, frozenset[str]]] = field(default_factory=set)  # (operation name, its services or none known)
    services: set[str] = field(default_factory=set)  # services a client is built for


def _client_service(node: ast.AST) -> str | None:
    """"rds" for ``clients.client("rds")`` or a helper such as ``_client("rds", given)``."""
    if isinstance(node, ast.Call) and (_dotted(node.func) or [""])[-1].endswith("client") and node.args:
        first = node.args[0]
        if isinstance(first, ast.Constant) and isinstance(first.value, str):
            return first.value
    return None


def _receiver_services(node: ast.AST, variables: dict[str, set[str]]) -> frozenset[str]:
    """Services of the client an attribute is read from, when the code says (else empty: any)."""
    if isinstance(node, ast.Name):
        return frozenset(variables.get(node.id, ()))
    services = {_client_service(n) for n in ast.walk(node)} - {None}
    return frozenset(services)  # type: ignore[arg-type]


def _scan(module: Module, nodes: Iterable[ast.AST], found: Found) -> None:
    fields = {name for table in kind_operation_fields().values() for name in table}
    spellings = service_operations()
    for root in nodes:
        # the kinds' own table of operation names is data, read through the *_op fields
        table = {id(n.value) for n in ast.walk(root) if isinstance(n, ast.keyword) and n.arg in fields}
        # client = dynamodb or clients.client("dynamodb"): calls on ``client`` are DynamoDB's
        variables: dict[str, set[str]] = {}
        for node in ast.walk(root):
            if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
                services = _receiver_services(node.value, {})
                if services:
                    variables.setdefault(node.targets[0].id, set()).update(services)
        # a paginator or waiter names its operation as a string: it is the receiver's
        paginated = {id(n.args[0]): _receiver_services(n.func.value, variables) for n in ast.walk(root)
                     if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.args
                     and n.func.attr in ("get_paginator", "get_waiter", "can_paginate")}  # fmt: skip
        for node in ast.walk(root):
            if isinstance(node, (ast.Name, ast.Attribute)):
                dotted = _dotted(node)
                target = _resolve(module, dotted) if dotted else None
                if target:
                    found.references.add(target)
                name = node.id if isinstance(node, ast.Name) else node.attr
                if isinstance(node, ast.Attribute) and name in fields:
                    owner = (_dotted(node.value) or ["?"])[-1]
                    found.spellings.update((op, frozenset()) for op in _field_operations(owner, name))
                elif isinstance(node, ast.Attribute) and name in spellings:
                    found.spellings.add((name, _receiver_services(node.value, variables)))
                elif name in spellings and not ONE_WORD.match(name):
                    found.spellings.add((name, frozenset()))
            elif isinstance(node, ast.Constant) and isinstance(node.value, str):
                if node.value in spellings and id(node) not in table and not ONE_WORD.match(node.value):
                    found.spellings.add((node.value, paginated.get(id(node), frozenset())))
            service = _client_service(node)
            if service:
                found.services.add(service)


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
            owner, _, name = target.rpartition(".")
            # a module used as a namespace (what is used of it is referenced by name), or the entry itself
            if target in modules or owner not in modules:
                continue
            pending.append((modules[owner], [modules[owner].definitions[name]]))
    actions: set[str] = set()
    for spelling, receiver in found.spellings:
        for service, operation in service_operations()[spelling].items():
            if service in (receiver or found.services):
                action = f"{IAM_PREFIX.get(service, service)}:{operation}"
                actions |= IAM_ACTIONS_OF.get(action, {action})
    return actions


def operations_of_source(source: str) -> set[str]:
    """The actions a handler written as ``source`` could call (to test the analysis itself)."""
    return operations_reachable_from(_parse("handler", source))


def function_operations(code_uri: str) -> set[str]:
    """IAM actions the Lambda function whose CodeUri is ``code_uri`` can call."""
    return operations_reachable_from(_parse(f"{code_uri}/app.py", (REPO / code_uri / "app.py").read_text()))
