"""What an RDS status means to a run: usable, failed for good, or gone.

From the status tables of the RDS and Aurora user guides
(https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/accessing-monitoring.html#Overview.DBInstance.Status,
https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/accessing-monitoring.html).
"""

from __future__ import annotations

# Serving clients and taking further work. During storage-optimization an instance is fully operational
# (only a further storage change waits); storage-initialization is the lazy load after a restore.
USABLE = frozenset({"available", "storage-optimization", "storage-initialization"})

# A wait for a database to become usable ends at once in any of these: nothing will bring it back.
FAILED_INSTANCE_STATUSES = frozenset(
    {
        "failed",
        "incompatible-restore",
        "incompatible-parameters",
        "incompatible-create",
        "incompatible-network",
        "incompatible-option-group",
        "insufficient-capacity",
        "inaccessible-encryption-credentials",
        "inaccessible-encryption-credentials-recoverable",
        "restore-error",
        "storage-full",
        "stopped",
        "deleting",
        "deleted",
    }
)
FAILED_CLUSTER_STATUSES = frozenset(
    {
        "failed",
        "incompatible-restore",
        "incompatible-parameters",
        "incompatible-create",
        "incompatible-network",
        "insufficient-capacity",
        "inaccessible-encryption-credentials",
        "inaccessible-encryption-credentials-recoverable",
        "migration-failed",
        "stopped",
        "deleting",
        "deleted",
    }
)

GONE = frozenset({"deleting", "deleted"})

# A snapshot in any of these will never become available (botocore's DBSnapshotAvailable waiter fails on them).
FAILED_SNAPSHOT_STATUSES = frozenset({"failed", "deleting", "deleted", "incompatible-restore", "incompatible-parameters"})
