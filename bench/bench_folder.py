"""Large folder: 20,000 pending files, checked; and the TUI while it checks.

Two parts:

1. ``check_file`` over every file, as the TUI's scan calls it (with the
   pending folder as ``pending_root``), against the least any tool must do:
   read each file and hash it (sha256). Target: all checks within 10 s.
2. The TUI on that folder (``tui_probe.py folder``, headless, in a
   subprocess): the first rows drawn within 1 s of starting the app, key
   presses (``down``) answered -- the frame with the moved cursor composed --
   within 100 ms while the checks run, and every file checked within 10 s.

Files are meter files of one day of 15-minute rows (about 6 KB), distinct,
written and synced before timing (warm page cache).

    python bench/bench_folder.py [--files 20000] [--runs 3] [--tui-runs 1]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

from common import (
    BENCH_DIR,
    Report,
    child_env,
    limit_row,
    median,
    sandbox,
    say,
    script_main,
    skipped_row,
    timed,
)

from omar_tui.core.checks import check_file
from omar_tui.demo import meter_file

CHECKS_LIMIT = 10.0
FIRST_ROWS_LIMIT = 1.0
KEY_LIMIT = 0.100


def make_folder(folder: Path, count: int) -> None:
    """``count`` distinct meter files of about 6 KB (one resource, one day)."""
    folder.mkdir(parents=True)
    template = meter_file("BENCH_00000", "2026-05-04", count=96)
    for n in range(count):
        resource = f"BENCH_{n:05d}".encode()
        (folder / f"meter_20260504_{n:05d}.csv").write_bytes(
            template.replace(b"BENCH_00000", resource)
        )
    os.sync()


def check_all(folder: Path) -> int:
    blocked = 0
    for entry in sorted(os.scandir(folder), key=lambda e: e.name):
        blocked += check_file(Path(entry.path), pending_root=folder).blocked
    return blocked


def hash_all(folder: Path) -> None:
    for entry in sorted(os.scandir(folder), key=lambda e: e.name):
        hashlib.sha256(Path(entry.path).read_bytes()).hexdigest()


def tui_runnable(env: dict[str, str]) -> str | None:
    done = subprocess.run(
        [sys.executable, "-c", "import omar_tui.tui.app"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        return (done.stderr.strip().splitlines() or ["import failed"])[-1]
    return None


def run(args: argparse.Namespace) -> Report:
    report = Report(
        "folder",
        {
            "files": args.files,
            "runs": args.runs,
            "tui_runs": args.tui_runs,
            "presses": args.presses,
        },
    )
    with sandbox() as root:
        folder = root / "pending"
        say(f"  folder: writing {args.files:,} files...")
        make_folder(folder, args.files)
        check_all(folder)  # warm: page cache, imports
        ours, base = [], []
        for run_number in range(args.runs):
            ours.append(timed(lambda: check_all(folder)))
            base.append(timed(lambda: hash_all(folder)))
            say(
                f"  folder run {run_number + 1}: checks {ours[-1]:.2f} s, "
                f"read+sha256 {base[-1]:.2f} s"
            )
        report.add(
            limit_row(
                "folder",
                f"check_file over {args.files:,} files (~6 KB each)",
                ours,
                CHECKS_LIMIT,
                baseline="read + sha256 of each file",
                baseline_samples=base,
            )
        )

        env = child_env(root / "config")
        why = tui_runnable(env)
        if why is None and args.tui_runs > 0:
            tui_rows(report, folder, env, args)
        else:
            why = why or "--tui-runs 0"
            for measure, target in (
                ("TUI: first rows drawn", "<= 1 s"),
                ("TUI: key press answered while checking", "<= 100 ms"),
                ("TUI: all files checked", "<= 10 s"),
            ):
                report.add(skipped_row("folder", measure, target, why))
    report.notes.append(
        "Warm page cache (files just written and synced). The TUI figures come "
        "from a headless run driven by a Textual Pilot in a subprocess."
    )
    return report


def tui_rows(
    report: Report, folder: Path, env: dict[str, str], args: argparse.Namespace
) -> None:
    results = []
    probe = [sys.executable, str(BENCH_DIR / "tui_probe.py"), "folder", str(folder)]
    subprocess.run(  # warm: bytecode and page cache for the app's imports
        [sys.executable, "-c", "import omar_tui.tui.app"], env=env, check=True
    )
    for run_number in range(args.tui_runs):
        done = subprocess.run(
            [*probe, str(args.presses)],
            env=env,
            capture_output=True,
            text=True,
            check=False,
            timeout=300,
        )
        if done.returncode != 0:
            raise SystemExit(f"TUI probe failed:\n{done.stderr[-3000:]}")
        results.append(json.loads(done.stdout.strip().splitlines()[-1]))
        if results[-1]["checked"] != args.files:
            raise SystemExit(f"the TUI checked {results[-1]['checked']} files")
        latencies = results[-1]["key_latencies"]
        say(
            f"  folder TUI run {run_number + 1}: first rows "
            f"{results[-1]['first_rows_drawn']:.2f} s, keys median "
            f"{median(latencies) * 1000:.0f} ms / max {max(latencies) * 1000:.0f} ms, "
            f"all checked {results[-1]['all_checked']:.2f} s"
        )

    report.add(
        limit_row(
            "folder",
            "TUI: first rows drawn (from app start)",
            [r["first_rows_drawn"] for r in results],
            FIRST_ROWS_LIMIT,
        )
    )
    latencies = [x for r in results for x in r["key_latencies"]]
    while_checking = sum(r["presses_while_checking"] for r in results)
    key_row = limit_row(
        "folder",
        "TUI: key press answered while checking (median)",
        latencies,
        KEY_LIMIT,
        note=f"max {max(latencies) * 1000:.0f} ms; {while_checking} of "
        f"{len(latencies)} presses while checks ran",
    )
    report.add(key_row)
    worst = limit_row(
        "folder",
        "TUI: key press answered while checking (worst)",
        [max(latencies)],
        KEY_LIMIT,
    )
    report.add(worst)
    report.add(
        limit_row(
            "folder",
            f"TUI: all {args.files:,} files checked (from app start)",
            [r["all_checked"] for r in results],
            CHECKS_LIMIT,
            baseline="check_file loop alone (above)",
            baseline_samples=report.rows[0].samples,
        )
    )
    report.checks["tui_runs"] = results


def options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--files", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=3, help="runs of the check loop")
    parser.add_argument("--tui-runs", type=int, default=1, help="TUI runs (0: skip)")
    parser.add_argument("--presses", type=int, default=20, help="keys per TUI run")


def main() -> int:
    return script_main(__doc__, options, run)


if __name__ == "__main__":
    raise SystemExit(main())
