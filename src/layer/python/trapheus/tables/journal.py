"""What a restore did and how far it got, kept in the backup bucket under ``restores/<target>/``.

- The journal of a run (``runs/<execution>.json``): its request, the original table's
  settings and the on-demand backup a replace took. A stopped run runs no Catch; the
  clean-up reads this to know what to put back.
- Progress per segment (``<table instance>/segment-<n>.json``): the file and line each
  segment's load reached. Keyed by the target table's creation time, so a re-run that finds
  the same unfinished table continues where the last one stopped, and a re-created table
  starts from nothing.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from trapheus.tables import store

RESTORES_PREFIX = "restores/"


def journal_key(target: str, run: str) -> str:
    return f"{RESTORES_PREFIX}{target}/runs/{run}.json"


def write_journal(bucket: str, target: str, run: str, document: dict[str, Any], s3: Any = None) -> None:
    store.put_json(bucket, journal_key(target, run), {**document, "updatedAt": store.now_iso()}, s3)


def read_journal(bucket: str, target: str, run: str, s3: Any = None) -> dict[str, Any] | None:
    found = store.get_json(bucket, journal_key(target, run), s3)
    return found if isinstance(found, dict) else None


def table_instance(description: dict[str, Any]) -> str:
    """Tells one table from a later one of the same name: its creation time in milliseconds."""
    created = description.get("CreationDateTime")
    if isinstance(created, str):
        created = datetime.fromisoformat(created)
    return str(int(created.timestamp() * 1000)) if isinstance(created, datetime) else "unknown"


def progress_key(target: str, instance: str, segment: int) -> str:
    return f"{RESTORES_PREFIX}{target}/{instance}/segment-{segment:05d}.json"


def read_progress(bucket: str, target: str, instance: str, segment: int, s3: Any = None) -> dict[str, Any] | None:
    found = store.get_json(bucket, progress_key(target, instance, segment), s3)
    return found if isinstance(found, dict) else None


def write_progress(bucket: str, target: str, instance: str, segment: int, progress: dict[str, Any], s3: Any = None) -> None:
    store.put_json(bucket, progress_key(target, instance, segment), {**progress, "updatedAt": store.now_iso()}, s3)


def loaded(bucket: str, target: str, instance: str, s3: Any = None) -> list[dict[str, Any]]:
    """The progress of every segment loaded into this table instance so far."""
    prefix = f"{RESTORES_PREFIX}{target}/{instance}/"
    found = [store.get_json(bucket, key, s3) for key in sorted(store.keys_under(bucket, prefix, s3))]
    return [entry for entry in found if isinstance(entry, dict)]


def runs(bucket: str, target: str, s3: Any = None) -> list[dict[str, Any]]:
    """The journals of every restore into ``target``, oldest first."""
    prefix = f"{RESTORES_PREFIX}{target}/runs/"
    found = [store.get_json(bucket, key, s3) for key in store.keys_under(bucket, prefix, s3)]
    return sorted((entry for entry in found if isinstance(entry, dict)), key=lambda entry: str(entry.get("startedAt")))
