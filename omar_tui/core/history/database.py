"""Opening the history's SQLite file so that several processes can share it.

The TUI, cron jobs and a watcher may all write at once. What makes that
safe is decided here, once, when a connection is opened: the file and its
``-wal``/``-shm`` companions are private (0600), the journal is WAL, a
write waits up to :data:`BUSY_TIMEOUT_MS` for another, and every commit is
``synchronous=FULL`` so it survives a power cut.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path

from omar_tui.core.history.schema import migrate
from omar_tui.core.paths import make_private_dir
from omar_tui.errors import HistoryError

BUSY_TIMEOUT_MS = 10_000
"""How long a write waits for another process's write to finish."""

COMPANIONS = ("-wal", "-shm")
"""Suffixes of the files SQLite keeps beside a WAL database."""


def open_database(db_path: Path) -> sqlite3.Connection:
    """Open (creating if missing) the history file, migrated and in WAL mode.

    The connection is in autocommit mode (transactions are explicit) and
    may be used from any thread; the caller serialises access.

    Raises:
        HistoryError: When the folder or file cannot be created, or the file
            was written by a newer omar-tui.
        sqlite3.DatabaseError: When SQLite cannot use the file; a broken one
            is for :mod:`omar_tui.core.history.recovery` to move aside.
    """
    try:
        make_private_dir(db_path.parent)
        _create_private(db_path)
    except OSError as exc:
        raise HistoryError(
            f"Cannot create the submission history {db_path}",
            f"{exc.strerror or exc}. Check that the folder exists and is "
            "yours, or set OMAR_TUI_CONFIG_DIR to another folder.",
        ) from None

    conn = sqlite3.connect(db_path, isolation_level=None, check_same_thread=False)
    try:
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        conn.execute("PRAGMA synchronous = FULL")
        _when_free(lambda: _prepare(conn, db_path))
    except BaseException:
        conn.close()
        raise

    for suffix in COMPANIONS:
        _tighten(companion(db_path, suffix))
    return conn


def companion(db_path: Path, suffix: str) -> Path:
    """The ``-wal`` or ``-shm`` file beside ``db_path``."""
    return db_path.with_name(db_path.name + suffix)


def error_code(exc: sqlite3.Error) -> int | None:
    """SQLite's primary result code for ``exc`` (``SQLITE_BUSY``, ...), if any."""
    code = getattr(exc, "sqlite_errorcode", None)
    return None if code is None else int(code) & 0xFF  # primary code


def open_error(path: Path, exc: sqlite3.Error) -> HistoryError:
    """The operator-facing error for a history file SQLite would not open."""
    return HistoryError(
        f"Cannot open the submission history {path}",
        f"SQLite said: {exc}. Check that the folder is yours and not full, "
        "or set OMAR_TUI_CONFIG_DIR to another folder.",
    )


def _prepare(conn: sqlite3.Connection, db_path: Path) -> None:
    """Switch to WAL (once per file) and bring the schema up to date."""
    mode = conn.execute("PRAGMA journal_mode").fetchone()[0]
    if str(mode).lower() != "wal":
        # Needs an exclusive lock and, unlike most statements, may answer
        # "busy" at once instead of waiting: _when_free retries it.
        conn.execute("PRAGMA journal_mode = WAL")
    migrate(conn, db_path)


def _when_free(step: Callable[[], None]) -> None:
    """Run ``step``, retrying while another process holds the database.

    SQLite's busy timeout covers ordinary writes, but a few steps at open
    (switching a new file to WAL, WAL recovery) can answer "busy" at once.
    """
    deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
    pause = 0.005
    while True:
        try:
            step()
        except sqlite3.OperationalError as exc:
            busy = error_code(exc) in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)
            if not busy or time.monotonic() + pause > deadline:
                raise
            time.sleep(pause)
            pause = min(pause * 2, 0.2)
        else:
            return


def _create_private(path: Path) -> None:
    """Create the database file 0600 before SQLite does (with the umask's)."""
    try:
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    except FileExistsError:
        _tighten(path)
    else:
        os.close(fd)


def _tighten(path: Path) -> None:
    """Take group and other permissions off an existing file."""
    with contextlib.suppress(FileNotFoundError):
        mode = path.stat().st_mode & 0o777
        if mode & 0o077:
            path.chmod(mode & 0o700)
