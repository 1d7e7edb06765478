"""Where a restored copy's data comes from: a snapshot, or the original's automated backups at a point in time.

A source is data, the way :mod:`trapheus.kinds` makes instances and clusters data: the restore step asks it for
the RDS call and the arguments that name the source, and never branches on which kind of source it has. A point
in time is restored from the original as found by its resource id, which survives the renames of a run (in place,
the original has moved aside by then): an instance is named by that id, a cluster by the identifier it has at the
moment of the call (RDS documents SourceDbClusterResourceId for deleted clusters only); always as a full copy (a copy-on-write clone of an Aurora cluster would share its
volume with the original it is about to replace).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from trapheus.inputs import RestoreRequest
from trapheus.kinds import DatabaseKind, RestoreOperation
from trapheus.names import RestoreNames


@dataclass(frozen=True)
class RestoreSource:
    snapshot: str | None = None
    point_in_time: str | None = None  # ISO-8601, UTC
    original_resource_id: str | None = None
    clone: bool = False  # Aurora copy-on-write clone at the latest restorable time (the copy workflow's, never a restore's)

    def operation(self, kind: DatabaseKind) -> RestoreOperation:
        return kind.to_point_in_time if self.point_in_time or self.clone else kind.from_snapshot

    def arguments(self, kind: DatabaseKind, target_id: str, identifier_of: Callable[[str], str] | None = None) -> dict[str, Any]:
        """The arguments that name the target and the source (and the time, for a point in time).

        ``identifier_of`` gives the original's identifier now, from its resource id (in place, it has moved aside
        by then), for the calls that name the source by identifier."""
        operation = self.operation(kind)
        arguments: dict[str, Any] = {operation.target_param: target_id, **dict(operation.fixed)}
        if self.clone:
            # https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/Aurora.Managing.Clone.html
            if not self.original_resource_id or identifier_of is None or operation.time_param is None:
                raise ValueError("a clone needs the source's resource id, identifier_of and a point-in-time operation")
            arguments[operation.source_param] = identifier_of(self.original_resource_id)
            arguments.update(RestoreType="copy-on-write", UseLatestRestorableTime=True)
            return arguments
        if self.point_in_time:
            if not self.original_resource_id:
                raise ValueError("a point-in-time restore needs the original's resource id")
            if operation.source_by_identifier:
                if identifier_of is None:
                    raise ValueError(f"{operation.restore_op} names its source by identifier: pass identifier_of")
                arguments[operation.source_param] = identifier_of(self.original_resource_id)
            else:
                arguments[operation.source_param] = self.original_resource_id
            arguments[str(operation.time_param)] = self.point_in_time
        else:
            arguments[operation.source_param] = self.snapshot
        return arguments

    @property
    def label(self) -> str:
        if self.clone:
            return "a copy-on-write clone"
        return f"the point in time {self.point_in_time}" if self.point_in_time else repr(self.snapshot)


def source_of(request: RestoreRequest, names: RestoreNames, configuration: dict) -> RestoreSource:
    """The source a run restores from: the request's point in time, or the snapshot its names give."""
    if request.task.to_point_in_time:
        return RestoreSource(point_in_time=request.restore_time, original_resource_id=configuration.get("resourceId"))
    return RestoreSource(snapshot=names.snapshot)
