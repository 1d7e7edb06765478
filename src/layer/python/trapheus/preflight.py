"""Everything checked before the first change: input, database, names, snapshot.

:func:`prepare` only reads. It refuses a run that would fail part-way for a reason
known up front, and returns the workflow state every later step works from.
"""

from __future__ import annotations

import os
from typing import Any

from trapheus import clients
from trapheus.databases import capture, describe, find, member_ids, status
from trapheus.errors import DatabaseNotAvailableError, IdentifierInUseError, InvalidInputError
from trapheus.inputs import RestoreRequest, parse_request
from trapheus.kinds import INSTANCE, DatabaseKind, kind_for
from trapheus.names import RESTORABLE_ID_MAX, RestoreNames, check_identifier, derive_names
from trapheus.snapshots import require_available


def _flag(environ: dict, name: str, default: bool) -> bool:
    value = str(environ.get(name, "")).strip().lower()
    return default if value == "" else value in ("1", "true", "yes", "on")


def _check_free(kind: DatabaseKind, identifiers: list[str], client: Any) -> None:
    taken = [i for i in identifiers if find(kind, i, client) is not None]
    if taken:
        raise IdentifierInUseError(
            f"{kind.label} identifier(s) {', '.join(taken)} already exist; trapheus needs them free for this run "
            "(a previous run may have left them: check and remove or rename them first)"
        )


def prepare(raw_input: Any, run_id: str, rds: Any = None, environ: dict | None = None) -> dict:
    env = os.environ if environ is None else environ
    request = parse_request(raw_input, export_default=_flag(env, "EXPORT_BY_DEFAULT", False))
    client = rds or clients.client("rds")
    kind = kind_for(request.is_cluster)
    database = describe(kind, request.identifier, client)
    if kind is INSTANCE and database.get("DBClusterIdentifier"):
        raise InvalidInputError(
            f"{request.identifier!r} is a member of Aurora cluster {database['DBClusterIdentifier']!r}; "
            "restore the cluster: set identifier to the cluster and isCluster to true"
        )
    current = status(kind, database)
    if current != "available":
        raise DatabaseNotAvailableError(f"{kind.label} {request.identifier!r} is {current!r}; it must be 'available'")
    members = member_ids(database) if request.is_cluster else []
    for member in members:
        check_identifier(member, field_name=f"member {member}", max_length=RESTORABLE_ID_MAX)
    names = derive_names(request.identifier, request.snapshot_identifier, run_id, members)
    if request.task.restores:
        _check_free(kind, [names.aside, names.staged], client)
        _check_free(INSTANCE, [n for m in names.members for n in (m.aside, m.staged)], client)
    if not request.task.takes_snapshot:
        # db_restore: the snapshot must be usable before anything is renamed
        require_available(kind, names.snapshot, client)
    configuration = capture(kind, request.identifier, client)
    return {"request": request.to_dict(), "names": names.to_dict(), "configuration": configuration}


def load(state: dict) -> tuple[RestoreRequest, DatabaseKind, RestoreNames]:
    """The typed parts of the workflow state that later steps receive."""
    try:
        request = RestoreRequest.from_dict(state["request"])
        names = RestoreNames.from_dict(state["names"])
    except (KeyError, TypeError) as error:
        raise InvalidInputError(f"step input is missing {error}") from error
    return request, kind_for(request.is_cluster), names
