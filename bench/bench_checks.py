"""Checks: one file of about 500 KB through ``check_file``.

The baseline is what any tool must do with the file anyway: read it and
hash it (sha256). Three contents of the same size show the cheap path and
the expensive ones:

- a clean meter file (every rule passes; the common case);
- the same with quoted fields (the csv module counts the fields);
- a messy one: mixed line endings, non-ASCII bytes and ragged rows on many
  lines (each rule walks the lines to name them).

    python bench/bench_checks.py [--size 499000] [--runs 20]
"""

from __future__ import annotations

import argparse
import hashlib
from functools import partial
from pathlib import Path

from common import Report, limit_row, sandbox, script_main, timed

from omar_tui.core.checks import check_file
from omar_tui.demo import _big_file

LIMIT = 0.030
"""Seconds allowed for one ~500 KB file."""


def contents(size: int) -> dict[str, bytes]:
    clean = _big_file(size)[:size]
    clean = clean[: clean.rfind(b"\n") + 1]
    lines = clean.split(b"\n")
    quoted = b"\n".join(line.replace(b",MWH", b',"MWH"') for line in lines)
    quoted = quoted[: quoted.rfind(b"\n", 0, size) + 1]
    third = len(lines) // 3
    messy = b"\r\n".join(lines[:third]) + b"\r\n"
    messy += b"\n".join(
        line + (b",x" if n % 7 == 0 else b"") + (b"\xe9" if n % 5 == 0 else b"")
        for n, line in enumerate(lines[third:])
        if line
    )
    messy = messy[: messy.rfind(b"\n", 0, size) + 1]
    return {"clean": clean, "quoted fields": quoted, "messy": messy}


def read_and_hash(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def run(args: argparse.Namespace) -> Report:
    report = Report("checks", {"size": args.size, "runs": args.runs})
    with sandbox() as root:
        for label, data in contents(args.size).items():
            path = root / f"meter_{label.replace(' ', '_')}.csv"
            path.write_bytes(data)
            found = check_file(path)  # warm the page cache and the imports
            read_and_hash(path)
            ours = [timed(partial(check_file, path)) for _ in range(args.runs)]
            base = [timed(partial(read_and_hash, path)) for _ in range(args.runs)]
            rules = sorted({f.rule for f in found.findings}) or ["none"]
            report.add(
                limit_row(
                    "checks",
                    f"check_file, {len(data):,} bytes, {label}",
                    ours,
                    LIMIT,
                    baseline="read + sha256",
                    baseline_samples=base,
                    note="findings: " + ", ".join(rules),
                )
            )
    report.notes.append(
        "Warm page cache; one file at a time in this process, as the sender "
        "re-checks a changed file."
    )
    return report


def options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--size", type=int, default=499_000, help="bytes per file")
    parser.add_argument("--runs", type=int, default=20)


def main() -> int:
    return script_main(__doc__, options, run)


if __name__ == "__main__":
    raise SystemExit(main())
