"""Start-up: time to the first drawn frame and peak memory of the TUI.

``omar-tui`` (no command, as an operator starts it) opens on the demo's data
(``omar_tui.demo.prepare_demo``: settings, certificates, sample pending
files; nothing is started or contacted). The baseline is a bare Textual app
with the same kinds of widgets: a header, a DataTable, a Static panel, a
RichLog and a footer. Both run headless in a fresh subprocess
(``tui_probe.py``), which exits the moment its first frame is composed:

- time: from just before the subprocess is started to that frame, so
  Python's start-up and every import count;
- memory: the child's peak resident set size at that frame (``VmHWM`` on
  Linux; ``ru_maxrss`` from ``os.wait4`` elsewhere);
- which heavy modules (httpx, bs4, cryptography) were loaded by then: they
  must stay off the start-up path.

    python bench/bench_startup.py [--runs 7]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

from common import (
    BENCH_DIR,
    Report,
    Row,
    child_env,
    ratio_row,
    sandbox,
    say,
    script_main,
)

TIME_RATIO = 1.3
MEMORY_RATIO = 1.5


def probe(mode: str, env: dict[str, str]) -> dict[str, float | list[str]]:
    """One headless start: seconds to the first frame, peak RSS, heavy modules."""
    started = time.monotonic()
    child = subprocess.Popen(
        [sys.executable, str(BENCH_DIR / "tui_probe.py"), mode],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert child.stdout is not None and child.stderr is not None
    out = child.stdout.read()
    err = child.stderr.read()
    _pid, status, usage = os.wait4(child.pid, 0)
    child.returncode = os.waitstatus_to_exitcode(status)
    lines = out.decode().strip().splitlines()
    if child.returncode != 0 or not lines:
        raise RuntimeError(f"{mode} probe failed ({status}): {err.decode()[-1500:]}")
    record = json.loads(lines[-1])
    # VmHWM where there is one: on Linux ru_maxrss also counts this parent's
    # RSS at fork time, which a big run_all parent would inflate.
    peak_kb = record.get("hwm_kb") or usage.ru_maxrss
    return {
        "seconds": record["frame"] - started,
        "rss_mib": peak_kb / 1024,
        "heavy_modules": record["heavy_modules"],
    }


def tui_runnable(env: dict[str, str]) -> str | None:
    """None when the TUI imports; else why not (it is being built)."""
    done = subprocess.run(
        [sys.executable, "-c", "import omar_tui.tui.app, omar_tui.demo"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        return done.stderr.strip().splitlines()[-1] if done.stderr else "import failed"
    return None


def run(args: argparse.Namespace) -> Report:
    report = Report("startup", {"runs": args.runs})
    with sandbox() as root:
        env = child_env(root / "config")
        why = tui_runnable(env)
        if why is not None:
            for measure in ("time to first frame", "peak memory (RSS)"):
                report.add(Row("startup", measure, None, "", note=f"skipped: {why}"))
            return report

        from omar_tui.demo import prepare_demo

        demo = prepare_demo(root / "demo")
        env = child_env(demo.paths.config_dir)
        results: dict[str, list[dict[str, float | list[str]]]] = {
            "omar": [],
            "bare": [],
        }
        for mode in results:  # warm the page cache (bytecode, shared libraries)
            probe(mode, env)
        for run_number in range(args.runs):
            for mode in results:
                results[mode].append(probe(mode, env))
            say(
                f"  startup run {run_number + 1}: omar-tui "
                f"{results['omar'][-1]['seconds']:.3f} s, bare "
                f"{results['bare'][-1]['seconds']:.3f} s"
            )

    def column(mode: str, key: str) -> list[float]:
        return [float(r[key]) for r in results[mode]]  # type: ignore[arg-type]

    bare = "bare Textual app (header, DataTable, Static, RichLog, footer)"
    report.add(
        ratio_row(
            "startup",
            "time to first frame (headless, incl. Python start-up)",
            column("omar", "seconds"),
            bare,
            column("bare", "seconds"),
            max_ratio=TIME_RATIO,
        )
    )
    report.add(
        ratio_row(
            "startup",
            "peak memory (RSS) at first frame",
            column("omar", "rss_mib"),
            bare,
            column("bare", "rss_mib"),
            unit="MiB",
            max_ratio=MEMORY_RATIO,
        )
    )
    per_run = [sorted(r["heavy_modules"]) for r in results["omar"]]  # type: ignore[arg-type]
    heavy = sorted({m for modules in per_run for m in modules})
    runs_with = sum(1 for modules in per_run if modules)
    report.add(
        Row(
            "startup",
            "runs with heavy modules loaded at first frame",
            float(runs_with),
            "",
            target="0 (httpx, bs4, cryptography)",
            met=not heavy,
            samples=[float(len(m)) for m in per_run],
            note=f"{', '.join(heavy) or 'none'} in {runs_with} of {len(per_run)} runs",
        )
    )
    report.checks["heavy_modules_at_first_frame"] = per_run
    report.notes.append(
        "Headless: the frame is composed but not written to a terminal, for both "
        "apps alike. Demo data from omar_tui.demo.prepare_demo (no simulator)."
    )
    return report


def options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--runs", type=int, default=7)


def main() -> int:
    return script_main(__doc__, options, run)


if __name__ == "__main__":
    raise SystemExit(main())
