#!/usr/bin/env python3
"""Build and deploy trapheus into your AWS account with the AWS SAM CLI.

Guided (asks for each setting):      python install.py --guided
Non-interactive (CI, scripts):       python install.py --stack-name trapheus --sender-email ops@example.com ...
An environment of samconfig.toml:    python install.py --config-env staging
See the commands without running:    python install.py --dry-run ...

Without --guided the installer never prompts; with no terminal on stdin or with
CI=true it never prompts either. Every setting given is passed to `sam deploy`
as a parameter override; a setting not given takes the template default on the
first deploy and keeps its current value on an update. ManagedDatabasePattern has
no default: a first deploy needs it (guided mode asks until it gets one).
The Slack webhook URLs may also come from TRAPHEUS_SLACK_WEBHOOK_URLS so they
stay out of shell history; they are masked in everything this script prints.

--config-env ENV takes the stack name, region, artifacts bucket and parameter
overrides from the [ENV] tables of samconfig.toml (flags given as well win over
the file). It is how the CI pipeline in docs/ci/ deploys, so a pipeline and a
laptop run the same sam commands.
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
import re
import shlex
import subprocess
import sys
import tomllib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent
SAMCONFIG = REPO / "samconfig.toml"
DEFAULT_STACK_NAME = "trapheus"
SLACK_URLS_ENV = "TRAPHEUS_SLACK_WEBHOOK_URLS"
MASK = "****"
BOOLEAN = ("true", "false")

Runner = Callable[[Sequence[str]], int]
Prompt = Callable[[str], str]


@dataclass(frozen=True)
class Setting:
    """One template parameter the installer can set."""

    name: str
    question: str
    default: str = ""
    choices: tuple[str, ...] = ()
    secret: bool = False
    required: bool = False  # no template default: guided mode asks until it has a value
    pattern: str = ""  # the template's AllowedPattern, checked before sam runs

    @property
    def flag(self) -> str:
        return "--" + "".join("-" + c.lower() if c.isupper() else c for c in self.name).lstrip("-")

    @property
    def dest(self) -> str:
        return self.flag[2:].replace("-", "_")


# Same names and defaults as template.yaml's Parameters (tests/template checks both ways).
SETTINGS: tuple[Setting, ...] = (
    Setting("SenderEmail", "SES-verified sender address for failure emails (empty = no email)"),
    Setting("RecipientEmails", "Recipients of failure emails, comma separated (empty = no email)"),
    Setting("EmailConfigurationSet", "SES configuration set the failure emails go through (empty = none)"),
    Setting("SlackWebhooksSecretArn", "ARN of an existing secret with the Slack webhook URLs (empty = none)"),
    Setting(
        "SlackWebhooksSecretKmsKeyArn", "ARN of the customer managed KMS key of that secret (empty = aws/secretsmanager)"
    ),
    Setting("SlackWebhookUrls", "Slack webhook URLs to store in a new secret (empty = none)", secret=True),
    Setting("UseVpc", "Attach the functions to your VPC?", "false", BOOLEAN),
    Setting("VpcId", "VPC id (when UseVpc is true)"),
    Setting("SubnetIds", "Private subnet ids, comma separated (when UseVpc is true)"),
    Setting("PollIntervalSeconds", "Seconds between status checks", "30"),
    Setting("MaxPollAttempts", "Status checks before a wait is given up", "240"),
    Setting("DefaultStrategy", "Restore strategy when the input names none", "swap", ("swap", "in-place")),
    Setting("LockTimeoutMinutes", "Minutes after which a crashed run's lock on a database expires", "720"),
    Setting("RetainOldCopyHours", "Hours to keep the replaced original as a rollback window (0 = retire at once)", "0"),
    Setting("FinalSnapshotOnDelete", "Final snapshot of the retired original?", "true", BOOLEAN),
    Setting("KeepAutomatedBackups", "Keep the retired original's automated backups?", "true", BOOLEAN),
    Setting("ExportByDefault", "Export new snapshots to S3 unless the input says otherwise?", "false", BOOLEAN),
    Setting("ExportRetentionDays", "Days exports are kept in the bucket", "90"),
    Setting("ScheduleExpression", 'Schedule, e.g. "rate(1 day)" (empty = no schedule)'),
    Setting("ScheduleInput", "Execution input (JSON) for the schedule"),
    Setting("AlertTopicArn", "An existing SNS topic for failure alerts as JSON (empty = the stack creates one)"),
    Setting("BackupConcurrency", "Databases a backup run works on at a time", "10"),
    Setting("CopiesInFlightPerRegion", "Snapshot copies RDS runs at a time to one destination Region", "20"),
    Setting("BackupKmsKeyArns", "Customer managed keys backup copies are encrypted with, comma separated (empty = none)"),
    Setting("BackupScheduleExpression", 'Backup schedule, e.g. "rate(1 hour)" (empty = none; more with trapheus schedule)'),
    Setting("BackupScheduleInput", "Backup policy (JSON) for that schedule"),
    Setting("DrAccountIds", "DR accounts that may read the backed-up databases' configuration (empty = none)"),
    Setting("DrReportRoleArn", "The DR stack's report reader role ARN (empty = RPO from this side only)"),
    Setting("DrReportTableName", "The DR stack's report table name"),
    Setting("DrReportRegion", "Region of the DR report table (empty = this Region)"),
    Setting("DrCopyTriggerRoleArn", "The DR stack's copy trigger role ARN (empty = the DR schedule finds new shares)"),
    Setting("DrCopyStateMachineArn", "The DR stack's copy workflow ARN"),
    Setting(
        "ManagedDatabasePattern",
        'Databases trapheus may change: a lower case IAM name pattern such as "orders-*" ("*" = every database)',
        required=True,
        pattern="^[a-z0-9*?-]+$",
    ),
    Setting("PassableRoleArns", "Role ARNs the restore may pass to RDS, comma separated (empty = none)"),
    Setting("DatabaseKmsKeyArns", "Customer managed KMS keys of your databases, comma separated (empty = none)"),
    Setting("VerifyFunctionArns", "Your Lambda functions a run may invoke to verify a restored copy, comma separated (empty = none)"),
    Setting("PermissionsBoundaryArn", "Permissions boundary policy for every role but the table ones (empty = none)"),
    Setting("TablePermissionsBoundaryArn", "Permissions boundary policy for the table roles (empty = none; both or neither)"),
    Setting("CopyPermissionsBoundaryArn", "Permissions boundary policy for the copy workflow's roles (empty = none; all or none)"),
    Setting("ManagedTablePattern", 'DynamoDB tables trapheus may back up, create and replace, e.g. "orders*"', "*"),
    Setting("TableKmsKeyArns", "Customer managed KMS keys of your tables, comma separated (empty = none)"),
    Setting("TableBackupRetentionDays", "Days table backups are kept in the bucket", "35"),
    Setting("TableBackupsToKeep", "Complete backups kept per table (0 = all, until they expire)", "0"),
    Setting("TableScanConcurrency", "Segments a table backup scans at once", "8"),
    Setting("TableLoadConcurrency", "Segments a table restore loads at once (write capacity)", "4"),
    Setting("TableItemsPerInvocation", "Items one scan or load invocation handles (0 = as many as time allows)", "0"),
    Setting("TableCopyBucketArns", "Bucket ARNs table backups may be copied to, comma separated (empty = none)"),
    Setting("TableCopyKmsKeyArns", "KMS keys of those buckets, comma separated (empty = their default encryption)"),
    Setting("TableBackupScheduleExpression", 'Table backup schedule, e.g. "rate(1 day)" (empty = none)'),
    Setting("TableBackupScheduleInput", 'Input of the scheduled table backup, e.g. {"table": "orders"}'),
    Setting("CopyHostedZoneIds", "Route 53 hosted zone ids copies may be promoted in, comma separated (empty = none)"),
    Setting("CopyDroppedTagKeys", "Tag keys a copy does not inherit from its source, comma separated", "backup"),
    Setting("DrCatalogBucketName", "In a DR account: the DR stack's catalog bucket, for copies of DR snapshots (empty = none)"),
    Setting("CopyScheduleExpression", 'Copy refresh or drill schedule, e.g. "cron(0 5 ? * MON-FRI *)" (empty = none)'),
    Setting("CopyScheduleInput", "Input of the scheduled copy run (the copy workflow's JSON)"),
    Setting("LogRetentionDays", "Days logs are kept", "365"),
    Setting("LogLevel", "Function log level", "INFO", ("DEBUG", "INFO", "WARNING", "ERROR")),
    Setting("AppName", "AppName tag", "trapheus"),
    Setting("AppComponent", "AppComponent tag", "database"),
    Setting("AppFunction", "AppFunction tag", "RestoreDB"),
)
BY_NAME = {setting.name: setting for setting in SETTINGS}
TAG_SETTINGS = ("AppName", "AppComponent", "AppFunction")
# What an environment of samconfig.toml may set; install.py decides every other sam option itself,
# so a deploy from CI and one from a laptop differ only in these.
CONFIG_ENV_KEYS = ("stack_name", "region", "parameter_overrides", "s3_bucket")


class InstallError(Exception):
    """The settings cannot produce a working deployment."""


@dataclass(frozen=True)
class Plan:
    stack_name: str
    region: str | None
    profile: str | None
    overrides: dict[str, str]
    confirm_changeset: bool
    build: bool = True
    config_env: str | None = None
    s3_bucket: str | None = None


@dataclass(frozen=True)
class ConfigEnv:
    """The settings one environment of samconfig.toml gives (deploy parameters over global ones)."""

    name: str
    stack_name: str | None
    region: str | None
    s3_bucket: str | None
    overrides: dict[str, str]


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="install.py",
        description="Build and deploy trapheus with the AWS SAM CLI.",
        epilog=f"The Slack webhook URLs can also be given in ${SLACK_URLS_ENV}.",
    )
    parser.add_argument("--stack-name", default=None, help=f"CloudFormation stack (default {DEFAULT_STACK_NAME})")
    parser.add_argument("--region", help="AWS region (default: your AWS configuration)")
    parser.add_argument("--profile", help="AWS named profile")
    parser.add_argument("--guided", action="store_true", help="ask for every setting not given as a flag")
    parser.add_argument(
        "--config-env",
        metavar="ENV",
        help="take stack name, region, artifacts bucket and parameter overrides from samconfig.toml's [ENV]",
    )
    parser.add_argument(
        "--show-stack-name", action="store_true", help="print the stack these settings deploy and run nothing"
    )
    parser.add_argument("--dry-run", action="store_true", help="print the sam commands instead of running them")
    parser.add_argument("--skip-build", action="store_true", help="deploy what the last `sam build` produced")
    parser.add_argument(
        "--confirm-changeset", action="store_true", help="let sam show the change set and ask before executing it"
    )
    parser.add_argument(
        "--parameter",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="any template parameter by its template name (repeatable)",
    )
    for setting in SETTINGS:
        parser.add_argument(
            setting.flag,
            dest=setting.dest,
            default=None,
            choices=setting.choices or None,
            help=f"{setting.question} [template parameter {setting.name}]",
        )
    return parser.parse_args(argv)


def is_interactive(environ: Mapping[str, str], stdin_isatty: bool) -> bool:
    ci = environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")
    return stdin_isatty and not ci


def given_overrides(args: argparse.Namespace, environ: Mapping[str, str]) -> dict[str, str]:
    """Every setting given by flag, --parameter or environment, by template parameter name."""
    overrides: dict[str, str] = {}
    for item in args.parameter:
        name, sep, value = item.partition("=")
        if not sep or name not in BY_NAME:
            raise InstallError(f"--parameter {item!r}: expected NAME=VALUE with NAME one of {', '.join(BY_NAME)}")
        overrides[name] = value
    if environ.get(SLACK_URLS_ENV):
        overrides["SlackWebhookUrls"] = environ[SLACK_URLS_ENV]
    for setting in SETTINGS:
        value = getattr(args, setting.dest)
        if value is not None:
            overrides[setting.name] = value
    return overrides


def read_config_env(path: Path, name: str) -> ConfigEnv:
    """One environment of samconfig.toml, refused if it sets what install.py decides or holds a secret."""
    try:
        document = tomllib.loads(path.read_text())
    except FileNotFoundError as error:
        raise InstallError(f"--config-env {name}: {path} does not exist") from error
    except tomllib.TOMLDecodeError as error:
        raise InstallError(f"{path.name}: {error}") from error
    table = document.get(name)
    if not isinstance(table, dict) or name == "version":
        known = ", ".join(key for key, value in document.items() if isinstance(value, dict)) or "none"
        raise InstallError(f"{path.name} has no [{name}] environment (environments: {known})")
    settings: dict[str, object] = {}
    for command in ("global", "deploy"):  # sam reads deploy parameters over global ones
        section = table.get(command, {}).get("parameters", {})
        for key, value in section.items():
            if key not in CONFIG_ENV_KEYS:
                raise InstallError(
                    f"{path.name} [{name}.{command}.parameters] sets {key}: install.py decides it itself; "
                    f"an environment may set only {', '.join(CONFIG_ENV_KEYS)}"
                )
            settings[key] = value
    overrides = parse_overrides(settings.get("parameter_overrides", []), f"{path.name} [{name}]")
    for setting_name in overrides:
        if BY_NAME[setting_name].secret:
            raise InstallError(
                f"{path.name} [{name}] holds {setting_name}: secrets do not belong in a file; "
                f"use SlackWebhooksSecretArn or ${SLACK_URLS_ENV}"
            )
    return ConfigEnv(
        name=name,
        stack_name=_text(settings.get("stack_name")),
        region=_text(settings.get("region")),
        s3_bucket=_text(settings.get("s3_bucket")),
        overrides=overrides,
    )


def _text(value: object) -> str | None:
    return str(value) if value not in (None, "") else None


def parse_overrides(value: object, where: str) -> dict[str, str]:
    """``Key=Value`` pairs from a samconfig parameter_overrides string or list, read the way sam reads them.

    A token without ``=`` (an unquoted space inside a value) is refused: sam would silently drop it.
    """
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not all(isinstance(item, str) for item in items):
        raise InstallError(f"{where}: parameter_overrides must be a string or a list of strings")
    overrides: dict[str, str] = {}
    for item in items:
        try:
            tokens = shlex.split(item)
        except ValueError as error:
            raise InstallError(f"{where}: parameter_overrides {item!r}: {error}") from error
        for token in tokens:
            name, sep, parsed = token.partition("=")
            if not sep or name not in BY_NAME:
                raise InstallError(
                    f"{where}: parameter_overrides {token!r}: expected Name=Value with Name a template parameter "
                    "(quote values that contain spaces)"
                )
            overrides[name] = parsed
    return overrides


def ask(overrides: dict[str, str], prompt: Prompt, secret_prompt: Prompt) -> dict[str, str]:
    """Guided mode: ask for each setting not given yet.

    Enter leaves a setting out: the template default on a first deploy, its current
    value on an update.
    """
    answers = dict(overrides)
    for setting in SETTINGS:
        if setting.name in answers or not _relevant(setting, answers):
            continue
        while True:
            if setting.secret:
                value = secret_prompt(f"{setting.question} (input hidden): ")
            else:
                shown = f" [{setting.default}]" if setting.default else ""
                value = prompt(f"{setting.question}{shown}: ").strip() or setting.default
            problem = _problem(setting, value)
            if problem is None:
                break
            print(f"  {problem}")
        if value != setting.default:
            answers[setting.name] = value
    return answers


def _problem(setting: Setting, value: str) -> str | None:
    """Why ``value`` cannot be given for ``setting`` (None: it can)."""
    if setting.required and not value:
        return "a value is required"
    if setting.choices and value not in setting.choices:
        return f"choose one of: {', '.join(setting.choices)}"
    if setting.pattern and value and not re.fullmatch(setting.pattern, value):
        return f"must match {setting.pattern} (lower case; IAM wildcards * and ?)"
    return None


def _relevant(setting: Setting, answers: Mapping[str, str]) -> bool:
    """Skip questions that cannot matter given earlier answers."""
    if setting.name in ("VpcId", "SubnetIds"):
        return answers.get("UseVpc") == "true"
    if setting.name == "SlackWebhookUrls":
        return not answers.get("SlackWebhooksSecretArn")
    if setting.name == "SlackWebhooksSecretKmsKeyArn":
        return bool(answers.get("SlackWebhooksSecretArn"))
    if setting.name == "EmailConfigurationSet":
        return bool(answers.get("SenderEmail"))
    if setting.name == "ScheduleInput":
        return bool(answers.get("ScheduleExpression"))
    if setting.name == "BackupScheduleInput":
        return bool(answers.get("BackupScheduleExpression"))
    if setting.name in ("DrReportTableName", "DrReportRegion"):
        return bool(answers.get("DrReportRoleArn"))
    if setting.name == "DrCopyStateMachineArn":
        return bool(answers.get("DrCopyTriggerRoleArn"))
    return True


def check(overrides: Mapping[str, str]) -> None:
    """Refuse combinations the template would reject, before anything is built."""
    if overrides.get("UseVpc") == "true" and not (overrides.get("VpcId") and overrides.get("SubnetIds")):
        raise InstallError("UseVpc=true needs VpcId and SubnetIds")
    if overrides.get("SlackWebhooksSecretArn") and overrides.get("SlackWebhookUrls"):
        raise InstallError("give either SlackWebhooksSecretArn or SlackWebhookUrls, not both")
    if overrides.get("SlackWebhooksSecretKmsKeyArn") and not overrides.get("SlackWebhooksSecretArn"):
        raise InstallError("SlackWebhooksSecretKmsKeyArn is the key of SlackWebhooksSecretArn: give both")
    for name in ("ScheduleInput", "BackupScheduleInput"):
        if overrides.get(name):
            try:
                json.loads(overrides[name])
            except ValueError as error:
                raise InstallError(f"{name} is not JSON: {error}") from error
    if overrides.get("BackupScheduleExpression") and not overrides.get("BackupScheduleInput"):
        raise InstallError("BackupScheduleExpression needs BackupScheduleInput (the policy the schedule runs)")
    if overrides.get("DrReportRoleArn") and not overrides.get("DrReportTableName"):
        raise InstallError("DrReportRoleArn needs DrReportTableName")
    if overrides.get("DrCopyTriggerRoleArn") and not overrides.get("DrCopyStateMachineArn"):
        raise InstallError("DrCopyTriggerRoleArn needs DrCopyStateMachineArn")
    for name, value in overrides.items():
        if "\\" in value:
            # sam's parameter-override parser keeps backslashes doubled, so the value would change.
            raise InstallError(f"{name}: backslashes cannot be passed through sam deploy")
        problem = _problem(BY_NAME[name], value)
        if problem is not None:
            raise InstallError(f"{name}: {problem}")


def sam_value(value: str) -> str:
    """Quote a value the way sam's --parameter-overrides / --tags parser reads it back unchanged."""
    if value and not any(c.isspace() or c in "\"'" for c in value):
        return value
    return '"' + value.replace('"', '\\"') + '"'


def build_command() -> list[str]:
    return ["sam", "build", "--template-file", "template.yaml"]


def deploy_command(plan: Plan, mask_secrets: bool = False) -> list[str]:
    # With an environment, sam reads it instead of [default] (whose resolve_s3 would clash with an
    # s3_bucket); every option that matters is given here explicitly either way.
    command = ["sam", "deploy", *(["--config-env", plan.config_env] if plan.config_env else [])]
    command += [
        "--stack-name", plan.stack_name,
        "--capabilities", "CAPABILITY_IAM",
        *(["--s3-bucket", plan.s3_bucket] if plan.s3_bucket else ["--resolve-s3"]),
        "--s3-prefix", plan.stack_name,
        "--no-fail-on-empty-changeset",
        "--confirm-changeset" if plan.confirm_changeset else "--no-confirm-changeset",
    ]  # fmt: skip
    if plan.region:
        command += ["--region", plan.region]
    if plan.profile:
        command += ["--profile", plan.profile]
    tags = {name: plan.overrides.get(name, BY_NAME[name].default) for name in TAG_SETTINGS}
    command += ["--tags", *(f"{name}={sam_value(value)}" for name, value in tags.items())]
    if plan.overrides:
        command.append("--parameter-overrides")
        for name, value in plan.overrides.items():
            shown = MASK if mask_secrets and BY_NAME[name].secret and value else value
            command.append(f"{name}={sam_value(shown)}")
    return command


def make_plan(
    argv: Sequence[str],
    environ: Mapping[str, str],
    stdin_isatty: bool,
    prompt: Prompt,
    secret_prompt: Prompt,
    samconfig: Path = SAMCONFIG,
) -> tuple[Plan, argparse.Namespace]:
    args = parse_args(argv)
    overrides = given_overrides(args, environ)
    stack_name, region, s3_bucket = args.stack_name, args.region, None
    if args.config_env:
        if args.guided:
            raise InstallError("--guided and --config-env exclude each other: the environment holds the answers")
        env = read_config_env(samconfig, args.config_env)
        if not (stack_name or env.stack_name):
            raise InstallError(f"{samconfig.name} [{env.name}] names no stack_name (and --stack-name is not given)")
        stack_name, s3_bucket = stack_name or env.stack_name, env.s3_bucket
        region = region or _same_region(env, environ)
        overrides = {**env.overrides, **overrides}
    guided = args.guided and is_interactive(environ, stdin_isatty)
    if args.guided and not guided:
        print("install.py: no terminal (or CI is set): not prompting; using the flags given", file=sys.stderr)
    if guided:
        stack_name = stack_name or prompt(f"Stack name [{DEFAULT_STACK_NAME}]: ").strip() or None
        overrides = ask(overrides, prompt, secret_prompt)
    check(overrides)
    plan = Plan(
        stack_name=stack_name or DEFAULT_STACK_NAME,
        region=region,
        profile=args.profile,
        overrides=overrides,
        confirm_changeset=args.confirm_changeset or guided,
        build=not args.skip_build,
        config_env=args.config_env,
        s3_bucket=s3_bucket,
    )
    return plan, args


def _same_region(env: ConfigEnv, environ: Mapping[str, str]) -> str | None:
    """The environment's region, refused when the shell (a CI job's credentials) points at another one."""
    shell_region = environ.get("AWS_REGION") or environ.get("AWS_DEFAULT_REGION")
    if env.region and shell_region and env.region != shell_region:
        raise InstallError(
            f"[{env.name}] deploys to {env.region} but AWS_REGION is {shell_region}: "
            "the stack and the commands run against it must share one region"
        )
    return env.region


def run_subprocess(command: Sequence[str]) -> int:
    return subprocess.run(list(command), cwd=REPO, check=False).returncode


def main(
    argv: Sequence[str] | None = None,
    *,
    runner: Runner = run_subprocess,
    environ: Mapping[str, str] | None = None,
    stdin_isatty: bool | None = None,
    prompt: Prompt = input,
    secret_prompt: Prompt = getpass.getpass,
    samconfig: Path = SAMCONFIG,
) -> int:
    environ = os.environ if environ is None else environ
    stdin_isatty = sys.stdin is not None and sys.stdin.isatty() if stdin_isatty is None else stdin_isatty
    try:
        plan, args = make_plan(
            sys.argv[1:] if argv is None else argv, environ, stdin_isatty, prompt, secret_prompt, samconfig
        )
    except InstallError as error:
        print(f"install.py: {error}", file=sys.stderr)
        return 2
    if args.show_stack_name:
        print(plan.stack_name)
        return 0
    commands = ([build_command()] if plan.build else []) + [deploy_command(plan)]
    for command in commands:
        shown = deploy_command(plan, mask_secrets=True) if command[1] == "deploy" else command
        print(("would run: " if args.dry_run else "+ ") + shlex.join(shown), flush=True)
        if args.dry_run:
            continue
        status = runner(command)
        if status != 0:
            print(f"install.py: `{' '.join(command[:2])}` failed with exit status {status}", file=sys.stderr)
            return status
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
