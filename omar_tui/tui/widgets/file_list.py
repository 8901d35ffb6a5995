"""The pending files: what is in the folder, and the table that shows it.

A pending folder may hold tens of thousands of files, and the operator must
be able to scroll it while it is read. So the folder is listed and each file
checked in a worker thread (:func:`list_folder`, :func:`diff_listing`), and
the table is changed row by row (:meth:`FileList.put`, :meth:`FileList.drop`)
instead of being rebuilt: a poll that finds one new file costs one row.

States are drawn as short ASCII markers (``[ok]``, ``[x]``...) so they read
the same on a Linux console as in a modern terminal.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import ClassVar

from rich.text import Text
from textual.binding import Binding, BindingType
from textual.widgets import DataTable
from textual.widgets.data_table import RowDoesNotExist, RowKey

from omar_tui.core.models import CheckReport, Outcome, Submission

SENT_FOLDER = "sent"
"""Where accepted files go when ``after_send = "move"``; never listed."""


class FileState(StrEnum):
    """What the operator needs to know about a pending file at a glance."""

    CHECKING = "checking"
    READY = "ready"
    WARNING = "warning"
    BLOCKED = "blocked"
    SENT_BEFORE = "sent before"
    SENDING = "sending"
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    FAILED = "failed"
    UNKNOWN = "unknown"


STATE_MARKERS: Mapping[FileState, tuple[str, str]] = {
    FileState.CHECKING: ("[.]", "dim"),
    FileState.READY: ("[ok]", "green"),
    FileState.WARNING: ("[!]", "yellow"),
    FileState.BLOCKED: ("[x]", "bold red"),
    FileState.SENT_BEFORE: ("[=]", "cyan"),
    FileState.SENDING: ("[>]", "bold magenta"),
    FileState.ACCEPTED: ("[+]", "bold green"),
    FileState.REJECTED: ("[-]", "bold red"),
    FileState.FAILED: ("[-]", "red"),
    FileState.UNKNOWN: ("[?]", "bold yellow"),
}
"""ASCII marker and style per state; the word follows the marker."""

_OUTCOME_STATES: Mapping[Outcome, FileState] = {
    Outcome.ACCEPTED: FileState.ACCEPTED,
    Outcome.REJECTED: FileState.REJECTED,
    Outcome.FAILED: FileState.FAILED,
    Outcome.UNKNOWN: FileState.UNKNOWN,
    Outcome.PENDING: FileState.UNKNOWN,
}


@dataclass(slots=True)
class PendingFile:
    """One file of the pending folder, as the main screen knows it.

    The report is kept without its bytes (``data``): twenty thousand files
    must not sit in memory. The bytes are read again, and compared by
    sha256, just before a file is sent.
    """

    path: Path
    label: str
    """Name shown: the path below the pending folder."""
    size: int
    mtime: float
    report: CheckReport | None = None
    accepted_before: Submission | None = None
    """An earlier acceptance of the same bytes in the active environment."""
    last_result: Submission | None = None
    """What happened when this file was sent in this run."""
    sending: bool = False
    marked: bool = False

    @property
    def state(self) -> FileState:
        """The one state the table shows, most urgent first."""
        if self.sending:
            return FileState.SENDING
        if self.last_result is not None and self.last_result.id:
            return _OUTCOME_STATES.get(self.last_result.outcome, FileState.UNKNOWN)
        if self.report is None:
            return FileState.CHECKING
        if self.report.blocked:
            return FileState.BLOCKED
        if self.accepted_before is not None:
            return FileState.SENT_BEFORE
        if self.report.findings:
            return FileState.WARNING
        return FileState.READY

    @property
    def file_id(self) -> str | None:
        """The File Id of this file's bytes, from this run or an earlier one."""
        if self.last_result is not None and self.last_result.file_id:
            return self.last_result.file_id
        if self.accepted_before is not None:
            return self.accepted_before.file_id
        return None


Stamp = tuple[int, float]
"""``(size, mtime)``: how a poll tells that a file changed."""


def list_folder(root: Path, *, recursive: bool) -> dict[Path, Stamp]:
    """Every regular file of the pending folder with its size and mtime.

    Hidden files (editors' and rsync's temporaries) and the ``sent`` folder
    are skipped. Runs in a worker thread; a folder that cannot be read is
    skipped rather than stopping the whole listing.

    Raises:
        OSError: When ``root`` itself cannot be listed.
    """
    found: dict[Path, Stamp] = {}
    folders = [root]
    first = True
    while folders:
        folder = folders.pop()
        try:
            entries = list(os.scandir(folder))
        except OSError:
            if first:
                raise
            continue
        first = False
        for entry in entries:
            if entry.name.startswith("."):
                continue
            try:
                if entry.is_dir():
                    if recursive and not (folder == root and entry.name == SENT_FOLDER):
                        folders.append(Path(entry.path))
                    continue
                if not entry.is_file():
                    continue
                st = entry.stat()
            except OSError:
                continue
            found[Path(entry.path)] = (st.st_size, st.st_mtime)
    return found


def diff_listing(
    old: Mapping[Path, Stamp], new: Mapping[Path, Stamp]
) -> tuple[list[Path], list[Path]]:
    """What a poll must act on: files new or changed, and files gone."""
    fresh = [path for path, stamp in new.items() if old.get(path) != stamp]
    gone = [path for path in old if path not in new]
    return fresh, gone


def format_size(size: int | None) -> str:
    """Bytes, exact below a million (the limits are near 500,000)."""
    if size is None:
        return "?"
    if size < 1_000_000:
        return f"{size:,}"
    return f"{size / 1_000_000:.1f} MB"


def format_age(mtime: float, now: float | None = None) -> str:
    """How long ago a file was last written, in one short word."""
    seconds = max(0, int((time.time() if now is None else now) - mtime))
    if seconds < 60:
        return "now"
    if seconds < 3600:
        return f"{seconds // 60}m"
    if seconds < 86400:
        return f"{seconds // 3600}h"
    return f"{seconds // 86400}d"


def state_text(state: FileState) -> Text:
    """The state cell: ASCII marker, then the word."""
    marker, style = STATE_MARKERS[state]
    return Text(f"{marker} {state.value}", style=style)


class FileList(DataTable[Text]):
    """The pending files, one row each, keyed by path.

    Rows are added, changed and removed one at a time; the table is only
    rebuilt when the name filter changes.
    """

    HELP_GROUP = "Pending files"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("j", "cursor_down", "Down", show=False),
        Binding("k", "cursor_up", "Up", show=False),
        Binding("g", "scroll_top", "First file", show=False),
        Binding("G", "scroll_bottom", "Last file", show=False),
        Binding("home", "scroll_top", "First file", show=False),
        Binding("end", "scroll_bottom", "Last file", show=False),
    ]

    COLUMNS = (("mark", " ", 1), ("state", "State", 15), ("name", "Name", 40))
    NUMBERS = (("size", "Bytes", 9), ("age", "Age", 4))

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=False)
        self.filter_text = ""
        self.files: dict[Path, PendingFile] = {}
        """Every known file, shown or filtered out, by path."""
        self._ages: dict[Path, str] = {}

    def on_mount(self) -> None:
        for key, label, width in self.COLUMNS:
            self.add_column(label, key=key, width=width)
        for key, label, width in self.NUMBERS:
            self.add_column(Text(label, justify="right"), key=key, width=width)

    # -- reading --------------------------------------------------------------

    @property
    def highlighted(self) -> PendingFile | None:
        """The file under the cursor, if any row is shown."""
        if not self.row_count:
            return None
        try:
            key = self.coordinate_to_cell_key(self.cursor_coordinate).row_key
        except Exception:  # an empty or shrinking table
            return None
        return self.files.get(Path(key.value or ""))

    def shown(self) -> list[PendingFile]:
        """Files whose rows are shown, in table order."""
        files = (self.files.get(Path(row.key.value or "")) for row in self.ordered_rows)
        return [f for f in files if f is not None]

    def matches(self, file: PendingFile) -> bool:
        """True when the name filter lets ``file`` through."""
        return self.filter_text.lower() in file.label.lower()

    # -- changing -------------------------------------------------------------

    def put(self, files: Iterable[PendingFile]) -> None:
        """Add or update rows for ``files``, keeping the table sorted by name."""
        added = False
        for file in files:
            self.files[file.path] = file
            if not self.matches(file):
                self._remove_row(file.path)
                continue
            key = str(file.path)
            if key in self.rows:
                self._update_row(file)
            else:
                self.add_row(*self._cells(file), key=key)
                added = True
        if added:
            self._sort_keep_cursor()

    def refresh_file(self, file: PendingFile) -> None:
        """Redraw one file's state and mark after it changed."""
        if str(file.path) in self.rows:
            self._update_row(file)

    def drop(self, paths: Iterable[Path]) -> None:
        """Forget files that left the folder."""
        for path in paths:
            self.files.pop(path, None)
            self._ages.pop(path, None)
            self._remove_row(path)

    def set_filter(self, text: str) -> None:
        """Show only files whose name holds ``text`` (any case)."""
        if text == self.filter_text:
            return
        current = self.highlighted
        self.filter_text = text
        self.clear()
        rows = sorted(
            (f for f in self.files.values() if self.matches(f)), key=lambda f: f.label
        )
        for file in rows:
            self.add_row(*self._cells(file), key=str(file.path))
        if current is not None:
            self.move_to(current.path)

    def refresh_ages(self, now: float | None = None) -> None:
        """Update the age cells whose text changed (few, between polls)."""
        stamp = time.time() if now is None else now
        for path, file in self.files.items():
            age = format_age(file.mtime, stamp)
            if self._ages.get(path) != age and str(path) in self.rows:
                self._ages[path] = age
                self.update_cell(str(path), "age", Text(age, justify="right"))

    def move_to(self, path: Path) -> None:
        """Put the cursor on ``path``'s row, if it is shown."""
        try:
            index = self.get_row_index(str(path))
        except RowDoesNotExist:
            return
        self.move_cursor(row=index, animate=False)

    # -- rows -----------------------------------------------------------------

    def _cells(self, file: PendingFile) -> list[Text]:
        age = format_age(file.mtime)
        self._ages[file.path] = age
        return [
            Text("*" if file.marked else " ", style="bold"),
            state_text(file.state),
            Text(file.label, no_wrap=True, overflow="ellipsis"),
            Text(format_size(file.size), justify="right"),
            Text(age, justify="right"),
        ]

    def _update_row(self, file: PendingFile) -> None:
        key = str(file.path)
        for column, cell in zip(
            ("mark", "state", "name", "size", "age"), self._cells(file), strict=True
        ):
            if self.get_cell(key, column) != cell:
                self.update_cell(key, column, cell)

    def _remove_row(self, path: Path) -> None:
        key = str(path)
        if key in self.rows:
            self.remove_row(key)

    def _sort_keep_cursor(self) -> None:
        current = self.highlighted
        self.sort("name", key=lambda cell: cell.plain)
        if current is not None:
            self.move_to(current.path)


def row_path(key: RowKey) -> Path:
    """The file a table row stands for."""
    return Path(key.value or "")
