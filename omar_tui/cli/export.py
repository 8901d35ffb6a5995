"""``omar-tui history`` filters and ``--export csv|json``.

An export is for an auditor or a spreadsheet: every record that matches the
filters, oldest first, with the same field names as ``submit --json`` and
``history --json`` (:func:`~omar_tui.cli.output.submission_record`), so one
script reads all three. Records are streamed from the history a batch at a
time, so a million of them never sit in memory.

- CSV: a header row of those names, RFC 4180 quoting, ``true``/``false``
  for flags, empty cells for missing values. A cell that a spreadsheet would
  run as a formula (starting with ``=``, ``+``, ``-``, ``@``, tab or CR) gets
  a leading ``'``, as OWASP advises: file names and server messages come
  from outside.
- JSON: one array of objects (``history --json`` gives JSON Lines instead).
- ``--output FILE`` never overwrites an existing file unless ``--force``;
  the file is created readable by the operator only (the history lists
  paths and File Ids), and an interrupted export leaves no partial file.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import json
import os
import secrets
import sys
from collections.abc import Iterable
from datetime import date
from pathlib import Path
from typing import Any, TextIO

from omar_tui.cli.output import submission_record
from omar_tui.core.history import HistoryFilter
from omar_tui.core.models import Outcome, Submission
from omar_tui.errors import UsageError

FORMATS = ("csv", "json")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def record_fields() -> list[str]:
    """The CSV columns: the JSON field names, in the same order."""
    blank = Submission(
        id=0,
        started_at="",
        finished_at=None,
        environment="",
        base_url="",
        local_path="",
        name_sent="",
        bytes=0,
        sha256="",
        outcome=Outcome.PENDING,
    )
    return list(submission_record(blank))


def filters_from_args(args: argparse.Namespace) -> HistoryFilter:
    """The history filters asked for on the command line.

    Raises:
        UsageError: A date that is not ``YYYY-MM-DD``, ``--since`` after
            ``--until``, or an outcome name that does not exist.
    """
    since = parse_day(args.since, "--since")
    until = parse_day(args.until, "--until")
    if since and until and since > until:
        raise UsageError(
            f"--since {since} is after --until {until}.",
            "Both days are included; give the earlier one to --since.",
        )

    outcomes: list[Outcome] = []
    for name in args.outcome or ():
        try:
            outcomes.append(Outcome(name.strip().lower()))
        except ValueError:
            known = ", ".join(o.value for o in Outcome)
            raise UsageError(
                f"There is no outcome called {name!r}.", f"Known outcomes: {known}."
            ) from None

    return HistoryFilter(
        since=since,
        until=until,
        outcomes=tuple(dict.fromkeys(outcomes)),
        environment=args.env,
        profile=None if args.all_profiles else args.active_profile,
        search=args.search,
    )


def parse_day(text: str | None, option: str) -> date | None:
    """A ``YYYY-MM-DD`` day (a UTC day, as the history stores times)."""
    if text is None:
        return None
    try:
        if len(text) != 10:
            raise ValueError(text)
        return date.fromisoformat(text)
    except ValueError:
        raise UsageError(
            f"{option} {text!r} is not a day.", "Write it as YYYY-MM-DD (UTC)."
        ) from None


def check_export_args(args: argparse.Namespace) -> None:
    """Refuse option combinations that make no sense, before any work."""
    if args.output is not None and args.export is None:
        raise UsageError(
            "--output goes with --export.", "Add --export csv or --export json."
        )
    if args.force and args.output is None:
        raise UsageError("--force goes with --output FILE.")
    if args.export is not None and args.json:
        raise UsageError(
            "Give either --json or --export, not both.",
            "--json lists recent records as JSON Lines; --export json writes "
            "every matching record as one JSON array.",
        )


def write_export(rows: Iterable[Submission], fmt: str, out: TextIO) -> int:
    """Write ``rows`` in ``fmt`` (``csv`` or ``json``); return how many."""
    if fmt == "csv":
        return _write_csv(rows, out)
    if fmt == "json":
        return _write_json(rows, out)
    raise UsageError(f"Unknown export format {fmt!r}.", "Use csv or json.")


def export_to_stdout(rows: Iterable[Submission], fmt: str) -> int:
    """Stream the export to stdout; a closed pipe (``| head``) ends it quietly."""
    try:
        count = write_export(rows, fmt, sys.stdout)
        sys.stdout.flush()
    except BrokenPipeError:
        # Keep Python from complaining again when it flushes at exit.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
        return 0
    return count


def export_to_file(
    rows: Iterable[Submission], fmt: str, path: Path, *, force: bool
) -> int:
    """Write the export to ``path``; never overwrite unless ``force``.

    Without ``force`` the file is created with ``O_EXCL`` (so a file that
    appears meanwhile is not overwritten either); with it, a temporary file
    beside ``path`` is renamed over it when complete.

    Raises:
        UsageError: The file exists (without ``force``), or cannot be written.
    """
    if path.is_dir():
        raise UsageError(f"{path} is a folder.", "Give a file name to --output.")
    if path.exists() and not force:
        raise _exists(path)

    target = path if not force else _temp_beside(path)
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(target, flags, 0o600)
    except FileExistsError:
        raise _exists(path) from None
    except OSError as exc:
        raise _cannot_write(path, exc) from None

    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as out:
            count = write_export(rows, fmt, out)
            out.flush()
            os.fsync(out.fileno())
        if force:
            target.replace(path)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            target.unlink()
        if isinstance(exc, OSError):
            raise _cannot_write(path, exc) from None
        raise
    return count


# -- formats ------------------------------------------------------------------


def _write_csv(rows: Iterable[Submission], out: TextIO) -> int:
    fields = record_fields()
    writer = csv.writer(out)
    writer.writerow(fields)
    count = 0
    for row in rows:
        record = submission_record(row)
        writer.writerow([_cell(record[name]) for name in fields])
        count += 1
    return count


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    text = str(value)
    if isinstance(value, str) and text.startswith(_FORMULA_START):
        return "'" + text
    return text


def _write_json(rows: Iterable[Submission], out: TextIO) -> int:
    count = 0
    out.write("[")
    for row in rows:
        out.write(",\n" if count else "\n")
        out.write(json.dumps(submission_record(row), ensure_ascii=False))
        count += 1
    out.write("\n]\n" if count else "]\n")
    return count


# -- helpers ------------------------------------------------------------------


def _temp_beside(path: Path) -> Path:
    return path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")


def _exists(path: Path) -> UsageError:
    return UsageError(
        f"{path} already exists; it was left as it is.",
        "Choose another file name, or add --force to replace it.",
    )


def _cannot_write(path: Path, exc: OSError) -> UsageError:
    return UsageError(
        f"Cannot write {path}: {exc.strerror or exc}.",
        "Check that the folder exists and is yours, and that the disk has room.",
    )


__all__ = [
    "FORMATS",
    "check_export_args",
    "export_to_file",
    "export_to_stdout",
    "filters_from_args",
    "parse_day",
    "record_fields",
    "write_export",
]
