"""The pending files: what is in the folder, and the table that shows it.

A pending folder may hold tens of thousands of files, and the operator must
be able to scroll it while it is read. So the folder is listed and each file
checked in a worker thread (:func:`list_folder`, :func:`diff_listing`), and
the list is a Line API widget that draws only the rows on screen: adding,
updating or filtering 20,000 files is a list operation, not 20,000 widgets
or 100,000 measured cells (Textual's DataTable measures every cell it is
given, which froze the screen for seconds at that size).

States are drawn as short ASCII markers (``[ok]``, ``[x]``...) so they read
the same on a Linux console as in a modern terminal.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import ClassVar

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.binding import Binding, BindingType
from textual.events import Click
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from omar_tui.core.models import CheckReport, Outcome, Submission

SENT_FOLDER = "sent"
"""Where accepted files go when ``after_send = "move"``; never listed."""


class FileState(StrEnum):
    """What the operator needs to know about a pending file at a glance."""

    CHECKING = "checking"
    READY = "ready"
    WARNING = "warning"
    BLOCKED = "blocked"
    SENT_BEFORE = "already accepted"
    SENDING = "sending"
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    FAILED = "failed"
    UNKNOWN = "outcome unknown"


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
    unknown_before: Submission | None = None
    """The last attempt at these bytes in the active environment, if it ended
    unknown: it may have reached OMAR-Online, so a resend needs a "yes"."""
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
        if self.unknown_before is not None:
            return FileState.UNKNOWN
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


MARK_WIDTH = 2
STATE_WIDTH = 21
SIZE_WIDTH = 9
AGE_WIDTH = 5
MIN_NAME_WIDTH = 12
STRIP_CACHE_ROWS = 2000
"""Rows whose drawn line is kept; more than a few screens' worth is dropped."""


def _sort_key(file: PendingFile) -> str:
    return file.label.lower()


class FileList(ScrollView, can_focus=True, inherit_bindings=False):
    """The pending files, one line each, sorted by name, with a cursor.

    Only the lines on screen are drawn (:meth:`render_line`), so the cost of
    a change does not grow with the number of files shown.
    """

    HELP_GROUP = "Pending files"

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "file-list--header",
        "file-list--cursor",
        "file-list--cursor-blurred",
        "file-list--marked",
    }

    DEFAULT_CSS = """
    FileList {
        background: $surface;
        overflow-x: hidden;
    }
    FileList > .file-list--header {
        text-style: bold;
        color: $text-muted;
    }
    FileList > .file-list--cursor {
        background: $block-cursor-background;
        color: $block-cursor-foreground;
        text-style: bold;
    }
    FileList > .file-list--cursor-blurred {
        background: $block-cursor-blurred-background;
    }
    FileList > .file-list--marked {
        background: $primary 25%;
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up,k", "cursor(-1)", "Up", show=False, id="files.up"),
        Binding("down,j", "cursor(1)", "Down", show=False, id="files.down"),
        Binding("pageup", "page(-1)", "Page up", show=False, id="files.page_up"),
        Binding("pagedown", "page(1)", "Page down", show=False, id="files.page_down"),
        Binding("home,g", "first", "First file", show=False, id="files.first"),
        Binding("end,G", "last", "Last file", show=False, id="files.last"),
    ]

    cursor: reactive[int] = reactive(0, always_update=True, repaint=False)
    """Index of the highlighted row among the shown ones."""

    class Highlighted(Message):
        """The highlighted file changed (or its row did)."""

        def __init__(self, file_list: FileList, file: PendingFile | None) -> None:
            super().__init__()
            self.file_list = file_list
            self.file = file

        @property
        def control(self) -> FileList:
            """The list that sent it (lets ``@on(..., "#files")`` match)."""
            return self.file_list

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.filter_text = ""
        self.files: dict[Path, PendingFile] = {}
        """Every known file, shown or filtered out, by path."""
        self._rows: list[PendingFile] = []
        self._index: dict[Path, int] = {}
        self._highlighted: Path | None = None
        self._strips: dict[Path | None, tuple[tuple[object, ...], Strip]] = {}
        """The last strip drawn per row (``None``: the header), with what it
        showed; a row is built again only when that changes."""

    # -- reading --------------------------------------------------------------

    @property
    def row_count(self) -> int:
        """How many files are shown (after the filter)."""
        return len(self._rows)

    @property
    def highlighted(self) -> PendingFile | None:
        """The file under the cursor, if any row is shown."""
        if not self._rows:
            return None
        return self._rows[min(self.cursor, len(self._rows) - 1)]

    def shown(self) -> list[PendingFile]:
        """Files whose rows are shown, in order."""
        return list(self._rows)

    def matches(self, file: PendingFile) -> bool:
        """True when the name filter lets ``file`` through."""
        return self.filter_text.lower() in file.label.lower()

    # -- changing -------------------------------------------------------------

    def put(self, files: Iterable[PendingFile]) -> None:
        """Add or update ``files``, keeping the list sorted by name."""
        current = self.highlighted
        added = False
        removed = False
        updated: list[int] = []
        for file in files:
            self.files[file.path] = file
            index = self._index.get(file.path)
            if not self.matches(file):
                removed = removed or index is not None
                continue
            if index is None:
                self._rows.append(file)
                added = True
            else:
                self._rows[index] = file
                updated.append(index)
        if removed:
            self._rows = [f for f in self._rows if self.matches(f)]
        if added or removed:
            self._rows.sort(key=_sort_key)  # nearly sorted already: fast
            self._reindex(current)
        else:
            # Rows stayed in place: redraw only those on screen, if any.
            top, bottom = self.visible_rows()
            for index in updated:
                if top <= index < bottom:
                    self.refresh_line(index + 1)  # virtual y: header is line 0
            self._announce()

    def refresh_file(self, file: PendingFile) -> None:
        """Redraw one file's row after its state or mark changed."""
        index = self._index.get(file.path)
        if index is not None:
            self._rows[index] = file
            self.refresh_line(index + 1)  # virtual y: the header is line 0
            if index == self.cursor:
                self._announce(force=True)

    def drop(self, paths: Iterable[Path]) -> None:
        """Forget files that left the folder."""
        gone = set(paths)
        for path in gone:
            self.files.pop(path, None)
        if gone & self._index.keys():
            current = self.highlighted
            self._rows = [f for f in self._rows if f.path not in gone]
            self._reindex(current)

    def set_filter(self, text: str) -> None:
        """Show only files whose name holds ``text`` (any case)."""
        if text == self.filter_text:
            return
        current = self.highlighted
        self.filter_text = text
        self._rows = sorted(
            (f for f in self.files.values() if self.matches(f)), key=_sort_key
        )
        self._reindex(current)

    def refresh_ages(self) -> None:
        """Redraw, so the age column moves on (ages are worked out when drawn)."""
        self.refresh()

    def move_to(self, path: Path) -> None:
        """Put the cursor on ``path``'s row, if it is shown."""
        index = self._index.get(path)
        if index is not None:
            self.cursor = index

    def _reindex(self, keep: PendingFile | None) -> None:
        self._index = {file.path: i for i, file in enumerate(self._rows)}
        self.virtual_size = Size(0, len(self._rows) + 1)
        index = self._index.get(keep.path) if keep is not None else None
        if index is not None:
            self.cursor = index
        else:
            self.cursor = min(self.cursor, max(0, len(self._rows) - 1))
        self.refresh()

    # -- cursor ---------------------------------------------------------------

    def validate_cursor(self, value: int) -> int:
        return max(0, min(value, len(self._rows) - 1))

    def watch_cursor(self, old: int, new: int) -> None:
        self._scroll_to_cursor()
        self.refresh()
        self._announce()

    def _announce(self, *, force: bool = False) -> None:
        file = self.highlighted
        path = None if file is None else file.path
        if force or path != self._highlighted:
            self._highlighted = path
            self.post_message(self.Highlighted(self, file))

    def visible_rows(self) -> tuple[int, int]:
        """Indexes of the first row on screen and of the one after the last."""
        top = int(self.scroll_offset.y)
        return top, min(len(self._rows), top + self._body_height())

    def _body_height(self) -> int:
        return max(1, self.scrollable_content_region.height - 1)

    def _scroll_to_cursor(self) -> None:
        top = int(self.scroll_offset.y)
        height = self._body_height()
        if self.cursor < top:
            self.scroll_to(y=self.cursor, animate=False, immediate=True)
        elif self.cursor >= top + height:
            self.scroll_to(y=self.cursor - height + 1, animate=False, immediate=True)

    def action_cursor(self, step: int) -> None:
        """Move the cursor by ``step`` rows."""
        self.cursor += step

    def action_page(self, direction: int) -> None:
        """Move the cursor a screenful."""
        self.cursor += direction * self._body_height()

    def action_first(self) -> None:
        """Go to the first file."""
        self.cursor = 0

    def action_last(self) -> None:
        """Go to the last file."""
        self.cursor = len(self._rows) - 1

    def cursor_down(self) -> None:
        """Move down one row (after marking a file)."""
        self.cursor += 1

    def on_click(self, event: Click) -> None:
        row = event.y - 1 + int(self.scroll_offset.y)
        if event.y >= 1 and 0 <= row < len(self._rows):
            self.cursor = row

    def on_resize(self) -> None:
        self.virtual_size = Size(0, len(self._rows) + 1)
        self._scroll_to_cursor()

    # -- drawing --------------------------------------------------------------

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        if y == 0:
            style = self.get_component_rich_style("file-list--header")
            return self._cached(None, (width, style), lambda: self._header(width))
        index = y - 1 + int(self.scroll_offset.y)
        if index >= len(self._rows):
            return Strip.blank(width, self.rich_style)
        file = self._rows[index]
        if index == self.cursor:
            name = "cursor" if self.has_focus else "cursor-blurred"
            style = self.get_component_rich_style(f"file-list--{name}")
        elif file.marked:
            style = self.get_component_rich_style("file-list--marked")
        else:
            style = self.rich_style
        # On the Linux console's 16 colours a state colour can vanish into the
        # cursor's background: there the cursor row is drawn in its own colours.
        flat = index == self.cursor and self.app.has_class("-ascii")
        # Everything the row shows: the strip is rebuilt only when it changes.
        shown = (
            width,
            style,
            file.label,
            file.marked,
            file.state,
            file.size,
            format_age(file.mtime),
            flat,
        )
        over = style if flat else None
        return self._cached(file.path, shown, lambda: self._row(file, width, over))

    def _cached(
        self, key: Path | None, shown: tuple[object, ...], build: Callable[[], Text]
    ) -> Strip:
        cached = self._strips.get(key)
        if cached is not None and cached[0] == shown:
            return cached[1]
        if len(self._strips) > STRIP_CACHE_ROWS:
            self._strips.clear()  # rows scrolled past long ago
        width = shown[0]
        style = shown[1]
        assert isinstance(width, int) and isinstance(style, Style)
        strip = self._strip(build(), width, style)
        self._strips[key] = (shown, strip)
        return strip

    def _strip(self, text: Text, width: int, style: Style) -> Strip:
        text.truncate(width, overflow="ellipsis", pad=True)
        segments = list(text.render(self.app.console))
        return Strip(Segment.apply_style(segments, post_style=None, style=style), width)

    @staticmethod
    def _name_width(width: int) -> int:
        fixed = MARK_WIDTH + STATE_WIDTH + SIZE_WIDTH + AGE_WIDTH
        return max(MIN_NAME_WIDTH, width - fixed)

    def _header(self, width: int) -> Text:
        name = self._name_width(width)
        return Text(
            " " * MARK_WIDTH
            + "State".ljust(STATE_WIDTH)
            + "Name".ljust(name)[:name]
            + "Bytes".rjust(SIZE_WIDTH)
            + "Age".rjust(AGE_WIDTH)
        )

    def _row(self, file: PendingFile, width: int, over: Style | None = None) -> Text:
        name_width = self._name_width(width)
        name = file.label
        if len(name) > name_width - 1:
            name = name[: name_width - 2] + "~"
        text = Text("* " if file.marked else "  ", style="bold")
        marker, style = STATE_MARKERS[file.state]
        text.append(f"{marker} {file.state.value}".ljust(STATE_WIDTH), style=style)
        text.append(name.ljust(name_width))
        text.append(format_size(file.size).rjust(SIZE_WIDTH))
        text.append(format_age(file.mtime).rjust(AGE_WIDTH))
        if over is not None:
            # A span over the whole row, added last, wins over the state colour.
            text.stylize(over)
        return text
