"""What the stack's roles may touch: names, KMS keys and passed roles, checked before any change.

The template scopes every mutating RDS permission to ``ManagedDatabasePattern``, grants KMS use only on
``DatabaseKmsKeyArns`` and ``iam:PassRole`` only on ``PassableRoleArns``. A run that needs anything else
would fail with AccessDenied halfway, so the survey names it first.
"""

from __future__ import annotations

import fnmatch
import os
from collections.abc import Iterable, Mapping
from typing import Any

from botocore.exceptions import ClientError

from trapheus.errors import AccessNotGrantedError


def listed(value: str | None) -> list[str]:
    return [item.strip() for item in (value or "").split(",") if item.strip()]


def matches_pattern(name: str, pattern: str) -> bool:
    """IAM resource matching: ``*`` any run of characters, ``?`` one; case-sensitive, as ARNs are."""
    return fnmatch.fnmatchcase(name, pattern)


def names_outside_pattern(names: Iterable[str], environ: Mapping[str, str] | None = None) -> list[AccessNotGrantedError]:
    env = os.environ if environ is None else environ
    pattern = env.get("MANAGED_DATABASE_PATTERN")
    if not pattern:
        return []
    found = []
    for name in dict.fromkeys(names):
        if name != name.lower():
            found.append(AccessNotGrantedError(f"{name!r} is not lower case; RDS stores identifiers in lower case"))
        elif not matches_pattern(name, pattern):
            found.append(AccessNotGrantedError(
                f"{name!r} does not match ManagedDatabasePattern {pattern!r}: the stack's roles may not create, rename or "
                "delete it (widen the pattern, or choose identifiers that match it)"
            ))
    return found


def _is_aws_managed(key: str, kms: Any) -> bool:
    try:
        return kms.describe_key(KeyId=key)["KeyMetadata"].get("KeyManager") == "AWS"
    except ClientError:
        return False


def keys_not_allowed(keys: Mapping[str, str | None], kms: Any, environ: Mapping[str, str] | None = None) -> list[AccessNotGrantedError]:
    """``keys``: what the key is for -> key ARN. AWS managed keys (aws/rds) need no grant of ours."""
    env = os.environ if environ is None else environ
    allowed = set(listed(env.get("DATABASE_KMS_KEY_ARNS")))
    found = []
    for purpose, key in keys.items():
        if not key or key in allowed or _is_aws_managed(key, kms):
            continue
        found.append(AccessNotGrantedError(
            f"the {purpose} is encrypted with KMS key {key}, which is not in DatabaseKmsKeyArns: the restore would be "
            "refused (add the key to DatabaseKmsKeyArns and let the key policy allow the stack's roles)"
        ))
    return found


def roles_not_passable(roles: Mapping[str, str | None], environ: Mapping[str, str] | None = None) -> list[AccessNotGrantedError]:
    """``roles``: what the role is for -> role ARN, each of which the restore passes to RDS."""
    env = os.environ if environ is None else environ
    allowed = set(listed(env.get("PASSABLE_ROLE_ARNS")))
    return [
        AccessNotGrantedError(f"the {purpose} passes role {role}, which is not in PassableRoleArns: iam:PassRole would be refused")
        for purpose, role in roles.items()
        if role and role not in allowed
    ]


def role_arn(name_or_arn: str, account_id: str, partition: str = "aws") -> str:
    return name_or_arn if name_or_arn.startswith("arn:") else f"arn:{partition}:iam::{account_id}:role/{name_or_arn}"
