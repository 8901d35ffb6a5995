"""Run every benchmark, print one table, write the results as JSON.

    .venv/bin/python bench/run_all.py            # everything (about 4 minutes)
    .venv/bin/python bench/run_all.py --only upload,checks
    .venv/bin/python bench/run_all.py --upload-runs 1 --history-records 200000

Each benchmark's own options are here with its name in front (``--upload-runs``,
``--folder-files``...); ``--help`` lists them. Results go to
``bench/results/<bench>.json``, plus ``summary.json`` (every row) and
``latest.md`` (the table, as in bench/README.md).

Everything runs in temporary folders with a private ``OMAR_TUI_CONFIG_DIR``;
the only server contacted is the simulator each benchmark starts on
127.0.0.1. The machine's load average is recorded beside the figures: on a
shared machine, other work slows every figure, omar-tui's and the
baselines' alike, but not always by the same factor.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from datetime import UTC, datetime
from types import ModuleType

import bench_checks
import bench_folder
import bench_history
import bench_startup
import bench_upload
from common import RESULTS, Report, machine, say, table

BENCHES: dict[str, ModuleType] = {
    "checks": bench_checks,
    "history": bench_history,
    "upload": bench_upload,
    "folder": bench_folder,
    "startup": bench_startup,
}


def parser() -> argparse.ArgumentParser:
    """This script's options, with every benchmark's own under its name."""
    top = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    top.add_argument(
        "--only",
        default=",".join(BENCHES),
        help=f"comma-separated subset of {', '.join(BENCHES)}",
    )
    for name, module in BENCHES.items():
        own = argparse.ArgumentParser(add_help=False)
        module.options(own)
        group = top.add_argument_group(name)
        for action in own._actions:
            group.add_argument(
                f"--{name}-{action.dest.replace('_', '-')}",
                dest=f"{name}__{action.dest}",
                type=action.type or str,
                default=action.default,
                help=action.help,
            )
    return top


def options_of(name: str, args: argparse.Namespace) -> argparse.Namespace:
    prefix = f"{name}__"
    return argparse.Namespace(
        **{
            key[len(prefix) :]: value
            for key, value in vars(args).items()
            if key.startswith(prefix)
        }
    )


def main() -> int:
    args = parser().parse_args()
    chosen = [name.strip() for name in args.only.split(",") if name.strip()]
    unknown = [name for name in chosen if name not in BENCHES]
    if unknown:
        raise SystemExit(f"unknown benchmark(s): {', '.join(unknown)}")

    started = time.perf_counter()
    reports: list[Report] = []
    for name in chosen:
        say(f"== {name}")
        load_before = os.getloadavg()
        began = time.perf_counter()
        report = BENCHES[name].run(options_of(name, args))
        report.seconds = time.perf_counter() - began
        report.load_average = [round(x, 2) for x in (*load_before, *os.getloadavg())]
        report.write()
        reports.append(report)
        say(f"   {name}: {report.seconds:.0f} s")

    rows = [row for report in reports for row in report.rows]
    total = time.perf_counter() - started
    summary = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "seconds": round(total, 1),
        "benches": {
            r.bench: {"seconds": round(r.seconds, 1), "load_average": r.load_average}
            for r in reports
        },
        "rows": [row.as_dict() for row in rows],
        "notes": {r.bench: r.notes for r in reports},
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    if set(chosen) == set(BENCHES):
        (RESULTS / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
        (RESULTS / "latest.md").write_text(table(rows, markdown=True) + "\n")

    print(table(rows))
    print()
    for report in reports:
        for note in report.notes:
            print(f"[{report.bench}] {note}")
    missed = [r for r in rows if r.met is False]
    print(
        f"\n{len(rows)} figures, {len(missed)} targets missed, {total:.0f} s; "
        f"results in {RESULTS}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
