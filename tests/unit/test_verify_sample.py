"""docs/verify/smoke_query.py, the sample verify function: its verdict on a copy, with a connection stand-in."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

SAMPLE = Path(__file__).resolve().parents[2] / "docs" / "verify" / "smoke_query.py"
COPY = {"identifier": "orders-db-trapheus-new", "engine": "mysql", "endpoint": "copy.example", "port": 3306}


def sample():
    spec = importlib.util.spec_from_file_location("smoke_query", SAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class Connection:
    """What a DB-API driver hands back, answering the smoke query with ``row`` (or raising ``error``)."""

    def __init__(self, row=None, error=None):
        self.row, self.error, self.executed, self.closed = row, error, [], False

    def cursor(self):
        return self

    def execute(self, query):
        if self.error:
            raise self.error
        self.executed.append(query)

    def fetchone(self):
        return self.row

    def close(self):
        self.closed = True


@pytest.fixture
def managed_secret(aws):
    secrets = aws.client("secretsmanager")
    arn = secrets.create_secret(Name="rds!db-0123", SecretString=json.dumps({"username": "admin", "password": "p"}))["ARN"]
    return {**COPY, "masterUserSecretArn": arn}


@pytest.mark.parametrize(("row", "passed"), [((1,), True), ((True,), True), ((0,), False), (None, False)])
def test_the_copy_passes_only_when_the_query_returns_a_true_first_column(managed_secret, monkeypatch, row, passed):
    monkeypatch.setenv("SMOKE_QUERY", "SELECT count(*) > 0 FROM orders")
    connection = Connection(row)
    seen = []

    answer = sample().handler(managed_secret, None, connect=lambda event, user, password: seen.append((user, password)) or connection)

    assert answer["passed"] is passed and connection.closed
    assert seen == [("admin", "p")] and connection.executed == ["SELECT count(*) > 0 FROM orders"]


def test_a_copy_it_cannot_query_fails_with_the_reason(managed_secret):
    answer = sample().handler(managed_secret, None, connect=lambda *args: Connection(error=ConnectionError("refused")))
    assert answer == {"passed": False, "why": "ConnectionError: refused", "query": "SELECT 1"}


def test_without_a_managed_secret_it_needs_one_of_its_own(aws, monkeypatch):
    monkeypatch.delenv("SECRET_ARN", raising=False)
    answer = sample().handler({**COPY, "masterUserSecretArn": None}, None, connect=lambda *args: Connection((1,)))
    assert answer["passed"] is False and "SECRET_ARN is not set" in answer["why"]
