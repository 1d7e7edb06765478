"""The benchmark's timing model and meters (bench/), and the latency model's timed mode they rely on.

No timed assertions: everything here is virtual time and arithmetic.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from trapheus_local.latency import INSTANCE, SNAPSHOT, LatencyModel

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.downtime import DowntimeMeter, ObservedClock, unserved_part  # noqa: E402
from bench.lambda_cost import (  # noqa: E402
    STATUS_CHECK_FUNCTION,
    MeteredInvocation,
    billed_ms,
    break_even_billed_ms,
    our_bill,
    waiting_in_lambda_bill,
)
from trapheus_local.rds_timing import MINUTE, Assumptions, RdsTiming, polled  # noqa: E402


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


# -- the RDS timing model ------------------------------------------------------------------------------


def test_restore_time_grows_linearly_with_the_database_size():
    small, large = RdsTiming(100), RdsTiming(1100)
    restore = ("RestoreDBInstanceFromDBSnapshot", {"DBInstanceIdentifier": "db"})
    assumptions = Assumptions()
    assert small.seconds(*restore) == MINUTE * (assumptions.instance_restore_base + assumptions.instance_restore_per_100_gib)
    assert large.seconds(*restore) - small.seconds(*restore) == MINUTE * 10 * assumptions.instance_restore_per_100_gib


def test_a_rename_is_timed_as_a_rename_then_a_reboot_and_any_other_modify_as_a_modify():
    timing = RdsTiming(200, Assumptions(rename=2, reboot_after_rename=1, modify=5))
    rename = ("ModifyDBInstance", {"DBInstanceIdentifier": "a", "NewDBInstanceIdentifier": "b"})
    assert timing.phases(*rename) == [("renaming", 120), ("rebooting", 60)]
    assert timing.seconds(*rename) == 180
    assert timing.seconds("ModifyDBCluster", {"DBClusterIdentifier": "a", "NewDBClusterIdentifier": "b"}) == 180
    assert timing.seconds("ModifyDBInstance", {"DBInstanceIdentifier": "a", "BackupRetentionPeriod": 9}) == 300


def test_the_default_rename_is_the_documented_ten_minutes():
    # https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_RenameInstance.html
    assert RdsTiming(20).phases("ModifyDBInstance", {"DBInstanceIdentifier": "a", "NewDBInstanceIdentifier": "b"})[0] == ("renaming", 600)


def test_a_restore_is_usable_while_it_takes_its_first_backup_and_storage_changes_optimize_for_hours():
    timing = RdsTiming(100)
    restore = timing.phases("RestoreDBInstanceFromDBSnapshot", {"DBInstanceIdentifier": "db"})
    assert [status for status, _ in restore] == ["creating", "backing-up"]
    assert timing.seconds("RestoreDBInstanceFromDBSnapshot", {"DBInstanceIdentifier": "db"}) == restore[0][1]
    grow = timing.phases("ModifyDBInstance", {"DBInstanceIdentifier": "db", "AllocatedStorage": 200})
    assert [status for status, _ in grow] == ["modifying", "storage-optimization"] and grow[1][1] >= 6 * 3600


def test_changing_only_deletion_protection_takes_no_time():
    assert RdsTiming(100).phases("ModifyDBInstance", {"DBInstanceIdentifier": "db", "DeletionProtection": True, "ApplyImmediately": True}) == []


def test_a_delete_with_a_final_snapshot_takes_the_snapshot_time_too():
    timing = RdsTiming(200)
    plain = timing.seconds("DeleteDBInstance", {"DBInstanceIdentifier": "a", "SkipFinalSnapshot": True})
    with_snapshot = timing.seconds("DeleteDBInstance", {"DBInstanceIdentifier": "a", "FinalDBSnapshotIdentifier": "f"})
    assert plain == MINUTE * Assumptions().delete
    assert with_snapshot == plain + timing.snapshot()


def test_operations_the_model_does_not_time_finish_at_once():
    assert RdsTiming(200).seconds("AddTagsToResource", {"ResourceName": "arn"}) == 0


@pytest.mark.parametrize(("seconds", "seen_after"), [(0, 0), (1, 30), (30, 30), (30.5, 60), (120, 120)])
def test_a_poll_loop_sees_an_operation_finished_at_the_next_check(seconds, seen_after):
    assert polled(seconds, 30) == seen_after


# -- the latency model's timed mode --------------------------------------------------------------------


def timed_model(seconds_by_operation: dict[str, float], clock: FakeClock) -> LatencyModel:
    model = LatencyModel(polls=5)
    model.timed(lambda operation, params: seconds_by_operation.get(operation), clock)
    return model


def test_a_timed_operation_stays_in_between_until_its_duration_has_passed_however_often_it_is_described():
    clock = FakeClock()
    model = timed_model({"RestoreDBInstanceFromDBSnapshot": 600}, clock)
    model.after_success("RestoreDBInstanceFromDBSnapshot", {"DBInstanceIdentifier": "db"}, {})
    assert [model.view(INSTANCE, "db") for _ in range(10)] == ["creating"] * 10
    assert model.peek(INSTANCE, "db") == ("creating", 600)
    clock.now = 599.9
    assert model.view(INSTANCE, "db") == "creating"
    clock.now = 600
    assert model.view(INSTANCE, "db") is None
    assert model.peek(INSTANCE, "db") == (None, None)


def test_an_operation_the_timing_does_not_know_falls_back_to_polls():
    clock = FakeClock()
    model = timed_model({}, clock)
    model.after_success("ModifyDBInstance", {"DBInstanceIdentifier": "db"}, {})
    assert [model.view(INSTANCE, "db") for _ in range(6)] == ["modifying"] * 5 + [None]


def test_a_zero_second_operation_is_done_at_once():
    model = timed_model({"ModifyDBInstance": 0}, FakeClock())
    model.after_success("ModifyDBInstance", {"DBInstanceIdentifier": "db"}, {})
    assert model.view(INSTANCE, "db") is None


def test_a_timed_rename_shows_renaming_under_the_new_name():
    clock = FakeClock()
    model = timed_model({"ModifyDBInstance": 120}, clock)
    model.after_success("ModifyDBInstance", {"DBInstanceIdentifier": "db", "NewDBInstanceIdentifier": "db-old"}, {})
    assert model.peek(INSTANCE, "db-old") == ("renaming", 120)
    assert model.peek(INSTANCE, "db") == (None, None)


def test_a_timed_snapshot_keeps_its_source_backing_up_as_long():
    clock = FakeClock()
    model = timed_model({"CreateDBSnapshot": 300}, clock)
    model.after_success("CreateDBSnapshot", {"DBInstanceIdentifier": "db", "DBSnapshotIdentifier": "s"}, {})
    assert model.peek(SNAPSHOT, "s") == ("creating", 300)
    assert model.peek(INSTANCE, "db") == ("backing-up", 300)


def test_a_timed_terminal_status_shows_after_the_duration():
    clock = FakeClock()
    model = timed_model({"RestoreDBInstanceFromDBSnapshot": 60}, clock)
    model.end_status("RestoreDBInstanceFromDBSnapshot", "db", "failed")
    model.after_success("RestoreDBInstanceFromDBSnapshot", {"DBInstanceIdentifier": "db"}, {})
    assert model.view(INSTANCE, "db") == "creating"
    clock.now = 60
    assert model.view(INSTANCE, "db") == "failed"


# -- downtime ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "seconds", "available_from", "unserved"),
    [(0, 30, 0, 0), (0, 30, 100, 30), (90, 30, 100, 10), (100, 30, 100, 0), (0, 30, float("inf"), 30)],
)
def test_only_the_part_of_an_interval_before_the_database_is_back_is_downtime(start, seconds, available_from, unserved):
    assert unserved_part(start, seconds, available_from) == unserved


def test_an_observed_clock_reports_each_advance_before_it_happens():
    clock = ObservedClock()
    seen: list[tuple[float, float, float]] = []
    clock.observers.append(lambda start, seconds: seen.append((start, seconds, clock.elapsed)))
    clock.advance(30)
    clock.advance(5)
    assert seen == [(0, 30, 0), (30, 5, 30)]
    assert clock.elapsed == 35


def test_the_meter_counts_the_time_the_identifier_is_missing_or_renaming(emulator, create_instance):
    from trapheus_local.resources import ACCOUNT_ID

    rds, clock = emulator.client("rds"), emulator.clock
    create_instance("orders")
    create_instance("orders-staged")
    emulator.latency.timed(RdsTiming(20, Assumptions(rename=2, reboot_after_rename=1)), lambda: clock.elapsed)
    meter = DowntimeMeter(ACCOUNT_ID, emulator.region, emulator.latency, "orders", is_cluster=False)

    def wait(seconds: float) -> None:
        meter.observe(clock.elapsed, seconds)
        clock.advance(seconds)

    wait(30)  # served
    rds.modify_db_instance(DBInstanceIdentifier="orders", NewDBInstanceIdentifier="orders-old", ApplyImmediately=True)
    wait(180)  # missing: RDS frees the name only once the rename is done
    rds.modify_db_instance(DBInstanceIdentifier="orders-staged", NewDBInstanceIdentifier="orders", ApplyImmediately=True)
    wait(300)  # renaming for 120 s, rebooting for 60 s, then served
    assert meter.unserved_seconds == 180 + 120 + 60
    assert meter.observed_seconds == 510


# -- Lambda GB-seconds -------------------------------------------------------------------------------------


def test_lambda_bills_whole_milliseconds_rounded_up():
    assert [billed_ms(s) for s in (0.0, 0.0001, 0.001, 0.0123)] == [1, 1, 1, 13]


RESTORE = ("RestoreDBInstanceFromDBSnapshot", {"DBInstanceIdentifier": "db"})


def sample_run() -> list[MeteredInvocation]:
    return [
        MeteredInvocation("RestoreFunction", 256, 0.010, (RESTORE,)),
        *[MeteredInvocation(STATUS_CHECK_FUNCTION, 256, 0.005, (("DescribeDBInstances", {}),)) for _ in range(40)],
    ]


def test_our_bill_is_billed_time_at_each_functions_memory():
    bill = our_bill([MeteredInvocation("A", 1024, 1.0), MeteredInvocation("B", 512, 0.5)])
    assert bill.invocations == 2
    assert bill.gb_seconds == pytest.approx(1.0 + 0.25)


def test_waiting_inside_lambda_occupies_a_function_for_the_whole_operation_and_reinvokes_every_15_minutes():
    timing = RdsTiming(1000)  # restore: 50 minutes
    bill = waiting_in_lambda_bill(sample_run(), timing, poll_seconds=30)
    waited = polled(timing.seconds(*RESTORE), 30)
    assert bill.invocations == 4  # 50 minutes in 15-minute invocations; no separate status checks
    assert bill.occupied_seconds == pytest.approx(waited + 0.010)
    assert bill.gb_seconds == pytest.approx((waited + 0.010) * 0.25)


def test_the_break_even_billed_duration_gives_exactly_the_target_ratio():
    timing, run = RdsTiming(200), sample_run()
    flat_ms = break_even_billed_ms(run, timing, 30, target_ratio=1 / 50)
    flat = [MeteredInvocation(call.logical_id, call.memory_mb, flat_ms / 1000, call.rds_operations) for call in run]
    ours, waiting = our_bill(flat), waiting_in_lambda_bill(flat, timing, 30)
    assert ours.gb_seconds / waiting.gb_seconds == pytest.approx(1 / 50, rel=0.01)


# -- promotion by DNS (the copy workflow) beside the restore strategies --------------------------------------------

from bench.dns_promotion import DnsPromotion  # noqa: E402
from bench.harness import Measurement, Scenario  # noqa: E402
from bench.lambda_cost import LambdaBill  # noqa: E402
from bench.restore_strategies import Summary  # noqa: E402


def measured(strategy: str, size_gib: int, downtime_minutes: float, gb_seconds: float = 0.1) -> Measurement:
    return Measurement(
        scenario=Scenario(strategy, size_gib), status="SUCCEEDED", downtime_seconds=downtime_minutes * MINUTE,
        total_seconds=0.0, state_transitions=0, rds_calls=0, rds_mutating_calls=0,
        ours=LambdaBill(1, gb_seconds, 0.0), waiting_in_lambda=LambdaBill(1, 500.0, 0.0), break_even_billed_ms=0.0,
    )  # fmt: skip


# in-place's downtime grows with the size, swap's is its two renames
RUNS = [
    measured("swap", 20, 22), measured("in-place", 20, 30),
    measured("swap", 1000, 22, gb_seconds=0.05), measured("in-place", 1000, 60),
]  # fmt: skip


def test_a_dns_promotion_costs_the_records_ttl_and_one_poll_whatever_the_size():
    assert DnsPromotion().downtime_seconds == 60 + 10  # the copy workflow's default TTL, its DNS poll (copy.asl.json)
    assert DnsPromotion(ttl_seconds=300, poll_seconds=10).downtime_seconds == 310
    with pytest.raises(ValueError):
        DnsPromotion(poll_seconds=0)


def test_the_dns_ratio_grows_with_the_ttl_and_the_poll_interval():
    default = Summary(RUNS, DnsPromotion())
    assert default.dns_downtime_ratio == pytest.approx(70 / (30 * MINUTE))  # the worst size: the quickest in-place
    longer_ttl = Summary(RUNS, DnsPromotion(ttl_seconds=300))
    slower_poll = Summary(RUNS, DnsPromotion(poll_seconds=120))
    assert longer_ttl.dns_downtime_ratio > default.dns_downtime_ratio
    assert slower_poll.dns_downtime_ratio > default.dns_downtime_ratio
    assert Summary(RUNS, DnsPromotion(ttl_seconds=0)).dns_downtime_ratio < default.dns_downtime_ratio
    assert longer_ttl.downtime_ratio == default.downtime_ratio  # the restore strategies do not depend on DNS


def test_the_last_line_has_the_three_ratios_each_the_worst_over_the_sizes():
    summary = Summary(RUNS, DnsPromotion())
    fields = dict(pair.split("=") for pair in summary.last_line().split())
    assert list(fields) == ["downtime_ratio", "dns_downtime_ratio", "lambda_gbs_ratio"]
    assert float(fields["downtime_ratio"]) == pytest.approx(22 / 30, abs=1e-4)  # 20 GiB, not the largest size
    assert float(fields["dns_downtime_ratio"]) == pytest.approx(70 / 1800, abs=1e-4)
    assert float(fields["lambda_gbs_ratio"]) == pytest.approx(0.1 / 500, abs=1e-5)


def test_each_target_says_whether_it_is_met_at_every_size():
    met, missed = Summary(RUNS, DnsPromotion(ttl_seconds=30)).targets(), Summary(RUNS, DnsPromotion(ttl_seconds=300)).targets()
    dns_met, dns_missed = (next(line for line in lines if line.startswith("target DNS")) for lines in (met, missed))
    assert "<= 0.05: met;" in dns_met  # (30 + 10) s of 30 min = 0.022
    assert "NOT met at any size" in dns_missed  # (300 + 10) s of 30 min = 0.17, of 60 min = 0.086
    partly = Summary(RUNS, DnsPromotion(ttl_seconds=120)).targets()[1]  # 130 s of 30 min = 0.072, of 60 min = 0.036
    assert "NOT met (met at 1000 GiB); worst 0.0722 at 20 GiB" in partly
    swap = next(line for line in met if line.startswith("target downtime"))
    assert "NOT met at any size" in swap and "worst 0.7333 at 20 GiB" in swap
    assert any(line.startswith("target Lambda") and ": met;" in line for line in met)
