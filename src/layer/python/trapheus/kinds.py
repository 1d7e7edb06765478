"""What differs between an RDS instance and an Aurora cluster, as data.

Every domain function takes a :class:`DatabaseKind` instead of branching on
``isCluster``; the API names and response keys come from here.
"""

from __future__ import annotations

from dataclasses import dataclass



@dataclass(frozen=True)
class SnapshotKind:
    id_param: str
    source_param: str
    create_op: str
    describe_op: str
    delete_op: str
    copy_op: str
    copy_source_param: str
    copy_target_param: str
    list_key: str
    result_key: str
    not_found_codes: frozenset[str]
    exists_codes: frozenset[str]
    arn_key: str
    attribute_op: str = ""  # shares the snapshot (ModifyDB[Cluster]SnapshotAttribute)
    encrypted_key: str = "Encrypted"
    original_time_key: str | None = None  # the source time a copy holds (instance snapshots only)


@dataclass(frozen=True)
class RestoreOperation:
    """One RDS call that restores a database under a new identifier, and how it names what it restores from.

    ``source_param`` names the snapshot, or the original: by its resource id (which survives renames) or, where
    RDS documents only that, by its identifier at the moment of the call (``source_by_identifier``);
    ``time_param`` is the point in time, for the calls that take one; ``fixed`` are arguments every call gets.
    """

    restore_op: str  # botocore operation name, e.g. RestoreDBInstanceToPointInTime
    target_param: str
    source_param: str
    time_param: str | None = None
    fixed: tuple[tuple[str, str], ...] = ()
    source_by_identifier: bool = False


@dataclass(frozen=True)
class DatabaseKind:
    name: str
    id_param: str
    new_id_param: str
    describe_op: str
    modify_op: str
    delete_op: str
    from_snapshot: RestoreOperation
    to_point_in_time: RestoreOperation
    list_key: str
    result_key: str
    status_key: str
    arn_key: str
    not_found_codes: frozenset[str]
    exists_codes: frozenset[str]
    snapshot: SnapshotKind
    final_snapshot_param: str
    # where a describe result keeps the connection details, and the key naming the database in a Secrets Manager
    # credentials secret (https://docs.aws.amazon.com/secretsmanager/latest/userguide/reference_secret_json_structure.html)
    host_path: tuple[str, ...]
    port_path: tuple[str, ...]
    database_name_key: str
    secret_id_key: str

    @property
    def is_cluster(self) -> bool:
        return self is CLUSTER

    @property
    def label(self) -> str:
        return "Aurora cluster" if self.is_cluster else "DB instance"


INSTANCE_SNAPSHOT = SnapshotKind(
    id_param="DBSnapshotIdentifier",
    source_param="DBInstanceIdentifier",
    create_op="create_db_snapshot",
    describe_op="describe_db_snapshots",
    delete_op="delete_db_snapshot",
    copy_op="copy_db_snapshot",
    copy_source_param="SourceDBSnapshotIdentifier",
    copy_target_param="TargetDBSnapshotIdentifier",
    list_key="DBSnapshots",
    result_key="DBSnapshot",
    not_found_codes=frozenset({"DBSnapshotNotFound", "DBSnapshotNotFoundFault"}),
    exists_codes=frozenset({"DBSnapshotAlreadyExists", "DBSnapshotAlreadyExistsFault"}),
    arn_key="DBSnapshotArn",
    attribute_op="modify_db_snapshot_attribute",
    encrypted_key="Encrypted",
    original_time_key="OriginalSnapshotCreateTime",
)

CLUSTER_SNAPSHOT = SnapshotKind(
    id_param="DBClusterSnapshotIdentifier",
    source_param="DBClusterIdentifier",
    create_op="create_db_cluster_snapshot",
    describe_op="describe_db_cluster_snapshots",
    delete_op="delete_db_cluster_snapshot",
    copy_op="copy_db_cluster_snapshot",
    copy_source_param="SourceDBClusterSnapshotIdentifier",
    copy_target_param="TargetDBClusterSnapshotIdentifier",
    list_key="DBClusterSnapshots",
    result_key="DBClusterSnapshot",
    not_found_codes=frozenset({"DBClusterSnapshotNotFoundFault", "DBClusterSnapshotNotFound"}),
    exists_codes=frozenset({"DBClusterSnapshotAlreadyExistsFault", "DBClusterSnapshotAlreadyExists"}),
    arn_key="DBClusterSnapshotArn",
    attribute_op="modify_db_cluster_snapshot_attribute",
    encrypted_key="StorageEncrypted",
)

INSTANCE = DatabaseKind(
    name="instance",
    id_param="DBInstanceIdentifier",
    new_id_param="NewDBInstanceIdentifier",
    describe_op="describe_db_instances",
    modify_op="modify_db_instance",
    delete_op="delete_db_instance",
    from_snapshot=RestoreOperation(restore_op="RestoreDBInstanceFromDBSnapshot", target_param="DBInstanceIdentifier",
                                   source_param="DBSnapshotIdentifier"),
    to_point_in_time=RestoreOperation(restore_op="RestoreDBInstanceToPointInTime", target_param="TargetDBInstanceIdentifier",
                                      source_param="SourceDbiResourceId", time_param="RestoreTime"),
    list_key="DBInstances",
    result_key="DBInstance",
    status_key="DBInstanceStatus",
    arn_key="DBInstanceArn",
    not_found_codes=frozenset({"DBInstanceNotFound", "DBInstanceNotFoundFault"}),
    exists_codes=frozenset({"DBInstanceAlreadyExists", "DBInstanceAlreadyExistsFault"}),
    snapshot=INSTANCE_SNAPSHOT,
    final_snapshot_param="FinalDBSnapshotIdentifier",
    host_path=("Endpoint", "Address"),
    port_path=("Endpoint", "Port"),
    database_name_key="DBName",
    secret_id_key="dbInstanceIdentifier",
)

CLUSTER = DatabaseKind(
    name="cluster",
    id_param="DBClusterIdentifier",
    new_id_param="NewDBClusterIdentifier",
    describe_op="describe_db_clusters",
    modify_op="modify_db_cluster",
    delete_op="delete_db_cluster",
    from_snapshot=RestoreOperation(restore_op="RestoreDBClusterFromSnapshot", target_param="DBClusterIdentifier",
                                   source_param="SnapshotIdentifier"),
    # a full copy: a copy-on-write clone would share its volume with the original it is about to replace. The
    # source is named by its identifier: RDS documents SourceDbClusterResourceId for the retained backups of a
    # deleted cluster only (https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/aurora-pitr-retained.html),
    # a live cluster by SourceDBClusterIdentifier (aurora-pitr.html)
    to_point_in_time=RestoreOperation(
        restore_op="RestoreDBClusterToPointInTime", target_param="DBClusterIdentifier",
        source_param="SourceDBClusterIdentifier", time_param="RestoreToTime", fixed=(("RestoreType", "full-copy"),),
        source_by_identifier=True,
    ),
    list_key="DBClusters",
    result_key="DBCluster",
    status_key="Status",
    arn_key="DBClusterArn",
    not_found_codes=frozenset({"DBClusterNotFoundFault", "DBClusterNotFound"}),
    exists_codes=frozenset({"DBClusterAlreadyExistsFault", "DBClusterAlreadyExists"}),
    snapshot=CLUSTER_SNAPSHOT,
    final_snapshot_param="FinalDBSnapshotIdentifier",
    host_path=("Endpoint",),
    port_path=("Port",),
    database_name_key="DatabaseName",
    secret_id_key="dbClusterIdentifier",
)


def kind_for(is_cluster: bool) -> DatabaseKind:
    return CLUSTER if is_cluster else INSTANCE
