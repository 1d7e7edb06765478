"""Identifiers: what RDS accepts, and the names trapheus derives from an identifier.

RDS instance and cluster identifiers are 1-63 letters, digits and hyphens, start
with a letter, and have no trailing or double hyphen. Snapshot identifiers follow
the same rules up to 255 characters. Trapheus parks the original under
``<identifier>-trapheus-old`` while it restores, so an identifier it can restore is
shorter than the RDS maximum by that suffix.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import asdict, dataclass, field

from trapheus.errors import InvalidInputError

DATABASE_ID_MAX = 63
SNAPSHOT_ID_MAX = 255
ASIDE_SUFFIX = "-trapheus-old"
STAGED_SUFFIX = "-trapheus-new"
RESTORABLE_ID_MAX = DATABASE_ID_MAX - max(len(ASIDE_SUFFIX), len(STAGED_SUFFIX))
SNAPSHOT_NEXT_INFIX = "-next-"
FINAL_SNAPSHOT_INFIX = "-trapheus-final-"
# room for "-next-" + 8 hex digits on the user's snapshot identifier
SNAPSHOT_BASE_MAX = SNAPSHOT_ID_MAX - len(SNAPSHOT_NEXT_INFIX) - 8

_IDENTIFIER = re.compile(r"^[A-Za-z](?:[A-Za-z0-9]|-(?!-))*$")


def check_identifier(
    value: object, *, field_name: str, max_length: int, rds_max: int = DATABASE_ID_MAX, suffix: str = ASIDE_SUFFIX
) -> str:
    """Return ``value`` if RDS would accept it and trapheus has room for its suffixes."""
    if not isinstance(value, str) or not value:
        raise InvalidInputError(f"'{field_name}' must be a non-empty string, got {value!r}")
    if not _IDENTIFIER.match(value) or value.endswith("-"):
        raise InvalidInputError(
            f"'{field_name}' {value!r} is not a valid RDS identifier: use letters, digits and single hyphens, "
            "start with a letter and do not end with a hyphen"
        )
    if len(value) > rds_max:
        raise InvalidInputError(f"'{field_name}' {value!r} is {len(value)} characters; RDS allows at most {rds_max}")
    if len(value) > max_length:
        raise InvalidInputError(
            f"'{field_name}' {value!r} is {len(value)} characters; trapheus needs room for its temporary suffix "
            f"{suffix!r}, so at most {max_length}"
        )
    return value


def short_hash(text: str) -> str:
    """Eight hex digits that identify one execution (deterministic, so a retried step reuses its names)."""
    return hashlib.sha256(text.encode()).hexdigest()[:8]


@dataclass(frozen=True)
class MemberNames:
    original: str
    aside: str
    staged: str


@dataclass(frozen=True)
class RestoreNames:
    """Every identifier one run creates, renames or deletes."""

    original: str
    aside: str
    staged: str
    snapshot: str
    snapshot_next: str
    final_snapshot: str
    members: tuple[MemberNames, ...] = field(default_factory=tuple)

    def to_dict(self) -> dict:
        data = asdict(self)
        return {
            "original": data["original"],
            "aside": data["aside"],
            "staged": data["staged"],
            "snapshot": data["snapshot"],
            "snapshotNext": data["snapshot_next"],
            "finalSnapshot": data["final_snapshot"],
            "members": [dict(m) for m in data["members"]],
        }

    @classmethod
    def from_dict(cls, data: dict) -> RestoreNames:
        return cls(
            original=data["original"],
            aside=data["aside"],
            staged=data["staged"],
            snapshot=data["snapshot"],
            snapshot_next=data["snapshotNext"],
            final_snapshot=data["finalSnapshot"],
            members=tuple(MemberNames(**m) for m in data.get("members", [])),
        )


def derive_names(identifier: str, snapshot: str, run_id: str, members: list[str] | tuple[str, ...] = ()) -> RestoreNames:
    """Names for one run; ``run_id`` (the execution name) makes the temporary snapshot unique to the run."""
    token = short_hash(run_id)
    return RestoreNames(
        original=identifier,
        aside=identifier + ASIDE_SUFFIX,
        staged=identifier + STAGED_SUFFIX,
        snapshot=snapshot,
        snapshot_next=f"{snapshot}{SNAPSHOT_NEXT_INFIX}{token}",
        final_snapshot=f"{identifier}{FINAL_SNAPSHOT_INFIX}{token}",
        members=tuple(MemberNames(m, m + ASIDE_SUFFIX, m + STAGED_SUFFIX) for m in members),
    )
