"""The snapshots of a policy: list them, take one, copy it under a customer key, share it, copy it to another
Region, remove it. Every call works for instances and clusters alike (:mod:`trapheus.kinds`) and is safe to
repeat: a snapshot already there is not an error.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import datetime, timezone
from typing import Any

from botocore.exceptions import ClientError

from trapheus import clients
from trapheus import snapshots as snapshot_ops
from trapheus.backups import tags as tagging
from trapheus.errors import QuotaExceededError, SnapshotError
from trapheus.kinds import DatabaseKind
from trapheus.log import logger
from trapheus.throttling import aws_errors, error_code

EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
IN_FLIGHT = frozenset({"copying", "pending"})  # a copy RDS has accepted and not finished (or queued)


class CopyQueuedError(SnapshotError):
    """RDS has as many copies in progress to the destination Region as it allows: this one waits for a later run."""


def _rds(rds: Any = None, region: str | None = None) -> Any:
    return rds or clients.client("rds", region)


@contextlib.contextmanager
def _quota_aware(what: str) -> Iterator[None]:
    """SnapshotQuotaExceeded is a quota (or, across Regions, the copies-in-flight limit), not a plain failure."""
    try:
        yield
    except SnapshotError as error:
        cause = error.__cause__
        if isinstance(cause, ClientError) and error_code(cause) == "SnapshotQuotaExceeded":
            message = cause.response.get("Error", {}).get("Message", "")
            if "across regions" in message:
                raise CopyQueuedError(f"{what}: {message}") from cause
            raise QuotaExceededError(f"{what}: {message}") from cause
        raise


def created_at(description: dict) -> datetime | None:
    """When a snapshot of a policy was taken: the run's time on its tag, else RDS's."""
    tagged = tagging.as_dict(description.get("TagList")).get(tagging.CREATED)
    if tagged:
        try:
            return datetime.fromisoformat(tagged)
        except ValueError:
            pass
    value = description.get("SnapshotCreateTime")
    return value if isinstance(value, datetime) else None


def of_policy(kind: DatabaseKind, identifier: str, policy: str, rds: Any = None) -> list[dict]:
    """The manual snapshots of one database made for ``policy``, newest first."""
    snapshot = kind.snapshot
    pages = _rds(rds).get_paginator(snapshot.describe_op).paginate(**{snapshot.source_param: identifier, "SnapshotType": "manual"})
    found = [item for page in pages for item in page[snapshot.list_key] if tagging.belongs_to(item, policy)]
    return sorted(found, key=lambda item: created_at(item) or EPOCH, reverse=True)


def newest_available(snapshots: list[dict]) -> dict | None:
    return next((item for item in snapshots if item.get("Status") == "available"), None)


def take(kind: DatabaseKind, identifier: str, name: str, tags: list[dict], rds: Any = None) -> str:
    with _quota_aware(f"taking snapshot {name!r} of {identifier!r}"):
        return snapshot_ops.take(kind, identifier, name, tags, _rds(rds))


def copy_under_key(kind: DatabaseKind, source: str, target: str, kms_key_id: str, tags: list[dict], rds: Any = None) -> str:
    """Copy ``source`` to ``target`` encrypted with ``kms_key_id`` (same Region). "started" or "already"."""
    snapshot = kind.snapshot
    client = _rds(rds)
    if snapshot_ops.find_snapshot(kind, target, client) is not None:
        return "already"
    with _quota_aware(f"copying {source!r} under {kms_key_id}"), aws_errors(
        SnapshotError, f"copying snapshot {source!r} to {target!r} under {kms_key_id}", already_done=snapshot.exists_codes
    ):
        getattr(client, snapshot.copy_op)(**{
            snapshot.copy_source_param: source, snapshot.copy_target_param: target, "KmsKeyId": kms_key_id, "Tags": tags,
        })
    logger.info("snapshot copy under a customer key started", extra={"source": source, "target": target})
    return "started"


def share(kind: DatabaseKind, name: str, accounts: list[str], rds: Any = None) -> list[str]:
    """Let ``accounts`` copy the snapshot (the ``restore`` attribute); repeating it changes nothing."""
    snapshot = kind.snapshot
    with aws_errors(SnapshotError, f"sharing snapshot {name!r} with {', '.join(accounts)}"):
        getattr(_rds(rds), snapshot.attribute_op)(**{
            snapshot.id_param: name, "AttributeName": "restore", "ValuesToAdd": list(accounts),
        })
    return list(accounts)


def copies_in_flight(region: str) -> int:
    """Snapshot copies (instances and clusters) in progress in ``region``: what counts against RDS's limit."""
    client = _rds(region=region)
    count = 0
    for operation, key in (("describe_db_snapshots", "DBSnapshots"), ("describe_db_cluster_snapshots", "DBClusterSnapshots")):
        for page in client.get_paginator(operation).paginate(SnapshotType="manual"):
            count += sum(1 for item in page[key] if item.get("Status") in IN_FLIGHT)
    return count


def copy_to_region(
    kind: DatabaseKind, source_arn: str, name: str, region: str, kms_key_id: str, tags: list[dict], source_region: str
) -> str:
    """Copy a snapshot to ``region``: called IN that Region, with that Region's key and ``SourceRegion`` (the SDK
    signs the pre-signed URL RDS needs for an encrypted source). "started" or "already"."""
    snapshot = kind.snapshot
    client = _rds(region=region)
    if snapshot_ops.find_snapshot(kind, name, client) is not None:
        return "already"
    with _quota_aware(f"copying {source_arn} to {region}"), aws_errors(
        SnapshotError, f"copying snapshot {source_arn} to {region} as {name!r}", already_done=snapshot.exists_codes
    ):
        getattr(client, snapshot.copy_op)(**{
            snapshot.copy_source_param: source_arn, snapshot.copy_target_param: name, "KmsKeyId": kms_key_id,
            "SourceRegion": source_region, "Tags": tags,
        })
    logger.info("cross-Region snapshot copy started", extra={"source": source_arn, "region": region, "target": name})
    return "started"


def remove(kind: DatabaseKind, name: str, policy: str, rds: Any = None) -> str:
    """Delete a snapshot of ``policy``; one without the policy's tag is never deleted (SnapshotError)."""
    client = _rds(rds)
    found = snapshot_ops.find_snapshot(kind, name, client)
    if found is None:
        return "already"
    if not tagging.belongs_to(found, policy):
        raise SnapshotError(f"snapshot {name!r} does not carry {tagging.POLICY}={policy}; trapheus deletes only its own")
    return snapshot_ops.remove(kind, name, client)
