"""The benchmark suite: one seeded data set, every scenario against a baseline measured in
the same run, one table (and optionally Markdown and a chart).

    python -m bench --engine sqlite|postgresql --size S|M [--only B1,B2] [--quick]
                    [--chart docs/bench-sqlite-S.png] [--markdown FILE] [--profile FILE]

Scenarios (docs/performance.md has the figures): B0 trivial query, B1 dashboard, B2 large
tree, B3 statement counts of nested shapes, B4 serial look-up, B5 allocation throughput,
B6 FEFO allocation of a 50-line order, B7 serial import, B8 subscription fan-out, B9 the
production extensions' cost on B2.
"""

import argparse
import asyncio
import cProfile
import time
from collections.abc import Awaitable
from pathlib import Path

from bench import report
from bench.common import scratch_database
from bench.report import Row
from bench.scenarios import Bench, allocation, imports, live, reads, shapes
from bench.seed import SIZES, seed
from trackline.runtime import settle_heap, tune_garbage_collector

ALL = [f"B{i}" for i in range(10)]
# Per size: B7 rows imported, B8 subscribers.
IMPORT_ROWS = {"S": 10_000, "M": 100_000}
SUBSCRIBERS = {"S": 100, "M": 1_000}


async def run(args: argparse.Namespace) -> list[Row]:
    only = set(args.only)
    size = SIZES[args.size]
    rows: list[Row] = []
    async with scratch_database(args.engine) as engines:
        seeded = await seed(engines, size)
        print(
            f"Seeded {size.products:,} products, {size.lots:,} lots, {size.serials:,} serials, "
            f"{seeded.movements:,} movements in {seeded.seconds:.1f} s "
            f"(hash chain verified: {seeded.verified:,} movements)",
            flush=True,
        )
        # From here the process stands for a started server: its collector set as
        # `create_app` sets it and as the app's start-up leaves it (trackline/runtime.py).
        tune_garbage_collector()
        settle_heap()
        bench = Bench(args.engine, engines, seeded, reps=1 if args.quick else 5)
        # Only the scenarios, not the seeding: for "where does the time go" on a miss.
        profiler = cProfile.Profile() if args.profile else None
        if profiler:
            profiler.enable()
        # Reads first: the scenarios after them write (orders, allocations, serials).
        if only & {"B0", "B1", "B2", "B4", "B9"}:
            rows += await _timed("reads", reads.run(bench, only))
        if "B3" in only:
            rows += await _timed("B3", shapes.run(bench))
        if only & {"B5", "B6"}:
            rows += await _timed("allocation", allocation.run(bench, only))
        if "B8" in only:
            subscribers, rounds = SUBSCRIBERS[size.name], 2 * bench.reps + 1
            for distinct in (False, True):
                b8 = live.run(bench, subscribers, rounds, distinct=distinct)
                rows += await _timed("B8", _listed(b8))
        if profiler:
            profiler.disable()
            profiler.dump_stats(args.profile)
    if "B7" in only:
        runs = 1 if args.quick else 3
        rows += await _timed("B7", imports.run(args.engine, IMPORT_ROWS[size.name], runs))
    return sorted(rows, key=lambda r: r.scenario.split(" ", 1)[0])


async def _listed(row: Awaitable[Row]) -> list[Row]:
    return [await row]


async def _timed(label: str, step: Awaitable[list[Row]]) -> list[Row]:
    started = time.perf_counter()
    rows = await step
    print(f"  {label} done in {time.perf_counter() - started:.1f} s", flush=True)
    return rows


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--engine", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--size", choices=sorted(SIZES), default="S")
    parser.add_argument(
        "--only", type=lambda v: [s.strip().upper() for s in v.split(",")], default=ALL
    )
    parser.add_argument("--quick", action="store_true", help="fewer repetitions (CI smoke)")
    parser.add_argument("--chart", type=Path, help="write the ratios as a PNG bar chart")
    parser.add_argument("--markdown", type=Path, help="write the table as Markdown")
    parser.add_argument(
        "--profile", type=Path, help="cProfile the scenarios (not the seeding, not B7) to FILE"
    )
    args = parser.parse_args(argv)
    unknown = set(args.only) - set(ALL)
    if unknown:
        parser.error(f"unknown scenarios: {', '.join(sorted(unknown))}")
    lines = report.header(args.engine, args.size)
    print("\n".join(lines), flush=True)
    rows = asyncio.run(run(args))
    print()
    print(report.text_table(rows))
    print(
        "\nratio: ours relative to the baseline, higher is better (raw time / our time, "
        "our rate / raw rate; B3 statements at small / large N; B7 target as a ratio to the "
        "baseline; B8 250 ms / our p99; B9 time without / with the extensions)"
    )
    if args.markdown:
        args.markdown.write_text("\n\n".join(lines) + "\n\n" + report.markdown_table(rows) + "\n")
    if args.chart:
        report.chart(rows, args.chart, f"Trackline, {args.engine}, size {args.size}")


if __name__ == "__main__":
    main()
