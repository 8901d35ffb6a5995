"""The submission history: one SQLite record per file sent, kept for audit.

A record is written and committed *before* a request leaves (outcome
``pending``) and completed when the reply is in. So every byte that may have
reached OMAR-Online is accounted for, even if the process is killed in
between: a pending record whose process is gone reads as ``unknown``
(:mod:`omar_tui.core.history.liveness`), telling the operator to look the
file up in OMAR-Online before sending it again.

This module holds :class:`History`, the records' reads and writes; opening
the file, its schema, recovery from a broken file and search SQL live in
the sibling modules. Design notes:

- ``BEGIN IMMEDIATE`` for every write, with the WAL and busy timeout set up
  in :mod:`omar_tui.core.history.database`, lets the TUI, cron jobs and a
  watcher write at once without "database is locked"; ``synchronous=FULL``
  makes each commit survive a power cut, which matters more here than speed
  (a commit costs one or two fsyncs). The one exception is a sender's
  ``finish(durable=False)``, see :meth:`History.finish`.
- Each record keeps the pid and host of the process that wrote it, which is
  how a dead sender is told from a slow one.
- Times are ISO 8601 in UTC (``2026-12-04T17:03:11.250+00:00``), stamped by
  ``omar_tui.core.history._now``, looked up on the package at each call so
  tests and demo scenes can fix the clock by patching that one name.
"""

from __future__ import annotations

import contextlib
import os
import socket
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

import omar_tui.core.history as clock  # late-bound: tests patch clock._now
from omar_tui.core.atomic import atomic_write_text
from omar_tui.core.history.database import companion
from omar_tui.core.history.liveness import UNKNOWN_MESSAGE, writer_alive
from omar_tui.core.history.queries import (
    HistoryFilter,
    filter_sql,
    keep_asked_outcomes,
    matching_ids,
)
from omar_tui.core.history.recovery import open_or_recover
from omar_tui.core.history.schema import COLUMNS
from omar_tui.core.models import Outcome, Submission
from omar_tui.errors import HistoryError

RAW_REPLY_LIMIT = 64 * 1024
"""Bytes of a reply page kept (UTF-8); the rest is cut, with a note."""


class History:
    """The submission records in one SQLite file.

    Safe to share between threads (one connection behind a lock) and between
    processes (SQLite's own locking). Use as a context manager or call
    :meth:`close`.

    Args:
        db_path: The database file; created (mode 0600) if missing.

    Raises:
        HistoryError: When the file cannot be opened or created.
    """

    def __init__(self, db_path: Path) -> None:
        self.db_path = db_path
        self._lock = threading.Lock()
        self._host = socket.gethostname()
        self._unsynced = False
        """A commit since the last fsync of the WAL may not be on disk yet."""

        self._conn, moved = open_or_recover(db_path)
        self.recovered_from: Path | None = moved
        """Where a broken history file was moved, if one was found at open."""
        if moved is not None:
            # Whoever opened it (even `history` or the app), the next run that
            # sends must still hear of it: the new history knows no past sends.
            atomic_write_text(self._recovery_marker, str(moved))

        self.reconcile()

    @property
    def _recovery_marker(self) -> Path:
        return self.db_path.with_name(self.db_path.name + ".recovered")

    @property
    def unconfirmed_recovery(self) -> Path | None:
        """Where a damaged history went, until a sender confirms it heard so."""
        try:
            return Path(self._recovery_marker.read_text().strip() or "?")
        except OSError:
            return None

    def confirm_recovery(self) -> None:
        """The operator was told that duplicate protection starts afresh."""
        self._recovery_marker.unlink(missing_ok=True)

    # -- opening and closing

    def close(self) -> None:
        """Close the database; the object cannot be used afterwards."""
        self.sync()
        with self._lock:
            self._conn.close()

    def sync(self) -> None:
        """Put every commit on disk, including ``finish(durable=False)`` ones.

        Raises:
            HistoryError: When the write-ahead log cannot be flushed.
        """
        with self._lock:
            if not self._unsynced:
                return
            wal = companion(self.db_path, "-wal")
            try:
                fd = os.open(wal, os.O_RDONLY | os.O_CLOEXEC)
            except FileNotFoundError:
                self._unsynced = False  # checkpointed (and synced) by SQLite
                return
            except OSError as exc:
                raise _sync_error(self.db_path, exc) from None
            try:
                os.fsync(fd)  # Linux and macOS flush the file, whoever wrote it
            except OSError as exc:
                raise _sync_error(self.db_path, exc) from None
            finally:
                os.close(fd)
            self._unsynced = False

    def __enter__(self) -> History:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- writing

    def begin(
        self,
        *,
        environment: str,
        base_url: str,
        local_path: str | os.PathLike[str],
        name_sent: str,
        bytes: int,  # the field's name in Submission
        sha256: str,
        profile: str = "default",
    ) -> int:
        """Record that a file is about to be sent; call before it leaves.

        The record is committed to disk when this returns, so a crash during
        the upload leaves a trace that reads as ``unknown``.

        Returns:
            The record id, for :meth:`finish`.
        """
        with self._write() as conn:  # synchronous=FULL: on disk before it leaves
            cursor = conn.execute(
                "INSERT INTO submissions (started_at, environment, base_url,"
                " local_path, name_sent, bytes, sha256, outcome, profile, pid,"
                " host) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    clock._now(),
                    environment,
                    base_url,
                    str(local_path),
                    name_sent,
                    bytes,
                    sha256,
                    Outcome.PENDING.value,
                    profile,
                    os.getpid(),
                    self._host,
                ),
            )
        assert cursor.lastrowid is not None
        return cursor.lastrowid

    def finish(
        self,
        record_id: int,
        *,
        outcome: Outcome,
        file_id: str | None = None,
        saved_as: str | None = None,
        server_size: int | None = None,
        message: str = "",
        raw_reply: str = "",
        durable: bool = True,
    ) -> Submission:
        """Complete a record with what the server answered.

        A record may be finished while it is pending or unknown (an operator
        who looked an unknown file up in OMAR-Online may settle it); a
        settled record is never rewritten.

        ``durable=False`` (the sender, between files of a batch) commits
        without its own fsync: the next :meth:`begin`'s commit, which must
        reach the disk before the next request leaves, flushes the whole
        write-ahead log and so this commit too, and the sender calls
        :meth:`sync` when its batch ends. That halves the fsyncs of a batch.
        What a power cut can lose is only the completion of the last file
        before it: its record is back to pending, which reads "unknown", so
        the operator looks the file up rather than anything being sent twice
        (an unknown record also blocks an automatic resend). The begin record,
        the guarantee that every send is accounted for, is never relaxed.

        Raises:
            HistoryError: When there is no such record, it is already
                settled, or ``outcome`` is ``pending``.
        """
        if outcome is Outcome.PENDING:
            raise HistoryError("A submission cannot be finished as pending")

        with self._write(durable=durable) as conn:
            row = conn.execute(
                "SELECT outcome FROM submissions WHERE id = ?", (record_id,)
            ).fetchone()
            if row is None:
                raise HistoryError(f"There is no submission record {record_id}")
            if row[0] not in (Outcome.PENDING.value, Outcome.UNKNOWN.value):
                raise HistoryError(
                    f"Submission record {record_id} is already settled ({row[0]})"
                )
            conn.execute(
                "UPDATE submissions SET finished_at = ?, outcome = ?, file_id = ?,"
                " saved_as = ?, server_size = ?, message = ?, raw_reply = ?"
                " WHERE id = ?",
                (
                    clock._now(),
                    Outcome(outcome).value,
                    file_id,
                    saved_as,
                    server_size,
                    message,
                    cap_reply(raw_reply),
                    record_id,
                ),
            )

        finished = self.get(record_id)
        assert finished is not None
        return finished

    def set_moved_to(self, record_id: int, path: str | os.PathLike[str]) -> None:
        """Note where an accepted file was moved after sending."""
        with self._write() as conn:
            conn.execute(
                "UPDATE submissions SET moved_to = ? WHERE id = ?",
                (str(path), record_id),
            )

    def reconcile(self) -> int:
        """Mark pending records of dead processes as unknown, on disk.

        Records of live processes are left alone: they may still be waiting
        for their reply. Reading converts such records anyway; writing the
        change keeps counts and exports consistent.

        Returns:
            How many records were marked.
        """
        with self._read() as conn:
            rows = conn.execute(
                "SELECT id, pid, host FROM submissions WHERE outcome = 'pending'"
            ).fetchall()
        dead = [(r[0],) for r in rows if not self._alive(r[1], r[2])]
        if not dead:
            return 0

        with self._write() as conn:
            conn.executemany(
                "UPDATE submissions SET outcome = 'unknown', message = ?"
                " WHERE id = ? AND outcome = 'pending'",
                [(UNKNOWN_MESSAGE, d[0]) for d in dead],
            )
        return len(dead)

    # -- reading

    def get(self, record_id: int) -> Submission | None:
        """The record with this id, or ``None``."""
        with self._read() as conn:
            row = conn.execute(
                f"SELECT {COLUMNS} FROM submissions WHERE id = ?",  # noqa: S608 - constants only
                (record_id,),
            ).fetchone()
        return None if row is None else self._submission(row)

    def recent(
        self,
        limit: int = 100,
        offset: int = 0,
        search: str | None = None,
        *,
        profile: str | None = None,
        outcomes: Sequence[Outcome] = (),
    ) -> list[Submission]:
        """Records newest first, optionally only those matching ``search``.

        Args:
            limit: Most records to return (a page).
            offset: Records to skip (earlier pages).
            search: Matches a name (part of it, any case), a File Id (exactly)
                or a UTC date or time prefix (``2026-12`` or ``2026-12-04``).
            profile: Only this profile's records (``None``: every profile).
            outcomes: Only records stored with one of these outcomes (empty:
                any). ``unknown`` and ``pending`` count as one: a pending
                record of a dead process reads as unknown.
        """
        newest = limit + offset if limit >= 0 else None  # LIMIT -1: no limit
        ids_sql, params = matching_ids(
            search, newest=newest, profile=profile, outcomes=outcomes
        )
        with self._read() as conn:
            rows = conn.execute(
                f"SELECT {COLUMNS} FROM submissions WHERE id IN"  # noqa: S608 - constants only
                f" (SELECT id FROM ({ids_sql}) ORDER BY id DESC LIMIT ? OFFSET ?)"
                " ORDER BY id DESC",
                (*params, limit, offset),
            ).fetchall()
        return [self._submission(r) for r in rows]

    def count(
        self,
        search: str | None = None,
        *,
        profile: str | None = None,
        outcomes: Sequence[Outcome] = (),
    ) -> int:
        """How many records :meth:`recent` can page through (same arguments)."""
        ids_sql, params = matching_ids(search, profile=profile, outcomes=outcomes)
        with self._read() as conn:
            sql = f"SELECT count(*) FROM ({ids_sql})"  # noqa: S608 - constants only
            row = conn.execute(sql, params).fetchone()
        return int(row[0])

    def query(
        self, filters: HistoryFilter, limit: int = 100, offset: int = 0
    ) -> list[Submission]:
        """Records matching ``filters``, newest first, one page at a time."""
        where, params = filter_sql(filters)
        with self._read() as conn:
            rows = conn.execute(
                f"SELECT {COLUMNS} FROM submissions WHERE {where}"  # noqa: S608 - constants only
                " ORDER BY id DESC LIMIT ? OFFSET ?",
                (*params, limit, offset),
            ).fetchall()
        return keep_asked_outcomes(filters, [self._submission(r) for r in rows])

    def iter_query(
        self, filters: HistoryFilter, *, batch: int = 500
    ) -> Iterator[Submission]:
        """Every record matching ``filters``, oldest first, read in batches.

        Made for exports: memory stays at one batch however many records
        match, and the database is not held between batches, so senders
        keep writing while a long export runs. Records added meanwhile are
        included if they match.
        """
        where, params = filter_sql(filters)
        last = 0
        while True:
            with self._read() as conn:
                rows = conn.execute(
                    f"SELECT {COLUMNS} FROM submissions WHERE id > ? AND {where}"  # noqa: S608 - constants only
                    " ORDER BY id LIMIT ?",
                    (last, *params, batch),
                ).fetchall()
            if not rows:
                return
            last = rows[-1][0]
            yield from keep_asked_outcomes(filters, [self._submission(r) for r in rows])

    def find_accepted(self, sha256: str, environment: str) -> Submission | None:
        """The latest accepted record of these exact bytes in this environment.

        Used to stop a file from being sent twice by mistake.
        """
        with self._read() as conn:
            row = conn.execute(
                f"SELECT {COLUMNS} FROM submissions WHERE sha256 = ?"  # noqa: S608 - constants only
                " AND environment = ? AND outcome = 'accepted'"
                " ORDER BY id DESC LIMIT 1",
                (sha256, environment),
            ).fetchone()
        return None if row is None else self._submission(row)

    def find_latest(self, sha256: str, environment: str) -> Submission | None:
        """The latest record of these bytes in this environment, any outcome.

        Lets a sender see that an earlier attempt ended ``unknown`` (or is
        still pending in another process) before trying again.
        """
        with self._read() as conn:
            row = conn.execute(
                f"SELECT {COLUMNS} FROM submissions WHERE sha256 = ?"  # noqa: S608 - constants only
                " AND environment = ? ORDER BY id DESC LIMIT 1",
                (sha256, environment),
            ).fetchone()
        return None if row is None else self._submission(row)

    # -- helpers

    @contextlib.contextmanager
    def _read(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            try:
                yield self._conn
            except sqlite3.Error as exc:
                raise _use_error(self.db_path, exc) from None

    @contextlib.contextmanager
    def _write(self, *, durable: bool = True) -> Iterator[sqlite3.Connection]:
        with self._lock:
            changes = self._conn.total_changes
            try:
                if not durable:
                    self._conn.execute("PRAGMA synchronous = NORMAL")
                self._conn.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as exc:
                if not durable:
                    self._full_sync()
                raise _use_error(self.db_path, exc) from None
            try:
                yield self._conn
                self._conn.execute("COMMIT")
            except BaseException as exc:
                with contextlib.suppress(sqlite3.Error):
                    self._conn.execute("ROLLBACK")
                if isinstance(exc, sqlite3.Error):
                    raise _use_error(self.db_path, exc) from None
                raise
            finally:
                if not durable:
                    self._full_sync()
            if not durable:
                self._unsynced = True
            elif self._conn.total_changes != changes:
                # A FULL commit that wrote syncs the whole log, earlier ones too.
                self._unsynced = False

    def _full_sync(self) -> None:
        """Back to ``synchronous=FULL``; without it no commit may be trusted."""
        try:
            self._conn.execute("PRAGMA synchronous = FULL")
        except sqlite3.Error as exc:
            raise _use_error(self.db_path, exc) from None

    def _alive(self, pid: int, host: str) -> bool:
        return writer_alive(pid, host, self._host)

    def _submission(self, row: Sequence[Any]) -> Submission:
        outcome = Outcome(row[9])
        message = row[13]
        if outcome is Outcome.PENDING and not self._alive(row[17], row[18]):
            outcome, message = Outcome.UNKNOWN, UNKNOWN_MESSAGE
        return Submission(
            id=row[0],
            started_at=row[1],
            finished_at=row[2],
            environment=row[3],
            base_url=row[4],
            local_path=row[5],
            name_sent=row[6],
            bytes=row[7],
            sha256=row[8],
            outcome=outcome,
            file_id=row[10],
            saved_as=row[11],
            server_size=row[12],
            message=message,
            raw_reply=row[14],
            profile=row[15],
            moved_to=row[16],
        )


def cap_reply(raw: str, limit: int = RAW_REPLY_LIMIT) -> str:
    """Keep the first ``limit`` bytes (UTF-8) of a reply, saying if it was cut."""
    data = raw.encode("utf-8", "surrogatepass")
    if len(data) <= limit:
        return raw
    kept = data[:limit].decode("utf-8", "ignore")
    return f"{kept}\n[reply cut by omar-tui: {len(data):,} bytes, first {limit:,} kept]"


def _sync_error(path: Path, exc: OSError) -> HistoryError:
    return HistoryError(
        f"Cannot save the submission history {path} to disk",
        f"{exc.strerror or exc}. Check the disk; the last results may be lost "
        "if the machine stops now.",
    )


def _use_error(path: Path, exc: sqlite3.Error) -> HistoryError:
    return HistoryError(
        f"Cannot use the submission history {path}",
        f"SQLite said: {exc}. If the disk is full, free some room; if the "
        "file is damaged, restart omar-tui to move it aside.",
    )
