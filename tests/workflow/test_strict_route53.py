"""The strict Route 53 model refuses what Route 53 refuses, with its error code and message, and keeps a
change PENDING until it has propagated.

Each rule is shown twice where moto differs: plain moto accepts the call (so the rule is needed), and the
emulator refuses it the way Route 53 does.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from trapheus_local import Emulator, strict_route53

ZONE = "db.example.internal"
NAME = f"ledger.{ZONE}"


def record(name: str, type_: str, *values: str, ttl: int = 60) -> dict[str, Any]:
    return {"Name": name, "Type": type_, "TTL": ttl, "ResourceRecords": [{"Value": value} for value in values]}


def change(action: str, name: str, type_: str, *values: str, ttl: int = 60) -> dict[str, Any]:
    return {"Action": action, "ResourceRecordSet": record(name, type_, *values, ttl=ttl)}


class Zone:
    """A hosted zone and the client that writes to it."""

    def __init__(self, route53: Any) -> None:
        self.route53 = route53
        self.id = route53.create_hosted_zone(Name=ZONE, CallerReference="zone")["HostedZone"]["Id"].rsplit("/", 1)[-1]

    def apply(self, *changes: dict[str, Any]) -> dict[str, Any]:
        return self.route53.change_resource_record_sets(HostedZoneId=self.id, ChangeBatch={"Changes": list(changes)})["ChangeInfo"]

    def refused(self, *changes: dict[str, Any]) -> tuple[str, str]:
        with pytest.raises(ClientError) as raised:
            self.apply(*changes)
        return raised.value.response["Error"]["Code"], raised.value.response["Error"]["Message"]

    def records(self) -> set[tuple[str, str, tuple[str, ...]]]:
        found = self.route53.list_resource_record_sets(HostedZoneId=self.id)["ResourceRecordSets"]
        return {(r["Name"], r["Type"], tuple(v["Value"] for v in r.get("ResourceRecords", []))) for r in found
                if r["Type"] not in ("NS", "SOA")}  # fmt: skip


@contextlib.contextmanager
def plain_moto() -> Iterator[Zone]:
    with mock_aws():
        yield Zone(boto3.client("route53", region_name="us-east-1"))


@contextlib.contextmanager
def strict() -> Iterator[tuple[Emulator, Zone]]:
    with Emulator() as emulator:
        yield emulator, Zone(emulator.client("route53"))


@pytest.fixture
def aws() -> Iterator[Emulator]:
    with Emulator() as emulator:
        yield emulator


@pytest.fixture
def zone(aws: Emulator) -> Zone:
    return Zone(aws.client("route53"))


# -- propagation -----------------------------------------------------------------------------------------


def test_a_change_is_pending_until_it_has_propagated():
    with plain_moto() as plain:
        assert plain.apply(change("UPSERT", NAME, "CNAME", "a.example.com"))["Status"] == "INSYNC"  # moto: at once
    with strict() as (aws, zone):
        info = zone.apply(change("UPSERT", NAME, "CNAME", "a.example.com"))
        assert info["Status"] == "PENDING"
        get = lambda: zone.route53.get_change(Id=info["Id"])["ChangeInfo"]  # noqa: E731
        assert get()["Status"] == "PENDING"
        aws.clock.advance(strict_route53.PROPAGATION_SECONDS - 1)
        assert get()["Status"] == "PENDING"
        aws.clock.advance(1)
        assert get() == {**info, "Status": "INSYNC"}


def test_each_change_batch_has_its_own_id_and_settle_puts_it_in_sync(aws: Emulator, zone: Zone):
    first = zone.apply(change("UPSERT", NAME, "CNAME", "a.example.com"))
    second = zone.apply(change("UPSERT", NAME, "CNAME", "b.example.com"))
    assert first["Id"] != second["Id"] and first["Id"].startswith("/change/C")
    assert zone.route53.get_change(Id=first["Id"].removeprefix("/change/"))["ChangeInfo"]["Status"] == "PENDING"
    aws.settle()
    assert {zone.route53.get_change(Id=i["Id"])["ChangeInfo"]["Status"] for i in (first, second)} == {"INSYNC"}


# -- a CNAME stands alone ----------------------------------------------------------------------------------


@pytest.mark.parametrize("action", ["CREATE", "UPSERT"])
def test_no_cname_where_another_record_is(action: str):
    with plain_moto() as plain:
        plain.apply(change("CREATE", NAME, "TXT", '"x"'))
        plain.apply(change(action, NAME, "CNAME", "a.example.com"))  # moto keeps both
    with strict() as (_, zone):
        zone.apply(change("CREATE", NAME, "TXT", '"x"'))
        assert zone.refused(change(action, NAME, "CNAME", "a.example.com")) == (
            "InvalidChangeBatch",
            f"RRSet of type CNAME with DNS name {NAME}. is not permitted as it conflicts with other records with the same "
            f"DNS name in zone {ZONE}.",
        )
        assert zone.records() == {(f"{NAME}.", "TXT", ('"x"',))}


@pytest.mark.parametrize("action", ["CREATE", "UPSERT"])
def test_no_other_record_where_a_cname_is(zone: Zone, action: str):
    zone.apply(change("CREATE", NAME, "CNAME", "a.example.com"))
    assert zone.refused(change(action, NAME.upper(), "A", "192.0.2.1")) == (
        "InvalidChangeBatch",
        f"RRSet of type A with DNS name {NAME}. is not permitted because a conflicting RRSet of type CNAME with the "
        f"same DNS name already exists in zone {ZONE}.",
    )


def test_a_name_below_a_cname_is_another_name(zone: Zone):
    zone.apply(change("CREATE", NAME, "CNAME", "a.example.com"), change("CREATE", f"_owner.{NAME}", "TXT", '"x"'))
    assert len(zone.records()) == 2


def test_a_batch_may_replace_a_cname_by_other_records(zone: Zone):
    zone.apply(change("CREATE", NAME, "CNAME", "a.example.com"))
    zone.apply(change("DELETE", NAME, "CNAME", "a.example.com"), change("CREATE", NAME, "A", "192.0.2.1"))
    assert zone.records() == {(f"{NAME}.", "A", ("192.0.2.1",))}


def test_no_cname_at_the_zone_apex():
    with plain_moto() as plain:
        plain.apply(change("UPSERT", ZONE, "CNAME", "a.example.com"))  # moto takes it
    with strict() as (_, zone):
        assert zone.refused(change("UPSERT", ZONE, "CNAME", "a.example.com")) == (
            "InvalidChangeBatch", f"RRSet of type CNAME with DNS name {ZONE}. is not permitted at apex in zone {ZONE}."
        )


def test_a_record_name_ends_with_the_zone_name():
    with plain_moto() as plain:
        plain.apply(change("UPSERT", f"bad{ZONE}", "A", "192.0.2.1"))  # moto checks the suffix only
    with strict() as (_, zone):
        assert zone.refused(change("UPSERT", f"bad{ZONE}", "A", "192.0.2.1")) == (
            "InvalidChangeBatch", f"RRSet with DNS name bad{ZONE}. is not permitted in zone {ZONE}."
        )


# -- CREATE and DELETE ---------------------------------------------------------------------------------------


def test_create_of_a_record_set_that_exists_is_refused():
    with plain_moto() as plain:
        plain.apply(change("CREATE", NAME, "A", "192.0.2.1"))
        plain.apply(change("CREATE", NAME, "A", "192.0.2.2"))  # moto keeps two record sets
        assert len(plain.records()) == 2
    with strict() as (_, zone):
        zone.apply(change("CREATE", NAME, "A", "192.0.2.1"))
        assert zone.refused(change("CREATE", NAME, "A", "192.0.2.2")) == (
            "InvalidChangeBatch", f"Tried to create resource record set [name='{NAME}.', type='A'] but it already exists"
        )
        zone.apply(change("UPSERT", NAME, "A", "192.0.2.2"))
        assert zone.records() == {(f"{NAME}.", "A", ("192.0.2.2",))}


def test_delete_of_a_record_set_that_does_not_exist_is_refused(zone: Zone):
    assert zone.refused(change("DELETE", NAME, "A", "192.0.2.1")) == (
        "InvalidChangeBatch", f"Tried to delete resource record set [name='{NAME}.', type='A'] but it was not found"
    )


def test_delete_with_values_that_are_not_the_current_ones_is_refused():
    with plain_moto() as plain:
        plain.apply(change("UPSERT", NAME, "CNAME", "a.example.com"))
        plain.apply(change("UPSERT", NAME, "CNAME", "b.example.com"))
        plain.apply(change("DELETE", NAME, "CNAME", "a.example.com"))  # moto deletes the current record set
        assert plain.records() == set()
    with strict() as (_, zone):
        zone.apply(change("UPSERT", NAME, "CNAME", "a.example.com"))
        zone.apply(change("UPSERT", NAME, "CNAME", "b.example.com"))
        message = f"Tried to delete resource record set [name='{NAME}.', type='CNAME'] but the values provided do not match the current values"
        assert zone.refused(change("DELETE", NAME, "CNAME", "a.example.com")) == ("InvalidChangeBatch", message)
        assert zone.refused(change("DELETE", NAME, "CNAME", "b.example.com", ttl=300)) == ("InvalidChangeBatch", message)
        zone.apply(change("DELETE", NAME, "CNAME", "b.example.com"))
        assert zone.records() == set()


# -- a batch is atomic -----------------------------------------------------------------------------------------


def test_one_refused_change_refuses_the_whole_batch(zone: Zone):
    zone.apply(change("CREATE", NAME, "TXT", '"x"'))
    code, _ = zone.refused(change("UPSERT", f"other.{ZONE}", "A", "192.0.2.1"), change("UPSERT", NAME, "CNAME", "a.example.com"))
    assert code == "InvalidChangeBatch"
    assert zone.records() == {(f"{NAME}.", "TXT", ('"x"',))}


def test_a_batch_moto_refuses_halfway_leaves_the_zone_as_it_was():
    with plain_moto() as plain:
        plain.refused(change("UPSERT", f"other.{ZONE}", "A", "192.0.2.1"), change("RENAME", NAME, "A", "192.0.2.1"))
        assert plain.records() == {(f"other.{ZONE}.", "A", ("192.0.2.1",))}  # moto applied the first change
    with strict() as (_, zone):
        code, _ = zone.refused(change("UPSERT", f"other.{ZONE}", "A", "192.0.2.1"), change("RENAME", NAME, "A", "192.0.2.1"))
        assert code == "InvalidInput"
        assert zone.records() == set()
        zone.apply(change("CREATE", f"other.{ZONE}", "A", "192.0.2.1"))  # nor is it remembered as made


# -- resolution --------------------------------------------------------------------------------------------------


@pytest.fixture
def databases(aws: Emulator) -> dict[str, str]:
    """An instance and a cluster, settled; their endpoint addresses."""
    rds = aws.client("rds")
    with aws.settled():
        instance = rds.create_db_instance(DBInstanceIdentifier="ledger-1", DBInstanceClass="db.t3.micro", Engine="postgres",
                                          MasterUsername="trapheus", MasterUserPassword="not-a-secret-1", AllocatedStorage=20)  # fmt: skip
        cluster = rds.create_db_cluster(DBClusterIdentifier="orders", Engine="aurora-postgresql", MasterUsername="trapheus",
                                        MasterUserPassword="not-a-secret-1")["DBCluster"]  # fmt: skip
    address = rds.describe_db_instances(DBInstanceIdentifier="ledger-1")["DBInstances"][0]["Endpoint"]["Address"]
    assert instance
    return {"instance": address, "cluster": cluster["Endpoint"], "reader": cluster["ReaderEndpoint"]}


def test_a_name_resolves_to_the_database_its_cname_reaches(aws: Emulator, zone: Zone, databases: dict[str, str]):
    zone.apply(change("UPSERT", NAME, "CNAME", databases["instance"]))
    aws.settle()
    found = aws.resolve(zone.id, NAME.upper() + ".")
    assert (found.kind, found.identifier, found.chain) == ("instance", "ledger-1", (databases["instance"] + ".",))
    zone.apply(change("UPSERT", NAME, "CNAME", databases["reader"]))
    aws.settle()
    assert (aws.resolve(zone.id, NAME).kind, aws.resolve(zone.id, NAME).identifier) == ("cluster-reader", "orders")


def test_a_name_answers_its_previous_value_until_the_change_is_in_sync(aws: Emulator, zone: Zone, databases: dict[str, str]):
    zone.apply(change("UPSERT", NAME, "CNAME", databases["instance"]))
    assert aws.resolve(zone.id, NAME) is None  # not yet propagated: the name does not exist yet
    aws.clock.advance(strict_route53.PROPAGATION_SECONDS)
    zone.apply(change("UPSERT", NAME, "CNAME", databases["cluster"]))
    assert aws.resolve(zone.id, NAME).identifier == "ledger-1"
    aws.clock.advance(strict_route53.PROPAGATION_SECONDS)
    assert (aws.resolve(zone.id, NAME).kind, aws.resolve(zone.id, NAME).identifier) == ("cluster", "orders")


def test_a_cname_chain_in_the_account_is_followed(aws: Emulator, zone: Zone, databases: dict[str, str]):
    zone.apply(change("UPSERT", NAME, "CNAME", f"current.{ZONE}"), change("UPSERT", f"current.{ZONE}", "CNAME", databases["cluster"]))
    aws.settle()
    found = aws.resolve(zone.id, NAME)
    assert (found.identifier, found.chain) == ("orders", (f"current.{ZONE}.", databases["cluster"] + "."))


def test_a_cname_to_a_name_that_does_not_resolve_is_accepted_and_resolves_to_nothing(aws: Emulator, zone: Zone):
    zone.apply(change("UPSERT", NAME, "CNAME", "gone.abcdefghijkl.us-east-1.rds.amazonaws.com"))
    aws.settle()
    assert aws.resolve(zone.id, NAME) is None
