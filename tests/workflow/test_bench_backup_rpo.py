"""The backup RPO bench's week of schedules (bench/backup_rpo.py): arithmetic on given durations, no timing."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.backup_rpo import EVERY_MINUTES, MINUTE, Pipeline, _worst, simulate_ours, simulate_seed  # noqa: E402

PIPELINE = Pipeline(snapshot_seconds=4 * MINUTE, copy_seconds=4 * MINUTE, size_gib=20)
TARGET = EVERY_MINUTES * MINUTE + PIPELINE.one_copy_seconds


def test_the_worst_point_is_just_before_a_copy_lands():
    # a copy lands every 60 minutes, 70 after its source time: just before one lands, the newest copy holds data
    # from 60 + 70 minutes ago
    copies = [(1440.0 + 60 * n + 60, 1440.0 + 60 * n - 10) for n in range(0, 145)]
    assert _worst(copies) == 130


def test_a_copy_started_by_the_backup_run_meets_the_target_on_an_on_time_schedule():
    result = simulate_ours(PIPELINE, dr_every=60, triggered=True)
    assert result.skipped_beats == 0 and result.worst_rpo_seconds <= TARGET


def test_a_late_schedule_adds_at_most_its_lateness():
    late = simulate_ours(PIPELINE, dr_every=60, triggered=True, late_seconds=90)
    assert TARGET < late.worst_rpo_seconds <= TARGET + 90


def test_without_the_tolerance_a_late_schedule_skips_beats_and_doubles_the_point():
    late = simulate_ours(PIPELINE, dr_every=None, triggered=True, late_seconds=90, tolerance=False)
    assert late.skipped_beats > 0 and late.worst_rpo_seconds > 2 * EVERY_MINUTES * MINUTE


def test_the_dr_schedule_alone_adds_its_period():
    every_15 = simulate_ours(PIPELINE, dr_every=15, triggered=False)
    assert TARGET + 10 * MINUTE <= every_15.worst_rpo_seconds <= TARGET + 15 * MINUTE


def test_the_seeds_schedules_leave_hours_between_copies():
    assert simulate_seed(PIPELINE, late_seconds=90).worst_rpo_seconds > 3 * EVERY_MINUTES * MINUTE
