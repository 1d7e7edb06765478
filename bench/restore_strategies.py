"""Restore strategies side by side: downtime, time and cost of `swap` and `in-place`, from a snapshot and to a
point in time, and several databases brought back to one instant.

Runs the real restore workflow (template.yaml and statemachine/restore.asl.json,
on the local engine) for both strategies and several database sizes, with every
RDS operation taking the time the model in ``src/cli/trapheus_local/rds_timing.py`` gives it on
the virtual clock, and prints one table; then a point-in-time restore (swap) beside the
snapshot restore of each size, and the recover workflow against one restore run after
another for three databases. The last line is machine-readable:

    downtime_ratio=<swap / in-place> lambda_gbs_ratio=<ours / waiting inside Lambda>

both for the largest instance size, and the swap strategy's Lambda cost (the
template's default). The table also shows every size, the means across sizes,
a cluster, and the downtime ratio with a 2-minute rename (the default is the 10 minutes the RDS guide quotes).

Usage: ``python bench/restore_strategies.py [--sizes 20,200,1000] [--no-cluster]``
(see docs/benchmark.md).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
for _path in (ROOT, ROOT / "src" / "cli", ROOT / "src" / "layer" / "python"):
    if str(_path) not in sys.path[:3]:
        sys.path.insert(0, str(_path))

from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402

from bench.harness import POINT_IN_TIME, Measurement, RecoveryMeasurement, Scenario, StrategyBench  # noqa: E402
from trapheus_local.rds_timing import DEFAULT_ASSUMPTIONS  # noqa: E402

STRATEGIES = ("swap", "in-place")
DEFAULT_SIZES = (20, 200, 1000)
CLUSTER_SIZE = 200
FAST_RENAME_MINUTES = 2.0  # sensitivity: the default rename is the documented ~10 minutes
RECOVERY_DATABASES = 3
RECOVERY_SIZE = 200


def main(argv: list[str] | None = None) -> int:
    arguments = _parse(argv)
    real_start = time.perf_counter()
    with StrategyBench() as bench:
        runs = [bench.measure(Scenario(strategy, size)) for size in arguments.sizes for strategy in STRATEGIES]
        if arguments.cluster:
            runs += [bench.measure(Scenario(strategy, CLUSTER_SIZE, is_cluster=True)) for strategy in STRATEGIES]
        fast_rename = DEFAULT_ASSUMPTIONS.with_rename(FAST_RENAME_MINUTES)
        largest = max(arguments.sizes)
        sensitivity = {s: bench.measure(Scenario(s, largest, assumptions=fast_rename)) for s in STRATEGIES}
        in_time = [bench.measure(Scenario("swap", size, source=POINT_IN_TIME)) for size in arguments.sizes]
        recoveries = [bench.measure_recovery(RECOVERY_SIZE, RECOVERY_DATABASES, together=way) for way in (True, False)]
    console = Console(width=160)
    console.print(_table(runs))
    console.print(_point_in_time_table(runs, in_time))
    console.print(_recovery_table(recoveries))
    summary = Summary(runs, largest)
    for line in _findings(runs, summary, sensitivity, largest):
        console.print(line)
    console.print(f"{len(runs) + len(sensitivity) + len(in_time) + RECOVERY_DATABASES + 1} runs "
                  f"in {time.perf_counter() - real_start:.1f} s real time")
    print(f"downtime_ratio={summary.downtime_ratio:.4f} lambda_gbs_ratio={summary.lambda_ratio:.5f}")
    return 0


class Summary:
    """The figures the last line reports: the largest instance size, swap's Lambda cost."""

    def __init__(self, runs: list[Measurement], largest: int) -> None:
        instance = {(m.scenario.size_gib, m.scenario.strategy): m for m in runs if not m.scenario.is_cluster}
        sizes = sorted({size for size, _ in instance})
        self.downtime_ratio = _downtime_ratio(instance[largest, "swap"], instance[largest, "in-place"])
        self.lambda_ratio = instance[largest, "swap"].lambda_gbs_ratio
        self.mean_downtime_ratio = statistics.mean(
            _downtime_ratio(instance[size, "swap"], instance[size, "in-place"]) for size in sizes
        )
        self.mean_lambda_ratio = statistics.mean(instance[size, "swap"].lambda_gbs_ratio for size in sizes)
        self.mean_lambda_ratio_in_place = statistics.mean(instance[size, "in-place"].lambda_gbs_ratio for size in sizes)


def _findings(
    runs: list[Measurement], summary: Summary, sensitivity: dict[str, Measurement], largest: int
) -> list[str]:
    swap_runs = [run for run in runs if run.scenario.strategy == "swap"]
    mean_billed = statistics.mean(run.ours.occupied_seconds * 1000 / run.ours.invocations for run in swap_runs)
    break_even = min(run.break_even_billed_ms for run in swap_runs)
    fast_swap, fast_in_place = sensitivity["swap"], sensitivity["in-place"]
    return [
        f"last line: instance {largest} GiB; downtime swap / in-place, Lambda GB-s swap / waiting inside Lambda",
        f"mean across instance sizes: downtime ratio {summary.mean_downtime_ratio:.3f}, "
        f"Lambda GB-s ratio {summary.mean_lambda_ratio:.5f} (swap), {summary.mean_lambda_ratio_in_place:.5f} (in-place)",
        f"with a {FAST_RENAME_MINUTES:.0f}-minute rename at {largest} GiB: downtime ratio "
        f"{_downtime_ratio(fast_swap, fast_in_place):.3f} (swap {_minutes(fast_swap.downtime_seconds)}, "
        f"in-place {_minutes(fast_in_place.downtime_seconds)})",
        f"measured billing: {mean_billed:.0f} ms per invocation on average (swap runs); the 1/50 GB-s target "
        f"holds in every swap run up to {break_even:.0f} ms per invocation",
    ]


def _downtime_ratio(swap: Measurement, in_place: Measurement) -> float:
    return swap.downtime_seconds / in_place.downtime_seconds


def _table(runs: list[Measurement]) -> Table:
    table = Table(title="Restore strategies on the RDS timing model (virtual time; poll every 30 s)")
    for heading in (
        "database", "strategy", "downtime", "total time", "transitions", "RDS calls (mutating)",
        "Lambda calls", "Lambda GB-s", "waiting in Lambda: calls", "GB-s", "GB-s ratio",
    ):
        table.add_column(heading, justify="left" if heading in ("database", "strategy") else "right", no_wrap=heading == "database")
    for run in runs:
        table.add_row(
            f"{run.scenario.kind} {run.scenario.size_gib} GiB",
            run.scenario.strategy,
            _minutes(run.downtime_seconds),
            _minutes(run.total_seconds),
            str(run.state_transitions),
            f"{run.rds_calls} ({run.rds_mutating_calls})",
            str(run.ours.invocations),
            f"{run.ours.gb_seconds:.2f}",
            str(run.waiting_in_lambda.invocations),
            f"{run.waiting_in_lambda.gb_seconds:.1f}",
            f"1/{1 / run.lambda_gbs_ratio:.0f}",
        )
    return table


def _point_in_time_table(runs: list[Measurement], in_time: list[Measurement]) -> Table:
    """The same instance and strategy (swap) from a snapshot and to a point in time (log replay on top)."""
    table = Table(title="Restoring from a snapshot or to a point in time (swap, same timing model)")
    for heading in ("database", "from", "downtime", "total time", "RDS calls (mutating)"):
        table.add_column(heading, justify="left" if heading in ("database", "from") else "right")
    by_size = {run.scenario.size_gib: run for run in runs if run.scenario.strategy == "swap" and not run.scenario.is_cluster}
    for run in in_time:
        for shown in (by_size[run.scenario.size_gib], run):
            table.add_row(f"instance {shown.scenario.size_gib} GiB", shown.scenario.source, _minutes(shown.downtime_seconds),
                          _minutes(shown.total_seconds), f"{shown.rds_calls} ({shown.rds_mutating_calls})")  # fmt: skip
    return table


def _recovery_table(recoveries: list[RecoveryMeasurement]) -> Table:
    """Several databases to one instant: the recover workflow against one restore run after another."""
    table = Table(title=f"{RECOVERY_DATABASES} instances of {RECOVERY_SIZE} GiB to one point in time")
    for heading in ("how", "downtime per database", "from the first swap to the last", "total time", "instants"):
        table.add_column(heading, justify="left" if heading == "how" else "right")
    for recovery in recoveries:
        table.add_row(
            "recover workflow (all staged, then the swaps)" if recovery.together else "one restore run after another",
            ", ".join(_minutes(seconds) for seconds in recovery.downtime_seconds),
            _minutes(recovery.swap_spread_seconds),
            _minutes(recovery.total_seconds),
            str(len(recovery.restore_times)),
        )
    return table


def _minutes(seconds: float) -> str:
    return f"{seconds / 60:.1f} min"


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--sizes",
        type=lambda text: tuple(int(part) for part in text.split(",")),
        default=DEFAULT_SIZES,
        help="instance sizes in GiB, comma separated (default 20,200,1000)",
    )
    parser.add_argument("--no-cluster", dest="cluster", action="store_false", help="skip the cluster rows")
    return parser.parse_args(argv)


if __name__ == "__main__":
    sys.exit(main())
