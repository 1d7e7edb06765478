"""template.yaml agrees with docs/architecture.md, the build files and the deployment rules."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from template_support import REPO, load_template, resources_of_type, state_machines

ARCHITECTURE = REPO / "docs" / "architecture.md"
FUNCTION_TYPE = "AWS::Serverless::Function"


@pytest.fixture(scope="module")
def template() -> dict:
    return load_template()


@pytest.fixture(scope="module")
def functions(template) -> dict:
    return resources_of_type(template, FUNCTION_TYPE)


def documented_functions() -> dict[str, str]:
    """Logical id -> folder, from the function table of docs/architecture.md."""
    rows = re.findall(r"^\| `(\w+Function)` \| `(src/functions/\w+)` \|", ARCHITECTURE.read_text(), re.M)
    assert rows, "docs/architecture.md lists no functions"
    return dict(rows)


def documented_environment() -> dict[str, set[str]]:
    """Short function name (or "all") -> environment variables, from docs/architecture.md."""
    table = ARCHITECTURE.read_text().split("### Environment variables", 1)[1].split("###", 1)[0]
    variables: dict[str, set[str]] = {}
    for row in re.findall(r"^\| (\w+) \| ([^|]+) \|", table, re.M):
        if row[0] == "function":
            continue
        variables.setdefault(row[0], set()).update(re.findall(r"`([A-Z_]+)`", row[1]))
    return variables


def test_functions_are_the_ones_in_the_architecture(functions):
    declared = {name: res["Properties"]["CodeUri"] for name, res in functions.items()}
    assert declared == documented_functions()


def test_every_documented_environment_variable_is_set(template, functions):
    global_variables = set(template["Globals"]["Function"]["Environment"]["Variables"])
    for short_name, variables in documented_environment().items():
        if short_name == "all":
            assert variables <= global_variables
            continue
        function = functions[f"{short_name}Function"]
        own = set(function["Properties"].get("Environment", {}).get("Variables", {}))
        assert variables <= own | global_variables, f"{short_name}: missing {sorted(variables - own)}"


def test_functions_run_python313_on_arm64_with_tracing(template, functions):
    defaults = template["Globals"]["Function"]
    for name, function in functions.items():
        settings = {**defaults, **function["Properties"]}
        assert settings["Runtime"] == "python3.13", name
        assert settings["Architectures"] == ["arm64"], name
        assert settings["Handler"] == "app.handler", name
        assert settings["Tracing"] == "Active", name
        assert {"Ref": "TrapheusLayer"} in settings["Layers"], name


def test_every_function_logs_to_its_own_log_group_with_retention(template, functions):
    log_groups = resources_of_type(template, "AWS::Logs::LogGroup")
    used = []
    for name, function in functions.items():
        group = function["Properties"]["LoggingConfig"]["LogGroup"]["Ref"]
        used.append(group)
        assert log_groups[group]["Properties"]["RetentionInDays"] == {"Ref": "LogRetentionDays"}, name
        assert "KmsKeyId" in log_groups[group]["Properties"], name
    assert len(used) == len(set(used)), "two functions share a log group"


def test_every_function_has_its_own_role(functions):
    roles = [function["Properties"]["Role"]["Fn::GetAtt"][0] for function in functions.values()]
    assert len(roles) == len(set(roles))


def test_every_function_is_built_by_its_makefile(functions):
    for name, function in functions.items():
        assert function["Metadata"]["BuildMethod"] == "makefile", name
        makefile = (REPO / function["Properties"]["CodeUri"] / "Makefile").read_text()
        assert re.search(rf"^build-{name}:\n\tcp app.py \"\$\(ARTIFACTS_DIR\)/\"$", makefile, re.M), name


def test_layer_is_built_for_the_lambda_runtime(template):
    layer = template["Resources"]["TrapheusLayer"]
    assert layer["Type"] == "AWS::Serverless::LayerVersion"
    assert layer["Metadata"]["BuildMethod"] == "makefile"
    assert layer["Properties"]["ContentUri"] == "src/layer"
    assert layer["Properties"]["CompatibleRuntimes"] == ["python3.13"]
    assert layer["Properties"]["CompatibleArchitectures"] == ["arm64"]
    makefile = (REPO / "src/layer/Makefile").read_text()
    assert "build-TrapheusLayer:" in makefile
    for flag in (
        "--platform manylinux2014_aarch64",
        "--python-version 3.13",
        "--only-binary=:all:",
        "--implementation cp",
        '--target "$(ARTIFACTS_DIR)/python"',
    ):
        assert flag in makefile, flag
    assert 'cp -R python/trapheus "$(ARTIFACTS_DIR)/python/"' in makefile


def pins(path: Path) -> dict[str, str]:
    found = {}
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line and not line.startswith("-"):
            name, _, version = line.partition("==")
            found[name.strip().lower()] = version.strip()
    return found


def test_layer_requirements_match_the_runtime_pins():
    assert pins(REPO / "src/layer/requirements.txt") == pins(REPO / "requirements.txt")


# The functions each workflow's definition is handed; every function of the template belongs to one.
WORKFLOW_FUNCTIONS = {
    "RestoreStateMachine": {"ValidateInputFunction", "SnapshotFunction", "RenameFunction", "RestoreFunction",
                            "DeleteFunction", "CheckStatusFunction", "ExportSnapshotFunction", "EmailAlertFunction",
                            "SlackAlertFunction", "SnsAlertFunction", "VerifyHookFunction", "RunReportFunction"},
    "RecoverStateMachine": {"ValidateInputFunction", "RunReportFunction", "EmailAlertFunction", "SlackAlertFunction",
                            "SnsAlertFunction"},
    "BackupStateMachine": {"BackupPlanFunction", "EmailAlertFunction", "SlackAlertFunction", "SnsAlertFunction"},
    "BackupDatabaseStateMachine": {"BackupDatabaseFunction", "CheckStatusFunction"},
    "CopyStateMachine": {"CopyFunction", "CheckStatusFunction", "VerifyHookFunction", "EmailAlertFunction", "SlackAlertFunction",
                         "SnsAlertFunction"},
}


def test_every_function_serves_a_workflow(functions):
    # the table workflows' functions: tests/template/test_table_template.py
    assert set().union(*WORKFLOW_FUNCTIONS.values()) == {name for name in functions if not name.startswith("Table")}


def test_backup_state_machines_get_their_functions_the_child_and_the_poll_settings(template):
    for name, uri in (("BackupStateMachine", "statemachine/backup.asl.json"),
                      ("BackupDatabaseStateMachine", "statemachine/backup_database.asl.json")):  # fmt: skip
        machine = template["Resources"][name]["Properties"]
        assert machine["DefinitionUri"] == uri
        substitutions = machine["DefinitionSubstitutions"]
        for function in WORKFLOW_FUNCTIONS[name]:
            assert substitutions[f"{function}Arn"] == {"Fn::GetAtt": [function, "Arn"]}, (name, function)
    parent = template["Resources"]["BackupStateMachine"]["Properties"]["DefinitionSubstitutions"]
    assert parent["BackupDatabaseStateMachineArn"] == {"Ref": "BackupDatabaseStateMachine"}
    child = template["Resources"]["BackupDatabaseStateMachine"]["Properties"]["DefinitionSubstitutions"]
    assert child["PollIntervalSeconds"] == {"Ref": "PollIntervalSeconds"} and child["LockTableName"] == {"Ref": "LockTable"}


def test_state_machine_gets_every_function_and_the_poll_settings(template, functions):
    machine = template["Resources"]["RestoreStateMachine"]["Properties"]
    assert machine["DefinitionUri"] == "statemachine/restore.asl.json"
    substitutions = machine["DefinitionSubstitutions"]
    expected = {f"{name}Arn": {"Fn::GetAtt": [name, "Arn"]} for name in WORKFLOW_FUNCTIONS["RestoreStateMachine"]}
    expected["PollIntervalSeconds"] = {"Ref": "PollIntervalSeconds"}
    expected["MaxPollAttempts"] = {"Ref": "MaxPollAttempts"}
    expected["LockTableName"] = {"Ref": "LockTable"}
    assert substitutions == expected
    assert template["Parameters"]["PollIntervalSeconds"]["Default"] == 30
    assert template["Parameters"]["MaxPollAttempts"]["Default"] == 240


def test_state_machine_logs_and_traces(template):
    machine = template["Resources"]["RestoreStateMachine"]["Properties"]
    assert machine["Logging"]["Level"] == "ALL"
    assert machine["Logging"]["Destinations"][0]["CloudWatchLogsLogGroup"]["LogGroupArn"] == {
        "Fn::GetAtt": ["RestoreStateMachineLogGroup", "Arn"]
    }
    assert machine["Tracing"] == {"Enabled": True}


NAME_PROPERTIES = (
    "FunctionName", "RoleName", "LogGroupName", "BucketName", "Name", "LayerName", "StateMachineName",
    "GroupName", "ManagedPolicyName", "AliasName", "TableName", "TopicName", "QueueName",
)  # fmt: skip


def test_every_fixed_name_derives_from_the_stack_name(template):
    """Two stacks in one account and region must not collide on any name."""
    for name, resource in template["Resources"].items():
        for prop in NAME_PROPERTIES:
            value = resource.get("Properties", {}).get(prop)
            if value is None:
                continue
            assert "${AWS::StackName}" in str(value.get("Fn::Sub", "")), f"{name}.{prop} = {value!r}"


def test_every_taggable_resource_carries_the_app_tags(template):
    expected_list = [
        {"Key": "AppName", "Value": {"Ref": "AppName"}},
        {"Key": "AppComponent", "Value": {"Ref": "AppComponent"}},
        {"Key": "AppFunction", "Value": {"Ref": "AppFunction"}},
    ]
    expected_map = {tag["Key"]: tag["Value"] for tag in expected_list}
    untaggable = {"AWS::Serverless::LayerVersion", "AWS::S3::BucketPolicy", "AWS::IAM::ManagedPolicy",
                  "AWS::Scheduler::Schedule"}  # fmt: skip
    for name, resource in template["Resources"].items():
        if resource["Type"] in untaggable:
            continue
        tags = resource.get("Properties", {}).get("Tags")
        if resource["Type"] == FUNCTION_TYPE:
            tags = template["Globals"]["Function"]["Tags"]
        assert tags in (expected_list, expected_map), f"{name} tags: {tags!r}"
    assert {p: template["Parameters"][p]["Default"] for p in ("AppName", "AppComponent", "AppFunction")} == {
        "AppName": "trapheus",
        "AppComponent": "database",
        "AppFunction": "RestoreDB",
    }


def test_safe_defaults(template):
    defaults = {name: spec.get("Default") for name, spec in template["Parameters"].items()}
    assert defaults["FinalSnapshotOnDelete"] == "true"
    assert defaults["KeepAutomatedBackups"] == "true"
    assert defaults["ExportByDefault"] == "false"
    assert defaults["UseVpc"] == "false"
    assert defaults["ScheduleExpression"] == ""
    assert defaults["PassableRoleArns"] == ""


def references(node, target: str, path: str = "") -> list[str]:
    """Paths where ``node`` refers to ``target`` (Ref, GetAtt or inside a Sub string)."""
    if isinstance(node, dict):
        if node.get("Ref") == target or "${" + target + "}" in str(node.get("Fn::Sub", "")):
            return [path]
        return [hit for key, value in node.items() for hit in references(value, target, f"{path}/{key}")]
    if isinstance(node, list):
        return [hit for i, value in enumerate(node) for hit in references(value, target, f"{path}/{i}")]
    return []


def test_slack_webhook_urls_flow_only_into_the_stack_owned_secret(template):
    assert template["Parameters"]["SlackWebhookUrls"]["NoEcho"] is True
    used = references({"Resources": template["Resources"], "Outputs": template["Outputs"],
                       "Globals": template["Globals"]}, "SlackWebhookUrls")  # fmt: skip
    assert used == ["/Resources/SlackWebhooksSecret/Properties/SecretString"]


def test_checkov_skips_have_reasons(template):
    for name, resource in template["Resources"].items():
        for skip in resource.get("Metadata", {}).get("checkov", {}).get("skip", []):
            assert len(skip.get("comment", "")) > 30, f"{name}: skip {skip.get('id')} without a reason"


def test_only_the_documented_state_machines_exist(template):
    assert set(state_machines(template)) == set(WORKFLOW_FUNCTIONS) | {"TableBackupStateMachine", "TableRestoreStateMachine"}
