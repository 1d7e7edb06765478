"""DynamoDB tables for the table workflow tests: every attribute type, every setting trapheus carries."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from trapheus.tables.codec import canonical_item
from trapheus_local import strict_dynamodb

ACCOUNT = "123456789012"


def item(number: int) -> dict[str, Any]:
    """An item holding every DynamoDB attribute type; numbers at full precision."""
    return {
        "pk": {"S": f"customer-{number % 7}"},
        "sk": {"N": str(number)},
        "total": {"N": f"{number}1234567890123456789012345678.{number % 10}"[:39]},
        "tiny": {"N": f"0.{'0' * 30}{number + 1}"},
        "name": {"S": f"Ørder nº {number} ✓"},
        "blob": {"B": bytes([number % 256, 0, 255]) * 3},
        "paid": {"BOOL": number % 2 == 0},
        "gift": {"NULL": True},
        "lines": {"L": [{"S": "sku-1"}, {"N": "2.50"}, {"M": {"qty": {"N": str(number)}}}, {"L": []}]},
        "address": {"M": {"city": {"S": "Lyon"}, "codes": {"NS": ["69001", "1E1"]}, "raw": {"B": b"\x00\x01"}}},
        "tags": {"SS": ["b", "a", f"t{number}"]},
        "scores": {"NS": ["1.50", "-2", str(number + 3)]},
        "keys": {"BS": [b"\x01\x02", bytes([number % 256])]},
        "expires": {"N": str(4_000_000_000 + number)},
        "day": {"S": f"2026-01-{number % 28 + 1:02d}"},
    }


def items(count: int, start: int = 0) -> list[dict[str, Any]]:
    return [item(n) for n in range(start, start + count)]


def create_table(aws: Any, name: str, *, provisioned: bool = False, settings: bool = False, pitr: bool = False) -> dict:
    """A table keyed (pk, sk); with ``settings``, also a GSI, an LSI, TTL, a stream, tags, PITR, a table class,
    contributor insights, deletion protection, a resource policy, auto scaling (provisioned) and an alarm."""
    dynamodb = aws.client("dynamodb")
    arguments: dict[str, Any] = {
        "TableName": name,
        "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}, {"AttributeName": "sk", "AttributeType": "N"}],
    }
    throughput = {"ReadCapacityUnits": 5, "WriteCapacityUnits": 7}
    arguments.update({"BillingMode": "PROVISIONED", "ProvisionedThroughput": throughput} if provisioned
                     else {"BillingMode": "PAY_PER_REQUEST"})  # fmt: skip
    if settings:
        arguments["AttributeDefinitions"] = [*arguments["AttributeDefinitions"], {"AttributeName": "day", "AttributeType": "S"}]
        gsi = {"IndexName": "by-day", "KeySchema": [{"AttributeName": "day", "KeyType": "HASH"}],
               "Projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["total"]}}  # fmt: skip
        if provisioned:
            gsi["ProvisionedThroughput"] = {"ReadCapacityUnits": 3, "WriteCapacityUnits": 4}
        arguments["GlobalSecondaryIndexes"] = [gsi]
        arguments["LocalSecondaryIndexes"] = [{"IndexName": "by-customer-day", "KeySchema": [
            {"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "day", "KeyType": "RANGE"}],
            "Projection": {"ProjectionType": "KEYS_ONLY"}}]  # fmt: skip
        arguments["StreamSpecification"] = {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"}
        arguments["Tags"] = [{"Key": "team", "Value": "payments"}, {"Key": "cost-centre", "Value": "42"}]
        arguments["TableClass"] = "STANDARD_INFREQUENT_ACCESS"
        arguments["DeletionProtectionEnabled"] = True
    described = dynamodb.create_table(**arguments)["TableDescription"]
    strict_dynamodb.current().settle()
    if settings or pitr:
        dynamodb.update_continuous_backups(TableName=name, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True})
    if settings:
        dynamodb.update_time_to_live(TableName=name, TimeToLiveSpecification={"Enabled": True, "AttributeName": "expires"})
        dynamodb.update_contributor_insights(TableName=name, ContributorInsightsAction="ENABLE")
        dynamodb.put_resource_policy(ResourceArn=described["TableArn"], Policy=json.dumps({
            "Version": "2012-10-17",
            "Statement": [{"Sid": "Reporting", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:role/reporting"},
                           "Action": ["dynamodb:GetItem", "dynamodb:Query"], "Resource": described["TableArn"]}],
        }))  # fmt: skip
        aws.client("cloudwatch").put_metric_alarm(
            AlarmName=f"{name}-throttles", Namespace="AWS/DynamoDB", MetricName="WriteThrottleEvents",
            Dimensions=[{"Name": "TableName", "Value": name}], Statistic="Sum", Period=60, EvaluationPeriods=1,
            Threshold=1, ComparisonOperator="GreaterThanThreshold",
        )  # fmt: skip
        if provisioned:
            autoscaling = aws.client("application-autoscaling")
            autoscaling.register_scalable_target(ServiceNamespace="dynamodb", ResourceId=f"table/{name}",
                                                 ScalableDimension="dynamodb:table:WriteCapacityUnits",
                                                 MinCapacity=7, MaxCapacity=70)  # fmt: skip
            autoscaling.put_scaling_policy(
                PolicyName=f"{name}-writes", ServiceNamespace="dynamodb", ResourceId=f"table/{name}",
                ScalableDimension="dynamodb:table:WriteCapacityUnits", PolicyType="TargetTrackingScaling",
                TargetTrackingScalingPolicyConfiguration={"TargetValue": 65.0, "PredefinedMetricSpecification": {
                    "PredefinedMetricType": "DynamoDBWriteCapacityUtilization"}},
            )  # fmt: skip
    return described


def put_items(aws: Any, table: str, rows: list[dict[str, Any]]) -> None:
    dynamodb = aws.client("dynamodb")
    for start in range(0, len(rows), 25):
        dynamodb.batch_write_item(RequestItems={table: [{"PutRequest": {"Item": row}} for row in rows[start : start + 25]]})


def all_items(aws: Any, table: str) -> list[dict[str, Any]]:
    found, arguments = [], {"TableName": table, "ConsistentRead": True}
    while True:
        page = aws.client("dynamodb").scan(**arguments)
        found += page["Items"]
        if "LastEvaluatedKey" not in page:
            return found
        arguments["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def contents(rows: list[dict[str, Any]]) -> list[bytes]:
    """A table's data, independent of scan order, set order and number spelling."""
    return sorted(canonical_item(row) for row in rows)


def number(row: dict[str, Any], name: str) -> Decimal:
    return Decimal(row[name]["N"])
