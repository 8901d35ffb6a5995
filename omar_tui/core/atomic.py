"""Write state files so that a crash never leaves half a file behind.

A settings file cut off by a power failure would stop the tool from starting;
one written world-readable for a moment could leak certificate paths. So a
file is written to a private temporary file beside it, forced to disk, and
renamed over the old one: readers see the old file or the new one, never a
mix, and never a file with looser permissions than asked for.
"""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
from datetime import UTC, datetime
from pathlib import Path

log = logging.getLogger(__name__)


def atomic_write_bytes(path: Path, data: bytes, mode: int = 0o600) -> None:
    """Replace ``path`` with ``data`` in one step.

    The temporary file is created with ``mode`` from the start (``O_EXCL``,
    so nobody else's file is reused), written, flushed to disk and renamed
    over ``path``; then the folder itself is flushed so the rename survives a
    power cut.

    Args:
        path: The file to write. Its folder must exist.
        data: The complete new contents.
        mode: Permission bits of the new file (private by default).

    Raises:
        OSError: When any step fails. The old file is then untouched and no
            temporary file is left behind.
    """
    folder = path.parent
    tmp = folder / f".{path.name}.{secrets.token_hex(8)}.tmp"
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)

    fd = os.open(tmp, flags, mode)
    try:
        try:
            os.fchmod(fd, mode)  # the umask may have taken bits we asked for
            view = memoryview(data)
            while view:
                written = os.write(fd, view)
                view = view[written:]
            os.fsync(fd)
        finally:
            os.close(fd)

        tmp.replace(path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise

    fsync_dir(folder)


def atomic_write_text(
    path: Path, text: str, mode: int = 0o600, *, encoding: str = "utf-8"
) -> None:
    """Replace ``path`` with ``text``, like :func:`atomic_write_bytes`."""
    atomic_write_bytes(path, text.encode(encoding), mode)


def fsync_dir(folder: Path) -> None:
    """Flush a folder's entries to disk, where the platform allows it."""
    try:
        fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass  # some filesystems refuse fsync on a folder; the rename stands
    finally:
        os.close(fd)


def move_aside(path: Path, reason: str) -> Path:
    """Rename a broken file out of the way, keeping it for the operator.

    The new name is ``<name>.broken-<UTC timestamp>``; if that exists too, a
    counter is added. An existing file is never overwritten.

    Args:
        path: The file that cannot be used.
        reason: Why, for the log file.

    Returns:
        Where the file now is.

    Raises:
        OSError: When the file cannot be renamed.
    """
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    base = f"{path.name}.broken-{stamp}"

    for n in range(1, 1000):
        target = path.with_name(base if n == 1 else f"{base}-{n}")
        if _rename_no_replace(path, target):
            log.warning("Moved %s aside to %s: %s", path, target, reason)
            return target

    raise FileExistsError(f"No free name to move {path} aside")


def _rename_no_replace(source: Path, target: Path) -> bool:
    """Rename ``source`` to ``target`` unless ``target`` exists.

    A hard link fails if the target exists, which makes the check and the
    rename one step; filesystems without hard links fall back to a check
    followed by a rename.
    """
    try:
        os.link(source, target)
    except FileExistsError:
        return False
    except OSError:
        if target.exists():
            return False
        source.rename(target)
        return True

    source.unlink()
    return True
