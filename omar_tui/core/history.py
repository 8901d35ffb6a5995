"""The submission history: one SQLite record per file sent, kept for audit.

A record is written and committed *before* a request leaves (outcome
``pending``) and completed when the reply is in. So every byte that may have
reached OMAR-Online is accounted for, even if the process is killed in
between: a pending record whose process is gone reads as ``unknown``, telling
the operator to look the file up in OMAR-Online before sending it again.

Design notes:

- WAL mode, a 10 s busy timeout and ``BEGIN IMMEDIATE`` for every write let
  the TUI, cron jobs and a watcher write at once without "database is
  locked"; ``synchronous=FULL`` makes each commit survive a power cut, which
  matters more here than speed (a commit costs one or two fsyncs). The one
  exception is a sender's ``finish(durable=False)``, see :meth:`History.finish`.
- Each record keeps the pid and host of the process that wrote it, which is
  how a dead sender is told from a slow one.
- Searching a million records stays fast because each kind of search has its
  own index: names through a covering index on ``name_sent`` (a substring
  match scans that narrow index, not the table with its stored replies),
  File Ids and dates through ordinary lookups and ranges. Pages are ordered
  by id, the insertion order, which needs no sort.
- A file that is not a database, or a corrupt one, is moved aside (never
  deleted) and a new history started; :attr:`History.recovered_from` says
  where the old one went so the front end can tell the operator.
- Times are ISO 8601 in UTC (``2026-12-04T17:03:11.250+00:00``), so a date
  search such as ``2026-12-04`` means the UTC day.
"""

from __future__ import annotations

import contextlib
import os
import re
import socket
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import Any

from omar_tui.core.atomic import move_aside
from omar_tui.core.models import Outcome, Submission
from omar_tui.core.paths import make_private_dir
from omar_tui.errors import HistoryError

UNKNOWN_MESSAGE = (
    "The process sending this file stopped before a reply arrived; "
    "look the file up in OMAR-Online before sending it again."
)
"""Shown for a pending record whose process is gone."""

RAW_REPLY_LIMIT = 64 * 1024
"""Bytes of a reply page kept (UTF-8); the rest is cut, with a note."""

BUSY_TIMEOUT_MS = 10_000
"""How long a write waits for another process's write to finish."""

SCHEMA_VERSION = 1

_MIGRATIONS: dict[int, Sequence[str]] = {
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

_COLUMNS = (
    "id, started_at, finished_at, environment, base_url, local_path, name_sent,"
    " bytes, sha256, outcome, file_id, saved_as, server_size, message,"
    " raw_reply, profile, moved_to, pid, host"
)
_DATE = re.compile(r"\d{4}(-\d{2}(-\d{2}([T ]\d{2}(:\d{2})?)?)?)?")
_BROKEN_CODES = {sqlite3.SQLITE_NOTADB, sqlite3.SQLITE_CORRUPT}


@dataclass(frozen=True, slots=True)
class HistoryFilter:
    """Which records :meth:`History.query` and :meth:`History.iter_query` return.

    Every part is optional; the parts that are set must all match.
    """

    since: date | None = None
    """First UTC day included (records started on or after it)."""
    until: date | None = None
    """Last UTC day included (records started before the day after it)."""
    outcomes: tuple[Outcome, ...] = ()
    """Any of these outcomes; empty = any outcome."""
    environment: str | None = None
    profile: str | None = None
    search: str | None = None
    """As in :meth:`History.recent`: part of a name, a File Id or a date."""


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
        self.recovered_from: Path | None = None
        """Where a broken history file was moved, if one was found at open."""
        self._lock = threading.Lock()
        self._host = socket.gethostname()
        self._unsynced = False
        """A commit since the last fsync of the WAL may not be on disk yet."""

        try:
            self._conn = self._open()
        except sqlite3.DatabaseError as exc:
            if _error_code(exc) not in _BROKEN_CODES:
                raise _open_error(db_path, exc) from None
            self.recovered_from = self._move_broken_aside(str(exc))
            try:
                self._conn = self._open()
            except sqlite3.Error as again:
                raise _open_error(db_path, again) from None

        self.reconcile()

    # -- opening

    def _open(self) -> sqlite3.Connection:
        try:
            make_private_dir(self.db_path.parent)
            _create_private(self.db_path)
        except OSError as exc:
            raise HistoryError(
                f"Cannot create the submission history {self.db_path}",
                f"{exc.strerror or exc}. Check that the folder exists and is "
                "yours, or set OMAR_TUI_CONFIG_DIR to another folder.",
            ) from None

        conn = sqlite3.connect(
            self.db_path, isolation_level=None, check_same_thread=False
        )
        try:
            conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            conn.execute("PRAGMA synchronous = FULL")
            _when_free(lambda: self._prepare(conn))
        except BaseException:
            conn.close()
            raise

        for suffix in ("-wal", "-shm"):
            _tighten(self.db_path.with_name(self.db_path.name + suffix))
        return conn

    def _prepare(self, conn: sqlite3.Connection) -> None:
        """Switch to WAL (once per file) and bring the schema up to date."""
        mode = conn.execute("PRAGMA journal_mode").fetchone()[0]
        if str(mode).lower() != "wal":
            # Needs an exclusive lock and, unlike most statements, may answer
            # "busy" at once instead of waiting: _when_free retries it.
            conn.execute("PRAGMA journal_mode = WAL")
        self._migrate(conn)

    def _migrate(self, conn: sqlite3.Connection) -> None:
        conn.execute("BEGIN IMMEDIATE")  # two first starts must not race
        try:
            conn.execute(
                "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)"
            )
            row = conn.execute("SELECT max(version) FROM schema_version").fetchone()
            version = row[0] or 0
            if version > SCHEMA_VERSION:
                raise HistoryError(
                    f"The submission history {self.db_path} was written by a "
                    "newer omar-tui",
                    "Upgrade omar-tui, or set OMAR_TUI_CONFIG_DIR to use "
                    "another folder.",
                )
            for step in range(version + 1, SCHEMA_VERSION + 1):
                for statement in _MIGRATIONS[step]:
                    conn.execute(statement)
                conn.execute("INSERT INTO schema_version VALUES (?)", (step,))
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise

    def _move_broken_aside(self, reason: str) -> Path:
        db = self.db_path
        try:
            moved = move_aside(db, f"not a usable SQLite database ({reason})")
            for suffix in ("-wal", "-shm"):
                companion = db.with_name(db.name + suffix)
                if companion.exists():
                    companion.rename(moved.with_name(moved.name + suffix))
        except OSError as exc:
            raise HistoryError(
                f"The submission history {db} is damaged and cannot be moved aside",
                f"{exc.strerror or exc}. Move it away by hand; omar-tui will "
                "start a new one.",
            ) from None
        return moved

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
            wal = self.db_path.with_name(self.db_path.name + "-wal")
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
                    _now(),
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
                    _now(),
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
                f"SELECT {_COLUMNS} FROM submissions WHERE id = ?",  # noqa: S608 - constants only
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
        ids_sql, params = _matching_ids(
            search, newest=newest, profile=profile, outcomes=outcomes
        )
        with self._read() as conn:
            rows = conn.execute(
                f"SELECT {_COLUMNS} FROM submissions WHERE id IN"  # noqa: S608 - constants only
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
        ids_sql, params = _matching_ids(search, profile=profile, outcomes=outcomes)
        with self._read() as conn:
            sql = f"SELECT count(*) FROM ({ids_sql})"  # noqa: S608 - constants only
            row = conn.execute(sql, params).fetchone()
        return int(row[0])

    def query(
        self, filters: HistoryFilter, limit: int = 100, offset: int = 0
    ) -> list[Submission]:
        """Records matching ``filters``, newest first, one page at a time."""
        where, params = _filter_sql(filters)
        with self._read() as conn:
            rows = conn.execute(
                f"SELECT {_COLUMNS} FROM submissions WHERE {where}"  # noqa: S608 - constants only
                " ORDER BY id DESC LIMIT ? OFFSET ?",
                (*params, limit, offset),
            ).fetchall()
        return _keep(filters, [self._submission(r) for r in rows])

    def iter_query(
        self, filters: HistoryFilter, *, batch: int = 500
    ) -> Iterator[Submission]:
        """Every record matching ``filters``, oldest first, read in batches.

        Made for exports: memory stays at one batch however many records
        match, and the database is not held between batches, so senders
        keep writing while a long export runs. Records added meanwhile are
        included if they match.
        """
        where, params = _filter_sql(filters)
        last = 0
        while True:
            with self._read() as conn:
                rows = conn.execute(
                    f"SELECT {_COLUMNS} FROM submissions WHERE id > ? AND {where}"  # noqa: S608 - constants only
                    " ORDER BY id LIMIT ?",
                    (last, *params, batch),
                ).fetchall()
            if not rows:
                return
            last = rows[-1][0]
            yield from _keep(filters, [self._submission(r) for r in rows])

    def find_accepted(self, sha256: str, environment: str) -> Submission | None:
        """The latest accepted record of these exact bytes in this environment.

        Used to stop a file from being sent twice by mistake.
        """
        with self._read() as conn:
            row = conn.execute(
                f"SELECT {_COLUMNS} FROM submissions WHERE sha256 = ?"  # noqa: S608 - constants only
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
                f"SELECT {_COLUMNS} FROM submissions WHERE sha256 = ?"  # noqa: S608 - constants only
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
        return host == self._host and pid_alive(pid)

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


def _matching_ids(
    search: str | None,
    newest: int | None = None,
    *,
    profile: str | None = None,
    outcomes: Sequence[Outcome] = (),
) -> tuple[str, tuple[object, ...]]:
    """SQL selecting the ids that match ``search``, one index per kind.

    A UNION of three indexed look-ups, instead of one WHERE with ORs, keeps
    each part on its own index; the name part scans only the narrow index.

    With ``newest``, each part keeps only its ``newest`` highest ids, which
    is all a page needs: a search matching a month of records then unions
    a few hundred ids instead of tens of thousands. Each part is pinned to
    its index, since "newest first" tempts SQLite into walking the whole
    table (stored replies included) for a term that matches nothing.

    ``profile`` and ``outcomes`` are checked inside each part, before its
    ``newest`` cut, so a page is never short of matching records. They are
    written ``+column`` so no index is chosen for them: walking the table
    newest first stops after a page, where an index on the profile would
    make SQLite sort every one of the profile's records first.
    """
    extra, extra_params = _narrowing(profile, outcomes)
    term = (search or "").strip()
    if not term:
        where = f" WHERE {extra}" if extra else ""  # constants; values are params
        return f"SELECT id FROM submissions{where}", extra_params  # noqa: S608

    like = "%" + re.sub(r"([\\%_])", r"\\\1", term) + "%"
    parts: list[tuple[str, str, tuple[object, ...]]] = [
        ("submissions_name", "name_sent LIKE ? ESCAPE '\\'", (like,)),
        ("submissions_file_id", "file_id = ?", (term,)),
    ]
    if _DATE.fullmatch(term):
        start = term.replace(" ", "T")
        parts.append(
            (
                "submissions_started",
                "started_at >= ? AND started_at < ?",
                (start, start + "\x7f"),
            )
        )
    if extra:
        parts = [(i, f"{w} AND {extra}", (*p, *extra_params)) for i, w, p in parts]
    params = [value for *_, part_params in parts for value in part_params]

    # Only constants and an int go into the SQL; the term is a parameter.
    if newest is None:
        selects = [f"SELECT id FROM submissions WHERE {w}" for _, w, _ in parts]  # noqa: S608
    else:
        selects = [
            f"SELECT id FROM (SELECT id FROM submissions INDEXED BY {index}"  # noqa: S608
            f" WHERE {where} ORDER BY id DESC LIMIT {int(newest)})"
            for index, where, _ in parts
        ]
    return " UNION ".join(selects), tuple(params)


def _narrowing(
    profile: str | None, outcomes: Sequence[Outcome]
) -> tuple[str, tuple[object, ...]]:
    """``+profile = ? AND +outcome IN (...)`` for :func:`_matching_ids`, or ``""``."""
    clauses: list[str] = []
    params: list[object] = []
    if profile is not None:
        clauses.append("+profile = ?")
        params.append(profile)
    if outcomes:
        stored = _stored_outcomes(outcomes)
        clauses.append(f"+outcome IN ({', '.join('?' * len(stored))})")
        params.extend(stored)
    return " AND ".join(clauses), tuple(params)


def _stored_outcomes(outcomes: Sequence[Outcome]) -> list[str]:
    """The stored outcome values to look for; unknown brings pending along."""
    stored = {Outcome(o).value for o in outcomes}
    if stored & {Outcome.UNKNOWN.value, Outcome.PENDING.value}:
        # A pending record of a dead process reads as unknown (see _keep).
        stored |= {Outcome.UNKNOWN.value, Outcome.PENDING.value}
    return sorted(stored)


def _filter_sql(filters: HistoryFilter) -> tuple[str, tuple[object, ...]]:
    """A WHERE clause (never empty) and its parameters for ``filters``."""
    clauses: list[str] = []
    params: list[object] = []
    if filters.since is not None:
        clauses.append("started_at >= ?")
        params.append(filters.since.isoformat())
    if filters.until is not None:
        clauses.append("started_at < ?")
        params.append((filters.until + timedelta(days=1)).isoformat())
    if filters.outcomes:
        stored = _stored_outcomes(filters.outcomes)
        clauses.append(f"outcome IN ({', '.join('?' * len(stored))})")
        params.extend(stored)
    for column, value in (
        ("environment", filters.environment),
        ("profile", filters.profile),
    ):
        if value is not None:
            clauses.append(f"{column} = ?")
            params.append(value)
    if (filters.search or "").strip():
        ids_sql, ids_params = _matching_ids(filters.search)
        clauses.append(f"id IN ({ids_sql})")
        params.extend(ids_params)
    return " AND ".join(clauses) or "1", tuple(params)


def _keep(filters: HistoryFilter, rows: list[Submission]) -> list[Submission]:
    """Drop rows whose outcome, as read, is not one asked for."""
    if not filters.outcomes:
        return rows
    return [r for r in rows if r.outcome in filters.outcomes]


def cap_reply(raw: str, limit: int = RAW_REPLY_LIMIT) -> str:
    """Keep the first ``limit`` bytes (UTF-8) of a reply, saying if it was cut."""
    data = raw.encode("utf-8", "surrogatepass")
    if len(data) <= limit:
        return raw
    kept = data[:limit].decode("utf-8", "ignore")
    return f"{kept}\n[reply cut by omar-tui: {len(data):,} bytes, first {limit:,} kept]"


def pid_alive(pid: int) -> bool:
    """True when a process with this id runs on this machine (zombies: no)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process

    try:  # a killed child not yet reaped still answers kill(0)
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat.rpartition(")")[2].split()[:1] != ["Z"]


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
            busy = _error_code(exc) in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)
            if not busy or time.monotonic() + pause > deadline:
                raise
            time.sleep(pause)
            pause = min(pause * 2, 0.2)
        else:
            return


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def _create_private(path: Path) -> None:
    """Create the database file 0600 before SQLite does (with the umask's)."""
    try:
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    except FileExistsError:
        _tighten(path)
    else:
        os.close(fd)


def _tighten(path: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        mode = path.stat().st_mode & 0o777
        if mode & 0o077:
            path.chmod(mode & 0o700)


def _error_code(exc: sqlite3.Error) -> int | None:
    code = getattr(exc, "sqlite_errorcode", None)
    return None if code is None else int(code) & 0xFF  # primary code


def _sync_error(path: Path, exc: OSError) -> HistoryError:
    return HistoryError(
        f"Cannot save the submission history {path} to disk",
        f"{exc.strerror or exc}. Check the disk; the last results may be lost "
        "if the machine stops now.",
    )


def _open_error(path: Path, exc: sqlite3.Error) -> HistoryError:
    return HistoryError(
        f"Cannot open the submission history {path}",
        f"SQLite said: {exc}. Check that the folder is yours and not full, "
        "or set OMAR_TUI_CONFIG_DIR to another folder.",
    )


def _use_error(path: Path, exc: sqlite3.Error) -> HistoryError:
    return HistoryError(
        f"Cannot use the submission history {path}",
        f"SQLite said: {exc}. If the disk is full, free some room; if the "
        "file is damaged, restart omar-tui to move it aside.",
    )
