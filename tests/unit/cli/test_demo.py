"""`trapheus demo`: the workflow on the emulator, checked expectation by expectation."""

from __future__ import annotations

import json

import pytest
from rich.console import Console
from typer.testing import CliRunner

from trapheus_cli import demo
from trapheus_cli.demo import Check, DemoReport, RunReport, _flatten, print_report
from trapheus_cli.main import app
from trapheus_local import speedups

# one worker runs the demo once for every test here
pytestmark = pytest.mark.xdist_group("demo")


@pytest.fixture(scope="module")
def demo_run() -> tuple[dict, DemoReport]:
    """One demo run for the whole module (it deploys the stack and runs three executions): its JSON and its report."""
    reports: list[DemoReport] = []
    run_demo = demo.run_demo
    with pytest.MonkeyPatch.context() as patch:
        for name, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1"}.items():
            patch.setenv(name, value)
        patch.delenv("AWS_ENDPOINT_URL", raising=False)
        patch.setattr(demo, "run_demo", lambda *args, **kwargs: reports.append(run_demo(*args, **kwargs)) or reports[-1])
        patch.setattr(speedups, "collect_garbage_less_often", lambda: None)  # for a process that ends with the demo
        result = CliRunner().invoke(app, ["demo", "--json"])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    summary = json.loads(result.output)
    summary["exit_code"] = result.exit_code
    return summary, reports[0]


@pytest.fixture(scope="module")
def demo_summary(demo_run) -> dict:
    return demo_run[0]


def printed(report: DemoReport, **options: bool) -> str:
    console = Console(record=True, width=250, color_system=None)
    print_report(report, console, **options)
    return console.export_text()


def _run(summary: dict, task: str, is_cluster: bool) -> dict:
    return next(
        run for run in summary["runs"] if run["request"]["task"] == task and run["request"]["isCluster"] is is_cluster
    )


def test_the_demo_exits_0_with_every_expectation_held(demo_summary):
    assert demo_summary["failedChecks"] == []
    assert demo_summary["ok"] is True
    assert demo_summary["exit_code"] == 0
    assert [check["ok"] for run in demo_summary["runs"] for check in run["checks"]] == [True] * sum(
        len(run["checks"]) for run in demo_summary["runs"]
    )


@pytest.mark.parametrize("is_cluster", [False, True], ids=["instance", "cluster"])
def test_snapshot_and_restore_carries_every_setting_to_a_new_database(demo_summary, is_cluster):
    run = _run(demo_summary, "create_snapshot", is_cluster)
    assert run["execution"]["status"] == "SUCCEEDED"
    configuration = run["configuration"]
    assert configuration["differences"] == []
    assert configuration["restored"]["settings"] == configuration["original"]["settings"]
    assert configuration["restored"]["resourceId"] != configuration["original"]["resourceId"]
    steps = [step["name"] for step in run["execution"]["steps"]]
    checks = [name for name in steps if name.startswith("Check ")]
    assert any(checks.count(name) >= 2 for name in checks)  # the latency model made a wait loop go round


def test_the_cluster_keeps_its_writer_and_readers(demo_summary):
    restored = _run(demo_summary, "create_snapshot", True)["configuration"]["restored"]
    assert [(m["identifier"], m["writer"]) for m in restored["members"]] == [
        ("ledger-1", True),
        ("ledger-2", False),
        ("ledger-3", False),
    ]


def test_the_failing_restore_rolls_back_to_the_same_database_and_alerts(demo_summary):
    run = _run(demo_summary, "db_restore", False)
    assert run["execution"]["status"] == "FAILED"
    assert run["execution"]["error"] == "DatabaseFailedError"
    rollback = run["rollback"]
    assert rollback["resourceIdAfter"] == rollback["resourceIdBefore"] is not None
    assert rollback["states"]  # what the rollback did, between the caught failure and the alerts
    assert all(check["ok"] for check in run["checks"] if check["expectation"] == "no partial restore is left behind")
    assert run["configuration"]["differences"] == []
    assert [mail["to"] for mail in run["alerts"]["email"]] == [["oncall@example.com"]]
    assert "orders-db" in run["alerts"]["email"][0]["subject"]
    assert len(run["alerts"]["slack"]) == 1 and "orders-db" in run["alerts"]["slack"][0]["text"]


def test_a_failed_expectation_makes_the_report_fail():
    held, broken = Check("held", True), Check("the original is back", False, "resource id a -> b")
    run = RunReport("a run", {}, execution=None, original={}, result=None, checks=[held, broken])  # type: ignore[arg-type]
    report = DemoReport(template=None, region="us-east-1", runs=[run])  # type: ignore[arg-type]
    assert report.ok is False
    assert report.failed_checks == ["a run: the original is back"]
    assert DemoReport(template=None, region="us-east-1").ok is False  # no runs proves nothing  # type: ignore[arg-type]


def test_a_demo_that_cannot_start_exits_2_with_the_reason(tmp_path, monkeypatch):
    monkeypatch.setattr(speedups, "collect_garbage_less_often", lambda: None)  # for a process that ends with the demo
    result = CliRunner().invoke(app, ["demo", "--json", "--template", str(tmp_path / "missing.yaml")])
    assert result.exit_code == 2
    assert "could not run" in json.loads(result.output)["error"]


def test_cluster_members_are_shown_one_row_per_setting():
    rows = _flatten(
        {
            "settings": {"Port": 3310},
            "tags": [{"Key": "team", "Value": "ledger"}],
            "members": [{"identifier": "ledger-1", "writer": True, "settings": {"PromotionTier": 1}, "tags": []}],
        }
    )
    assert rows == {
        "Port": 3310,
        "Tags": [{"Key": "team", "Value": "ledger"}],
        "member ledger-1 writer": True,
        "member ledger-1 PromotionTier": 1,
    }


def test_the_default_output_tells_each_scenario_in_a_few_lines(demo_run):
    summary, report = demo_run
    text = printed(report)

    for run in summary["runs"]:
        assert f"✓ {run['title']}" in text
        for check in run["checks"]:
            assert f"✓ {check['expectation']}" in text
        assert f"{run['execution']['status']}" in text
        assert f"in {len(run['execution']['steps'])} steps" in text
    assert text.count("  restored  ") == len(summary["runs"])
    assert "a new database" in text and "nothing kept: the rollback put back orders-db as the same database" in text
    assert "email to oncall@example.com; 1 Slack message" in text
    checks = sum(len(run["checks"]) for run in summary["runs"])
    assert f"demo passed: {len(summary['runs'])} runs, all {checks} expectations held" in text
    assert "steps of " not in text  # no per-step tables
    assert len(text.splitlines()) < 60


def test_steps_prints_every_step_and_setting_of_each_run(demo_run):
    summary, report = demo_run
    text = printed(report, steps=True)

    for run in summary["runs"]:
        assert f"steps of {run['execution']['name']}" in text
        for step in run["execution"]["steps"]:
            assert step["name"] in text
    assert text.count("configuration: original vs") == len(summary["runs"])


def test_each_run_says_how_long_it_took(demo_summary):
    for run in demo_summary["runs"]:
        assert run["seconds"]["workflow"] > 0  # the wait loops waited, on the simulated clock
        assert run["seconds"]["real"] > 0
