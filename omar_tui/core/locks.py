"""Locks that keep two omar-tui processes off the same file or folder.

Sending one file twice at once would give two File Ids for one file; two
watchers on one folder would race to send each new file. A lock is an
``flock`` on a small file in the lock folder: the kernel drops it when the
process ends, however it ends, so a crash never leaves a stale lock.

Lock files are kept after use. Deleting one while another process waits to
open it would let two processes lock two different files of the same name.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import re
from collections.abc import Iterator
from pathlib import Path

from omar_tui.core.paths import make_private_dir
from omar_tui.errors import BusyError


def lock_path(lock_dir: Path, key: str) -> Path:
    """The lock file for ``key``: a readable part plus a hash of the key.

    The hash keeps different keys apart however they are cut or cleaned
    (a path, a checksum, a folder name with spaces or slashes).
    """
    readable = re.sub(r"[^A-Za-z0-9._-]+", "_", key).strip("._")[-60:]
    digest = hashlib.sha256(key.encode("utf-8", "surrogateescape")).hexdigest()
    return lock_dir / f"{readable or 'key'}-{digest[:16]}.lock"


@contextlib.contextmanager
def file_lock(
    lock_dir: Path, key: str, *, what: str, doing: str = "sending"
) -> Iterator[Path]:
    """Hold an exclusive lock on ``key`` for the ``with`` block; never wait.

    Args:
        lock_dir: Folder of lock files (``AppPaths.lock_dir``).
        key: What is locked, such as a file's path or a folder's path.
        what: How the operator knows it, for the error ("file a.csv").
        doing: The activity, for the error ("sending", "watching").

    Yields:
        The lock file's path.

    Raises:
        BusyError: When another process (or another ``with`` in this one)
            holds the lock, or the lock cannot be taken at all.
    """
    path = lock_path(lock_dir, key)
    try:
        make_private_dir(lock_dir)
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    except OSError as exc:
        raise BusyError(
            f"Cannot take the lock for {doing} {what}",
            f"{exc.strerror or exc} ({path}). Check that the folder is yours.",
        ) from None

    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _holder(fd)
            raise BusyError(
                f"Another omar-tui is already {doing} {what}",
                f"{holder}Wait for it to finish, or stop it first.",
            ) from None
        except OSError as exc:
            raise BusyError(
                f"Cannot take the lock for {doing} {what}",
                f"{exc.strerror or exc} ({path}).",
            ) from None

        os.ftruncate(fd, 0)  # say who holds it, for the next one's message
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        yield path
    finally:
        os.close(fd)  # closing releases the lock


def _holder(fd: int) -> str:
    """ "Process N holds it. " from the lock file, or ``""``."""
    try:
        text = os.pread(fd, 32, 0).decode("ascii").strip()
    except (OSError, UnicodeDecodeError):
        return ""
    return f"Process {text} holds it. " if text.isdigit() else ""
