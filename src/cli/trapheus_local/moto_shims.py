"""Every place where the emulator corrects moto (5.2.5) to behave like AWS.

Each shim names the AWS behaviour it restores. tests/workflow/test_moto_shims.py
runs each scenario on unshimmed moto and fails with "moto fixed ...; remove
shim ..." once moto behaves like AWS on its own, so no shim outlives its reason.

Not shims, because they are features rather than corrections: running Lambda
handlers in-process (:mod:`trapheus_local.functions`), the simulated clock
(:mod:`trapheus_local.clock`), the caches that make the interpreter fast
(:mod:`trapheus_local.speedups`) and the latency model (:mod:`trapheus_local.latency`,
which stands in for moto making every resource ``available`` at once).
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from unittest import mock

from moto.core.responses import ActionResult
from moto.dynamodb.responses import DynamoHandler
from moto.rds.models import DBInstance, DBInstanceClustered, RDSBackend
from moto.stepfunctions.parser.models import StepFunctionsParserBackend


@dataclass(frozen=True)
class Shim:
    name: str
    aws_behaviour: str
    install: Callable[[], contextlib.AbstractContextManager[Any]]


def _free_name(taken: Any, wanted: str) -> str:
    """``wanted``, or ``wanted-2``, ``wanted-3``... whichever is not taken yet."""
    name, counter = wanted, 1
    while name in taken:
        counter += 1
        name = f"{wanted}-{counter}"
    return name


@contextlib.contextmanager
def _unique_automated_snapshot_names() -> Iterator[None]:
    # moto names the automated snapshot it takes on create/restore ``rds:<id>-<minute>``.
    # When a database is renamed and a new one restored under the old name within the
    # same minute, that name is taken by the renamed database's automated snapshot and
    # the restore fails with DBSnapshotAlreadyExists. AWS never fails a restore on this.
    create_instance_snapshot = RDSBackend.create_auto_snapshot
    create_cluster_snapshot = RDSBackend.create_auto_cluster_snapshot

    def instance_snapshot(self: RDSBackend, db_instance_identifier: str, db_snapshot_identifier: str) -> Any:
        name = _free_name(self.database_snapshots, db_snapshot_identifier)
        return create_instance_snapshot(self, db_instance_identifier, name)

    def cluster_snapshot(self: RDSBackend, db_cluster_identifier: str, db_snapshot_identifier: str) -> Any:
        name = _free_name(self.cluster_snapshots, db_snapshot_identifier)
        return create_cluster_snapshot(self, db_cluster_identifier, name)

    with (
        mock.patch.object(RDSBackend, "create_auto_snapshot", instance_snapshot),
        mock.patch.object(RDSBackend, "create_auto_cluster_snapshot", cluster_snapshot),
    ):
        yield


@contextlib.contextmanager
def _cluster_rename_keeps_members() -> Iterator[None]:
    # moto finds a cluster's members by the cluster identifier each instance stores,
    # and modify_db_cluster(NewDBClusterIdentifier=...) does not update it: the renamed
    # cluster has no members and the instances point at a cluster that no longer exists.
    # In AWS the members move with the cluster.
    modify_db_cluster = RDSBackend.modify_db_cluster

    def modify(self: RDSBackend, kwargs: dict[str, Any]) -> Any:
        old_name, new_name = kwargs.get("db_cluster_identifier"), kwargs.get("new_db_cluster_identifier")
        members = [
            instance
            for instance in self.databases.values()
            if isinstance(instance, DBInstanceClustered) and instance.db_cluster_identifier == old_name
        ]
        result = modify_db_cluster(self, kwargs)
        if new_name and new_name != old_name:
            for instance in members:
                instance.db_cluster_identifier = new_name
        return result

    with mock.patch.object(RDSBackend, "modify_db_cluster", modify):
        yield


@contextlib.contextmanager
def _default_option_groups_exist() -> Iterator[None]:
    # moto reports every instance's default option group (``default:<engine>-<version>``)
    # but has no such option group, so passing that name back on create or restore (as a
    # restore that copies the original's settings does) fails with OptionGroupNotFoundFault.
    # In AWS the default option groups exist and can be named explicitly.
    create_instance = DBInstance.__init__

    def create(self: DBInstance, backend: RDSBackend, *args: Any, option_group_name: str | None = None, **kwargs: Any) -> None:
        if option_group_name and option_group_name.startswith("default:") and option_group_name not in backend.option_groups:
            create_instance(self, backend, *args, **kwargs)
            self.option_group_name = option_group_name
            self.option_group_supplied = True
        else:
            create_instance(self, backend, *args, option_group_name=option_group_name, **kwargs)

    with mock.patch.object(DBInstance, "__init__", create):
        yield


@contextlib.contextmanager
def _unique_instance_resource_ids() -> Iterator[None]:
    # moto gives every DB instance the same DbiResourceId. In AWS it is unique per
    # instance and survives renames, which is how a restored copy is told apart from
    # the original that was renamed aside.
    create_instance = DBInstance.__init__

    def create(self: DBInstance, *args: Any, **kwargs: Any) -> None:
        create_instance(self, *args, **kwargs)
        self.dbi_resource_id = "db-" + uuid.uuid4().hex[:26].upper()

    with mock.patch.object(DBInstance, "__init__", create):
        yield


@contextlib.contextmanager
def _executions_without_a_name_get_one() -> Iterator[None]:
    # When moto executes state machines, start_execution without ``name`` names the
    # execution "None": its ARN ends in ":None" and the next unnamed start fails with
    # ExecutionAlreadyExists. AWS generates a unique name (a UUID).
    start_execution = StepFunctionsParserBackend.start_execution

    def start(self: StepFunctionsParserBackend, state_machine_arn: str, name: Any = None, *args: Any, **kwargs: Any) -> Any:
        return start_execution(self, state_machine_arn, name or str(uuid.uuid4()), *args, **kwargs)

    with mock.patch.object(StepFunctionsParserBackend, "start_execution", start):
        yield


@contextlib.contextmanager
def _contributor_insights_are_described() -> Iterator[None]:
    # moto has no DescribeContributorInsights / UpdateContributorInsights (NotImplementedError).
    # In AWS every table and GSI has a contributor insights status (DISABLED until enabled), which a
    # table's settings capture reads and a restore replays. The status lives on moto's table, so
    # it goes with the table when it is deleted.
    def _insights(handler: DynamoHandler) -> dict[str, str]:
        table = handler.dynamodb_backend.get_table(handler.body["TableName"])  # ResourceNotFoundException if absent
        if not hasattr(table, "trapheus_contributor_insights"):
            table.trapheus_contributor_insights = {}
        return table.trapheus_contributor_insights

    def describe(self: DynamoHandler) -> ActionResult:
        index = self.body.get("IndexName")
        status = _insights(self).get(index or "", "DISABLED")
        return ActionResult({"TableName": self.body["TableName"], **({"IndexName": index} if index else {}),
                             "ContributorInsightsStatus": status})  # fmt: skip

    def update(self: DynamoHandler) -> ActionResult:
        index = self.body.get("IndexName")
        status = "ENABLED" if self.body["ContributorInsightsAction"] == "ENABLE" else "DISABLED"
        _insights(self)[index or ""] = status
        return ActionResult({"TableName": self.body["TableName"], **({"IndexName": index} if index else {}),
                             "ContributorInsightsStatus": status})  # fmt: skip

    with (
        mock.patch.object(DynamoHandler, "describe_contributor_insights", describe, create=True),
        mock.patch.object(DynamoHandler, "update_contributor_insights", update, create=True),
    ):
        yield


SHIMS: tuple[Shim, ...] = (
    Shim(
        name="unique_automated_snapshot_names",
        aws_behaviour="restoring under an identifier renamed away in the same minute succeeds",
        install=_unique_automated_snapshot_names,
    ),
    Shim(
        name="cluster_rename_keeps_members",
        aws_behaviour="renaming a cluster keeps its member instances",
        install=_cluster_rename_keeps_members,
    ),
    Shim(
        name="default_option_groups_exist",
        aws_behaviour="an instance can be created or restored with its engine's default option group named explicitly",
        install=_default_option_groups_exist,
    ),
    Shim(
        name="unique_instance_resource_ids",
        aws_behaviour="every DB instance has its own DbiResourceId",
        install=_unique_instance_resource_ids,
    ),
    Shim(
        name="executions_without_a_name_get_one",
        aws_behaviour="start_execution without a name generates a unique execution name",
        install=_executions_without_a_name_get_one,
    ),
    Shim(
        name="contributor_insights_are_described",
        aws_behaviour="every table and index has a contributor insights status that can be read and changed",
        install=_contributor_insights_are_described,
    ),
)


@contextlib.contextmanager
def installed() -> Iterator[tuple[Shim, ...]]:
    """Install every shim for the duration of the block."""
    with contextlib.ExitStack() as stack:
        for shim in SHIMS:
            stack.enter_context(shim.install())
        yield SHIMS
