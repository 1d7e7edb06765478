"""A verify function for trapheus: a SQL smoke query against the restored copy before it takes over.

trapheus invokes it with the copy's endpoint, port, engine, identifier and the ARN of its
RDS-managed master secret (see the README, "Verifying the copy before it takes over"), and lets
the copy take over only when it answers ``{"passed": true}``.

Deploy it as a Lambda function of your own (Python 3.13), with ``pymysql`` (MySQL, MariaDB,
Aurora MySQL) or ``pg8000`` (PostgreSQL, Aurora PostgreSQL) packaged beside it, in subnets and a
security group that reach your databases, with the permissions of ``policy.json``; then add its
ARN to the stack's ``VerifyFunctionArns``. Its timeout must stay under five minutes (the step
that invokes it waits that long).

Environment:

- ``SMOKE_QUERY``: the query; the copy passes when it returns a row whose first column is true or
  non-zero, e.g. ``SELECT count(*) > 0 FROM orders`` (default ``SELECT 1``).
- ``DATABASE_NAME``: the database to connect to (default: none for MySQL, ``postgres`` for PostgreSQL).
- ``SECRET_ARN``: a secret holding ``{"username", "password"}``, for copies whose master password
  RDS does not manage (their ``masterUserSecretArn`` is null).
- ``CA_BUNDLE``: path of the RDS certificate bundle in the package; TLS is required either way.
"""

from __future__ import annotations

import json
import os
import ssl
from collections.abc import Callable
from typing import Any

import boto3

POSTGRES_ENGINES = ("postgres", "aurora-postgresql")


def credentials(event: dict[str, Any], secrets: Any = None) -> tuple[str, str]:
    """The master user name and password, from the copy's managed secret or from SECRET_ARN."""
    secret_arn = event.get("masterUserSecretArn") or os.environ.get("SECRET_ARN")
    if not secret_arn:
        raise ValueError("the copy has no RDS-managed secret and SECRET_ARN is not set")
    client = secrets or boto3.client("secretsmanager")
    secret = json.loads(client.get_secret_value(SecretId=secret_arn)["SecretString"])
    return secret["username"], secret["password"]


def connect(event: dict[str, Any], user: str, password: str) -> Any:
    """A DB-API connection to the copy, over TLS, with the driver of its engine."""
    context = ssl.create_default_context(cafile=os.environ.get("CA_BUNDLE"))
    if event["engine"] in POSTGRES_ENGINES:
        import pg8000.dbapi

        return pg8000.dbapi.connect(host=event["endpoint"], port=event["port"], user=user, password=password,
                                    database=os.environ.get("DATABASE_NAME", "postgres"), ssl_context=context, timeout=30)
    import pymysql

    return pymysql.connect(host=event["endpoint"], port=event["port"], user=user, password=password,
                           database=os.environ.get("DATABASE_NAME"), ssl=context, connect_timeout=30)


def handler(event: dict[str, Any], context: Any, *, connect: Callable[..., Any] = connect, secrets: Any = None) -> dict[str, Any]:
    query = os.environ.get("SMOKE_QUERY", "SELECT 1")
    try:
        user, password = credentials(event, secrets)
        connection = connect(event, user, password)
        try:
            cursor = connection.cursor()
            cursor.execute(query)
            row = cursor.fetchone()
        finally:
            connection.close()
    except Exception as error:  # noqa: BLE001 - any failure to query the copy is a verdict, not a crash
        return {"passed": False, "why": f"{type(error).__name__}: {error}", "query": query}
    passed = row is not None and bool(row[0])
    return {"passed": passed, "query": query, **({} if passed else {"why": f"the query returned {row!r}"})}
