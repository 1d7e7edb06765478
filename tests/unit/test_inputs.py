"""The console input is refused, with a message that says why, before anything happens."""

import pytest

from trapheus.errors import InvalidInputError
from trapheus.inputs import RestoreRequest, Strategy, Task, parse_request
from trapheus.names import RESTORABLE_ID_MAX


def parse(**fields):
    return parse_request(fields, export_default=False)


def test_console_input_parses_with_default_snapshot_name():
    request = parse(identifier="orders-db", task="db_restore", isCluster=False)
    assert request == RestoreRequest("orders-db", Task.DB_RESTORE, False, "orders-db-snapshot", False, Strategy.SWAP)


def test_explicit_snapshot_and_export_are_kept():
    request = parse(identifier="ledger", task="create_snapshot", isCluster=True, snapshotIdentifier="ledger-weekly", export=True)
    assert (request.snapshot_identifier, request.export, request.is_cluster) == ("ledger-weekly", True, True)


def test_export_default_comes_from_the_deployment():
    assert parse_request({"identifier": "a", "task": "db_restore", "isCluster": False}, export_default=True).export is True


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"task": "db_restore", "isCluster": False}, "missing required field 'identifier'"),
        ({"identifier": "a", "isCluster": False}, "missing required field 'task'"),
        ({"identifier": "a", "task": "db_restore"}, "missing required field 'isCluster'"),
        ({"identifier": "a", "task": "restore_everything", "isCluster": False}, "'task' must be one of"),
        ({"identifier": "a", "task": ["db_restore"], "isCluster": False}, "'task' must be one of"),
        ({"identifier": "a", "task": "db_restore", "isCluster": "false"}, "JSON boolean"),
        ({"identifier": "a", "task": "db_restore", "isCluster": 0}, "JSON boolean"),
        ({"identifier": "a", "task": "db_restore", "isCluster": False, "export": "yes"}, "JSON boolean"),
        ({"identifier": "", "task": "db_restore", "isCluster": False}, "non-empty string"),
        ({"identifier": 42, "task": "db_restore", "isCluster": False}, "non-empty string"),
        ({"identifier": "1orders", "task": "db_restore", "isCluster": False}, "start with a letter"),
        ({"identifier": "orders--db", "task": "db_restore", "isCluster": False}, "single hyphens"),
        ({"identifier": "orders-", "task": "db_restore", "isCluster": False}, "hyphen"),
        ({"identifier": "orders_db", "task": "db_restore", "isCluster": False}, "letters, digits"),
        ({"identifier": "a" * 64, "task": "db_restore", "isCluster": False}, "RDS allows at most 63"),
        ({"identifier": "a" * (RESTORABLE_ID_MAX + 1), "task": "db_restore", "isCluster": False}, "room for its temporary suffix"),
        ({"identifier": "a", "task": "db_restore", "isCluster": False, "snapshotIdentifier": "bad--name"}, "snapshotIdentifier"),
        ({"identifier": "a", "task": "db_restore", "isCluster": False, "dryRun": True}, "unknown field(s) dryRun"),
    ],
)
def test_bad_input_is_refused_with_a_clear_message(fields, message):
    with pytest.raises(InvalidInputError) as raised:
        parse(**fields)
    assert message in str(raised.value)


@pytest.mark.parametrize("value", [None, [], "orders-db", 3])
def test_input_that_is_not_an_object_is_refused(value):
    with pytest.raises(InvalidInputError, match="JSON object"):
        parse_request(value, export_default=False)


def test_longest_restorable_identifier_is_accepted():
    identifier = "a" * RESTORABLE_ID_MAX
    assert parse(identifier=identifier, task="db_restore", isCluster=False).identifier == identifier


def test_tasks_say_what_they_do():
    assert [t.takes_snapshot for t in Task] == [True, False, True, False, False]
    assert [t.restores for t in Task] == [True, True, False, True, False]
    assert [t.to_point_in_time for t in Task] == [False, False, False, True, False]


def test_strategy_defaults_to_the_deployment_and_is_checked():
    assert parse(identifier="a", task="db_restore", isCluster=False).strategy is Strategy.SWAP
    assert parse_request({"identifier": "a", "task": "db_restore", "isCluster": False}, export_default=False,
                         strategy_default="in-place").strategy is Strategy.IN_PLACE
    with pytest.raises(InvalidInputError, match="'strategy' must be one of swap, in-place"):
        parse(identifier="a", task="db_restore", isCluster=False, strategy="yolo")
