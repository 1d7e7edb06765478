"""A lifecycle's copies: their names, their tags, and finding them again.

Copies are found by their tags, read from the ``TagList`` of two paginated describe calls (no per-database
ListTagsForResource). The stage a copy is in is its ``trapheus:stage`` tag, set on the copy and on each member
instance, so a copy can be told apart from the databases it was made from whatever its name.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from typing import Any

from trapheus import clients
from trapheus.copies import tags
from trapheus.copies.tags import Stage
from trapheus.databases import member_ids, status
from trapheus.errors import RestoreError
from trapheus.kinds import CLUSTER, INSTANCE, DatabaseKind, kind_for
from trapheus.throttling import aws_errors


def copy_identifier(lifecycle: str, started: datetime, suffix: str | None = None) -> str:
    """``<lifecycle>-<YYYYMMDD-HHMM>[-suffix]`` in UTC: several refreshes a day each get their own name."""
    stamp = started.astimezone(timezone.utc).strftime("%Y%m%d-%H%M")
    return f"{lifecycle}-{stamp}" + (f"-{suffix}" if suffix else "")


def member_identifier(copy: str, position: int) -> str:
    """The member instances of a cluster copy: ``<copy>-1`` is the writer, then the readers."""
    return f"{copy}-{position}"


def copy_tags(lifecycle: str, source: str, stage: Stage, created: str) -> list[dict[str, str]]:
    return [
        {"Key": tags.CREATED, "Value": created},
        {"Key": tags.LIFECYCLE, "Value": lifecycle},
        {"Key": tags.SOURCE, "Value": source},
        {"Key": tags.STAGE, "Value": stage.value},
    ]


def inherited_tags(source_tags: Iterable[dict[str, str]], dropped_keys: Iterable[str]) -> list[dict[str, str]]:
    """The source's tags a copy keeps: not trapheus's own, and not those that select databases for backups (a
    development copy must not be backed up as production)."""
    dropped = {key.strip() for key in dropped_keys if key.strip()}
    return [t for t in source_tags if not t["Key"].startswith(tags.PREFIX) and t["Key"] not in dropped]


def as_dict(tag_list: Iterable[dict[str, Any]] | None) -> dict[str, str]:
    return {str(t.get("Key")): str(t.get("Value", "")) for t in tag_list or []}


@dataclass(frozen=True)
class CopyRecord:
    """One copy of a lifecycle as RDS describes it now."""

    identifier: str
    is_cluster: bool
    lifecycle: str
    source: str
    stage: str
    created: str
    status: str
    endpoint: str | None
    port: int | None
    arn: str
    members: tuple[str, ...] = field(default_factory=tuple)
    managed_password: bool = False  # RDS manages its master password (MasterUserSecret)
    dns: tuple[str, ...] = ()  # a promoted copy: the DNS names (<zone>/<name>) its promotion pointed at it

    @property
    def kind(self) -> DatabaseKind:
        return kind_for(self.is_cluster)

    @property
    def created_at(self) -> datetime | None:
        try:
            moment = datetime.fromisoformat(self.created.replace("Z", "+00:00"))
        except ValueError:
            return None
        return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)

    def age_hours(self, now: datetime) -> float | None:
        created = self.created_at
        # a clock behind the one that tagged the copy would make it younger than new
        return None if created is None else max((now - created).total_seconds() / 3600, 0.0)

    def to_dict(self, now: datetime | None = None) -> dict[str, Any]:
        data = asdict(self)
        data["isCluster"] = data.pop("is_cluster")
        data["kind"] = self.kind.name
        data["members"] = list(self.members)
        if now is not None:
            data["ageHours"] = self.age_hours(now)
        return data


def _endpoint(kind: DatabaseKind, description: dict) -> tuple[str | None, int | None]:
    """Where clients reach the copy: a cluster's writer endpoint, an instance's endpoint."""
    if kind is CLUSTER:
        return description.get("Endpoint"), description.get("Port")
    endpoint = description.get("Endpoint") or {}
    return endpoint.get("Address"), endpoint.get("Port")


def record_of(kind: DatabaseKind, description: dict) -> CopyRecord | None:
    """The copy ``description`` is, or None when it carries no lifecycle tag."""
    found = as_dict(description.get("TagList"))
    if tags.LIFECYCLE not in found:
        return None
    endpoint, port = _endpoint(kind, description)
    return CopyRecord(
        identifier=str(description[kind.id_param]),
        is_cluster=kind is CLUSTER,
        lifecycle=found[tags.LIFECYCLE],
        source=found.get(tags.SOURCE, ""),
        stage=found.get(tags.STAGE, ""),
        created=found.get(tags.CREATED, ""),
        status=status(kind, description),
        endpoint=endpoint,
        port=port,
        arn=str(description[kind.arn_key]),
        members=tuple(member_ids(description)) if kind is CLUSTER else (),
        managed_password=bool(description.get("MasterUserSecret")),
        dns=tuple(key for key in found.get(tags.DNS, "").split(" ") if key),
    )


def find_copies(
    lifecycle: str | None = None, *, source: str | None = None, is_cluster: bool | None = None, rds: Any = None,
    page_size: int | None = None,
) -> list[CopyRecord]:
    """Every copy (of ``lifecycle`` and ``source``, when given), newest first; a cluster copy's members are part of
    it, not copies of their own."""
    client = rds or clients.client("rds")
    kinds = [INSTANCE, CLUSTER] if is_cluster is None else [kind_for(is_cluster)]
    pages = {"PaginationConfig": {"PageSize": page_size}} if page_size else {}
    found: list[CopyRecord] = []
    for kind in kinds:
        for page in client.get_paginator(kind.describe_op).paginate(**pages):
            for description in page[kind.list_key]:
                if kind is INSTANCE and description.get("DBClusterIdentifier"):
                    continue
                record = record_of(kind, description)
                if record is not None and lifecycle in (None, record.lifecycle) and source in (None, record.source):
                    found.append(record)
    return sorted(found, key=lambda r: (r.created, r.identifier), reverse=True)


def set_stage(copy: CopyRecord, stage: Stage, rds: Any = None, dns_names: Iterable[str] = ()) -> None:
    """Tag the copy and each of its members with ``stage`` (a promoted copy: and the DNS names pointing at it)."""
    client = rds or clients.client("rds")
    added = [{"Key": tags.STAGE, "Value": stage.value}]
    names = " ".join(sorted(dns_names))
    if names:
        added.append({"Key": tags.DNS, "Value": names})
    arns = [copy.arn]
    for member in copy.members:
        description = client.describe_db_instances(DBInstanceIdentifier=member)["DBInstances"][0]
        arns.append(description["DBInstanceArn"])
    for arn in arns:
        with aws_errors(RestoreError, f"tagging {arn} as {stage.value}"):
            client.add_tags_to_resource(ResourceName=arn, Tags=added)
