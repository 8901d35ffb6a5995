"""The main screen: pending files, the checks of the highlighted one, the log.

The screen does no checking or sending of its own: it lists the folder and
runs :func:`~omar_tui.core.checks.check_file` in a worker thread, and hands
the files the operator confirms to one :class:`~omar_tui.core.sender.Sender`
in an exclusive async worker, so the headless CLI and the TUI send by the
same rules. The questions before a send (shorter names, overrides, the last
look) are :class:`~omar_tui.tui.screens.send_confirm.SendPlanner`'s; this
screen adds the passphrase, kept in memory for the run, and the progress.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Container, Horizontal
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Footer, Input, Label, ProgressBar
from textual.worker import get_current_worker

from omar_tui.core.checks import check_file
from omar_tui.core.models import Outcome, Submission
from omar_tui.core.settings import Environment, Settings
from omar_tui.errors import OmarError
from omar_tui.tui.screens.send_confirm import Planned, SendPlanner
from omar_tui.tui.widgets.checks_panel import ChecksPanel, read_preview
from omar_tui.tui.widgets.file_list import (
    FileList,
    FileState,
    PendingFile,
    Stamp,
    diff_listing,
    list_folder,
)
from omar_tui.tui.widgets.header import OmarHeader
from omar_tui.tui.widgets.upload_log import UploadLog

if TYPE_CHECKING:
    import ssl

    from omar_tui.core.connection import Target
    from omar_tui.core.sender import Sender, SendEvent
    from omar_tui.tui.app import OmarApp

log = logging.getLogger("omar_tui.tui")

POLL_SECONDS = 3.0
"""How often the pending folder is listed again for new, changed or gone files."""
BATCH = 200
"""Files checked before the table is updated: few redraws, steady progress."""
BATCH_SECONDS = 0.25
"""...or this long, whichever comes first, so the first rows appear quickly."""

FILTER_DEBOUNCE = 0.2
FILTER_DEBOUNCE_FROM = 2000
"""With this many files or more, the filter waits for a pause in the typing."""


class MainScreen(Screen[None]):
    """Pending files, checks panel and upload log, driven by keys."""

    HELP_GROUP = "Main screen"

    HORIZONTAL_BREAKPOINTS = [  # noqa: RUF012 - Textual declares it per instance
        (0, "-narrow"),
        (120, "-wide"),
    ]

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("space", "toggle_mark", "Mark", id="main.mark"),
        Binding("a", "mark_ready", "All ready", id="main.mark_ready"),
        Binding("u", "unmark_all", "Unmark all", show=False, id="main.unmark_all"),
        Binding("s", "send", "Send", id="main.send"),
        Binding("x", "stop", "Stop", id="main.stop"),
        Binding("slash", "filter", "Filter", id="main.filter"),
        Binding("escape", "clear_filter", "Clear filter", show=False, id="main.clear"),
        Binding("r,f5", "refresh", "Refresh", show=False, id="main.refresh"),
        Binding(
            "t", "toggle_subfolders", "Subfolders", show=False, id="main.subfolders"
        ),
        Binding("c", "copy_file_id", "Copy File Id", show=False, id="main.copy"),
        Binding("h", "history", "History", id="main.history"),
        Binding("comma,e", "settings", "Settings", show=False, id="main.settings"),
        Binding("q", "app.quit", "Quit", id="main.quit"),
    ]

    def __init__(self) -> None:
        super().__init__(id="main")
        self.sending = False
        """True while the send worker owns the files."""
        self.recursive = False
        self._stamps: dict[Path, Stamp] = {}
        self._scanning = False
        self._rescan = False
        self._sender: Sender | None = None
        self._stop_asked = False
        self._quit_after_send = False
        self._passphrase: str | None = None
        """Kept in memory for this run only; never logged or written."""
        self._previews: dict[Path, list[str]] = {}
        self._folder_problem: str | None = None
        self._detail_path: Path | None = None
        self._filter_timer: Timer | None = None

    @property
    def omar(self) -> OmarApp:
        """The app, typed."""
        from omar_tui.tui.app import OmarApp

        assert isinstance(self.app, OmarApp)
        return self.app

    # -- layout -----------------------------------------------------------------

    def compose(self) -> ComposeResult:
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
            yield ProgressBar(id="progress", show_eta=False)
        yield Footer(compact=True)

    def on_mount(self) -> None:
        settings = self.omar.settings
        self.recursive = settings.include_subfolders
        self.query_one("#files", FileList).border_title = self._files_title()
        self.query_one("#checks", ChecksPanel).border_title = "Checks"
        self.query_one("#log", UploadLog).border_title = "Upload log"
        self._update_header()
        self.query_one("#files", FileList).focus()
        self.load_certificate()
        self.start_scan()
        self.set_interval(POLL_SECONDS, self._poll)

    # -- header and certificate -------------------------------------------------

    def _update_header(self, **changes: Any) -> None:
        header = self.query_one("#header", OmarHeader)
        if not changes:
            env = self._environment()
            changes = {
                "environment": env.name,
                "base_url": env.base_url,
                "production": env.name == "production",
            }
        header.info = replace(header.info, **changes)

    def _environment(self) -> Environment:
        """The active environment (falls back to the settings' own choice)."""
        settings = self.omar.settings
        try:
            return settings.active_environment(self.omar.environment)
        except OmarError:
            return settings.active_environment()

    @work(thread=True, exclusive=True, group="certificate", exit_on_error=False)
    def load_certificate(self) -> None:
        """Read the certificate's subject and expiry off the UI thread.

        ``cryptography`` is loaded here, after the first frame is drawn.
        """
        try:
            changes = self._certificate_info()
        except OmarError as exc:
            changes = {"subject": None, "days_left": None, "cert_note": exc.title}
        except Exception:
            log.exception("reading the certificate summary")
            changes = {"subject": None, "cert_note": "certificate: see the log file"}
        self.app.call_from_thread(self._update_header, **changes)

    def _certificate_info(self) -> dict[str, Any]:
        from omar_tui.core.certificates import expiry_warning, summarize
        from omar_tui.core.connection import identity_from, resolve_target
        from omar_tui.core.tls import needs_passphrase

        settings = self.omar.settings
        target = resolve_target(settings, self._environment().name)
        changes: dict[str, Any] = {"production": target.is_production}
        identity = identity_from(settings)
        if identity is None:
            changes["subject"] = None
            changes["cert_note"] = "no certificate configured (Settings: e)"
            return changes
        if (
            identity.is_pkcs12
            and self._passphrase is None
            and needs_passphrase(identity)
        ):
            changes["subject"] = None
            changes["cert_note"] = (
                f"certificate {identity.cert.name} is locked; "
                "its passphrase is asked when sending"
            )
            return changes

        summary = summarize(identity, self._passphrase)
        changes["subject"] = summary.subject
        changes["days_left"] = summary.days_left
        warning = expiry_warning(summary)
        if warning:
            self.app.call_from_thread(
                self.app.notify,
                "Ask CAISO for a new certificate before it runs out.",
                title=warning,
                severity="warning",
                timeout=15,
            )
        return changes

    # -- listing and checking ----------------------------------------------------

    def _files_title(self) -> str:
        folder = self.omar.settings.pending_folder
        where = str(folder) if folder else "no pending folder set"
        sub = " +subfolders" if self.recursive else ""
        return f"Pending files: {where}{sub}"

    def _poll(self) -> None:
        self.query_one("#files", FileList).refresh_ages()
        if not self.sending:
            self.start_scan()

    def start_scan(self, *, full: bool = False) -> None:
        """List the folder again (in a thread); ``full`` re-checks every file."""
        if self._scanning or self.sending:
            # One scan at a time; none during a send, whose rows must stay put.
            self._rescan = self._rescan or full
            return
        self._scanning = True
        known = dict(self._stamps)
        if full:  # an impossible stamp: every file counts as changed
            known = dict.fromkeys(known, (-1, -1.0))
        self._scan(known, self.recursive)

    @work(thread=True, group="scan", exit_on_error=False)
    def _scan(self, known: dict[Path, Stamp], recursive: bool) -> None:
        try:
            self._scan_folder(known, recursive)
        except Exception:
            log.exception("listing the pending folder")
            self.app.call_from_thread(
                self._show_internal_error, "Listing the pending folder failed"
            )
        finally:
            self.app.call_from_thread(self._scan_done)

    def _scan_folder(self, known: dict[Path, Stamp], recursive: bool) -> None:
        worker = get_current_worker()
        settings = self.omar.settings
        root = settings.pending_folder
        if root is None:
            self.app.call_from_thread(
                self._folder_state,
                {},
                "No pending folder is set: press e for Settings.",
            )
            return
        try:
            listing = list_folder(root, recursive=recursive)
        except OSError as exc:
            self.app.call_from_thread(
                self._folder_state,
                {},
                f"Cannot read the pending folder {root}: {exc.strerror or exc}",
            )
            return

        fresh, gone = diff_listing(known, listing)
        self.app.call_from_thread(self._folder_state, listing, None)
        if gone:
            self.app.call_from_thread(self._drop, gone)

        # Names first, so the list fills at once; then the checks, in batches.
        fresh.sort(key=lambda path: str(path).lower())
        placeholders = [self._pending(root, path, listing[path]) for path in fresh]
        if placeholders:
            self.app.call_from_thread(self._put, placeholders)

        environment = self._environment().name
        batch: list[PendingFile] = []
        last = time.monotonic()
        for file in placeholders:
            if worker.is_cancelled:
                return
            batch.append(self._checked(file, root, environment))
            if len(batch) >= BATCH or time.monotonic() - last > BATCH_SECONDS:
                self.app.call_from_thread(self._put, batch)
                batch, last = [], time.monotonic()
        if batch:
            self.app.call_from_thread(self._put, batch)

    @staticmethod
    def _pending(root: Path, path: Path, stamp: Stamp) -> PendingFile:
        try:
            label = str(path.relative_to(root))
        except ValueError:
            label = path.name
        return PendingFile(path=path, label=label, size=stamp[0], mtime=stamp[1])

    def _checked(self, file: PendingFile, root: Path, environment: str) -> PendingFile:
        """Check one file (worker thread); the bytes are not kept."""
        settings = self.omar.settings
        report = check_file(file.path, limits=settings.limits, pending_root=root)
        prior = None
        if report.sha256 is not None:
            prior = self.omar.history.find_accepted(report.sha256, environment)
        size = report.size if report.size is not None else file.size
        mtime = report.mtime if report.mtime is not None else file.mtime
        return replace(
            file,
            report=replace(report, data=None),
            accepted_before=prior,
            size=size,
            mtime=mtime,
        )

    def _folder_state(self, listing: dict[Path, Stamp], problem: str | None) -> None:
        self._stamps = listing
        if problem != self._folder_problem:
            self._folder_problem = problem
            if problem:
                self.query_one("#log", UploadLog).add_error(problem)
        if problem and not listing:
            self._drop(list(self.query_one("#files", FileList).files))

    def _put(self, files: list[PendingFile]) -> None:
        table = self.query_one("#files", FileList)
        merged = []
        for file in files:
            old = table.files.get(file.path)
            if old is not None:
                # Keep what the operator and this run know about the file.
                if file.report is None:
                    continue  # a placeholder for a file already shown
                file.marked = old.marked
                file.sending = old.sending
                if (old.size, old.mtime) == (file.size, file.mtime):
                    file.last_result = old.last_result
            merged.append(file)
        table.put(merged)
        current = table.highlighted
        if current is not None and (
            current.path != self._detail_path or any(f is current for f in merged)
        ):
            self._show_details(current)

    def _drop(self, paths: list[Path]) -> None:
        table = self.query_one("#files", FileList)
        table.drop(paths)
        for path in paths:
            self._previews.pop(path, None)
        self._show_details(table.highlighted)

    def _scan_done(self) -> None:
        self._scanning = False
        self.query_one("#files", FileList).border_title = self._files_title()
        if self._rescan:
            self._rescan = False
            self.start_scan(full=True)

    # -- details ----------------------------------------------------------------

    @on(FileList.Highlighted, "#files")
    def _highlighted(self, event: FileList.Highlighted) -> None:
        self._show_details(event.file)

    def _show_details(self, file: PendingFile | None) -> None:
        panel = self.query_one("#checks", ChecksPanel)
        self._detail_path = None if file is None else file.path
        if file is None:
            panel.show(None)
            return
        preview = self._previews.get(file.path)
        panel.show(file, preview)
        if preview is None and file.report is not None:
            self._load_preview(file)

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
        self._show_details(table.highlighted)

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

    def action_refresh(self) -> None:
        """List the folder again and re-check every file."""
        self.start_scan(full=True)
        self.notify("Listing and checking the pending folder again.", timeout=3)

    def action_toggle_subfolders(self) -> None:
        """Include files in subfolders of the pending folder, or not."""
        self.recursive = not self.recursive
        self.query_one("#files", FileList).border_title = self._files_title()
        self.start_scan()
        state = "shown" if self.recursive else "hidden"
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

    def action_history(self) -> None:
        """Past submissions."""
        from omar_tui.tui.screens.history import HistoryScreen

        self.app.push_screen(HistoryScreen(history=self.omar.history))

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
        self._passphrase = None
        self._previews.clear()
        self.recursive = saved.include_subfolders
        self._update_header()
        self.load_certificate()
        self.start_scan(full=True)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Dim the keys that do nothing right now."""
        if action == "stop":
            return self.sending  # shown only while it means something
        if action == "send":
            return not self.sending
        if action == "settings":
            return None if self.sending else True
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
        self.sending = True
        self._stop_asked = False
        self.refresh_bindings()
        self._send_flow(files)

    def action_stop(self) -> None:
        """Stop after the file in flight; it is never cut off mid-request."""
        if not self.sending:
            self.notify("Nothing is being sent.")
            return
        self.request_stop()

    def request_stop(self, *, then_quit: bool = False) -> None:
        """Finish the current file, send no more (and quit, if asked)."""
        if not self.sending:
            if then_quit:
                self.app.exit()
            return
        self._stop_asked = True
        self._quit_after_send = self._quit_after_send or then_quit
        if self._sender is not None:
            self._sender.request_stop()
        then = " and then quit" if then_quit else ""
        self.query_one("#log", UploadLog).add(
            f"Stopping after the current file{then}.", style="bold"
        )

    @work(exclusive=True, group="send", exit_on_error=False)
    async def _send_flow(self, files: list[PendingFile]) -> None:
        upload_log = self.query_one("#log", UploadLog)
        planner = SendPlanner(
            self.app,
            self.omar.settings,
            say=upload_log.add,
            fault=upload_log.add_error,
        )
        try:
            plan = await planner.plan(files)
            if not plan or self._stop_asked:
                upload_log.add("Nothing was sent.")
                return
            from omar_tui.core.connection import resolve_target

            target = resolve_target(self.omar.settings, self._environment().name)
            context = await self._ssl_context()
            if context is None:
                upload_log.add("Nothing was sent: no passphrase was given.")
                return
            if not await planner.confirm(plan, target):
                upload_log.add("Nothing was sent: cancelled at the confirmation.")
                return
            await self._send_all(planner, plan, target, context)
        except OmarError as exc:
            self.show_error(exc)
        except Exception:
            log.exception("sending")
            self._show_internal_error("Sending stopped on an internal error")
        finally:
            self._send_finished()

    def _send_finished(self) -> None:
        self.sending = False
        self._sender = None
        self.query_one("#progress-row").remove_class("-active")
        table = self.query_one("#files", FileList)
        for file in table.files.values():
            if file.sending:
                file.sending = False
                table.refresh_file(file)
        self.refresh_bindings()
        self._show_details(table.highlighted)
        if self._quit_after_send:
            self.app.exit()
        elif self._rescan:
            self._rescan = False
            self.start_scan(full=True)

    async def _ssl_context(self) -> ssl.SSLContext | None:
        """The TLS context, asking for the passphrase until it opens the key."""
        from omar_tui.core.connection import (
            identity_from,
            make_ssl_context,
            require_identity,
        )
        from omar_tui.core.tls import needs_passphrase
        from omar_tui.errors import CertificateError
        from omar_tui.tui.screens.passphrase import PassphraseScreen

        settings = self.omar.settings
        identity = require_identity(identity_from(settings))
        needs = await asyncio.to_thread(needs_passphrase, identity)
        if not needs:
            return await asyncio.to_thread(
                make_ssl_context, settings, identity=identity, passphrase=None
            )

        error: str | None = None
        while True:
            passphrase = self._passphrase
            if passphrase is None:
                label = str(
                    identity.key
                    if identity.key and not identity.is_pkcs12
                    else identity.cert
                )
                passphrase = await self.app.push_screen_wait(
                    PassphraseScreen(label, error=error)
                )
                if passphrase is None:
                    return None
            try:
                context = await asyncio.to_thread(
                    make_ssl_context, settings, identity=identity, passphrase=passphrase
                )
            except CertificateError as exc:
                self._passphrase = None
                if "passphrase" not in exc.title.lower():
                    raise  # a broken file: no passphrase will help
                error = f"{exc.title}. Try again."
                continue
            first = self._passphrase is None
            self._passphrase = passphrase
            if first:
                self.load_certificate()  # a PKCS#12 can now be summarised
            return context

    async def _send_all(
        self,
        planner: SendPlanner,
        plan: list[Planned],
        target: Target,
        context: ssl.SSLContext,
    ) -> None:
        """Send the planned files one at a time through one session."""
        from omar_tui.core.sender import Sender

        upload_log = self.query_one("#log", UploadLog)
        row = self.query_one("#progress-row")
        bar = self.query_one("#progress", ProgressBar)
        label = self.query_one("#progress-label", Label)
        bar.update(total=len(plan), progress=0)
        row.add_class("-active")
        results: list[Submission] = []

        upload_log.add(
            f"Sending {len(plan)} file(s) to {target.environment} "
            f"({target.upload_url})."
        )
        sender = Sender(
            settings=self.omar.settings,
            history=self.omar.history,
            target=target,
            ssl_context=context,
            lock_dir=self.omar.paths.lock_dir,
            profile=self.omar.paths.profile,
            listener=self._on_send_event,
        )
        async with sender:
            self._sender = sender
            if self._stop_asked:
                sender.request_stop()
            await sender.open_session()
            for number, item in enumerate(plan, 1):
                if sender.stop_requested:
                    left = len(plan) - number + 1
                    upload_log.add(
                        f"Stopped: {left} file(s) were not sent.", style="bold"
                    )
                    break
                label.update(f"{number}/{len(plan)} {item.name_sent}")
                result = await self._send_one(planner, sender, item, target)
                if result is not None:
                    results.append(result)
                bar.advance(1)
        self._summarise(results, target)

    async def _send_one(
        self, planner: SendPlanner, sender: Sender, item: Planned, target: Target
    ) -> Submission | None:
        from omar_tui.core.sender import SendRequest

        table = self.query_one("#files", FileList)
        upload_log = self.query_one("#log", UploadLog)
        file = item.file
        file.sending = True
        table.refresh_file(file)
        try:
            report = await asyncio.to_thread(planner.recheck, item)
            if report.sha256 != item.sha256:
                upload_log.add_error(
                    f"{file.label} changed after you confirmed it; not sent.",
                    "Check it again (r) and send it again if it is right.",
                )
                return None
            result = await sender.send(
                SendRequest(
                    report,
                    name=item.name,
                    allow_resend=item.allow_resend,
                    override_block=item.override_block,
                )
            )
        finally:
            file.sending = False
        file.last_result = result
        file.marked = False  # done with, whatever the outcome
        live = table.files.get(file.path)
        if live is not None and live is not file:  # re-listed meanwhile
            live.sending, live.last_result, live.marked = False, result, False
            file = live
        if result.outcome is Outcome.ACCEPTED:
            self._note_accepted(result, target)
        table.refresh_file(file)
        if file is table.highlighted:
            self._show_details(file)
        return result

    def _note_accepted(self, result: Submission, target: Target) -> None:
        """Other files holding the same bytes are now 'sent before'."""
        table = self.query_one("#files", FileList)
        for other in table.files.values():
            if other.report is not None and other.report.sha256 == result.sha256:
                other.accepted_before = result
                table.refresh_file(other)

    def _on_send_event(self, event: SendEvent) -> None:
        self.query_one("#log", UploadLog).add_event(event)

    def _summarise(self, results: list[Submission], target: Target) -> None:
        counts: dict[Outcome, int] = {}
        for result in results:
            counts[result.outcome] = counts.get(result.outcome, 0) + 1
        if not counts:
            return
        parts = [f"{n} {outcome.value}" for outcome, n in counts.items()]
        upload_log = self.query_one("#log", UploadLog)
        upload_log.add(f"Done: {', '.join(parts)}.", style="bold")
        unknown = counts.get(Outcome.UNKNOWN, 0)
        if unknown:
            upload_log.add(
                f"{unknown} file(s) need a look in OMAR-Online ({target.base_url}): "
                "find them by name and time in its file list before sending again; "
                "the history (h) has the details.",
                style="bold yellow",
            )
            self.notify(
                "Look them up in OMAR-Online before sending again.",
                title=f"{unknown} outcome(s) unknown",
                severity="warning",
                timeout=15,
            )
        accepted = counts.get(Outcome.ACCEPTED, 0)
        if accepted:
            self.notify(
                "File Ids are in the upload log and the history; c copies one.",
                title=f"{accepted} file(s) accepted",
            )

    # -- errors ------------------------------------------------------------------

    def show_error(self, exc: OmarError) -> None:
        """An operator-facing fault: a toast and a line in the upload log."""
        log.info("shown to the operator: %s", exc.title)
        self.notify(exc.hint or " ", title=exc.title, severity="error", timeout=12)
        self.query_one("#log", UploadLog).add_error(exc.title, exc.hint)

    def _show_internal_error(self, what: str) -> None:
        where = self.omar.paths.log_file
        self.notify(
            f"Details are in {where}.", title=what, severity="error", timeout=15
        )
        self.query_one("#log", UploadLog).add_error(what, f"Details are in {where}.")
