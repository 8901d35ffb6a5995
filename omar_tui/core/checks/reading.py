"""Reading a file once, and the rules about the file rather than its bytes.

The file is opened, measured with ``fstat`` on the same descriptor and read
in one place, so the bytes checked, hashed and later sent are one reading of
one file. Every way that can fail (missing, a folder, a device, unreadable,
outside the pending folder, changed while read, too large) becomes a finding
here instead of an exception.
"""

from __future__ import annotations

import io
import os
import stat
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from omar_tui.core.checks.findings import error, show, warning
from omar_tui.core.models import Finding, Limits

_READ_CAP = 16 * 1024 * 1024
"""Files larger than this (or twice the block limit) are not read at all."""


@dataclass(frozen=True, slots=True)
class FileRead:
    """What reading a file gave: its bytes, or the findings why not."""

    findings: tuple[Finding, ...] = ()
    data: bytes | None = None
    size: int | None = None
    """Bytes read, or the ``fstat`` size of a file too large to read."""
    mtime: float | None = None
    stamp: tuple[int, int, int, int, int] | None = None


def read_once(path: Path, pending_root: Path | None, limits: Limits) -> FileRead:
    """Open, fstat and read ``path``, turning every failure into a finding."""
    target = path
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)

    if pending_root is not None:
        try:
            root = pending_root.resolve()
            target = path.resolve()
        except (OSError, RuntimeError, ValueError) as exc:
            return FileRead((_unreadable(path, exc),))
        if not target.is_relative_to(root):
            return FileRead((_outside(path, target, root),))
        flags |= getattr(os, "O_NOFOLLOW", 0)

    opener: Callable[[str, int], int] = lambda p, _f: os.open(p, flags)  # noqa: E731
    try:
        with open(target, "rb", buffering=0, opener=opener) as handle:
            st = os.fstat(handle.fileno())
            if stat.S_ISDIR(st.st_mode):
                return FileRead((_directory(path),))
            if not stat.S_ISREG(st.st_mode):
                return FileRead((_not_regular(path),))

            cap = max(_READ_CAP, 2 * limits.block_bytes)
            if st.st_size > cap:
                return FileRead(size=st.st_size, mtime=st.st_mtime)
            data = _read_capped(handle, cap, st.st_size)
    except FileNotFoundError:
        return FileRead((_missing(path),))
    except IsADirectoryError:
        return FileRead((_directory(path),))
    except (OSError, ValueError) as exc:
        return FileRead((_unreadable(path, exc),))

    if len(data) > cap:
        return FileRead(size=len(data), mtime=st.st_mtime)
    changed = (
        () if len(data) == st.st_size else (_changed(path, st.st_size, len(data)),)
    )
    return FileRead(
        changed, data=data, size=len(data), mtime=st.st_mtime, stamp=file_stamp(st)
    )


def file_stamp(st: os.stat_result) -> tuple[int, int, int, int, int]:
    """What identifies one version of a file without reading it (see CheckReport)."""
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)


def _read_capped(handle: io.FileIO, cap: int, expected: int) -> bytes:
    """Read to the end, but never more than ``cap + 1`` bytes.

    The first read asks for one byte more than ``fstat`` promised, so a file
    that does not change is read in one call and its end seen in the next.
    """
    chunks = []
    total = 0
    step = min(cap, max(expected, 65_536)) + 1
    while total <= cap:
        chunk = handle.read(min(step, cap + 1 - total))
        if not chunk:
            break
        chunks.append(chunk)
        total += len(chunk)
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)


def check_size(size: int, limits: Limits) -> list[Finding]:
    """Block a file at the size limit, warn near it (SPEC.md R8)."""
    if size >= limits.block_bytes:
        return [
            error(
                "size",
                f"The file is {size:,} bytes; OMAR-Online takes files under 500 KB "
                f"(blocked from {limits.block_bytes:,} bytes).",
                "Split the data into smaller files and send each one.",
            )
        ]
    if size >= limits.warn_bytes:
        return [
            warning(
                "size-near-limit",
                f"The file is {size:,} bytes; if OMAR-Online counts 500 KB as "
                "500,000 bytes it will refuse it.",
                "Split the data into smaller files to be safe.",
            )
        ]
    return []


def _missing(path: Path) -> Finding:
    if path.is_symlink():
        message = f"{show(str(path))} is a symlink to a file that does not exist."
        fix = "Fix or remove the symlink."
    else:
        message = f"{show(str(path))} does not exist (moved or deleted?)."
        fix = "Check the path, or refresh the list of pending files."
    return error("file-missing", message, fix)


def _directory(path: Path) -> Finding:
    return error(
        "file-directory",
        f"{show(str(path))} is a folder, not a file.",
        "Choose the meter data files inside it instead.",
    )


def _not_regular(path: Path) -> Finding:
    return error(
        "file-not-regular",
        f"{show(str(path))} is not a regular file (a device, pipe or socket).",
        "Copy the data into an ordinary file and send that.",
    )


def _unreadable(path: Path, exc: BaseException) -> Finding:
    reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
    return error(
        "file-unreadable",
        f"{show(str(path))} cannot be read: {reason}.",
        "Check the file's permissions (the user running omar-tui must be able "
        "to read it).",
    )


def _outside(path: Path, target: Path, root: Path) -> Finding:
    return error(
        "file-outside-pending",
        f"{show(str(path))} leads to {show(str(target))}, outside the pending "
        f"folder {show(str(root))}.",
        "Copy the file into the pending folder instead of linking to it.",
    )


def _changed(path: Path, before: int, after: int) -> Finding:
    return error(
        "file-changed",
        f"{show(str(path))} changed while it was read ({before:,} bytes, then "
        f"{after:,}); it may still be being written.",
        "Wait until whatever writes the file has finished, then check it again.",
    )
