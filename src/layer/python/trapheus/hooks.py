"""The verify hook: a Lambda function the user owns checks a restored copy before it takes over.

The function is invoked synchronously with where the copy answers and how to sign in:

    {"identifier": "orders-db-trapheus-new", "isCluster": false, "engine": "mysql",
     "endpoint": "orders-db-trapheus-new.abc.us-east-1.rds.amazonaws.com", "port": 3306,
     "masterUserSecretArn": "arn:aws:secretsmanager:..." or null, "workflow": "restore", "original": "orders-db"}

and passes the copy only by answering ``{"passed": true}``. Any other answer, or a function error, fails the
run (which then rolls back). The secret's ARN travels, never the secret. Only functions listed in the stack's
``VerifyFunctionArns`` can be invoked: the role of the function that invokes them is granted exactly those, and
the survey refuses any other ARN before a change is made. The copy workflow reuses this module as it is.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from typing import Any

from trapheus import clients
from trapheus.databases import describe
from trapheus.errors import AccessNotGrantedError, VerificationFailedError
from trapheus.kinds import CLUSTER, DatabaseKind
from trapheus.log import logger
from trapheus.permissions import listed
from trapheus.throttling import aws_errors

ANSWER_LIMIT = 500


def not_allowed(function_arn: str | None, environ: Mapping[str, str] | None = None) -> AccessNotGrantedError | None:
    """Why ``function_arn`` may not be invoked (not listed in VerifyFunctionArns), or None when it may."""
    if function_arn is None:
        return None
    env = os.environ if environ is None else environ
    allowed = listed(env.get("VERIFY_FUNCTION_ARNS"))
    if function_arn in allowed:
        return None
    shown = ", ".join(allowed) if allowed else "none"
    return AccessNotGrantedError(
        f"verify function {function_arn} is not in the stack's VerifyFunctionArns (listed: {shown}); the stack may "
        "invoke only those: add it to VerifyFunctionArns and update the stack"
    )


def target(kind: DatabaseKind, identifier: str, original: str, workflow: str, rds: Any = None) -> dict[str, Any]:
    """What the verify function is told about the copy at ``identifier`` (a cluster: its writer endpoint)."""
    description = describe(kind, identifier, rds or clients.client("rds"))
    if kind is CLUSTER:
        endpoint, port = description.get("Endpoint"), description.get("Port")
    else:
        endpoint, port = (description.get("Endpoint") or {}).get("Address"), (description.get("Endpoint") or {}).get("Port")
    return {
        "identifier": identifier,
        "isCluster": kind is CLUSTER,
        "engine": description.get("Engine"),
        "endpoint": endpoint,
        "port": port,
        # RDS's own secret, or the one a copy's rotated password was written to (tagged trapheus:secret)
        "masterUserSecretArn": (description.get("MasterUserSecret") or {}).get("SecretArn") or _tagged_secret(description),
        "workflow": workflow,
        "original": original,
    }


def _tagged_secret(description: dict) -> str | None:
    return next((t["Value"] for t in description.get("TagList") or [] if t.get("Key") == "trapheus:secret"), None)


def _answer(payload: bytes) -> Any:
    try:
        return json.loads(payload or b"null")
    except ValueError:
        return payload.decode(errors="replace")


def _clipped(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    return text if len(text) <= ANSWER_LIMIT else text[: ANSWER_LIMIT - 1] + "…"


def verify(function_arn: str, copy: dict[str, Any], lambda_client: Any = None) -> dict[str, Any]:
    """Invoke the verify function with ``copy`` (see :func:`target`); return its answer when it passed the copy."""
    client = lambda_client or clients.client("lambda")
    with aws_errors(VerificationFailedError, f"invoking verify function {function_arn}"):
        response = client.invoke(FunctionName=function_arn, InvocationType="RequestResponse", Payload=json.dumps(copy).encode())
    answer = _answer(response["Payload"].read())
    if response.get("FunctionError"):
        raise VerificationFailedError(f"verify function {function_arn} failed on {copy['identifier']!r}: {_clipped(answer)}")
    if not (isinstance(answer, dict) and answer.get("passed") is True):
        raise VerificationFailedError(
            f"verify function {function_arn} did not pass {copy['identifier']!r}: it answered {_clipped(answer)} "
            '(a copy passes only with {"passed": true})'
        )
    logger.info("verify function passed the copy", extra={"function": function_arn, "copy": copy["identifier"]})
    shown = answer if len(json.dumps(answer, default=str)) <= ANSWER_LIMIT else _clipped(answer)  # the state stays small
    return {"function": function_arn, "identifier": copy["identifier"], "passed": True, "answer": shown}
