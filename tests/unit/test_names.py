"""Derived identifiers fit RDS limits and are stable within a run."""

from trapheus.names import DATABASE_ID_MAX, RESTORABLE_ID_MAX, SNAPSHOT_ID_MAX, RestoreNames, derive_names


def test_names_for_a_run_are_deterministic_and_distinct_per_run():
    first = derive_names("orders-db", "orders-db-snapshot", "run-1", ["orders-db-1"])
    again = derive_names("orders-db", "orders-db-snapshot", "run-1", ["orders-db-1"])
    other = derive_names("orders-db", "orders-db-snapshot", "run-2", ["orders-db-1"])
    assert first == again
    assert first.snapshot_next != other.snapshot_next
    assert first.aside == "orders-db-trapheus-old"
    assert first.members[0].aside == "orders-db-1-trapheus-old"


def test_longest_identifier_still_fits_after_suffixes():
    names = derive_names("a" * RESTORABLE_ID_MAX, "s" * 200, "run", ["b" * RESTORABLE_ID_MAX])
    assert max(len(names.aside), len(names.staged), len(names.members[0].aside)) <= DATABASE_ID_MAX
    assert len(names.final_snapshot) <= SNAPSHOT_ID_MAX


def test_names_round_trip_through_the_workflow_state():
    names = derive_names("ledger", "ledger-snapshot", "run", ["ledger-1", "ledger-2"])
    assert RestoreNames.from_dict(names.to_dict()) == names
