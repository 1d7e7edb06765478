"""A strict model of Amazon RDS: what real RDS refuses, and how long it takes, where trapheus depends on it.

moto accepts calls that RDS refuses (a member created in a cluster that is still ``creating``, an
``aws:`` tag key, a modify of a database that is ``renaming``...) and finishes every operation at once.
A workflow that passes only because of that fails on its first real run. This module puts RDS's rules
in front of moto: every rule is a function below whose docstring names the AWS documentation page it
comes from, and which raises the error code (and message shape) RDS answers with. Its effects (what a
rename releases and when, a restored copy without the original's managed secret, read replicas that
follow their source) are applied after moto has handled the call. Time is the emulator's virtual
clock; durations come from :mod:`trapheus_local.rds_timing`.

The model is on by default in the local engine (``Emulator(strict=True)``), ``trapheus local serve``
and ``trapheus demo``; ``--lenient`` turns it off for debugging only. What it does not model is listed
in docs/architecture.md ("The strict RDS model").
"""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from moto.rds.exceptions import RDSClientError
from moto.rds.models import DBInstance, RDSBackend, rds_backends

from trapheus_local.backups import BACKTRACK_ENGINES, DatabaseHistory, parse_time
from trapheus_local.latency import CLUSTER, CLUSTER_SNAPSHOT, IDENTIFIER_PARAMETERS, INSTANCE, SNAPSHOT, LatencyModel
from trapheus_local.rds_engines import engine_family, major_version, version_key
from trapheus_local.rds_timing import DEFAULT_ASSUMPTIONS, HOUR, Assumptions, Phase, RdsTiming

API = "https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/"
GUIDE = "https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/"
AURORA = "https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/"

CLUSTER_VOLUME_GIB = 100.0  # Aurora reports no allocated storage; a cluster's operations are timed at this size
STORAGE_CHANGE_INTERVAL = 6 * HOUR
RESERVED_TAG_PREFIXES = ("aws:", "rds:")
_STORAGE_PARAMETERS = ("AllocatedStorage", "StorageType", "Iops", "StorageThroughput")
_NEW_NAME = {"ModifyDBInstance": "NewDBInstanceIdentifier", "ModifyDBCluster": "NewDBClusterIdentifier"}
# operation -> (kind it creates, parameter naming it)
_CREATES: dict[str, tuple[str, str]] = {
    "CreateDBInstance": (INSTANCE, "DBInstanceIdentifier"),
    "RestoreDBInstanceFromDBSnapshot": (INSTANCE, "DBInstanceIdentifier"),
    "CreateDBCluster": (CLUSTER, "DBClusterIdentifier"),
    "RestoreDBClusterFromSnapshot": (CLUSTER, "DBClusterIdentifier"),
    "RestoreDBInstanceToPointInTime": (INSTANCE, "TargetDBInstanceIdentifier"),
    "RestoreDBClusterToPointInTime": (CLUSTER, "DBClusterIdentifier"),
    "CreateDBSnapshot": (SNAPSHOT, "DBSnapshotIdentifier"),
    "CopyDBSnapshot": (SNAPSHOT, "TargetDBSnapshotIdentifier"),
    "CreateDBClusterSnapshot": (CLUSTER_SNAPSHOT, "DBClusterSnapshotIdentifier"),
    "CopyDBClusterSnapshot": (CLUSTER_SNAPSHOT, "TargetDBClusterSnapshotIdentifier"),
}
# copy operation -> the parameter naming its source snapshot (an identifier here, or any snapshot's ARN)
_COPY_SOURCES = {"CopyDBSnapshot": "SourceDBSnapshotIdentifier", "CopyDBClusterSnapshot": "SourceDBClusterSnapshotIdentifier"}
# share operation -> (kind of snapshot, parameter naming it)
_SHARES = {
    "ModifyDBSnapshotAttribute": (SNAPSHOT, "DBSnapshotIdentifier"),
    "ModifyDBClusterSnapshotAttribute": (CLUSTER_SNAPSHOT, "DBClusterSnapshotIdentifier"),
}
# what an account must be allowed to do with another account's key to copy a snapshot encrypted under it
# (https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_ShareSnapshot.html#USER_ShareSnapshot.Encrypted)
SHARED_KEY_ACTIONS = frozenset({"kms:CreateGrant", "kms:Decrypt", "kms:DescribeKey"})
_NOT_FOUND = {
    INSTANCE: ("DBInstanceNotFound", "DBInstance {} not found."),
    CLUSTER: ("DBClusterNotFoundFault", "DBCluster {} not found."),
    SNAPSHOT: ("DBSnapshotNotFound", "DBSnapshot {} not found."),
    CLUSTER_SNAPSHOT: ("DBClusterSnapshotNotFoundFault", "DBClusterSnapshot {} not found."),
}


@dataclass(frozen=True)
class Quotas:
    """Account quotas (the RDS defaults; settable per emulator). Names as DescribeAccountAttributes reports them."""

    db_instances: int = 40
    db_clusters: int = 40
    manual_snapshots: int = 100
    manual_cluster_snapshots: int = 100
    # snapshot copies in progress to one destination Region per account (the RDS user guide's copy limitations)
    copies_in_flight_per_region: int = 20


@dataclass(frozen=True)
class Call:
    """One RDS request as a rule sees it."""

    operation: str
    params: Mapping[str, Any]
    model: StrictRds

    def get(self, name: str, default: Any = None) -> Any:
        return self.params.get(name, default)


Rule = Callable[[Call], None]
RULES: dict[str, list[Rule]] = {}


def rule(*operations: str) -> Callable[[Rule], Rule]:
    """Register a rule for ``operations``; its docstring must name the documentation page it comes from."""

    def register(function: Rule) -> Rule:
        if not function.__doc__ or "https://docs.aws.amazon.com/" not in function.__doc__:
            raise ValueError(f"rule {function.__name__} does not cite its documentation page")
        for operation in operations:
            RULES.setdefault(operation, []).append(function)
        return function

    return register


def refuse(code: str, message: str) -> RDSClientError:
    return RDSClientError(code, message)


# -- the rules ---------------------------------------------------------------------------------------------


@rule("ModifyDBInstance", "ModifyDBCluster")
def rename_needs_an_available_database(call: Call) -> None:
    """A rename (``NewDB*Identifier``) needs an ``available`` database and a free new identifier.

    https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_RenameInstance.html (an existing name cannot be
    used; the instance is renamed, reboots, and its new DNS name is effective in about 10 minutes) and
    https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/Aurora.Overview.Endpoints.html (renaming a
    cluster changes its endpoints).
    """
    new_name = call.get(_NEW_NAME[call.operation])
    if not new_name:
        return
    kind = INSTANCE if call.operation == "ModifyDBInstance" else CLUSTER
    current = call.get("DBInstanceIdentifier" if kind == INSTANCE else "DBClusterIdentifier")
    status = call.model.status(kind, current)
    if status is not None and status != "available":
        raise _invalid_state(kind, current, status)
    if call.model.exists(kind, new_name) or call.model.reserved(kind, new_name):
        raise _already_exists(kind, new_name)


# the only statuses in which RDS takes a modification (anything else answers Invalid*State)
MODIFIABLE = {INSTANCE: frozenset({"available", "storage-optimization"}), CLUSTER: frozenset({"available"})}


@rule("ModifyDBInstance", "ModifyDBCluster", "AddRoleToDBInstance", "AddRoleToDBCluster")
def modify_needs_a_settled_database(call: Call) -> None:
    """A modification is refused unless the database is ``available`` (creating, backing-up, deleting, renaming,
    rebooting, modifying, failed...); during ``storage-optimization`` an instance is usable and only a storage
    change is refused.

    https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/Overview.DBInstance.Modifying.html and the status table in
    https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/accessing-monitoring.html#Overview.DBInstance.Status
    (``storage-optimization``: "the DB instance is fully operational"); the API reference lists
    InvalidDBInstanceStateFault / InvalidDBClusterStateFault for both calls
    (https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_ModifyDBInstance.html).
    """
    kind = INSTANCE if call.operation.endswith("Instance") else CLUSTER
    identifier = call.get("DBInstanceIdentifier" if kind == INSTANCE else "DBClusterIdentifier")
    status = call.model.status(kind, identifier)
    if status is not None and status not in MODIFIABLE[kind]:
        raise _invalid_state(kind, identifier, status)


@rule("ModifyDBInstance")
def storage_changes_wait_for_the_last_one(call: Call) -> None:
    """A storage change is refused while the last one is still optimizing and within 6 hours of it.

    https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_PIOPS.StorageTypes.html#USER_PIOPS.ModifyingExisting
    ("you can't make further storage modifications for either six (6) hours or while the storage optimization
    is in progress, whichever is longer").
    """
    if not any(name in call.params for name in _STORAGE_PARAMETERS):
        return
    identifier = call.get("DBInstanceIdentifier")
    instance = call.model.backend.databases.get(identifier)
    if instance is None or not _changes_storage(call.params, instance):
        return
    if call.model.status(INSTANCE, identifier) == "storage-optimization":
        raise refuse(
            "InvalidParameterCombination",
            "You can't currently modify the storage of this DB instance because the previous storage change is "
            "being optimized.",
        )
    last = call.model.storage_changed_at(instance)
    if last is not None and call.model.now() - last < STORAGE_CHANGE_INTERVAL:
        hours = max(1, round((STORAGE_CHANGE_INTERVAL - (call.model.now() - last)) / HOUR))
        raise refuse(
            "InvalidParameterCombination",
            f"You can't currently modify the storage of this DB instance. Try again after approximately {hours} hours.",
        )


@rule("CreateDBInstance")
def members_join_only_an_available_cluster(call: Call) -> None:
    """An instance can be created in a cluster only once the cluster is ``available``.

    https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_RestoreDBClusterFromSnapshot.html ("you can
    create DB instances only after the RestoreDBClusterFromSnapshot operation has completed and the DB cluster
    is available"); CreateDBInstance lists InvalidDBClusterStateFault.
    """
    cluster_id = call.get("DBClusterIdentifier")
    if not cluster_id:
        return
    status = call.model.status(CLUSTER, cluster_id)
    if status is not None and status != "available":
        raise refuse("InvalidDBClusterStateFault", f"DB cluster {cluster_id} is not in available state.")
    if _true(call.get("DeletionProtection")):
        raise refuse(
            "InvalidParameterCombination",
            "Deletion Protection can only be applied on the Cluster level, not for individual instances",
        )


@rule("DeleteDBCluster")
def clusters_are_deleted_after_their_members(call: Call) -> None:
    """A cluster is deleted only once every member instance is ``deleting`` (or gone).

    https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/USER_DeleteCluster.html (delete the DB
    instances first; the cluster is deleted with its last instance or by DeleteDBCluster once it has none).
    """
    cluster_id = call.get("DBClusterIdentifier")
    for member in call.model.members(cluster_id):
        if call.model.status(INSTANCE, member) != "deleting":
            raise refuse(
                "InvalidDBClusterStateFault",
                "Cluster cannot be deleted, it still contains DB instances in non-deleting state.",
            )


@rule("DeleteDBInstance", "DeleteDBCluster")
def protected_databases_are_not_deleted(call: Call) -> None:
    """A database with deletion protection on cannot be deleted.

    https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_DeleteInstance.html#USER_DeletionProtection and
    https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/USER_DeletionProtection.html
    """
    is_instance = call.operation == "DeleteDBInstance"
    identifier = call.get("DBInstanceIdentifier" if is_instance else "DBClusterIdentifier")
    resource = (call.model.backend.databases if is_instance else call.model.backend.clusters).get(identifier)
    if resource is not None and getattr(resource, "deletion_protection", False):
        what = "DB Instance" if is_instance else "Cluster"
        raise refuse(
            "InvalidParameterCombination",
            f"Cannot delete protected {what}, please disable deletion protection and try again.",
        )


@rule("DeleteDBInstance")
def replicas_and_members_take_no_final_snapshot(call: Call) -> None:
    """RDS takes no final snapshot of a read replica, of an Aurora member (the cluster's covers it), nor of an
    instance that is ``creating`` or has failed (those are deleted with SkipFinalSnapshot).

    https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_DeleteDBInstance.html (FinalDBSnapshotIdentifier
    and SkipFinalSnapshot) and https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_ReadRepl.html.
    """
    if not call.get("FinalDBSnapshotIdentifier") or _true(call.get("SkipFinalSnapshot")):
        return
    instance = call.model.backend.databases.get(call.get("DBInstanceIdentifier"))
    if instance is None:
        return
    if instance.is_replica:
        raise refuse("InvalidParameterCombination", "FinalDBSnapshotIdentifier can not be specified when deleting a replica instance")
    if getattr(instance, "db_cluster_identifier", None):
        raise refuse("InvalidParameterCombination", "FinalDBSnapshotIdentifier can not be specified when deleting a cluster instance")
    status = call.model.status(INSTANCE, instance.db_instance_identifier)
    if status in NO_FINAL_SNAPSHOT:
        raise refuse(
            "InvalidDBInstanceState",
            f"Instance {instance.db_instance_identifier} is currently {status} - a final snapshot cannot be taken.",
        )


# statuses in which a DB instance can only be deleted with SkipFinalSnapshot (API_DeleteDBInstance.html)
NO_FINAL_SNAPSHOT = frozenset({"creating", "failed", "incompatible-restore", "incompatible-network", "incompatible-parameters"})

# master password length by engine (prefix of the engine name): the longest RDS takes; every engine needs 8
MASTER_PASSWORD_MAXIMUM = (("aurora-postgresql", 128), ("aurora", 41), ("mysql", 41), ("mariadb", 41), ("postgres", 128),
                           ("sqlserver", 128), ("custom-sqlserver", 128), ("oracle", 30), ("custom-oracle", 30), ("db2", 255))


@rule("CreateDBInstance", "CreateDBCluster", "ModifyDBInstance", "ModifyDBCluster")
def master_passwords_fit_the_engine(call: Call) -> None:
    """A master password is 8 characters or more, at most the engine's maximum (Oracle 30; MySQL, MariaDB and
    Aurora MySQL 41; PostgreSQL and SQL Server 128; Db2 255), printable ASCII except ``/``, ``"``, ``@`` and
    space (Oracle: nor ``&`` and ``'``); it cannot be set while RDS manages the password.

    https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_ModifyDBInstance.html and
    https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_CreateDBInstance.html (MasterUserPassword: "Can't
    be specified if ManageMasterUserPassword is turned on"). RDS never echoes the password, nor does this rule.
    """
    password = call.get("MasterUserPassword")
    if password is None:
        return
    is_cluster = call.operation.endswith("Cluster")
    identifier = call.get("DBClusterIdentifier" if is_cluster else "DBInstanceIdentifier")
    existing = (call.model.backend.clusters if is_cluster else call.model.backend.databases).get(identifier)
    if _true(call.get("ManageMasterUserPassword")) or (
        call.operation.startswith("Modify") and getattr(existing, "manage_master_user_password", False)
    ):
        raise refuse("InvalidParameterCombination",
                     "MasterUserPassword can't be specified when the master user password is managed by Secrets Manager.")
    engine = str(call.get("Engine") or getattr(existing, "engine", "") or "")
    refused = '/"@ ' + ("&'" if "oracle" in engine else "")
    if any(not " " <= character <= "~" or character in refused for character in str(password)):
        raise refuse("InvalidParameterValue", "The parameter MasterUserPassword is not a valid password. Only printable "
                     f"ASCII characters besides {', '.join(repr(c) for c in refused)} may be used.")
    maximum = next((length for prefix, length in MASTER_PASSWORD_MAXIMUM if engine.startswith(prefix)), 128)
    if not 8 <= len(str(password)) <= maximum:
        raise refuse("InvalidParameterValue", f"The parameter MasterUserPassword is not a valid password because it is "
                     f"not between 8 and {maximum} characters.")


@rule("CreateDBInstance", "RestoreDBInstanceFromDBSnapshot", "CreateDBCluster", "RestoreDBClusterFromSnapshot",
      "RestoreDBInstanceToPointInTime", "RestoreDBClusterToPointInTime",
      "CreateDBSnapshot", "CopyDBSnapshot", "CreateDBClusterSnapshot", "CopyDBClusterSnapshot", "AddTagsToResource")
def reserved_tag_keys_are_refused(call: Call) -> None:
    """Tag keys cannot start with ``aws:`` or ``rds:``.

    https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_Tag.html (Key: "The string can't be prefixed
    with aws: or rds:") and https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_Tagging.html.
    """
    for tag in call.get("Tags") or []:
        key = str(tag.get("Key", ""))
        if key.lower().startswith(RESERVED_TAG_PREFIXES):
            prefix = key[:4].lower()
            raise refuse("InvalidParameterValue", f'Tag keys cannot start with the reserved prefix "{prefix}".')


MAX_TAGS_PER_RESOURCE = 50
TAG_VALUE_MAXIMUM = 256
TAG_PUNCTUATION = frozenset("_.:/=+-@")


@rule("CreateDBInstance", "RestoreDBInstanceFromDBSnapshot", "CreateDBCluster", "RestoreDBClusterFromSnapshot",
      "RestoreDBInstanceToPointInTime", "RestoreDBClusterToPointInTime", "AddTagsToResource")
def tags_fit_rdss_format_and_count(call: Call) -> None:
    """A tag value is at most 256 characters of letters, digits, white space and ``_ . : / = + - @``, and a
    resource has at most 50 tags.

    https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_Tag.html (Value) and
    https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_Tagging.html ("up to 50 tags"). RDS documents no
    error code of its own for the count; the model answers InvalidParameterValue.
    """
    tags = call.get("Tags") or []
    for tag in tags:
        value = str(tag.get("Value", ""))
        if len(value) > TAG_VALUE_MAXIMUM or any(not (c.isalnum() or c.isspace() or c in TAG_PUNCTUATION) for c in value):
            raise refuse("InvalidParameterValue", f"Tag value of {tag.get('Key')!r} is not a valid RDS tag value.")
    count = len({str(tag.get("Key")) for tag in tags})
    if call.operation == "AddTagsToResource":
        existing = call.model.tags_of(str(call.get("ResourceName")))
        count = len(set(existing) | {str(tag.get("Key")) for tag in tags})
    if count > MAX_TAGS_PER_RESOURCE:
        raise refuse("InvalidParameterValue", f"A resource can have at most {MAX_TAGS_PER_RESOURCE} tags.")


@rule("RestoreDBInstanceFromDBSnapshot", "RestoreDBClusterFromSnapshot", "CreateDBInstance",
      "RestoreDBInstanceToPointInTime", "RestoreDBClusterToPointInTime")
def groups_match_the_engine_version(call: Call) -> None:
    """Parameter groups, option groups and cluster parameter groups must be of the restored engine version's
    family, and a restore cannot go to an older engine version than the snapshot's.

    https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_RestoreFromSnapshot.html (parameter group and
    option group considerations) and
    https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_RestoreDBClusterFromSnapshot.html (EngineVersion,
    DBClusterParameterGroupName).
    """
    engine, version = call.model.engine_of(call)
    if engine is None or version is None:
        return
    wanted = engine_family(engine, version)
    checks = (("DBParameterGroupName", call.model.parameter_group_family),
              ("DBClusterParameterGroupName", call.model.cluster_parameter_group_family))
    for parameter, family_of in checks:
        name = call.get(parameter)
        family = family_of(name) if name else None
        if family is not None and wanted is not None and family != wanted:
            what = "instance" if parameter == "DBParameterGroupName" else "cluster"
            raise refuse(
                "InvalidParameterCombination",
                f"The Parameter Group {name} with DBParameterGroupFamily {family} cannot be used for this {what}. "
                f"Please use a Parameter Group with DBParameterGroupFamily {wanted}",
            )
    option_group = call.get("OptionGroupName")
    if option_group:
        found = call.model.backend.option_groups.get(option_group)
        if found is not None and (found.engine_name != engine or found.major_engine_version != major_version(engine, version)):
            raise refuse(
                "InvalidParameterCombination",
                f"The option group {option_group} is for {found.engine_name} {found.major_engine_version}, "
                f"and your DB instance is {engine} {major_version(engine, version)}.",
            )
    requested = call.get("EngineVersion")
    if requested and call.operation == "RestoreDBClusterFromSnapshot" and version_key(requested) < version_key(version):
        raise refuse(
            "InvalidParameterCombination",
            f"The engine version you requested for your restored DB cluster ({requested}) is earlier than the "
            f"engine version of the DB cluster snapshot ({version}).",
        )


@rule("DeleteDBSnapshot", "DeleteDBClusterSnapshot")
def snapshots_are_deleted_when_available_or_copying(call: Call) -> None:
    """A snapshot is deleted when it is ``available``; deleting the target of a copy in progress cancels the copy.

    https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_DeleteDBSnapshot.html ("the DB snapshot must be
    in the available state to be deleted") and
    https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_CopySnapshot.html#USER_CopySnapshot.Canceling.
    """
    is_cluster = call.operation == "DeleteDBClusterSnapshot"
    kind = CLUSTER_SNAPSHOT if is_cluster else SNAPSHOT
    identifier = call.get("DBClusterSnapshotIdentifier" if is_cluster else "DBSnapshotIdentifier")
    status = call.model.status(kind, identifier)
    if status is None or status in ("available", "copying"):
        return
    code = "InvalidDBClusterSnapshotStateFault" if is_cluster else "InvalidDBSnapshotState"
    raise refuse(code, "Cannot delete the snapshot because it is not in the available state.")


@rule("CreateDBSnapshot", "CopyDBSnapshot", "DeleteDBInstance", "CreateDBClusterSnapshot", "CopyDBClusterSnapshot",
      "DeleteDBCluster")
def manual_snapshots_stay_within_the_quota(call: Call) -> None:
    """Manual snapshots count against an account quota (100 by default); one more is refused.

    https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/CHAP_Limits.html ("Manual DB instance snapshots",
    "Manual DB cluster snapshots": 100) and SnapshotQuotaExceeded in
    https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_CreateDBSnapshot.html.
    """
    if call.operation.startswith("Delete") and (not call.get("FinalDBSnapshotIdentifier") or _true(call.get("SkipFinalSnapshot"))):
        return
    is_cluster = "Cluster" in call.operation
    used, quota = call.model.manual_snapshot_usage(is_cluster)
    if used >= quota:
        raise refuse("SnapshotQuotaExceeded", "Cannot create more than {} manual snapshots".format(quota))


@rule("CreateDBClusterSnapshot", "CopyDBClusterSnapshot")
def cluster_snapshot_identifiers_fit_63_characters(call: Call) -> None:
    """A DB cluster snapshot identifier is 1 to 63 letters, digits or hyphens.

    https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_CreateDBClusterSnapshot.html and
    https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_CopyDBClusterSnapshot.html
    (DBClusterSnapshotIdentifier / TargetDBClusterSnapshotIdentifier constraints).
    """
    for parameter in ("DBClusterSnapshotIdentifier", "TargetDBClusterSnapshotIdentifier"):
        value = call.get(parameter)
        if value and len(str(value)) > 63:
            raise refuse(
                "InvalidParameterValue",
                f"The parameter {parameter} is not a valid identifier because it is longer than 63 characters.",
            )


@rule("CreateDBInstance", "RestoreDBInstanceFromDBSnapshot", "CreateDBCluster", "RestoreDBClusterFromSnapshot",
      "RestoreDBInstanceToPointInTime", "RestoreDBClusterToPointInTime")
def databases_stay_within_the_quota(call: Call) -> None:
    """DB instances and DB clusters count against account quotas (40 each by default).

    https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/CHAP_Limits.html ("DB instances", "DB clusters");
    InstanceQuotaExceeded / DBClusterQuotaExceededFault in the API reference of each call.
    """
    is_cluster = "Cluster" in call.operation
    used, quota = call.model.database_usage(is_cluster)
    if used >= quota:
        if is_cluster:
            raise refuse("DBClusterQuotaExceededFault", "The user attempted to create a new DB cluster and the user has already reached the maximum allowed DB cluster quota.")
        raise refuse("InstanceQuotaExceeded", "The request would result in the user exceeding the allowed number of DB instances.")


@rule("CreateDBInstance", "RestoreDBInstanceFromDBSnapshot", "CreateDBCluster", "RestoreDBClusterFromSnapshot",
      "RestoreDBInstanceToPointInTime", "RestoreDBClusterToPointInTime")
def a_released_identifier_is_free_only_after_the_rename(call: Call) -> None:
    """An identifier renamed away is taken until the rename is done.

    https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_RenameInstance.html (to replace an instance,
    rename it, then restore under the old name once the rename has completed).
    """
    kind, parameter = _CREATES[call.operation]
    identifier = call.get(parameter)
    if call.model.reserved(kind, identifier):
        raise _already_exists(kind, identifier)


@rule("CreateDBSnapshot", "CreateDBClusterSnapshot")
def snapshots_need_a_usable_source(call: Call) -> None:
    """A snapshot is taken of an ``available`` database (RDS answers Invalid*State otherwise).

    https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_CreateDBSnapshot.html (InvalidDBInstanceState)
    and https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_CreateDBClusterSnapshot.html.
    """
    is_cluster = call.operation == "CreateDBClusterSnapshot"
    kind = CLUSTER if is_cluster else INSTANCE
    identifier = call.get("DBClusterIdentifier" if is_cluster else "DBInstanceIdentifier")
    status = call.model.status(kind, identifier)
    if status is not None and status not in ("available", "storage-optimization"):
        if is_cluster:
            raise _invalid_state(kind, identifier, status)
        raise refuse(
            "InvalidDBInstanceState",
            f"Cannot create a snapshot because the database instance {identifier} is not currently in the available state.",
        )


@rule("RestoreDBInstanceFromDBSnapshot", "RestoreDBClusterFromSnapshot", "CopyDBSnapshot", "CopyDBClusterSnapshot")
def restores_and_copies_need_an_available_snapshot(call: Call) -> None:
    """A snapshot is restored or copied once it is ``available``.

    https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_RestoreDBInstanceFromDBSnapshot.html
    (InvalidDBSnapshotState), API_RestoreDBClusterFromSnapshot.html and API_CopyDBSnapshot.html.
    """
    is_cluster = "Cluster" in call.operation
    kind = CLUSTER_SNAPSHOT if is_cluster else SNAPSHOT
    parameter = {
        "RestoreDBInstanceFromDBSnapshot": "DBSnapshotIdentifier",
        "RestoreDBClusterFromSnapshot": "SnapshotIdentifier",
        "CopyDBSnapshot": "SourceDBSnapshotIdentifier",
        "CopyDBClusterSnapshot": "SourceDBClusterSnapshotIdentifier",
    }[call.operation]
    where, _ = call.model.snapshot(kind, str(call.get(parameter) or ""))
    identifier = str(call.get(parameter) or "").split(":")[-1]
    status = where.status(kind, identifier)
    if status is not None and status != "available":
        code = "InvalidDBClusterSnapshotStateFault" if is_cluster else "InvalidDBSnapshotState"
        raise refuse(code, f"Snapshot {identifier} is {status}, not available.")


@rule("ModifyDBSnapshotAttribute", "ModifyDBClusterSnapshotAttribute")
def encrypted_snapshots_are_shared_only_under_a_customer_key(call: Call) -> None:
    """A snapshot encrypted with the AWS managed key (``aws/rds``) cannot be shared, and an encrypted snapshot is
    shared with named accounts only, never with ``all``.

    https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_ShareSnapshot.html ("you can't share a snapshot
    that has been encrypted using the default KMS key of the AWS account that shared the snapshot") and
    https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_ModifyDBSnapshotAttribute.html (an encrypted
    snapshot is shared by listing account IDs in ValuesToAdd; ``all`` is not allowed).
    """
    kind, parameter = _SHARES[call.operation]
    added = [str(value) for value in call.get("ValuesToAdd") or []]
    if call.get("AttributeName") != "restore" or not added:
        return
    where, snapshot = call.model.snapshot(kind, str(call.get(parameter) or ""))
    if snapshot is None or not _encrypted(snapshot):
        return
    if "all" in added:
        raise refuse("InvalidParameterValue", "An encrypted snapshot can only be shared with named AWS accounts, not with all.")
    key = where.key(str(snapshot.kms_key_id))
    if key is not None and getattr(key, "key_manager", None) == "AWS":
        raise refuse(
            "InvalidParameterValue",
            "A snapshot encrypted with the AWS managed KMS key can't be shared. Copy it under a customer managed key "
            "and share the copy.",
        )


@rule("CopyDBSnapshot", "CopyDBClusterSnapshot")
def copies_need_a_snapshot_shared_with_the_account(call: Call) -> None:
    """Another account's snapshot is copied only once that account shared it with the caller (``restore``
    attribute); otherwise RDS does not find it.

    https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_ShareSnapshot.html and
    https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_CopySnapshot.html#USER_CopySnapshot.Shared
    (SourceDBSnapshotIdentifier must be the ARN of the shared snapshot).
    """
    kind, source = _copy_source(call)
    where, snapshot = call.model.snapshot(kind, source)
    if snapshot is None or where.account_id == call.model.account_id:
        return
    shared_with = set(getattr(snapshot, "attributes", {}).get("restore", []))
    if call.model.account_id not in shared_with and "all" not in shared_with:
        code, message = _NOT_FOUND[kind]
        raise refuse(code, message.format(source))


@rule("CopyDBSnapshot", "CopyDBClusterSnapshot")
def shared_snapshots_are_copied_within_their_region(call: Call) -> None:
    """A snapshot shared by another account is copied in its own Region: a cluster snapshot always, an instance
    snapshot when it is encrypted. (Copy it into the account first, then across Regions.)

    https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/aurora-copy-snapshot.html#aurora-copy-snapshot.Shared
    ("you can only copy a shared DB cluster snapshot, whether encrypted or not, in the same AWS Region"; the
    CopyDBClusterSnapshot API page reads more loosely, the Aurora guide is the one followed here) and
    https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_CopySnapshot.html#USER_CopySnapshot.Shared ("if
    the shared DB snapshot is encrypted, you can only copy it in the same Region").
    """
    kind, source = _copy_source(call)
    where, snapshot = call.model.snapshot(kind, source)
    if snapshot is None or where.account_id == call.model.account_id or where.region == call.model.region:
        return
    if kind == CLUSTER_SNAPSHOT or _encrypted(snapshot):
        raise refuse(
            "InvalidParameterValue",
            f"The shared snapshot {source} can only be copied in its own Region ({where.region}).",
        )


@rule("CopyDBSnapshot", "CopyDBClusterSnapshot")
def encrypted_copies_leaving_their_account_or_region_name_a_key(call: Call) -> None:
    """Copying an encrypted snapshot shared from another account, or from another Region, needs ``KmsKeyId``: a
    key of the caller's, valid in the destination Region.

    https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_CopyDBSnapshot.html (KmsKeyId: "if you copy an
    encrypted DB snapshot that is shared from another AWS account, then you must specify a value for KmsKeyId";
    "if you copy an encrypted DB snapshot to a different AWS Region, then you must specify an AWS KMS key
    identifier for the destination AWS Region").
    """
    kind, source = _copy_source(call)
    where, snapshot = call.model.snapshot(kind, source)
    if snapshot is None or not _encrypted(snapshot) or call.get("KmsKeyId"):
        return
    if where.scope != call.model.scope:
        raise refuse(
            "KMSKeyNotAccessibleFault",
            "The target KMS key [None] does not exist, is not enabled or you do not have permissions to access it.",
        )


@rule("CopyDBSnapshot", "CopyDBClusterSnapshot")
def shared_snapshot_keys_must_let_the_copying_account_in(call: Call) -> None:
    """An encrypted snapshot shared by another account is copied only if that account's key lets the caller use
    it (its key policy grants the caller's account kms:CreateGrant, kms:Decrypt and kms:DescribeKey); an AWS
    managed key never does.

    https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_ShareSnapshot.html#USER_ShareSnapshot.Encrypted
    ("Allowing access to an AWS KMS key": the key policy must name the target account) and
    https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_CopySnapshot.html#USER_CopySnapshot.Shared.
    """
    kind, source = _copy_source(call)
    where, snapshot = call.model.snapshot(kind, source)
    if snapshot is None or where.account_id == call.model.account_id or not _encrypted(snapshot):
        return
    key = where.key(str(snapshot.kms_key_id))
    if key is None or not lets_account_use(key, call.model.account_id):
        raise refuse(
            "KMSKeyNotAccessibleFault",
            f"The source snapshot KMS key [{snapshot.kms_key_id}] does not exist, is not enabled or you do not have "
            "permissions to access it.",
        )


@rule("CopyDBSnapshot", "CopyDBClusterSnapshot")
def copy_keys_are_keys_of_the_destination_region(call: Call) -> None:
    """The ``KmsKeyId`` of a copy is an enabled key valid in the Region the call is made in (the destination):
    KMS keys are regional, so a cross-Region copy is called in the destination Region with a key of that Region.

    https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_CopySnapshot.html#USER_CopySnapshot.Encryption
    ("if you copy an encrypted snapshot across Regions, you must specify a KMS key valid in the destination AWS
    Region") and https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_CopyDBSnapshot.html.
    """
    key_id = call.get("KmsKeyId")
    if not key_id:
        return
    key_id = str(key_id)
    account, region = call.model.account_id, call.model.region
    if key_id.startswith("arn:"):
        parts = key_id.split(":")
        account, region = parts[4], parts[3]
    key = call.model.in_scope(account, region).key(key_id) if region == call.model.region else None
    usable = key is not None and getattr(key, "enabled", True) and lets_account_use(key, call.model.account_id)
    if not usable:
        raise refuse(
            "KMSKeyNotAccessibleFault",
            f"Specified KMS key [{key_id}] does not exist, is not enabled or you do not have permissions to access it.",
        )


@rule("CopyDBSnapshot", "CopyDBClusterSnapshot")
def cross_region_copies_of_encrypted_snapshots_carry_a_presigned_url(call: Call) -> None:
    """In the AWS GovCloud (US) Regions, a copy of an encrypted snapshot from another Region is called in the
    destination Region with a ``PreSignedUrl`` for the source Region (the SDKs make it from ``SourceRegion``);
    elsewhere RDS ignores the parameter.

    https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_CopyDBSnapshot.html (PreSignedUrl: "This
    setting applies only to AWS GovCloud (US) Regions. It's ignored in other AWS Regions"; likewise
    API_CopyDBClusterSnapshot.html).
    """
    kind, source = _copy_source(call)
    where, snapshot = call.model.snapshot(kind, source)
    if snapshot is None or where.region == call.model.region or not _encrypted(snapshot) or call.get("PreSignedUrl"):
        return
    if not call.model.region.startswith("us-gov-"):
        return
    raise refuse(
        "InvalidParameterValue",
        f"Copying the encrypted snapshot {source} from {where.region} needs a PreSignedUrl for that Region "
        f"(call the copy in {call.model.region} with SourceRegion {where.region}).",
    )


@rule("CopyDBSnapshot", "CopyDBClusterSnapshot")
def copies_in_flight_to_a_region_are_limited(call: Call) -> None:
    """An account has at most 20 snapshot copies from other Regions in progress to one destination Region.

    https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_CopySnapshot.html#USER_CopySnapshot.Limitations
    ("you can have up to 20 snapshot copy requests in progress to a single destination Region per account";
    older versions of the guide said five). RDS answers SnapshotQuotaExceeded.
    """
    kind, source = _copy_source(call)
    where, _ = call.model.snapshot(kind, source)
    if where.region == call.model.region:
        return
    limit = call.model.quotas.copies_in_flight_per_region
    if len(call.model.copies_in_flight()) >= limit:
        raise refuse("SnapshotQuotaExceeded", f"Cannot copy more than {limit} snapshots across regions")


@rule("RestoreDBInstanceToPointInTime", "RestoreDBClusterToPointInTime")
def point_in_time_restores_stay_in_the_restorable_window(call: Call) -> None:
    """A restore to a point in time needs automated backups and a time inside the source's restorable window:
    not before its earliest restorable time, not after its latest (about five minutes ago); exactly one of the
    time and ``UseLatestRestorableTime``.

    https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_RestoreDBInstanceToPointInTime.html (RestoreTime:
    "must be before the latest restorable time"; PointInTimeRestoreNotEnabled: "BackupRetentionPeriod equal to 0";
    InvalidRestoreFault), API_RestoreDBClusterToPointInTime.html (RestoreToTime) and
    https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_PIT.html (the restorable window).
    """
    is_cluster = call.operation == "RestoreDBClusterToPointInTime"
    source = call.model.point_in_time_source(call)
    if source is None:
        return  # RDS answers not found (moto does too)
    time_parameter = "RestoreToTime" if is_cluster else "RestoreTime"
    latest = _true(call.get("UseLatestRestorableTime"))
    if latest == bool(call.get(time_parameter)):
        raise refuse("InvalidParameterCombination", f"Specify either {time_parameter} or UseLatestRestorableTime, not both or neither.")
    window = call.model.history.restorable_window(source)
    name = source.db_cluster_identifier if is_cluster else source.db_instance_identifier
    if window is None:
        if is_cluster:
            raise refuse("InvalidRestoreFault", f"DB cluster {name} has no automated backups to restore from.")
        raise refuse("PointInTimeRestoreNotEnabled", f"SourceDBInstanceIdentifier {name} refers to a DB instance with BackupRetentionPeriod equal to 0.")
    wanted = parse_time(call.get(time_parameter))
    if wanted is not None and not window[0] <= wanted <= window[1]:
        raise refuse(
            "InvalidRestoreFault",
            f"The restore time {wanted.isoformat()} is outside the restorable window of {name} "
            f"({window[0].isoformat()} to {window[1].isoformat()}).",
        )


@rule("RestoreDBClusterToPointInTime")
def clones_are_of_the_latest_time_of_a_cluster_with_an_instance(call: Call) -> None:
    """A copy-on-write clone takes no ``RestoreToTime`` (it is made at the latest restorable time), and is made
    only of a cluster that has at least one DB instance.

    https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_RestoreDBClusterToPointInTime.html (RestoreToTime:
    "Can't be specified if the RestoreType parameter is copy-on-write") and
    https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/Aurora.Managing.Clone.html#Aurora.Managing.Clone.Limitations
    ("You can't create a clone from an Aurora DB cluster without the DB instance").
    """
    if call.get("RestoreType") != "copy-on-write":
        return
    if call.get("RestoreToTime"):
        raise refuse("InvalidParameterCombination", "RestoreToTime can't be specified when RestoreType is copy-on-write.")
    source = call.model.point_in_time_source(call)
    if source is not None and not call.model.members(source.db_cluster_identifier):
        raise refuse("InvalidDBClusterStateFault", f"DB cluster {source.db_cluster_identifier} has no DB instances to clone.")


@rule("BacktrackDBCluster")
def backtracks_stay_in_the_backtrack_window(call: Call) -> None:
    """A backtrack rewinds an ``available`` Aurora MySQL cluster that has backtracking on, to a time that is neither
    in the future nor earlier than its earliest backtrack time (the target window is at most 72 hours).

    https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_BacktrackDBCluster.html (BacktrackTo: "can't
    contain a timestamp set in the future"; InvalidDBClusterStateFault) and
    https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/AuroraMySQL.Managing.Backtrack.html ("if the
    backtrack time stamp isn't earlier than the earliest possible backtrack time, and isn't in the future, the DB
    cluster is backtracked"; backtracking only on clusters created with it; "the limit for a backtrack window is
    72 hours").
    """
    identifier = str(call.get("DBClusterIdentifier") or "")
    cluster = call.model.backend.clusters.get(identifier)
    if cluster is None:
        return  # the operation answers DBClusterNotFoundFault
    earliest = call.model.history.earliest_backtrack_time(cluster)
    if cluster.engine not in BACKTRACK_ENGINES or earliest is None:
        raise refuse("InvalidDBClusterStateFault", f"Backtrack is not enabled for DB cluster {identifier}.")
    status = call.model.status(CLUSTER, identifier)
    if status != "available":
        raise _invalid_state(CLUSTER, identifier, str(status))
    wanted = parse_time(call.get("BacktrackTo"))
    if wanted is None:
        raise refuse("InvalidParameterValue", "BacktrackTo must be a valid ISO 8601 timestamp.")
    if wanted > call.model.history.now():
        raise refuse("InvalidParameterValue", "BacktrackTo can't be set in the future.")
    if wanted < earliest:
        raise refuse(
            "InvalidParameterValue",
            f"BacktrackTo {wanted.isoformat()} is earlier than the earliest backtrack time of {identifier} ({earliest.isoformat()}).",
        )


# -- the model -----------------------------------------------------------------------------------------------


# How long after a create the API may still not know the resource (seconds on the emulator's clock).
CONSISTENCY_SECONDS = 5.0


@dataclass
class _Consistency:
    """Eventual consistency of the RDS API: a resource just created is not found by a describe right after."""

    hidden_once: dict[tuple[str, str], float] = field(default_factory=dict)  # resource -> when it was created


class StrictRds:
    """RDS's rules and timing over one moto account and region; installed by :mod:`trapheus_local.rds_calls`.

    The emulator holds one for its own account and region; :meth:`in_scope` gives the model of any other
    account and region (made on first use, with RDS's default quotas), sharing the clock, the latency model
    and whether operations finish at once.
    """

    def __init__(
        self,
        latency: LatencyModel,
        now: Callable[[], float],
        *,
        account_id: str,
        region: str,
        quotas: Quotas | None = None,
        assumptions: Assumptions = DEFAULT_ASSUMPTIONS,
        eventual_consistency: bool = True,
        root: StrictRds | None = None,
    ) -> None:
        self.latency = latency
        self.now = now
        self.account_id = account_id
        self.region = region
        self.quotas = quotas or Quotas()
        self.assumptions = assumptions
        self.eventual_consistency = eventual_consistency
        self._root = root or self
        self._lock = self._root._lock if root is not None else threading.RLock()
        self._released_at: dict[tuple[str, str], float] = {}  # identifier renamed away -> when it is free
        self._resolves_from: dict[tuple[str, str], float] = {}  # renamed database -> when its new name resolves
        self._storage_changed: dict[str, float] = {}  # resource id -> last storage modification
        self._consistency = _Consistency()
        self._cross_region_copies: set[tuple[str, str]] = set()  # (kind, target) copied here from another region
        self._instant_count = 0  # > 0 (on the root): operations finish at once (arranging the world before a run)
        self._scopes: dict[tuple[str, str], StrictRds] = {(account_id, region): self} if root is None else {}
        self.history = DatabaseHistory(account_id=account_id, region=region, status=self.status)

    @property
    def scope(self) -> tuple[str, str]:
        return (self.account_id, self.region)

    @property
    def _instant(self) -> int:
        return self._root._instant_count

    def in_scope(self, account_id: str, region: str) -> StrictRds:
        """The model of RDS in ``account_id`` and ``region`` (this one's when they are its own)."""
        root = self._root
        with root._lock:
            found = root._scopes.get((account_id, region))
            if found is None:
                found = StrictRds(
                    root.latency, root.now, account_id=account_id, region=region, assumptions=root.assumptions,
                    eventual_consistency=root.eventual_consistency, root=root,
                )
                root._scopes[(account_id, region)] = found
            return found

    def scopes(self) -> list[StrictRds]:
        with self._root._lock:
            return list(self._root._scopes.values())

    # -- hooks (rds_calls) ---------------------------------------------------------------------------

    def operations(self) -> dict[str, Callable[[Mapping[str, Any]], dict]]:
        """Operations moto lacks that the model answers."""
        return {"DescribeAccountAttributes": lambda params: self.account_attributes(), **self.history.operations()}

    def described(self) -> contextlib.AbstractContextManager[None]:
        """Describe calls report what the model knows (restorable and backtrack times) while the block runs."""
        return self.history.described()

    def normalise(self, params: Any) -> None:
        """Identifiers are case-insensitive and stored in lower case.

        https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_CreateDBInstance.html (DBInstanceIdentifier:
        "This parameter is stored as a lowercase string"; likewise every identifier of the API).
        """
        for name in IDENTIFIER_PARAMETERS:
            value = params.get(name) if hasattr(params, "get") else None
            if isinstance(value, str) and not value.startswith("arn:") and value != value.lower():
                params[name] = value.lower()

    def check(self, operation: str, params: Mapping[str, Any]) -> None:
        """Raise the error RDS answers with when a rule refuses the call."""
        call = Call(operation, params, self)
        with self._lock:
            for check in RULES.get(operation, []):
                check(call)

    def timing(self, operation: str, params: Mapping[str, Any]) -> list[Phase]:
        """The phases a successful call puts its resource through (the latency model's timing)."""
        if self._instant:
            return []
        return RdsTiming(self._size_gib(operation, params), self._root.assumptions).phases(operation, params)

    def after(self, operation: str, params: Mapping[str, Any]) -> None:
        """Effects RDS has and moto lacks, once moto has handled the call."""
        with self._lock:
            new_name = params.get(_NEW_NAME.get(operation, ""))
            if new_name:
                self._renamed(operation, params, str(new_name))
            if operation in _CREATES:
                kind, parameter = _CREATES[operation]
                if kind in (INSTANCE, CLUSTER):
                    self.history.created(kind, str(params.get(parameter)), existed_before=bool(self._instant))
                if not self._instant and self.eventual_consistency:
                    self._consistency.hidden_once[(kind, str(params.get(parameter)))] = self.now()
            if operation == "ModifyDBInstance" and not self._instant:
                instance = self.backend.databases.get(str(params.get("DBInstanceIdentifier")))
                if instance is not None and any(name in params for name in _STORAGE_PARAMETERS):
                    self._storage_changed[instance.dbi_resource_id] = self.now()
            if operation in _COPY_SOURCES:
                source = self.locate(str(params.get(_COPY_SOURCES[operation]) or ""))
                if source is not None and source[1] != self.region:
                    kind = CLUSTER_SNAPSHOT if "Cluster" in operation else SNAPSHOT
                    self._cross_region_copies.add((kind, str(params.get(_CREATES[operation][1]))))

    def before_delete(self, operation: str, params: Mapping[str, Any]) -> None:
        """Deleting a source instance promotes its read replicas to standalone instances.

        https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_ReadRepl.html ("if you delete a source DB
        instance without deleting its read replicas in the same AWS Region, each read replica is promoted to a
        standalone DB instance").
        """
        if operation != "DeleteDBInstance":
            return
        source = self.backend.databases.get(str(params.get("DBInstanceIdentifier")))
        if source is None:
            return
        for name in list(source.replicas):
            replica = self.backend.databases.get(name)
            if replica is not None:
                replica.is_replica = False
                replica.source_db_instance_identifier = None
        source.replicas = []

    def answers_not_found(self, kind: str, identifier: str) -> bool:
        """Eventual consistency: True once, for the first describe of a resource created a moment ago.

        RDS documents no consistency model of its own; AWS's general one is
        https://docs.aws.amazon.com/ec2/latest/devguide/eventual-consistency.html (a describe right after a
        create may answer that the resource does not exist: poll with backoff), and RDS answers
        ``DBInstanceNotFound`` right after a create in the field.
        """
        with self._lock:
            key = (kind, identifier)
            created = self._consistency.hidden_once.pop(key, None)
            return created is not None and self.now() - created < CONSISTENCY_SECONDS

    def not_found_error(self, kind: str, identifier: str) -> RDSClientError:
        code, message = _NOT_FOUND[kind]
        return refuse(code, message.format(identifier))

    # -- arranging the world ---------------------------------------------------------------------------

    @contextlib.contextmanager
    def instantly(self) -> Iterator[None]:
        """Operations inside finish at once and are seen at once (databases that existed before the run), in
        every account and region."""
        root = self._root
        with root._lock:
            root._instant_count += 1
        try:
            yield
        finally:
            with root._lock:
                root._instant_count -= 1

    def settle(self) -> None:
        """Enough time has passed: the API is consistent again, renamed-away names are free, new names resolve
        (in every account and region)."""
        with self._lock:
            for model in self.scopes():
                model._consistency.hidden_once.clear()
                model._released_at.clear()
                model._resolves_from.clear()

    def made_by_cloudformation(self, kind: str, identifier: str, stack_name: str, logical_id: str) -> None:
        """Give a database the tags CloudFormation sets on the resources it creates (no API may set ``aws:`` keys).

        https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-properties-resource-tags.html
        (``aws:cloudformation:stack-name``, ``aws:cloudformation:logical-id``, ``aws:cloudformation:stack-id``).
        """
        resource = (self.backend.databases if kind == INSTANCE else self.backend.clusters)[identifier]
        stack_id = f"arn:aws:cloudformation:{self.region}:{self.account_id}:stack/{stack_name}/00000000-0000-0000-0000-000000000000"
        resource.add_tags([
            {"Key": "aws:cloudformation:stack-name", "Value": stack_name},
            {"Key": "aws:cloudformation:logical-id", "Value": logical_id},
            {"Key": "aws:cloudformation:stack-id", "Value": stack_id},
        ])

    # -- what rules read --------------------------------------------------------------------------------

    @property
    def backend(self) -> RDSBackend:
        return rds_backends[self.account_id][self.region]

    def status(self, kind: str, identifier: str | None) -> str | None:
        """The status a describe would show now (None: no such resource)."""
        if not identifier:
            return None
        shown, _ = self.latency.peek(kind, identifier, self.scope)
        resource = self._resource(kind, identifier)
        if resource is None:
            return shown if shown == "deleting" else None
        if shown is not None:
            return shown
        return str(getattr(resource, "_status", None) or resource.status) if kind == CLUSTER else str(resource.status)

    def exists(self, kind: str, identifier: str) -> bool:
        return self._resource(kind, identifier) is not None

    def locate(self, identifier: str) -> tuple[str, str, str] | None:
        """(account, region, name) of a resource named by its ARN, or by its identifier in this scope."""
        if not identifier:
            return None
        if identifier.startswith("arn:"):
            parts = identifier.split(":", 6)
            return (parts[4], parts[3], parts[6]) if len(parts) == 7 else None
        return (self.account_id, self.region, identifier)

    def snapshot(self, kind: str, identifier: str) -> tuple[StrictRds, Any]:
        """The model of the scope a snapshot (named by identifier or ARN) lives in, and the snapshot (or None)."""
        where = self.locate(identifier)
        if where is None:
            return self, None
        model = self.in_scope(where[0], where[1])
        return model, model._resource(kind, where[2])

    def key(self, key_id: str) -> Any:
        """The KMS key ``key_id`` (id, ARN or alias) names in this scope, or None."""
        from moto.kms.models import kms_backends

        try:
            return kms_backends[self.account_id][self.region].describe_key(key_id)
        except Exception:  # noqa: BLE001 - moto answers unknown ids and aliases with several exception types
            return None

    def copies_in_flight(self) -> list[str]:
        """Copies from other Regions to this scope that are still in progress."""
        in_flight = []
        for kind, name in list(self._cross_region_copies):
            if self.status(kind, name) in ("copying", "creating"):
                in_flight.append(name)
            else:
                self._cross_region_copies.discard((kind, name))
        return in_flight

    def reserved(self, kind: str, identifier: str) -> bool:
        released = self._released_at.get((kind, identifier))
        return released is not None and self.now() < released

    def resolves(self, kind: str, identifier: str) -> bool:
        """Whether the database's endpoint name answers now (a renamed database's new name takes a while)."""
        if self._resource(kind, identifier) is None:
            return False
        since = self._resolves_from.get((kind, identifier))
        return since is None or self.now() >= since

    def tags_of(self, arn: str) -> list[str]:
        """The tag keys the resource named by ``arn`` has now (none when RDS would not find it)."""
        try:
            return [str(tag["Key"]) for tag in self.backend.list_tags_for_resource(arn)]
        except Exception:  # noqa: BLE001 - a resource moto cannot find: RDS answers not found, not this rule
            return []

    def members(self, cluster_id: str) -> list[str]:
        return [
            name
            for name, instance in list(self.backend.databases.items())
            if getattr(instance, "db_cluster_identifier", None) == cluster_id
        ]

    def storage_changed_at(self, instance: DBInstance) -> float | None:
        return self._storage_changed.get(instance.dbi_resource_id)

    def manual_snapshot_usage(self, is_cluster: bool) -> tuple[int, int]:
        snapshots = self.backend.cluster_snapshots if is_cluster else self.backend.database_snapshots
        used = sum(1 for snapshot in list(snapshots.values()) if snapshot.snapshot_type == "manual")
        return used, self.quotas.manual_cluster_snapshots if is_cluster else self.quotas.manual_snapshots

    def database_usage(self, is_cluster: bool) -> tuple[int, int]:
        if is_cluster:
            return len(self.backend.clusters), self.quotas.db_clusters
        return len(self.backend.databases), self.quotas.db_instances

    def account_attributes(self) -> dict[str, Any]:
        """DescribeAccountAttributes (moto lacks it): the modelled quotas and their usage.

        https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_DescribeAccountAttributes.html and the
        quota names of https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/CHAP_Limits.html.
        """
        instances, clusters = self.database_usage(False)[0], self.database_usage(True)[0]
        return {
            "AccountQuotas": [
                {"AccountQuotaName": "DBInstances", "Used": instances, "Max": self.quotas.db_instances},
                {"AccountQuotaName": "DBClusters", "Used": clusters, "Max": self.quotas.db_clusters},
                {"AccountQuotaName": "ManualSnapshots", "Used": self.manual_snapshot_usage(False)[0],
                 "Max": self.quotas.manual_snapshots},
                {"AccountQuotaName": "ManualClusterSnapshots", "Used": self.manual_snapshot_usage(True)[0],
                 "Max": self.quotas.manual_cluster_snapshots},
            ]
        }

    def engine_of(self, call: Call) -> tuple[str | None, str | None]:
        """Engine and version of what a restore or member creation produces."""
        backend = self.backend
        if call.operation == "RestoreDBInstanceFromDBSnapshot":
            snapshot = backend.database_snapshots.get(str(call.get("DBSnapshotIdentifier") or "").split(":")[-1])
            database = getattr(snapshot, "database", None)
            return (getattr(database, "engine", None), getattr(database, "engine_version", None))
        if call.operation == "RestoreDBClusterFromSnapshot":
            snapshot = backend.cluster_snapshots.get(str(call.get("SnapshotIdentifier") or "").split(":")[-1])
            cluster = getattr(snapshot, "cluster", None)
            return (getattr(cluster, "engine", None), getattr(cluster, "engine_version", None))
        if call.operation in ("RestoreDBInstanceToPointInTime", "RestoreDBClusterToPointInTime"):
            source = self.point_in_time_source(call)
            return (getattr(source, "engine", None), getattr(source, "engine_version", None))
        cluster = backend.clusters.get(call.get("DBClusterIdentifier") or "")
        if cluster is None:
            return None, None
        return cluster.engine, cluster.engine_version

    def point_in_time_source(self, call: Call) -> Any:
        """The database a point-in-time restore copies (named, or by resource id), or None."""
        if call.operation == "RestoreDBClusterToPointInTime":
            store, name, resource_id, attribute = (
                self.backend.clusters, "SourceDBClusterIdentifier", "SourceDbClusterResourceId", "db_cluster_resource_id")
        else:
            store, name, resource_id, attribute = (
                self.backend.databases, "SourceDBInstanceIdentifier", "SourceDbiResourceId", "dbi_resource_id")
        if call.get(name):
            return store.get(str(call.get(name)))
        wanted = call.get(resource_id)
        return next((r for r in list(store.values()) if wanted and getattr(r, attribute, None) == wanted), None)

    def parameter_group_family(self, name: str) -> str | None:
        if name.startswith("default."):
            return name[len("default."):]
        group = self.backend.db_parameter_groups.get(name)
        return getattr(group, "family", None)

    def cluster_parameter_group_family(self, name: str) -> str | None:
        if name.startswith("default."):
            return name[len("default."):]
        group = self.backend.db_cluster_parameter_groups.get(name)
        return getattr(group, "family", None)

    # -- effects ------------------------------------------------------------------------------------------

    def _renamed(self, operation: str, params: Mapping[str, Any], new_name: str) -> None:
        kind = INSTANCE if operation == "ModifyDBInstance" else CLUSTER
        old_name = str(params.get("DBInstanceIdentifier" if kind == INSTANCE else "DBClusterIdentifier"))
        # the rename is done when its ``renaming`` phase ends (whatever timing the latency model runs)
        shown, until = self.latency.peek(kind, new_name, self.scope)
        done = until if shown == "renaming" and until is not None else self.now()
        self._released_at[(kind, old_name)] = done
        self._resolves_from[(kind, new_name)] = done
        self._resolves_from.pop((kind, old_name), None)
        if kind == INSTANCE:
            # read replicas stay associated with their source through a rename (USER_RenameInstance.html)
            source = self.backend.databases.get(new_name)
            for name in list(getattr(source, "replicas", [])):
                replica = self.backend.databases.get(name)
                if replica is not None:
                    replica.source_db_instance_identifier = new_name

    # -- internals ----------------------------------------------------------------------------------------

    def _resource(self, kind: str, identifier: str) -> Any:
        backend = self.backend
        store = {
            INSTANCE: backend.databases,
            CLUSTER: backend.clusters,
            SNAPSHOT: backend.database_snapshots,
            CLUSTER_SNAPSHOT: backend.cluster_snapshots,
        }[kind]
        return store.get(identifier)

    def _size_gib(self, operation: str, params: Mapping[str, Any]) -> float:
        """The allocated storage an operation works on (Aurora clusters: a nominal volume size)."""
        backend = self.backend
        if params.get("AllocatedStorage"):
            return float(params["AllocatedStorage"])
        if operation == "RestoreDBInstanceToPointInTime":
            source = self.point_in_time_source(Call(operation, params, self))
            return float(getattr(source, "allocated_storage", 0) or 0)
        instance_id = params.get("DBInstanceIdentifier")
        instance = backend.databases.get(instance_id) if instance_id else None
        if instance is not None and not getattr(instance, "db_cluster_identifier", None):
            return float(instance.allocated_storage or 0)
        _, snapshot = self.snapshot(SNAPSHOT, str(params.get("DBSnapshotIdentifier") or params.get("SourceDBSnapshotIdentifier") or ""))
        if snapshot is not None:
            return float(getattr(snapshot, "allocated_storage", 0) or 0)
        return CLUSTER_VOLUME_GIB


def lets_account_use(key: Any, account_id: str) -> bool:
    """Whether ``account_id`` may use ``key`` for a snapshot copy: its own key, or a customer managed key whose
    policy allows that account the actions RDS needs (:data:`SHARED_KEY_ACTIONS`)."""
    if getattr(key, "account_id", account_id) == account_id:
        return True
    if getattr(key, "key_manager", None) == "AWS":
        return False
    try:
        statements = json.loads(getattr(key, "policy", "") or "{}").get("Statement", [])
    except ValueError:
        return False
    allowed: set[str] = set()
    for statement in statements if isinstance(statements, list) else [statements]:
        if statement.get("Effect") != "Allow" or not _names_account(statement.get("Principal"), account_id):
            continue
        actions = statement.get("Action", [])
        allowed.update([actions] if isinstance(actions, str) else actions)
    if "*" in allowed or "kms:*" in allowed:
        return True
    return SHARED_KEY_ACTIONS <= allowed


def _names_account(principal: Any, account_id: str) -> bool:
    if principal == "*":
        return True
    names = principal.get("AWS", []) if isinstance(principal, dict) else []
    names = [names] if isinstance(names, str) else names
    return any(name in ("*", account_id) or str(name).startswith(f"arn:aws:iam::{account_id}:") for name in names)


def _copy_source(call: Call) -> tuple[str, str]:
    kind = CLUSTER_SNAPSHOT if call.operation == "CopyDBClusterSnapshot" else SNAPSHOT
    return kind, str(call.get(_COPY_SOURCES[call.operation]) or "")


def _encrypted(snapshot: Any) -> bool:
    return bool(getattr(snapshot, "encrypted", False) or getattr(snapshot, "storage_encrypted", False)) and bool(
        getattr(snapshot, "kms_key_id", None)
    )


def _changes_storage(params: Mapping[str, Any], instance: DBInstance) -> bool:
    current = {
        "AllocatedStorage": instance.allocated_storage,
        "StorageType": instance.storage_type,
        "Iops": getattr(instance, "iops", None),
        "StorageThroughput": getattr(instance, "storage_throughput", None),
    }
    return any(name in params and params[name] != current[name] for name in _STORAGE_PARAMETERS)


def _true(value: Any) -> bool:
    return str(value).lower() == "true"


def _invalid_state(kind: str, identifier: str, status: str) -> RDSClientError:
    if kind == CLUSTER:
        return refuse("InvalidDBClusterStateFault", f"DB cluster is not available for modification with status {status}")
    return refuse("InvalidDBInstanceState", "Database instance is not in available state.")


def _already_exists(kind: str, identifier: str) -> RDSClientError:
    if kind == CLUSTER:
        return refuse("DBClusterAlreadyExistsFault", "DB Cluster already exists")
    return refuse("DBInstanceAlreadyExists", "DB Instance already exists")
