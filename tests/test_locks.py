"""Locks: one sender per file, one watcher per folder, across processes."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from omar_tui.core.locks import file_lock, lock_path
from omar_tui.errors import BusyError

ROOT = Path(__file__).resolve().parents[1]

HOLDER = """
    import sys
    from pathlib import Path
    from omar_tui.core.locks import file_lock
    with file_lock(Path(sys.argv[1]), sys.argv[2], what="x"):
        print("locked", flush=True)
        sys.stdin.readline()  # hold until the test says so
"""


def test_lock_held_by_another_process(tmp_path: Path) -> None:
    lock_dir = tmp_path / "locks"
    key = "/pending/a.csv"
    child = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(HOLDER), str(lock_dir), key],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdin is not None and child.stdout is not None
    try:
        assert child.stdout.readline().strip() == "locked"

        with pytest.raises(BusyError) as caught:
            with file_lock(lock_dir, key, what="a.csv"):
                pytest.fail("the lock was taken twice")
        assert caught.value.title == "Another omar-tui is already sending a.csv"
        assert f"Process {child.pid} holds it" in caught.value.hint

        with file_lock(lock_dir, "/pending/b.csv", what="b.csv"):
            pass  # another key is free
    finally:
        child.stdin.close()  # the child leaves its with block and exits
        child.wait()

    with file_lock(lock_dir, key, what="a.csv"):
        pass  # free again once the holder is gone


def test_lock_is_released_when_the_holder_is_killed(tmp_path: Path) -> None:
    lock_dir = tmp_path / "locks"
    child = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(HOLDER), str(lock_dir), "k"],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None
    assert child.stdout.readline().strip() == "locked"
    child.kill()
    child.wait()
    assert child.stdin is not None
    child.stdin.close()

    with file_lock(lock_dir, "k", what="k"):
        pass


def test_same_process_cannot_nest_the_same_lock(tmp_path: Path) -> None:
    with file_lock(tmp_path, "folder", what="/data/pending", doing="watching"):
        with pytest.raises(BusyError, match="already watching /data/pending"):
            with file_lock(tmp_path, "folder", what="/data/pending", doing="watching"):
                pass
    with file_lock(tmp_path, "folder", what="again"):
        pass


def test_lock_files_are_private_and_named_safely(tmp_path: Path) -> None:
    lock_dir = tmp_path / "new-locks"
    with file_lock(lock_dir, "../../etc/passwd a b", what="x") as path:
        assert path.parent == lock_dir
        assert path.name.endswith(".lock")
        assert "/" not in path.name and " " not in path.name
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(lock_dir.stat().st_mode) == 0o700


def test_different_keys_never_share_a_file(tmp_path: Path) -> None:
    assert lock_path(tmp_path, "a/b") != lock_path(tmp_path, "a_b")
    assert lock_path(tmp_path, "x" * 500) != lock_path(tmp_path, "y" + "x" * 499)
    assert lock_path(tmp_path, "same") == lock_path(tmp_path, "same")


def test_unusable_lock_folder_is_a_busy_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(BusyError, match="Cannot take the lock"):
        with file_lock(blocker / "locks", "k", what="a.csv"):
            pass
