"""KMS keys and sharing: which keys RDS cannot share, and what a key policy must say for a DR account to copy.

A snapshot encrypted with the AWS managed key ``aws/rds`` cannot be shared at all; one encrypted with a customer
managed key can, but the DR account copies it only if the key's policy lets it use the key
(https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_ShareSnapshot.html#USER_ShareSnapshot.Encrypted).
"""

from __future__ import annotations

import json
from typing import Any

from botocore.exceptions import ClientError

# What the DR account needs on the source key: RDS creates a grant to decrypt the shared snapshot while it copies.
DR_KEY_ACTIONS = ("kms:CreateGrant", "kms:Decrypt", "kms:DescribeKey")


def is_aws_managed(key_id: str | None, kms: Any) -> bool:
    if not key_id:
        return False
    try:
        return kms.describe_key(KeyId=key_id)["KeyMetadata"].get("KeyManager") == "AWS"
    except ClientError:
        return False


def partition_of(arn: str) -> str:
    """The partition an ARN names (aws, aws-cn, aws-us-gov); ``aws`` for a bare key id."""
    parts = str(arn).split(":")
    return parts[1] if len(parts) > 1 and parts[0] == "arn" and parts[1] else "aws"


def statement_for(accounts: list[str], key_arn: str = "") -> dict[str, Any]:
    """The key policy statement that lets ``accounts`` copy snapshots shared with them (in the key's partition)."""
    partition = partition_of(key_arn)
    return {
        "Sid": "LetTheDrAccountsCopySharedSnapshots",
        "Effect": "Allow",
        "Principal": {"AWS": [f"arn:{partition}:iam::{account}:root" for account in accounts]},
        "Action": list(DR_KEY_ACTIONS),
        "Resource": "*",
    }


def _principals(statement: dict) -> list[str]:
    principal = statement.get("Principal")
    if principal == "*":
        return ["*"]
    names = principal.get("AWS", []) if isinstance(principal, dict) else []
    return [names] if isinstance(names, str) else list(names)


def _is_principal_of(name: str, account: str) -> bool:
    parts = name.split(":")
    return len(parts) >= 6 and parts[0] == "arn" and parts[2] == "iam" and parts[4] == account


def accounts_left_out(key_id: str, accounts: list[str], kms: Any) -> list[str]:
    """The accounts the key's policy does not let copy (all of them when the policy cannot be read)."""
    try:
        policy = json.loads(kms.get_key_policy(KeyId=key_id, PolicyName="default")["Policy"])
    except (ClientError, ValueError):
        return list(accounts)
    statements = policy.get("Statement", [])
    statements = statements if isinstance(statements, list) else [statements]
    missing = []
    for account in accounts:
        granted: set[str] = set()
        for statement in statements:
            if statement.get("Effect") != "Allow":
                continue
            if not any(name in ("*", account) or _is_principal_of(name, account) for name in _principals(statement)):
                continue
            actions = statement.get("Action", [])
            granted.update([actions] if isinstance(actions, str) else actions)
        if not ({"*", "kms:*"} & granted or set(DR_KEY_ACTIONS) <= granted):
            missing.append(account)
    return missing
