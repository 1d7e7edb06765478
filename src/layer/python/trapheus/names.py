"""Identifiers: what RDS accepts, and the names trapheus derives from an identifier.

RDS instance and cluster identifiers are 1-63 letters, digits and hyphens, start with a letter, and have no
trailing or double hyphen; RDS stores them in lower case, so trapheus does too. Instance snapshot identifiers
follow the same rules up to 255 characters, cluster snapshot identifiers up to 63
(https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_CreateDBClusterSnapshot.html). Trapheus parks
the original under ``<identifier>-trapheus-old`` while it restores, so an identifier it can restore is shorter
than the RDS maximum by that suffix. Every other derived name is cut to the limit of its kind and made unique
with a hash, so no name can be refused halfway through a run.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import asdict, dataclass, field

from trapheus.errors import InvalidInputError

DATABASE_ID_MAX = 63
SNAPSHOT_ID_MAX = 255
CLUSTER_SNAPSHOT_ID_MAX = 63
ASIDE_SUFFIX = "-trapheus-old"
STAGED_SUFFIX = "-trapheus-new"
RESTORABLE_ID_MAX = DATABASE_ID_MAX - max(len(ASIDE_SUFFIX), len(STAGED_SUFFIX))
SNAPSHOT_NEXT_INFIX = "-next-"
FINAL_SNAPSHOT_INFIX = "-trapheus-final-"
ROLLBACK_SNAPSHOT_INFIX = "-trapheus-rollback-"
KEPT_SUFFIX = "-kept"

_IDENTIFIER = re.compile(r"^[A-Za-z](?:[A-Za-z0-9]|-(?!-))*$")


def check_identifier(value: object, *, field_name: str, max_length: int, rds_max: int = DATABASE_ID_MAX, suffix: str = ASIDE_SUFFIX) -> str:
    """Return ``value`` in lower case if RDS would accept it and trapheus has room for its suffixes."""
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
    return value.lower()


def short_hash(text: str) -> str:
    """Eight hex digits that identify one execution (deterministic, so a retried step reuses its names)."""
    return hashlib.sha256(text.encode()).hexdigest()[:8]


def fit(name: str, limit: int) -> str:
    """``name`` if it is at most ``limit`` characters, else a cut of it ending in a hash of the whole name.

    The result is still a valid identifier (no trailing or double hyphen) and distinct for distinct names.
    """
    if len(name) <= limit:
        return name
    head = name[: limit - 9].rstrip("-")
    return f"{head}-{short_hash(name)}"


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
    final_snapshot_kept: str = ""
    rollback_snapshot: str = ""
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
            "finalSnapshotKept": data["final_snapshot_kept"],
            "rollbackSnapshot": data["rollback_snapshot"],
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
            final_snapshot_kept=data.get("finalSnapshotKept", ""),
            rollback_snapshot=data.get("rollbackSnapshot", ""),
            members=tuple(MemberNames(**m) for m in data.get("members", [])),
        )

    def all_databases(self) -> list[str]:
        """Every database identifier the run may touch (cluster or instance, then members)."""
        return [self.original, self.aside, self.staged, *(n for m in self.members for n in (m.original, m.aside, m.staged))]

    def all_snapshots(self) -> list[str]:
        return [n for n in (self.snapshot, self.snapshot_next, self.final_snapshot, self.final_snapshot_kept, self.rollback_snapshot) if n]


def snapshot_id_max(is_cluster: bool) -> int:
    return CLUSTER_SNAPSHOT_ID_MAX if is_cluster else SNAPSHOT_ID_MAX


def derive_names(
    identifier: str, snapshot: str, run_id: str, members: list[str] | tuple[str, ...] = (), *, is_cluster: bool = False
) -> RestoreNames:
    """Names for one run; ``run_id`` (the execution name) makes the temporary snapshot unique to the run."""
    token = short_hash(run_id)
    snapshot_max = snapshot_id_max(is_cluster)
    final = fit(f"{identifier}{FINAL_SNAPSHOT_INFIX}{token}", snapshot_max - len(KEPT_SUFFIX))
    return RestoreNames(
        original=identifier,
        aside=identifier + ASIDE_SUFFIX,
        staged=identifier + STAGED_SUFFIX,
        snapshot=snapshot,
        snapshot_next=fit(f"{snapshot}{SNAPSHOT_NEXT_INFIX}{token}", snapshot_max),
        final_snapshot=final,
        final_snapshot_kept=final + KEPT_SUFFIX,
        rollback_snapshot=fit(f"{identifier}{ROLLBACK_SNAPSHOT_INFIX}{token}", snapshot_max),
        members=tuple(
            MemberNames(m, fit(m + ASIDE_SUFFIX, DATABASE_ID_MAX), fit(m + STAGED_SUFFIX, DATABASE_ID_MAX)) for m in members
        ),
    )
