"""install.py builds the right sam commands and never drops a setting (sam itself is never run)."""

from __future__ import annotations

import importlib.util
import json
import re
import subprocess
import sys

import pytest

from template_support import REPO, TOOLS_MISSING, load_template, tools_may_be_missing

spec = importlib.util.spec_from_file_location("trapheus_install", REPO / "install.py")
install = importlib.util.module_from_spec(spec)
sys.modules["trapheus_install"] = install
spec.loader.exec_module(install)

SAM_PYTHON = REPO / ".venv-tools" / "sam" / "bin" / "python"
NO_TTY_CI = {"CI": "true"}


class Recorder:
    """Stands in for subprocess: records each command, answers with the given exit statuses."""

    def __init__(self, *statuses: int):
        self.commands: list[list[str]] = []
        self.statuses = list(statuses)

    def __call__(self, command):
        self.commands.append(list(command))
        return self.statuses.pop(0) if self.statuses else 0


def no_prompt(question: str) -> str:
    raise AssertionError(f"prompted although not interactive: {question}")


def answers(mapping: dict[str, str], default: str = ""):
    """A prompt that answers by the first mapping key found in the question."""
    asked: list[str] = []

    def prompt(question: str) -> str:
        asked.append(question)
        for key, value in mapping.items():
            if key in question:
                return value
        return default

    prompt.asked = asked
    return prompt


def parse_overrides(command: list[str], flag: str = "--parameter-overrides") -> dict[str, str]:
    """Read Key=Value tokens back the way sam does for quoted values (see sam_value)."""
    if flag not in command:
        return {}
    tokens = command[command.index(flag) + 1 :]
    parsed = {}
    for token in tokens:
        if token.startswith("--"):
            break
        name, _, value = token.partition("=")
        if value.startswith('"') and value.endswith('"') and len(value) >= 2:
            value = value[1:-1].replace('\\"', '"')
        parsed[name] = value
    return parsed


EVERY_SETTING = {
    "SenderEmail": "trapheus@example.com",
    "RecipientEmails": "dba@example.com,ops@example.com",
    "EmailConfigurationSet": "trapheus-alerts",
    "SlackWebhookUrls": "https://hooks.slack.com/services/T0/B0/secret",
    "UseVpc": "true",
    "VpcId": "vpc-0abc1234",
    "SubnetIds": "subnet-0aaa1111,subnet-0bbb2222",
    "PollIntervalSeconds": "5",
    "MaxPollAttempts": "12",
    "DefaultStrategy": "in-place",
    "LockTimeoutMinutes": "60",
    "RetainOldCopyHours": "24",
    "FinalSnapshotOnDelete": "false",
    "KeepAutomatedBackups": "false",
    "ExportByDefault": "true",
    "ExportRetentionDays": "30",
    "ScheduleExpression": "cron(0 3 * * ? *)",
    "ScheduleInput": '{"identifier": "orders-db", "task": "create_snapshot_only", "isCluster": false}',
    "AlertTopicArn": "arn:aws:sns:us-east-1:123456789012:pager",
    "BackupConcurrency": "5",
    "CopiesInFlightPerRegion": "10",
    "BackupKmsKeyArns": "arn:aws:kms:us-west-2:123456789012:key/def",
    "BackupScheduleExpression": "rate(1 hour)",
    "BackupScheduleInput": '{"policy": "hourly", "select": {"pattern": "^orders-"}, "everyMinutes": 60, "keep": {"count": 24}}',
    "DrAccountIds": "222233334444",
    "DrReportRoleArn": "arn:aws:iam::222233334444:role/trapheus-dr-report",
    "DrReportTableName": "trapheus-dr-DrReportTable-ABC",
    "DrReportRegion": "us-east-1",
    "DrCopyTriggerRoleArn": "arn:aws:iam::222233334444:role/trapheus-dr-trigger",
    "DrCopyStateMachineArn": "arn:aws:states:us-east-1:222233334444:stateMachine:trapheus-dr-dr-copy",
    "ManagedDatabasePattern": "orders-*",
    "PassableRoleArns": "arn:aws:iam::123456789012:role/rds-monitoring",
    "DatabaseKmsKeyArns": "arn:aws:kms:us-east-1:123456789012:key/abc",
    "VerifyFunctionArns": "arn:aws:lambda:us-east-1:123456789012:function:orders-smoke-query",
    "PermissionsBoundaryArn": "arn:aws:iam::123456789012:policy/trapheus/trapheus-prod-boundary",
    "TablePermissionsBoundaryArn": "arn:aws:iam::123456789012:policy/trapheus/trapheus-prod-table-boundary",
    "CopyPermissionsBoundaryArn": "arn:aws:iam::123456789012:policy/trapheus/trapheus-prod-copy-boundary",
    "ManagedTablePattern": "orders*",
    "TableKmsKeyArns": "arn:aws:kms:us-east-1:123456789012:key/def",
    "TableBackupRetentionDays": "14",
    "TableBackupsToKeep": "7",
    "TableScanConcurrency": "16",
    "TableLoadConcurrency": "2",
    "TableItemsPerInvocation": "100000",
    "TableCopyBucketArns": "arn:aws:s3:::orders-dr-backups",
    "TableCopyKmsKeyArns": "arn:aws:kms:eu-west-1:210987654321:key/ghi",
    "TableBackupScheduleExpression": "rate(1 day)",
    "TableBackupScheduleInput": '{"table": "orders", "keep": 7}',
    "CopyHostedZoneIds": "Z0123456789ABCDEFGHIJ",
    "CopyDroppedTagKeys": "backup,backup-policy",
    "DrCatalogBucketName": "trapheus-dr-drcatalogbucket-abcd1234",
    "CopyScheduleExpression": "cron(0 5 ? * MON-FRI *)",
    "CopyScheduleInput": '{"source": "orders", "isCluster": false, "lifecycle": "orders-staging", "action": "drill"}',
    "LogRetentionDays": "30",
    "LogLevel": "DEBUG",
    "AppName": "trapheus-prod",
    "AppComponent": "db team",
    "AppFunction": "Restore'DB",
}


def flags_for(settings: dict[str, str]) -> list[str]:
    return [arg for name, value in settings.items() for arg in (install.BY_NAME[name].flag, value)]


def test_installer_knows_exactly_the_template_parameters_and_defaults():
    parameters = load_template()["Parameters"]
    assert set(install.BY_NAME) == set(parameters)
    for name, spec in parameters.items():
        assert install.BY_NAME[name].default == str(spec.get("Default", "")), name
        allowed = tuple(str(v) for v in spec.get("AllowedValues", ()))
        if install.BY_NAME[name].choices:
            assert install.BY_NAME[name].choices == allowed, name
        assert install.BY_NAME[name].secret == bool(spec.get("NoEcho")), name
        assert install.BY_NAME[name].required == ("Default" not in spec), name
        if install.BY_NAME[name].pattern:
            assert install.BY_NAME[name].pattern == spec["AllowedPattern"], name
    assert install.BY_NAME["ManagedDatabasePattern"].required and install.BY_NAME["ManagedDatabasePattern"].pattern
    # The two Slack sources exclude each other; the existing secret and its key have their own test.
    assert set(EVERY_SETTING) | {"SlackWebhooksSecretArn", "SlackWebhooksSecretKmsKeyArn"} == set(parameters)


def test_existing_slack_secret_arn_and_its_key_are_passed():
    runner = Recorder()
    arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:slack-AbCdEf"
    key = "arn:aws:kms:us-east-1:123456789012:key/0d1e2f3a-1111-2222-3333-444455556666"
    assert install.main(["--slack-webhooks-secret-arn", arn, "--slack-webhooks-secret-kms-key-arn", key],
                        runner=runner, environ=NO_TTY_CI, stdin_isatty=False, prompt=no_prompt) == 0  # fmt: skip
    assert parse_overrides(runner.commands[-1]) == {"SlackWebhooksSecretArn": arn, "SlackWebhooksSecretKmsKeyArn": key}


def test_non_interactive_run_passes_every_setting_given():
    runner = Recorder()
    argv = ["--stack-name", "trapheus-prod", "--region", "eu-west-1", *flags_for(EVERY_SETTING)]
    assert install.main(argv, runner=runner, environ=NO_TTY_CI, stdin_isatty=False, prompt=no_prompt) == 0
    build, deploy = runner.commands
    assert build == ["sam", "build", "--template-file", "template.yaml"]
    assert deploy[:4] == ["sam", "deploy", "--stack-name", "trapheus-prod"]
    assert "--no-confirm-changeset" in deploy and "--resolve-s3" in deploy
    assert deploy[deploy.index("--region") + 1] == "eu-west-1"
    assert parse_overrides(deploy) == EVERY_SETTING
    assert parse_overrides(deploy, "--tags") == {
        "AppName": "trapheus-prod", "AppComponent": "db team", "AppFunction": "Restore'DB",
    }  # fmt: skip


def test_settings_not_given_are_left_to_the_template_defaults():
    runner = Recorder()
    assert install.main(["--sender-email", "a@example.com"], runner=runner, environ=NO_TTY_CI,
                        stdin_isatty=False, prompt=no_prompt) == 0  # fmt: skip
    deploy = runner.commands[-1]
    assert parse_overrides(deploy) == {"SenderEmail": "a@example.com"}
    assert deploy[deploy.index("--stack-name") + 1] == "trapheus"
    assert parse_overrides(deploy, "--tags") == {"AppName": "trapheus", "AppComponent": "database",
                                                 "AppFunction": "RestoreDB"}  # fmt: skip


def test_generic_parameter_flag_and_environment_secret():
    runner = Recorder()
    environ = {"CI": "1", install.SLACK_URLS_ENV: "https://hooks.slack.com/services/T/B/env"}
    argv = ["--parameter", "PollIntervalSeconds=10", "--parameter", "ScheduleExpression=rate(1 day)"]
    assert install.main(argv, runner=runner, environ=environ, stdin_isatty=True, prompt=no_prompt) == 0
    assert parse_overrides(runner.commands[-1]) == {
        "PollIntervalSeconds": "10",
        "ScheduleExpression": "rate(1 day)",
        "SlackWebhookUrls": "https://hooks.slack.com/services/T/B/env",
    }


def test_guided_without_a_terminal_does_not_prompt(capsys):
    runner = Recorder()
    assert install.main(["--guided"], runner=runner, environ={}, stdin_isatty=False, prompt=no_prompt) == 0
    assert "not prompting" in capsys.readouterr().err
    assert len(runner.commands) == 2


def test_guided_run_asks_and_passes_the_answers():
    runner = Recorder()
    prompt = answers({"Stack name": "guided-stack", "sender": "me@example.com", "Recipients": "you@example.com",
                      "Databases trapheus may change": "orders-*",
                      "VPC?": "true", "VPC id": "vpc-0123abcd", "subnet": "subnet-1,subnet-2",
                      "Schedule,": "rate(7 days)", "Execution input": '{"identifier": "db", "task": "db_restore", '
                      '"isCluster": false}'})  # fmt: skip
    secret = answers({}, default="https://hooks.slack.com/services/T/B/typed")
    assert install.main(["--guided", "--poll-interval-seconds", "15"], runner=runner, environ={}, stdin_isatty=True,
                        prompt=prompt, secret_prompt=secret) == 0  # fmt: skip
    deploy = runner.commands[-1]
    assert deploy[deploy.index("--stack-name") + 1] == "guided-stack"
    assert "--confirm-changeset" in deploy
    assert parse_overrides(deploy) == {
        "PollIntervalSeconds": "15",
        "SenderEmail": "me@example.com",
        "RecipientEmails": "you@example.com",
        "SlackWebhookUrls": "https://hooks.slack.com/services/T/B/typed",
        "UseVpc": "true",
        "VpcId": "vpc-0123abcd",
        "SubnetIds": "subnet-1,subnet-2",
        "ScheduleExpression": "rate(7 days)",
        "ScheduleInput": '{"identifier": "db", "task": "db_restore", "isCluster": false}',
        "ManagedDatabasePattern": "orders-*",
    }
    assert not any("Seconds between" in q for q in prompt.asked), "asked for a setting given as a flag"
    assert len(secret.asked) == 1


def test_guided_run_repeats_a_question_until_the_answer_is_allowed(capsys):
    runner = Recorder()
    replies = {"Attach the functions": iter(["maybe", "false"]), "Databases trapheus": iter(["", "Orders-*", "orders-*"])}
    asked: list[str] = []

    def prompt(question: str) -> str:
        asked.append(question)
        return next((next(r) for start, r in replies.items() if question.startswith(start)), "")

    assert install.main(["--guided"], runner=runner, environ={}, stdin_isatty=True, prompt=prompt,
                        secret_prompt=lambda question: "") == 0  # fmt: skip
    assert sum(q.startswith("Attach the functions") for q in asked) == 2
    assert sum(q.startswith("Databases trapheus") for q in asked) == 3
    out = capsys.readouterr().out
    assert "choose one of: true, false" in out
    assert "a value is required" in out and "must match ^[a-z0-9*?-]+$" in out
    assert parse_overrides(runner.commands[-1]) == {"ManagedDatabasePattern": "orders-*"}


def test_dry_run_prints_the_commands_masks_the_secret_and_runs_nothing(capsys):
    runner = Recorder()
    argv = ["--dry-run", "--slack-webhook-urls", "https://hooks.slack.com/services/T/B/topsecret",
            "--schedule-expression", "rate(1 day)"]  # fmt: skip
    assert install.main(argv, runner=runner, environ=NO_TTY_CI, stdin_isatty=False, prompt=no_prompt) == 0
    out = capsys.readouterr().out
    assert runner.commands == []
    assert "would run: sam build --template-file template.yaml" in out
    assert "would run: sam deploy" in out and "SlackWebhookUrls=****" in out
    assert "topsecret" not in out
    assert "'ScheduleExpression=\"rate(1 day)\"'" in out


def test_failed_build_stops_before_deploy(capsys):
    runner = Recorder(3)
    assert install.main([], runner=runner, environ=NO_TTY_CI, stdin_isatty=False, prompt=no_prompt) == 3
    assert [c[1] for c in runner.commands] == ["build"]
    assert "failed with exit status 3" in capsys.readouterr().err


def test_skip_build_deploys_only():
    runner = Recorder()
    assert install.main(["--skip-build"], runner=runner, environ=NO_TTY_CI, stdin_isatty=False) == 0
    assert [c[1] for c in runner.commands] == ["deploy"]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--use-vpc", "true", "--vpc-id", "vpc-0abc1234"], "UseVpc=true needs VpcId and SubnetIds"),
        (["--slack-webhook-urls", "https://x", "--slack-webhooks-secret-arn", "arn:aws:secretsmanager:x"],
         "not both"),  # fmt: skip
        (["--schedule-expression", "rate(1 day)", "--schedule-input", "{not json"], "ScheduleInput is not JSON"),
        (["--parameter", "NoSuchParameter=1"], "expected NAME=VALUE"),
        (["--sender-email", "a\\b@example.com"], "backslashes"),
        (["--managed-database-pattern", "Orders-*"], "ManagedDatabasePattern: must match"),
        (["--slack-webhooks-secret-kms-key-arn", "arn:aws:kms:us-east-1:123456789012:key/k"], "give both"),
    ],
)
def test_impossible_settings_are_refused_before_anything_runs(argv, message, capsys):
    runner = Recorder()
    assert install.main(argv, runner=runner, environ=NO_TTY_CI, stdin_isatty=False, prompt=no_prompt) == 2
    assert runner.commands == []
    assert message in capsys.readouterr().err


def test_install_runs_without_stdin_under_ci():
    """The real entry point: CI=true, stdin closed, --dry-run so sam is not needed."""
    result = subprocess.run(
        [sys.executable, str(REPO / "install.py"), "--dry-run", "--sender-email", "a@example.com"],
        stdin=subprocess.DEVNULL, capture_output=True, text=True, env={"CI": "true", "PATH": "/usr/bin:/bin"},
        timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert re.search(r"would run: sam deploy .*--parameter-overrides SenderEmail=a@example.com", result.stdout)


@pytest.mark.skipif(not SAM_PYTHON.exists() and tools_may_be_missing(), reason=f"the SAM CLI {TOOLS_MISSING}")
def test_sam_reads_every_override_back_unchanged():
    """The quoting matches the SAM CLI's own --parameter-overrides and --tags parsers."""
    runner = Recorder()
    install.main(flags_for(EVERY_SETTING), runner=runner, environ=NO_TTY_CI, stdin_isatty=False, prompt=no_prompt)
    deploy = runner.commands[-1]
    start = deploy.index("--parameter-overrides") + 1
    tags = deploy[deploy.index("--tags") + 1 : deploy.index("--parameter-overrides")]
    program = (
        "import json, sys\n"
        "from samcli.cli.types import CfnParameterOverridesType, CfnTags\n"
        "args = json.loads(sys.stdin.read())\n"
        "print(json.dumps([CfnParameterOverridesType().convert(tuple(args['overrides']), None, None),\n"
        "                  CfnTags().convert(tuple(args['tags']), None, None)]))\n"
    )
    result = subprocess.run(
        [str(SAM_PYTHON), "-c", program], input=json.dumps({"overrides": deploy[start:], "tags": tags}),
        capture_output=True, text=True, timeout=120, check=True,
    )  # fmt: skip
    overrides, parsed_tags = json.loads(result.stdout)
    assert overrides == EVERY_SETTING
    assert parsed_tags == {"AppName": "trapheus-prod", "AppComponent": "db team", "AppFunction": "Restore'DB"}


# -- --config-env: the path the CI pipeline takes ------------------------------------------------------

STAGING = """\
version = 0.1

[default.deploy.parameters]
stack_name = "trapheus"
confirm_changeset = true

[staging.global.parameters]
stack_name = "ignored-by-deploy"

[staging.deploy.parameters]
stack_name = "trapheus-staging"
s3_bucket = "octo-deploy-artifacts"
parameter_overrides = [
  "ManagedDatabasePattern=staging-*",
  'ScheduleExpression="rate(1 day)"',
  "SenderEmail=trapheus@example.com RecipientEmails=dba@example.com",
]
"""


def samconfig(tmp_path, text: str = STAGING):
    path = tmp_path / "samconfig.toml"
    path.write_text(text)
    return path


def test_config_env_deploys_exactly_what_the_environment_says(tmp_path):
    runner = Recorder()
    assert install.main(["--config-env", "staging"], runner=runner, environ=NO_TTY_CI, stdin_isatty=False,
                        prompt=no_prompt, samconfig=samconfig(tmp_path)) == 0  # fmt: skip
    build, deploy = runner.commands
    assert build == ["sam", "build", "--template-file", "template.yaml"]
    assert deploy[:6] == ["sam", "deploy", "--config-env", "staging", "--stack-name", "trapheus-staging"]
    assert deploy[deploy.index("--s3-bucket") + 1] == "octo-deploy-artifacts" and "--resolve-s3" not in deploy
    assert deploy[deploy.index("--s3-prefix") + 1] == "trapheus-staging"
    assert {"--no-confirm-changeset", "--no-fail-on-empty-changeset"} <= set(deploy)
    assert deploy[deploy.index("--capabilities") + 1] == "CAPABILITY_IAM"
    assert parse_overrides(deploy) == {
        "ManagedDatabasePattern": "staging-*",
        "ScheduleExpression": "rate(1 day)",
        "SenderEmail": "trapheus@example.com",
        "RecipientEmails": "dba@example.com",
    }


def test_flags_and_the_slack_variable_win_over_the_environment(tmp_path):
    runner = Recorder()
    environ = {**NO_TTY_CI, install.SLACK_URLS_ENV: "https://hooks.slack.com/services/T/B/env"}
    argv = ["--config-env", "staging", "--managed-database-pattern", "orders-*", "--stack-name", "trapheus-qa"]
    assert install.main(argv, runner=runner, environ=environ, stdin_isatty=False, prompt=no_prompt,
                        samconfig=samconfig(tmp_path)) == 0  # fmt: skip
    deploy = runner.commands[-1]
    assert deploy[deploy.index("--stack-name") + 1] == "trapheus-qa"
    overrides = parse_overrides(deploy)
    assert overrides["ManagedDatabasePattern"] == "orders-*"
    assert overrides["SlackWebhookUrls"] == "https://hooks.slack.com/services/T/B/env"
    assert overrides["SenderEmail"] == "trapheus@example.com"


def test_show_stack_name_prints_the_environments_stack_and_runs_nothing(tmp_path, capsys):
    runner = Recorder()
    assert install.main(["--config-env", "staging", "--show-stack-name"], runner=runner, environ=NO_TTY_CI,
                        stdin_isatty=False, prompt=no_prompt, samconfig=samconfig(tmp_path)) == 0  # fmt: skip
    assert capsys.readouterr().out == "trapheus-staging\n"
    assert runner.commands == []


def test_the_environments_region_must_match_the_jobs(tmp_path, capsys):
    text = STAGING.replace('stack_name = "trapheus-staging"', 'stack_name = "trapheus-staging"\nregion = "eu-west-1"')
    path = samconfig(tmp_path, text)
    runner = Recorder()
    assert install.main(["--config-env", "staging"], runner=runner, environ={**NO_TTY_CI, "AWS_REGION": "eu-west-1"},
                        stdin_isatty=False, prompt=no_prompt, samconfig=path) == 0  # fmt: skip
    assert runner.commands[-1][runner.commands[-1].index("--region") + 1] == "eu-west-1"
    elsewhere = {**NO_TTY_CI, "AWS_REGION": "us-east-1"}
    assert install.main(["--config-env", "staging"], runner=Recorder(), environ=elsewhere, stdin_isatty=False,
                        prompt=no_prompt, samconfig=path) == 2  # fmt: skip
    assert "deploys to eu-west-1 but AWS_REGION is us-east-1" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("text", "argv", "message"),
    [
        (STAGING, ["--config-env", "prod"], "has no [prod] environment (environments: default, staging)"),
        (STAGING + '\n[qa.deploy.parameters]\nstack_name = "qa"\nconfirm_changeset = true\n', ["--config-env", "qa"],
         "sets confirm_changeset: install.py decides it itself"),
        (STAGING + '\n[qa.deploy.parameters]\nstack_name = "qa"\nparameter_overrides = "SlackWebhookUrls=https://x"\n',
         ["--config-env", "qa"], "secrets do not belong in a file"),
        (STAGING + '\n[qa.deploy.parameters]\nstack_name = "qa"\n'
         'parameter_overrides = ["ScheduleExpression=rate(1 day)"]\n',
         ["--config-env", "qa"], "'day)': expected Name=Value"),
        (STAGING + '\n[qa.deploy.parameters]\nstack_name = "qa"\nparameter_overrides = "NoSuchParameter=1"\n',
         ["--config-env", "qa"], "'NoSuchParameter=1': expected Name=Value"),
        (STAGING + '\n[qa.deploy.parameters]\nparameter_overrides = "UseVpc=false"\n', ["--config-env", "qa"],
         "names no stack_name"),
        (STAGING + '\n[qa.deploy.parameters]\nstack_name = "qa"\nparameter_overrides = "UseVpc=true"\n',
         ["--config-env", "qa"], "UseVpc=true needs VpcId and SubnetIds"),
        (STAGING, ["--config-env", "staging", "--guided"], "--guided and --config-env exclude each other"),
        ("not toml [", ["--config-env", "staging"], "samconfig.toml:"),
    ],
)  # fmt: skip
def test_an_environment_that_cannot_deploy_as_written_is_refused_before_anything_runs(tmp_path, text, argv, message,
                                                                                       capsys):  # fmt: skip
    runner = Recorder()
    assert install.main(argv, runner=runner, environ=NO_TTY_CI, stdin_isatty=True, prompt=no_prompt,
                        samconfig=samconfig(tmp_path, text)) == 2  # fmt: skip
    assert runner.commands == []
    assert message in capsys.readouterr().err


@pytest.mark.parametrize("environment", ["staging", "production"])
def test_the_repositorys_ci_environments_deploy_with_both_boundaries_and_no_secrets(environment):
    env = install.read_config_env(install.SAMCONFIG, environment)
    assert env.stack_name == f"trapheus-{environment}"
    # the ARNs ci/deploy-role.yaml gives its two boundaries (ManagedPolicyName, path /trapheus/)
    assert env.overrides["PermissionsBoundaryArn"].endswith(f":policy/trapheus/trapheus-{environment}-boundary")
    assert env.overrides["TablePermissionsBoundaryArn"].endswith(
        f":policy/trapheus/trapheus-{environment}-table-boundary"
    )
    assert env.overrides["ManagedDatabasePattern"] != "*", "CI environments confine the stack to some databases"
    assert not any(install.BY_NAME[name].secret for name in env.overrides)
    runner = Recorder()
    assert install.main(["--config-env", environment], runner=runner, environ=NO_TTY_CI, stdin_isatty=False,
                        prompt=no_prompt) == 0  # fmt: skip
    assert parse_overrides(runner.commands[-1]) == env.overrides


@pytest.mark.skipif(not SAM_PYTHON.exists() and tools_may_be_missing(), reason=f"the SAM CLI {TOOLS_MISSING}")
def test_sam_reads_the_environments_parameter_overrides_as_install_py_does(tmp_path):
    """Someone running `sam deploy --config-env` by hand gets the same parameters."""
    import tomllib

    documents = {"example": tomllib.loads(STAGING), "repository": tomllib.loads(install.SAMCONFIG.read_text())}
    program = (
        "import json, sys\n"
        "from samcli.cli.types import CfnParameterOverridesType\n"
        "print(json.dumps(CfnParameterOverridesType().convert(json.loads(sys.stdin.read()), None, None)))\n"
    )
    for label, document in documents.items():
        for environment in ("staging", "production"):
            if environment not in document:
                continue
            value = document[environment]["deploy"]["parameters"]["parameter_overrides"]
            result = subprocess.run([str(SAM_PYTHON), "-c", program], input=json.dumps(value), capture_output=True,
                                    text=True, timeout=120, check=True)  # fmt: skip
            path = tmp_path / f"{label}.toml"
            path.write_text(STAGING if label == "example" else install.SAMCONFIG.read_text())
            assert json.loads(result.stdout) == install.read_config_env(path, environment).overrides, label
