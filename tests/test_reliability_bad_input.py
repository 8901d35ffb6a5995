"""Issue 4, item 7: bad input gives a plain answer and an exit code, never a traceback.

Broken state files, files that cannot be sent and awkward names go through
the real CLI; names that can be sent must arrive at the simulator exactly as
the checks approved them.
"""

from __future__ import annotations

import errno
import os
import shutil
from pathlib import Path

import pytest
from reliability_helpers import (
    METER,
    child_env,
    config_dir,
    connection,
    json_lines,
    run_cli,
    run_json,
    write,
    write_settings,
)

from omar_tui.core.checks import check_file, reading
from omar_tui.errors import ExitCode
from omar_tui.simulator import Simulator

BROKEN_TOML = "[network]\nread_timeout = 1\nretries = = 3\n"


def test_broken_settings_toml_names_file_and_line(
    simulator: Simulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = write_settings(BROKEN_TOML)
    path = write(tmp_path, "meter.csv")

    done = run_cli("check", str(path))  # a real process: nothing else printed
    assert done.returncode == ExitCode.USAGE
    assert str(settings) in done.stderr
    assert "line 3" in done.stderr
    assert "Traceback" not in done.stderr + done.stdout

    for argv in (["submit", *connection(simulator), str(path)], ["history"]):
        code, _, err = run_json(capsys, *argv)
        assert code == ExitCode.USAGE
        assert str(settings) in err and "line 3" in err
        assert "Traceback" not in err
    assert simulator.requests.gets == 0
    assert settings.read_text() == BROKEN_TOML  # left as it was


@pytest.mark.parametrize("command", ["history", "submit"])
def test_broken_history_is_moved_aside_and_the_operator_told_where(
    command: str,
    simulator: Simulator,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    db = config_dir() / "history.sqlite3"
    config_dir().mkdir(parents=True)
    db.write_bytes(b"this is not a database" * 100)
    argv = ["history"]
    if command == "submit":
        meter = write(tmp_path, "meter.csv")
        argv = ["submit", "--json", *connection(simulator), str(meter)]

    code, _, err = run_json(capsys, *argv)

    # A run about to send stops: the new history cannot refuse duplicates.
    assert code == (ExitCode.USAGE if command == "submit" else ExitCode.OK)
    assert "Traceback" not in err
    [moved] = [p for p in config_dir().iterdir() if ".broken-" in p.name]
    assert moved.read_bytes() == b"this is not a database" * 100
    assert str(moved) in err  # the operator is told where the old one is
    assert simulator.received == []
    code, records, _ = run_json(capsys, "history", "--json")
    assert code == ExitCode.OK
    assert records == []

    if command == "submit":  # told, the operator runs it again: it goes
        code, records, _ = run_json(capsys, *argv)
        assert code == ExitCode.OK
        assert [r["outcome"] for r in records] == ["accepted"]


def test_unreadable_file_is_blocked(
    simulator: Simulator,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    path = write(tmp_path, "meter.csv")
    real_open = os.open

    def refuse(name: object, flags: int, *args: object) -> int:
        if Path(os.fsdecode(name)) == path:  # type: ignore[arg-type]
            raise PermissionError(errno.EACCES, "Permission denied", str(path))
        return real_open(name, flags, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(reading.os, "open", refuse)  # root can read anything
    code, records, err = run_json(
        capsys, "submit", "--json", *connection(simulator), str(path)
    )
    assert code == ExitCode.BLOCKED
    assert records[0]["outcome"] == "blocked"
    assert "cannot be read" in records[0]["message"]
    assert "Traceback" not in err
    assert simulator.requests.gets == 0


def test_empty_file_and_folder_named_csv_are_blocked_the_rest_sent(
    simulator: Simulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    empty = write(tmp_path, "empty.csv", b"")
    folder = tmp_path / "x.csv"
    folder.mkdir()
    good = write(tmp_path, "good.csv")
    code, records, err = run_json(
        capsys,
        "submit",
        "--json",
        *connection(simulator),
        *map(str, (empty, folder, good)),
    )
    assert code == ExitCode.BLOCKED
    assert [r["outcome"] for r in records] == ["blocked", "blocked", "accepted"]
    assert "empty" in records[0]["message"]
    assert "folder" in records[1]["message"]
    assert "Traceback" not in err
    assert [f.original_name for f in simulator.received] == ["good.csv"]


@pytest.mark.parametrize("command", ["check", "submit"])
def test_non_utf8_file_name_under_a_strict_utf8_terminal(
    command: str, simulator: Simulator, tmp_path: Path
) -> None:
    path = write(tmp_path, b"meter\xff.csv")
    argv = [command, "--json", str(path)]
    if command == "submit":
        argv[2:2] = connection(simulator)
    # A real UTF-8 locale makes Python's stdout strict about such names.
    done = run_cli(*argv, env=child_env(PYTHONIOENCODING="utf-8:strict"))
    assert done.returncode == ExitCode.BLOCKED, done.stderr
    assert "internal error" not in done.stderr
    assert "Traceback" not in done.stderr
    [record] = json_lines(done.stdout)
    if command == "check":
        assert [f["rule"] for f in record["findings"]] == ["name-encoding"]
    else:
        assert record["outcome"] == "blocked"
    assert simulator.received == []


def test_a_20000_file_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "pending"
    first = write(folder, "m00000.csv")
    for i in range(1, 20_000):  # links: 20,000 names made in half a second
        os.link(first, folder / f"m{i:05d}.csv")
    paths = sorted(str(p) for p in folder.iterdir())
    try:
        code, records, err = run_json(capsys, "check", "--json", *paths)
    finally:
        shutil.rmtree(folder)  # keep pytest's kept temp folders small
    assert code == ExitCode.OK, err
    assert len(records) == 20_000
    assert not any(r["blocked"] for r in records)


NAMES = [
    "a;b.csv",  # a semicolon: fine inside a quoted header parameter
    "x=1&y=2.csv",
    "météo-été.csv",  # non-ASCII: a warning, still sendable
    "日本語.dat",
    "it's.csv",  # quotes: blocked
    'say "hi".csv',
]


def test_names_sent_are_exactly_the_names_the_checks_approved(
    simulator: Simulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    paths = [
        write(tmp_path, name, METER + f"{i}\r\n".encode())
        for i, name in enumerate(NAMES)
    ]
    approved = [p.name for p in paths if not check_file(p).blocked]
    assert approved == NAMES[:4]

    code, records, err = run_json(
        capsys, "submit", "--json", *connection(simulator), *map(str, paths)
    )
    assert code == ExitCode.BLOCKED
    assert "Traceback" not in err
    outcomes = {r["name_sent"]: r["outcome"] for r in records}
    assert outcomes == {n: "accepted" if n in approved else "blocked" for n in NAMES}
    assert [f.original_name for f in simulator.received] == approved
    assert [f.data for f in simulator.received] == [p.read_bytes() for p in paths[:4]]
