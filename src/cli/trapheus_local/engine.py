"""Deploy a SAM template into moto, in-process, and run its state machines.

::

    with Emulator() as aws:
        stack = aws.deploy("template.yaml", parameters={"ManagedDatabasePattern": "orders-*", "RecipientEmails": "ops@example.com"})
        result = stack.run("RestoreStateMachine", {"identifier": "orders-db", "task": "db_restore", "isCluster": False})
        assert result.status == "SUCCEEDED"

The emulator is moto with the trapheus corrections (:mod:`trapheus_local.moto_shims`),
a simulated clock (:mod:`trapheus_local.clock`), in-process Lambda
(:mod:`trapheus_local.functions`) and recorded RDS calls with an optional latency
model (:mod:`trapheus_local.rds_calls`, :mod:`trapheus_local.latency`). Deploying
is :mod:`trapheus_local.resources`' job; moto's Step Functions interpreter runs
the state machines.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import threading
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from unittest import mock

import boto3
from moto import mock_aws
from moto.core.config import default_user_config

from trapheus_local import clock as clock_module
from trapheus_local import moto_shims, speedups, strict_dynamodb, strict_route53
from trapheus_local.clock import VirtualClock
from trapheus_local.cluster_endpoints import CustomEndpoints
from trapheus_local.functions import FunctionSpec, InProcessRuntime, Invocation
from trapheus_local.latency import LatencyModel
from trapheus_local.rds_calls import RdsCallLog, intercepted
from trapheus_local.resources import ACCOUNT_ID, DeployedResource, StackDeployer, placeholder_zip
from trapheus_local.strict_rds import Quotas, StrictRds
from trapheus_local.template import Template, load_template

DEFAULT_STACK_NAME = "trapheus-local"
TERMINAL_STATUSES = frozenset({"SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"})


class ExecutionTimeoutError(Exception):
    """An execution did not finish within the real-time safety limit."""


@dataclass
class ExecutionResult:
    """How one state machine execution ended, with its history."""

    arn: str
    status: str
    output: Any
    error: str | None
    cause: str | None
    events: list[dict[str, Any]]
    entered_states: list[str]
    virtual_seconds: float

    @property
    def succeeded(self) -> bool:
        return self.status == "SUCCEEDED"


class Deployment:
    """A template deployed into the running emulator, in one account and region."""

    def __init__(
        self, emulator: Emulator, template: Template, *, account_id: str = ACCOUNT_ID, region: str | None = None
    ) -> None:
        self.emulator = emulator
        self.template = template
        self.account_id = account_id
        self.region = region or emulator.region
        self.resources: dict[str, DeployedResource] = {}

    def client(self, service: str, region: str | None = None) -> Any:
        """A client of the emulator in this deployment's account (and region, unless told)."""
        return self.emulator.client(service, account_id=self.account_id, region=region or self.region)

    @property
    def rds_calls(self) -> RdsCallLog:
        return self.emulator.rds_calls

    @property
    def not_emulated(self) -> list[str]:
        """Logical ids of resources that exist only as names (no local behaviour)."""
        return [logical_id for logical_id, resource in self.resources.items() if not resource.emulated]

    def physical_id(self, logical_id: str) -> Any:
        return self._resource(logical_id).ref

    def state_machine_arn(self, logical_id: str) -> str:
        return str(self._resource(logical_id, "AWS::Serverless::StateMachine").ref)

    def function_arn(self, logical_id: str) -> str:
        return str(self._resource(logical_id, "AWS::Serverless::Function").attributes["Arn"])

    def state_machines(self) -> dict[str, str]:
        return {
            logical_id: str(resource.ref)
            for logical_id, resource in self.resources.items()
            if resource.type == "AWS::Serverless::StateMachine"
        }

    def invocations(self, logical_id: str | None = None) -> list[Invocation]:
        """Function invocations so far (of one function, or all)."""
        return [call for call in self.emulator.runtime.invocations if logical_id in (None, call.logical_id)]

    def start(self, logical_id: str, execution_input: Any, *, name: str | None = None) -> str:
        """Start an execution and return its ARN without waiting."""
        response = self.client("stepfunctions").start_execution(
            stateMachineArn=self.state_machine_arn(logical_id),
            name=name or f"local-{uuid.uuid4().hex[:12]}",
            input=json.dumps(execution_input),
        )
        return str(response["executionArn"])

    def run(
        self, logical_id: str, execution_input: Any, *, name: str | None = None, real_timeout: float = 60.0
    ) -> ExecutionResult:
        """Start an execution and wait until it ends; ``real_timeout`` only guards against a hang."""
        started_at = self.emulator.clock.elapsed
        arn = self.start(logical_id, execution_input, name=name)
        return self.wait(arn, real_timeout=real_timeout, virtual_start=started_at)

    def wait(self, execution_arn: str, *, real_timeout: float = 60.0, virtual_start: float = 0.0) -> ExecutionResult:
        if not self.emulator.execution_ended(execution_arn).wait(real_timeout):
            raise ExecutionTimeoutError(f"{execution_arn} still running after {real_timeout}s")
        sfn = self.client("stepfunctions")
        described = sfn.describe_execution(executionArn=execution_arn)
        events = _history_of(self.account_id, self.region, execution_arn)
        output = described.get("output")
        return ExecutionResult(
            arn=execution_arn,
            status=described["status"],
            output=json.loads(output) if output else None,
            error=described.get("error"),
            cause=described.get("cause"),
            events=events,
            entered_states=entered_states(events),
            virtual_seconds=self.emulator.clock.elapsed - virtual_start,
        )

    def nested(self, result: ExecutionResult) -> list[ExecutionResult]:
        """The runs ``result`` started as nested executions (``states:startExecution``), in the order it started them."""
        arns = dict.fromkeys(_NESTED_EXECUTION.findall(json.dumps(result.events, default=str)))
        return [self.wait(arn) for arn in arns if arn != result.arn]

    def _resource(self, logical_id: str, expected_type: str | None = None) -> DeployedResource:
        if logical_id not in self.resources:
            raise KeyError(f"{logical_id} is not deployed (is its Condition false?)")
        resource = self.resources[logical_id]
        if expected_type and resource.type != expected_type:
            raise KeyError(f"{logical_id} is a {resource.type}, not a {expected_type}")
        return resource


# a nested run's ARN in its parent's history (task events carry StartExecution's answer as JSON text)
_NESTED_EXECUTION = re.compile(r'ExecutionArn\\?": ?\\?"(arn:aws:states:[^"\\]+:execution:[^"\\]+)')


def _history_of(account_id: str, region: str, execution_arn: str) -> list[dict[str, Any]]:
    """The execution's events as ``get_execution_history`` gives them, read from the interpreter.

    Going through the API would serialise the whole history to JSON and back (~50 ms a run).
    """
    from moto.stepfunctions.parser.models import stepfunctions_parser_backends

    backend = stepfunctions_parser_backends[account_id][region]
    return [
        {**event, "timestamp": _as_datetime(event["timestamp"])} if "timestamp" in event else dict(event)
        for event in backend.get_execution_history(execution_arn)["events"]
    ]


def _as_datetime(value: Any) -> Any:
    return datetime.fromisoformat(value) if isinstance(value, str) else value


class _ExecutionEnds:
    """One event per execution, set when the interpreter finishes it: waiting for a run needs no polling."""

    def __init__(self) -> None:
        self._events: dict[str, threading.Event] = {}
        self._lock = threading.Lock()

    def event(self, execution_arn: str) -> threading.Event:
        with self._lock:
            return self._events.setdefault(execution_arn, threading.Event())

    @contextlib.contextmanager
    def installed(self) -> Iterator[None]:
        from moto.stepfunctions.parser.backend.execution import BaseExecutionWorkerCommunication

        original = BaseExecutionWorkerCommunication.terminated
        ends = self

        def terminated(communication: BaseExecutionWorkerCommunication) -> None:
            try:
                original(communication)
            finally:
                ends.event(communication.execution.exec_arn).set()

        with mock.patch.object(BaseExecutionWorkerCommunication, "terminated", terminated):
            yield


def entered_states(events: list[dict[str, Any]]) -> list[str]:
    """Names of the states an execution entered, in order."""
    return [
        event["stateEnteredEventDetails"]["name"]
        for event in events
        if event["type"].endswith("StateEntered") and "stateEnteredEventDetails" in event
    ]


class Emulator:
    """moto with the trapheus corrections, a simulated clock, in-process Lambda and RDS call recording.

    A context manager; it starts moto (or joins a mock that is already running). ``strict`` (the default)
    puts the strict RDS model (:mod:`trapheus_local.strict_rds`), the strict DynamoDB model
    (:mod:`trapheus_local.strict_dynamodb`) and the strict Route 53 model (:mod:`trapheus_local.strict_route53`)
    in front of moto: their rules, and operations taking their
    modelled time on the virtual clock. ``strict=False`` is moto as it is, with
    the latency model alone: for debugging only.

    Everything happens in moto's default account (:data:`~trapheus_local.resources.ACCOUNT_ID`) and ``region``
    unless told: :meth:`client`, :meth:`deploy` and :meth:`strict_in` take another account and region, whose
    clients use credentials of that account (an assumed role's, as a Lambda function's are), so a second stack
    (a DR account's, say) runs beside the first under RDS's rules for its own account and region.
    """

    def __init__(
        self,
        *,
        latency: LatencyModel | None = None,
        region: str | None = None,
        strict: bool = True,
        quotas: Quotas | None = None,
    ) -> None:
        self.region = region or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"
        self.latency = latency or LatencyModel()
        self.latency.default_scope = (ACCOUNT_ID, self.region)
        self.clock = VirtualClock()
        self.strict: StrictRds | None = None
        if strict:
            self.strict = StrictRds(
                self.latency, lambda: self.clock.elapsed, account_id=ACCOUNT_ID, region=self.region, quotas=quotas
            )
        self.custom_endpoints = CustomEndpoints(lambda: self.clock.elapsed, self.latency, account_id=ACCOUNT_ID, region=self.region)
        self.rds_calls = RdsCallLog()
        self.runtime = InProcessRuntime()
        self._stack: contextlib.ExitStack | None = None
        self._clients: dict[tuple[str, str | None, str | None], Any] = {}
        self._sessions: dict[str, boto3.session.Session] = {}
        self._clients_lock = threading.RLock()
        self._ends = _ExecutionEnds()

    def __enter__(self) -> Emulator:
        stack = contextlib.ExitStack()
        try:
            # Everything, handlers included, must reach the in-process backends, not a configured endpoint.
            stack.enter_context(mock.patch.dict(os.environ))
            for variable in [name for name in os.environ if name.startswith("AWS_ENDPOINT_URL")]:
                del os.environ[variable]
            stack.enter_context(mock_aws())
            stack.enter_context(mock.patch.dict(default_user_config["stepfunctions"], {"execute_state_machine": True}))
            stack.enter_context(moto_shims.installed())
            stack.enter_context(clock_module.installed(self.clock))
            if self.strict is not None:
                stack.enter_context(strict_dynamodb.installed(self.clock))
                stack.enter_context(strict_route53.installed(self.clock))
            stack.enter_context(speedups.installed())
            if self.strict is not None:
                self.latency.timed(self.strict.timing, lambda: self.clock.elapsed)
            stack.enter_context(
                intercepted(self.rds_calls, self.latency, self.strict, [self.custom_endpoints], (ACCOUNT_ID, self.region))
            )
            stack.enter_context(self.runtime.installed())
            stack.enter_context(_quiet_interpreter())
            stack.enter_context(self._ends.installed())
        except BaseException:
            stack.close()
            raise
        self._stack = stack
        return self

    def __exit__(self, *exc_info: Any) -> None:
        stack, self._stack = self._stack, None
        self._clients.clear()
        self._sessions.clear()
        if stack is not None:
            stack.close()

    @contextlib.contextmanager
    def settled(self) -> Iterator[None]:
        """RDS operations made inside finish at once and are seen at once (and DynamoDB tables made inside are
        ACTIVE, and Route 53 changes made inside in sync): databases, snapshots, tables and DNS records that
        existed before the run under test. Without the strict model, nothing changes."""
        with self.strict.instantly() if self.strict is not None else contextlib.nullcontext():
            yield
        strict_dynamodb.settle_if_installed()
        strict_route53.settle_if_installed()

    def settle(self) -> None:
        """Let every RDS, DynamoDB and Route 53 operation in flight finish now, as if enough time had passed."""
        self.latency.settle()
        self.custom_endpoints.settle()
        if self.strict is not None:
            self.strict.settle()
        strict_dynamodb.settle_if_installed()
        strict_route53.settle_if_installed()

    def resolve(
        self, hosted_zone_id: str, name: str, *, account_id: str | None = None, region: str | None = None
    ) -> strict_route53.Resolution | None:
        """The database ``name`` in the hosted zone reaches once its changes are in sync (its CNAME followed to
        an RDS endpoint of the account and region), or None (:meth:`trapheus_local.strict_route53.StrictRoute53.resolve`)."""
        rds = self.client("rds", account_id=account_id, region=region)
        return strict_route53.current().resolve(hosted_zone_id, name, rds, account_id=account_id or ACCOUNT_ID)

    def strict_in(self, account_id: str, region: str | None = None) -> StrictRds:
        """The strict RDS model of another account (and region): its quotas are set like :attr:`strict`'s."""
        if self.strict is None:
            raise RuntimeError("the emulator is lenient: it has no strict model")
        return self.strict.in_scope(account_id, region or self.region)

    def serve_function(
        self, name: str, code_dir: str | Path, *, handler: str = "app.handler", environment: Mapping[str, str] | None = None
    ) -> str:
        """Create a Lambda function of the user's own (a verify function, say) served in-process from
        ``code_dir``, as the stack's functions are; returns its ARN."""
        trust = {"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]}
        role = self.client("iam").create_role(RoleName=f"{name}-role"[:64], AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
        arn = str(self.client("lambda").create_function(
            FunctionName=name, Runtime="python3.13", Role=role, Handler=handler, Code={"ZipFile": placeholder_zip()},
            Environment={"Variables": dict(environment or {})},
        )["FunctionArn"])
        self.runtime.register(FunctionSpec(
            logical_id=name, name=name, arn=arn, code_dir=Path(code_dir), handler=handler,
            environment=dict(environment or {}), region=self.region,
        ))
        return arn

    def client(self, service: str, *, account_id: str | None = None, region: str | None = None) -> Any:
        """A client of the emulator, created after moto started (default: its own account and region)."""
        account = None if account_id in (None, ACCOUNT_ID) else account_id
        key = (service, account, None if region in (None, self.region) else region)
        with self._clients_lock:
            if key not in self._clients:
                session = _session() if account is None else self.session(account)
                self._clients[key] = session.client(service, region_name=region or self.region)
            return self._clients[key]

    def session(self, account_id: str) -> boto3.session.Session:
        """A session in ``account_id``: credentials of a role assumed there, as an operator of that account has."""
        if account_id == ACCOUNT_ID:
            return _session()
        with self._clients_lock:
            if account_id not in self._sessions:
                role = f"arn:aws:iam::{account_id}:role/trapheus-local-operator"
                self._sessions[account_id] = assumed_session(self.client("sts"), role, region=self.region)
            return self._sessions[account_id]

    def execution_ended(self, execution_arn: str) -> threading.Event:
        """Set once the execution has ended, whatever its status."""
        return self._ends.event(execution_arn)

    def deploy(
        self,
        template_path: str | Path,
        parameters: Mapping[str, Any] | None = None,
        *,
        stack_name: str = DEFAULT_STACK_NAME,
        account_id: str = ACCOUNT_ID,
        region: str | None = None,
    ) -> Deployment:
        """Deploy a template (into ``account_id`` and ``region``; default: the emulator's own)."""
        if self._stack is None:
            raise RuntimeError("use the Emulator as a context manager before deploying")
        region = region or self.region
        template = load_template(template_path, parameters, region=region, account_id=account_id, stack_name=stack_name)
        deployment = Deployment(self, template, account_id=account_id, region=region)
        StackDeployer(self, deployment).deploy()
        return deployment


@contextlib.contextmanager
def _quiet_interpreter() -> Any:
    """moto's interpreter logs every Fail state as an error; the execution's status already says it."""
    interpreter_log = logging.getLogger("moto.stepfunctions.parser")
    previous = interpreter_log.level
    interpreter_log.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        interpreter_log.setLevel(previous)


_SESSION: list[boto3.session.Session] = []


def assumed_session(sts: Any, role_arn: str, *, region: str, name: str = "trapheus-local") -> boto3.session.Session:
    """A session under the credentials of ``role_arn`` (moto answers in the role's account)."""
    credentials = sts.assume_role(RoleArn=role_arn, RoleSessionName=name)["Credentials"]
    return boto3.session.Session(
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
        region_name=region,
    )


def _session() -> boto3.session.Session:
    """One boto3 session for the emulator's own clients: service models load once per process."""
    if not _SESSION:
        _SESSION.append(boto3.session.Session())
    return _SESSION[0]


