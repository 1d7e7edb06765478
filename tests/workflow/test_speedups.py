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
