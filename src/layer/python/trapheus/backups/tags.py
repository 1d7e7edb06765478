"""The tags trapheus puts on the snapshots it makes for a policy, and how it recognises them."""

from __future__ import annotations

from datetime import datetime

POLICY = "trapheus:policy"
SOURCE = "trapheus:source"  # the database identifier
CREATED = "trapheus:created"  # the run's time, ISO 8601
SOURCE_TIME = "trapheus:source-time"  # DR copies: the time of the source snapshot they hold
SOURCE_ACCOUNT = "trapheus:source-account"
SOURCE_SNAPSHOT = "trapheus:source-snapshot"
LIFECYCLE = "trapheus:lifecycle"  # databases the copy workflow makes


def as_dict(tag_list: list[dict] | None) -> dict[str, str]:
    return {str(tag.get("Key")): str(tag.get("Value", "")) for tag in tag_list or []}


def policy_tags(policy: str, identifier: str, created: datetime) -> list[dict[str, str]]:
    return [
        {"Key": POLICY, "Value": policy},
        {"Key": SOURCE, "Value": identifier},
        {"Key": CREATED, "Value": created.isoformat()},
    ]


def belongs_to(description: dict, policy: str) -> bool:
    """A snapshot of ``policy``: only those are ever pruned."""
    return as_dict(description.get("TagList")).get(POLICY) == policy
