"""The table workflows' inputs: defaults, and a clear refusal for anything else."""

from __future__ import annotations

import pytest

from trapheus.errors import InvalidInputError
from trapheus.tables.manifest import backup_id_for
from trapheus.tables.requests import parse_backup_request, parse_cleanup, parse_restore_request, segments_for

BACKUP_ID = "20260102T030405Z-1a2b3c4d"
STOPPED = "arn:aws:states:us-east-1:123456789012:execution:prod-table-restore:run-1"


def test_backup_defaults_and_copy_destination():
    request = parse_backup_request({"table": "orders"})
    assert (request.table, request.segments, request.method, request.keep, request.copy_to) == ("orders", None, "scan", None, None)
    copy = parse_backup_request(
        {"table": "orders", "segments": 8, "keep": 7,
         "copyTo": {"bucket": "dr-backups", "region": "eu-west-1", "kmsKeyArn": "arn:aws:kms:eu-west-1:210987654321:key/abc"}},
        ("dr-backups",),
    )  # fmt: skip
    assert copy.copy_to.to_dict() == {"bucket": "dr-backups", "region": "eu-west-1",
                                      "kmsKeyArn": "arn:aws:kms:eu-west-1:210987654321:key/abc"}  # fmt: skip


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ("orders", "JSON object"),
        ({}, "missing required field 'table'"),
        ({"table": "o"}, "table name"),
        ({"table": "orders", "segments": 0}, "'segments'"),
        ({"table": "orders", "segments": "8"}, "'segments'"),
        ({"table": "orders", "segments": True}, "'segments'"),
        ({"table": "orders", "method": "pickle"}, "'method'"),
        ({"table": "orders", "method": "export", "segments": 4}, "applies to method 'scan'"),
        ({"table": "orders", "keep": 0}, "'keep'"),
        ({"table": "orders", "copyTo": {"bucket": "elsewhere"}}, "not one of the buckets"),
        ({"table": "orders", "copyTo": {"bucket": "dr-backups", "kmsKeyArn": "*"}}, "KMS key ARN"),
        ({"table": "orders", "copyTo": "dr-backups"}, "'copyTo' must be"),
        ({"table": "orders", "prefix": "x"}, "unknown field"),
    ],
)
def test_bad_backup_input_is_refused_with_a_clear_message(data, message):
    with pytest.raises(InvalidInputError, match=message):
        parse_backup_request(data, ("dr-backups",))


def test_restore_under_a_new_name_or_replacing():
    assert parse_restore_request({"backupId": BACKUP_ID, "table": "orders", "target": "orders-copy"}).to_dict() == {
        "backupId": BACKUP_ID, "table": "orders", "target": "orders-copy", "replace": False}  # fmt: skip
    assert parse_restore_request({"backupId": BACKUP_ID, "table": "orders", "replace": True}).target == "orders"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"table": "orders", "target": "x-copy"}, "'backupId'"),
        ({"backupId": "latest", "table": "orders", "target": "orders-copy"}, "must look like"),
        ({"backupId": BACKUP_ID, "table": "orders"}, "give 'target'"),
        ({"backupId": BACKUP_ID, "table": "orders", "target": "orders"}, "is the table itself"),
        ({"backupId": BACKUP_ID, "table": "orders", "replace": "true"}, "JSON boolean"),
        ({"backupId": BACKUP_ID, "table": "orders", "replace": True, "target": "other"}, "leave 'target' out"),
        ({"backupId": BACKUP_ID, "table": "orders", "target": "bad name!"}, "'target' must be"),
        ({"backupId": BACKUP_ID, "table": "orders", "target": "copy", "segments": 2}, "unknown field"),
    ],
)
def test_bad_restore_input_is_refused_with_a_clear_message(data, message):
    with pytest.raises(InvalidInputError, match=message):
        parse_restore_request(data)


def test_a_clean_up_only_acts_on_runs_of_this_stacks_table_workflows():
    assert parse_cleanup({"cleanupOf": STOPPED}, ("prod-table-backup", "prod-table-restore")) == (STOPPED, "run-1")
    with pytest.raises(InvalidInputError):
        parse_cleanup({"cleanupOf": STOPPED.replace("prod-table-restore", "prod-restore")}, ("prod-table-backup", "prod-table-restore"))
    with pytest.raises(InvalidInputError):
        parse_cleanup({"cleanupOf": STOPPED, "extra": 1}, ("prod-table-restore",))


def test_segments_follow_the_table_size_within_bounds():
    assert segments_for(0) == 1
    assert segments_for(512 * 1024 * 1024) == 1
    assert segments_for(512 * 1024 * 1024 + 1) == 2
    assert segments_for(10**15) == 64


def test_a_backup_id_is_sortable_and_the_same_for_every_retry_of_a_run():
    first = backup_id_for("2026-01-02T03:04:05.678Z", "run-1")
    assert first == backup_id_for("2026-01-02T03:04:05.999Z", "run-1")
    assert first.startswith("20260102T030405Z-") and first != backup_id_for("2026-01-02T03:04:05Z", "run-2")
    assert first < backup_id_for("2026-01-02T03:04:06Z", "run-0")
