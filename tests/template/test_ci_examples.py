"""The example workflows of docs/ci/ agree with the role template, samconfig.toml and the command line,
and the linters scripts/check-ci-examples.sh runs on them can fail."""

from __future__ import annotations

import subprocess
import sysconfig
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

from template_support import REPO

EXAMPLES = sorted((REPO / "docs" / "ci").glob("*.yml"))
ROLE_TEMPLATE = REPO / "ci" / "deploy-role.yaml"
ACTIONLINT = REPO / "node_modules" / "@tktco" / "node-actionlint"
ZIZMOR = Path(sysconfig.get_path("scripts")) / "zizmor"
CREDENTIALS_ACTION = "aws-actions/configure-aws-credentials@"


def workflow(name: str) -> dict[str, Any]:
    # PyYAML reads the `on:` key as True
    return yaml.safe_load((REPO / "docs" / "ci" / name).read_text())


def steps_using(job: dict[str, Any], action: str) -> list[dict[str, Any]]:
    return [step for step in job["steps"] if step.get("uses", "").startswith(action)]


def run_scripts(job: dict[str, Any]) -> str:
    return "\n".join(step["run"] for step in job["steps"] if "run" in step)


def test_the_examples_are_marked_for_copying_and_do_not_run_here():
    assert [path.name for path in EXAMPLES] == ["deploy.yml", "restore.yml"]
    for path in EXAMPLES:
        assert path.read_text().startswith("# EXAMPLE for your own repository"), path.name
    names = {workflow(path.name)["name"] for path in EXAMPLES}
    ours = sorted((REPO / ".github" / "workflows").glob("*.y*ml"))
    assert not [path for path in ours if yaml.safe_load(path.read_text()).get("name") in names]


@pytest.mark.parametrize("name", ["deploy.yml", "restore.yml"])
def test_jobs_get_an_oidc_token_only_where_they_assume_a_role(name):
    document = workflow(name)
    assert document["permissions"] == {}
    for job_id, job in document["jobs"].items():
        assumes = steps_using(job, CREDENTIALS_ACTION)
        assert len(assumes) == 1, job_id
        assert job["permissions"] == {"contents": "read", "id-token": "write"}, job_id
        assert all("aws-access-key-id" not in step["with"] for step in assumes), "no stored keys"


def test_deploy_runs_as_the_deploy_role_and_the_smoke_plan_as_the_operator_role():
    jobs = workflow("deploy.yml")["jobs"]
    (deploy_role,) = steps_using(jobs["deploy"], CREDENTIALS_ACTION)
    (smoke_role,) = steps_using(jobs["smoke"], CREDENTIALS_ACTION)
    assert deploy_role["with"]["role-to-assume"] == "${{ vars.TRAPHEUS_DEPLOY_ROLE_ARN }}"
    assert smoke_role["with"]["role-to-assume"] == "${{ vars.TRAPHEUS_OPERATOR_ROLE_ARN }}"
    assert jobs["smoke"]["needs"] == "deploy"
    deploy = run_scripts(jobs["deploy"])
    assert "sam validate --lint" in deploy and 'python install.py --config-env "$DEPLOY_ENVIRONMENT"' in deploy
    assert "trapheus plan" not in deploy, "the deploy role cannot start the plan's execution"
    assert 'trapheus "${args[@]}"' in run_scripts(jobs["smoke"]) and "args=(plan " in run_scripts(jobs["smoke"])


def test_the_restore_starts_under_the_operator_role_for_no_longer_than_it_may_hold():
    job = workflow("restore.yml")["jobs"]["restore"]
    (assume,) = steps_using(job, CREDENTIALS_ACTION)
    assert assume["with"]["role-to-assume"] == "${{ vars.TRAPHEUS_OPERATOR_ROLE_ARN }}"
    roles = yaml.load(ROLE_TEMPLATE.read_text(), Loader=_CloudFormationLoader)
    longest = roles["Resources"]["OperatorRole"]["Properties"]["MaxSessionDuration"]
    assert assume["with"]["role-duration-seconds"] <= longest
    assert job["timeout-minutes"] * 60 <= assume["with"]["role-duration-seconds"]
    script = run_scripts(job)
    assert "args=(restore " in script and "--no-follow --json" in script
    assert 'trapheus status "$EXECUTION_ARN" --follow' in script
    assert "GITHUB_STEP_SUMMARY" in script and ".consoleUrl" in script


def test_the_restore_inputs_match_what_the_command_line_accepts():
    from trapheus.inputs import Strategy, Task

    inputs = workflow("restore.yml")[True]["workflow_dispatch"]["inputs"]
    assert set(inputs) == {"environment", "identifier", "cluster", "task", "strategy"}
    assert set(inputs["task"]["options"]) <= {task.value for task in Task} - {Task.PLAN.value}
    # the example restores from snapshots: a backtrack needs a restore time, which it does not take
    assert set(inputs["strategy"]["options"]) == {"deployment"} | {s.value for s in Strategy} - {Strategy.BACKTRACK.value}


def test_the_options_the_examples_pass_exist():
    import typer.main

    from trapheus_cli.main import app

    command = typer.main.get_command(app)
    options = {
        name: {option for param in sub.params for option in [*param.opts, *param.secondary_opts]}
        for name, sub in command.commands.items()
    }
    assert {"--task", "--cluster", "--strategy", "--stack-name", "--no-follow", "--json"} <= options["restore"]
    assert {"--follow", "--poll-seconds", "--json"} <= options["status"]
    assert {"--cluster", "--stack-name", "--json"} <= options["plan"]


@pytest.mark.parametrize("name", ["deploy.yml", "restore.yml"])
def test_the_environments_offered_are_the_environments_of_samconfig(name):
    document = workflow(name)
    offered = document[True]["workflow_dispatch"]["inputs"]["environment"]["options"]
    environments = {key for key, value in tomllib.loads((REPO / "samconfig.toml").read_text()).items()
                    if isinstance(value, dict) and key != "default"}  # fmt: skip
    assert set(offered) == environments


class _CloudFormationLoader(yaml.SafeLoader):
    """Reads CloudFormation's short-form tags as plain values (enough for the properties read here)."""


_CloudFormationLoader.add_multi_constructor("!", lambda loader, suffix, node: None)


# -- the linters of scripts/check-ci-examples.sh fail on a broken workflow ---------------------------

BROKEN = """\
name: broken
on: push
permissions: write-all
jobs:
  build:
    runs-on: ubuntu-24.04
    steps:
      - uses: actions/checkout@v4
      - run: echo "${{ github.event.head_commit.message }}"
      - run: echo "${{ github.nope }}"
"""


def test_actionlint_passes_the_examples_and_fails_a_broken_workflow(tmp_path):
    if not ACTIONLINT.is_dir():
        pytest.skip("node_modules missing: run `npm ci`")
    broken = tmp_path / "broken.yml"
    broken.write_text(BROKEN)
    good = subprocess.run(["node", "scripts/actionlint.cjs", *map(str, EXAMPLES)], cwd=REPO, capture_output=True,
                          text=True, timeout=120, check=False)  # fmt: skip
    bad = subprocess.run(["node", "scripts/actionlint.cjs", str(broken)], cwd=REPO, capture_output=True, text=True,
                         timeout=120, check=False)  # fmt: skip
    assert good.returncode == 0, good.stdout + good.stderr
    assert bad.returncode == 1
    assert 'property "nope" is not defined' in bad.stdout and "head_commit.message" in bad.stdout


def test_zizmor_passes_the_examples_and_fails_a_broken_workflow(tmp_path):
    if not ZIZMOR.exists():
        pytest.skip("zizmor missing: pip install -r requirements-dev.txt")
    broken = tmp_path / "broken.yml"
    broken.write_text(BROKEN)
    command = [str(ZIZMOR), "--offline", "--persona", "pedantic", "--no-progress"]
    good = subprocess.run([*command, *map(str, EXAMPLES)], capture_output=True, text=True, timeout=120, check=False)
    bad = subprocess.run([*command, str(broken)], capture_output=True, text=True, timeout=120, check=False)
    assert good.returncode == 0, good.stdout + good.stderr
    assert bad.returncode != 0
    for audit in ("template-injection", "unpinned-uses", "excessive-permissions"):
        assert audit in bad.stdout, audit


def test_the_check_script_is_called_from_make_check():
    makefile = (REPO / "Makefile").read_text()
    check = makefile.split("\ncheck:", 1)[1].split("\n\n", 1)[0]
    assert "scripts/check-ci-examples.sh" in check
