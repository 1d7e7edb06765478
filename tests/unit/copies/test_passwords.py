"""A copy's master password: replaced by a random one kept in a secret, or handed to RDS to manage.

Against the emulator with the strict RDS model, which refuses a master password RDS would refuse.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
from botocore.exceptions import ClientError, ParamValidationError
from moto.rds.models import rds_backends

from support.rds_fixtures import make_cluster, make_instance
from trapheus.copies import passwords
from trapheus.copies.passwords import (
    EXCLUDED_CHARACTERS,
    acceptable_master_password,
    rotate_master_password,
    secret_engine,
    use_managed_password,
)
from trapheus.copies.tags import LIFECYCLE, SOURCE, STAGE
from trapheus.errors import CredentialsError, DatabaseNotAvailableError, ThrottlingError
from trapheus.kinds import CLUSTER, INSTANCE, DatabaseKind
from trapheus_local.resources import ACCOUNT_ID

TAGS = {LIFECYCLE: "orders-staging", SOURCE: "orders", STAGE: "new"}
SECRET = "trapheus/stack/copy/orders-staging-20250101-0000"


@pytest.fixture
def copy_of(strict_aws):
    """Makes the copy a test works on: an instance or an Aurora cluster (its members are instances)."""

    def make(kind: DatabaseKind, identifier: str = "orders-staging-20250101-0000") -> str:
        rds, ec2 = strict_aws.client("rds"), strict_aws.client("ec2")
        with strict_aws.settled():
            (make_cluster(rds, ec2, identifier, members=1) if kind.is_cluster else make_instance(rds, ec2, identifier))
        return identifier

    return make


def stored_password(kind: DatabaseKind, identifier: str) -> str:
    """The master password the emulated RDS holds (RDS itself never returns it)."""
    backend = rds_backends[ACCOUNT_ID]["us-east-1"]
    database = (backend.clusters if kind.is_cluster else backend.databases)[identifier]
    return database._master_user_password


def secret_value(strict_aws, arn: str) -> dict[str, Any]:
    return json.loads(strict_aws.client("secretsmanager").get_secret_value(SecretId=arn)["SecretString"])


@pytest.mark.parametrize("kind", [INSTANCE, CLUSTER], ids=lambda kind: kind.name)
def test_the_database_gets_a_new_password_every_engine_takes_and_the_secret_holds_it(strict_aws, copy_of, kind):
    identifier = copy_of(kind)
    before = stored_password(kind, identifier)
    arn = rotate_master_password(kind, identifier, SECRET, TAGS)
    value = secret_value(strict_aws, arn)
    # the strict model took the ModifyDB* call: RDS's character and length rules hold
    assert stored_password(kind, identifier) == value["password"] != before
    assert acceptable_master_password(value["password"]) and len(value["password"]) == 30
    assert not set(value["password"]) & set('/"@ &\'')
    description = getattr(strict_aws.client("rds"), kind.describe_op)(**{kind.id_param: identifier})[kind.list_key][0]
    assert value["engine"] == "mysql" and value["username"] == "admin"  # aurora-mysql rotates as mysql
    assert value[kind.secret_id_key] == identifier
    assert value["host"] and value["host"] in json.dumps(description, default=str) and value["port"] in (3307, 3310)
    secret = strict_aws.client("secretsmanager").describe_secret(SecretId=arn)
    assert {tag["Key"]: tag["Value"] for tag in secret["Tags"]} == TAGS and secret["Name"] == SECRET


def test_a_retried_rotation_writes_a_new_value_into_the_same_secret(strict_aws, copy_of):
    identifier = copy_of(INSTANCE)
    first = rotate_master_password(INSTANCE, identifier, SECRET, TAGS)
    first_password = secret_value(strict_aws, first)["password"]
    strict_aws.settle()  # the workflow's poll loop: RDS has applied the first password
    again = rotate_master_password(INSTANCE, identifier, SECRET, TAGS)
    assert again == first
    assert secret_value(strict_aws, again)["password"] == stored_password(INSTANCE, identifier) != first_password


def test_a_step_that_failed_after_writing_the_secret_succeeds_when_run_again(strict_aws, copy_of):
    identifier = copy_of(INSTANCE)
    strict_aws.emulator.latency.fail_api("ModifyDBInstance", identifier, code="InternalFailure", message="boom", times=1)
    with pytest.raises(CredentialsError, match="InternalFailure"):
        rotate_master_password(INSTANCE, identifier, SECRET, TAGS)
    arn = rotate_master_password(INSTANCE, identifier, SECRET, TAGS)
    assert secret_value(strict_aws, arn)["password"] == stored_password(INSTANCE, identifier)


def test_a_database_rds_is_still_changing_is_refused_before_the_secret_is_written(strict_aws, copy_of):
    identifier = copy_of(INSTANCE)
    arn = rotate_master_password(INSTANCE, identifier, SECRET, TAGS)  # leaves it modifying
    versions = strict_aws.client("secretsmanager").list_secret_version_ids(SecretId=arn)["Versions"]
    with pytest.raises(DatabaseNotAvailableError, match="modifying"):
        rotate_master_password(INSTANCE, identifier, SECRET, TAGS)
    assert strict_aws.client("secretsmanager").list_secret_version_ids(SecretId=arn)["Versions"] == versions


def test_a_secret_of_another_lifecycle_is_not_overwritten(strict_aws, copy_of):
    identifier = copy_of(INSTANCE)
    secrets = strict_aws.client("secretsmanager")
    secrets.create_secret(Name=SECRET, SecretString="theirs", Tags=[{"Key": LIFECYCLE, "Value": "ledger-dev"}])
    with pytest.raises(CredentialsError, match="ledger-dev"):
        rotate_master_password(INSTANCE, identifier, SECRET, TAGS)
    assert secrets.get_secret_value(SecretId=SECRET)["SecretString"] == "theirs"


def test_an_aurora_member_and_a_managed_password_are_refused(strict_aws, copy_of):
    cluster = copy_of(CLUSTER)
    with pytest.raises(CredentialsError, match="member of cluster"):
        rotate_master_password(INSTANCE, f"{cluster}-1", SECRET, TAGS)
    use_managed_password(CLUSTER, cluster)
    strict_aws.settle()
    with pytest.raises(CredentialsError, match="managed by RDS"):
        rotate_master_password(CLUSTER, cluster, SECRET, TAGS)


# -- the password stays secret ----------------------------------------------------------------------------------


def test_the_password_is_neither_returned_nor_logged(strict_aws, copy_of, caplog, capsys):
    identifier = copy_of(INSTANCE)
    caplog.set_level(logging.DEBUG, logger="trapheus")
    caplog.set_level(logging.INFO)
    returned = rotate_master_password(INSTANCE, identifier, SECRET, TAGS)
    password = secret_value(strict_aws, returned)["password"]
    printed = capsys.readouterr()
    assert "Master password replaced" in printed.out + caplog.text  # the log line is there, without the password
    for seen in (returned, caplog.text, printed.out, printed.err, repr(caplog.records)):
        assert password not in seen and json.dumps(password)[1:-1] not in seen


class EchoingRds:
    """An RDS client whose ModifyDBInstance fails with an error quoting the request, as botocore errors can."""

    def __init__(self, real: Any, failure: str) -> None:
        self.real, self.failure = real, failure

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)

    def modify_db_instance(self, **params: Any) -> dict:
        quoted = f"refused MasterUserPassword={params['MasterUserPassword']} in {json.dumps(params)}"
        if self.failure == "validation":
            raise ParamValidationError(report=quoted)
        raise ClientError({"Error": {"Code": self.failure, "Message": quoted}}, "ModifyDBInstance")


@pytest.mark.parametrize(("failure", "raised"), [("InvalidParameterValue", CredentialsError),
                                                 ("Throttling", ThrottlingError), ("validation", CredentialsError)])
def test_an_error_quoting_the_request_reaches_no_message(strict_aws, copy_of, caplog, failure, raised):
    identifier = copy_of(INSTANCE)
    rds = EchoingRds(strict_aws.client("rds"), failure)
    with pytest.raises(raised) as error:
        rotate_master_password(INSTANCE, identifier, SECRET, TAGS, rds=rds)
    password = secret_value(strict_aws, SECRET)["password"]
    assert type(error.value) is raised and passwords.REDACTED in str(error.value)
    assert error.value.__cause__ is None and error.value.__context__ is None  # no botocore error rides along
    assert password not in str(error.value) and password not in repr(error.value.args) and password not in caplog.text


# -- RDS-managed password ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", [INSTANCE, CLUSTER], ids=lambda kind: kind.name)
def test_rds_manages_the_password_and_its_secret_is_reported(strict_aws, copy_of, kind):
    identifier = copy_of(kind)
    arn = use_managed_password(kind, identifier)
    description = getattr(strict_aws.client("rds"), kind.describe_op)(**{kind.id_param: identifier})[kind.list_key][0]
    assert arn and arn == description["MasterUserSecret"]["SecretArn"]
    strict_aws.settle()
    assert use_managed_password(kind, identifier) == arn  # run again: the same secret, nothing changed


def test_the_managed_secret_is_encrypted_with_the_given_key(strict_aws, copy_of):
    identifier = copy_of(INSTANCE)
    key = strict_aws.client("kms").create_key(Description="copies")["KeyMetadata"]
    use_managed_password(INSTANCE, identifier, key["KeyId"])
    secret = strict_aws.client("rds").describe_db_instances(DBInstanceIdentifier=identifier)["DBInstances"][0]["MasterUserSecret"]
    assert secret["KmsKeyId"] == key["Arn"]


def test_a_database_rds_is_changing_gets_no_managed_password_yet(strict_aws, copy_of):
    identifier = copy_of(INSTANCE)
    rotate_master_password(INSTANCE, identifier, SECRET, TAGS)
    with pytest.raises(DatabaseNotAvailableError):
        use_managed_password(INSTANCE, identifier)


# -- the rules, as data ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("engine", "named"), [("aurora-mysql", "mysql"), ("aurora-postgresql", "postgres"),
                                               ("oracle-ee", "oracle"), ("sqlserver-se", "sqlserver"),
                                               ("mariadb", "mariadb"), ("postgres", "postgres"), ("db2-ae", "db2")])
def test_the_secret_names_the_engine_as_secrets_manager_rotation_does(engine, named):
    assert secret_engine(engine) == named


@pytest.mark.parametrize("password", ["short-1", "x" * 31, "has/slash-in-it", "has space-in-it", "amp&ersand-in-it",
                                      "quote'in-it-too", "non-ascii-é-here"])
def test_a_password_some_engine_refuses_is_not_acceptable(password):
    assert not acceptable_master_password(password)


def test_the_excluded_characters_are_rds_and_oracle_ones():
    assert set(EXCLUDED_CHARACTERS) == set('/"@ &\'')
