"""Every RDS API call the emulator serves: recorded, and passed through the latency model.

Hooked into moto's RDS request handling, so it sees calls from in-process
handlers and from clients of the local server alike.
"""

from __future__ import annotations

import contextlib
import copy
import threading
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol
from unittest import mock

from moto.core.responses import ActionResult
from moto.core.utils import camelcase_to_underscores
from moto.rds.exceptions import RDSClientError
from moto.rds.responses import RDSResponse

from trapheus_local.latency import DESCRIBES, LatencyModel, Scope
from trapheus_local.strict_rds import StrictRds

# RDS operations that change nothing; everything else counts as mutating.
_READ_ONLY_PREFIXES = ("Describe", "List", "Download")


@dataclass(frozen=True)
class RdsCall:
    operation: str
    params: dict[str, Any]
    account: str | None = None
    region: str | None = None

    @property
    def mutating(self) -> bool:
        return not self.operation.startswith(_READ_ONLY_PREFIXES)


class RdsCallLog:
    """Thread-safe record of RDS calls, in the order they arrived."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._calls: list[RdsCall] = []

    def append(self, call: RdsCall) -> None:
        with self._lock:
            self._calls.append(call)

    @property
    def calls(self) -> list[RdsCall]:
        with self._lock:
            return list(self._calls)

    def mutating(self) -> list[RdsCall]:
        return [call for call in self.calls if call.mutating]

    def operations(self) -> list[str]:
        return [call.operation for call in self.calls]

    def clear(self) -> None:
        with self._lock:
            self._calls.clear()


class Extension(Protocol):
    """Operations moto lacks, served here, and what they must learn of the calls moto serves."""

    def operations(self) -> dict[str, Callable[[Mapping[str, Any]], dict]]: ...

    def after(self, operation: str, params: Mapping[str, Any]) -> None: ...


@contextlib.contextmanager
def intercepted(
    log: RdsCallLog,
    latency: LatencyModel,
    strict: StrictRds | None = None,
    extensions: Sequence[Extension] = (),
    default_scope: Scope | None = None,
) -> Iterator[None]:
    """Record every RDS call into ``log``, apply ``latency`` and (unless lenient) the ``strict`` model of the
    call's account and region while the block runs; ``extensions`` (and the strict model) answer the operations
    moto lacks. Extensions model the ``default_scope`` only (None: any)."""
    original_call_action = RDSResponse.call_action

    def call_action(self: RDSResponse) -> Any:
        operation = self._get_action()
        scope: Scope = (self.current_account, self.region)
        model = strict.in_scope(*scope) if strict is not None else None
        if model is not None:
            model.normalise(self.params)
        params = _original_params(self)
        log.append(RdsCall(operation, params, scope[0], scope[1]))
        method_name = camelcase_to_underscores(operation)
        handler = getattr(self, method_name, None)
        fault = latency.fault_for(operation, params, scope)
        refusal = None
        if fault is None and model is not None:
            try:
                model.check(operation, params)
            except RDSClientError as error:
                refusal = error
        if fault is not None or refusal is not None:
            setattr(self, method_name, _raising(refusal or RDSClientError(fault.code, fault.message)))  # type: ignore[union-attr]
            with warnings.catch_warnings():
                # Throttling codes have no error shape in the RDS model; the client maps them anyway.
                warnings.simplefilter("ignore", UserWarning)
                return original_call_action(self)
        in_default = default_scope is None or scope == default_scope
        after = [*(extensions if in_default else []), *([model] if model is not None else [])]
        if handler is not None and operation in DESCRIBES:
            setattr(self, method_name, _describing(handler, operation, params, latency, model, scope))
        elif handler is not None:
            setattr(self, method_name, _mutating(handler, operation, params, latency, model, after, scope))
        return original_call_action(self)

    with contextlib.ExitStack() as stack:
        stack.enter_context(mock.patch.object(RDSResponse, "call_action", call_action))
        served: dict[str, Callable[[RDSResponse], Callable[[Mapping[str, Any]], dict]]] = {}
        if strict is not None:
            stack.enter_context(strict.described())
        for extension in extensions:
            for operation, serve in extension.operations().items():
                served[operation] = lambda response, serve=serve: serve
        if strict is not None:
            for operation in strict.operations():
                # the strict model answers for the account and region of the call
                served[operation] = lambda response, operation=operation: strict.in_scope(
                    response.current_account, response.region
                ).operations()[operation]
        for operation, serve_for in served.items():
            stack.enter_context(
                mock.patch.object(RDSResponse, camelcase_to_underscores(operation), _served(serve_for), create=True)
            )
        yield


def _served(serve_for: Callable[[RDSResponse], Callable[[Mapping[str, Any]], dict]]) -> Callable[[RDSResponse], ActionResult]:
    """An RDSResponse method answering an operation moto lacks."""

    def method(self: RDSResponse) -> ActionResult:
        return ActionResult(serve_for(self)(_original_params(self)))

    return method


def _raising(error: Exception) -> Any:
    def fail() -> Any:
        raise error

    return fail


def _mutating(
    handler: Any,
    operation: str,
    params: dict[str, Any],
    latency: LatencyModel,
    strict: StrictRds | None,
    extensions: Sequence[Extension],
    scope: Scope,
) -> Any:
    def run() -> Any:
        if strict is not None:
            strict.before_delete(operation, params)
        response = handler()
        result = response.result if isinstance(response, ActionResult) else None
        # the scope's own model times its calls where the strict model's timing runs; a timing a bench or a
        # test set stays in force
        runs_strict_timing = isinstance(getattr(latency.timing, "__self__", None), type(strict))
        timing = strict.timing if strict is not None and runs_strict_timing else None
        latency.after_success(operation, params, result if isinstance(result, dict) else {}, scope, timing)
        for extension in extensions:
            extension.after(operation, params)
        return response

    return run


def _describing(
    handler: Any, operation: str, params: dict[str, Any], latency: LatencyModel, strict: StrictRds | None, scope: Scope
) -> Any:
    kind, identifier_parameter, result_key, name_attribute = DESCRIBES[operation]
    identifier = params.get(identifier_parameter)

    def run() -> Any:
        if identifier and strict is not None and strict.answers_not_found(kind, str(identifier)):
            raise strict.not_found_error(kind, str(identifier))
        ghosts = latency.ghosts(kind, identifier, scope)
        if identifier and ghosts:
            return ActionResult({result_key: ghosts})
        response = handler()
        result = response.result if isinstance(response, ActionResult) else None
        if not isinstance(result, dict) or result_key not in result:
            return response
        shown = []
        for resource in result[result_key]:
            status = latency.view(kind, str(getattr(resource, name_attribute, "")), _scope_of(resource, scope))
            if status is not None:
                resource = copy.copy(resource)
                resource.status = status
            shown.append(resource)
        result[result_key] = shown + ghosts
        return response

    return run


def _scope_of(resource: Any, scope: Scope) -> Scope:
    """The account and region a described resource lives in (a snapshot shared by another account: that one's)."""
    backend = getattr(resource, "backend", None)
    account, region = getattr(backend, "account_id", None), getattr(backend, "region_name", None)
    return (str(account), str(region)) if account and region else scope


def _original_params(response: RDSResponse) -> dict[str, Any]:
    """The request parameters under their API names (moto keeps them snake_cased)."""
    params = getattr(response, "params", None) or {}
    original = params.original_dict() if hasattr(params, "original_dict") else dict(params)
    return copy.deepcopy(original)
