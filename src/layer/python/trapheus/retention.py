"""The rollback window: a replaced original kept for a while, then retired.

With a window configured, the retired original is not deleted at the end of the
run: it stays under ``<identifier>-trapheus-old`` with a tag saying when it may
go. A later run (or a scheduled one) for the same database retires it once the
time has passed; until then that run is refused, so the kept copy is never lost
by accident.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from trapheus import clients
from trapheus.errors import DeleteError
from trapheus.kinds import DatabaseKind
from trapheus.throttling import aws_errors

RETIRE_AFTER_TAG = "trapheus:retire-after"


def retire_after(description: dict) -> datetime | None:
    """When a kept copy may be retired, from its tag (None: not a kept copy)."""
    for tag in description.get("TagList") or []:
        if tag.get("Key") == RETIRE_AFTER_TAG:
            try:
                return datetime.fromisoformat(tag["Value"])
            except ValueError:
                return None
    return None


def is_expired(description: dict, now: datetime | None = None) -> bool:
    moment = retire_after(description)
    return moment is not None and moment <= (now or datetime.now(timezone.utc))


def keep(kind: DatabaseKind, description: dict, hours: float, rds: Any = None, now: datetime | None = None) -> str:
    """Tag the copy with the end of its window; returns that moment (ISO 8601)."""
    moment = ((now or datetime.now(timezone.utc)) + timedelta(hours=hours)).replace(microsecond=0).isoformat()
    client = rds or clients.client("rds")
    with aws_errors(DeleteError, f"tagging {description[kind.arn_key]} with its rollback window"):
        client.add_tags_to_resource(ResourceName=description[kind.arn_key], Tags=[{"Key": RETIRE_AFTER_TAG, "Value": moment}])
    return moment
