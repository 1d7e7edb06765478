"""Recovery point of the DR snapshots: the backup workflow against the seed's 60/90/100-minute schedule.

Two parts, one run:

1. **The pipeline, measured on the real workflows.** The source stack (template.yaml) and the DR stack
   (dr/template.yaml, in a second account) run on the local engine with every RDS operation taking the time
   ``trapheus_local.rds_timing`` gives it, at the templates' default poll interval: one backup run of an hourly
   policy that shares with the DR account and, through the DR stack's DrCopyTriggerRole, starts the DR copy run
   as it ends. Their virtual durations are ``S`` (the backup run's start until its snapshot is available and
   shared) and ``C`` (the DR copy run).
2. **A week of schedules**, minute by minute, with those durations. Ours: the backup schedule fires every
   ``everyMinutes`` (on time, or up to ``--late-seconds`` late at random: EventBridge Scheduler documents no
   precision), each run decides with the workflow's own ``trapheus.backups.schedule.is_due``, and the DR copy
   starts when the backup run ends (and on the DR account's own schedule; without the trigger, only then; the
   worst phase of the two schedules taken). The seed: a snapshot every 60 minutes (if the newest, truncated to
   the hour, is older than an hour), sharing every 90, copying every 100.

The recovery point at a moment is how old the source time of the newest copy in the DR account is; the bench
reports the worst over the week (after a day of warm-up). The issue's target is ``everyMinutes`` plus one copy
time (``S + C``: a snapshot's start until its copy is in the DR account), checked on the on-time schedule: a
late schedule moves the source time itself, by its lateness at most.

Usage: ``python bench/backup_rpo.py [--size 20] [--dr-every 60,15,5] [--late-seconds 90]`` (see
docs/benchmark.md). The last line is machine-readable: ``rpo_ratio=<ours / seed, both schedules late>
target_met=<yes|no>``.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import random
import sys
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
for _path in (ROOT, ROOT / "src" / "cli", ROOT / "src" / "layer" / "python"):
    if str(_path) not in sys.path[:3]:
        sys.path.insert(0, str(_path))

from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402

from trapheus.backups.schedule import is_due  # noqa: E402

MINUTE = 60.0
WEEK_MINUTES = 7 * 24 * 60
WARM_UP_MINUTES = 24 * 60
EVERY_MINUTES = 60
SEED = {"snapshot": 60, "share": 90, "copy": 100}
DR_ACCOUNT = "222233334444"
# how late a scheduled run may start, at most (drawn uniformly, seeded): EventBridge Scheduler documents no precision
# for a schedule without a flexible window, so the bench shows what lateness adds beside the on-time rows
LATE_SECONDS = 90


@dataclass(frozen=True)
class Pipeline:
    """Virtual seconds a snapshot takes to be available (S) and to be copied into the DR account (C)."""

    snapshot_seconds: float
    copy_seconds: float
    size_gib: int

    @property
    def one_copy_seconds(self) -> float:
        return self.snapshot_seconds + self.copy_seconds


@dataclass(frozen=True)
class WeekResult:
    name: str
    worst_rpo_seconds: float
    snapshots: int
    skipped_beats: int


# -- 1. the pipeline on the real workflows ----------------------------------------------------------------


def measure_pipeline(size_gib: int) -> Pipeline:
    """One backup run of a ``size_gib`` instance and the DR copy run it starts, on the RDS timing model."""
    from trapheus import clients
    from trapheus_local import Emulator
    from trapheus_local.resources import ACCOUNT_ID
    from trapheus_local.samples import STACK_PARAMETERS

    clients.reset()
    with Emulator() as emulator:
        source_reader = f"arn:aws:iam::{ACCOUNT_ID}:role/trapheus-local-BackupSourceReaderRole"
        dr = emulator.deploy(ROOT / "dr" / "template.yaml", {"SourceAccountIds": ACCOUNT_ID, "SourceReaderRoleArns": source_reader,
                                                             "LogLevel": "ERROR"}, account_id=DR_ACCOUNT, stack_name="trapheus-dr")
        source = emulator.deploy(ROOT / "template.yaml", {
            "LogLevel": "ERROR", "DrAccountIds": DR_ACCOUNT, **STACK_PARAMETERS,
            "DrReportRoleArn": dr.resources["DrReportReaderRole"].attributes["Arn"],
            "DrReportTableName": dr.physical_id("DrReportTable"),
            "DrCopyTriggerRoleArn": dr.resources["DrCopyTriggerRole"].attributes["Arn"],
            "DrCopyStateMachineArn": dr.state_machine_arn("DrCopyStateMachine"),
        })
        with emulator.settled():
            emulator.client("rds").create_db_instance(
                DBInstanceIdentifier="bench-db", DBInstanceClass="db.t3.micro", Engine="postgres", EngineVersion="16.3",
                MasterUsername="bench", MasterUserPassword="not-a-secret-1", AllocatedStorage=size_gib,
            )
        policy = {"policy": "hourly", "select": {"identifiers": ["bench-db"]}, "everyMinutes": EVERY_MINUTES,
                  "keep": {"count": 24}, "shareWith": [DR_ACCOUNT]}
        backup = source.run("BackupStateMachine", policy, real_timeout=300)
        started = ((backup.output or {}).get("report") or {}).get("summary", {}).get("drCopyRun") or {}
        if not started.get("started"):
            raise RuntimeError(f"backup {backup.status} ({backup.cause}) did not start the DR copy: {started}")
        copy = dr.wait(started["execution"], real_timeout=300, virtual_start=emulator.clock.elapsed)
    clients.reset()
    if not (backup.succeeded and copy.succeeded):
        raise RuntimeError(f"backup {backup.status} ({backup.cause}); DR copy {copy.status} ({copy.cause})")
    if not [item for item in copy.output["report"]["items"] if item["outcome"] == "copied"]:
        raise RuntimeError(f"the DR run copied nothing: {json.dumps(copy.output)[:500]}")
    return Pipeline(backup.virtual_seconds, copy.virtual_seconds, size_gib)


# -- 2. a week of schedules ---------------------------------------------------------------------------------


def _worst(copies: list[tuple[float, float]]) -> float:
    """Worst recovery point (minutes) over the week: ``copies`` are (available at, source time) in minutes."""
    copies = sorted(copies)
    worst, newest_source, index = 0.0, None, 0
    for minute in range(WARM_UP_MINUTES, WEEK_MINUTES):
        # just before a copy lands is when the point is oldest: look at each minute and at each landing
        while index < len(copies) and copies[index][0] <= minute:
            if newest_source is not None:
                worst = max(worst, copies[index][0] - newest_source)
            newest_source = max(newest_source or copies[index][1], copies[index][1])
            index += 1
        if newest_source is not None:
            worst = max(worst, minute - newest_source)
    return worst


def _backup_beats(late_seconds: float, tolerance: bool, seed: int) -> tuple[list[float], int]:
    """The minutes the backup runs took their snapshots at, over the week, and how many beats took none: the
    schedule fires every EVERY_MINUTES, up to ``late_seconds`` late (drawn, seeded), and each run decides with
    the workflow's own ``is_due`` (or, without the tolerance, with a plain "older than everyMinutes")."""
    start = datetime(2026, 1, 5, tzinfo=timezone.utc)
    rng = random.Random(seed)
    taken: list[float] = []
    newest: datetime | None = None
    skipped = 0
    for beat in range(0, WEEK_MINUTES, EVERY_MINUTES):
        run_at = beat + rng.uniform(0, late_seconds) / MINUTE
        # the workflow names and tags a run's snapshots with its start, to the minute
        run_time = (start + timedelta(minutes=run_at)).replace(second=0, microsecond=0)
        due = is_due(newest, run_time, EVERY_MINUTES) if tolerance else (
            newest is None or (run_time - newest) >= timedelta(minutes=EVERY_MINUTES))
        if due:
            newest = run_time
            taken.append(run_at)
        else:
            skipped += 1
    return taken, skipped


def simulate_ours(pipeline: Pipeline, *, dr_every: int | None, triggered: bool, late_seconds: float = 0.0,
                  tolerance: bool = True, seed: int = 7) -> WeekResult:
    """Our schedules. ``triggered``: each backup run that shared a new snapshot starts the DR copy as it ends (the
    source stack's DrCopyTriggerRoleArn); ``dr_every``: the DR account's own schedule (every phase against the
    backup schedule tried, the worst kept)."""
    snapshot_minutes, copy_minutes = pipeline.snapshot_seconds / MINUTE, pipeline.copy_seconds / MINUTE
    taken, skipped = _backup_beats(late_seconds, tolerance, seed)
    pushed = [(t + snapshot_minutes + copy_minutes, t) for t in taken] if triggered else []
    worst = _worst(pushed) if dr_every is None else 0.0
    for phase in range(dr_every or 0):
        copies, copied_up_to = list(pushed), -1.0
        for look in range(phase, WEEK_MINUTES, dr_every or 1):
            available = [t for t in taken if t + snapshot_minutes <= look and t > copied_up_to]
            if available:
                copied_up_to = max(available)
                copies.append((look + copy_minutes, copied_up_to))
        worst = max(worst, _worst(copies))
    parts = (["copy started by the backup run"] if triggered else []) + (
        [f"DR schedule {dr_every} min"] if dr_every else [])
    parts += [f"≤{late_seconds:.0f} s late"] if late_seconds else ["on time"]
    parts += [] if tolerance else ["NO tolerance"]
    return WeekResult("ours: " + ", ".join(parts), worst * MINUTE, len(taken), skipped)


def simulate_seed(pipeline: Pipeline, *, late_seconds: float = 0.0, seed: int = 7) -> WeekResult:
    """The seed: snapshot Lambda every 60 minutes (a new one if the newest, truncated to the hour, is older than an
    hour), share Lambda every 90, copy Lambda every 100 (copying what was shared since)."""
    snapshot_minutes, copy_minutes = pipeline.snapshot_seconds / MINUTE, pipeline.copy_seconds / MINUTE
    rng = random.Random(seed)
    taken, newest_hour, skipped = [], None, 0
    for beat in range(0, WEEK_MINUTES, SEED["snapshot"]):
        run_at = beat + rng.uniform(0, late_seconds) / MINUTE
        if newest_hour is None or run_at - newest_hour > SEED["snapshot"]:
            taken.append(run_at)
            newest_hour = run_at - run_at % 60
        else:
            skipped += 1
    shared = []
    for share_at in range(0, WEEK_MINUTES, SEED["share"]):
        shared += [(share_at, t) for t in taken if t + snapshot_minutes <= share_at and all(t != s for _, s in shared)]
    copies, copied_up_to = [], -1.0
    for copy_at in range(0, WEEK_MINUTES, SEED["copy"]):
        ready = [t for share_at, t in shared if share_at <= copy_at and t > copied_up_to]
        if ready:
            copied_up_to = max(ready)
            copies.append((copy_at + copy_minutes, copied_up_to))
    return WeekResult("seed 60/90/100", _worst(copies) * MINUTE, len(taken), skipped)


# -- the report -----------------------------------------------------------------------------------------------


def _minutes(seconds: float) -> str:
    return f"{seconds / MINUTE:.0f} min"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=20, help="allocated storage of the database, GiB")
    parser.add_argument("--dr-every", default="60,15,5", help="DR schedule periods to try, minutes (comma separated)")
    parser.add_argument("--late-seconds", type=float, default=LATE_SECONDS, help="how late a schedule may fire, at most")
    arguments = parser.parse_args(argv)
    real_start = time.perf_counter()
    pipeline = measure_pipeline(arguments.size)
    periods = [int(value) for value in arguments.dr_every.split(",") if value]
    late = arguments.late_seconds
    on_time = simulate_ours(pipeline, dr_every=periods[0] if periods else None, triggered=True)
    triggered = simulate_ours(pipeline, dr_every=periods[0] if periods else None, triggered=True, late_seconds=late)
    seed = simulate_seed(pipeline, late_seconds=late)
    rows = [
        on_time,
        triggered,
        simulate_ours(pipeline, dr_every=periods[0] if periods else None, triggered=True, late_seconds=late, tolerance=False),
        *[simulate_ours(pipeline, dr_every=period, triggered=False, late_seconds=late) for period in periods],
        WeekResult(seed.name + f", ≤{late:.0f} s late", *dataclasses.astuple(seed)[1:]),
    ]
    target = EVERY_MINUTES * MINUTE + pipeline.one_copy_seconds
    console = Console(width=150)
    console.print(f"pipeline, measured on the workflows ({pipeline.size_gib} GiB): backup run until shared {_minutes(pipeline.snapshot_seconds)}, "
                  f"DR copy run {_minutes(pipeline.copy_seconds)}; target everyMinutes + one copy = {_minutes(target)}")
    table = Table(title=f"worst recovery point over a week, hourly policy ({pipeline.size_gib} GiB)")
    for column in ("schedule", "worst RPO", "snapshots", "skipped beats", "vs target"):
        table.add_column(column)
    for result in rows:
        table.add_row(result.name, _minutes(result.worst_rpo_seconds), str(result.snapshots), str(result.skipped_beats),
                      f"{result.worst_rpo_seconds - target:+.0f} s")
    console.print(table)
    console.print(f"one run of each workflow and a week of schedules in {time.perf_counter() - real_start:.1f} s real time")
    print(f"rpo_ratio={triggered.worst_rpo_seconds / seed.worst_rpo_seconds:.3f} "
          f"target_met={'yes' if on_time.worst_rpo_seconds <= target else 'no'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
