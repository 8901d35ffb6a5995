"""History filters (query / iter_query) and ``history --export csv|json``."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
import stat
from datetime import date
from pathlib import Path

import pytest

from omar_tui.cli.export import record_fields
from omar_tui.cli.main import main
from omar_tui.cli.output import submission_record
from omar_tui.core.history import History, HistoryFilter
from omar_tui.core.models import Outcome
from omar_tui.core.paths import AppPaths
from omar_tui.errors import ExitCode

# (name, UTC start, environment, profile, outcome)
ROWS = [
    ("a.csv", "2026-11-30T23:59:59.999+00:00", "test", "default", Outcome.ACCEPTED),
    ("b.csv", "2026-12-01T00:00:00.000+00:00", "test", "default", Outcome.REJECTED),
    ("c.csv", "2026-12-02T12:00:00.000+00:00", "production", "east", Outcome.ACCEPTED),
    ("d.csv", "2026-12-03T23:59:59.999+00:00", "test", "east", Outcome.FAILED),
    ("=cmd.csv", "2026-12-04T00:00:00.000+00:00", "test", "default", Outcome.UNKNOWN),
]


def seed(history: History) -> list[int]:
    ids = []
    for i, (name, started, env, profile, outcome) in enumerate(ROWS):
        record = history.begin(
            environment=env,
            base_url=f"https://{env}.example",
            local_path=f"/pending/{name}",
            name_sent=name,
            bytes=100 + i,
            sha256=f"{i:064x}",
            profile=profile,
        )
        history.finish(
            record,
            outcome=outcome,
            file_id=str(1000 + i) if outcome is Outcome.ACCEPTED else None,
            message=f'message, with "quotes"\nand a new line {i}',
        )
        ids.append(record)
    with sqlite3.connect(history.db_path) as conn:
        conn.executemany(
            "UPDATE submissions SET started_at = ? WHERE id = ?",
            [(row[1], record) for row, record in zip(ROWS, ids, strict=True)],
        )
    return ids


@pytest.fixture
def history():
    paths = AppPaths.resolve().ensure()
    with History(paths.history_db) as h:
        seed(h)
        yield h


def names(rows) -> list[str]:
    return [r.name_sent for r in rows]


# -- History.query / iter_query -------------------------------------------------


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        (HistoryFilter(), ["=cmd.csv", "d.csv", "c.csv", "b.csv", "a.csv"]),
        (
            HistoryFilter(since=date(2026, 12, 1)),
            ["=cmd.csv", "d.csv", "c.csv", "b.csv"],
        ),
        (HistoryFilter(until=date(2026, 12, 3)), ["d.csv", "c.csv", "b.csv", "a.csv"]),
        (
            HistoryFilter(since=date(2026, 12, 1), until=date(2026, 12, 1)),
            ["b.csv"],
        ),
        (HistoryFilter(outcomes=(Outcome.ACCEPTED,)), ["c.csv", "a.csv"]),
        (
            HistoryFilter(outcomes=(Outcome.FAILED, Outcome.UNKNOWN)),
            ["=cmd.csv", "d.csv"],
        ),
        (HistoryFilter(environment="production"), ["c.csv"]),
        (HistoryFilter(profile="east"), ["d.csv", "c.csv"]),
        (HistoryFilter(profile="east", environment="test"), ["d.csv"]),
        (HistoryFilter(search="c.csv", profile="default"), []),
        (HistoryFilter(search="1002"), ["c.csv"]),  # a File Id
        (HistoryFilter(search="2026-12-02"), ["c.csv"]),
        (HistoryFilter(environment="nowhere"), []),
    ],
)
def test_query_filters(
    history: History, filters: HistoryFilter, expected: list[str]
) -> None:
    assert names(history.query(filters)) == expected
    assert names(history.iter_query(filters, batch=2)) == expected[::-1]


def test_query_pages(history: History) -> None:
    page = history.query(HistoryFilter(), limit=2, offset=1)
    assert names(page) == ["d.csv", "c.csv"]


def test_dead_pending_record_counts_as_unknown(history: History) -> None:
    record = history.begin(
        environment="test",
        base_url="https://x",
        local_path="/p/e.csv",
        name_sent="e.csv",
        bytes=1,
        sha256="f" * 64,
    )
    with sqlite3.connect(history.db_path) as conn:  # as if its process died
        conn.execute("UPDATE submissions SET pid = 999999999 WHERE id = ?", (record,))

    unknown = history.query(HistoryFilter(outcomes=(Outcome.UNKNOWN,)))
    assert names(unknown) == ["e.csv", "=cmd.csv"]
    assert history.query(HistoryFilter(outcomes=(Outcome.PENDING,))) == []


def test_iter_query_does_not_hold_the_history_between_batches(
    history: History,
) -> None:
    seen = []
    for row in history.iter_query(HistoryFilter(environment="test"), batch=1):
        seen.append(row.name_sent)
        if row.name_sent == "a.csv":  # a write mid-export would deadlock if held
            history.begin(
                environment="test",
                base_url="https://x",
                local_path="/p/late.csv",
                name_sent="late.csv",
                bytes=1,
                sha256="e" * 64,
            )
    assert seen == ["a.csv", "b.csv", "d.csv", "=cmd.csv", "late.csv"]


# -- the command ---------------------------------------------------------------


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["history", *argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_csv_export_has_the_json_field_names(
    history: History, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "--export", "csv", "--all-profiles")

    assert code == ExitCode.OK
    reader = csv.DictReader(io.StringIO(out, newline=""))
    assert reader.fieldnames == record_fields()
    rows = list(reader)
    json_fields = list(submission_record(history.query(HistoryFilter())[0]))
    assert reader.fieldnames == json_fields

    assert [r["name_sent"] for r in rows] == [
        "a.csv",
        "b.csv",
        "c.csv",
        "d.csv",
        "'=cmd.csv",  # a spreadsheet must not run it as a formula
    ]
    first = rows[0]
    assert first["outcome"] == "accepted"
    assert first["file_id"] == "1000"
    assert first["size_mismatch"] == "false"
    assert first["server_size"] == ""
    assert first["message"] == 'message, with "quotes"\nand a new line 0'
    assert rows[1]["file_id"] == ""


def test_json_export_is_one_array_with_filters(
    history: History, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(
        capsys,
        "--all-profiles",
        "--export",
        "json",
        "--env",
        "test",
        "--outcome",
        "accepted",
        "--outcome",
        "REJECTED",
        "--since",
        "2026-11-30",
        "--until",
        "2026-12-01",
    )

    assert code == ExitCode.OK
    records = json.loads(out)
    assert [r["name_sent"] for r in records] == ["a.csv", "b.csv"]
    assert list(records[0]) == record_fields()
    assert records[0]["size_mismatch"] is False


def test_empty_exports(history: History, capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = run(capsys, "--export", "json", "--profile", "nobody")
    assert json.loads(out) == []
    _, out, _ = run(capsys, "--export", "csv", "--profile", "nobody")
    assert out.splitlines() == [",".join(record_fields())]


def test_each_profile_sees_its_own_records_by_default(
    history: History,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _, out, _ = run(capsys, "--json")
    assert {json.loads(x)["profile"] for x in out.splitlines()} == {"default"}
    monkeypatch.setenv("OMAR_TUI_PROFILE", "east")
    _, out, _ = run(capsys, "--json")
    assert {json.loads(x)["profile"] for x in out.splitlines()} == {"east"}
    _, out, _ = run(capsys, "--json", "--all-profiles")
    assert {json.loads(x)["profile"] for x in out.splitlines()} == {"default", "east"}


def test_listing_and_json_honour_filters(
    history: History, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "--profile", "east")
    assert code == ExitCode.OK
    lines = [line for line in out.splitlines() if ".csv" in line]
    assert len(lines) == 2
    assert "d.csv" in lines[0] and "c.csv" in lines[1]

    _, out, _ = run(
        capsys, "--all-profiles", "--json", "--outcome", "accepted", "--limit", "1"
    )
    assert [json.loads(x)["name_sent"] for x in out.splitlines()] == ["c.csv"]

    _, out, err = run(capsys, "--env", "nowhere")
    assert out == "" and "No submissions match" in err


def test_output_file_is_private_and_never_overwritten(
    history: History, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "export.csv"
    code, _, err = run(
        capsys, "--all-profiles", "--export", "csv", "--output", str(target)
    )
    assert code == ExitCode.OK
    assert "Exported 5 records" in err
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert len(target.read_text().splitlines()) >= 6

    target.write_text("keep me")
    code, _, err = run(capsys, "--export", "json", "--output", str(target))
    assert code == ExitCode.USAGE
    assert "already exists" in err and "--force" in err
    assert target.read_text() == "keep me"

    code, _, _ = run(capsys, "--export", "json", "--output", str(target), "--force")
    assert code == ExitCode.OK
    assert len(json.loads(target.read_text())) == 3  # the default profile's
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []


def test_failed_export_leaves_no_file(
    history: History,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from omar_tui.cli import export

    def broken(*args: object) -> int:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(export, "_write_csv", broken)
    target = tmp_path / "export.csv"
    code, _, err = run(
        capsys, "--all-profiles", "--export", "csv", "--output", str(target)
    )

    assert code == ExitCode.USAGE
    assert "No space left" in err
    assert list(tmp_path.iterdir()) == [tmp_path / "omar-config"]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--since", "2026-13-01"], "is not a day"),
        (["--until", "2026-12-1"], "is not a day"),
        (["--since", "2026-12-02", "--until", "2026-12-01"], "is after"),
        (["--outcome", "lost"], "no outcome called"),
        (["--output", "x.csv"], "--output goes with --export"),
        (["--export", "csv", "--force"], "--force goes with --output"),
        (["--export", "csv", "--json"], "either --json or --export"),
    ],
)
def test_bad_options_are_usage_errors(
    history: History,
    capsys: pytest.CaptureFixture[str],
    argv: list[str],
    message: str,
) -> None:
    code, out, err = run(capsys, *argv)
    assert code == ExitCode.USAGE
    assert message in err
    assert out == ""
