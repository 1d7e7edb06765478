"""The DNS names a lifecycle owns: a Route 53 CNAME to its promoted copy, marked as the lifecycle's by a TXT record.

Route 53 records cannot be tagged, and a CNAME shares its name with no other record (RFC 1034 3.6.2; Route 53
refuses a TXT beside it: "RRSet of type TXT ... is not permitted because a conflicting RRSet of type CNAME ...
already exists"). So the marker is a TXT record at ``_trapheus.<name>``, a name of its own just below the CNAME
(the underscored-name convention of RFC 8552), whose value is :func:`trapheus.copies.tags.ownership_marker`.

trapheus writes a name only when it holds nothing but a CNAME and that marker (or nothing); a CNAME without the
marker only when the request says ``"adopt": true``; never a name marked as another lifecycle's.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from trapheus import clients
from trapheus.copies.tags import ownership_marker
from trapheus.errors import DnsError, DnsOwnershipError, InvalidInputError
from trapheus.throttling import aws_errors, error_code

MARKER_LABEL = "_trapheus"
DEFAULT_TTL = 60
MAX_TTL = 2_147_483_647  # Route 53's TTL maximum (API ResourceRecordSet.TTL)
MAX_NAME_BYTES = 255  # including the dots (Route 53 developer guide, DNS domain name format)
PAGE_SIZE = 300  # ListResourceRecordSets returns at most 300 record sets a call
FIELDS = ("hostedZoneId", "recordName", "ttl")
_ZONE_ID = re.compile(r"^[A-Z0-9]{1,32}$")
_LABEL = re.compile(r"^[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?$")
_MARKER_VALUE = re.compile(r'^"trapheus:lifecycle=(?P<lifecycle>.*)"$')


@dataclass(frozen=True)
class DnsTarget:
    """One DNS name the lifecycle's promoted copy is reached by."""

    hosted_zone_id: str  # without the /hostedzone/ prefix
    record_name: str  # lower case and fully qualified (trailing dot), as Route 53 stores and lists it
    ttl: int = DEFAULT_TTL

    @property
    def marker_name(self) -> str:
        return f"{MARKER_LABEL}.{self.record_name}"

    def to_dict(self) -> dict[str, Any]:
        """As the input gives it (what :func:`parse_targets` reads back)."""
        return {"hostedZoneId": self.hosted_zone_id, "recordName": self.record_name, "ttl": self.ttl}

    @property
    def key(self) -> str:
        """``<zone>/<name>``: a name may be in two zones (a public and a private one)."""
        return f"{self.hosted_zone_id}/{self.record_name}"


def dns_name(name: str) -> str:
    """``name`` as Route 53 stores it: lower case, with one trailing dot."""
    return name.lower().rstrip(".") + "."


# -- the input -------------------------------------------------------------------------------------------


def parse_targets(value: Any) -> list[DnsTarget]:
    """The input's ``dns``: one object or a non-empty list of them, ``{hostedZoneId, recordName, ttl}``."""
    if isinstance(value, Mapping):
        entries = [("dns", value)]
    elif isinstance(value, list) and value:
        entries = [(f"dns[{index}]", entry) for index, entry in enumerate(value)]
    else:
        raise InvalidInputError(f"'dns' must be an object {{hostedZoneId, recordName, ttl}} or a non-empty list of them, got {value!r}")
    targets: dict[tuple[str, str], str] = {}
    parsed = []
    for where, entry in entries:
        target = _target(where, entry)
        first = targets.setdefault((target.hosted_zone_id, target.record_name), where)
        if first != where:
            raise InvalidInputError(f"{where} names {target.record_name} in hosted zone {target.hosted_zone_id} again (as {first} does)")
        parsed.append(target)
    return parsed


def _target(where: str, entry: Any) -> DnsTarget:
    if not isinstance(entry, Mapping):
        raise InvalidInputError(f"{where} must be an object {{hostedZoneId, recordName, ttl}}, got {entry!r}")
    unknown = sorted(set(entry) - set(FIELDS))
    if unknown:
        raise InvalidInputError(f"{where} has unknown field(s) {', '.join(unknown)}; allowed: {', '.join(FIELDS)}")
    return DnsTarget(
        hosted_zone_id=_hosted_zone_id(where, entry.get("hostedZoneId")),
        record_name=_record_name(where, entry.get("recordName")),
        ttl=_ttl(where, entry.get("ttl", DEFAULT_TTL)),
    )


def _hosted_zone_id(where: str, value: Any) -> str:
    zone_id = value.removeprefix("/hostedzone/") if isinstance(value, str) else value
    if not isinstance(zone_id, str) or not _ZONE_ID.match(zone_id):
        raise InvalidInputError(f"{where}.hostedZoneId must be a Route 53 hosted zone id such as Z0123456789ABCDEFGHIJ, got {value!r}")
    return zone_id


def _record_name(where: str, value: Any) -> str:
    if not isinstance(value, str) or not value.strip("."):
        raise InvalidInputError(f"{where}.recordName must be a DNS name such as ledger-staging.db.example.internal, got {value!r}")
    name = dns_name(value)
    labels = name[:-1].split(".")
    bad = [label for label in labels if not _LABEL.match(label)]
    if bad or len(labels) < 2:
        raise InvalidInputError(
            f"{where}.recordName {value!r} is not a DNS name trapheus writes: labels of 1-63 letters, digits, '-' "
            f"or '_' (not starting or ending with '-'), at least two of them"
            + (f"; not {bad[0]!r}" if bad else "")
        )
    if len(f"{MARKER_LABEL}.{name}") > MAX_NAME_BYTES:
        raise InvalidInputError(
            f"{where}.recordName {value!r} is too long: with its ownership marker label '{MARKER_LABEL}.' it must fit "
            f"{MAX_NAME_BYTES} characters"
        )
    return name


def _ttl(where: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_TTL:
        raise InvalidInputError(f"{where}.ttl must be a whole number of seconds from 0 to {MAX_TTL}, got {value!r}")
    return value


# -- reading the zones ----------------------------------------------------------------------------------------


def _route53(route53: Any) -> Any:
    return route53 if route53 is not None else clients.client("route53")


def _record_sets(route53: Any, zone_id: str, name: str) -> list[dict[str, Any]]:
    """Every record set at exactly ``name``: the listing starts there, and ends at the first other name."""
    found: list[dict[str, Any]] = []
    with aws_errors(DnsError, f"listing the records at {name} in hosted zone {zone_id}"):
        pages = route53.get_paginator("list_resource_record_sets").paginate(
            HostedZoneId=zone_id, StartRecordName=name, PaginationConfig={"PageSize": PAGE_SIZE}
        )
        for page in pages:
            for record_set in page["ResourceRecordSets"]:
                if dns_name(record_set["Name"]) != name:
                    return found
                found.append(record_set)
    return found


def _values(record_set: Mapping[str, Any]) -> list[str]:
    return [record["Value"] for record in record_set.get("ResourceRecords") or []]


def _zone_name(route53: Any, target: DnsTarget) -> str | None:
    """The hosted zone's name, or None when there is no such zone."""
    try:
        return dns_name(route53.get_hosted_zone(Id=target.hosted_zone_id)["HostedZone"]["Name"])
    except ClientError as error:
        if error_code(error) == "NoSuchHostedZone":
            return None
        with aws_errors(DnsError, f"reading hosted zone {target.hosted_zone_id}"):
            raise


def ownership_problems(targets: Iterable[DnsTarget], lifecycle: str, *, adopt: bool, route53: Any = None) -> list[str]:
    """Why trapheus may not write each target's CNAME and marker for ``lifecycle`` (empty: it may). Reads only."""
    route53 = _route53(route53)
    return [problem for target in targets for problem in _problems(route53, target, lifecycle, adopt)]


def _problems(route53: Any, target: DnsTarget, lifecycle: str, adopt: bool) -> list[str]:
    name, marker = target.record_name, target.marker_name
    zone = _zone_name(route53, target)
    if zone is None:
        return [f"{name}: hosted zone {target.hosted_zone_id} does not exist"]
    if name == zone:
        return [f"{name}: is the apex of hosted zone {target.hosted_zone_id}, where Route 53 allows no CNAME; use a name below it"]
    if not name.endswith("." + zone):
        return [f"{name}: is not in hosted zone {target.hosted_zone_id} ({zone})"]
    problems, cnames = [], []
    for record_set in _record_sets(route53, target.hosted_zone_id, name):
        if record_set["Type"] != "CNAME":
            problems.append(f"{name}: holds a {record_set['Type']} record trapheus did not write (a CNAME cannot share its name)")
        elif "SetIdentifier" in record_set or "AliasTarget" in record_set:
            problems.append(f"{name}: holds a CNAME with a routing policy or alias that trapheus did not write")
        else:
            cnames.append(record_set)
    owned = False
    for record_set in _record_sets(route53, target.hosted_zone_id, marker):
        values = _values(record_set)
        owners = {match["lifecycle"] for match in map(_MARKER_VALUE.match, values) if match}
        if record_set["Type"] == "TXT" and values == [ownership_marker(lifecycle)] and "SetIdentifier" not in record_set:
            owned = True
        elif record_set["Type"] == "TXT" and owners - {lifecycle}:
            problems.append(f"{name}: belongs to lifecycle {', '.join(sorted(owners - {lifecycle}))} (TXT record at {marker})")
        else:
            problems.append(f"{marker}: holds a {record_set['Type']} record trapheus did not write, where it keeps its ownership marker")
    if cnames and not owned and not adopt and not problems:
        problems.append(
            f"{name}: is a CNAME to {_values(cnames[0])[0]} that trapheus did not write (no TXT marker at {marker}); "
            'to take it over, start the run with "adopt": true'
        )
    return problems


def current_targets(targets: Iterable[DnsTarget], route53: Any = None) -> dict[str, str | None]:
    """What each target's CNAME points at now (no trailing dot), or None; keyed by :attr:`DnsTarget.key`."""
    route53 = _route53(route53)
    current: dict[str, str | None] = {}
    for target in targets:
        cname = next((r for r in _record_sets(route53, target.hosted_zone_id, target.record_name) if r["Type"] == "CNAME"), None)
        current[target.key] = _values(cname)[0].rstrip(".") if cname and _values(cname) else None
    return current


# -- changing them ----------------------------------------------------------------------------------------------


def promote(targets: Iterable[DnsTarget], lifecycle: str, endpoint: str, *, adopt: bool, route53: Any = None) -> list[dict[str, str]]:
    """Point every target at ``endpoint`` and mark it as ``lifecycle``'s: one change batch per hosted zone, each
    UPSERTing the CNAME and its TXT marker together. Ownership is checked again first; any problem changes nothing.
    Answers one entry per target, in order, with the id of the change batch that wrote it.
    """
    route53 = _route53(route53)
    targets = list(targets)
    problems = ownership_problems(targets, lifecycle, adopt=adopt, route53=route53)
    if problems:
        raise DnsOwnershipError("; ".join(problems))
    value = endpoint.lower().rstrip(".")
    if not value:
        raise InvalidInputError("the copy has no endpoint address to point its DNS names at")
    by_zone: dict[str, list[DnsTarget]] = {}
    for target in targets:
        by_zone.setdefault(target.hosted_zone_id, []).append(target)
    change_ids: dict[str, str] = {}
    for zone_id, zone_targets in by_zone.items():
        changes = [
            change
            for target in zone_targets
            for change in (_upsert(target.record_name, "CNAME", value, target.ttl),
                           _upsert(target.marker_name, "TXT", ownership_marker(lifecycle), target.ttl))  # fmt: skip
        ]
        with aws_errors(DnsError, f"pointing {', '.join(t.record_name for t in zone_targets)} at {value}"):
            info = route53.change_resource_record_sets(
                HostedZoneId=zone_id,
                ChangeBatch={"Comment": f"trapheus {lifecycle}: promote {value}"[:256], "Changes": changes},
            )["ChangeInfo"]
        change_ids[zone_id] = info["Id"]
    return [{"hostedZoneId": t.hosted_zone_id, "recordName": t.record_name, "changeId": change_ids[t.hosted_zone_id], "value": value}
            for t in targets]  # fmt: skip


def _upsert(name: str, record_type: str, value: str, ttl: int) -> dict[str, Any]:
    return {"Action": "UPSERT", "ResourceRecordSet": {"Name": name, "Type": record_type, "TTL": ttl, "ResourceRecords": [{"Value": value}]}}


def changes_in_sync(changes: Iterable[Mapping[str, Any]], route53: Any = None) -> dict[str, Any]:
    """For the poll loop after :func:`promote`: ``done`` once every change is INSYNC, else ``waiting`` with the
    entries still PENDING (each change batch is asked about once)."""
    route53 = _route53(route53)
    changes = list(changes)
    statuses: dict[str, str] = {}
    for change_id in dict.fromkeys(str(change["changeId"]) for change in changes):
        with aws_errors(DnsError, f"reading the status of Route 53 change {change_id}"):
            statuses[change_id] = route53.get_change(Id=change_id)["ChangeInfo"]["Status"]
    pending = [dict(change) for change in changes if statuses[str(change["changeId"])] != "INSYNC"]
    return {"state": "waiting" if pending else "done", "pending": pending}
