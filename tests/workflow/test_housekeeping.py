"""What a test made in a shared emulator is dropped when it ends (tests/support/housekeeping.py)."""

from __future__ import annotations

from support.housekeeping import rds_made_here_forgotten
from support.rds_fixtures import make_cluster, make_instance


def _names(rds) -> set[str]:
    instances = {i["DBInstanceIdentifier"] for i in rds.describe_db_instances()["DBInstances"]}
    clusters = {c["DBClusterIdentifier"] for c in rds.describe_db_clusters()["DBClusters"]}
    snapshots = {s["DBSnapshotIdentifier"] for s in rds.describe_db_snapshots()["DBSnapshots"]}
    cluster_snapshots = {s["DBClusterSnapshotIdentifier"] for s in rds.describe_db_cluster_snapshots()["DBClusterSnapshots"]}
    return instances | clusters | snapshots | cluster_snapshots


def test_only_what_the_block_made_is_dropped_in_every_region(emulator):
    rds, ec2 = emulator.client("rds"), emulator.client("ec2")
    west = emulator.client("rds", region="us-west-2")
    with emulator.settled():
        make_instance(rds, ec2, "kept-db")
        rds.create_db_snapshot(DBInstanceIdentifier="kept-db", DBSnapshotIdentifier="kept-db-snapshot")
    before = _names(rds)

    with rds_made_here_forgotten(), emulator.settled():
        make_instance(rds, ec2, "made-db")
        make_cluster(rds, ec2, "made-cluster", members=1)
        rds.create_db_cluster_snapshot(DBClusterIdentifier="made-cluster", DBClusterSnapshotIdentifier="made-cluster-snapshot")
        rds.create_db_snapshot(DBInstanceIdentifier="kept-db", DBSnapshotIdentifier="kept-db-second")
        make_instance(west, emulator.client("ec2", region="us-west-2"), "made-in-the-west")
        assert {"made-db", "made-cluster", "made-cluster-1", "made-cluster-snapshot", "kept-db-second"} <= _names(rds)

    assert _names(rds) == before
    assert _names(west) == set()
