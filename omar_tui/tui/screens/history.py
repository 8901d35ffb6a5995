"""Past submissions, newest first: search, filter, read in full, export, copy.

A history can hold years of records, so the screen never loads it whole: it
shows one page (:data:`PAGE_SIZE` rows) fetched with ``History.recent`` in a
thread worker, and counts matches in the same worker after the rows are on
screen. Opening it costs one small query whatever the size of the database.

Every profile shares one history; the screen opens on the active profile's
records (as ``omar-tui history`` does) and ``a`` shows every profile's. An
outcome filter (``o`` cycles through them) narrows the rows on top of the
search, and the CSV export writes every record matching what is shown, not
just the page on screen.
"""

from __future__ import annotations

import csv
import dataclasses
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen, Screen
from textual.timer import Timer
from textual.widgets import DataTable, Footer, Input, Label, Static

from omar_tui.core.history import History, HistoryFilter
from omar_tui.core.models import Outcome, Submission
from omar_tui.core.paths import DEFAULT_PROFILE
from omar_tui.errors import OmarError
from omar_tui.tui.screens.history_detail import (
    OUTCOME_STYLES,
    SubmissionDetailScreen,
    copy_file_id,
    outcome_advice,
    short_time,
)

PAGE_SIZE = 200
"""Rows per page: enough to scroll through, small enough to fetch instantly."""

EXPORT_FIELDS: tuple[str, ...] = tuple(
    f.name for f in dataclasses.fields(Submission) if f.name != "raw_reply"
)
"""CSV columns: every field of a record except the (long) raw reply page."""

OUTCOME_LABELS: dict[Outcome, str] = {
    Outcome.ACCEPTED: "accepted",
    Outcome.REJECTED: "REJECTED",
    Outcome.BLOCKED: "blocked",
    Outcome.FAILED: "failed",
    Outcome.UNKNOWN: "? UNKNOWN",
    Outcome.PENDING: "? pending",
}
"""Outcome words in the table; the ones needing action stand out in capitals."""

OUTCOME_FILTERS: tuple[tuple[str, tuple[Outcome, ...]], ...] = (
    ("all outcomes", ()),
    ("accepted", (Outcome.ACCEPTED,)),
    ("rejected", (Outcome.REJECTED,)),
    ("unknown", (Outcome.UNKNOWN, Outcome.PENDING)),
    ("failed", (Outcome.FAILED,)),
)
"""What ``o`` cycles through; "unknown" includes records still in flight."""


def export_csv(rows: Iterable[Submission], path: Path) -> int:
    """Write ``rows`` to a new CSV file at ``path``; never replaces a file.

    The file is opened in exclusive-create mode, so a file that appeared
    after the operator chose the name is not overwritten either.

    Returns:
        The number of records written.

    Raises:
        FileExistsError: When ``path`` exists.
        OSError: When the file cannot be written.
    """
    count = 0
    with path.open("x", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(EXPORT_FIELDS)
        for record in rows:
            values = (getattr(record, name) for name in EXPORT_FIELDS)
            writer.writerow("" if value is None else str(value) for value in values)
            count += 1
    return count


def default_export_path(folder: Path, now: datetime | None = None) -> Path:
    """``<folder>/omar-history-<local time>.csv``, a name unlikely to exist."""
    stamp = (now or datetime.now()).strftime("%Y%m%d-%H%M%S")
    return folder / f"omar-history-{stamp}.csv"


class ExportDialog(ModalScreen[Path | None]):
    """Asks where to write the CSV; refuses a path that already exists.

    Args:
        suggestion: The path shown pre-filled.
        what: Which records will be written, for the prompt.
    """

    DEFAULT_CSS = """
    ExportDialog {
        align: center middle;
    }
    ExportDialog > Vertical {
        width: 76;
        max-width: 100%;
        height: auto;
        border: round $accent;
        padding: 0 1;
        background: $surface;
    }
    ExportDialog #export-error {
        color: $error;
    }
    ExportDialog #export-help {
        color: $text-muted;
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, suggestion: Path, what: str) -> None:
        super().__init__()
        self._suggestion = suggestion
        self._what = what

    def compose(self) -> ComposeResult:
        with Vertical() as box:
            box.border_title = "Export to CSV"
            yield Label(self._what, id="export-what")
            yield Label("Write them, oldest first, to this new file:")
            yield Input(str(self._suggestion), id="export-path")
            yield Label("", id="export-error")
            yield Label("Enter writes it   Esc cancels", id="export-help")

    @on(Input.Submitted, "#export-path")
    def _chosen(self, event: Input.Submitted) -> None:
        text = event.value.strip()
        error = self.query_one("#export-error", Label)
        if not text:
            error.update("Type a file name.")
            return

        path = Path(text).expanduser()
        if path.exists():
            error.update("That file exists and is not replaced: choose another name.")
            return
        if not path.parent.is_dir():
            error.update(f"There is no folder {path.parent}.")
            return
        self.dismiss(path)

    def action_cancel(self) -> None:
        """Close without writing anything."""
        self.dismiss(None)


class HistoryTable(DataTable[Text | str]):
    """The page of records; PgUp/PgDn at either end turn the page."""

    HELP_GROUP = "Submission list"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "select_cursor", "Open the record in full", show=False),
    ]

    def action_page_down(self) -> None:
        """Scroll a screenful, or go to the next page from the last row."""
        screen = self.screen
        if (
            isinstance(screen, HistoryScreen)
            and self.row_count
            and self.cursor_row >= self.row_count - 1
        ):
            screen.action_next_page()
            return
        super().action_page_down()

    def action_page_up(self) -> None:
        """Scroll a screenful, or go to the previous page from the first row."""
        screen = self.screen
        if isinstance(screen, HistoryScreen) and self.cursor_row <= 0:
            screen.action_previous_page()
            return
        super().action_page_up()


class HistoryScreen(Screen[None]):
    """Past submissions newest first, a page at a time, with search and filters.

    Args:
        history: The submission records to read (never written here).
        profile: The active profile, whose records are shown first.
        export_folder: Where the CSV export is suggested (the working folder
            unless a test or the demo says otherwise).
    """

    HELP_GROUP = "History"

    DEFAULT_CSS = """
    HistoryScreen #history-status {
        height: 1;
        padding: 0 1;
        background: $boost;
    }
    HistoryScreen #history-search {
        margin: 0 0;
    }
    HistoryScreen HistoryTable {
        height: 1fr;
    }
    HistoryScreen #history-advice {
        height: auto;
        max-height: 3;
        padding: 0 1;
        background: $warning 30%;
    }
    HistoryScreen #history-advice.-hidden {
        display: none;
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back", tooltip="Back to the pending files"),
        Binding(
            "slash",
            "focus_search",
            "Search",
            tooltip="Search by part of a name, a File Id or a date (2026-05-09)",
        ),
        Binding(
            "o",
            "cycle_outcome",
            "Outcome",
            tooltip="Show all outcomes, or only accepted, rejected, unknown, failed",
        ),
        Binding(
            "a",
            "toggle_profiles",
            "All profiles",
            show=False,
            tooltip="Show every profile's records, or the active profile's only",
        ),
        Binding("n", "next_page", "Next page", tooltip="The next, older records"),
        Binding(
            "p",
            "previous_page",
            "Previous page",
            show=False,
            tooltip="The previous, newer records",
        ),
        Binding(
            "e",
            "export",
            "Export CSV",
            tooltip="Write every record matching the filters to a CSV file",
        ),
        Binding(
            "c",
            "copy_file_id",
            "Copy File Id",
            show=False,
            tooltip="Copy the highlighted record's File Id to the clipboard",
        ),
        Binding(
            "r",
            "refresh",
            "Refresh",
            show=False,
            tooltip="Read the records again (new sends show up)",
        ),
    ]

    DEBOUNCE = 0.3
    """Seconds of quiet typing before a search runs."""

    def __init__(
        self,
        history: History,
        *,
        profile: str = DEFAULT_PROFILE,
        export_folder: Path | None = None,
    ) -> None:
        super().__init__()
        self.history = history
        self.profile = profile
        self.all_profiles = False
        """Show every profile's records instead of :attr:`profile`'s."""
        self.outcome_filter = 0
        """Index into :data:`OUTCOME_FILTERS`."""
        self.export_folder = export_folder
        self.title = "History"
        self.search = ""
        self.page_offset = 0
        self.total: int | None = None
        self.rows: list[Submission] = []
        self._generation = 0
        self._debounce: Timer | None = None

    def compose(self) -> ComposeResult:
        yield Static("History: loading...", id="history-status")
        yield Input(
            placeholder="/ search name, File Id or date (2026-05-09)",
            id="history-search",
            compact=True,
        )
        table = HistoryTable(id="history-table", cursor_type="row", zebra_stripes=True)
        self._add_columns(table)
        yield table
        yield Static("", id="history-advice", classes="-hidden")
        yield Footer(compact=True)

    def _add_columns(self, table: HistoryTable) -> None:
        table.add_column("Started (UTC)", key="started")
        if self.all_profiles:
            table.add_column("Profile", key="profile")
        table.add_column("Env", key="env")
        table.add_column("Sent as", key="name")
        table.add_column("Outcome", key="outcome")
        table.add_column("File Id", key="file_id")

    def on_mount(self) -> None:
        self.query_one(HistoryTable).focus()
        self.load()

    # -- what is shown

    @property
    def filters(self) -> HistoryFilter:
        """The records shown: profile, outcome and search as they stand."""
        return HistoryFilter(
            profile=None if self.all_profiles else self.profile,
            outcomes=OUTCOME_FILTERS[self.outcome_filter][1],
            search=self.search or None,
        )

    def describe_filters(self) -> str:
        """The filters in words: ``profile east, rejected, matching 'x'``."""
        parts = ["all profiles" if self.all_profiles else f"profile {self.profile}"]
        if self.outcome_filter:
            parts.append(OUTCOME_FILTERS[self.outcome_filter][0])
        if self.search:
            parts.append(f"matching {self.search!r}")
        return ", ".join(parts)

    # -- loading

    def load(self) -> None:
        """Fetch the current page for the current filters, in a thread."""
        self._generation += 1
        self._fetch(self._generation, self.page_offset, self.filters)

    @work(thread=True, exclusive=True, group="history-query")
    def _fetch(self, generation: int, offset: int, filters: HistoryFilter) -> None:
        profile, outcomes, search = filters.profile, filters.outcomes, filters.search
        try:
            rows = self.history.recent(
                PAGE_SIZE, offset, search, profile=profile, outcomes=outcomes
            )
            self.app.call_from_thread(self._show_rows, generation, offset, rows)
            total = self.history.count(search, profile=profile, outcomes=outcomes)
        except OmarError as exc:
            self.app.call_from_thread(self._show_error, exc)
            return
        self.app.call_from_thread(self._show_total, generation, total)

    def _show_error(self, error: OmarError) -> None:
        self.notify(error.hint, title=error.title, severity="error", timeout=10)

    def _show_rows(self, generation: int, offset: int, rows: list[Submission]) -> None:
        if generation != self._generation:
            return  # a newer search or page replaced this one

        self.page_offset = offset
        self.rows = list(rows)
        table = self.query_one(HistoryTable)
        with_profile = "profile" in table.columns
        if with_profile != self.all_profiles:
            table.clear(columns=True)
            self._add_columns(table)
        else:
            table.clear()
        for record in self.rows:
            table.add_row(*self._cells(record), key=str(record.id))
        self._update_status()
        self._update_advice()

    def _show_total(self, generation: int, total: int) -> None:
        if generation == self._generation:
            self.total = total
            self._update_status()

    def _cells(self, record: Submission) -> tuple[str | Text, ...]:
        outcome = Text(
            OUTCOME_LABELS.get(record.outcome, str(record.outcome)),
            style=OUTCOME_STYLES.get(record.outcome, ""),
        )
        profile = (record.profile,) if self.all_profiles else ()
        return (
            short_time(record.started_at)[:16],
            *profile,
            record.environment,
            record.name_sent,
            outcome,
            record.file_id or "",
        )

    def _update_status(self) -> None:
        status = self.query_one("#history-status", Static)
        found = self.describe_filters()
        if not self.rows:
            status.update(
                f"No submissions ({found})."
                if self.page_offset == 0
                else f"No more records ({found})."
            )
            return

        first, last = self.page_offset + 1, self.page_offset + len(self.rows)
        total = "counting..." if self.total is None else f"{self.total:,}"
        status.update(f"Records {first:,}-{last:,} of {total} ({found})")

    def _update_advice(self) -> None:
        advice = self.query_one("#history-advice", Static)
        record = self.highlighted
        text = outcome_advice(record) if record else ""
        advice.update(text)
        advice.set_class(not text, "-hidden")

    @property
    def highlighted(self) -> Submission | None:
        """The record under the cursor, if any."""
        table = self.query_one(HistoryTable)
        if not self.rows or not 0 <= table.cursor_row < len(self.rows):
            return None
        return self.rows[table.cursor_row]

    @on(DataTable.RowHighlighted)
    def _highlighted(self) -> None:
        self._update_advice()

    # -- search and filters

    @on(Input.Changed, "#history-search")
    def _typed(self, event: Input.Changed) -> None:
        if self._debounce is not None:
            self._debounce.stop()
        value = event.value.strip()
        if self.DEBOUNCE <= 0:
            self._search(value)
            return
        self._debounce = self.set_timer(self.DEBOUNCE, lambda: self._search(value))

    @on(Input.Submitted, "#history-search")
    def _submitted(self, event: Input.Submitted) -> None:
        if self._debounce is not None:
            self._debounce.stop()
        self._search(event.value.strip())
        self.query_one(HistoryTable).focus()

    def _search(self, text: str) -> None:
        if text == self.search and self.total is not None:
            return
        self.search = text
        self._reload()

    def _reload(self) -> None:
        """From the first page, with the total counted again."""
        self.page_offset = 0
        self.total = None
        self.load()

    def action_cycle_outcome(self) -> None:
        """Show the next outcome filter: all, accepted, rejected, unknown, failed."""
        self.outcome_filter = (self.outcome_filter + 1) % len(OUTCOME_FILTERS)
        self._reload()  # the status line names the filters: no toast to cover rows

    def action_toggle_profiles(self) -> None:
        """Show every profile's records, or only the active profile's."""
        self.all_profiles = not self.all_profiles
        self._reload()

    # -- actions

    def action_focus_search(self) -> None:
        """Put the cursor in the search box."""
        self.query_one("#history-search", Input).focus()

    def action_back(self) -> None:
        """Leave the search box, or go back to the main screen."""
        if self.focused is self.query_one("#history-search"):
            self.query_one(HistoryTable).focus()
            return
        self.dismiss(None)

    def action_next_page(self) -> None:
        """Show the next PAGE_SIZE older records."""
        more = len(self.rows) == PAGE_SIZE
        if self.total is not None:
            more = self.page_offset + PAGE_SIZE < self.total
        if not more:
            self.notify("This is the last page.", timeout=2)
            return
        self.page_offset += PAGE_SIZE
        self.load()

    def action_previous_page(self) -> None:
        """Show the previous PAGE_SIZE newer records."""
        if self.page_offset == 0:
            self.notify("This is the first page.", timeout=2)
            return
        self.page_offset = max(0, self.page_offset - PAGE_SIZE)
        self.load()

    def action_refresh(self) -> None:
        """Read the page again (records may have been added meanwhile)."""
        self.total = None
        self.load()

    @on(DataTable.RowSelected)
    def _selected(self) -> None:
        self.action_open_detail()

    def action_open_detail(self) -> None:
        """Show every field of the highlighted record and its raw reply."""
        record = self.highlighted
        if record is not None:
            self._open_detail(record.id)

    @work(thread=True, group="history-detail")
    def _open_detail(self, record_id: int) -> None:
        try:
            record = self.history.get(record_id)
        except OmarError as exc:
            self.app.call_from_thread(self._show_error, exc)
            return
        if record is None:
            self.app.call_from_thread(
                self.notify, "That record is no longer there.", severity="warning"
            )
            return
        self.app.call_from_thread(self.app.push_screen, SubmissionDetailScreen(record))

    def action_copy_file_id(self) -> None:
        """Copy the highlighted record's File Id."""
        record = self.highlighted
        if record is not None:
            copy_file_id(self, record)

    def action_export(self) -> None:
        """Ask for a file name, then write every matching record to it as CSV."""
        if not self.rows:
            self.notify("There are no records to export.", severity="warning")
            return
        filters = self.filters
        count = "every" if self.total is None else f"The {self.total:,}"
        what = f"{count} records matching: {self.describe_filters()} (all pages)."
        folder = self.export_folder or Path.cwd()

        def chosen(path: Path | None) -> None:
            if path is not None:
                self._export(filters, path)

        self.app.push_screen(ExportDialog(default_export_path(folder), what), chosen)

    @work(thread=True, group="history-export")
    def _export(self, filters: HistoryFilter, path: Path) -> None:
        try:
            count = export_csv(self.history.iter_query(filters), path)
        except OSError as exc:
            self.app.call_from_thread(
                self.notify,
                f"{path}: {exc.strerror or exc}",
                title="Export failed",
                severity="error",
            )
            return
        except OmarError as exc:
            self.app.call_from_thread(self._show_error, exc)
            return
        self.app.call_from_thread(
            self.notify, str(path), title=f"Exported {count:,} records"
        )
