"""The speedups stop work being redone and change no answer (trapheus_local.speedups)."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError
from moto.core import errors as moto_errors
from moto.core.utils import get_service_model

from trapheus_local import speedups


def test_a_kept_method_list_is_made_again_when_the_class_gains_a_method():
    class Responses:
        def describe_things(self):
            return "things"

    listed = speedups._method_names(lambda clazz: sorted(name for name in vars(clazz) if not name.startswith("_")))
    assert listed(Responses) == ["describe_things"]

    Responses.create_thing = lambda self: "made"
    assert listed(Responses) == ["create_thing", "describe_things"]


def test_the_shared_error_table_is_the_one_moto_builds():
    service = get_service_model("rds")
    fresh = moto_errors.ErrorLookupFactory._create_error_lut(service)

    factory = moto_errors.ErrorLookupFactory.__new__(moto_errors.ErrorLookupFactory)
    speedups._shared_error_tables(factory)
    shared = factory.for_service(service)

    for code in ("DBInstanceNotFound", "DBInstanceNotFoundFault", "DBSnapshotAlreadyExists", "InvalidDBInstanceState"):
        assert (shared.from_code(code) is None) == (fresh.from_code(code) is None)
        if fresh.from_code(code) is not None:
            assert shared.from_code(code).name == fresh.from_code(code).name
            assert shared.from_code(code).error_code == fresh.from_code(code).error_code


def test_error_answers_are_moto_s_own_with_the_speedups_installed(aws):
    rds = aws.client("rds")
    for _ in range(2):  # the second answer comes from the kept table
        with pytest.raises(ClientError) as raised:
            rds.describe_db_instances(DBInstanceIdentifier="nowhere")
        assert raised.value.response["Error"]["Code"] == "DBInstanceNotFound"
        assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404


def _answers(aws) -> dict[str, object]:
    """What describing an instance, a cluster with a member, their snapshots and a table answers (no request ids)."""
    from support.rds_fixtures import make_cluster, make_instance

    rds, ec2 = aws.client("rds"), aws.client("ec2")
    if not rds.describe_db_instances()["DBInstances"]:
        make_instance(rds, ec2, "orders-db")
        make_cluster(rds, ec2, "orders-cluster", members=1)
        rds.create_db_snapshot(DBInstanceIdentifier="orders-db", DBSnapshotIdentifier="orders-db-snapshot")
        aws.client("dynamodb").create_table(
            TableName="orders", BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        )
    answers = {
        "instances": rds.describe_db_instances(),
        "clusters": rds.describe_db_clusters(),
        "snapshots": rds.describe_db_snapshots(),
        "table": aws.client("dynamodb").describe_table(TableName="orders"),
    }
    for answer in answers.values():
        answer.pop("ResponseMetadata")
        for database in answer.get("DBInstances", []) + answer.get("DBClusters", []):
            database.pop("LatestRestorableTime")  # "now", by the clock of each answer
    return answers


def test_answers_are_the_same_with_the_attribute_names_kept(aws):
    import inspect
    from unittest import mock

    from moto.core.serialize import AttributePicker

    kept = _answers(aws)
    assert kept["instances"]["DBInstances"] and kept["clusters"]["DBClusters"][0]["DBClusterMembers"]
    with mock.patch.object(AttributePicker, "__call__", inspect.unwrap(AttributePicker.__call__)):
        worked_out_each_time = _answers(aws)

    assert kept == worked_out_each_time


def test_a_kept_attribute_name_is_kept_per_kind_of_object_and_parent_shape():
    """The same member picked from objects that hold it under different names, in turns: a memo keyed on less
    than the member's name, the object's class and the parent shape hands one of them the other's name."""
    import inspect

    from moto.core.serialize import AttributePickerContext, XFormedAttributePicker

    from trapheus_local.speedups import _remembered_keys

    structure = get_service_model("rds").shape_for("DBInstance")
    member = structure.members["DBInstanceIdentifier"]
    member.parent = structure  # as the serializer sets it before picking

    class DBInstance:  # moto's own naming: the class name prefix is dropped
        identifier = "by-class-prefix"

    class Renamed:
        class Meta:
            serialization_aliases = {"DBInstanceIdentifier": "name"}

        name = "by-explicit-alias"

    picker = XFormedAttributePicker()
    original = inspect.unwrap(XFormedAttributePicker.__call__)
    kept = _remembered_keys(original)
    objects = [DBInstance(), {"DBInstanceIdentifier": "by-key"}, Renamed(), {"db_instance_identifier": "by-xformed-key"}]
    for obj in objects + list(reversed(objects)):
        context = AttributePickerContext(obj=obj, key="DBInstanceIdentifier", shape=member)
        picked = kept(picker, context)
        assert picked == original(picker, context) and picked is not None

    sibling = structure.members["DBSubnetGroup"].members["DBSubnetGroupName"]  # another parent, no prefix to drop
    sibling.parent = structure.members["DBSubnetGroup"]
    for obj in ({"DBSubnetGroupName": "by-key"}, {"Name": "by-shape-prefix"}):
        context = AttributePickerContext(obj=obj, key="DBSubnetGroupName", shape=sibling)
        assert kept(picker, context) == original(picker, context) == next(iter(obj.values()))


def test_the_collector_is_tuned_once_and_freezes_what_is_alive_at_exit(monkeypatch):
    import gc

    registered = []
    monkeypatch.setattr(speedups.atexit, "register", registered.append)
    young, middle, oldest = gc.get_threshold()
    try:
        gc.set_threshold(700, middle, oldest)
        speedups.collect_garbage_less_often()
        speedups.collect_garbage_less_often()

        assert gc.get_threshold() == (speedups.YOUNG_GENERATION_THRESHOLD, middle, oldest)
        assert registered == [gc.freeze]
    finally:
        gc.set_threshold(young, middle, oldest)


def test_threads_switch_sooner_while_any_block_is_open_and_as_before_after_the_last(monkeypatch):
    import sys

    monkeypatch.setattr(speedups, "_switching", {"blocks": 0, "before": 0.0})  # the session's own block aside
    previous = sys.getswitchinterval()
    try:
        sys.setswitchinterval(0.005)
        first, second = speedups._switching_threads_sooner(), speedups._switching_threads_sooner()
        first.__enter__()
        assert sys.getswitchinterval() == speedups.SWITCH_INTERVAL_SECONDS
        second.__enter__()
        first.__exit__(None, None, None)  # overlapping, not nested: the second is still open
        assert sys.getswitchinterval() == speedups.SWITCH_INTERVAL_SECONDS
        second.__exit__(None, None, None)
        assert sys.getswitchinterval() == 0.005
    finally:
        sys.setswitchinterval(previous)
