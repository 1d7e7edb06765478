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
import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from unittest import mock

from botocore import xform_name
from moto.core.responses import ActionResult
from moto.dynamodb.responses import DynamoHandler
from moto.rds.exceptions import KMSKeyNotAccessibleFault, RDSClientError
from moto.rds.models import DBCluster, DBInstance, DBInstanceClustered, MasterUserSecret, RDSBackend, rds_backends
from moto.rds.responses import RDSResponse
from moto.rds.utils import split_arn
from moto.stepfunctions.parser.models import StepFunctionsParserBackend

from trapheus_local.rds_engines import engine_family, major_version


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


# Settings RDS keeps and describes that moto 5.2.5 takes as parameters and drops: parameter -> described attribute.
KEPT_SETTINGS = {
    "engine_lifecycle_support": "engine_lifecycle_support",
    "dedicated_log_volume": "dedicated_log_volume",
    "processor_features": "processor_features",
    "database_insights_mode": "database_insights_mode",
    "enable_performance_insights": "performance_insights_enabled",
    "performance_insights_kms_key_id": "performance_insights_kms_key_id",
    "performance_insights_retention_period": "performance_insights_retention_period",
}
EXTENDED_SUPPORT = "open-source-rds-extended-support"
_EXTENDED_SUPPORT_ENGINES = ("mysql", "postgres", "aurora-mysql", "aurora-postgresql")


@contextlib.contextmanager
def _settings_are_kept() -> Iterator[None]:
    # moto accepts EngineLifecycleSupport, DedicatedLogVolume, ProcessorFeatures, DatabaseInsightsMode and the
    # Performance Insights settings on create, restore and modify and forgets them; RDS keeps them and reports
    # them in describe calls (Performance Insights with the AWS managed aws/rds key and 7 days unless told).
    create_instance, create_cluster, update_instance = DBInstance.__init__, DBCluster.__init__, DBInstance.update

    def store(resource: Any, values: dict[str, Any]) -> None:
        for parameter, attribute in KEPT_SETTINGS.items():
            if values.get(parameter) is not None:
                setattr(resource, attribute, values[parameter])
        if getattr(resource, "performance_insights_enabled", None):
            if not getattr(resource, "performance_insights_kms_key_id", None):
                resource.performance_insights_kms_key_id = resource.backend.kms.describe_key("alias/aws/rds").arn
            if not getattr(resource, "performance_insights_retention_period", None):
                resource.performance_insights_retention_period = 7

    def update(self: DBInstance, *args: Any, **kwargs: Any) -> None:
        update_instance(self, *args, **{k: v for k, v in kwargs.items() if k not in KEPT_SETTINGS})
        store(self, kwargs)

    def keep(original: Callable[..., None]) -> Callable[..., None]:
        def create(self: Any, *args: Any, **kwargs: Any) -> None:
            original(self, *args, **kwargs)
            store(self, kwargs)
            if getattr(self, "database_insights_mode", None) is None:
                self.database_insights_mode = "standard"  # the API's default
            standalone = not isinstance(self, DBInstanceClustered)  # an Aurora member takes its cluster's
            if standalone and getattr(self, "engine_lifecycle_support", None) is None and self.engine in _EXTENDED_SUPPORT_ENGINES:
                self.engine_lifecycle_support = EXTENDED_SUPPORT  # the API's default

        return create

    with (
        mock.patch.object(DBInstance, "__init__", keep(create_instance)),
        mock.patch.object(DBCluster, "__init__", keep(create_cluster)),
        mock.patch.object(DBInstance, "update", update),
    ):
        yield


@contextlib.contextmanager
def _restores_start_from_the_snapshot() -> Iterator[None]:
    # moto builds a restored database from the source database's current attributes, so the copy shares the
    # source's RDS-managed secret and associated IAM roles and inherits settings the restore call did not
    # pass (deletion protection among them). In RDS the copy has deletion protection only when the call asks
    # for it (API_RestoreDBInstanceFromDBSnapshot.html: DeletionProtection, default false), no managed secret (https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/rds-secrets-manager.html:
    # only a modify, or an Oracle restore, turns management on), no associated roles (re-added with
    # AddRoleTo*), engine lifecycle support as the call says (default: extended support on,
    # https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/extended-support-creating-db-instance.html), the
    # standard Database Insights mode, and no read replica links (moto makes a point-in-time copy a replica of
    # its source).
    # The same holds for a restore to a point in time (API_RestoreDBInstanceToPointInTime.html, same parameters).
    restore_instance = RDSBackend.restore_db_instance_from_db_snapshot
    restore_cluster = RDSBackend.restore_db_cluster_from_snapshot
    restore_instance_in_time = RDSBackend.restore_db_instance_to_point_in_time
    restore_cluster_in_time = RDSBackend.restore_db_cluster_to_point_in_time

    def reset(restored: Any, overrides: dict[str, Any], is_instance: bool) -> None:
        lifecycle = overrides.get("engine_lifecycle_support")
        restored.engine_lifecycle_support = lifecycle or (EXTENDED_SUPPORT if restored.engine in _EXTENDED_SUPPORT_ENGINES else None)
        restored.database_insights_mode = "standard"
        restored.deletion_protection = bool(overrides.get("deletion_protection"))
        restored._associated_roles = []
        restored.manage_master_user_password = False
        if "master_user_secret" in vars(restored):
            del restored.master_user_secret
        if is_instance:
            # the copy is nobody's read replica and has none of its own (moto copies the source's links)
            restored.source_db_instance_identifier = None
            restored.is_replica = False
            restored.replicas = []
        if is_instance and overrides.get("manage_master_user_password") and str(restored.engine).startswith("oracle"):
            restored.manage_master_user_password = True
            restored.master_user_secret = MasterUserSecret(restored, overrides.get("master_user_secret_kms_key_id"))

    def instance(self: RDSBackend, from_snapshot_id: str, overrides: dict[str, Any]) -> Any:
        restored = restore_instance(self, from_snapshot_id, overrides)
        reset(restored, overrides, True)
        return restored

    def cluster(self: RDSBackend, from_snapshot_id: str, overrides: dict[str, Any]) -> Any:
        restored = restore_cluster(self, from_snapshot_id, overrides)
        reset(restored, overrides, False)
        return restored

    def instance_in_time(self: RDSBackend, source_db_identifier: str, target_db_identifier: str, overrides: dict[str, Any]) -> Any:
        restored = restore_instance_in_time(self, source_db_identifier, target_db_identifier, overrides)
        reset(restored, overrides, True)
        return restored

    def cluster_in_time(self: RDSBackend, *args: Any, **kwargs: Any) -> Any:
        restored = restore_cluster_in_time(self, *args, **kwargs)
        reset(restored, kwargs, False)
        return restored

    with (
        mock.patch.object(RDSBackend, "restore_db_instance_from_db_snapshot", instance),
        mock.patch.object(RDSBackend, "restore_db_cluster_from_snapshot", cluster),
        mock.patch.object(RDSBackend, "restore_db_instance_to_point_in_time", instance_in_time),
        mock.patch.object(RDSBackend, "restore_db_cluster_to_point_in_time", cluster_in_time),
    ):
        yield


@contextlib.contextmanager
def _point_in_time_sources_by_resource_id() -> Iterator[None]:
    # RestoreDBInstanceToPointInTime and RestoreDBClusterToPointInTime name their source by identifier or by
    # resource id (SourceDbiResourceId, SourceDbClusterResourceId), which survives renames. moto ignores
    # SourceDbiResourceId (it restores the first instance it finds) and fails on SourceDbClusterResourceId.
    # In RDS the database with that resource id is the source; an unknown one is not found
    # (https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_RestoreDBInstanceToPointInTime.html).
    restore_instance, restore_cluster = RDSResponse.restore_db_instance_to_point_in_time, RDSResponse.restore_db_cluster_to_point_in_time

    def by_resource_id(store: Any, name: str, resource_id: str, attribute: str, code: str) -> Callable[[Any], None]:
        def resolve(response: RDSResponse) -> None:
            wanted = response.params.get(resource_id)
            if not wanted or response.params.get(name):
                return
            found = next((key for key, r in list(store(response.backend).items()) if getattr(r, attribute, None) == wanted), None)
            if found is None:
                raise RDSClientError(code, f"No automated backup with resource id {wanted} was found.")
            response.params[name] = found
            del response.params[resource_id]

        return resolve

    instance_source = by_resource_id(lambda b: b.databases, "SourceDBInstanceIdentifier", "SourceDbiResourceId", "dbi_resource_id",
                                     "DBInstanceAutomatedBackupNotFound")
    cluster_source = by_resource_id(lambda b: b.clusters, "SourceDBClusterIdentifier", "SourceDbClusterResourceId",
                                    "db_cluster_resource_id", "DBClusterAutomatedBackupNotFoundFault")

    def instance(self: RDSResponse) -> Any:
        instance_source(self)
        return restore_instance(self)

    def cluster(self: RDSResponse) -> Any:
        cluster_source(self)
        return restore_cluster(self)

    with (
        mock.patch.object(RDSResponse, "restore_db_instance_to_point_in_time", instance),
        mock.patch.object(RDSResponse, "restore_db_cluster_to_point_in_time", cluster),
    ):
        yield


@contextlib.contextmanager
def _engine_versions_are_described() -> Iterator[None]:
    # moto has no DescribeDBEngineVersions; RDS answers it with each version's parameter group family and
    # major version (https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_DescribeDBEngineVersions.html).
    def describe(self: RDSResponse) -> ActionResult:
        engine, version = self.params.get("Engine"), self.params.get("EngineVersion")
        family = engine_family(str(engine), str(version)) if engine and version else None
        if family is None:
            return ActionResult({"DBEngineVersions": []})
        return ActionResult({"DBEngineVersions": [{
            "Engine": engine, "EngineVersion": version, "DBParameterGroupFamily": family,
            "MajorEngineVersion": major_version(str(engine), str(version)),
        }]})

    with mock.patch.object(RDSResponse, "describe_db_engine_versions", describe, create=True):
        yield


@contextlib.contextmanager
def _aws_managed_keys_are_aws_managed() -> Iterator[None]:
    # moto creates the keys behind the reserved aliases (alias/aws/rds, alias/aws/secretsmanager, ...) on
    # first use, as customer managed keys. In AWS they are AWS managed (DescribeKey KeyManager "AWS"), and
    # their key policies let the services use them for any principal of the account.
    from moto.kms.models import KmsBackend

    generate = KmsBackend._generate_default_keys

    def generate_aws_managed(self: KmsBackend, alias_name: str) -> str | None:
        key_id = generate(self, alias_name)
        if key_id is not None:
            self.keys[key_id].key_manager = "AWS"
        return key_id

    with mock.patch.object(KmsBackend, "_generate_default_keys", generate_aws_managed):
        yield


@contextlib.contextmanager
def _shared_snapshots_are_found_in_their_account() -> Iterator[None]:
    # moto looks a snapshot named by its ARN up in the ARN's region but in the CALLER's account, so copying a
    # snapshot another account shared (CopyDBSnapshot / CopyDBClusterSnapshot with the shared snapshot's ARN,
    # https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_CopySnapshot.html#USER_CopySnapshot.Shared)
    # answers DBSnapshotNotFound. In RDS the ARN names the snapshot in its own account; whether the caller may
    # copy it (shared with it, its key usable) is the strict model's to say.
    get_snapshot = RDSBackend.get_snapshot

    def find(self: RDSBackend, identifier: str, resource_type: Any, not_found_exception: Any) -> Any:
        if identifier.startswith("arn:"):
            region, account, _, name = split_arn(identifier)
            if account != self.account_id:
                snapshots = rds_backends[account][region].resource_map[resource_type]
                if name not in snapshots:
                    raise not_found_exception(name)
                return snapshots[name]
        return get_snapshot(self, identifier, resource_type, not_found_exception)

    with mock.patch.object(RDSBackend, "get_snapshot", find):
        yield


@contextlib.contextmanager
def _encrypted_databases_default_to_the_aws_rds_key() -> Iterator[None]:
    # moto records the literal "default_kms_key_id" as the key of a database created with StorageEncrypted and no
    # KmsKeyId (and of every cluster, encrypted or not), so its snapshots name no real key. RDS encrypts it with
    # the account's AWS managed key for RDS, aws/rds, and reports that key's ARN
    # (https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_CreateDBInstance.html, KmsKeyId: "if you
    # don't specify a value, then Amazon RDS uses your default KMS key"); an unencrypted database has none.
    from moto.kms.models import kms_backends

    def with_default_key(original: Callable[..., None]) -> Callable[..., None]:
        def create(self: Any, *args: Any, **kwargs: Any) -> None:
            original(self, *args, **kwargs)
            if getattr(self, "kms_key_id", None) == "default_kms_key_id":
                encrypted = bool(getattr(self, "storage_encrypted", False))
                backend = self.backend
                self.kms_key_id = (
                    kms_backends[backend.account_id][backend.region_name].describe_key("alias/aws/rds").arn
                    if encrypted else None
                )

        return create

    with (
        mock.patch.object(DBInstance, "__init__", with_default_key(DBInstance.__init__)),
        mock.patch.object(DBCluster, "__init__", with_default_key(DBCluster.__init__)),
    ):
        yield


@contextlib.contextmanager
def _nested_executions_speak_asl() -> Iterator[None]:
    # A ``states:startExecution`` task (.sync, .sync:2) takes its parameters as the ASL writes them
    # (StateMachineArn, Input, Name) and gives its result the same way (ExecutionArn, Output, Status...):
    # https://docs.aws.amazon.com/step-functions/latest/dg/connect-stepfunctions.html. moto's interpreter hands the
    # parameters to boto3 unchanged, which refuses them, and gives boto3's casing back. The conversion both ways is
    # by the Step Functions API model, as Step Functions does it.
    import botocore.session
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_sfn import StateTaskServiceSfn

    normalise_parameters, normalise_response = StateTaskServiceSfn._normalise_parameters, StateTaskServiceSfn._normalise_response
    model = botocore.session.get_session().get_service_model("stepfunctions")

    def operation(self: StateTaskServiceSfn, service_action_name: str | None) -> Any:
        action = self._get_boto_service_action(service_action_name)
        return model.operation_model(next(name for name in model.operation_names if xform_name(name) == action))

    def parameters(self: StateTaskServiceSfn, parameters: dict, boto_service_name: str | None = None, service_action_name: str | None = None) -> None:
        normalise_parameters(self, parameters, boto_service_name, service_action_name)
        self._to_boto_request(parameters, operation(self, service_action_name).input_shape)

    def response(self: StateTaskServiceSfn, response: Any, boto_service_name: str | None = None, service_action_name: str | None = None) -> None:
        normalise_response(self, response, boto_service_name, service_action_name)
        self._from_boto_response(response, operation(self, service_action_name).output_shape)

    with (
        mock.patch.object(StateTaskServiceSfn, "_normalise_parameters", parameters),
        mock.patch.object(StateTaskServiceSfn, "_normalise_response", response),
    ):
        yield


@contextlib.contextmanager
def _unknown_kms_aliases_are_not_accessible() -> Iterator[None]:
    # moto resolves a KmsKeyId alias that does not exist in the region of the call (the source region's alias
    # passed to a cross-Region copy, a mistyped alias) to None and fails with an AttributeError (HTTP 500).
    # RDS answers KMSKeyNotAccessibleFault
    # (https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_CopyDBSnapshot.html, KmsKeyId).
    validate = RDSBackend._validate_kms_key

    def validate_or_refuse(self: RDSBackend, kms_key_id: str) -> str:
        try:
            return validate(self, kms_key_id)
        except AttributeError as error:
            raise KMSKeyNotAccessibleFault(kms_key_id) from error

    with mock.patch.object(RDSBackend, "_validate_kms_key", validate_or_refuse):
        yield


@contextlib.contextmanager
def _service_integrations_act_in_the_state_machines_account() -> Iterator[None]:
    # moto's Step Functions interpreter calls every service a state uses (Lambda, DynamoDB, SNS, Step Functions)
    # with fixed credentials, so a state machine of another account writes into the default account. In AWS a
    # state runs with its state machine's role, in that role's account
    # (https://docs.aws.amazon.com/step-functions/latest/dg/procedure-create-iam-role.html).
    import sys

    # every module that makes a client for a state (imported here so that none is missed)
    from moto.stepfunctions.parser.asl.component.state.exec.state_map.item_reader.eval import resource_eval_s3  # noqa: F401
    from moto.stepfunctions.parser.asl.component.state.exec.state_map.result_writer.resource_eval import (  # noqa: F401
        resource_eval_s3 as result_writer_s3,
    )
    from moto.stepfunctions.parser.asl.component.state.exec.state_task import lambda_eval_utils  # noqa: F401
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import (  # noqa: F401
        state_task_service_factory,
    )
    from moto.stepfunctions.parser.asl.utils import boto_client

    make_client = boto_client.boto_client_for
    # The interpreter's clients may be shared (trapheus_local.speedups makes each once): the account a request is
    # made in is the one of the state the thread runs, set each time the state asks for its client.
    current = threading.local()

    def in_the_states_account(request: Any, **_: Any) -> None:
        account = getattr(current, "account", "")
        if account:
            request.headers["x-moto-account-id"] = account

    def client_in_the_roles_account(region: str, service: str, state_credentials: Any = None) -> Any:
        made = make_client(region=region, service=service, state_credentials=state_credentials)
        role_arn = str(getattr(state_credentials, "role_arn", "") or "")
        current.account = role_arn.split(":")[4] if role_arn.count(":") >= 5 else ""
        if not getattr(made, "_trapheus_account_hook", False):
            made.meta.events.register("before-sign", in_the_states_account)
            made._trapheus_account_hook = True
        return made

    users = [
        module for name, module in list(sys.modules.items())
        if name.startswith("moto.stepfunctions.parser") and getattr(module, "boto_client_for", None) is make_client
    ]
    with contextlib.ExitStack() as stack:
        for module in users:
            stack.enter_context(mock.patch.object(module, "boto_client_for", client_in_the_roles_account))
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
        name="settings_are_kept",
        aws_behaviour="engine lifecycle support, dedicated log volume, processor features and Database Insights mode are kept and described",
        install=_settings_are_kept,
    ),
    Shim(
        name="restores_start_from_the_snapshot",
        aws_behaviour="a restored database (from a snapshot or a point in time) has no managed secret, no associated roles, and the lifecycle support the restore asked for",
        install=_restores_start_from_the_snapshot,
    ),
    Shim(
        name="point_in_time_sources_by_resource_id",
        aws_behaviour="a restore to a point in time copies the database its source resource id names",
        install=_point_in_time_sources_by_resource_id,
    ),
    Shim(
        name="engine_versions_are_described",
        aws_behaviour="DescribeDBEngineVersions answers with the parameter group family and major version",
        install=_engine_versions_are_described,
    ),
    Shim(
        name="aws_managed_keys_are_aws_managed",
        aws_behaviour="the keys behind alias/aws/* are AWS managed keys",
        install=_aws_managed_keys_are_aws_managed,
    ),
    Shim(
        name="shared_snapshots_are_found_in_their_account",
        aws_behaviour="a snapshot shared by another account is copied by its ARN",
        install=_shared_snapshots_are_found_in_their_account,
    ),
    Shim(
        name="encrypted_databases_default_to_the_aws_rds_key",
        aws_behaviour="a database encrypted without a named key is encrypted with aws/rds, and reports its ARN",
        install=_encrypted_databases_default_to_the_aws_rds_key,
    ),
    Shim(
        name="nested_executions_speak_asl",
        aws_behaviour="a states:startExecution task takes and gives StateMachineArn, Input, ExecutionArn and Output as the ASL names them",
        install=_nested_executions_speak_asl,
    ),
    Shim(
        name="unknown_kms_aliases_are_not_accessible",
        aws_behaviour="a copy naming a KMS alias unknown in its region answers KMSKeyNotAccessibleFault",
        install=_unknown_kms_aliases_are_not_accessible,
    ),
    Shim(
        name="service_integrations_act_in_the_state_machines_account",
        aws_behaviour="a state machine's tasks call services in the account of its role",
        install=_service_integrations_act_in_the_state_machines_account,
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
