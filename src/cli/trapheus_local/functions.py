"""Run Lambda functions in-process, as the Lambda Python runtime would.

moto's Lambda backend runs functions in Docker. Here a function created by the
engine is served by importing its handler from the repository (its ``CodeUri``
folder, with its layers on ``sys.path``) and calling it with the event and a
context object, under the function's environment variables. A handler that
raises comes back as a function error whose payload is
``{"errorType": <exception class name>, "errorMessage": <message>}``, which is
what Step Functions ``Retry``/``Catch`` match on.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import sys
import threading
import traceback
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any
from unittest import mock

from moto.awslambda.models import LambdaBackend


@dataclass(frozen=True)
class FunctionSpec:
    """What the runtime needs to serve one function."""

    logical_id: str
    name: str
    arn: str
    code_dir: Path
    handler: str
    environment: Mapping[str, str] = field(default_factory=dict)
    layer_paths: tuple[Path, ...] = ()
    timeout_seconds: int = 3
    memory_mb: int = 128
    region: str = "us-east-1"
    credentials: Mapping[str, str] = field(default_factory=dict)  # its role's, when not the environment's


@dataclass(frozen=True)
class Invocation:
    """One call of a function: the event it got and what it answered."""

    logical_id: str
    event: Any
    result: Any = None
    error_type: str | None = None
    error_message: str | None = None

    @property
    def failed(self) -> bool:
        return self.error_type is not None


class LambdaContext:
    """The context object the Lambda Python runtime passes to a handler."""

    def __init__(self, spec: FunctionSpec) -> None:
        self.function_name = spec.name
        self.function_version = "$LATEST"
        self.invoked_function_arn = spec.arn
        self.memory_limit_in_mb = spec.memory_mb
        self.aws_request_id = str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/{spec.name}"
        self.log_stream_name = f"local/{self.aws_request_id}"
        self.identity = None
        self.client_context = None
        self._timeout_ms = spec.timeout_seconds * 1000

    def get_remaining_time_in_millis(self) -> int:
        # Time is simulated: a handler always has its whole timeout ahead of it.
        return self._timeout_ms


class InProcessRuntime:
    """Serves registered functions in this process; one invocation at a time (environment is process-wide)."""

    def __init__(self) -> None:
        self._functions: dict[str, FunctionSpec] = {}
        self._modules: dict[str, ModuleType] = {}
        self._lock = threading.RLock()
        self.invocations: list[Invocation] = []

    def register(self, spec: FunctionSpec) -> None:
        self._functions[spec.name] = spec

    def lookup(self, function_name: str) -> FunctionSpec | None:
        """Find a function by name or ARN (a version or alias qualifier is ignored)."""
        name = function_name.split(":")[6] if function_name.startswith("arn:") else function_name.split(":")[0]
        return self._functions.get(name)

    def invoke(self, spec: FunctionSpec, event: Any) -> tuple[bytes, bool]:
        """Run the handler; return the response payload and whether it is a function error."""
        with self._lock, _environment(spec):
            try:
                handler = self._handler(spec)
                result = handler(event, LambdaContext(spec))
                payload = json.dumps(result).encode()
            except Exception as error:  # noqa: BLE001 - every handler failure becomes a function error
                self.invocations.append(Invocation(spec.logical_id, event, None, type(error).__name__, str(error)))
                if os.environ.get("TRAPHEUS_LOCAL_TRACEBACKS"):
                    traceback.print_exc()
                return json.dumps({"errorType": type(error).__name__, "errorMessage": str(error)}).encode(), True
            self.invocations.append(Invocation(spec.logical_id, event, result))
            return payload, False

    def _handler(self, spec: FunctionSpec) -> Any:
        module_path, _, attribute = spec.handler.rpartition(".")
        module = self._modules.get(spec.name)
        if module is None:
            module = _import_from(spec, module_path)
            self._modules[spec.name] = module
        return getattr(module, attribute)

    @contextlib.contextmanager
    def installed(self) -> Iterator[InProcessRuntime]:
        """Route moto Lambda invocations of registered functions to this runtime."""
        original_invoke = LambdaBackend.invoke
        runtime = self

        def invoke(
            self: LambdaBackend, function_name: str, qualifier: str | None, body: Any, headers: Any, response_headers: Any
        ) -> Any:
            spec = runtime.lookup(function_name)
            if spec is None:
                return original_invoke(self, function_name, qualifier, body, headers, response_headers)
            if isinstance(body, bytes):
                body = body.decode()
            payload, errored = runtime.invoke(spec, json.loads(body) if body else {})
            if errored:
                response_headers["x-amz-function-error"] = "Unhandled"
            response_headers["Content-Length"] = str(len(payload))
            return payload

        with mock.patch.object(LambdaBackend, "invoke", invoke):
            yield self


def _import_from(spec: FunctionSpec, module_path: str) -> ModuleType:
    """Import ``module_path`` from the function's folder under a name private to this function."""
    file = spec.code_dir.joinpath(*module_path.split(".")).with_suffix(".py")
    unique_name = f"trapheus_local_function_{spec.logical_id}_{uuid.uuid4().hex[:8]}"
    module_spec = importlib.util.spec_from_file_location(unique_name, file)
    if module_spec is None or module_spec.loader is None:
        raise ImportError(f"cannot import handler module {file}")
    module = importlib.util.module_from_spec(module_spec)
    added = [str(path) for path in (spec.code_dir, *spec.layer_paths) if str(path) not in sys.path]
    sys.path[:0] = added
    try:
        module_spec.loader.exec_module(module)
    finally:
        # The function folder leaves the path (folders of different functions hold same-named
        # modules); layers stay, since handlers import from them lazily too.
        if str(spec.code_dir) in added:
            sys.path.remove(str(spec.code_dir))
    return module


@contextlib.contextmanager
def _environment(spec: FunctionSpec) -> Iterator[None]:
    variables = {
        "AWS_LAMBDA_FUNCTION_NAME": spec.name,
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(spec.memory_mb),
        "AWS_REGION": spec.region,
        "AWS_DEFAULT_REGION": spec.region,
        "_HANDLER": spec.handler,
        **{key: str(value) for key, value in spec.environment.items()},
        **spec.credentials,
        # There is no X-Ray daemon locally.
        "POWERTOOLS_TRACE_DISABLED": "true",
    }
    with mock.patch.dict(os.environ, variables):
        yield
