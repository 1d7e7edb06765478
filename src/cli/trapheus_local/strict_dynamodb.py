"""The strict DynamoDB model: what DynamoDB refuses or delays where moto accepts at once.

moto makes a table ACTIVE the moment CreateTable returns, forgets a deleted table at once,
takes any number of items in one BatchWriteItem and never throttles. The table workflows
depend on each of those behaviours, so the emulator enforces them here (installed by
:class:`trapheus_local.engine.Emulator` when ``strict`` is on), each rule citing the AWS
page it comes from and answering with DynamoDB's own error code and message:

- :meth:`StrictDynamoDB.check_batch_size` - at most 25 requests and 16 MB per BatchWriteItem;
- :meth:`StrictDynamoDB.check_name_free` - a deleted table's name is taken until the delete completes;
- :meth:`StrictDynamoDB.check_active` - a table is CREATING (no reads, writes or updates) for a
  modelled time on the emulator's virtual clock before it is ACTIVE;
- :meth:`StrictDynamoDB.unprocessed` - throttling, which tests inject, comes back as ``UnprocessedItems``.

It also models the time a backup takes to become AVAILABLE and an export to COMPLETE, and
lets tests make any call fail (:meth:`StrictDynamoDB.fail`) or stop a call halfway until
they release it (:meth:`StrictDynamoDB.hold`), which is how a run is stopped mid-load.

Tables that a deployment creates are ACTIVE when the deployment returns, as a
CloudFormation stack completes only once its ``AWS::DynamoDB::Table`` resources are ACTIVE.
"""

from __future__ import annotations

import contextlib
import copy
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from unittest import mock

from moto.core.exceptions import JsonRESTError
from moto.core.responses import ActionResult
from moto.core.utils import camelcase_to_underscores
from moto.dynamodb.exceptions import ERROR_TYPE_PREFIX
from moto.dynamodb.responses import DynamoHandler

from trapheus_local.clock import VirtualClock

MAX_BATCH_REQUESTS = 25
MAX_BATCH_BYTES = 16 * 1024 * 1024

# Data-plane calls that need an ACTIVE table, and the calls that change a table's definition.
DATA_OPERATIONS = frozenset({"PutItem", "GetItem", "UpdateItem", "DeleteItem", "Query", "Scan", "BatchWriteItem",
                             "BatchGetItem"})  # fmt: skip
TABLE_UPDATES = frozenset({"UpdateTable", "DeleteTable"})

_current: list[StrictDynamoDB] = []


class DynamoDBError(JsonRESTError):
    """An error DynamoDB answers with: its ``__type`` carries the DynamoDB error code."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(ERROR_TYPE_PREFIX + code, message)


@dataclass
class Fault:
    """After ``after`` matching calls went through, make ``operation`` fail with ``code`` (for ``table``, or any
    when None), ``times`` times or always."""

    operation: str
    table: str | None = None
    code: str = "InternalServerError"
    message: str = "Internal server error"
    times: int | None = 1
    after: int = 0
    seen: int = 0
    raised: int = 0

    def matches(self, operation: str, tables: set[str]) -> bool:
        if operation != self.operation or (self.times is not None and self.raised >= self.times):
            return False
        if self.table is not None and self.table not in tables:
            return False
        self.seen += 1
        return self.seen > self.after


@dataclass
class Throttle:
    """After ``after`` calls go through, ``calls`` BatchWriteItem calls on ``table`` leave ``items`` of their requests unprocessed."""

    table: str
    calls: int | None = 1  # None: every call from then on
    items: int | None = None  # None: every request of the call
    after: int = 0
    seen: int = 0
    applied: int = 0


@dataclass
class Gate:
    """A call that waits, once it is reached, until the test releases it."""

    operation: str
    table: str | None
    reached: threading.Event = field(default_factory=threading.Event)
    released: threading.Event = field(default_factory=threading.Event)
    finished: threading.Event = field(default_factory=threading.Event)  # the held call has been answered
    used: bool = False

    def release(self) -> None:
        self.released.set()


@dataclass
class _Pending:
    """A resource in an in-between status until a moment on the virtual clock."""

    status: str
    until: float
    description: dict[str, Any] | None = None  # a deleted table's last description, shown while DELETING


class StrictDynamoDB:
    """State and rules; :func:`installed` hooks it into moto's DynamoDB request handling."""

    def __init__(self, clock: VirtualClock, *, create_seconds: float = 20.0, delete_seconds: float = 10.0,
                 restore_seconds: float = 90.0, backup_seconds: float = 5.0, export_seconds: float = 60.0) -> None:  # fmt: skip
        self.clock = clock
        self.create_seconds, self.delete_seconds, self.restore_seconds = create_seconds, delete_seconds, restore_seconds
        self.backup_seconds, self.export_seconds = backup_seconds, export_seconds
        self._lock = threading.RLock()
        self._creating: dict[str, _Pending] = {}
        self._deleting: dict[str, _Pending] = {}
        self._backups: dict[str, _Pending] = {}
        self._exports: dict[str, _Pending] = {}
        self._ended_exports: dict[str, str] = {}
        self.faults: list[Fault] = []
        self.throttles: list[Throttle] = []
        self.gates: list[Gate] = []
        self.unprocessed_items = 0  # requests handed back as UnprocessedItems so far
        self.written: dict[str, int] = {}  # put and delete requests BatchWriteItem carried out, per table
        self._export_endings: dict[str, str] = {}

    # -- what tests configure ------------------------------------------------------------------

    def fail(self, operation: str, table: str | None = None, *, code: str = "InternalServerError",
             message: str = "Internal server error", times: int | None = 1, after: int = 0) -> Fault:  # fmt: skip
        with self._lock:
            fault = Fault(operation, table, code, message, times, after)
            self.faults.append(fault)
            return fault

    def throttle(self, table: str, *, calls: int | None = 1, items: int | None = None, after: int = 0) -> Throttle:
        with self._lock:
            throttle = Throttle(table, calls, items, after)
            self.throttles.append(throttle)
            return throttle

    def end_export(self, table: str, status: str = "FAILED") -> None:
        """The next export of ``table`` ends ``status`` instead of COMPLETED."""
        with self._lock:
            self._export_endings[table] = status

    def hold(self, operation: str, table: str | None = None) -> Gate:
        with self._lock:
            gate = Gate(operation, table)
            self.gates.append(gate)
            return gate

    def clear(self) -> None:
        """Forget faults, throttles and gates (pending statuses run their course)."""
        with self._lock:
            for gate in self.gates:
                gate.release()
            self.faults.clear()
            self.throttles.clear()
            self.gates.clear()

    def settle(self) -> None:
        """Let every in-between status end now (a deployment, or a test's setup, waited for it)."""
        with self._lock:
            for pending in (self._creating, self._deleting, self._backups, self._exports):
                pending.clear()

    # -- the rules -------------------------------------------------------------------------------

    def check_batch_size(self, request_items: dict[str, list[Any]], body_bytes: int) -> None:
        """At most 25 put or delete requests and 16 MB per BatchWriteItem call.

        https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_BatchWriteItem.html:
        "A single call to BatchWriteItem can transmit up to 16MB of data over the network,
        consisting of up to 25 item put or delete operations"; a request with more is rejected
        with a ValidationException.
        """
        for table, requests in request_items.items():
            if not 1 <= len(requests) <= MAX_BATCH_REQUESTS:
                raise DynamoDBError(
                    "ValidationException",
                    f"1 validation error detected: Value '{{{table}=[{len(requests)} write requests]}}' at 'requestItems' "
                    "failed to satisfy constraint: Map value must satisfy constraint: [Member must have length less "
                    "than or equal to 25, Member must have length greater than or equal to 1]",
                )
        if body_bytes > MAX_BATCH_BYTES:
            raise DynamoDBError("ValidationException", "Request size exceeded the maximum allowed size of 16 MB")

    def check_name_free(self, operation: str, table: str) -> None:
        """A table's name cannot be used again until its deletion completes.

        https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_DeleteTable.html:
        "After a DeleteTable request, the specified table is in the DELETING state until DynamoDB
        completes the deletion." CreateTable then answers ResourceInUseException ("Attempt to
        change a resource which is still in use: Table is being deleted"), and a restore into
        the name TableInUseException
        (https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_RestoreTableFromBackup.html).
        """
        with self._lock:
            if not self._pending(self._deleting, table):
                return
        if operation == "CreateTable":
            raise DynamoDBError("ResourceInUseException",
                                f"Attempt to change a resource which is still in use: Table is being deleted: {table}")  # fmt: skip
        raise DynamoDBError("TableInUseException", "A target table with the specified name is either being created or deleted.")

    def check_active(self, operation: str, table: str) -> None:
        """A table is CREATING, not ACTIVE, for a while after CreateTable or RestoreTableFromBackup.

        https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_CreateTable.html:
        "CreateTable is an asynchronous operation ... DynamoDB immediately returns a response with
        a TableStatus of CREATING. After the table is created, DynamoDB sets the TableStatus to
        ACTIVE. You can perform read and write operations only on an ACTIVE table." Reads and
        writes meanwhile answer ResourceNotFoundException; UpdateTable and DeleteTable answer
        ResourceInUseException (API_DeleteTable.html: "If a table is in CREATING or UPDATING
        states, then DynamoDB returns a ResourceInUseException").
        """
        with self._lock:
            if not self._pending(self._creating, table):
                return
        if operation in DATA_OPERATIONS:
            raise DynamoDBError("ResourceNotFoundException", "Requested resource not found")
        raise DynamoDBError("ResourceInUseException",
                            f"Attempt to change a resource which is still in use: Table is being created: {table}")  # fmt: skip

    def unprocessed(self, request_items: dict[str, list[Any]]) -> dict[str, list[Any]]:
        """The requests an injected throttle hands back as ``UnprocessedItems`` (they are not written).

        https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_BatchWriteItem.html:
        "If any requested operations fail because the table's provisioned throughput is exceeded
        or an internal processing failure occurs, the failed operations are returned in the
        UnprocessedItems response parameter."
        """
        handed_back: dict[str, list[Any]] = {}
        with self._lock:
            for table, requests in request_items.items():
                throttle = next((t for t in self.throttles if t.table == table and (t.calls is None or t.applied < t.calls)), None)
                if throttle is None:
                    continue
                throttle.seen += 1
                if throttle.seen <= throttle.after:
                    continue
                throttle.applied += 1
                count = len(requests) if throttle.items is None else min(throttle.items, len(requests))
                if count:
                    handed_back[table] = requests[len(requests) - count :]
                    self.unprocessed_items += count
        return handed_back

    # -- bookkeeping moto's answers feed -----------------------------------------------------------

    def _pending(self, registry: dict[str, _Pending], key: str) -> _Pending | None:
        pending = registry.get(key)
        if pending is not None and self.clock.elapsed >= pending.until:
            del registry[key]
            return None
        return pending

    def created(self, table: str, seconds: float) -> None:
        with self._lock:
            self._deleting.pop(table, None)
            self._creating[table] = _Pending("CREATING", self.clock.elapsed + seconds)

    def deleted(self, table: str, description: dict[str, Any]) -> None:
        with self._lock:
            self._creating.pop(table, None)
            self._deleting[table] = _Pending("DELETING", self.clock.elapsed + self.delete_seconds, copy.deepcopy(description))

    def backup_started(self, arn: str) -> None:
        with self._lock:
            self._backups[arn] = _Pending("CREATING", self.clock.elapsed + self.backup_seconds)

    def export_started(self, arn: str, table: str) -> None:
        with self._lock:
            self._exports[arn] = _Pending("IN_PROGRESS", self.clock.elapsed + self.export_seconds)
            ending = self._export_endings.pop(table, None)
            if ending:
                self._ended_exports[arn] = ending

    def table_status(self, table: str) -> str | None:
        with self._lock:
            pending = self._pending(self._creating, table)
            return pending.status if pending else None

    def deleting(self, table: str) -> dict[str, Any] | None:
        with self._lock:
            pending = self._pending(self._deleting, table)
            return pending.description if pending else None

    def backup_status(self, arn: str) -> str | None:
        with self._lock:
            pending = self._pending(self._backups, arn)
            return pending.status if pending else None

    def export_status(self, arn: str) -> str | None:
        with self._lock:
            pending = self._pending(self._exports, arn)
            return pending.status if pending else self._ended_exports.get(arn)

    def count_writes(self, request_items: dict[str, list[Any]]) -> None:
        with self._lock:
            for table, requests in request_items.items():
                self.written[table] = self.written.get(table, 0) + len(requests)

    def fault_for(self, operation: str, tables: set[str]) -> Fault | None:
        with self._lock:
            for fault in self.faults:
                if fault.matches(operation, tables):
                    fault.raised += 1
                    return fault
        return None

    def gate_for(self, operation: str, tables: set[str]) -> Gate | None:
        with self._lock:
            for gate in self.gates:
                if not gate.used and gate.operation == operation and (gate.table is None or gate.table in tables):
                    gate.used = True
                    return gate
        return None


def settle_if_installed() -> None:
    """Let every DynamoDB operation in flight finish now (:meth:`trapheus_local.engine.Emulator.settle`)."""
    if _current:
        _current[-1].settle()


def current() -> StrictDynamoDB:
    """The model of the running emulator (tests inject throttling and faults through it)."""
    if not _current:
        raise RuntimeError("the strict DynamoDB model is not installed (Emulator(strict=True))")
    return _current[-1]


# -- moto integration ------------------------------------------------------------------------------


def _table_of_arn(arn: Any) -> str | None:
    # arn:aws:dynamodb:<region>:<account>:table/<name>[/backup/...|/export/...|/index/...]
    if isinstance(arn, str) and ":table/" in arn:
        return arn.split(":table/", 1)[1].split("/", 1)[0]
    return None


def _tables(operation: str, params: dict[str, Any]) -> set[str]:
    names = {params.get("TableName"), params.get("TargetTableName"), _table_of_arn(params.get("ResourceArn")),
             _table_of_arn(params.get("TableArn")), _table_of_arn(params.get("BackupArn"))}  # fmt: skip
    if operation == "BatchWriteItem":
        names.update((params.get("RequestItems") or {}).keys())
    return {name for name in names if isinstance(name, str)}


def _raising(error: Exception) -> Any:
    def fail() -> Any:
        raise error

    return fail


def _result(response: Any) -> dict[str, Any] | None:
    result = response.result if isinstance(response, ActionResult) else None
    return result if isinstance(result, dict) else None


def _wrapped(model: StrictDynamoDB, operation: str, params: dict[str, Any], handler: Any) -> Any:
    """moto's handler for ``operation``, with the model applied to its request and its answer."""

    def run() -> Any:
        unprocessed: dict[str, list[Any]] = {}
        if operation == "BatchWriteItem":
            unprocessed = model.unprocessed(params.get("RequestItems") or {})
            for table, handed_back in unprocessed.items():
                params["RequestItems"][table] = params["RequestItems"][table][: len(params["RequestItems"][table]) - len(handed_back)]
            params["RequestItems"] = {table: requests for table, requests in params["RequestItems"].items() if requests}
            if not params["RequestItems"]:
                return ActionResult({"UnprocessedItems": unprocessed})
        if operation == "DescribeTable" and model.deleting(str(params.get("TableName"))) is not None:
            return ActionResult({"Table": {**model.deleting(str(params.get("TableName"))), "TableStatus": "DELETING"}})
        response = handler()
        result = _result(response)
        if result is None:
            return response
        if operation in ("CreateTable", "RestoreTableFromBackup"):
            name = str(params.get("TableName") or params.get("TargetTableName"))
            model.created(name, model.create_seconds if operation == "CreateTable" else model.restore_seconds)
            _set_status(result.get("TableDescription"), "CREATING")
        elif operation == "DeleteTable":
            model.deleted(str(params.get("TableName")), result.get("TableDescription") or result.get("Table") or {})
            _set_status(result.get("TableDescription"), "DELETING")
        elif operation == "DescribeTable":
            _set_status(result.get("Table"), model.table_status(str(params.get("TableName"))))
        elif operation == "CreateBackup":
            details = result.get("BackupDetails") or {}
            model.backup_started(str(details.get("BackupArn")))
            details["BackupStatus"] = "CREATING"
        elif operation == "DescribeBackup":
            details = (result.get("BackupDescription") or {}).get("BackupDetails") or {}
            details["BackupStatus"] = model.backup_status(str(details.get("BackupArn"))) or details.get("BackupStatus")
        elif operation == "ListBackups":
            for summary in result.get("BackupSummaries") or []:
                summary["BackupStatus"] = model.backup_status(str(summary.get("BackupArn"))) or summary.get("BackupStatus")
        elif operation == "ExportTableToPointInTime":
            model.export_started(str((result.get("ExportDescription") or {}).get("ExportArn")),
                                 str(_table_of_arn(params.get("TableArn"))))  # fmt: skip
        elif operation == "DescribeExport":
            description = result.get("ExportDescription") or {}
            description["ExportStatus"] = model.export_status(str(description.get("ExportArn"))) or description.get("ExportStatus")
        elif operation == "BatchWriteItem":
            model.count_writes(params.get("RequestItems") or {})
            if unprocessed:
                result["UnprocessedItems"] = unprocessed
        return response

    return run


def _set_status(description: Any, status: str | None) -> None:
    if isinstance(description, dict) and status:
        description["TableStatus"] = status
        for index in description.get("GlobalSecondaryIndexes") or []:
            index["IndexStatus"] = status


@contextlib.contextmanager
def installed(clock: VirtualClock, **timings: float) -> Iterator[StrictDynamoDB]:
    """Apply the strict model to every DynamoDB call while the block runs."""
    from trapheus_local.resources import StackDeployer

    model = StrictDynamoDB(clock, **timings)
    original_call_action = DynamoHandler.call_action
    deploy_table = StackDeployer.table

    def call_action(self: DynamoHandler) -> Any:
        operation = self._get_action()
        params = getattr(self, "params", None) or {}
        tables = _tables(operation, params)
        method_name = camelcase_to_underscores(operation)
        gate = model.gate_for(operation, tables)
        if gate is not None:
            gate.reached.set()
            gate.released.wait(timeout=30)
            try:
                return _answer(self, operation, params, tables, method_name)
            finally:
                gate.finished.set()
        return _answer(self, operation, params, tables, method_name)

    def _answer(self: DynamoHandler, operation: str, params: dict[str, Any], tables: set[str], method_name: str) -> Any:
        try:
            fault = model.fault_for(operation, tables)
            if fault is not None:
                raise DynamoDBError(fault.code, fault.message)
            if operation == "BatchWriteItem":
                model.check_batch_size(params.get("RequestItems") or {}, len(self.body or ""))
            if operation in ("CreateTable", "RestoreTableFromBackup"):
                model.check_name_free(operation, str(params.get("TableName") or params.get("TargetTableName")))
            for table in tables if operation in DATA_OPERATIONS | TABLE_UPDATES else ():
                model.check_active(operation, table)
        except DynamoDBError as error:
            setattr(self, method_name, _raising(error))
            return original_call_action(self)
        handler = getattr(self, method_name, None)
        if handler is not None:
            setattr(self, method_name, _wrapped(model, operation, params, handler))
        return original_call_action(self)

    def table(deployer: StackDeployer, logical_id: str, properties: dict[str, Any]) -> Any:
        resource = deploy_table(deployer, logical_id, properties)
        with model._lock:
            model._creating.pop(str(resource.ref), None)  # CloudFormation returns once the table is ACTIVE
        return resource

    _current.append(model)
    try:
        with mock.patch.object(DynamoHandler, "call_action", call_action), mock.patch.object(StackDeployer, "table", table):
            yield model
    finally:
        model.clear()
        _current.remove(model)
