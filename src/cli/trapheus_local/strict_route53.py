"""The strict Route 53 model: what Route 53 refuses or delays where moto accepts at once.

moto answers every change batch INSYNC, lets a CNAME share its name with other records (or sit at the
zone apex), adds a second record set on a CREATE of one that exists, deletes a record set whose values
have changed since, and applies the first changes of a batch that it then refuses. The copy workflow
depends on each of those behaviours, so the emulator enforces them here (installed by
:class:`trapheus_local.engine.Emulator` when ``strict`` is on), each rule citing the AWS page it comes
from and answering with Route 53's error code and message:

- :func:`record_name_in_zone`, :func:`create_needs_a_new_record_set`, :func:`delete_needs_an_exact_match`,
  :func:`cname_not_at_apex`, :func:`cname_stands_alone` - checked for the whole batch, in order, before
  any of it applies (:func:`check_batch`); a batch moto itself refuses halfway is rolled back;
- :meth:`StrictRoute53.change_status` - a change is PENDING for :data:`PROPAGATION_SECONDS` on the
  emulator's virtual clock, then INSYNC;
- :meth:`StrictRoute53.resolve` - what a name answers once the zone's changes are in sync: the RDS
  database its CNAME reaches in the emulated account, or None.

Record names are stored in lower case, as Route 53 stores them.
"""

from __future__ import annotations

import contextlib
import threading
import uuid
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any
from unittest import mock

from moto.core.responses import ActionResult
from moto.route53.exceptions import Route53ClientError
from moto.route53.models import ChangeList, FakeZone, RecordSet, route53_backends
from moto.route53.responses import Route53

from trapheus_local.clock import VirtualClock
from trapheus_local.resources import ACCOUNT_ID

API = "https://docs.aws.amazon.com/Route53/latest/APIReference/"
GUIDE = "https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/"

# https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/resource-record-sets-editing.html: "Changes
# generally propagate to all Route 53 name servers within 60 seconds." The model takes the whole minute.
PROPAGATION_SECONDS = 60.0
MAX_CNAME_CHAIN = 8  # resolvers give up on longer chains; the copy workflow writes one link

_current: list[StrictRoute53] = []


def dns_name(name: str) -> str:
    """A name as Route 53 stores it: lower case, fully qualified (GUIDE DomainNameFormat.html: "Amazon
    Route 53 stores alphabetic characters as lowercase letters"; ResourceRecordTypes.html: "Route 53
    treats www.example.com (without a trailing dot) and www.example.com. (with a trailing dot) as identical")."""
    return name.lower().rstrip(".") + "."


def invalid_change_batch(message: str) -> Route53ClientError:
    return Route53ClientError("InvalidChangeBatch", message)


@dataclass(frozen=True)
class Record:
    """One record set, as the rules compare them."""

    name: str
    type: str
    set_identifier: str | None = None
    ttl: int | None = None
    values: tuple[str, ...] = ()
    alias: tuple[str, ...] | None = None

    @property
    def key(self) -> tuple[str, str, str | None]:
        return self.name, self.type, self.set_identifier

    @classmethod
    def of(cls, record_set: Mapping[str, Any]) -> Record:
        """From a change's ``ResourceRecordSet``."""
        alias = record_set.get("AliasTarget")
        return cls(
            name=dns_name(record_set["Name"]),
            type=record_set["Type"],
            set_identifier=record_set.get("SetIdentifier"),
            ttl=None if record_set.get("TTL") is None else int(record_set["TTL"]),
            values=tuple(sorted(str(r["Value"]) for r in record_set.get("ResourceRecords") or [])),
            alias=(alias["HostedZoneId"], dns_name(alias["DNSName"])) if alias else None,
        )

    @classmethod
    def stored(cls, record_set: RecordSet) -> Record:
        """From moto's zone (it keeps values as strings, or as ``{"Value": ...}`` for what it made itself)."""
        alias = record_set.alias_target
        return cls(
            name=dns_name(record_set.name),
            type=str(record_set.type),
            set_identifier=record_set.set_identifier,
            ttl=None if record_set.ttl is None else int(record_set.ttl),
            values=tuple(sorted(str(v["Value"] if isinstance(v, dict) else v) for v in record_set.records or [])),
            alias=(alias["HostedZoneId"], dns_name(alias["DNSName"])) if alias else None,
        )

    def describe(self) -> str:
        return f"[name='{self.name}', type='{self.type}'" + (f", set-identifier='{self.set_identifier}']" if self.set_identifier else "]")


# -- the rules ---------------------------------------------------------------------------------------


def record_name_in_zone(zone: str, record: Record) -> None:
    """A record's name is the zone's name or ends with ``.`` and the zone's name.

    GUIDE rrsets-working-with.html: "The name of each record in a hosted zone must end with the name of the
    hosted zone ... [it] cannot contain records for a www.example.ca subdomain." (moto only checks the
    suffix, so it takes ``badexample.com`` in ``example.com``.)
    """
    if record.name != zone and not record.name.endswith("." + zone):
        raise invalid_change_batch(f"RRSet with DNS name {record.name} is not permitted in zone {zone}")


def create_needs_a_new_record_set(working: Mapping[tuple, Record], record: Record) -> None:
    """CREATE of a record set that exists is refused; UPSERT is the action that replaces one.

    API API_ChangeResourceRecordSets.html (Action): "CREATE: Creates a resource record set that has the
    specified values." / "UPSERT: If a resource record set doesn't already exist, Route 53 creates it. If
    a resource record set does exist, Route 53 updates it with the values in the request." Route 53 answers
    "Tried to create resource record set [name=..., type=...] but it already exists". (moto refuses only
    a CREATE repeating an earlier change exactly; with other values it keeps both record sets.)
    """
    if record.key in working:
        raise invalid_change_batch(f"Tried to create resource record set {record.describe()} but it already exists")


def delete_needs_an_exact_match(working: Mapping[tuple, Record], record: Record) -> None:
    """DELETE names a record set that exists, with all of its current values.

    API API_ChangeResourceRecordSets.html: "To delete a resource record set, you must specify all the same
    values that you specified when you created it." Route 53 answers "Tried to delete resource record set
    [...] but it was not found" or "... but the values provided do not match the current values". (moto
    compares with any earlier change to the name, so a DELETE with values since replaced goes through.)
    """
    current = working.get(record.key)
    if current is None:
        raise invalid_change_batch(f"Tried to delete resource record set {record.describe()} but it was not found")
    if current != record:
        raise invalid_change_batch(
            f"Tried to delete resource record set {record.describe()} but the values provided do not match the current values"
        )


def cname_not_at_apex(zone: str, record: Record) -> None:
    """No CNAME at the zone apex.

    GUIDE ResourceRecordTypes.html (CNAME record type): "The DNS protocol does not allow you to create a
    CNAME record for the top node of a DNS namespace, also known as the zone apex."
    """
    if record.type == "CNAME" and record.name == zone:
        raise invalid_change_batch(f"RRSet of type CNAME with DNS name {record.name} is not permitted at apex in zone {zone}")


def cname_stands_alone(zone: str, working: Iterable[Record], record: Record) -> None:
    """A CNAME shares its name with no other record, whichever is written second.

    GUIDE ResourceRecordTypes.html (CNAME record type): "if you create a CNAME record for a subdomain, you
    cannot create any other records for that subdomain" (RFC 1034 3.6.2). Names below it (``_x.<name>``)
    are other names, and free.
    """
    others = {other.type for other in working if other.name == record.name and other.key != record.key}
    if record.type == "CNAME" and others - {"CNAME"}:
        raise invalid_change_batch(
            f"RRSet of type CNAME with DNS name {record.name} is not permitted as it conflicts with other records "
            f"with the same DNS name in zone {zone}"
        )
    if record.type != "CNAME" and "CNAME" in others:
        raise invalid_change_batch(
            f"RRSet of type {record.type} with DNS name {record.name} is not permitted because a conflicting RRSet "
            f"of type CNAME with the same DNS name already exists in zone {zone}"
        )


def check_batch(zone: str, records: Iterable[Record], changes: Iterable[Mapping[str, Any]]) -> None:
    """Every change of the batch against the zone as the changes before it leave it: one refusal refuses all.

    API API_ChangeResourceRecordSets.html: "Route 53 validates the changes in the request and then either
    makes all or none of the changes in the change batch request."
    """
    zone = dns_name(zone)
    working = {record.key: record for record in records}
    for change in changes:
        record = Record.of(change["ResourceRecordSet"])
        record_name_in_zone(zone, record)
        if change["Action"] == "DELETE":
            delete_needs_an_exact_match(working, record)
            del working[record.key]
        elif change["Action"] in ("CREATE", "UPSERT"):
            if change["Action"] == "CREATE":
                create_needs_a_new_record_set(working, record)
            cname_not_at_apex(zone, record)
            cname_stands_alone(zone, working.values(), record)
            working[record.key] = record


# -- state ---------------------------------------------------------------------------------------------


@dataclass
class _Change:
    account_id: str
    zone_id: str
    submitted_at: Any
    until: float
    before: tuple[Record, ...]  # the zone as name servers answer until the change is in sync


@dataclass(frozen=True)
class Resolution:
    """The database a name reaches: ``kind`` is instance, cluster (writer endpoint) or cluster-reader."""

    kind: str
    identifier: str
    address: str
    chain: tuple[str, ...]  # the CNAME targets followed, in order


class StrictRoute53:
    """Change propagation and resolution; the rules are the functions above, :func:`installed` hooks them in."""

    def __init__(self, clock: VirtualClock, *, propagation_seconds: float = PROPAGATION_SECONDS) -> None:
        self.clock = clock
        self.propagation_seconds = propagation_seconds
        self.lock = threading.RLock()  # a batch is checked and applied as one step
        self._changes: dict[str, _Change] = {}

    def settle(self) -> None:
        """Every change is in sync now (a deployment, or a test's setup, waited for it)."""
        with self.lock:
            for change in self._changes.values():
                change.until = min(change.until, self.clock.elapsed)

    def submitted(self, account_id: str, zone_id: str, before: Iterable[Record]) -> tuple[str, Any]:
        """Record a change batch just applied; its id (unique, as Route 53's are) and submission time."""
        with self.lock:
            change_id = "C" + uuid.uuid4().hex[:13].upper()
            self._changes[change_id] = _Change(account_id, zone_id, self.clock.now(), self.clock.elapsed + self.propagation_seconds,
                                               tuple(before))  # fmt: skip
            return change_id, self._changes[change_id].submitted_at

    def change_status(self, change_id: str) -> tuple[str, Any] | None:
        """PENDING until the change has propagated, then INSYNC (None: not a change batch of this model).

        API API_GetChange.html: "PENDING indicates that the changes in this request have not propagated to
        all Amazon Route 53 DNS servers managing the hosted zone. This is the initial status of all change
        batch requests. INSYNC indicates that the changes have propagated to all Route 53 DNS servers".
        """
        with self.lock:
            change = self._changes.get(change_id.rsplit("/", 1)[-1])
            if change is None:
                return None
            return ("PENDING" if self.clock.elapsed < change.until else "INSYNC"), change.submitted_at

    def answered(self, account_id: str, zone: FakeZone) -> list[Record]:
        """The zone's records as its name servers answer: as they were before the oldest change not yet in sync."""
        with self.lock:
            for change in self._changes.values():
                if (change.account_id, change.zone_id) == (account_id, zone.resource_id) and self.clock.elapsed < change.until:
                    return list(change.before)
            return [Record.stored(record_set) for record_set in zone.rrsets]

    def resolve(self, zone_id: str, name: str, rds: Any, *, account_id: str = ACCOUNT_ID) -> Resolution | None:
        """The RDS database ``name`` reaches through its CNAME (and any CNAME after it in the account's zones),
        or None when it reaches none (Route 53 accepts a CNAME to a name that does not resolve; a lookup of it
        then fails). ``rds`` is a client of the region and account whose databases count.
        """
        backend = route53_backends[account_id]["aws"]
        zone: FakeZone | None = backend.get_hosted_zone(zone_id.rsplit("/", 1)[-1])
        target, chain = dns_name(name), []
        while zone is not None and len(chain) < MAX_CNAME_CHAIN:
            cname = next((r for r in self.answered(account_id, zone) if r.name == target and r.type == "CNAME" and r.values), None)
            if cname is None:
                break
            target = dns_name(cname.values[0])
            chain.append(target)
            zone = _zone_holding(backend.zones.values(), target)
        return _database_at(rds, target.rstrip("."), tuple(chain))


def _zone_holding(zones: Iterable[FakeZone], name: str) -> FakeZone | None:
    """The most specific zone of the account whose names include ``name``."""
    holding = [zone for zone in zones if name == dns_name(zone.name) or name.endswith("." + dns_name(zone.name))]
    return max(holding, key=lambda zone: len(zone.name), default=None)


def _database_at(rds: Any, address: str, chain: tuple[str, ...]) -> Resolution | None:
    for page in rds.get_paginator("describe_db_instances").paginate():
        for instance in page["DBInstances"]:
            if ((instance.get("Endpoint") or {}).get("Address") or "").lower() == address:
                return Resolution("instance", instance["DBInstanceIdentifier"], address, chain)
    for page in rds.get_paginator("describe_db_clusters").paginate():
        for cluster in page["DBClusters"]:
            for kind, key in (("cluster", "Endpoint"), ("cluster-reader", "ReaderEndpoint")):
                if (cluster.get(key) or "").lower() == address:
                    return Resolution(kind, cluster["DBClusterIdentifier"], address, chain)
    return None


def settle_if_installed() -> None:
    """Let every Route 53 change in flight be in sync now (:meth:`trapheus_local.engine.Emulator.settle`)."""
    if _current:
        _current[-1].settle()


def current() -> StrictRoute53:
    """The model of the running emulator."""
    if not _current:
        raise RuntimeError("the strict Route 53 model is not installed (Emulator(strict=True))")
    return _current[-1]


# -- moto integration ------------------------------------------------------------------------------


@contextlib.contextmanager
def installed(clock: VirtualClock, **timings: float) -> Iterator[StrictRoute53]:
    """Apply the strict model to every Route 53 call while the block runs."""
    model = StrictRoute53(clock, **timings)
    original_change = Route53.change_resource_record_sets
    original_get_change = Route53.get_change

    def change_resource_record_sets(handler: Route53) -> Any:
        zone = handler.backend.get_hosted_zone(handler._get_param("HostedZoneId"))
        changes = handler._get_param("ChangeBatch.Changes") or []
        for change in changes:
            change["ResourceRecordSet"]["Name"] = change["ResourceRecordSet"]["Name"].lower()
        with model.lock:
            before = [Record.stored(record_set) for record_set in zone.rrsets]
            check_batch(zone.name, before, changes)
            rrsets, journal = list(zone.rrsets), ChangeList(zone.rr_changes)
            try:
                response = original_change(handler)
            except Exception:
                zone.rrsets, zone.rr_changes = rrsets, journal  # moto stopped halfway: none of the batch applies
                raise
            change_id, submitted_at = model.submitted(handler.current_account, zone.resource_id, before)
        response.result["ChangeInfo"].update(Id=f"/change/{change_id}", Status="PENDING", SubmittedAt=submitted_at)
        return response

    def get_change(handler: Route53) -> Any:
        change_id = str(handler._get_param("Id"))
        status = model.change_status(change_id)
        if status is None:
            return original_get_change(handler)
        return ActionResult({"ChangeInfo": {"Id": f"/change/{change_id.rsplit('/', 1)[-1]}", "Status": status[0], "SubmittedAt": status[1]}})

    _current.append(model)
    try:
        with mock.patch.object(Route53, "change_resource_record_sets", change_resource_record_sets), \
                mock.patch.object(Route53, "get_change", get_change):  # fmt: skip
            yield model
    finally:
        _current.remove(model)
