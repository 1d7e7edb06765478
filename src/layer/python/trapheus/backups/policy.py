"""A backup policy: the input of a ``<stack>-backup`` run (and of each of its schedules), checked field by field.

::

    {"policy": "hourly",
     "select": {"pattern": "^orders-", "tags": {"backup": "hourly"}, "identifiers": ["ledger"]},
     "everyMinutes": 60, "keep": {"count": 24, "days": 1},
     "shareWith": ["111122223333"], "shareKmsKeyId": "arn:aws:kms:us-east-1:...:key/...",
     "copyTo": [{"region": "us-west-2", "kmsKeyId": "arn:aws:kms:us-west-2:...:key/..."}]}

A database is selected when ``identifiers`` names it, or when it matches ``pattern`` (a regular expression
searched in the database identifier, not in snapshot names) and carries every tag of ``tags``. Unknown fields
are refused at every level, so a typo never silently widens or narrows what is backed up.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from trapheus.errors import InvalidInputError
from trapheus.names import DATABASE_ID_MAX, check_identifier

POLICY_NAME = re.compile(r"^[a-z](?:[a-z0-9]|-(?!-)){0,19}$")
ACCOUNT_ID = re.compile(r"^[0-9]{12}$")
REGION = re.compile(r"^[a-z]{2}(?:-gov)?-[a-z]+-[0-9]$")
KMS_KEY_ARN = re.compile(r"^arn:aws[a-z-]*:kms:(?P<region>[a-z0-9-]+):[0-9]{12}:(?:key/[A-Za-z0-9-]+|alias/[A-Za-z0-9/_-]+)$")
EVERY_MINUTES = (15, 10080)  # a quarter of an hour to a week
MAX_KEEP_COUNT = 1000
MAX_KEEP_DAYS = 3650
MAX_SHARED_ACCOUNTS = 20  # RDS shares a manual snapshot with at most 20 accounts (ModifyDBSnapshotAttribute)
MAX_COPY_REGIONS = 3
MAX_TAGS = 50  # tags per RDS resource

FIELDS = frozenset({"policy", "select", "everyMinutes", "keep", "shareWith", "shareKmsKeyId", "copyTo"})
SELECT_FIELDS = frozenset({"pattern", "tags", "identifiers"})
KEEP_FIELDS = frozenset({"count", "days"})
COPY_FIELDS = frozenset({"region", "kmsKeyId"})


@dataclass(frozen=True)
class Selection:
    pattern: str | None = None
    tags: dict[str, str] = field(default_factory=dict)
    identifiers: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"pattern": self.pattern, "tags": dict(self.tags), "identifiers": list(self.identifiers)}


@dataclass(frozen=True)
class Keep:
    count: int
    days: float = 0


@dataclass(frozen=True)
class RegionCopy:
    region: str
    kms_key_id: str


@dataclass(frozen=True)
class BackupPolicy:
    name: str
    select: Selection
    every_minutes: int
    keep: Keep
    share_with: tuple[str, ...] = ()
    share_kms_key_id: str | None = None
    copy_to: tuple[RegionCopy, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "policy": self.name,
            "select": self.select.to_dict(),
            "everyMinutes": self.every_minutes,
            "keep": {"count": self.keep.count, "days": self.keep.days},
            "shareWith": list(self.share_with),
            "shareKmsKeyId": self.share_kms_key_id,
            "copyTo": [{"region": copy.region, "kmsKeyId": copy.kms_key_id} for copy in self.copy_to],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> BackupPolicy:
        """A policy this module produced (the workflow state): trusted, not re-validated."""
        select = data["select"]
        return cls(
            name=data["policy"],
            select=Selection(select.get("pattern"), dict(select.get("tags") or {}), tuple(select.get("identifiers") or ())),
            every_minutes=int(data["everyMinutes"]),
            keep=Keep(int(data["keep"]["count"]), float(data["keep"]["days"])),
            share_with=tuple(data.get("shareWith") or ()),
            share_kms_key_id=data.get("shareKmsKeyId"),
            copy_to=tuple(RegionCopy(c["region"], c["kmsKeyId"]) for c in data.get("copyTo") or ()),
        )


def _object(value: Any, where: str, allowed: frozenset[str]) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise InvalidInputError(f"'{where}' must be a JSON object, got {type(value).__name__}")
    unknown = sorted(set(value) - allowed)
    if unknown:
        raise InvalidInputError(f"unknown field(s) {', '.join(unknown)} in '{where}'; allowed: {', '.join(sorted(allowed))}")
    return value


def _whole(value: Any, where: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise InvalidInputError(f"'{where}' must be a whole number from {low} to {high}, got {value!r}")
    return value


def _selection(value: Any) -> Selection:
    data = _object(value, "select", SELECT_FIELDS)
    if not data:
        raise InvalidInputError("'select' needs at least one of pattern, tags or identifiers")
    pattern = data.get("pattern")
    if pattern is not None:
        if not isinstance(pattern, str) or not pattern:
            raise InvalidInputError(f"'select.pattern' must be a non-empty regular expression, got {pattern!r}")
        try:
            re.compile(pattern)
        except re.error as error:
            raise InvalidInputError(f"'select.pattern' {pattern!r} is not a regular expression: {error}") from None
    tags = data.get("tags", {})
    if not isinstance(tags, dict) or len(tags) > MAX_TAGS or not all(
        isinstance(k, str) and k and isinstance(v, str) for k, v in tags.items()
    ):
        raise InvalidInputError(f"'select.tags' must map tag keys to string values (at most {MAX_TAGS}), got {tags!r}")
    names = data.get("identifiers", [])
    if not isinstance(names, list):
        raise InvalidInputError(f"'select.identifiers' must be a list of database identifiers, got {names!r}")
    identifiers = tuple(dict.fromkeys(
        check_identifier(name, field_name="select.identifiers", max_length=DATABASE_ID_MAX) for name in names
    ))
    if pattern is None and not tags and not identifiers:
        raise InvalidInputError("'select' selects nothing: give a pattern, tags or identifiers")
    return Selection(pattern, dict(tags), identifiers)


def _keep(value: Any) -> Keep:
    data = _object(value, "keep", KEEP_FIELDS)
    if "count" not in data:
        raise InvalidInputError("'keep.count' is required: how many of the newest snapshots of a database to keep")
    count = _whole(data["count"], "keep.count", 1, MAX_KEEP_COUNT)
    days = data.get("days", 0)
    if isinstance(days, bool) or not isinstance(days, (int, float)) or not 0 <= days <= MAX_KEEP_DAYS:
        raise InvalidInputError(f"'keep.days' must be a number of days from 0 to {MAX_KEEP_DAYS}, got {days!r}")
    return Keep(count, float(days))


def _accounts(value: Any, own_account: str | None) -> tuple[str, ...]:
    if not isinstance(value, list) or len(value) > MAX_SHARED_ACCOUNTS:
        raise InvalidInputError(f"'shareWith' must be a list of at most {MAX_SHARED_ACCOUNTS} account IDs, got {value!r}")
    for account in value:
        if not isinstance(account, str) or not ACCOUNT_ID.match(account):
            raise InvalidInputError(f"'shareWith' holds {account!r}, which is not a 12-digit AWS account ID")
        if account == own_account:
            raise InvalidInputError(f"'shareWith' names this account ({account}); share with the DR account only")
    return tuple(dict.fromkeys(value))


def _key_arn(value: Any, where: str, region: str) -> str:
    match = KMS_KEY_ARN.match(value) if isinstance(value, str) else None
    if match is None:
        raise InvalidInputError(f"'{where}' must be the ARN of a KMS key (or alias), got {value!r}")
    if match.group("region") != region:
        raise InvalidInputError(f"'{where}' {value} is a key of {match.group('region')}; KMS keys are regional, it must be of {region}")
    return value


def _copies(value: Any, source_region: str) -> tuple[RegionCopy, ...]:
    if not isinstance(value, list) or len(value) > MAX_COPY_REGIONS:
        raise InvalidInputError(f"'copyTo' must be a list of at most {MAX_COPY_REGIONS} Regions, got {value!r}")
    copies: list[RegionCopy] = []
    for index, item in enumerate(value):
        data = _object(item, f"copyTo[{index}]", COPY_FIELDS)
        region = data.get("region")
        if not isinstance(region, str) or not REGION.match(region):
            raise InvalidInputError(f"'copyTo[{index}].region' must be an AWS Region such as us-west-2, got {region!r}")
        if region == source_region:
            raise InvalidInputError(f"'copyTo[{index}].region' is this Region ({region}); a copy must go to another one")
        if any(copy.region == region for copy in copies):
            raise InvalidInputError(f"'copyTo' names {region} twice")
        if "kmsKeyId" not in data:
            raise InvalidInputError(f"'copyTo[{index}].kmsKeyId' is required: the key of {region} the copy is encrypted with")
        copies.append(RegionCopy(region, _key_arn(data["kmsKeyId"], f"copyTo[{index}].kmsKeyId", region)))
    return tuple(copies)


def parse_policy(data: Any, *, region: str, own_account: str | None = None) -> BackupPolicy:
    """Validate a backup input; raise InvalidInputError with a message a person can act on."""
    body = _object(data, "input", FIELDS)
    for required in ("policy", "select", "everyMinutes", "keep"):
        if required not in body:
            raise InvalidInputError(f"missing required field '{required}'")
    name = body["policy"]
    if not isinstance(name, str) or not POLICY_NAME.match(name) or name.endswith("-"):
        raise InvalidInputError(
            f"'policy' must be 1-20 lower-case letters, digits and single hyphens starting with a letter (it is part of "
            f"snapshot names), got {name!r}"
        )
    share_with = _accounts(body.get("shareWith", []), own_account)
    share_key = body.get("shareKmsKeyId")
    if share_key is not None:
        share_key = _key_arn(share_key, "shareKmsKeyId", region)
    return BackupPolicy(
        name=name,
        select=_selection(body["select"]),
        every_minutes=_whole(body["everyMinutes"], "everyMinutes", *EVERY_MINUTES),
        keep=_keep(body["keep"]),
        share_with=share_with,
        share_kms_key_id=share_key,
        copy_to=_copies(body.get("copyTo", []), region),
    )
