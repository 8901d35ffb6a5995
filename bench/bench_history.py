"""Large history: first page and searches over a million records.

The database is made by :class:`History` itself (so the schema, indexes and
pragmas are the real ones), then filled in one transaction with
``executemany``: records spread over about five years, names drawn from a
few hundred resources, mostly accepted with a stored receipt page of the
simulator's size. Then, newest first, 200 at a time as the history screen
asks:

- the first page, and opening the history plus the first page;
- searches by part of a name, by File Id, by date prefix, and one that
  matches nothing (the worst case: every name is looked at);
- ``count`` for the same searches (the screen shows a total after the rows).

The baseline of every row is a plain ``SELECT ... ORDER BY id DESC LIMIT
200`` on the same file: the cheapest page SQLite can give.

    python bench/bench_history.py [--records 1000000] [--runs 5]
"""

from __future__ import annotations

import argparse
import hashlib
import sqlite3
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path

from common import Report, limit_row, memory_folder, sandbox, say, script_main

from omar_tui.core.history import _COLUMNS, History
from omar_tui.simulator import pages

PAGE = 200
FIRST_PAGE_LIMIT = 0.5
SEARCH_LIMIT = 0.2
RESOURCES = 500
START = datetime(2021, 12, 1, tzinfo=UTC)
STEP = timedelta(seconds=157)
"""1,000,000 records at this pace span about five years."""


def _records(count: int, reply_bytes: int) -> Iterator[tuple[object, ...]]:
    """The records, oldest first; plain integer arithmetic keeps this quick."""
    reply = pages.receipt_page("x.csv", "x.csv", 1, 1).decode()
    reply = (reply * (reply_bytes // len(reply) + 1))[:reply_bytes]
    step = int(STEP.total_seconds())
    day_seconds = 86_400
    day_index = -1
    day = iso_day = ""
    for n in range(count):
        offset = n * step
        index, second = divmod(offset, day_seconds)
        if index != day_index:
            day_index = index
            when = START + timedelta(days=index)
            iso_day, day = when.strftime("%Y-%m-%d"), when.strftime("%Y%m%d")
        hour, rest = divmod(second, 3600)
        minute, sec = divmod(rest, 60)
        clock = f"{hour:02d}:{minute:02d}:{sec:02d}"
        name = f"meter_{day}_GEN_{n * 7919 % RESOURCES:04d}.csv"
        roll = n % 100
        file_id = str(1_000_000 + n) if roll < 97 else None
        size = 40_000 + n % 50_000
        yield (
            f"{iso_day}T{clock}.000+00:00",
            f"{iso_day}T{clock}.900+00:00",
            "production" if n % 10 else "test",
            "https://omar-online.example.invalid",
            f"/srv/meter/pending/{name}",
            name,
            size,
            hashlib.sha256(n.to_bytes(8, "big")).hexdigest(),
            "accepted" if file_id else "rejected" if roll < 99 else "unknown",
            file_id,
            f"{day}120000_{file_id}_{name}" if file_id else None,
            size if file_id else None,
            "Accepted." if file_id else "The file name is too long.",
            reply if file_id else "",
            "default",
            None,
            4_000_000,
            "bench-host",
        )


def build(db: Path, count: int, reply_bytes: int) -> float:
    """Make the schema through History, then bulk-insert ``count`` records.

    The indexes are dropped for the insert and made again afterwards from
    the schema's own statements (a sort per index instead of a million
    random b-tree inserts): the same file, minutes faster.
    """
    History(db).close()
    started = time.perf_counter()
    conn = sqlite3.connect(db, isolation_level=None)
    # A benchmark fixture, not a record: no journal, no fsync, one write of
    # each page (WAL would write everything twice). WAL is back at the end.
    conn.execute("PRAGMA journal_mode = OFF")
    conn.execute("PRAGMA synchronous = OFF")
    conn.execute("PRAGMA cache_size = -262144")  # 256 MiB for the index builds
    indexes = [
        (name, sql)
        for name, sql in conn.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index'"
            " AND tbl_name = 'submissions' AND sql IS NOT NULL"
        )
    ]
    conn.execute("BEGIN")
    for name, _sql in indexes:
        conn.execute(f"DROP INDEX {name}")
    conn.executemany(
        "INSERT INTO submissions (started_at, finished_at, environment, base_url,"
        " local_path, name_sent, bytes, sha256, outcome, file_id, saved_as,"
        " server_size, message, raw_reply, profile, moved_to, pid, host)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        _records(count, reply_bytes),
    )
    for _name, sql in indexes:
        conn.execute(sql)
    conn.execute("COMMIT")  # no ANALYZE: History never runs it, so plans match
    conn.execute("PRAGMA journal_mode = WAL")
    conn.close()
    return time.perf_counter() - started


def samples(call: Callable[[], object], runs: int) -> list[float]:
    call()  # warm: the first run reads pages from disk into the cache
    out = []
    for _ in range(runs):
        started = time.perf_counter()
        call()
        out.append(time.perf_counter() - started)
    return out


def run(args: argparse.Namespace) -> Report:
    report = Report(
        "history",
        {"records": args.records, "runs": args.runs, "reply_bytes": args.reply_bytes},
    )
    # The file sits on tmpfs when there is one: the queries read it warm
    # either way, and building 1 GB on a shared disk only adds minutes.
    with sandbox(), memory_folder("omar-bench-history-") as folder:
        db = folder / "history.sqlite3"
        say(f"  history: building {args.records:,} records...")
        built = build(db, args.records, args.reply_bytes)
        size = db.stat().st_size
        say(f"  history: built in {built:.1f} s, {size / 2**20:.0f} MiB")
        report.checks["build_seconds"] = round(built, 1)
        report.checks["db_mib"] = round(size / 2**20)

        plain = sqlite3.connect(db)
        baseline = samples(
            lambda: plain.execute(
                f"SELECT {_COLUMNS} FROM submissions ORDER BY id DESC LIMIT {PAGE}"
            ).fetchall(),
            args.runs,
        )
        base = "plain SELECT ... ORDER BY id DESC LIMIT 200"

        def open_and_page() -> None:
            with History(db) as fresh:
                fresh.recent(PAGE)

        report.add(
            limit_row(
                "history",
                "open + first page (200)",
                samples(open_and_page, args.runs),
                FIRST_PAGE_LIMIT,
                baseline=base,
                baseline_samples=baseline,
            )
        )

        history = History(db)
        report.add(
            limit_row(
                "history",
                "first page (200)",
                samples(lambda: history.recent(PAGE), args.runs),
                FIRST_PAGE_LIMIT,
                baseline=base,
                baseline_samples=baseline,
            )
        )

        last = args.records - 1
        middle_day = (START + STEP * (args.records // 2)).strftime("%Y-%m-%d")
        middle_name_day = middle_day.replace("-", "")
        searches = [
            ("name part, one resource", f"GEN_{last * 7919 % RESOURCES:04d}"),
            ("name part, one day", f"_{middle_name_day}_"),
            ("File Id", str(1_000_000 + args.records // 3)),
            ("date prefix (a day)", middle_day),
            ("date prefix (a month)", middle_day[:7]),
            ("no match (worst case)", "NO-SUCH-FILE"),
        ]
        for label, term in searches:
            found = history.recent(PAGE, search=term)
            say(f"  history: search {term!r}: {len(found)} rows on the first page")
            report.add(
                limit_row(
                    "history",
                    f"search: {label} '{term}'",
                    samples(partial(history.recent, PAGE, search=term), args.runs),
                    SEARCH_LIMIT,
                    baseline=base,
                    baseline_samples=baseline,
                    note=f"{len(found)} rows on the page",
                )
            )
        # What SQLite itself needs to look at every name once: the floor of
        # any substring search without a full-text index.
        floor_sql = (
            "SELECT count(*) FROM submissions INDEXED BY submissions_name"
            " WHERE name_sent LIKE '%NO-SUCH-FILE%'"
        )
        floor = limit_row(
            "history",
            f"SQLite floor: one LIKE pass over {args.records:,} names",
            samples(lambda: plain.execute(floor_sql).fetchall(), args.runs),
            SEARCH_LIMIT,
            baseline=base,
            baseline_samples=baseline,
            note="bare SQL, no omar-tui code",
        )
        floor.target, floor.met = "", None
        report.add(floor)

        for label, term in [("all records", None), *searches]:
            total = history.count(term)
            row = limit_row(
                "history",
                f"count: {label}" + (f" '{term}'" if term else ""),
                samples(partial(history.count, term), args.runs),
                SEARCH_LIMIT,
                baseline=base,
                baseline_samples=baseline,
                note=f"{total:,} records",
            )
            row.target, row.met = "", None  # informational: drawn after the rows
            report.add(row)
        history.close()
        plain.close()

    report.notes += [
        "Warm cache: the database was just written, so it sits in the page "
        "cache, as it does on a machine that opens the history often.",
        "count() runs after the rows are drawn (history screen), but it holds "
        "the History connection's lock while it runs.",
    ]
    return report


def options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=5, help="timed runs per query")
    parser.add_argument(
        "--reply-bytes",
        type=int,
        default=len(pages.receipt_page("meter_20260504_GEN_0001.csv", "x" * 48, 1, 1)),
        help="bytes of receipt page stored per accepted record",
    )


def main() -> int:
    return script_main(__doc__, options, run)


if __name__ == "__main__":
    raise SystemExit(main())
