"""Faults found by attacking the tool, each kept from coming back."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from reliability_helpers import connection, run_json, write

from omar_tui.core.history import History
from omar_tui.core.paths import AppPaths
from omar_tui.core.settings import load_settings
from omar_tui.errors import ExitCode, HistoryError, SettingsError
from omar_tui.simulator import Simulator


def test_a_settings_fifo_is_refused_not_waited_on(tmp_path: Path) -> None:
    fifo = tmp_path / "settings.toml"
    os.mkfifo(fifo)
    with pytest.raises(SettingsError, match="not a regular file"):
        load_settings(fifo)


def test_a_settings_file_linked_to_dev_zero_is_refused(tmp_path: Path) -> None:
    link = tmp_path / "settings.toml"
    link.symlink_to("/dev/zero")
    with pytest.raises(SettingsError, match="not a regular file"):
        load_settings(link)


def test_a_huge_settings_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "settings.toml"
    path.write_bytes(b"#" * 2_000_000)
    with pytest.raises(SettingsError, match="larger than"):
        load_settings(path)


def test_a_dangling_settings_link_is_an_error_not_defaults(tmp_path: Path) -> None:
    link = tmp_path / "settings.toml"
    link.symlink_to(tmp_path / "gone.toml")
    with pytest.raises(SettingsError, match="does not exist"):
        load_settings(link)


def test_an_absurd_size_limit_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "settings.toml"
    path.write_text("[limits]\nblock_bytes = 99999999999999999999\n")
    with pytest.raises(SettingsError):
        load_settings(path)


def test_the_file_id_survives_a_history_that_fails_after_the_reply(
    simulator: Simulator,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    meter = write(tmp_path, "meter.csv")
    real_finish = History.finish

    def locked(self: History, record_id: int, **fields: object) -> object:
        if fields.get("outcome") == "accepted":
            raise HistoryError("The history database is locked")
        return real_finish(self, record_id, **fields)  # type: ignore[arg-type]

    monkeypatch.setattr(History, "finish", locked)
    code, records, _ = run_json(
        capsys, "submit", "--json", *connection(simulator), str(meter)
    )

    assert code == ExitCode.OK  # it was accepted: say so, not "nothing sent"
    [record] = records
    assert record["outcome"] == "accepted"
    assert record["file_id"] == str(simulator.received[0].file_id)
    assert "could not record" in record["message"]
    log = AppPaths.resolve().log_file.read_text()
    assert f"file_id={record['file_id']}" in log


def test_a_damaged_history_found_by_a_listing_still_stops_the_next_send(
    simulator: Simulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    meter = write(tmp_path, "meter.csv")
    assert (
        run_json(capsys, "submit", "--json", *connection(simulator), str(meter))[0] == 0
    )
    db = AppPaths.resolve().history_db
    for companion in (db.with_name(db.name + "-wal"), db.with_name(db.name + "-shm")):
        companion.unlink(missing_ok=True)
    db.write_bytes(b"\xab" * 4096)

    code, _, err = run_json(capsys, "history", "--json")  # lists; moves it aside
    assert code == ExitCode.OK and "damaged" in err

    code, _, err = run_json(
        capsys, "submit", "--json", *connection(simulator), str(meter)
    )
    assert code == ExitCode.USAGE  # told first: the new history knows no sends
    assert "Nothing was sent" in err
    assert len(simulator.received) == 1
