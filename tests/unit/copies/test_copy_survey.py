"""The copy survey: where a copy's configuration comes from when its source is not in this account (a DR copy)."""

from __future__ import annotations

import json
from datetime import datetime, timezone

from support.rds_fixtures import make_instance
from trapheus import databases
from trapheus.copies.request import parse
from trapheus.copies.survey import survey
from trapheus.errors import InvalidInputError
from trapheus.kinds import INSTANCE
from trapheus_local.resources import ACCOUNT_ID

BUCKET = "trapheus-dr-catalog"
STARTED = datetime(2026, 11, 30, 4, 12, tzinfo=timezone.utc)


def _dr_snapshot(strict_aws, source: str = "orders") -> tuple[str, dict]:
    """A snapshot whose database is gone (as in a DR account), tagged as the DR copy workflow tags its copies."""
    rds = strict_aws.client("rds")
    with strict_aws.settled():
        make_instance(rds, strict_aws.client("ec2"), source, DeletionProtection=False)
        rds.create_db_snapshot(DBInstanceIdentifier=source, DBSnapshotIdentifier=f"{source}-dr-copy",
                               Tags=[{"Key": "trapheus:source", "Value": source}, {"Key": "trapheus:source-account", "Value": ACCOUNT_ID}])
    strict_aws.settle()
    captured = databases.capture(INSTANCE, source, rds)
    with strict_aws.settled():
        rds.delete_db_instance(DBInstanceIdentifier=source, SkipFinalSnapshot=True)
    strict_aws.settle()
    arn = rds.describe_db_snapshots(DBSnapshotIdentifier=f"{source}-dr-copy")["DBSnapshots"][0]["DBSnapshotArn"]
    return arn, captured


def test_a_dr_copy_takes_the_configuration_recorded_beside_it(strict_aws):
    arn, captured = _dr_snapshot(strict_aws)
    s3 = strict_aws.client("s3")
    s3.create_bucket(Bucket=BUCKET)
    s3.put_object(Bucket=BUCKET, Key=f"configurations/{ACCOUNT_ID}/instance/orders/orders-dr-copy.json",
                  Body=json.dumps({"configuration": captured}).encode())

    found = survey(parse({"isCluster": False, "lifecycle": "orders-dr", "action": "drill", "from": {"snapshot": arn}}), STARTED,
                   environ={"DR_CATALOG_BUCKET": BUCKET, "PASSABLE_ROLE_ARNS": "arn:aws:iam::123456789012:role/rds-monitoring"})

    assert found.blockers == [] and found.configuration_from == "DR configuration record"
    assert found.configuration["settings"]["DBSubnetGroupName"] == captured["settings"]["DBSubnetGroupName"]
    assert found.configuration["settings"]["DBInstanceClass"] == captured["settings"]["DBInstanceClass"]


def test_without_a_record_or_a_configuration_the_dr_copy_is_refused_with_the_way_out(strict_aws):
    arn, _ = _dr_snapshot(strict_aws, "ledgerdb")

    found = survey(parse({"isCluster": False, "lifecycle": "ledgerdb-dr", "action": "new", "from": {"snapshot": arn}}), STARTED,
                   environ={})

    (blocker,) = found.blockers
    assert isinstance(blocker, InvalidInputError) and "give 'configuration'" in str(blocker)


def test_a_copy_that_would_carry_more_tags_than_rds_keeps_is_refused_before_any_change(strict_aws):
    rds = strict_aws.client("rds")
    with strict_aws.settled():
        make_instance(rds, strict_aws.client("ec2"), "tagful", Tags=[{"Key": f"k{n:02d}", "Value": "v"} for n in range(47)])
        rds.create_db_snapshot(DBInstanceIdentifier="tagful", DBSnapshotIdentifier="tagful-now")
    strict_aws.settle()
    request = parse({"source": "tagful", "isCluster": False, "lifecycle": "tagful-dev", "action": "new"})

    found = survey(request, STARTED, environ={"PASSABLE_ROLE_ARNS": "arn:aws:iam::123456789012:role/rds-monitoring"})

    assert [b for b in found.blockers if "at most 50" in str(b)], found.blockers
