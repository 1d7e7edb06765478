"""The copy workflow's input: what is accepted, what each field becomes, and every refusal a person can act on."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from trapheus.copies.configuration import copy_configuration
from trapheus.copies.lifecycle import CopyRecord, copy_identifier, inherited_tags
from trapheus.copies.request import Action, parse
from trapheus.copies.retire import final_snapshot_name, to_retire
from trapheus.errors import InvalidInputError

DNS = {"hostedZoneId": "Z123", "recordName": "ledger-staging.db.example.internal", "ttl": 60}
BASE = {"source": "ledger", "isCluster": True, "lifecycle": "ledger-staging", "action": "refresh", "dns": DNS}


def test_the_issue_example_is_accepted_with_its_defaults():
    request = parse({**BASE, "from": {"snapshot": "latest"}})
    assert request.action is Action.REFRESH and request.origin.snapshot == "latest"
    assert (request.keep, request.final_snapshot, request.approve, request.adopt) == (0, True, False, False)
    assert request.retire_after_seconds == 600, "twice the TTL, at least 10 minutes"
    assert parse({**BASE, "dns": {**DNS, "ttl": 900}}).retire_after_seconds == 1800
    assert parse({**BASE, "retireAfterMinutes": 3}).retire_after_seconds == 180


def test_the_stored_request_reads_back_as_the_same_request():
    request = parse({**BASE, "keep": 2, "modify": {"masterPassword": "rotate", "backupRetentionPeriod": 0}, "approve": True})
    assert parse(request.to_dict()) == request


@pytest.mark.parametrize(("change", "message"), [
    ({"colour": "red"}, "unknown field"),
    ({"action": "copy"}, "'action' must be one of"),
    ({"isCluster": "true"}, "JSON boolean"),
    ({"dns": None}, "'dns'"),
    ({"from": {"clone": True}, "isCluster": False}, "Aurora"),
    ({"from": {"pointInTime": "yesterday"}}, "ISO-8601"),
    ({"from": {"snapshot": "arn:aws:rds:us-east-1:123456789012:snapshot:x"}}, "instance snapshot"),
    ({"lifecycle": "a" * 50}, "characters"),
    ({"lifecycle": "Bad_Name"}, "not a valid RDS identifier"),
    ({"suffix": "a-b"}, "letters and digits"),
    ({"readers": 16}, "from 0 to 15"),
    ({"modify": {"masterPassword": "hunter2"}}, "rotate"),
    ({"modify": {"colour": 1}}, "unknown field"),
    ({"minimumAgeHours": -1}, "0 or more"),
    ({"verify": {"functionArn": "not-an-arn"}}, "Lambda function"),
])
def test_bad_input_is_refused_with_a_message_that_names_the_field(change, message):
    with pytest.raises(InvalidInputError, match=message):
        parse({**BASE, **change})


@pytest.mark.parametrize(("data", "message"), [
    ({"lifecycle": "x", "action": "refresh", "isCluster": False, "source": "x"}, "give 'dns'"),
    ({"lifecycle": "x", "action": "new", "isCluster": False}, "'source' is required"),
    ({"lifecycle": "x", "action": "retire", "isCluster": False, "approve": True}, "promotes nothing"),
    ({"lifecycle": "x", "action": "modify", "isCluster": False}, "needs 'modify'"),
    ({"lifecycle": "x", "action": "verify", "isCluster": False}, "needs 'verify'"),
    ({"lifecycle": "x", "action": "new", "isCluster": False, "source": "x", "keep": 1}, "retire stage"),
    ({"lifecycle": "x", "action": "retire", "isCluster": False, "from": {"snapshot": "latest"}}, "makes none"),
    ({"lifecycle": "x", "action": "drill", "isCluster": False, "source": "x", "dns": DNS}, "drill"),
    ({"lifecycle": "x", "action": "new", "isCluster": False, "source": "x", "configuration": {"port": 5432}}, "ARN"),
    ({"lifecycle": "x", "action": "new", "isCluster": False, "source": "x", "copy": "x-1"}, "existing copy"),
])
def test_combinations_that_cannot_work_are_refused(data, message):
    with pytest.raises(InvalidInputError, match=message):
        parse(data)


def test_a_snapshot_arn_needs_no_source():
    arn = "arn:aws:rds:us-east-1:123456789012:cluster-snapshot:ledger-dr-copy"
    request = parse({"isCluster": True, "lifecycle": "ledger-dr", "action": "drill", "from": {"snapshot": arn}})
    assert request.source is None and request.origin.snapshot_arn


def test_copy_names_carry_the_minute_and_the_suffix_so_refreshes_of_one_day_do_not_collide():
    morning = datetime(2026, 11, 30, 4, 12, tzinfo=timezone.utc)
    assert copy_identifier("ledger-staging", morning) == "ledger-staging-20261130-0412"
    assert copy_identifier("ledger-staging", morning.replace(hour=16)) == "ledger-staging-20261130-1612"
    assert copy_identifier("ledger-staging", morning, "blue") == "ledger-staging-20261130-0412-blue"


def test_a_copy_drops_trapheus_and_backup_selection_tags():
    kept = inherited_tags([{"Key": "team", "Value": "ledger"}, {"Key": "backup", "Value": "hourly"},
                           {"Key": "trapheus:lifecycle", "Value": "other"}], ["backup"])  # fmt: skip
    assert kept == [{"Key": "team", "Value": "ledger"}]


SOURCE = {
    "kind": "cluster", "resourceId": "cluster-ABC",
    "settings": {"Engine": "aurora-postgresql", "Port": 5433, "DBClusterParameterGroupName": "tuned", "DeletionProtection": True},
    "tags": [{"Key": "backup", "Value": "daily"}, {"Key": "team", "Value": "ledger"}],
    "roles": [], "endpoints": [{"DBClusterEndpointIdentifier": "reporting"}],
    "members": [
        {"identifier": "ledger-1", "writer": True, "settings": {"DBInstanceClass": "db.r6g.xlarge", "PromotionTier": 1}, "tags": []},
        {"identifier": "ledger-2", "writer": False, "settings": {"DBInstanceClass": "db.r6g.large", "PromotionTier": 2}, "tags": []},
    ],
}


def test_a_cluster_copy_gets_the_sources_members_under_its_own_names_with_the_lifecycle_tags():
    started = datetime(2026, 11, 30, 4, 12, tzinfo=timezone.utc)
    request = parse({**BASE, "readers": 2, "modify": {"clusterParameterGroup": "staging", "deletionProtection": False}})
    configuration = copy_configuration(request, "ledger-staging-20261130-0412", SOURCE, started, {})
    members = configuration["members"]
    assert [m["identifier"] for m in members] == [f"ledger-staging-20261130-0412-{n}" for n in (1, 2, 3)]
    assert [m["writer"] for m in members] == [True, False, False]
    assert members[2]["settings"]["DBInstanceClass"] == "db.r6g.large", "a new reader is made like the last reader"
    assert configuration["settings"]["DBClusterParameterGroupName"] == "staging"
    assert configuration["settings"]["Port"] == 5433 and configuration["settings"]["DeletionProtection"] is False
    assert configuration["endpoints"] == [], "custom endpoints stay with the source"
    keys = {t["Key"]: t["Value"] for t in configuration["tags"]}
    assert keys["trapheus:lifecycle"] == "ledger-staging" and keys["trapheus:stage"] == "new" and "backup" not in keys
    assert all({t["Key"] for t in m["tags"]} >= {"trapheus:lifecycle", "trapheus:stage"} for m in members)


def _copy(identifier: str, stage: str, created: str) -> CopyRecord:
    return CopyRecord(identifier, False, "l", "s", stage, created, "available", None, None, f"arn:aws:rds:us-east-1:1:db:{identifier}")


def test_retire_keeps_the_newest_retired_copies_and_never_the_promoted_one():
    copies = [_copy("l-4", "promoted", "2026-11-30T04"), _copy("l-3", "retired", "2026-11-30T03"),
              _copy("l-2", "retired", "2026-11-30T02"), _copy("l-1", "retired", "2026-11-30T01")]  # fmt: skip
    assert [c.identifier for c in to_retire(copies, keep=1)] == ["l-2", "l-1"]
    assert [c.identifier for c in to_retire(copies, keep=0)] == ["l-3", "l-2", "l-1"]
    assert "l-4" not in [c.identifier for c in to_retire(copies, keep=0, assume_retired=[])]


def test_final_snapshot_names_fit_the_cluster_snapshot_limit_and_keep_their_prefix():
    long_copy = CopyRecord("a" * 60, True, "l", "s", "retired", "", "available", None, None, "arn")
    name = final_snapshot_name(long_copy)
    assert len(name) <= 63 and name.startswith("final-")


def test_a_rotated_password_replaces_rds_management_of_the_sources():
    managed = {**SOURCE, "settings": {**SOURCE["settings"], "ManageMasterUserPassword": True, "MasterUserSecretKmsKeyId": "k"}}
    started = datetime(2026, 11, 30, 4, 12, tzinfo=timezone.utc)
    rotated = copy_configuration(parse({**BASE, "modify": {"masterPassword": "rotate"}}), "c-20261130-0412", managed, started, {})
    kept = copy_configuration(parse(BASE), "c-20261130-0412", managed, started, {})
    assert "ManageMasterUserPassword" not in rotated["settings"] and "MasterUserSecretKmsKeyId" not in rotated["settings"]
    assert kept["settings"]["ManageMasterUserPassword"] is True


def test_more_dns_names_than_a_tag_can_hold_are_refused():
    names = [{"hostedZoneId": "Z123", "recordName": f"name-{n:02d}-{'x' * 40}.db.example.internal"} for n in range(6)]
    with pytest.raises(InvalidInputError, match="fewer"):
        parse({**BASE, "dns": names})
