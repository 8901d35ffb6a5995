"""The history's tables and indexes, and how an older file is brought up to date.

Kept apart from the code that reads and writes records so the one place
that says what a history file contains is short enough to check by eye:
every column, every index the searches rely on (see
:mod:`omar_tui.core.history.queries`), and the ordered steps that take a
file from any earlier version to :data:`SCHEMA_VERSION`.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from pathlib import Path

from omar_tui.errors import HistoryError

SCHEMA_VERSION = 1

MIGRATIONS: dict[int, Sequence[str]] = {
    1: (
        """
        CREATE TABLE submissions (
            id           INTEGER PRIMARY KEY AUTOINCREMENT,
            started_at   TEXT    NOT NULL,
            finished_at  TEXT,
            environment  TEXT    NOT NULL,
            base_url     TEXT    NOT NULL,
            local_path   TEXT    NOT NULL,
            name_sent    TEXT    NOT NULL,
            bytes        INTEGER NOT NULL,
            sha256       TEXT    NOT NULL,
            outcome      TEXT    NOT NULL,
            file_id      TEXT,
            saved_as     TEXT,
            server_size  INTEGER,
            message      TEXT    NOT NULL DEFAULT '',
            raw_reply    TEXT    NOT NULL DEFAULT '',
            profile      TEXT    NOT NULL DEFAULT 'default',
            moved_to     TEXT,
            pid          INTEGER NOT NULL,
            host         TEXT    NOT NULL
        )
        """,
        "CREATE INDEX submissions_dedupe ON submissions (sha256, environment, outcome)",
        "CREATE INDEX submissions_started ON submissions (started_at)",
        "CREATE INDEX submissions_file_id ON submissions (file_id)",
        "CREATE INDEX submissions_name ON submissions (name_sent)",
        "CREATE INDEX submissions_pending ON submissions (id)"
        " WHERE outcome = 'pending'",
    ),
}
"""Schema changes by version; a new version only ever adds a step."""

COLUMNS = (
    "id, started_at, finished_at, environment, base_url, local_path, name_sent,"
    " bytes, sha256, outcome, file_id, saved_as, server_size, message,"
    " raw_reply, profile, moved_to, pid, host"
)
"""Every column, in the order a row is turned into a ``Submission``."""


def migrate(conn: sqlite3.Connection, db_path: Path) -> None:
    """Bring the schema of ``conn`` up to :data:`SCHEMA_VERSION`.

    Runs in one ``BEGIN IMMEDIATE`` transaction, so two processes starting
    on a new file at once do not both create the tables.

    Args:
        conn: An open connection in autocommit mode (``isolation_level=None``).
        db_path: The file, named in the error when it is too new.

    Raises:
        HistoryError: When the file was written by a newer omar-tui.
    """
    conn.execute("BEGIN IMMEDIATE")  # two first starts must not race
    try:
        conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)"
        )
        row = conn.execute("SELECT max(version) FROM schema_version").fetchone()
        version = row[0] or 0
        if version > SCHEMA_VERSION:
            raise HistoryError(
                f"The submission history {db_path} was written by a newer omar-tui",
                "Upgrade omar-tui, or set OMAR_TUI_CONFIG_DIR to use another folder.",
            )
        for step in range(version + 1, SCHEMA_VERSION + 1):
            for statement in MIGRATIONS[step]:
                conn.execute(statement)
            conn.execute("INSERT INTO schema_version VALUES (?)", (step,))
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
