"""Filing files away after they were sent (setting ``after_send = "move"``).

An operator who leaves accepted files in the pending folder must remember
which ones went; a watcher would look at them on every cycle. With the
setting on, a file whose submission finished is moved out of the way:

- accepted -> ``<base>/sent/YYYY-MM-DD/`` (the local date of the send);
- rejected -> ``<base>/rejected/``, with ``<name>.reply.txt`` beside it
  holding OMAR-Online's message and its raw reply page.

``<base>`` is the pending folder from the settings, or the file's own folder
when the file lies outside it. Files whose outcome is unknown or failed are
never moved: the operator must look at them.

Rules that keep this safe:

- A move never overwrites. A taken name gets a number (``a (2).csv``); the
  name is claimed with ``os.link`` or ``O_EXCL``, so two processes filing
  files of the same name at once cannot overwrite each other.
- Across filesystems (``EXDEV``), or where hard links are not allowed, the
  file is copied to a name claimed with ``O_EXCL``, flushed to disk, and only
  then is the original removed.
- A file whose bytes changed since they were sent is left where it is: it
  holds data that OMAR-Online has not seen.
- A move that fails is logged and reported, and never changes the outcome
  of the submission.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import logging
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from omar_tui.core.atomic import fsync_dir
from omar_tui.core.models import Outcome, Submission

log = logging.getLogger("omar_tui.archive")

SENT_FOLDER = "sent"
"""Accepted files go below this folder, one subfolder a day."""
REJECTED_FOLDER = "rejected"
"""Rejected files go here, each with its ``.reply.txt``."""
ARCHIVE_FOLDERS = frozenset({SENT_FOLDER, REJECTED_FOLDER})
"""Folder names a folder listing (the watcher, say) should not look into."""
REPLY_SUFFIX = ".reply.txt"

MAX_NUMBER = 10_000
"""Highest ``(n)`` tried before giving up on finding a free name."""


@dataclass(frozen=True, slots=True)
class ArchiveResult:
    """What filing one file away did.

    ``moved_to is None`` with an empty ``problem`` means nothing was to be
    done (the outcome is not filed, or the file was already gone).
    """

    moved_to: Path | None = None
    """Where the file now is."""
    reply_file: Path | None = None
    """The saved server reply, for a rejected file."""
    problem: str = ""
    """Why the file could not be filed away (it then stays where it was)."""

    @property
    def message(self) -> str:
        """One line for a log or a terminal; ``""`` when nothing happened."""
        if self.problem:
            return self.problem
        if self.moved_to is None:
            return ""
        text = f"Moved to {self.moved_to}"
        if self.reply_file is not None:
            text += f"; the server's reply is in {self.reply_file.name}"
        return text + "."


def archive_base(path: Path, pending_folder: Path | None) -> Path:
    """The folder ``sent/`` and ``rejected/`` go in, for a file at ``path``."""
    if pending_folder is not None:
        with contextlib.suppress(OSError, RuntimeError):
            root = pending_folder.resolve()
            if path.resolve().is_relative_to(root):
                return root
    return path.absolute().parent


def destination(submission: Submission, base: Path) -> Path | None:
    """The folder a finished submission's file goes to, or ``None``."""
    match submission.outcome:
        case Outcome.ACCEPTED:
            return base / SENT_FOLDER / _local_day(submission.started_at)
        case Outcome.REJECTED:
            return base / REJECTED_FOLDER
        case _:
            return None


def archive_submission(
    submission: Submission, *, pending_folder: Path | None
) -> ArchiveResult:
    """Move the file of a finished submission out of the pending folder.

    Args:
        submission: A record the history has completed (accepted or rejected
            are filed; any other outcome is left alone).
        pending_folder: The settings' pending folder (``None`` if unset).

    Returns:
        What was done. Never raises for a file-system fault: a failure is
        logged and returned in :attr:`ArchiveResult.problem`.
    """
    source = Path(submission.local_path)
    base = archive_base(source, pending_folder)
    folder = destination(submission, base)
    if folder is None:
        return ArchiveResult()

    try:
        data = source.read_bytes()
    except FileNotFoundError:
        return ArchiveResult()  # moved or deleted by someone else meanwhile
    except OSError as exc:
        return _failed(source, folder, exc)
    if submission.sha256 and hashlib.sha256(data).hexdigest() != submission.sha256:
        problem = (
            f"{source.name} changed after it was sent, so it was left in place: "
            "it holds data OMAR-Online has not seen."
        )
        log.warning("%s", problem)
        return ArchiveResult(problem=problem)

    try:
        moved = move_no_replace(source, folder, data=data)
    except OSError as exc:
        if isinstance(exc, FileNotFoundError) and not os.path.lexists(source):
            return ArchiveResult()  # another process filed or removed it first
        return _failed(source, folder, exc)
    log.info("Moved %s to %s (%s)", source, moved, submission.outcome.value)

    if submission.outcome is not Outcome.REJECTED:
        return ArchiveResult(moved_to=moved)
    try:
        reply = create_exclusive(
            folder, moved.name + REPLY_SUFFIX, reply_text(submission).encode()
        )
    except OSError as exc:
        problem = (
            f"Moved {source.name} to {moved}, but could not save the server's "
            f"reply beside it: {exc.strerror or exc}. It is in the history."
        )
        log.warning("%s", problem)
        return ArchiveResult(moved_to=moved, problem=problem)
    return ArchiveResult(moved_to=moved, reply_file=reply)


def move_no_replace(source: Path, folder: Path, *, data: bytes | None = None) -> Path:
    """Move ``source`` into ``folder`` under a free name; never overwrite.

    Args:
        source: The file to move.
        folder: Where it goes; created if missing.
        data: The file's bytes, if already read (used only when it has to
            be copied).

    Returns:
        The file's new path.

    Raises:
        OSError: When the file cannot be moved. Nothing is left half done:
            the original stays, and no partial copy remains.
    """
    folder.mkdir(parents=True, exist_ok=True)

    for name in numbered_names(source.name):
        target = folder / name
        try:
            os.link(source, target, follow_symlinks=False)
        except FileExistsError:
            continue
        except OSError as exc:
            if exc.errno not in _NO_LINK:
                raise
            log.debug("No hard link from %s to %s (%s); copying", source, folder, exc)
            return _copy_then_unlink(source, folder, data)
        _unlink_or_undo(source, target)
        fsync_dir(folder)
        fsync_dir(source.parent)
        return target

    raise FileExistsError(errno.EEXIST, f"no free name in {folder}", source.name)


def create_exclusive(folder: Path, name: str, data: bytes, mode: int = 0o600) -> Path:
    """Write ``data`` to a new file in ``folder``, numbering ``name`` if taken.

    Returns:
        The new file's path.

    Raises:
        OSError: When no file can be created; no partial file is left.
    """
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
    for candidate in numbered_names(name):
        target = folder / candidate
        try:
            fd = os.open(target, flags, mode)
        except FileExistsError:
            continue
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(data)
                out.flush()
                os.fsync(out.fileno())
        except BaseException:
            with contextlib.suppress(OSError):
                target.unlink()
            raise
        fsync_dir(folder)
        return target

    raise FileExistsError(errno.EEXIST, f"no free name in {folder}", name)


def numbered_names(name: str) -> Iterator[str]:
    """``a.csv``, ``a (2).csv``, ``a (3).csv``, ... (the extension kept last)."""
    dot = name.rfind(".")  # a leading dot is part of the stem
    stem, ext = (name[:dot], name[dot:]) if dot > 0 else (name, "")
    yield name
    for n in range(2, MAX_NUMBER + 1):
        yield f"{stem} ({n}){ext}"


def reply_text(submission: Submission) -> str:
    """The ``.reply.txt`` saved beside a rejected file."""
    return (
        f"OMAR-Online rejected {submission.name_sent}\n"
        f"file:        {submission.local_path}\n"
        f"sent as:     {submission.name_sent} ({submission.bytes:,} bytes, "
        f"sha256 {submission.sha256})\n"
        f"environment: {submission.environment} ({submission.base_url})\n"
        f"sent at:     {submission.started_at}\n"
        f"history id:  {submission.id}\n"
        f"message:     {submission.message}\n"
        "\n"
        "--- the server's reply, as received ---\n"
        f"{submission.raw_reply}\n"
    )


# -- helpers ------------------------------------------------------------------

_NO_LINK = frozenset(
    code
    for code in (
        errno.EXDEV,  # another filesystem
        errno.EPERM,  # no hard links here (some FUSE, SMB and FAT mounts)
        errno.EMLINK,
        errno.ENOTSUP,
        getattr(errno, "EOPNOTSUPP", errno.ENOTSUP),
        errno.ENOSYS,
    )
)


def _copy_then_unlink(source: Path, folder: Path, data: bytes | None) -> Path:
    """Copy under a name claimed with ``O_EXCL``, flush, then remove the original."""
    if data is None:
        data = source.read_bytes()
    mode = source.stat().st_mode & 0o777
    target = create_exclusive(folder, source.name, data, mode)
    with contextlib.suppress(OSError):
        shutil.copystat(source, target)  # keep the file's times for the record
    _unlink_or_undo(source, target)
    fsync_dir(source.parent)
    return target


def _unlink_or_undo(source: Path, target: Path) -> None:
    """Remove the original; if that fails, remove the new copy so one remains."""
    try:
        source.unlink()
    except FileNotFoundError:
        pass  # someone else removed it: the new copy is the only one
    except OSError:
        with contextlib.suppress(OSError):
            target.unlink()
        raise


def _failed(source: Path, folder: Path, exc: OSError) -> ArchiveResult:
    problem = (
        f"Could not move {source.name} to {folder}: {exc.strerror or exc}. "
        "It was left where it was; the submission's outcome stands."
    )
    log.warning("%s", problem)
    return ArchiveResult(problem=problem)


def _local_day(started_at: str) -> str:
    """``YYYY-MM-DD`` of an ISO UTC time, in this machine's time zone."""
    try:
        moment = datetime.fromisoformat(started_at)
    except ValueError:
        moment = datetime.now()
    return moment.astimezone().strftime("%Y-%m-%d")
