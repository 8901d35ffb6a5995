"""Atomic writes and moving broken files aside."""

from __future__ import annotations

import os
import stat
from datetime import UTC
from pathlib import Path

import pytest

from omar_tui.core import atomic
from omar_tui.core.atomic import atomic_write_bytes, atomic_write_text, move_aside


def test_write_creates_file_with_mode(tmp_path: Path) -> None:
    target = tmp_path / "f.toml"
    atomic_write_bytes(target, b"hello")

    assert target.read_bytes() == b"hello"
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert os.listdir(tmp_path) == ["f.toml"]


def test_write_replaces_and_sets_requested_mode(tmp_path: Path) -> None:
    target = tmp_path / "f.txt"
    target.write_text("old")
    target.chmod(0o644)

    atomic_write_text(target, "néw", mode=0o640)

    assert target.read_text(encoding="utf-8") == "néw"
    assert stat.S_IMODE(target.stat().st_mode) == 0o640


def test_failed_replace_leaves_old_file_and_no_temp(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "f.toml"
    target.write_bytes(b"old contents")

    def refuse(*args: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", refuse)
    with pytest.raises(OSError, match="No space"):
        atomic_write_bytes(target, b"new contents")

    assert target.read_bytes() == b"old contents"
    assert os.listdir(tmp_path) == ["f.toml"]


def test_failed_write_leaves_old_file_and_no_temp(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "f.toml"
    target.write_bytes(b"old")

    def refuse(fd: int) -> None:
        raise OSError(5, "I/O error")

    monkeypatch.setattr(os, "fsync", refuse)
    with pytest.raises(OSError):
        atomic_write_bytes(target, b"new")

    assert target.read_bytes() == b"old"
    assert os.listdir(tmp_path) == ["f.toml"]


def test_move_aside_never_overwrites(tmp_path: Path, monkeypatch) -> None:
    class FrozenClock:
        @staticmethod
        def now(tz: object) -> object:
            from datetime import datetime

            return datetime(2026, 12, 4, 10, 0, 0, tzinfo=UTC)

    monkeypatch.setattr(atomic, "datetime", FrozenClock)
    broken = tmp_path / "history.sqlite3"

    broken.write_text("first")
    first = move_aside(broken, "test")
    broken.write_text("second")
    second = move_aside(broken, "test")

    assert first.name == "history.sqlite3.broken-20261204T100000Z"
    assert second.name == "history.sqlite3.broken-20261204T100000Z-2"
    assert first.read_text() == "first"
    assert second.read_text() == "second"
    assert not broken.exists()


def test_move_aside_of_missing_file_raises(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        move_aside(tmp_path / "nothing", "test")
