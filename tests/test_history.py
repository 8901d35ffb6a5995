"""History: records written before sending, crash-safe, shared by processes."""

from __future__ import annotations

import os
import signal
import sqlite3
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from omar_tui.core import history as history_module
from omar_tui.core.history import (
    RAW_REPLY_LIMIT,
    UNKNOWN_MESSAGE,
    History,
    pid_alive,
)
from omar_tui.core.models import Outcome
from omar_tui.errors import HistoryError

ROOT = Path(__file__).resolve().parents[1]
SHA = "a" * 64


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "cfg" / "history.sqlite3"


@pytest.fixture
def hist(db: Path):
    with History(db) as h:
        yield h


def begin(h: History, name: str = "a.csv", *, sha: str = SHA, env: str = "test") -> int:
    return h.begin(
        environment=env,
        base_url=f"https://{env}.example",
        local_path=f"/pending/{name}",
        name_sent=name,
        bytes=123,
        sha256=sha,
    )


def python(code: str, **kwargs: object) -> subprocess.Popen[str]:
    """A child Python that can import omar_tui, wherever pytest runs."""
    return subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(code)],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        text=True,
        **kwargs,  # type: ignore[arg-type]
    )


# -- records


def test_begin_writes_a_pending_record(hist: History) -> None:
    record_id = begin(hist)
    record = hist.get(record_id)

    assert record is not None
    assert record.outcome is Outcome.PENDING  # this process is alive
    assert record.finished_at is None
    assert record.name_sent == "a.csv"
    assert record.local_path == "/pending/a.csv"
    assert record.bytes == 123
    assert record.sha256 == SHA
    assert record.profile == "default"
    assert record.started_at.endswith("+00:00")


def test_begin_is_committed_before_it_returns(hist: History, db: Path) -> None:
    record_id = begin(hist)
    with sqlite3.connect(db) as other:
        row = other.execute(
            "SELECT outcome, pid, host FROM submissions WHERE id = ?", (record_id,)
        ).fetchone()
    assert row[0] == "pending"
    assert row[1] == os.getpid()


def test_finish_completes_the_record(hist: History) -> None:
    record_id = begin(hist)
    done = hist.finish(
        record_id,
        outcome=Outcome.ACCEPTED,
        file_id="123456",
        saved_as="a_20261204.csv",
        server_size=124,
        message="ok",
        raw_reply="<html>receipt</html>",
    )

    assert done == hist.get(record_id)
    assert done.outcome is Outcome.ACCEPTED
    assert done.file_id == "123456"
    assert done.saved_as == "a_20261204.csv"
    assert done.server_size == 124
    assert done.size_mismatch
    assert done.raw_reply == "<html>receipt</html>"
    assert done.finished_at is not None


def test_raw_reply_is_capped_with_a_note(hist: History) -> None:
    record_id = begin(hist)
    done = hist.finish(record_id, outcome=Outcome.REJECTED, raw_reply="é" * 50_000)

    kept = done.raw_reply
    assert kept.startswith("é" * 1000)
    assert "reply cut by omar-tui" in kept
    assert len(kept.encode()) < RAW_REPLY_LIMIT + 200


def test_finish_refuses_what_it_cannot_do(hist: History) -> None:
    record_id = begin(hist)
    with pytest.raises(HistoryError):
        hist.finish(record_id, outcome=Outcome.PENDING)
    with pytest.raises(HistoryError, match="no submission record"):
        hist.finish(9999, outcome=Outcome.ACCEPTED)

    hist.finish(record_id, outcome=Outcome.ACCEPTED, file_id="1")
    with pytest.raises(HistoryError, match="already settled"):
        hist.finish(record_id, outcome=Outcome.REJECTED)
    assert hist.get(record_id).file_id == "1"  # type: ignore[union-attr]


def test_set_moved_to(hist: History) -> None:
    record_id = begin(hist)
    hist.set_moved_to(record_id, Path("/pending/sent/a.csv"))
    assert hist.get(record_id).moved_to == "/pending/sent/a.csv"  # type: ignore[union-attr]


def test_get_missing_record(hist: History) -> None:
    assert hist.get(42) is None


def test_records_survive_reopening(db: Path) -> None:
    with History(db) as h:
        record_id = begin(h)
        h.finish(record_id, outcome=Outcome.ACCEPTED, file_id="9")
    with History(db) as h:
        assert h.get(record_id).file_id == "9"  # type: ignore[union-attr]
        assert h.recovered_from is None


# -- listing and search


def test_recent_is_newest_first_and_pages(hist: History) -> None:
    ids = [begin(hist, f"f{i}.csv") for i in range(7)]

    assert [r.id for r in hist.recent()] == ids[::-1]
    assert [r.id for r in hist.recent(limit=3)] == ids[:-4:-1]
    assert [r.id for r in hist.recent(limit=3, offset=3)] == ids[3:0:-1]
    assert hist.count() == 7


def test_search_by_name_file_id_and_date(
    hist: History, monkeypatch: pytest.MonkeyPatch
) -> None:
    times = iter(
        [
            "2026-11-30T23:59:59.000+00:00",
            "2026-12-04T08:00:00.000+00:00",
            "2026-12-04T09:00:00.000+00:00",
            "2026-12-05T00:00:00.000+00:00",
        ]
        + ["2027-01-01T00:00:00.000+00:00"] * 10
    )
    monkeypatch.setattr(history_module, "_now", lambda: next(times))

    a = begin(hist, "METER_north.csv")
    b = begin(hist, "meter_south.csv")
    c = begin(hist, "other100%.dat")
    d = begin(hist, "x_y.csv")
    hist.finish(a, outcome=Outcome.ACCEPTED, file_id="5551234")
    hist.finish(b, outcome=Outcome.ACCEPTED, file_id="555")

    def ids(term: str) -> list[int]:
        return [r.id for r in hist.recent(search=term)]

    assert ids("meter") == [b, a]  # substring, any case
    assert ids("NORTH") == [a]
    assert ids("555") == [b]  # File Id is exact: not 5551234
    assert ids("5551234") == [a]
    assert ids("2026-12-04") == [c, b]
    assert ids("2026-12") == [d, c, b]
    assert ids("2026") == [d, c, b, a]
    assert ids("%") == [c]  # wildcards are literal
    assert ids("_") == [d, b, a]
    assert ids("nothing") == []
    assert hist.count("meter") == 2
    assert hist.count("2026-12") == 3
    assert hist.count("") == 4
    assert [r.id for r in hist.recent(limit=1, offset=1, search="2026")] == [c]


def test_search_pages_match_the_whole_list_sliced(
    hist: History, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Matches come from all three parts (name, File Id, date) and overlap, so
    # keeping only each part's newest ids must still page exactly.
    days = iter([f"2026-12-{1 + i % 3:02d}T10:00:00.000+00:00" for i in range(12)])
    monkeypatch.setattr(history_module, "_now", lambda: next(days, "2027-01-01"))
    for i in range(12):
        record = begin(hist, f"2026-12-01_{i}.csv" if i % 4 == 0 else f"f{i}.csv")
        if i % 5 == 0:
            hist.finish(record, outcome=Outcome.ACCEPTED, file_id="2026-12-01")

    everything = [r.id for r in hist.recent(limit=100, search="2026-12-01")]
    assert len(everything) == hist.count("2026-12-01") > 4
    for limit in (1, 2, 3):
        for offset in range(len(everything) + 1):
            page = hist.recent(limit=limit, offset=offset, search="2026-12-01")
            assert [r.id for r in page] == everything[offset : offset + limit]


@pytest.mark.parametrize("term", ["nothing", "555", "2026-12-04"])
def test_a_search_page_never_walks_the_table(hist: History, term: str) -> None:
    # The table holds every stored reply: a search reads only the indexes.
    sql, params = history_module._matching_ids(term, newest=200)
    with hist._read() as conn:
        plan = conn.execute(f"EXPLAIN QUERY PLAN {sql}", params).fetchall()
    steps = [row[3] for row in plan if row[3].startswith(("SCAN", "SEARCH"))]
    table_steps = [s for s in steps if s.split()[1] == "submissions"]
    assert table_steps
    assert all("INDEX" in s for s in table_steps), steps


def test_find_accepted(hist: History) -> None:
    old = begin(hist)
    hist.finish(old, outcome=Outcome.ACCEPTED, file_id="1")
    new = begin(hist)
    hist.finish(new, outcome=Outcome.ACCEPTED, file_id="2")
    rejected = begin(hist)
    hist.finish(rejected, outcome=Outcome.REJECTED)
    begin(hist, env="production")

    found = hist.find_accepted(SHA, "test")
    assert found is not None and found.id == new
    assert hist.find_accepted(SHA, "production") is None
    assert hist.find_accepted("b" * 64, "test") is None
    assert hist.find_latest(SHA, "test").id == rejected  # type: ignore[union-attr]


# -- processes that die


CRASHING_SENDER = """
    import sys, time
    from pathlib import Path
    from omar_tui.core.history import History
    h = History(Path(sys.argv[1]))
    record_id = h.begin(environment="test", base_url="https://t.example",
        local_path="/p/a.csv", name_sent="a.csv", bytes=1, sha256="c" * 64)
    print(record_id, flush=True)
    time.sleep(600)  # "uploading" until killed
"""


def start_sender(db: Path) -> tuple[subprocess.Popen[str], int]:
    child = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(CRASHING_SENDER), str(db)],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None
    return child, int(child.stdout.readline())


def test_killed_sender_reads_as_unknown(db: Path) -> None:
    child, record_id = start_sender(db)
    try:
        with History(db) as h:  # opening must not touch a live sender's record
            assert h.get(record_id).outcome is Outcome.PENDING  # type: ignore[union-attr]
        with sqlite3.connect(db) as raw:
            assert raw.execute("SELECT outcome FROM submissions").fetchone() == (
                "pending",
            )
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()

    with History(db) as h:
        record = h.get(record_id)
        assert record is not None
        assert record.outcome is Outcome.UNKNOWN
        assert record.message == UNKNOWN_MESSAGE
        assert h.recent(search="a.csv")[0].outcome is Outcome.UNKNOWN

        # reconcile() at open wrote it down, so a settlement is still allowed
        done = h.finish(record_id, outcome=Outcome.ACCEPTED, file_id="77")
        assert done.outcome is Outcome.ACCEPTED


def test_sender_dying_while_history_is_open_reads_as_unknown(db: Path) -> None:
    with History(db) as h:
        child, record_id = start_sender(db)
        assert h.get(record_id).outcome is Outcome.PENDING  # type: ignore[union-attr]
        child.kill()
        child.wait()
        assert h.get(record_id).outcome is Outcome.UNKNOWN  # type: ignore[union-attr]


def test_pending_record_of_another_host_reads_as_unknown(
    hist: History, db: Path
) -> None:
    record_id = begin(hist)
    with sqlite3.connect(db) as raw:
        raw.execute(
            "UPDATE submissions SET host = 'elsewhere' WHERE id = ?", (record_id,)
        )
    assert hist.get(record_id).outcome is Outcome.UNKNOWN  # type: ignore[union-attr]


def test_pid_alive() -> None:
    assert pid_alive(os.getpid())
    child = python("pass")
    child.wait()
    assert not pid_alive(child.pid)
    assert not pid_alive(0)


# -- two processes at once


WRITER = """
    import sys
    from pathlib import Path
    from omar_tui.core.history import History
    from omar_tui.core.models import Outcome
    h = History(Path(sys.argv[1]))
    for i in range(50):
        rid = h.begin(environment="test", base_url="https://t.example",
            local_path=f"/p/{sys.argv[2]}-{i}.csv", name_sent=f"{sys.argv[2]}-{i}.csv",
            bytes=i, sha256="d" * 64)
        h.finish(rid, outcome=Outcome.ACCEPTED, file_id=f"{sys.argv[2]}{i}")
    h.close()
"""


def test_two_processes_write_at_once(db: Path) -> None:
    children = [
        subprocess.Popen(
            [sys.executable, "-c", textwrap.dedent(WRITER), str(db), tag],
            cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
            stderr=subprocess.PIPE,
            text=True,
        )
        for tag in ("one", "two")
    ]
    errors = [child.communicate()[1] for child in children]

    assert [child.returncode for child in children] == [0, 0], errors
    assert not any("locked" in e for e in errors)
    with History(db) as h:
        assert h.count() == 100
        records = h.recent(limit=200)
        assert {r.outcome for r in records} == {Outcome.ACCEPTED}
        assert {r.name_sent for r in records} == {
            f"{tag}-{i}.csv" for tag in ("one", "two") for i in range(50)
        }


# -- damaged or unusable files


def test_broken_database_is_moved_aside(db: Path) -> None:
    db.parent.mkdir(parents=True)
    db.write_bytes(b"this is not sqlite at all" * 100)

    with History(db) as h:
        assert h.recovered_from is not None
        assert h.recovered_from.name.startswith("history.sqlite3.broken-")
        assert h.recovered_from.read_bytes() == b"this is not sqlite at all" * 100
        assert h.count() == 0
        begin(h)
        assert h.count() == 1


def test_corrupt_database_is_moved_aside(db: Path) -> None:
    with History(db) as h:
        begin(h)
    data = bytearray(db.read_bytes())
    data[100:4096] = b"\xff" * (4096 - 100)  # smash the schema page
    db.write_bytes(bytes(data))

    with History(db) as h:
        assert h.recovered_from is not None
        assert h.count() == 0


def test_unwritable_location_is_a_history_error(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    with pytest.raises(HistoryError, match="Cannot create the submission history"):
        History(blocker / "history.sqlite3")


def test_newer_schema_is_refused(db: Path) -> None:
    History(db).close()
    with sqlite3.connect(db) as raw:
        raw.execute("INSERT INTO schema_version VALUES (99)")
    with pytest.raises(HistoryError, match="newer omar-tui"):
        History(db)


def test_files_are_private(db: Path) -> None:
    with History(db) as h:
        begin(h)
        for suffix in ("", "-wal", "-shm"):
            path = db.with_name(db.name + suffix)
            assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    assert stat.S_IMODE(db.parent.stat().st_mode) == 0o700


def test_open_database_file_is_tightened(db: Path) -> None:
    History(db).close()
    db.chmod(0o644)
    History(db).close()
    assert stat.S_IMODE(db.stat().st_mode) == 0o600


def test_wal_mode(hist: History, db: Path) -> None:
    with sqlite3.connect(db) as raw:
        assert raw.execute("PRAGMA journal_mode").fetchone() == ("wal",)


def test_a_finish_without_fsync_is_flushed_by_the_next_begin_or_sync(
    hist: History, monkeypatch: pytest.MonkeyPatch
) -> None:
    synced: list[int] = []
    real_fsync = os.fsync
    monkeypatch.setattr(os, "fsync", lambda fd: synced.append(fd) or real_fsync(fd))
    sync_level = "PRAGMA synchronous"

    first = begin(hist)
    hist.finish(first, outcome=Outcome.ACCEPTED, file_id="1", durable=False)
    assert hist._conn.execute(sync_level).fetchone()[0] == 2  # FULL again
    assert hist._unsynced

    begin(hist, "b.csv", sha="b" * 64)  # a FULL commit syncs the whole log
    assert not hist._unsynced
    hist.sync()
    assert synced == []

    hist.finish(first + 1, outcome=Outcome.REJECTED, durable=False)
    hist.sync()
    assert len(synced) == 1 and not hist._unsynced

    hist.finish(begin(hist, "c.csv", sha="c" * 64), outcome=Outcome.FAILED)
    hist.close()  # nothing left to flush: a durable finish synced itself
    assert len(synced) == 1


def test_close_flushes_a_finish_without_fsync(
    db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    synced: list[int] = []
    monkeypatch.setattr(os, "fsync", synced.append)
    h = History(db)
    h.finish(begin(h), outcome=Outcome.ACCEPTED, file_id="7", durable=False)
    h.close()
    assert len(synced) == 1
    with History(db) as again:
        assert again.recent(1)[0].file_id == "7"
