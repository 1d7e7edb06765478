"""Create a template's resources in the emulator.

Every ``AWS::Serverless::Function`` becomes a moto Lambda function served
in-process by the repository's own handler; every ``AWS::Serverless::StateMachine``
is created from its ASL file with ``DefinitionSubstitutions`` resolved. The
resources handlers use (buckets, keys, secrets, roles, log groups, SES
identities) are created too; any other type exists only as a name and is listed
as not emulated.
"""

from __future__ import annotations

import io
import json
import re
import uuid
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from trapheus_local.functions import FunctionSpec
from trapheus_local.template import NO_VALUE, TemplateError

if TYPE_CHECKING:
    from trapheus_local.engine import Deployment, Emulator

ACCOUNT_ID = "123456789012"  # moto's default account
_EMAIL = re.compile(r"^[^@\s,]+@[^@\s,]+\.[^@\s,]+$")
_SES_SENDER_VARIABLES = re.compile(r"(SENDER|FROM|SOURCE|RECIPIENT)", re.IGNORECASE)


@dataclass
class DeployedResource:
    logical_id: str
    type: str
    ref: Any
    attributes: dict[str, Any] = field(default_factory=dict)
    emulated: bool = True


class StackDeployer:
    """Creates a template's resources in dependency order."""

    def __init__(self, emulator: Emulator, deployment: Deployment) -> None:
        self.emulator = emulator
        self.deployment = deployment
        self.template = deployment.template
        self.stack_name = self.template.pseudo["AWS::StackName"]
        self.region = deployment.region
        self.account_id = deployment.account_id
        self.creators = {
            "AWS::Serverless::Function": self.function,
            "AWS::Serverless::StateMachine": self.state_machine,
            "AWS::Serverless::LayerVersion": self.layer,
            "AWS::IAM::Role": self.role,
            "AWS::S3::Bucket": self.bucket,
            "AWS::KMS::Key": self.kms_key,
            "AWS::KMS::Alias": self.kms_alias,
            "AWS::SecretsManager::Secret": self.secret,
            "AWS::SES::EmailIdentity": self.email_identity,
            "AWS::Logs::LogGroup": self.log_group,
            "AWS::DynamoDB::Table": self.table,
            "AWS::SNS::Topic": self.topic,
            "AWS::Scheduler::ScheduleGroup": self.schedule_group,
            "AWS::Events::Rule": self.events_rule,
        }

    def deploy(self) -> None:
        remaining = [name for name in self.template.resources if self.template.is_enabled(name)]
        while remaining:
            ready = [
                name
                for name in remaining
                if all(dep in self.deployment.resources or not self.template.is_enabled(dep)
                       for dep in self.template.dependencies(name))
            ]
            if not ready:
                raise TemplateError(f"circular references between {', '.join(remaining)}")
            for name in ready:
                self.create(name)
                remaining.remove(name)

    def create(self, logical_id: str) -> None:
        definition = self.template.resources[logical_id]
        resource_type = definition["Type"]
        creator = self.creators.get(resource_type, self.not_emulated)
        resource = creator(logical_id, definition.get("Properties", {}))
        self.deployment.resources[logical_id] = resource

    # -- helpers -------------------------------------------------------------------------------

    def resolve(self, value: Any) -> Any:
        return self.template.resolve(value, self.lookup)

    def lookup(self, logical_id: str, attribute: str | None) -> Any:
        resource = self.deployment.resources.get(logical_id)
        if resource is None:
            raise TemplateError(f"{logical_id} is referenced before it exists (or its Condition is false)")
        if attribute is None:
            return resource.ref
        if attribute not in resource.attributes:
            if not resource.emulated:
                return f"{resource.ref}.{attribute}"
            raise TemplateError(f"{logical_id} ({resource.type}) has no attribute {attribute} locally")
        return resource.attributes[attribute]

    def name_for(self, logical_id: str, given: Any, limit: int = 64) -> str:
        return str(given) if given else f"{self.stack_name}-{logical_id}"[:limit]

    def client(self, service: str) -> Any:
        return self.deployment.client(service)

    def path(self, relative: Any) -> Path:
        return (self.template.directory / str(relative)).resolve()

    # -- resource types ------------------------------------------------------------------------

    def not_emulated(self, logical_id: str, properties: dict[str, Any]) -> DeployedResource:
        resource_type = self.template.resources[logical_id]["Type"]
        return DeployedResource(logical_id, resource_type, f"{self.stack_name}-{logical_id}", emulated=False)

    def role(self, logical_id: str, properties: dict[str, Any]) -> DeployedResource:
        name = self.name_for(logical_id, self.resolve(properties.get("RoleName")))
        role = self.client("iam").create_role(
            RoleName=name,
            Path=str(properties.get("Path", "/")),
            AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []}),
            **self._boundary(properties),
        )["Role"]
        return DeployedResource(logical_id, "AWS::IAM::Role", name, {"Arn": role["Arn"], "RoleId": role["RoleId"]})

    def _service_role(self, logical_id: str, service: str, properties: dict[str, Any]) -> str:
        """The role SAM would generate for a function or state machine without an explicit Role."""
        name = f"{self.stack_name}-{logical_id}Role"[:64]
        trust = {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}],
        }
        created = self.client("iam").create_role(
            RoleName=name, AssumeRolePolicyDocument=json.dumps(trust), **self._boundary(properties)
        )
        return str(created["Role"]["Arn"])

    def _boundary(self, properties: dict[str, Any]) -> dict[str, str]:
        """``PermissionsBoundary`` for create_role when the template sets one (an If may resolve to none)."""
        boundary = self.resolve(properties.get("PermissionsBoundary"))
        return {"PermissionsBoundary": str(boundary)} if boundary and boundary is not NO_VALUE else {}

    def bucket(self, logical_id: str, properties: dict[str, Any]) -> DeployedResource:
        name = self.name_for(logical_id, self.resolve(properties.get("BucketName")), 63).lower()
        kwargs: dict[str, Any] = {"Bucket": name}
        if self.region != "us-east-1":
            kwargs["CreateBucketConfiguration"] = {"LocationConstraint": self.region}
        self.client("s3").create_bucket(**kwargs)
        attributes = {
            "Arn": f"arn:aws:s3:::{name}",
            "DomainName": f"{name}.s3.amazonaws.com",
            "RegionalDomainName": f"{name}.s3.{self.region}.amazonaws.com",
        }
        return DeployedResource(logical_id, "AWS::S3::Bucket", name, attributes)

    def table(self, logical_id: str, properties: dict[str, Any]) -> DeployedResource:
        name = self.name_for(logical_id, self.resolve(properties.get("TableName")), 255)
        table = self.client("dynamodb").create_table(
            TableName=name,
            KeySchema=self.resolve(properties["KeySchema"]),
            AttributeDefinitions=self.resolve(properties["AttributeDefinitions"]),
            BillingMode=str(self.resolve(properties.get("BillingMode", "PAY_PER_REQUEST"))),
        )["TableDescription"]
        return DeployedResource(logical_id, "AWS::DynamoDB::Table", name, {"Arn": table["TableArn"]})

    def topic(self, logical_id: str, properties: dict[str, Any]) -> DeployedResource:
        name = self.name_for(logical_id, self.resolve(properties.get("TopicName")), 256)
        arn = self.client("sns").create_topic(Name=name)["TopicArn"]
        return DeployedResource(logical_id, "AWS::SNS::Topic", arn, {"TopicArn": arn, "TopicName": name})

    def schedule_group(self, logical_id: str, properties: dict[str, Any]) -> DeployedResource:
        name = self.name_for(logical_id, self.resolve(properties.get("Name")))
        arn = self.client("scheduler").create_schedule_group(Name=name)["ScheduleGroupArn"]
        return DeployedResource(logical_id, "AWS::Scheduler::ScheduleGroup", name, {"Arn": arn})

    def events_rule(self, logical_id: str, properties: dict[str, Any]) -> DeployedResource:
        """The rule and its targets in moto's EventBridge (trapheus_local.execution_events delivers to them)."""
        name = self.name_for(logical_id, self.resolve(properties.get("Name")))
        events = self.client("events")
        arguments: dict[str, Any] = {"Name": name, "State": str(self.resolve(properties.get("State", "ENABLED")))}
        for key in ("EventPattern", "ScheduleExpression", "Description"):
            if key in properties:
                value = self.resolve(properties[key])
                arguments[key] = json.dumps(value) if key == "EventPattern" else str(value)
        arn = events.put_rule(**arguments)["RuleArn"]
        targets = self.resolve(properties.get("Targets", []))
        if targets:
            events.put_targets(Rule=name, Targets=targets)
        return DeployedResource(logical_id, "AWS::Events::Rule", name, {"Arn": arn})

    def kms_key(self, logical_id: str, properties: dict[str, Any]) -> DeployedResource:
        metadata = self.client("kms").create_key(Description=str(self.resolve(properties.get("Description", ""))))
        key = metadata["KeyMetadata"]
        return DeployedResource(logical_id, "AWS::KMS::Key", key["KeyId"], {"Arn": key["Arn"], "KeyId": key["KeyId"]})

    def kms_alias(self, logical_id: str, properties: dict[str, Any]) -> DeployedResource:
        name = str(self.resolve(properties["AliasName"]))
        self.client("kms").create_alias(AliasName=name, TargetKeyId=str(self.resolve(properties["TargetKeyId"])))
        return DeployedResource(logical_id, "AWS::KMS::Alias", name)

    def secret(self, logical_id: str, properties: dict[str, Any]) -> DeployedResource:
        name = self.name_for(logical_id, self.resolve(properties.get("Name")), 512)
        value = self.resolve(properties.get("SecretString"))
        if value is None:
            value = uuid.uuid4().hex  # GenerateSecretString: any random value will do locally
        arn = self.client("secretsmanager").create_secret(Name=name, SecretString=str(value))["ARN"]
        return DeployedResource(logical_id, "AWS::SecretsManager::Secret", arn, {"Id": arn})

    def email_identity(self, logical_id: str, properties: dict[str, Any]) -> DeployedResource:
        identity = str(self.resolve(properties["EmailIdentity"]))
        self._verify_email(identity)
        return DeployedResource(logical_id, "AWS::SES::EmailIdentity", identity)

    def _verify_email(self, identity: str) -> None:
        if "@" in identity:
            self.client("ses").verify_email_identity(EmailAddress=identity)
        else:
            self.client("ses").verify_domain_identity(Domain=identity)

    def log_group(self, logical_id: str, properties: dict[str, Any]) -> DeployedResource:
        name = self.name_for(logical_id, self.resolve(properties.get("LogGroupName")), 512)
        self.client("logs").create_log_group(logGroupName=name)
        arn = f"arn:aws:logs:{self.region}:{self.account_id}:log-group:{name}:*"
        return DeployedResource(logical_id, "AWS::Logs::LogGroup", name, {"Arn": arn})

    def layer(self, logical_id: str, properties: dict[str, Any]) -> DeployedResource:
        name = self.name_for(logical_id, self.resolve(properties.get("LayerName")), 140)
        content = self.path(self.resolve(properties["ContentUri"]))
        python_dir = content / "python"
        arn = f"arn:aws:lambda:{self.region}:{self.account_id}:layer:{name}:1"
        return DeployedResource(
            logical_id,
            "AWS::Serverless::LayerVersion",
            arn,
            {"Arn": arn, "PythonPath": python_dir if python_dir.is_dir() else content},
        )

    def function(self, logical_id: str, properties: dict[str, Any]) -> DeployedResource:
        merged = self.template.function_properties(logical_id)
        name = self.name_for(logical_id, self.resolve(merged.get("FunctionName")))
        role = self.resolve(merged.get("Role")) or self._service_role(logical_id, "lambda.amazonaws.com", merged)
        environment = {
            key: _environment_value(value)
            for key, value in self.resolve(merged.get("Environment", {}).get("Variables", {})).items()
        }
        for key, value in environment.items():
            if _SES_SENDER_VARIABLES.search(key):
                for address in (part.strip() for part in value.split(",")):
                    if _EMAIL.match(address):
                        self._verify_email(address)  # SES sandbox: senders and recipients must be verified
        layer_paths = tuple(self._layer_path(layer) for layer in merged.get("Layers", []))
        handler = str(self.resolve(merged["Handler"]))
        arn = self.client("lambda").create_function(
            FunctionName=name,
            Runtime=str(self.resolve(merged.get("Runtime", "python3.13"))),
            Role=str(role),
            Handler=handler,
            Code={"ZipFile": placeholder_zip()},
            Timeout=int(self.resolve(merged.get("Timeout", 3))),
            MemorySize=int(self.resolve(merged.get("MemorySize", 128))),
            Environment={"Variables": environment},
        )["FunctionArn"]
        self.emulator.runtime.register(
            FunctionSpec(
                logical_id=logical_id,
                name=name,
                arn=arn,
                code_dir=self.path(self.resolve(merged["CodeUri"])),
                handler=handler,
                environment=environment,
                layer_paths=tuple(path for path in layer_paths if path is not None),
                timeout_seconds=int(self.resolve(merged.get("Timeout", 3))),
                memory_mb=int(self.resolve(merged.get("MemorySize", 128))),
                region=self.region,
                credentials=self._credentials_of(str(role)),
            )
        )
        return DeployedResource(logical_id, "AWS::Serverless::Function", name, {"Arn": arn})

    def _credentials_of(self, role_arn: str) -> dict[str, str]:
        """The function's role credentials when it runs in another account than the emulator's own, as the
        Lambda runtime hands a function its execution role's (in the default account: the environment's)."""
        if self.account_id == ACCOUNT_ID:
            return {}
        credentials = self.client("sts").assume_role(RoleArn=role_arn, RoleSessionName="lambda")["Credentials"]
        return {
            "AWS_ACCESS_KEY_ID": credentials["AccessKeyId"],
            "AWS_SECRET_ACCESS_KEY": credentials["SecretAccessKey"],
            "AWS_SESSION_TOKEN": credentials["SessionToken"],
            "AWS_SECURITY_TOKEN": credentials["SessionToken"],
        }

    def _layer_path(self, layer: Any) -> Path | None:
        if isinstance(layer, dict) and set(layer) == {"Ref"} and layer["Ref"] in self.deployment.resources:
            return self.deployment.resources[layer["Ref"]].attributes.get("PythonPath")
        return None  # a published layer ARN: nothing local to put on the path

    def state_machine(self, logical_id: str, properties: dict[str, Any]) -> DeployedResource:
        name = self.name_for(logical_id, self.resolve(properties.get("Name")), 80)
        if "DefinitionUri" in properties:
            definition = self.path(self.resolve(properties["DefinitionUri"])).read_text()
        elif "Definition" in properties:
            definition = json.dumps(self.resolve(properties["Definition"]))
        else:
            raise TemplateError(f"{logical_id} has neither DefinitionUri nor Definition")
        substitutions = self.resolve(properties.get("DefinitionSubstitutions", {}))
        for key, value in substitutions.items():
            definition = definition.replace("${" + key + "}", _substitution_text(value))
        role = self.resolve(properties.get("Role")) or self._service_role(
            logical_id, "states.amazonaws.com", properties
        )
        arn = self.client("stepfunctions").create_state_machine(
            name=name, definition=definition, roleArn=str(role), type=str(properties.get("Type", "STANDARD"))
        )["stateMachineArn"]
        return DeployedResource(logical_id, "AWS::Serverless::StateMachine", arn, {"Name": name, "Arn": arn})


def _environment_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ",".join(str(item) for item in value)
    return str(value)


def _substitution_text(value: Any) -> str:
    if isinstance(value, list):
        return ",".join(str(item) for item in value)
    return str(value)


def placeholder_zip() -> bytes:
    """A valid zip for create_function; the code that runs is the repository's, in-process."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("README.txt", "Served in-process by trapheus_local.\n")
    return buffer.getvalue()
