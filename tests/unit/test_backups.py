"""The backup workflow's domain code: the policy, the selection, when a snapshot is due, names, retention,
quotas, key policies, the report."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from trapheus.backups import keys, quota, report, retention, schedule
from trapheus.backups.policy import BackupPolicy, Keep, parse_policy
from trapheus.backups.selection import select
from trapheus.errors import InvalidInputError
from trapheus.kinds import CLUSTER, INSTANCE

REGION = "us-east-1"
NOW = datetime(2026, 3, 1, 12, 0, tzinfo=timezone.utc)
VALID = {
    "policy": "hourly",
    "select": {"pattern": "^orders-", "tags": {"backup": "hourly"}, "identifiers": ["Ledger"]},
    "everyMinutes": 60,
    "keep": {"count": 24, "days": 1},
    "shareWith": ["111122223333"],
    "shareKmsKeyId": "arn:aws:kms:us-east-1:123456789012:key/0d1e2f3a-1111-2222-3333-444455556666",
    "copyTo": [{"region": "us-west-2", "kmsKeyId": "arn:aws:kms:us-west-2:123456789012:key/1a2b3c4d-1111-2222-3333-444455556666"}],
}


def with_(**changes: Any) -> dict[str, Any]:
    data = json.loads(json.dumps(VALID))
    for key, value in changes.items():
        if value is None:
            data.pop(key)
        else:
            data[key] = value
    return data


# -- the policy ----------------------------------------------------------------------------------------------


def test_a_valid_policy_round_trips_through_the_workflow_state():
    policy = parse_policy(VALID, region=REGION, own_account="123456789012")
    assert policy.select.identifiers == ("ledger",)  # stored in lower case, as RDS does
    assert BackupPolicy.from_dict(json.loads(json.dumps(policy.to_dict()))) == policy


@pytest.mark.parametrize(
    ("changes", "says"),
    [
        ({"surprise": 1}, "unknown field(s) surprise"),
        ({"select": {"pattern": "^x", "tag": {}}}, "unknown field(s) tag in 'select'"),
        ({"keep": {"count": 1, "weeks": 2}}, "unknown field(s) weeks in 'keep'"),
        ({"copyTo": [{"region": "us-west-2", "kmsKeyId": VALID["copyTo"][0]["kmsKeyId"], "key": 1}]}, "in 'copyTo[0]'"),
        ({"policy": None}, "missing required field 'policy'"),
        ({"policy": "Hourly"}, "'policy'"),
        ({"policy": "a-much-too-long-policy-name"}, "'policy'"),
        ({"select": {}}, "'select' needs at least one"),
        ({"select": {"pattern": "(unclosed"}}, "is not a regular expression"),
        ({"select": {"tags": {"backup": 1}}}, "'select.tags'"),
        ({"select": {"identifiers": ["bad--name"]}}, "not a valid RDS identifier"),
        ({"everyMinutes": 5}, "'everyMinutes' must be a whole number from 15"),
        ({"everyMinutes": True}, "'everyMinutes'"),
        ({"keep": {"days": 3}}, "'keep.count' is required"),
        ({"keep": {"count": 0}}, "'keep.count'"),
        ({"keep": {"count": 1, "days": -1}}, "'keep.days'"),
        ({"shareWith": ["1234"]}, "not a 12-digit AWS account ID"),
        ({"shareWith": ["123456789012"]}, "names this account"),
        ({"shareKmsKeyId": "alias/mine"}, "'shareKmsKeyId' must be the ARN"),
        ({"shareKmsKeyId": VALID["copyTo"][0]["kmsKeyId"]}, "KMS keys are regional"),
        ({"copyTo": [{"region": "us-east-1", "kmsKeyId": VALID["shareKmsKeyId"]}]}, "is this Region"),
        ({"copyTo": [{"region": "us-west-2"}]}, "'copyTo[0].kmsKeyId' is required"),
        ({"copyTo": [{"region": "us-west-2", "kmsKeyId": VALID["shareKmsKeyId"]}]}, "KMS keys are regional"),
        ({"copyTo": [{"region": "mars-1", "kmsKeyId": "x"}]}, "an AWS Region"),
    ],
)
def test_every_field_is_checked_and_a_bad_one_named(changes, says):
    with pytest.raises(InvalidInputError) as refused:
        parse_policy(with_(**changes), region=REGION, own_account="123456789012")
    assert says in str(refused.value)


def test_the_input_must_be_an_object():
    with pytest.raises(InvalidInputError, match="JSON object"):
        parse_policy(["hourly"], region=REGION)


# -- the selection ---------------------------------------------------------------------------------------------


def _instance(rds: Any, identifier: str, **settings: Any) -> None:
    rds.create_db_instance(DBInstanceIdentifier=identifier, DBInstanceClass="db.t3.micro", Engine="postgres",
                           MasterUsername="trapheus", MasterUserPassword="not-a-secret-1", AllocatedStorage=20, **settings)


def test_the_selection_pages_through_every_database_and_reads_tags_from_the_describe_results(shimmed_aws):
    rds = shimmed_aws.client("rds")
    for number in range(105):  # more than one page of DescribeDBInstances (100)
        _instance(rds, f"orders-{number:03d}", Tags=[{"Key": "backup", "Value": "hourly"}])
    _instance(rds, "orders-untagged")
    chosen, missing = select(parse_policy({**VALID, "select": {"pattern": "^orders-", "tags": {"backup": "hourly"}}},
                                          region=REGION).select, rds)
    assert len(chosen) == 105 and missing == []
    assert [database.identifier for database in chosen][:2] == ["orders-000", "orders-001"]


def test_only_identifiers_select_only_those_and_missing_ones_are_named(shimmed_aws):
    rds = shimmed_aws.client("rds")
    _instance(rds, "ledger-db")
    _instance(rds, "other-db")
    chosen, missing = select(parse_policy({**VALID, "select": {"identifiers": ["ledger-db", "gone-db"]}},
                                          region=REGION).select, rds)
    assert [database.identifier for database in chosen] == ["ledger-db"]
    assert [(m.identifier, "no such" in m.reason) for m in missing] == [("gone-db", True)]


# -- when a snapshot is due, and its name -------------------------------------------------------------------------


@pytest.mark.parametrize(("every", "tolerance"), [(15, 90), (60, 360), (1440, 600), (10, 60)])
def test_the_tolerance_is_a_tenth_of_the_period_between_one_and_ten_minutes(every, tolerance):
    assert schedule.tolerance_seconds(every) == tolerance


def test_a_schedule_of_the_same_period_never_skips_a_beat_and_a_repeated_run_takes_nothing():
    taken = NOW - timedelta(minutes=60) + timedelta(seconds=40)  # the last run started a little late
    assert schedule.is_due(taken, NOW, 60)  # 59 min 20 s: due all the same
    assert not schedule.is_due(NOW - timedelta(minutes=1), NOW, 60)
    assert not schedule.is_due(NOW - timedelta(minutes=53), NOW, 60)
    assert schedule.is_due(None, NOW, 60)


def test_names_carry_the_identifier_policy_and_time_and_fit_their_limit():
    assert schedule.snapshot_name("orders-db", "hourly", NOW, is_cluster=False) == "orders-db-hourly-20260301-1200"
    long_cluster = "c" * 63
    name = schedule.snapshot_name(long_cluster, "hourly", NOW, is_cluster=True)
    stage = schedule.stage_name(name)
    assert len(name) <= 57 and len(stage) <= 63 and name.startswith("c" * 40)
    other = schedule.snapshot_name(long_cluster, "hourly", NOW + timedelta(hours=1), is_cluster=True)
    assert other != name  # the hash keeps them apart


# -- retention ---------------------------------------------------------------------------------------------------


def _snapshot(name: str, hours_ago: float, status: str = "available") -> dict[str, Any]:
    created = (NOW - timedelta(hours=hours_ago)).isoformat()
    return {"DBSnapshotIdentifier": name, "Status": status, "TagList": [{"Key": "trapheus:created", "Value": created}]}


def test_retention_keeps_the_newest_count_and_anything_younger_than_days():
    snapshots = [_snapshot(f"s{hours}", hours) for hours in (1, 2, 30, 40, 50)]
    pruned = retention.to_prune(snapshots, Keep(count=2, days=1), NOW)
    assert [s["DBSnapshotIdentifier"] for s in pruned] == ["s30", "s40", "s50"]
    assert retention.to_prune(snapshots, Keep(count=2, days=3), NOW) == []


def test_retention_never_removes_the_newest_available_snapshot_nor_one_still_being_made():
    snapshots = [_snapshot("new", 0.1, "creating"), _snapshot("last-good", 30), _snapshot("older", 40, "creating")]
    assert retention.to_prune(snapshots, Keep(count=1, days=0), NOW) == []


# -- quotas, keys and the report -------------------------------------------------------------------------------------


def test_a_quota_without_room_says_which_policy_holds_how_many(strict_aws):
    rds = strict_aws.client("rds")
    with strict_aws.settled():
        _instance(rds, "orders-db")
        for name, policy in (("a", "hourly"), ("b", "hourly"), ("c", "daily"), ("d", None)):
            tags = [{"Key": "trapheus:policy", "Value": policy}] if policy else []
            rds.create_db_snapshot(DBInstanceIdentifier="orders-db", DBSnapshotIdentifier=name, Tags=tags)
    from trapheus_local.strict_rds import Quotas

    strict_aws.emulator.strict.quotas = Quotas(manual_snapshots=4)
    message = quota.shortfall(INSTANCE, 1, rds=rds)
    assert message.startswith("ManualSnapshots: 4 of 4 used (hourly 2, daily 1, not made by trapheus 1)")
    assert quota.shortfall(CLUSTER, 1, rds=rds) is None


def test_the_key_policy_check_names_the_accounts_left_out(strict_aws):
    kms = strict_aws.client("kms")
    policy = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:root"}, "Action": "kms:*", "Resource": "*"},
        {"Effect": "Allow", "Principal": {"AWS": ["arn:aws:iam::111122223333:root"]}, "Resource": "*",
         "Action": ["kms:CreateGrant", "kms:Decrypt", "kms:DescribeKey"]},
        {"Effect": "Allow", "Principal": {"AWS": "444455556666"}, "Action": ["kms:Decrypt"], "Resource": "*"},
    ]}
    key = kms.create_key(Policy=json.dumps(policy))["KeyMetadata"]["Arn"]
    assert keys.accounts_left_out(key, ["111122223333", "444455556666", "777788889999"], kms) == [
        "444455556666", "777788889999"]
    statement = keys.statement_for(["444455556666"])
    assert statement["Principal"] == {"AWS": ["arn:aws:iam::444455556666:root"]}
    assert set(statement["Action"]) == {"kms:CreateGrant", "kms:Decrypt", "kms:DescribeKey"}
    # a key of another partition gets principals of that partition
    china = keys.statement_for(["444455556666"], "arn:aws-cn:kms:cn-north-1:123456789012:key/1a2b3c4d")
    assert china["Principal"] == {"AWS": ["arn:aws-cn:iam::444455556666:root"]}
    assert keys.is_aws_managed(kms.describe_key(KeyId="alias/aws/rds")["KeyMetadata"]["Arn"], kms)
    assert not keys.is_aws_managed(key, kms)


def test_the_recovery_point_is_the_dr_copys_source_time_where_known_else_the_sources():
    items = [
        {"identifier": "a-db", "isCluster": False, "outcome": "snapshot", "newestSourceTime": (NOW - timedelta(minutes=5)).isoformat()},
        {"identifier": "b-db", "isCluster": False, "outcome": "skipped", "newestSourceTime": (NOW - timedelta(hours=3)).isoformat()},
        {"identifier": "c-db", "isCluster": True, "outcome": "failed", "reason": "boom", "newestSourceTime": None},
    ]
    dr = {report.dr_key("123456789012", False, "a-db"): {"sourceTime": (NOW - timedelta(minutes=70)).isoformat()}}
    measured = report.with_recovery_points(items, 60, "123456789012", NOW, dr)
    assert [(m["rpoSeconds"], m["rpoMeasuredAt"], m["rpoExceeded"]) for m in measured] == [
        (4200, "dr", False), (10800, "source", True), (None, None, True)]
    summary = report.summary({"policy": "hourly", "everyMinutes": 60}, measured)
    assert summary["needsAttention"] == ["b-db", "c-db"] and summary["worstRpoSeconds"] == 10800
    built = {"items": measured, "summary": summary}
    cause = report.alert_cause(built)
    assert "c-db: failed: boom" in cause and "b-db: recovery point 180 minutes old (limit 120)" in cause
