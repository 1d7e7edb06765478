"""Error classes. Each class name is the error name the state machine sees.

A Lambda function that raises one of these fails with ``errorType`` equal to the
class name, so ``Retry``/``Catch`` blocks in the ASL match on these names.
Only :class:`ThrottlingError` is transient and retried by the workflow.
"""

from __future__ import annotations


class TrapheusError(Exception):
    """Base class: a failure trapheus understands and can explain."""


class InvalidInputError(TrapheusError):
    """The execution input is malformed; nothing was changed."""


class DatabaseNotFoundError(TrapheusError):
    """The instance or cluster does not exist."""


class DatabaseNotAvailableError(TrapheusError):
    """The database is not in a state that allows the operation."""


class IdentifierInUseError(TrapheusError):
    """An identifier trapheus needs is already taken by another resource."""


class SnapshotNotFoundError(TrapheusError):
    """The snapshot to restore from does not exist."""


class SnapshotNotAvailableError(TrapheusError):
    """The snapshot exists but is not ``available``."""


class SnapshotError(TrapheusError):
    """Creating, copying or deleting a snapshot failed."""


class RenameError(TrapheusError):
    """Renaming an instance, a cluster or a cluster member failed."""


class RestoreError(TrapheusError):
    """Restoring from the snapshot or applying the configuration failed."""


class DeleteError(TrapheusError):
    """Deleting a database failed."""


class DatabaseFailedError(TrapheusError):
    """A database or snapshot reached a terminal failure status while we waited."""


class WaitTimeoutError(TrapheusError):
    """A poll loop ran out of attempts."""


class ExportError(TrapheusError):
    """Starting the export of a snapshot to S3 failed."""


class AlertError(TrapheusError):
    """An alert could not be delivered."""


class ThrottlingError(TrapheusError):
    """AWS throttled us beyond the client's own retries; the workflow retries with backoff."""


class UnsupportedTopologyError(TrapheusError):
    """The database has something a restore cannot carry (read replicas, a global database, a proxy...)."""


class EngineMismatchError(TrapheusError):
    """The snapshot's engine version does not fit the original's parameter or option groups."""


class QuotaExceededError(TrapheusError):
    """An account quota has no room for what the run creates, or cannot be read."""


class AccessNotGrantedError(TrapheusError):
    """The stack's roles may not touch a name, key or role the run needs."""


class ForeignSnapshotError(TrapheusError):
    """The snapshot a refresh would replace was taken from another database (or is not a manual snapshot)."""


class RestoreTimeError(TrapheusError):
    """The point in time is outside the database's restorable (or backtrack) window, or in the future."""


class NoAutomatedBackupsError(TrapheusError):
    """The database keeps no automated backups (retention 0), so it has no point in time to restore to."""


class BacktrackError(TrapheusError):
    """Rewinding an Aurora MySQL cluster (BacktrackDBCluster) failed."""


class VerificationFailedError(TrapheusError):
    """The user's verify function did not answer {"passed": true} for the restored copy (or failed)."""


class RecoveryError(TrapheusError):
    """A recovery of several databases failed; the cause says what is where."""


# -- copies of production ---------------------------------------------------------------------


class CredentialsError(TrapheusError):
    """Setting a copy's master password, its secret, or RDS's management of it failed (the message never holds
    the password)."""


# -- DNS names of copies -----------------------------------------------------------------------


class DnsOwnershipError(TrapheusError):
    """A DNS name holds records trapheus did not write, or another lifecycle's; nothing was changed."""


class DnsError(TrapheusError):
    """Reading or changing Route 53 records, or asking for a change's status, failed."""


# -- DynamoDB tables ---------------------------------------------------------------------------


class TableNotFoundError(TrapheusError):
    """The DynamoDB table does not exist (or is not ACTIVE)."""


class TableExistsError(TrapheusError):
    """The restore target exists and is not the unfinished restore of the same backup."""


class GlobalTableError(TrapheusError):
    """The table has replicas in other regions (a global table); trapheus does not replace or rebuild those."""


class BackupNotFoundError(TrapheusError):
    """No backup with that id exists for the table."""


class BackupIncompleteError(TrapheusError):
    """The backup has no manifest (or an unreadable one): it never finished and is never restored from."""


class BackupCorruptError(TrapheusError):
    """A backup file differs from what its manifest recorded (size, checksum or content)."""


class TableBackupError(TrapheusError):
    """Scanning the table, exporting it or writing the backup failed."""


class TableBusyError(TrapheusError):
    """The table is in the middle of an update DynamoDB must finish first; the workflow retries."""


class TableRestoreError(TrapheusError):
    """Creating, configuring, deleting or recovering a table failed."""


class RestoreVerificationError(TrapheusError):
    """The restored table's item count or content checksum differs from the manifest."""
