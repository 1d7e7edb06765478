"""A table's settings: captured before a backup or a replace, replayed onto the table a restore creates.

Captured: keys and attribute definitions, GSIs and LSIs with their projections, billing mode
and capacity, table class, encryption, streams, TTL, point-in-time recovery, tags, Application
Auto Scaling targets and policies, contributor insights, deletion protection, the resource
policy, replicas (global tables are refused) and the CloudWatch alarms on the table (listed,
not carried).

Replayed in two parts. What CreateTable takes goes into the CreateTable call
(:func:`create_arguments`). The rest is applied by :func:`configure`, which is idempotent and
makes at most one UpdateTable call per invocation (DynamoDB allows one table update at a
time): the workflow waits for ACTIVE and calls it again until it answers ``configured``.
RestoreTableFromBackup drops tags, streams, TTL, auto scaling and PITR
(https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_RestoreTableFromBackup.html),
so a rollback replays the captured original the same way.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError

from trapheus import clients
from trapheus.errors import TableNotFoundError, TableRestoreError, ThrottlingError
from trapheus.throttling import aws_errors, error_code, is_throttling

RESERVED_TAG_PREFIX = "aws:"
AUTO_SCALING_ALARM_PREFIX = "TargetTracking-table/"  # alarms Application Auto Scaling makes for its policies
ENABLED_STATUSES = ("ENABLED", "ENABLING")
MAX_TAGS = 50


def _client(name: str, given: Any) -> Any:
    return given or clients.client(name)


def _plain(value: Any) -> Any:
    """JSON-able copy of an API answer (datetimes as ISO text)."""
    if isinstance(value, dict):
        return {key: _plain(inner) for key, inner in value.items()}
    if isinstance(value, list):
        return [_plain(inner) for inner in value]
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def describe(table: str, dynamodb: Any = None) -> dict[str, Any] | None:
    """DescribeTable's ``Table``, or None when there is no such table."""
    try:
        return _client("dynamodb", dynamodb).describe_table(TableName=table)["Table"]
    except ClientError as error:
        if error_code(error) == "ResourceNotFoundException":
            return None
        if is_throttling(error):
            raise ThrottlingError(f"describing {table}: {error}") from error
        raise


def require(table: str, dynamodb: Any = None) -> dict[str, Any]:
    description = describe(table, dynamodb)
    if description is None:
        raise TableNotFoundError(f"table {table!r} does not exist")
    return description


def tags_of(arn: str, dynamodb: Any = None) -> list[dict[str, str]]:
    client, tags, token = _client("dynamodb", dynamodb), [], None
    while True:
        with aws_errors(TableRestoreError, f"reading the tags of {arn}"):
            page = client.list_tags_of_resource(ResourceArn=arn, **({"NextToken": token} if token else {}))
        tags += page.get("Tags", [])
        token = page.get("NextToken")
        if not token:
            return tags


def _index(index: dict[str, Any], provisioned: bool) -> dict[str, Any]:
    kept = {key: index[key] for key in ("IndexName", "KeySchema", "Projection") if key in index}
    throughput = index.get("ProvisionedThroughput") or {}
    if provisioned and throughput.get("ReadCapacityUnits"):
        kept["ProvisionedThroughput"] = {k: throughput[k] for k in ("ReadCapacityUnits", "WriteCapacityUnits")}
    if index.get("OnDemandThroughput"):
        kept["OnDemandThroughput"] = index["OnDemandThroughput"]
    return kept


def _relative_resource(resource_id: str, table: str) -> str:
    """``table/orders/index/by-day`` -> ``index/by-day``; ``table/orders`` -> ``""``."""
    return resource_id[len(f"table/{table}") :].lstrip("/")


def _auto_scaling(table: str, autoscaling: Any) -> dict[str, list[dict[str, Any]]]:
    client = _client("application-autoscaling", autoscaling)
    targets, policies = [], []
    with aws_errors(TableRestoreError, f"reading the auto scaling of {table}"):
        for page in client.get_paginator("describe_scalable_targets").paginate(ServiceNamespace="dynamodb"):
            for target in page.get("ScalableTargets", []):
                resource = target["ResourceId"]
                if resource == f"table/{table}" or resource.startswith(f"table/{table}/index/"):
                    targets.append({"resource": _relative_resource(resource, table), "dimension": target["ScalableDimension"],
                                    "min": target["MinCapacity"], "max": target["MaxCapacity"]})  # fmt: skip
        for target in targets:
            resource_id = f"table/{table}" + (f"/{target['resource']}" if target["resource"] else "")
            pages = client.get_paginator("describe_scaling_policies").paginate(
                ServiceNamespace="dynamodb", ResourceId=resource_id, ScalableDimension=target["dimension"]
            )
            for page in pages:
                for policy in page.get("ScalingPolicies", []):
                    entry = {"name": policy["PolicyName"], "resource": target["resource"], "dimension": target["dimension"],
                             "type": policy["PolicyType"]}  # fmt: skip
                    if policy.get("TargetTrackingScalingPolicyConfiguration"):
                        entry["targetTracking"] = policy["TargetTrackingScalingPolicyConfiguration"]
                    policies.append(entry)
    return {"targets": targets, "policies": policies}


def _contributor_insights(table: str, indexes: list[str], dynamodb: Any) -> dict[str, str]:
    client = _client("dynamodb", dynamodb)
    found = {}
    for index in [None, *indexes]:
        arguments = {"TableName": table, **({"IndexName": index} if index else {})}
        with aws_errors(TableRestoreError, f"reading the contributor insights of {table}"):
            status = client.describe_contributor_insights(**arguments).get("ContributorInsightsStatus", "DISABLED")
        found[index or ""] = "ENABLED" if status in ENABLED_STATUSES else "DISABLED"
    return found


def _resource_policy(arn: str, dynamodb: Any) -> str | None:
    try:
        return _client("dynamodb", dynamodb).get_resource_policy(ResourceArn=arn).get("Policy")
    except ClientError as error:
        if error_code(error) == "PolicyNotFoundException":
            return None
        with aws_errors(TableRestoreError, f"reading the resource policy of {arn}"):
            raise


def alarms_on(table: str, cloudwatch: Any = None) -> list[str]:
    """CloudWatch alarms watching the table (not those auto scaling makes for itself)."""
    names = []
    with aws_errors(TableRestoreError, f"listing the alarms on {table}"):
        for page in _client("cloudwatch", cloudwatch).get_paginator("describe_alarms").paginate(AlarmTypes=["MetricAlarm"]):
            for alarm in page.get("MetricAlarms", []):
                dimensions = {(d.get("Name"), d.get("Value")) for d in alarm.get("Dimensions", [])}
                if alarm.get("Namespace") == "AWS/DynamoDB" and ("TableName", table) in dimensions \
                        and not alarm["AlarmName"].startswith(AUTO_SCALING_ALARM_PREFIX):  # fmt: skip
                    names.append(alarm["AlarmName"])
    return sorted(names)


def capture(table: str, dynamodb: Any = None, autoscaling: Any = None, cloudwatch: Any = None) -> dict[str, Any]:
    """Everything a restore needs to rebuild ``table`` as it is now (read only)."""
    client = _client("dynamodb", dynamodb)
    described = require(table, client)
    billing = (described.get("BillingModeSummary") or {}).get("BillingMode", "PROVISIONED")
    provisioned = billing == "PROVISIONED"
    sse = described.get("SSEDescription") or {}
    stream = described.get("StreamSpecification") or {}
    with aws_errors(TableRestoreError, f"reading the TTL and backups settings of {table}"):
        ttl = client.describe_time_to_live(TableName=table).get("TimeToLiveDescription") or {}
        backups = client.describe_continuous_backups(TableName=table).get("ContinuousBackupsDescription") or {}
    pitr = backups.get("PointInTimeRecoveryDescription") or {}
    gsis = [_index(index, provisioned) for index in described.get("GlobalSecondaryIndexes") or []]
    settings: dict[str, Any] = {
        "tableName": described["TableName"],
        "tableArn": described["TableArn"],
        "createdAt": _plain(described.get("CreationDateTime")),
        "status": described.get("TableStatus"),
        "keySchema": described["KeySchema"],
        "attributeDefinitions": described["AttributeDefinitions"],
        "billingMode": billing,
        "provisionedThroughput": {k: described["ProvisionedThroughput"][k] for k in ("ReadCapacityUnits", "WriteCapacityUnits")}
        if provisioned else None,
        "onDemandThroughput": described.get("OnDemandThroughput"),
        "globalSecondaryIndexes": gsis,
        "localSecondaryIndexes": [_index(index, False) for index in described.get("LocalSecondaryIndexes") or []],
        "tableClass": (described.get("TableClassSummary") or {}).get("TableClass", "STANDARD"),
        "sse": {"type": sse.get("SSEType", "KMS"), "kmsKeyArn": sse.get("KMSMasterKeyArn")}
        if sse.get("Status") in ("ENABLED", "ENABLING", "UPDATING") else None,
        "stream": {"enabled": bool(stream.get("StreamEnabled")), "viewType": stream.get("StreamViewType")},
        "streamArn": described.get("LatestStreamArn"),
        "ttl": {"enabled": ttl.get("TimeToLiveStatus") in ENABLED_STATUSES, "attributeName": ttl.get("AttributeName")},
        "pointInTimeRecovery": {"enabled": pitr.get("PointInTimeRecoveryStatus") in ENABLED_STATUSES,
                                "recoveryPeriodInDays": pitr.get("RecoveryPeriodInDays")},  # fmt: skip
        "tags": [t for t in tags_of(described["TableArn"], client) if not t["Key"].startswith(RESERVED_TAG_PREFIX)],
        "autoScaling": _auto_scaling(table, autoscaling),
        "contributorInsights": _contributor_insights(table, [g["IndexName"] for g in gsis], client),
        "deletionProtection": bool(described.get("DeletionProtectionEnabled")),
        "resourcePolicy": _resource_policy(described["TableArn"], client),
        "replicas": sorted(r.get("RegionName", "") for r in described.get("Replicas") or []),
        "sizeBytes": described.get("TableSizeBytes", 0),
        "itemCount": described.get("ItemCount", 0),
        "alarms": alarms_on(table, cloudwatch),
    }
    return _plain(settings)


# -- replay ------------------------------------------------------------------------------------------


def user_tags(settings: dict[str, Any], extra: dict[str, str] | None = None) -> list[dict[str, str]]:
    tags = {t["Key"]: t["Value"] for t in settings.get("tags") or []}
    tags.update(extra or {})
    if len(tags) > MAX_TAGS:
        raise TableRestoreError(
            f"{settings.get('tableName')} has {len(settings.get('tags') or [])} tags; with the {len(extra or {})} "
            f"trapheus adds that exceeds DynamoDB's {MAX_TAGS} per table"
        )
    return [{"Key": key, "Value": value} for key, value in sorted(tags.items())]


def create_arguments(settings: dict[str, Any], target: str, extra_tags: dict[str, str]) -> dict[str, Any]:
    """CreateTable arguments that rebuild the captured table under ``target`` (deletion protection comes last)."""
    arguments: dict[str, Any] = {
        "TableName": target,
        "KeySchema": settings["keySchema"],
        "AttributeDefinitions": settings["attributeDefinitions"],
        "BillingMode": settings["billingMode"],
        "TableClass": settings.get("tableClass") or "STANDARD",
        "Tags": user_tags(settings, extra_tags),
        "DeletionProtectionEnabled": False,
    }
    if settings["billingMode"] == "PROVISIONED":
        arguments["ProvisionedThroughput"] = settings["provisionedThroughput"]
    elif settings.get("onDemandThroughput"):
        arguments["OnDemandThroughput"] = settings["onDemandThroughput"]
    if settings.get("globalSecondaryIndexes"):
        arguments["GlobalSecondaryIndexes"] = settings["globalSecondaryIndexes"]
    if settings.get("localSecondaryIndexes"):
        arguments["LocalSecondaryIndexes"] = settings["localSecondaryIndexes"]
    sse = settings.get("sse")
    if sse:
        arguments["SSESpecification"] = {"Enabled": True, "SSEType": sse.get("type") or "KMS",
                                         **({"KMSMasterKeyId": sse["kmsKeyArn"]} if sse.get("kmsKeyArn") else {})}  # fmt: skip
    return arguments


def _retarget_policy(policy: str, source_arn: str, target_arn: str) -> str:
    """The resource policy of the source table, naming the target table (and its indexes, its stream) instead."""
    # the ARN as a whole, then a quote or a path: table/orders must not match table/orders-archive
    return re.sub(re.escape(source_arn) + r'(?=["/])', target_arn, policy)


def _apply_attached(settings: dict[str, Any], target: dict[str, Any], extra_tags: dict[str, str], dynamodb: Any,
                    autoscaling: Any) -> list[str]:  # fmt: skip
    """Everything outside UpdateTable: tags, TTL, PITR, contributor insights, resource policy, auto scaling."""
    client = _client("dynamodb", dynamodb)
    name, arn = target["TableName"], target["TableArn"]
    applied = []
    wanted_tags = user_tags(settings, extra_tags)
    present = {(t["Key"], t["Value"]) for t in tags_of(arn, client)}
    missing = [t for t in wanted_tags if (t["Key"], t["Value"]) not in present]
    with aws_errors(TableRestoreError, f"configuring {name}"):
        if missing:
            client.tag_resource(ResourceArn=arn, Tags=missing)
            applied.append("tags")
        ttl = settings.get("ttl") or {}
        if ttl.get("enabled"):
            current = client.describe_time_to_live(TableName=name).get("TimeToLiveDescription") or {}
            if current.get("TimeToLiveStatus") not in ENABLED_STATUSES:
                client.update_time_to_live(TableName=name, TimeToLiveSpecification={"Enabled": True, "AttributeName": ttl["attributeName"]})
                applied.append("ttl")
        pitr = settings.get("pointInTimeRecovery") or {}
        if pitr.get("enabled"):
            current = client.describe_continuous_backups(TableName=name)["ContinuousBackupsDescription"]
            if (current.get("PointInTimeRecoveryDescription") or {}).get("PointInTimeRecoveryStatus") not in ENABLED_STATUSES:
                specification: dict[str, Any] = {"PointInTimeRecoveryEnabled": True}
                if pitr.get("recoveryPeriodInDays"):
                    specification["RecoveryPeriodInDays"] = pitr["recoveryPeriodInDays"]
                client.update_continuous_backups(TableName=name, PointInTimeRecoverySpecification=specification)
                applied.append("pointInTimeRecovery")
        for index, status in (settings.get("contributorInsights") or {}).items():
            if status == "ENABLED":
                arguments = {"TableName": name, **({"IndexName": index} if index else {})}
                if client.describe_contributor_insights(**arguments).get("ContributorInsightsStatus") not in ENABLED_STATUSES:
                    client.update_contributor_insights(**arguments, ContributorInsightsAction="ENABLE")
                    applied.append(f"contributorInsights:{index or name}")
        if settings.get("resourcePolicy"):
            policy = _retarget_policy(settings["resourcePolicy"], settings["tableArn"], arn)
            current_policy = _resource_policy(arn, client)
            if current_policy is None or json.loads(current_policy) != json.loads(policy):
                client.put_resource_policy(ResourceArn=arn, Policy=policy)
                applied.append("resourcePolicy")
    applied += _apply_auto_scaling(settings, name, autoscaling)
    return applied


def _apply_auto_scaling(settings: dict[str, Any], name: str, autoscaling: Any) -> list[str]:
    wanted = settings.get("autoScaling") or {}
    if not wanted.get("targets"):
        return []
    client = _client("application-autoscaling", autoscaling)
    current = _auto_scaling(name, client)
    have_targets = {(t["resource"], t["dimension"], t["min"], t["max"]) for t in current["targets"]}
    have_policies = {(p["name"], p["resource"], p["dimension"]) for p in current["policies"]}
    applied = []
    with aws_errors(TableRestoreError, f"configuring the auto scaling of {name}"):
        for target in wanted["targets"]:
            resource_id = f"table/{name}" + (f"/{target['resource']}" if target["resource"] else "")
            if (target["resource"], target["dimension"], target["min"], target["max"]) not in have_targets:
                client.register_scalable_target(ServiceNamespace="dynamodb", ResourceId=resource_id,
                                                ScalableDimension=target["dimension"], MinCapacity=target["min"],
                                                MaxCapacity=target["max"])  # fmt: skip
                applied.append(f"autoScalingTarget:{target['dimension']}")
        for policy in wanted.get("policies") or []:
            if (policy["name"], policy["resource"], policy["dimension"]) in have_policies:
                continue
            resource_id = f"table/{name}" + (f"/{policy['resource']}" if policy["resource"] else "")
            arguments: dict[str, Any] = {"PolicyName": policy["name"], "ServiceNamespace": "dynamodb", "ResourceId": resource_id,
                                         "ScalableDimension": policy["dimension"], "PolicyType": policy["type"]}  # fmt: skip
            if policy.get("targetTracking"):
                arguments["TargetTrackingScalingPolicyConfiguration"] = policy["targetTracking"]
            client.put_scaling_policy(**arguments)
            applied.append(f"autoScalingPolicy:{policy['name']}")
    return applied


def _next_table_update(settings: dict[str, Any], target: dict[str, Any]) -> tuple[str, dict[str, Any]] | None:
    """The one UpdateTable change still missing, if any (billing mode, streams, table class, deletion protection)."""
    billing = settings.get("billingMode") or "PROVISIONED"
    if billing != (target.get("BillingModeSummary") or {}).get("BillingMode", "PROVISIONED"):
        change: dict[str, Any] = {"BillingMode": billing}
        if billing == "PROVISIONED":
            change["ProvisionedThroughput"] = settings["provisionedThroughput"]
        return "billingMode", change
    stream = settings.get("stream") or {}
    current_stream = target.get("StreamSpecification") or {}
    if stream.get("enabled") and not current_stream.get("StreamEnabled"):
        return "stream", {"StreamSpecification": {"StreamEnabled": True, "StreamViewType": stream["viewType"]}}
    table_class = settings.get("tableClass") or "STANDARD"
    if table_class != (target.get("TableClassSummary") or {}).get("TableClass", "STANDARD"):
        return "tableClass", {"TableClass": table_class}
    if settings.get("deletionProtection") and not target.get("DeletionProtectionEnabled"):
        return "deletionProtection", {"DeletionProtectionEnabled": True}
    return None


def configure(settings: dict[str, Any], target: str, extra_tags: dict[str, str], dynamodb: Any = None,
              autoscaling: Any = None) -> tuple[str, list[str]]:  # fmt: skip
    """Apply the settings CreateTable or RestoreTableFromBackup left out.

    Returns ("updating", applied) after an UpdateTable call (wait for ACTIVE, then call
    again) or ("configured", applied) when nothing is left to do.
    """
    client = _client("dynamodb", dynamodb)
    described = require(target, client)
    if described.get("TableStatus") != "ACTIVE":
        return "updating", []
    applied = _apply_attached(settings, described, extra_tags, client, autoscaling)
    update = _next_table_update(settings, described)
    if update is None:
        return "configured", applied
    what, arguments = update
    with aws_errors(TableRestoreError, f"updating {what} of {target}"):
        client.update_table(TableName=target, **arguments)
    return "updating", [*applied, what]


def differences(expected: dict[str, Any], actual: dict[str, Any], ignore_tags: tuple[str, ...] = ()) -> list[str]:
    """What the restored table (``actual``) lacks of the captured one (``expected``), as readable lines."""

    def keyed(indexes: list[dict[str, Any]]) -> dict[str, Any]:
        return {i["IndexName"]: (i["KeySchema"], i.get("Projection")) for i in indexes or []}

    def tags(settings: dict[str, Any]) -> dict[str, str]:
        return {t["Key"]: t["Value"] for t in settings.get("tags") or [] if not t["Key"].startswith(ignore_tags or ("\0",))}

    def scaling(settings: dict[str, Any]) -> tuple[set, set]:
        auto = settings.get("autoScaling") or {}
        return ({(t["resource"], t["dimension"], t["min"], t["max"]) for t in auto.get("targets") or []},
                {(p["name"], p["resource"], p["dimension"], json.dumps(p.get("targetTracking"), sort_keys=True))
                 for p in auto.get("policies") or []})  # fmt: skip

    checks = {
        "key schema": lambda s: s.get("keySchema"),
        "attribute definitions": lambda s: sorted(json.dumps(a, sort_keys=True) for a in s.get("attributeDefinitions") or []),
        "billing mode": lambda s: s.get("billingMode"),
        "global secondary indexes": lambda s: keyed(s.get("globalSecondaryIndexes")),
        "local secondary indexes": lambda s: keyed(s.get("localSecondaryIndexes")),
        "table class": lambda s: s.get("tableClass"),
        "encryption": lambda s: (s.get("sse") or {}).get("type"),
        "stream": lambda s: s.get("stream"),
        "time to live": lambda s: s.get("ttl"),
        "point-in-time recovery": lambda s: (s.get("pointInTimeRecovery") or {}).get("enabled"),
        "tags": tags,
        "auto scaling": scaling,
        "contributor insights": lambda s: s.get("contributorInsights"),
        "deletion protection": lambda s: s.get("deletionProtection"),
    }
    return [f"{name}: expected {check(expected)!r}, found {check(actual)!r}"
            for name, check in checks.items() if check(expected) != check(actual)]  # fmt: skip
