"""Issue 4, item 4: a file that changes or vanishes between its checks and its send.

``omar-tui submit`` checks every file first, then opens the session and
sends. The tests change the file in exactly that gap (right after the CLI's
own check) and look at what reached the simulator.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest
from reliability_helpers import METER, config_dir, connection, run_json, write

from omar_tui.cli import commands
from omar_tui.core.checks import check_file
from omar_tui.core.models import CheckReport
from omar_tui.errors import ExitCode
from omar_tui.simulator import Simulator

NEW = METER + b"R9,2026-12-01T09:00,9.9\r\n"


def change_after_check(
    monkeypatch: pytest.MonkeyPatch, change: Callable[[Path], None]
) -> None:
    """Run ``change`` on each file just after the CLI has checked it."""

    def checked_then_changed(path: Path, **kwargs: object) -> CheckReport:
        report = check_file(path, **kwargs)  # type: ignore[arg-type]
        change(path)
        return report

    monkeypatch.setattr(commands, "check_file", checked_then_changed)


def submit(capsys: pytest.CaptureFixture[str], sim: Simulator, path: Path):
    code, records, err = run_json(
        capsys, "submit", "--json", *connection(sim), str(path)
    )
    assert "Traceback" not in err
    return code, records[0], err


def rechecked_in_log() -> bool:
    log = (config_dir() / "logs" / "omar-tui.log").read_text()
    return "changed since it was checked; checked it again" in log


def test_a_file_that_grew_is_checked_again_and_its_new_bytes_sent(
    simulator: Simulator, tmp_path: Path, monkeypatch, capsys
) -> None:
    path = write(tmp_path, "meter.csv")
    change_after_check(monkeypatch, lambda p: p.write_bytes(NEW))
    code, record, _ = submit(capsys, simulator, path)
    assert code == ExitCode.OK
    assert [f.data for f in simulator.received] == [NEW]
    assert record["bytes"] == len(NEW)
    assert rechecked_in_log()


def test_same_size_and_time_but_new_bytes_is_caught(
    simulator: Simulator, tmp_path: Path, monkeypatch, capsys
) -> None:
    path = write(tmp_path, "meter.csv")
    write(tmp_path, "old.csv")  # the bytes that were checked, for comparison
    same_size = METER.replace(b"1.5", b"7.5")

    def rewrite_keeping_the_time(p: Path) -> None:
        st = p.stat()
        p.write_bytes(same_size)
        os.utime(p, ns=(st.st_atime_ns, st.st_mtime_ns))

    change_after_check(monkeypatch, rewrite_keeping_the_time)
    code, record, _ = submit(capsys, simulator, path)
    assert code == ExitCode.OK
    assert record["sha256"] != check_file(tmp_path / "old.csv").sha256
    assert [f.data for f in simulator.received] == [same_size]
    assert rechecked_in_log()


def test_a_file_that_became_bad_is_blocked_not_sent_stale(
    simulator: Simulator, tmp_path: Path, monkeypatch, capsys
) -> None:
    path = write(tmp_path, "meter.csv")
    change_after_check(monkeypatch, lambda p: p.write_bytes(b""))
    code, record, _ = submit(capsys, simulator, path)
    assert code == ExitCode.BLOCKED
    assert record["outcome"] == "blocked"
    assert "empty" in record["message"]
    assert simulator.received == []


def test_a_file_deleted_meanwhile_is_reported_not_a_crash(
    simulator: Simulator, tmp_path: Path, monkeypatch, capsys
) -> None:
    path = write(tmp_path, "meter.csv")
    change_after_check(monkeypatch, lambda p: p.unlink())
    code, record, _ = submit(capsys, simulator, path)
    assert code == ExitCode.BLOCKED
    assert record["outcome"] == "blocked"
    assert "does not exist" in record["message"]
    assert record["history_id"] is None
    assert simulator.received == []
