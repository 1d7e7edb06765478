"""Export a snapshot to S3 (Parquet) with the stack's bucket, KMS key and role."""

from __future__ import annotations

import os
from typing import Any

from trapheus import clients
from trapheus.errors import ExportError
from trapheus.kinds import DatabaseKind
from trapheus.names import short_hash
from trapheus.snapshots import require_available
from trapheus.throttling import aws_errors


def export_task_id(snapshot_id: str, run_id: str) -> str:
    # export task identifiers are at most 60 characters and unique per account
    return f"{snapshot_id[:42]}-export-{short_hash(run_id)}".replace("--", "-")


def start_export(kind: DatabaseKind, snapshot_id: str, run_id: str, rds: Any = None, environ: dict | None = None) -> dict:
    env = os.environ if environ is None else environ
    missing = [name for name in ("EXPORT_BUCKET", "EXPORT_KMS_KEY_ARN", "EXPORT_ROLE_ARN") if not env.get(name)]
    if missing:
        raise ExportError(f"export is not configured: {', '.join(missing)} not set")
    client = rds or clients.client("rds")
    snapshot = require_available(kind, snapshot_id, client)
    task_id = export_task_id(snapshot_id, run_id)
    with aws_errors(ExportError, f"starting export of {snapshot_id!r}"):
        response = client.start_export_task(
            ExportTaskIdentifier=task_id,
            SourceArn=snapshot[kind.snapshot.arn_key],
            S3BucketName=env["EXPORT_BUCKET"],
            S3Prefix=snapshot_id,
            IamRoleArn=env["EXPORT_ROLE_ARN"],
            KmsKeyId=env["EXPORT_KMS_KEY_ARN"],
        )
    return {"exportTaskIdentifier": task_id, "status": response.get("Status", "STARTING"), "bucket": env["EXPORT_BUCKET"]}
