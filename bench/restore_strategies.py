"""Restore strategies side by side: downtime, time and cost of `swap` and `in-place`, from a snapshot and to a
point in time, and several databases brought back to one instant.

Runs the real restore workflow (template.yaml and statemachine/restore.asl.json,
on the local engine) for both strategies and several database sizes, with every
RDS operation taking the time the model in ``src/cli/trapheus_local/rds_timing.py`` gives it on
the virtual clock, and prints one table; then a point-in-time restore (swap) beside the
snapshot restore of each size, and the recover workflow against one restore run after
another for three databases.

Beside the two restore strategies it sets the copy workflow's promotion by DNS: a refresh restores the new copy
beside the one in service and repoints the lifecycle's CNAME at it. Its client downtime is a model, not a run
(:mod:`bench.dns_promotion`): the record's TTL plus one poll of the workflow's wait for the Route 53 change to be
``INSYNC`` (clients holding the old answer keep reaching the old copy, which stays up until it is retired). It does
not depend on the database's size.

The last line is machine-readable:

    downtime_ratio=<swap / in-place> dns_downtime_ratio=<dns / in-place> lambda_gbs_ratio=<ours / waiting inside Lambda>

each the worst (largest) over the instance sizes run; the Lambda ratio is the swap strategy's (the template's
default). Every run uses the RDS timing model's default rename: the new name answers after about 10 minutes, as
the RDS user guide says; a 2-minute rename is shown as a sensitivity. The lines above it give the means across
sizes and whether each target is met: downtime ratio <= 1/10, DNS downtime ratio <= 0.05, Lambda GB-s <= 1/50.

Usage: ``python bench/restore_strategies.py [--sizes 20,200,1000] [--no-cluster] [--dns-ttl 60] [--dns-poll 10]``
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

from bench.dns_promotion import DEFAULT_POLL_SECONDS, DEFAULT_TTL_SECONDS, DnsPromotion  # noqa: E402
from bench.harness import (  # noqa: E402
    LAMBDA_GBS_TARGET,
    POINT_IN_TIME,
    POLL_SECONDS,
    Measurement,
    RecoveryMeasurement,
    Scenario,
    StrategyBench,
)
from trapheus_local.rds_timing import DEFAULT_ASSUMPTIONS  # noqa: E402

STRATEGIES = ("swap", "in-place")
DEFAULT_SIZES = (20, 200, 1000)
CLUSTER_SIZE = 200
FAST_RENAME_MINUTES = 2.0  # sensitivity: the default rename is the documented ~10 minutes
RECOVERY_DATABASES = 3
RECOVERY_SIZE = 200
DOWNTIME_TARGET = 1 / 10  # swap / in-place
DNS_DOWNTIME_TARGET = 0.05  # promotion by DNS / in-place


def main(argv: list[str] | None = None) -> int:
    arguments = _parse(argv)
    dns = DnsPromotion(ttl_seconds=arguments.dns_ttl, poll_seconds=arguments.dns_poll)
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
    console.print(_dns_table(runs, dns))
    console.print(_point_in_time_table(runs, in_time))
    console.print(_recovery_table(recoveries))
    summary = Summary(runs, dns)
    for line in _findings(runs, summary, sensitivity, largest) + summary.targets():
        console.print(line)
    console.print(f"{len(runs) + len(sensitivity) + len(in_time) + RECOVERY_DATABASES + 1} runs "
                  f"in {time.perf_counter() - real_start:.1f} s real time")
    print(summary.last_line())
    return 0


class Summary:
    """The figures the last line reports: each the worst over the instance sizes run (swap's Lambda cost)."""

    def __init__(self, runs: list[Measurement], dns: DnsPromotion) -> None:
        instance = {(m.scenario.size_gib, m.scenario.strategy): m for m in runs if not m.scenario.is_cluster}
        self.sizes = sorted({size for size, _ in instance})
        self.dns = dns
        self.downtime_ratios = {size: _downtime_ratio(instance[size, "swap"], instance[size, "in-place"]) for size in self.sizes}
        self.dns_downtime_ratios = {size: dns.ratio_to(instance[size, "in-place"].downtime_seconds) for size in self.sizes}
        self.lambda_ratios = {size: instance[size, "swap"].lambda_gbs_ratio for size in self.sizes}
        self.downtime_ratio = max(self.downtime_ratios.values())
        self.dns_downtime_ratio = max(self.dns_downtime_ratios.values())
        self.lambda_ratio = max(self.lambda_ratios.values())
        self.mean_downtime_ratio = statistics.mean(self.downtime_ratios.values())
        self.mean_dns_downtime_ratio = statistics.mean(self.dns_downtime_ratios.values())
        self.mean_lambda_ratio = statistics.mean(self.lambda_ratios.values())
        self.mean_lambda_ratio_in_place = statistics.mean(instance[size, "in-place"].lambda_gbs_ratio for size in self.sizes)

    def last_line(self) -> str:
        return (f"downtime_ratio={self.downtime_ratio:.4f} dns_downtime_ratio={self.dns_downtime_ratio:.4f} "
                f"lambda_gbs_ratio={self.lambda_ratio:.5f}")  # fmt: skip

    def targets(self) -> list[str]:
        """One line per target: met or not, by the worst size."""
        return [
            _target("downtime ratio (swap / in-place)", self.downtime_ratios, DOWNTIME_TARGET),
            _target(f"DNS downtime ratio (TTL {self.dns.ttl_seconds:.0f} s + poll {self.dns.poll_seconds:.0f} s / in-place)",
                    self.dns_downtime_ratios, DNS_DOWNTIME_TARGET),
            _target("Lambda GB-s ratio (swap / waiting inside Lambda)", self.lambda_ratios, LAMBDA_GBS_TARGET),
        ]  # fmt: skip


def _target(what: str, by_size: dict[int, float], target: float) -> str:
    worst_size = max(by_size, key=lambda size: by_size[size])
    met = [size for size, ratio in by_size.items() if ratio <= target]
    verdict = "met" if len(met) == len(by_size) else f"NOT met (met at {_sizes(met)})" if met else "NOT met at any size"
    return f"target {what} <= {target:.3g}: {verdict}; worst {by_size[worst_size]:.4f} at {worst_size} GiB"


def _sizes(sizes: list[int]) -> str:
    return ", ".join(f"{size} GiB" for size in sorted(sizes))


def _findings(
    runs: list[Measurement], summary: Summary, sensitivity: dict[str, Measurement], largest: int
) -> list[str]:
    swap_runs = [run for run in runs if run.scenario.strategy == "swap"]
    mean_billed = statistics.mean(run.ours.occupied_seconds * 1000 / run.ours.invocations for run in swap_runs)
    break_even = min(run.break_even_billed_ms for run in swap_runs)
    fast_swap, fast_in_place = sensitivity["swap"], sensitivity["in-place"]
    return [
        f"last line: the worst instance size for each; downtime swap / in-place, promotion by DNS / in-place, "
        f"Lambda GB-s swap / waiting inside Lambda",
        f"mean across instance sizes: downtime ratio {summary.mean_downtime_ratio:.3f}, DNS downtime ratio "
        f"{summary.mean_dns_downtime_ratio:.4f}, Lambda GB-s ratio {summary.mean_lambda_ratio:.5f} (swap), "
        f"{summary.mean_lambda_ratio_in_place:.5f} (in-place)",
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


def _dns_table(runs: list[Measurement], dns: DnsPromotion) -> Table:
    """The copy workflow's promotion by DNS beside the two restore strategies (its downtime is the model's)."""
    table = Table(title=f"Promotion by DNS (copy workflow: TTL {dns.ttl_seconds:.0f} s + one {dns.poll_seconds:.0f} s poll "
                        "for INSYNC) beside the restore strategies")  # fmt: skip
    for heading in ("database", "swap", "in-place", "DNS promotion", "swap / in-place", "DNS / in-place"):
        table.add_column(heading, justify="left" if heading == "database" else "right")
    by_run = {(run.scenario.kind, run.scenario.size_gib, run.scenario.strategy): run for run in runs}
    for kind, size, strategy in by_run:
        if strategy != "swap" or (kind, size, "in-place") not in by_run:
            continue
        swap, in_place = by_run[kind, size, "swap"], by_run[kind, size, "in-place"]
        table.add_row(f"{kind} {size} GiB", _minutes(swap.downtime_seconds), _minutes(in_place.downtime_seconds),
                      _minutes(dns.downtime_seconds), f"{_downtime_ratio(swap, in_place):.3f}",
                      f"{dns.ratio_to(in_place.downtime_seconds):.4f}")  # fmt: skip
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
    parser.add_argument("--dns-ttl", type=float, default=DEFAULT_TTL_SECONDS,
                        help="TTL of the promoted CNAME in seconds (default: the copy workflow's 60)")
    parser.add_argument("--dns-poll", type=float, default=DEFAULT_POLL_SECONDS,
                        help="the copy workflow's poll interval while Route 53 syncs the change (default: its Wait, 10)")
    return parser.parse_args(argv)


if __name__ == "__main__":
    sys.exit(main())
