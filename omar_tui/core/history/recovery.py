"""Opening the history even when its file is broken, without losing the old one.

A file that is not a database, or a corrupt one, must neither stop the
operator from sending nor be overwritten: it may be the only record of what
was sent. So it is moved aside (never deleted), with its ``-wal`` and
``-shm`` companions, and a new history is started; the caller is told where
the old one went so the front end can tell the operator.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from omar_tui.core.atomic import move_aside
from omar_tui.core.history.database import (
    COMPANIONS,
    companion,
    error_code,
    open_database,
    open_error,
)
from omar_tui.errors import HistoryError

BROKEN_CODES = frozenset({sqlite3.SQLITE_NOTADB, sqlite3.SQLITE_CORRUPT})
"""SQLite result codes that mean the file itself is unusable."""


def open_or_recover(db_path: Path) -> tuple[sqlite3.Connection, Path | None]:
    """Open the history file, moving a broken one aside and starting afresh.

    Returns:
        The connection, and where a broken file was moved (``None`` if the
        file was fine).

    Raises:
        HistoryError: When the file cannot be opened for another reason, or
            a broken one cannot be moved aside.
    """
    try:
        return open_database(db_path), None
    except sqlite3.DatabaseError as exc:
        if error_code(exc) not in BROKEN_CODES:
            raise open_error(db_path, exc) from None
        moved = move_broken_aside(db_path, str(exc))

    try:
        return open_database(db_path), moved
    except sqlite3.Error as again:
        raise open_error(db_path, again) from None


def move_broken_aside(db_path: Path, reason: str) -> Path:
    """Rename a broken history file and its companions out of the way.

    Returns:
        The new path of the database file.

    Raises:
        HistoryError: When the file cannot be renamed.
    """
    try:
        moved = move_aside(db_path, f"not a usable SQLite database ({reason})")
        for suffix in COMPANIONS:
            old = companion(db_path, suffix)
            if old.exists():
                old.rename(companion(moved, suffix))
    except OSError as exc:
        raise HistoryError(
            f"The submission history {db_path} is damaged and cannot be moved aside",
            f"{exc.strerror or exc}. Move it away by hand; omar-tui will "
            "start a new one.",
        ) from None
    return moved
