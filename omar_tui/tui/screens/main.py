"""The main screen: pending files, the checks of the highlighted one, the log.

The screen does no checking or sending of its own. It owns the layout, the
keys and the details panel, and hands the rest to two helpers:

- :class:`~omar_tui.tui.screens.main_listing.FolderListing` lists the
  pending folder and runs the core's checks in a worker thread, and polls it;
- :class:`~omar_tui.tui.screens.main_sending.SendController` hands the files
  the operator confirms to one :class:`~omar_tui.core.sender.Sender` in an
  exclusive async worker, so the headless CLI and the TUI send by the same
  rules; it keeps the passphrase in memory for the run.

The questions before a send (shorter names, overrides, the last look) are
:class:`~omar_tui.tui.screens.send_confirm.SendPlanner`'s.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Container, Horizontal
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Footer, Input, Label
from textual.worker import get_current_worker

from omar_tui.core.settings import Environment, Settings
from omar_tui.errors import OmarError
from omar_tui.tui.screens.main_listing import POLL_SECONDS, FolderListing
from omar_tui.tui.screens.main_sending import SendController
from omar_tui.tui.widgets.checks_panel import ChecksPanel, read_preview
from omar_tui.tui.widgets.file_list import FileList, FileState, PendingFile
from omar_tui.tui.widgets.header import OmarHeader
from omar_tui.tui.widgets.upload_log import UploadLog

if TYPE_CHECKING:
    from omar_tui.tui.app import OmarApp

log = logging.getLogger("omar_tui.tui")

FILTER_DEBOUNCE = 0.2
FILTER_DEBOUNCE_FROM = 2000
"""With this many files or more, the filter waits for a pause in the typing."""
READING_CERTIFICATE = "reading certificate..."
"""The header's certificate part until the certificate worker has run."""


class MainScreen(Screen[None]):
    """Pending files, checks panel and upload log, driven by keys."""

    HELP_GROUP = "Main screen"

    HORIZONTAL_BREAKPOINTS = [  # noqa: RUF012 - Textual declares it per instance
        (0, "-narrow"),
        (120, "-wide"),
    ]

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "space",
            "toggle_mark",
            "Mark",
            id="main.mark",
            tooltip="Mark or unmark the highlighted file for sending",
        ),
        Binding(
            "a",
            "mark_ready",
            "All ready",
            show=False,  # the footer has room for Settings instead (help lists it)
            id="main.mark_ready",
            tooltip="Mark every shown file that passed all checks",
        ),
        Binding(
            "u",
            "unmark_all",
            "Unmark all",
            show=False,
            id="main.unmark_all",
            tooltip="Clear every mark",
        ),
        Binding(
            "s",
            "send",
            "Send",
            id="main.send",
            tooltip="Send the marked files (or the highlighted one), after a last look",
        ),
        Binding(
            "x",
            "stop",
            "Stop",
            id="main.stop",
            tooltip="Stop sending after the file in flight",
        ),
        Binding(
            "slash",
            "filter",
            "Filter",
            id="main.filter",
            tooltip="Show only the files whose name contains what you type",
        ),
        Binding(
            "escape",
            "clear_filter",
            "Clear filter",
            show=False,
            id="main.clear",
            tooltip="Show every file again",
        ),
        Binding(
            "r,f5",
            "refresh",
            "Refresh",
            show=False,
            id="main.refresh",
            tooltip="List the pending folder again and re-check every file",
        ),
        Binding(
            "t",
            "toggle_subfolders",
            "Subfolders",
            show=False,
            id="main.subfolders",
            tooltip="Include files in subfolders of the pending folder, or not",
        ),
        Binding(
            "c",
            "copy_file_id",
            "Copy File Id",
            show=False,
            id="main.copy",
            tooltip="Copy the highlighted file's File Id to the clipboard",
        ),
        Binding(
            "h",
            "history",
            "History",
            id="main.history",
            tooltip="Past submissions: search, filter, details, CSV export",
        ),
        Binding(
            "i",
            "certificate",
            "Certificate",
            show=False,
            id="main.certificate",
            tooltip="Certificate subject, issuer, validity, fingerprint; file paths",
        ),
        Binding(
            "ctrl+t",
            "test_connection",
            "Test connection",
            show=False,
            id="main.test_connection",
            tooltip="Check settings, certificate and server step by step; no upload",
        ),
        Binding(
            "e,comma",
            "settings",
            "Settings",
            id="main.settings",
            tooltip="Edit environments, certificate, folders, limits and network",
        ),
        Binding("q", "app.quit", "Quit", id="main.quit"),
    ]

    def __init__(self) -> None:
        super().__init__(id="main")
        self.listing = FolderListing(self)
        self.sender = SendController(self)
        self._previews: dict[Path, list[str]] = {}
        self._detail_path: Path | None = None
        self._filter_timer: Timer | None = None

    @property
    def omar(self) -> OmarApp:
        """The app, typed."""
        from omar_tui.tui.app import OmarApp

        assert isinstance(self.app, OmarApp)
        return self.app

    @property
    def sending(self) -> bool:
        """True while a send owns the files."""
        return self.sender.sending

    @property
    def recursive(self) -> bool:
        """True when files in subfolders are listed."""
        return self.listing.recursive

    @property
    def _scanning(self) -> bool:  # read by bench/tui_probe.py
        return self.listing.scanning

    # -- layout -----------------------------------------------------------------

    def compose(self) -> ComposeResult:
        from omar_tui.tui.plain import progress_bar

        yield OmarHeader(id="header")
        yield Input(
            placeholder="filter by name (Enter keeps it, Esc clears)", id="filter"
        )
        with Container(id="body"):
            yield FileList(id="files")
            with Container(id="details"):
                yield ChecksPanel(id="checks")
                yield UploadLog(id="log")
        with Horizontal(id="progress-row"):
            yield Label("", id="progress-label")
            yield progress_bar(plain=self.omar.plain, id="progress", show_eta=False)
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.listing.recursive = self.omar.settings.include_subfolders
        self.query_one("#files", FileList).border_title = self.listing.title()
        self.query_one("#checks", ChecksPanel).border_title = "Checks"
        self.query_one("#log", UploadLog).border_title = "Upload log"
        self.update_header()
        self.update_header(subject=None, cert_note=READING_CERTIFICATE)
        self.query_one("#files", FileList).focus()
        # After the first frame: reading it loads ``cryptography`` (~20 ms).
        self.call_after_refresh(self.load_certificate)
        self.listing.start()
        self.set_interval(POLL_SECONDS, self.listing.poll)

    # -- header and certificate -------------------------------------------------

    def update_header(self, **changes: Any) -> None:
        """Redraw the header; with no changes, from the settings in force."""
        header = self.query_one("#header", OmarHeader)
        if not changes:
            env = self.environment()
            changes = {
                "environment": env.name,
                "base_url": env.base_url,
                "production": env.name == "production",
                "profile": self.omar.paths.profile,
            }
        header.info = replace(header.info, **changes)

    def environment(self) -> Environment:
        """The active environment (falls back to the settings' own choice)."""
        settings = self.omar.settings
        try:
            return settings.active_environment(self.omar.environment)
        except OmarError:
            return settings.active_environment()

    @work(thread=True, exclusive=True, group="certificate", exit_on_error=False)
    def load_certificate(self) -> None:
        """Read the certificate's subject and expiry off the UI thread.

        ``cryptography`` is loaded here; ``on_mount`` starts this only after
        the first frame is drawn, so start-up does not wait for it.
        """
        from omar_tui.tui.screens.certificate import header_certificate

        warning = None
        try:
            changes, warning = header_certificate(
                self.omar.settings, self.environment().name, self.sender.passphrase
            )
        except OmarError as exc:
            changes = {"subject": None, "days_left": None, "cert_note": exc.title}
        except Exception:
            log.exception("reading the certificate summary")
            changes = {"subject": None, "cert_note": "certificate: see the log file"}
        if warning:
            self.app.call_from_thread(
                self.app.notify,
                "Ask CAISO for a new certificate before it runs out.",
                title=warning,
                severity="warning",
                timeout=15,
            )
        self.app.call_from_thread(self.update_header, **changes)

    # -- details ----------------------------------------------------------------

    @on(FileList.Highlighted, "#files")
    def _highlighted(self, event: FileList.Highlighted) -> None:
        self.show_details(event.file)

    def show_details(self, file: PendingFile | None) -> None:
        """Show ``file``'s checks and first lines (read in a thread) in the panel."""
        panel = self.query_one("#checks", ChecksPanel)
        self._detail_path = None if file is None else file.path
        if file is None:
            panel.show(None)
            return
        preview = self._previews.get(file.path)
        panel.show(file, preview)
        if preview is None and file.report is not None:
            self._load_preview(file)

    def files_updated(self, files: list[PendingFile]) -> None:
        """The listing put these files in the table: refresh the panel if needed."""
        current = self.query_one("#files", FileList).highlighted
        if current is not None and (
            current.path != self._detail_path or any(f is current for f in files)
        ):
            self.show_details(current)

    def files_dropped(self, paths: list[Path]) -> None:
        """The listing removed these files from the table."""
        for path in paths:
            self._previews.pop(path, None)
        self.show_details(self.query_one("#files", FileList).highlighted)

    @work(thread=True, exclusive=True, group="preview", exit_on_error=False)
    def _load_preview(self, file: PendingFile) -> None:
        try:
            lines = read_preview(file.path)
        except OSError as exc:
            lines = [f"(cannot read: {exc.strerror or exc})"]
        if not get_current_worker().is_cancelled:
            self.app.call_from_thread(self._preview_loaded, file.path, lines)

    def _preview_loaded(self, path: Path, lines: list[str]) -> None:
        if len(self._previews) > 500:
            self._previews.clear()
        self._previews[path] = lines
        current = self.query_one("#files", FileList).highlighted
        if current is not None and current.path == path:
            self.query_one("#checks", ChecksPanel).show(current, lines)

    # -- marking and filtering -----------------------------------------------------

    def action_toggle_mark(self) -> None:
        """Mark or unmark the highlighted file, then move down."""
        table = self.query_one("#files", FileList)
        file = table.highlighted
        if file is None:
            return
        file.marked = not file.marked
        table.refresh_file(file)
        table.cursor_down()

    def action_mark_ready(self) -> None:
        """Mark every shown file that is ready to go (no findings)."""
        table = self.query_one("#files", FileList)
        count = 0
        for file in table.shown():
            if file.state is FileState.READY and not file.marked:
                file.marked = True
                count += 1
        table.refresh()
        marked = len(self.marked_files())
        self.notify(f"{count} ready files marked; {marked} marked in all.", timeout=3)

    def action_unmark_all(self) -> None:
        """Clear every mark."""
        for file in self.marked_files():
            file.marked = False
        self.query_one("#files", FileList).refresh()

    def marked_files(self) -> list[PendingFile]:
        """Marked files in name order, shown or filtered out."""
        files = self.query_one("#files", FileList).files.values()
        return sorted((f for f in files if f.marked), key=lambda f: f.label.lower())

    def action_filter(self) -> None:
        """Show the name filter and type into it."""
        field = self.query_one("#filter", Input)
        field.add_class("-visible")
        field.focus()

    @on(Input.Changed, "#filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        if self._filter_timer is not None:
            self._filter_timer.stop()
        table = self.query_one("#files", FileList)
        if len(table.files) < FILTER_DEBOUNCE_FROM:
            self._apply_filter()
        else:  # a big folder: filter once the typing pauses
            self._filter_timer = self.set_timer(FILTER_DEBOUNCE, self._apply_filter)

    def _apply_filter(self) -> None:
        self._filter_timer = None
        table = self.query_one("#files", FileList)
        table.set_filter(self.query_one("#filter", Input).value.strip())
        self.show_details(table.highlighted)

    @on(Input.Submitted, "#filter")
    def _filter_done(self, event: Input.Submitted) -> None:
        if not event.value.strip():
            self.query_one("#filter", Input).remove_class("-visible")
        self.query_one("#files", FileList).focus()

    def action_clear_filter(self) -> None:
        """Drop the name filter and go back to the list."""
        field = self.query_one("#filter", Input)
        if field.value:
            field.value = ""
            self.query_one("#files", FileList).set_filter("")
        field.remove_class("-visible")
        self.query_one("#files", FileList).focus()

    # -- the folder -----------------------------------------------------------------

    def action_refresh(self) -> None:
        """List the folder again and re-check every file."""
        self.listing.start(full=True)
        self.notify("Listing and checking the pending folder again.", timeout=3)

    def action_toggle_subfolders(self) -> None:
        """Include files in subfolders of the pending folder, or not."""
        self.listing.recursive = not self.listing.recursive
        self.query_one("#files", FileList).border_title = self.listing.title()
        self.listing.start()
        state = "shown" if self.listing.recursive else "hidden"
        self.notify(f"Files in subfolders are {state}.", timeout=3)

    def action_copy_file_id(self) -> None:
        """Copy the highlighted file's File Id (OSC 52) and show it."""
        from omar_tui.tui.clipboard import copy_text

        file = self.query_one("#files", FileList).highlighted
        file_id = file.file_id if file is not None else None
        if file is None or not file_id:
            self.notify("The highlighted file has no File Id yet.", severity="warning")
            return
        copy_text(self.app, file_id, "File Id")

    # -- other screens ---------------------------------------------------------------

    def action_history(self) -> None:
        """Past submissions of the active profile."""
        from omar_tui.tui.screens.history import HistoryScreen

        app = self.omar
        self.app.push_screen(HistoryScreen(app.history, profile=app.paths.profile))

    def action_certificate(self) -> None:
        """The certificate in full, and where omar-tui keeps its files."""
        from omar_tui.tui.screens.certificate import CertificateScreen

        app = self.omar
        self.app.push_screen(
            CertificateScreen(app.settings, app.paths, self.sender.passphrase)
        )

    def action_test_connection(self) -> None:
        """Run the doctor's steps on the settings in force; nothing is sent."""
        self._test_connection()

    @work(exclusive=True, group="main-test")
    async def _test_connection(self) -> None:
        from omar_tui.tui.screens.connection_test import run_connection_test

        settings = self.omar.settings
        if self.omar.environment is not None:  # --env chose another one for this run
            settings = replace(settings, environment=self.environment().name)
        await run_connection_test(self.app, settings, self.sender.passphrase)

    def action_settings(self) -> None:
        """Edit the settings; a saved change re-lists the folder."""
        from omar_tui.tui.screens.settings import SettingsScreen

        if self.sending:
            self.notify("Settings can be changed once the send is over.")
            return
        self.app.push_screen(
            SettingsScreen(settings=self.omar.settings, paths=self.omar.paths),
            callback=self._settings_closed,
        )

    def _settings_closed(self, saved: Settings | None) -> None:
        if saved is None:
            return
        self.omar.settings = saved
        self.omar.environment = None  # the saved choice wins over --env
        self.sender.passphrase = None
        self._previews.clear()
        self.listing.recursive = saved.include_subfolders
        self.update_header()
        self.update_header(subject=None, cert_note=READING_CERTIFICATE)
        self.load_certificate()
        self.listing.start(full=True)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Dim the keys that do nothing right now."""
        if action == "stop":
            return self.sending  # shown only while it means something
        if action == "send":
            return not self.sending
        if action == "settings":
            return not self.sending  # hidden during a send: room for x Stop
        return True

    # -- sending ----------------------------------------------------------------

    def action_send(self) -> None:
        """Send the marked files, or the highlighted one when none is marked."""
        if self.sending:
            self.notify("A send is already running; x stops it after the current file.")
            return
        files = self.marked_files()
        if not files:
            file = self.query_one("#files", FileList).highlighted
            files = [file] if file is not None else []
        if not files:
            self.notify("There is no file to send.", severity="warning")
            return
        self.sender.start(files)

    def action_stop(self) -> None:
        """Stop after the file in flight; it is never cut off mid-request."""
        if not self.sending:
            self.notify("Nothing is being sent.")
            return
        self.request_stop()

    def request_stop(self, *, then_quit: bool = False) -> None:
        """Finish the current file, send no more (and quit, if asked)."""
        self.sender.request_stop(then_quit=then_quit)

    # -- errors ------------------------------------------------------------------

    def show_error(self, exc: OmarError) -> None:
        """An operator-facing fault: a toast and a line in the upload log."""
        log.info("shown to the operator: %s", exc.title)
        self.notify(exc.hint or " ", title=exc.title, severity="error", timeout=12)
        self.query_one("#log", UploadLog).add_error(exc.title, exc.hint)

    def show_internal_error(self, what: str) -> None:
        """A bug: a toast and a log line naming the log file, never a traceback."""
        where = self.omar.paths.log_file
        self.notify(
            f"Details are in {where}.", title=what, severity="error", timeout=15
        )
        self.query_one("#log", UploadLog).add_error(what, f"Details are in {where}.")
