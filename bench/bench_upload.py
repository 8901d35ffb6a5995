"""Upload: a batch sent by ``omar-tui submit`` against two baselines.

The same batch of distinct files goes, in turn, through:

- ``omar-tui submit`` -- the real CLI as a subprocess, one invocation for the
  whole batch, with the simulator's certificate, key and CA on the command
  line. Its time includes Python's start-up and omar-tui's imports, as it
  does for an operator; so does every other contender's.
- (a) ``httpx_floor.py`` -- one keep-alive ``httpx.AsyncClient`` doing the
  same GET and POSTs and nothing else: the practical floor.
- (b) ``curl_loop.sh`` -- one ``curl`` process per file, what an operator
  would otherwise script.

Every file is distinct (a new set for each run of each contender), so
omar-tui's refusal of bytes already accepted never skips one. After each run
the simulator's counters and stored files are compared with what was sent:
each file must have arrived byte-identical, and omar-tui must have used one
TLS connection for the whole batch. The rounds repeat with the simulator's
``latency`` fault, which delays the answer to every request, as a slow link
would.

    python bench/bench_upload.py [--files 200] [--size 102400] [--runs 3]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from common import (
    BENCH_DIR,
    Report,
    Row,
    child_env,
    memory_folder,
    ratio_row,
    sandbox,
    say,
    script_main,
    timed,
    venv_script,
)

from omar_tui.simulator import Simulator

CONTENDERS = ("omar-tui", "httpx", "curl")
MAX_RATIO = 1.25
"""omar-tui's batch may take at most this times the httpx floor's."""


@dataclass
class Round:
    """One latency setting's samples and correctness facts."""

    latency: float
    seconds: dict[str, list[float]]
    tls: dict[str, list[int]]
    requests: dict[str, list[int]]
    identical: dict[str, bool]


def make_batch(folder: Path, tag: str, count: int, size: int) -> list[Path]:
    """``count`` distinct, valid meter files of about ``size`` bytes each."""
    folder.mkdir(parents=True)
    header = b"resource_id,interval_start,interval_end,channel,value,uom\n"
    files = []
    for n in range(count):
        rows = [header]
        total = len(header)
        i = 0
        while total < size:
            minute = i % 96 * 15
            row = (
                f"BENCH_{tag}_{n:04d},2026-05-04T{minute // 60:02d}:{minute % 60:02d},"
                f"2026-05-04T{(minute + 15) // 60:02d}:{(minute + 15) % 60:02d},"
                f"{i // 96 + 1},{(i * 37 + n) % 900 / 100:.3f},MWH\n"
            ).encode()
            rows.append(row)
            total += len(row)
            i += 1
        path = folder / f"b{tag}_{n:04d}.csv"
        path.write_bytes(b"".join(rows))
        files.append(path)
    return files


class Bench:
    def __init__(self, root: Path, sim: Simulator, args: argparse.Namespace) -> None:
        self.root = root
        self.sim = sim
        self.args = args
        self.config = root / "config"
        self.env = child_env(self.config)
        self._sets = 0
        files = sim.files
        self.connection = [
            sim.base_url,
            str(files.client_cert),
            str(files.client_key),
            str(files.ca_cert),
        ]

    def new_batch(self, count: int) -> list[Path]:
        self._sets += 1
        tag = f"{self._sets:03d}"
        return make_batch(self.root / "batches" / tag, tag, count, self.args.size)

    def command(self, who: str, files: list[Path]) -> list[str]:
        base_url, cert, key, ca = self.connection
        names = [str(f) for f in files]
        if who == "omar-tui":
            return [
                *venv_script("omar-tui"),
                "submit",
                "--json",
                *("--base-url", base_url, "--cert", cert, "--key", key),
                *("--ca-bundle", ca),
                *names,
            ]
        if who == "httpx":
            script = str(BENCH_DIR / "httpx_floor.py")
            return [sys.executable, script, *self.connection, *names]
        jar = str(files[0].parent / "cookies.txt")
        script = str(BENCH_DIR / "curl_loop.sh")
        return ["bash", script, base_url, cert, key, ca, jar, *names]

    def run_once(self, who: str, files: list[Path]) -> tuple[float, dict[str, int]]:
        """Send ``files`` with one contender; check every byte arrived."""
        counters = self.sim.requests
        before = (counters.tls_connections, counters.gets, counters.posts)
        with self.sim._lock:
            self.sim.received.clear()

        os.sync()  # files an operator sends were written long before
        result: list[subprocess.CompletedProcess[str]] = []
        seconds = timed(
            lambda: result.append(
                subprocess.run(
                    self.command(who, files),
                    env=self.env,
                    capture_output=True,
                    text=True,
                    check=False,
                )
            )
        )
        done = result[0]
        if done.returncode != 0:
            raise SystemExit(
                f"{who} failed (exit {done.returncode}):\n{done.stderr[-2000:]}"
            )
        if who == "omar-tui":
            outcomes = [json.loads(x)["outcome"] for x in done.stdout.splitlines()]
            if outcomes != ["accepted"] * len(files):
                raise SystemExit(f"omar-tui did not send every file: {outcomes}")

        self._check_received(who, files)
        after = (counters.tls_connections, counters.gets, counters.posts)
        facts = {
            "tls_connections": after[0] - before[0],
            "gets": after[1] - before[1],
            "posts": after[2] - before[2],
        }
        shutil.rmtree(files[0].parent)
        shutil.rmtree(self.sim.state_dir / "received", ignore_errors=True)
        return seconds, facts

    def _check_received(self, who: str, files: list[Path]) -> None:
        with self.sim._lock:
            received = {r.original_name: r.data for r in self.sim.received}
            count = len(self.sim.received)
        sent = {f.name: f.read_bytes() for f in files}
        if count != len(files) or received != sent:
            raise SystemExit(
                f"{who}: the simulator holds {count} files, {len(files)} were sent, "
                "or their bytes differ"
            )

    def round(self, latency: float) -> Round:
        self.sim.faults.latency = latency
        rnd = Round(
            latency,
            {w: [] for w in CONTENDERS},
            {w: [] for w in CONTENDERS},
            {w: [] for w in CONTENDERS},
            dict.fromkeys(CONTENDERS, True),
        )
        for who in CONTENDERS:  # warm the page cache and the imports
            for _ in range(self.args.warmup):
                self.run_once(who, self.new_batch(3))
        for run in range(self.args.runs):
            for who in CONTENDERS:  # interleaved, so drift hits all alike
                seconds, facts = self.run_once(who, self.new_batch(self.args.files))
                rnd.seconds[who].append(seconds)
                rnd.tls[who].append(facts["tls_connections"])
                rnd.requests[who].append(facts["gets"] + facts["posts"])
                say(
                    f"  upload latency={latency:g}s run {run + 1} {who}: "
                    f"{seconds:.2f} s, {facts['tls_connections']} TLS connections"
                )
        return rnd

    def _quietly(self, command: list[str]) -> None:
        subprocess.run(command, env=self.env, capture_output=True, check=True)

    def fixed_cost(self) -> tuple[list[float], list[float]]:
        """Start-up plus session: a dry run of one file vs the floor's GET only."""
        omar: list[float] = []
        floor: list[float] = []
        for _ in range(self.args.runs):
            files = self.new_batch(1)
            base_url, cert, key, ca = self.connection
            dry = [
                *venv_script("omar-tui"),
                "submit",
                "--dry-run",
                *("--base-url", base_url, "--cert", cert, "--key", key),
                *("--ca-bundle", ca),
                str(files[0]),
            ]
            get_only = [sys.executable, str(BENCH_DIR / "httpx_floor.py")]
            get_only += self.connection
            for command, into in ((dry, omar), (get_only, floor)):
                into.append(timed(partial(self._quietly, command)))
            shutil.rmtree(files[0].parent)
        return omar, floor


def run(args: argparse.Namespace) -> Report:
    report = Report(
        "upload",
        {
            "files": args.files,
            "size": args.size,
            "runs": args.runs,
            "warmup": args.warmup,
            "latency": args.latency,
        },
    )
    if shutil.which("curl") is None:
        raise SystemExit("curl is needed for baseline (b); install it first")

    # OMAR-Online stores files on its own disks. A simulator storing them on
    # the client's disk would make omar-tui's history fsyncs flush the
    # server's writes too (ext4 commits one journal for everyone).
    with sandbox() as root, memory_folder("omar-bench-sim-") as sim_dir:
        sim = Simulator(sim_dir / "sim").start()
        try:
            bench = Bench(root, sim, args)
            rounds = [bench.round(0.0)]
            if args.latency > 0:
                rounds.append(bench.round(args.latency))
            sim.faults.latency = 0.0
            fixed = bench.fixed_cost()
        finally:
            sim.stop()

    batch = f"{args.files} x {args.size // 1024} KB"
    for rnd in rounds:
        where = (
            "loopback" if rnd.latency == 0 else f"+{rnd.latency * 1000:g} ms/request"
        )
        omar = rnd.seconds["omar-tui"]
        report.add(
            ratio_row(
                "upload",
                f"{batch}, {where}",
                omar,
                "(a) httpx keep-alive script",
                rnd.seconds["httpx"],
                max_ratio=MAX_RATIO,
            )
        )
        vs_curl = ratio_row(
            "upload",
            f"{batch}, {where}",
            omar,
            "(b) curl, one process a file",
            rnd.seconds["curl"],
        )
        if vs_curl.ratio:
            vs_curl.note = f"omar-tui {1 / vs_curl.ratio:.1f}x faster than curl loop"
        report.add(vs_curl)
        one_connection = all(n == 1 for n in rnd.tls["omar-tui"])
        report.add(
            Row(
                "upload",
                f"TLS connections for the batch, {where}",
                max(rnd.tls["omar-tui"]),
                "",
                "(b) curl",
                max(rnd.tls["curl"]),
                target="1",
                met=one_connection,
                samples=[float(n) for n in rnd.tls["omar-tui"]],
                baseline_samples=[float(n) for n in rnd.tls["curl"]],
            )
        )
        report.checks[f"latency_{rnd.latency:g}s"] = {
            "tls_connections": rnd.tls,
            "requests": rnd.requests,
            "every_file_byte_identical": rnd.identical,
        }

    report.add(
        ratio_row(
            "upload",
            "fixed cost: start-up + session (dry run, 1 file)",
            fixed[0],
            "(a) httpx script, session GET only",
            fixed[1],
            note="informational: part of every batch's time",
        )
    )
    report.notes += [
        "Every contender runs as a subprocess, so each time includes Python (or "
        "curl) start-up and imports, as it does for an operator; the 'fixed cost' "
        "row shows how much of omar-tui's batch that is.",
        "omar-tui also checks every file, writes two history commits per file "
        "(the first fsynced before the request leaves, the second flushed by the "
        "next) and takes a lock per file; the floor does none of that.",
        "Each file arrived byte-identical for every contender and run (compared "
        "with the simulator's stored copies); runs that did not would have "
        "stopped the benchmark.",
    ]
    return report


def options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--files", type=int, default=200, help="files in a batch")
    parser.add_argument("--size", type=int, default=102_400, help="bytes per file")
    parser.add_argument("--runs", type=int, default=3, help="timed runs per contender")
    parser.add_argument("--warmup", type=int, default=1, help="untimed runs first")
    parser.add_argument(
        "--latency", type=float, default=0.05, help="added seconds per request (0: off)"
    )


def main() -> int:
    return script_main(__doc__, options, run)


if __name__ == "__main__":
    raise SystemExit(main())
