"""The DNS names of a lifecycle: input, ownership, promotion and its propagation, against the strict Route 53 model."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.stub import Stubber

from trapheus.copies import dns
from trapheus.copies.dns import DnsTarget
from trapheus.copies.tags import ownership_marker
from trapheus.errors import DnsOwnershipError, InvalidInputError, ThrottlingError

ZONE = "db.example.internal"
NAME = f"ledger-staging.{ZONE}."
MARKER = f"_trapheus.{NAME}"
LIFECYCLE = "ledger-staging"
ENDPOINT = "ledger-staging-20260101-0000.abcdefghijkl.us-east-1.rds.amazonaws.com"


@pytest.fixture
def route53(strict_aws) -> Any:
    return strict_aws.client("route53")


def make_zone(route53: Any, name: str = ZONE) -> str:
    return route53.create_hosted_zone(Name=name, CallerReference=name)["HostedZone"]["Id"].rsplit("/", 1)[-1]


@pytest.fixture
def zone(route53: Any) -> str:
    return make_zone(route53)


def write(route53: Any, zone_id: str, name: str, record_type: str, *values: str) -> None:
    record_set = {"Name": name, "Type": record_type, "TTL": 300, "ResourceRecords": [{"Value": v} for v in values]}
    route53.change_resource_record_sets(HostedZoneId=zone_id, ChangeBatch={"Changes": [{"Action": "UPSERT", "ResourceRecordSet": record_set}]})


def records(route53: Any, zone_id: str) -> dict[tuple[str, str], list[str]]:
    listed = route53.list_resource_record_sets(HostedZoneId=zone_id)["ResourceRecordSets"]
    return {(r["Name"], r["Type"]): [v["Value"] for v in r["ResourceRecords"]] for r in listed if r["Type"] not in ("NS", "SOA")}


def calls(client: Any, operation: str) -> list[dict[str, Any]]:
    """The parameters of every ``operation`` call ``client`` makes from now on."""
    seen: list[dict[str, Any]] = []
    client.meta.events.register(f"provide-client-params.route53.{operation}", lambda params, **_: seen.append(dict(params)))
    return seen


# -- the input ---------------------------------------------------------------------------------------------


def test_one_target_is_normalised_as_route53_stores_names():
    assert dns.parse_targets({"hostedZoneId": "/hostedzone/Z0123ABC", "recordName": "Ledger-Staging.DB.example.internal"}) == [
        DnsTarget("Z0123ABC", "ledger-staging.db.example.internal.", 60)
    ]


def test_a_list_of_targets_keeps_its_order_and_ttls():
    targets = dns.parse_targets([{"hostedZoneId": "Z1", "recordName": "a.example.com.", "ttl": 0},
                                 {"hostedZoneId": "Z2", "recordName": "a.example.com", "ttl": 2147483647}])  # fmt: skip
    assert [(t.hosted_zone_id, t.record_name, t.ttl) for t in targets] == [("Z1", "a.example.com.", 0), ("Z2", "a.example.com.", 2147483647)]
    assert targets[0].marker_name == "_trapheus.a.example.com." and targets[0].key == "Z1/a.example.com."


GOOD = {"hostedZoneId": "Z1", "recordName": "a.example.com"}


@pytest.mark.parametrize(
    ("value", "says"),
    [
        (None, "'dns' must be an object"),
        ([], "non-empty list"),
        ("a.example.com", "'dns' must be an object"),
        ([GOOD, "b.example.com"], "dns[1] must be an object"),
        ({**GOOD, "zone": "Z1"}, "dns has unknown field(s) zone; allowed: hostedZoneId, recordName, ttl"),
        ({"recordName": "a.example.com"}, "dns.hostedZoneId must be a Route 53 hosted zone id"),
        ({**GOOD, "hostedZoneId": "z-1"}, "dns.hostedZoneId must be a Route 53 hosted zone id"),
        ({"hostedZoneId": "Z1"}, "dns.recordName must be a DNS name"),
        ({**GOOD, "recordName": "."}, "dns.recordName must be a DNS name"),
        ({**GOOD, "recordName": "localhost"}, "at least two of them"),
        ({**GOOD, "recordName": "*.example.com"}, "not '*'"),
        ({**GOOD, "recordName": "-a.example.com"}, "not '-a'"),
        ({**GOOD, "recordName": "a b.example.com"}, "not 'a b'"),
        ({**GOOD, "recordName": f"{'a' * 64}.example.com"}, "labels of 1-63"),
        ({**GOOD, "recordName": ".".join(["a" * 60] * 4) + ".example.com"}, "too long"),
        ({**GOOD, "ttl": -1}, "dns.ttl must be a whole number of seconds from 0 to 2147483647"),
        ({**GOOD, "ttl": 2147483648}, "dns.ttl must be"),
        ({**GOOD, "ttl": "60"}, "dns.ttl must be"),
        ({**GOOD, "ttl": True}, "dns.ttl must be"),
        ({**GOOD, "ttl": 60.5}, "dns.ttl must be"),
    ],
)
def test_bad_targets_are_refused_saying_what_to_fix(value: Any, says: str):
    with pytest.raises(InvalidInputError) as raised:
        dns.parse_targets(value)
    assert says in str(raised.value)


def test_the_same_name_twice_in_a_zone_is_refused():
    with pytest.raises(InvalidInputError, match=r"dns\[1\] names a.example.com. in hosted zone Z1 again \(as dns\[0\] does\)"):
        dns.parse_targets([GOOD, {"hostedZoneId": "/hostedzone/Z1", "recordName": "A.example.com."}])
    assert len(dns.parse_targets([GOOD, {**GOOD, "hostedZoneId": "Z2"}])) == 2  # one name in two zones


# -- ownership --------------------------------------------------------------------------------------------------


def target(zone_id: str, name: str = NAME, ttl: int = 60) -> DnsTarget:
    return DnsTarget(zone_id, name, ttl)


def test_a_free_name_is_ours_to_write(route53: Any, zone: str):
    assert dns.ownership_problems([target(zone)], LIFECYCLE, adopt=False) == []


@pytest.mark.parametrize(("record_type", "value"), [("A", "192.0.2.1"), ("TXT", '"v=spf1 -all"'), ("MX", "10 mail.example.com")])
def test_a_name_holding_another_record_type_is_refused_even_to_adopt(route53: Any, zone: str, record_type: str, value: str):
    write(route53, zone, NAME, record_type, value)
    assert dns.ownership_problems([target(zone)], LIFECYCLE, adopt=True) == [
        f"{NAME}: holds a {record_type} record trapheus did not write (a CNAME cannot share its name)"
    ]


def test_a_cname_trapheus_did_not_write_is_refused_unless_adopted(route53: Any, zone: str):
    write(route53, zone, NAME, "CNAME", "legacy.example.com")
    [problem] = dns.ownership_problems([target(zone)], LIFECYCLE, adopt=False)
    assert "is a CNAME to legacy.example.com that trapheus did not write" in problem and '"adopt": true' in problem
    assert dns.ownership_problems([target(zone)], LIFECYCLE, adopt=True) == []


def test_a_name_of_another_lifecycle_is_refused_even_to_adopt(route53: Any, zone: str):
    write(route53, zone, NAME, "CNAME", ENDPOINT)
    write(route53, zone, MARKER, "TXT", ownership_marker("ledger-dev"))
    assert dns.ownership_problems([target(zone)], LIFECYCLE, adopt=True) == [f"{NAME}: belongs to lifecycle ledger-dev (TXT record at {MARKER})"]


@pytest.mark.parametrize(("record_type", "values"), [("TXT", ['"someone else"']), ("TXT", [ownership_marker(LIFECYCLE), '"more"']),
                                                     ("A", ["192.0.2.1"])])  # fmt: skip
def test_a_marker_name_holding_anything_but_our_marker_is_refused(route53: Any, zone: str, record_type: str, values: list[str]):
    write(route53, zone, MARKER, record_type, *values)
    assert dns.ownership_problems([target(zone)], LIFECYCLE, adopt=True) == [
        f"{MARKER}: holds a {record_type} record trapheus did not write, where it keeps its ownership marker"
    ]


def test_names_trapheus_cannot_write_in_the_zone_are_refused(route53: Any, zone: str):
    problems = dns.ownership_problems([target("ZNOSUCHZONE"), target(zone, f"{ZONE}."), target(zone, "ledger.example.org.")], LIFECYCLE, adopt=True)
    assert problems == [
        f"{NAME}: hosted zone ZNOSUCHZONE does not exist",
        f"{ZONE}.: is the apex of hosted zone {zone}, where Route 53 allows no CNAME; use a name below it",
        f"ledger.example.org.: is not in hosted zone {zone} ({ZONE}.)",
    ]


def test_the_records_at_a_name_are_read_wherever_the_name_falls_in_the_listing(route53: Any, zone: str):
    # More record sets than one page of ListResourceRecordSets, all sorting before the name: a listing from the
    # start of the zone would not reach it in one call.
    for index in range(dns.PAGE_SIZE + 20):
        write(route53, zone, f"a{index:03}.{ZONE}", "A", "192.0.2.1")
    write(route53, zone, NAME, "A", "192.0.2.2")
    listed = calls(route53, "ListResourceRecordSets")
    assert dns.ownership_problems([target(zone)], LIFECYCLE, adopt=True) == [f"{NAME}: holds a A record trapheus did not write (a CNAME cannot share its name)"]
    assert [call.get("StartRecordName") for call in listed] == [NAME, MARKER]  # one call each, starting at the name


def test_records_at_a_name_spread_over_several_pages_are_all_read(route53: Any, zone: str, monkeypatch):
    monkeypatch.setattr(dns, "PAGE_SIZE", 1)
    for record_type, value in (("A", "192.0.2.1"), ("AAAA", "2001:db8::1"), ("MX", "10 mail.example.com"), ("TXT", '"x"')):
        write(route53, zone, NAME, record_type, value)
    write(route53, zone, f"zz.{NAME}", "A", "192.0.2.9")  # after the name and its marker: never read
    listed = calls(route53, "ListResourceRecordSets")
    problems = dns.ownership_problems([target(zone)], LIFECYCLE, adopt=True)
    assert [p.split(" record")[0] for p in problems] == [f"{NAME}: holds a {t}" for t in ("A", "AAAA", "MX", "TXT")]
    # each next page starts where the last ended: Route 53 pages by NextRecordName and NextRecordType
    assert [(c["StartRecordName"], c.get("StartRecordType")) for c in listed][:5] == [
        (NAME, None), (NAME, "AAAA"), (NAME, "MX"), (NAME, "TXT"), (f"zz.{NAME}", "A")
    ]


# -- promotion ------------------------------------------------------------------------------------------------------


def test_promote_writes_the_cname_and_its_marker_in_one_change_that_becomes_insync(strict_aws, route53: Any, zone: str):
    changes = dns.promote([target(zone, ttl=30)], LIFECYCLE, ENDPOINT.upper() + ".", adopt=False)
    assert changes == [{"hostedZoneId": zone, "recordName": NAME, "changeId": changes[0]["changeId"], "value": ENDPOINT}]
    assert records(route53, zone) == {(NAME, "CNAME"): [ENDPOINT], (MARKER, "TXT"): [ownership_marker(LIFECYCLE)]}
    assert {r["TTL"] for r in route53.list_resource_record_sets(HostedZoneId=zone)["ResourceRecordSets"] if r["Type"] in ("CNAME", "TXT")} == {30}
    assert dns.changes_in_sync(changes) == {"state": "waiting", "pending": changes}
    strict_aws.settle()
    assert dns.changes_in_sync(changes) == {"state": "done", "pending": []}
    assert dns.current_targets([target(zone)]) == {f"{zone}/{NAME}": ENDPOINT}


def test_promote_again_moves_the_name_to_the_next_copy(strict_aws, route53: Any, zone: str):
    dns.promote([target(zone)], LIFECYCLE, ENDPOINT, adopt=False)
    dns.promote([target(zone)], LIFECYCLE, "next." + ENDPOINT, adopt=False)
    assert dns.current_targets([target(zone)]) == {f"{zone}/{NAME}": "next." + ENDPOINT}


def test_promote_changes_nothing_when_any_name_is_not_ours(route53: Any, zone: str):
    write(route53, zone, f"other.{ZONE}", "CNAME", "legacy.example.com")
    before = records(route53, zone)
    changed = calls(route53, "ChangeResourceRecordSets")
    with pytest.raises(DnsOwnershipError, match="other.db.example.internal.: is a CNAME to legacy.example.com"):
        dns.promote([target(zone), target(zone, f"other.{ZONE}.")], LIFECYCLE, ENDPOINT, adopt=False)
    assert changed == [] and records(route53, zone) == before


def test_promote_with_adopt_takes_over_a_cname_and_marks_it(route53: Any, zone: str):
    write(route53, zone, NAME, "CNAME", "legacy.example.com")
    dns.promote([target(zone)], LIFECYCLE, ENDPOINT, adopt=True)
    assert records(route53, zone) == {(NAME, "CNAME"): [ENDPOINT], (MARKER, "TXT"): [ownership_marker(LIFECYCLE)]}
    assert dns.ownership_problems([target(zone)], LIFECYCLE, adopt=False) == []


def test_one_change_batch_per_zone_and_one_status_call_per_batch(strict_aws, route53: Any, zone: str):
    private = make_zone(route53, "example.org")
    targets = [target(zone), target(private, "ledger.example.org."), target(zone, f"ledger.{ZONE}.")]
    changed = calls(route53, "ChangeResourceRecordSets")
    changes = dns.promote(targets, LIFECYCLE, ENDPOINT, adopt=False)
    assert [(c["HostedZoneId"], len(c["ChangeBatch"]["Changes"])) for c in changed] == [(zone, 4), (private, 2)]
    assert changes[0]["changeId"] == changes[2]["changeId"] != changes[1]["changeId"]
    polled = calls(route53, "GetChange")
    strict_aws.settle()
    assert dns.changes_in_sync(changes)["state"] == "done"
    assert len(polled) == 2


def test_a_promoted_name_resolves_to_the_copy_once_in_sync(strict_aws, route53: Any, zone: str):
    rds = strict_aws.client("rds")
    with strict_aws.settled():
        rds.create_db_instance(DBInstanceIdentifier="ledger-staging-20260101-0000", DBInstanceClass="db.t3.micro", Engine="postgres",
                               MasterUsername="trapheus", MasterUserPassword="not-a-secret-1", AllocatedStorage=20)  # fmt: skip
    address = rds.describe_db_instances()["DBInstances"][0]["Endpoint"]["Address"]
    dns.promote([target(zone)], LIFECYCLE, address, adopt=False)
    assert strict_aws.emulator.resolve(zone, NAME) is None  # still PENDING
    strict_aws.settle()
    assert strict_aws.emulator.resolve(zone, NAME).identifier == "ledger-staging-20260101-0000"


def test_current_targets_answers_none_for_a_name_without_a_cname(route53: Any, zone: str):
    write(route53, zone, NAME, "A", "192.0.2.1")
    assert dns.current_targets([target(zone), target(zone, f"free.{ZONE}.")]) == {f"{zone}/{NAME}": None, f"{zone}/free.{ZONE}.": None}


def test_route53_still_busy_with_the_zone_is_retried_as_throttling(route53: Any):
    with Stubber(route53) as stub:
        stub.add_client_error("get_change", service_error_code="PriorRequestNotComplete", http_status_code=400)
        with pytest.raises(ThrottlingError, match="PriorRequestNotComplete"):
            dns.changes_in_sync([{"changeId": "/change/C1"}], route53)
