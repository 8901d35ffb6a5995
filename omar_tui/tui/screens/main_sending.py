"""The main screen's sending: one batch at a time, through the core's Sender.

The TUI sends by the CLI's rules because it uses the same
:class:`~omar_tui.core.sender.Sender`: this module only asks the operator's
questions (through :class:`~omar_tui.tui.screens.send_confirm.SendPlanner`),
opens the TLS context (asking for the passphrase, kept in memory for the
run), drives the progress bar and writes the upload log. The batch runs in
one exclusive async worker, so the screen stays responsive and a second send
cannot start while one runs.

Stopping is always "after the current file": a request in flight is never
cut off, since that would leave its outcome unknown.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from textual.widgets import Label, ProgressBar

from omar_tui.core.models import Outcome, Submission
from omar_tui.errors import OmarError
from omar_tui.tui.screens.send_confirm import Planned, SendPlanner
from omar_tui.tui.widgets.file_list import FileList, PendingFile
from omar_tui.tui.widgets.upload_log import UploadLog

if TYPE_CHECKING:
    import ssl

    from omar_tui.core.connection import Target
    from omar_tui.core.sender import Sender, SendEvent
    from omar_tui.tui.screens.main import MainScreen

log = logging.getLogger("omar_tui.tui")


class SendController:
    """Sends the files the operator confirms, one at a time.

    Args:
        screen: The main screen: its file list, upload log and progress row.
    """

    def __init__(self, screen: MainScreen) -> None:
        self.screen = screen
        self.sending = False
        """True while the send worker owns the files."""
        self.passphrase: str | None = None
        """Kept in memory for this run only; never logged or written."""
        self._sender: Sender | None = None
        self._stop_asked = False
        self._quit_after_send = False

    @property
    def log(self) -> UploadLog:
        return self.screen.query_one("#log", UploadLog)

    @property
    def table(self) -> FileList:
        return self.screen.query_one("#files", FileList)

    def start(self, files: list[PendingFile]) -> None:
        """Ask the questions, then send ``files`` in an exclusive worker."""
        self.sending = True
        self._stop_asked = False
        self.screen.refresh_bindings()
        self.screen.run_worker(
            self._flow(files), exclusive=True, group="send", exit_on_error=False
        )

    def request_stop(self, *, then_quit: bool = False) -> None:
        """Finish the current file, send no more (and quit, if asked)."""
        if not self.sending:
            if then_quit:
                self.screen.app.exit()
            return
        self._stop_asked = True
        self._quit_after_send = self._quit_after_send or then_quit
        if self._sender is not None:
            self._sender.request_stop()
        then = " and then quit" if then_quit else ""
        self.log.add(f"Stopping after the current file{then}.", style="bold")

    # -- the flow ----------------------------------------------------------------

    async def _flow(self, files: list[PendingFile]) -> None:
        upload_log = self.log
        app = self.screen.omar
        planner = SendPlanner(
            self.screen.app,
            app.settings,
            say=upload_log.add,
            fault=upload_log.add_error,
            history=app.history,
            environment=self.screen.environment().name,
            changed=self.table.refresh_file,
        )
        try:
            plan = await planner.plan(files)
            if not plan or self._stop_asked:
                upload_log.add("Nothing was sent.")
                return
            from omar_tui.core.connection import resolve_target

            target = resolve_target(app.settings, self.screen.environment().name)
            context = await self._ssl_context()
            if context is None:
                upload_log.add("Nothing was sent: no passphrase was given.")
                return
            if not await planner.confirm(plan, target):
                upload_log.add("Nothing was sent: cancelled at the confirmation.")
                return
            await self._send_all(planner, plan, target, context)
        except OmarError as exc:
            self.screen.show_error(exc)
        except Exception:
            log.exception("sending")
            self.screen.show_internal_error("Sending stopped on an internal error")
        finally:
            self._finished()

    def _finished(self) -> None:
        self.sending = False
        self._sender = None
        self.screen.query_one("#progress-row").remove_class("-active")
        table = self.table
        for file in table.files.values():
            if file.sending:
                file.sending = False
                table.refresh_file(file)
        self.screen.refresh_bindings()
        self.screen.show_details(table.highlighted)
        if self._quit_after_send:
            self.screen.app.exit()
        else:
            self.screen.omar.send_finished()
            self.screen.listing.run_held_back()

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

        settings = self.screen.omar.settings
        identity = require_identity(identity_from(settings))
        needs = await asyncio.to_thread(needs_passphrase, identity)
        if not needs:
            return await asyncio.to_thread(
                make_ssl_context, settings, identity=identity, passphrase=None
            )

        error: str | None = None
        while True:
            passphrase = self.passphrase
            if passphrase is None:
                label = str(
                    identity.key
                    if identity.key and not identity.is_pkcs12
                    else identity.cert
                )
                passphrase = await self.screen.app.push_screen_wait(
                    PassphraseScreen(label, error=error)
                )
                if passphrase is None:
                    return None
            try:
                context = await asyncio.to_thread(
                    make_ssl_context, settings, identity=identity, passphrase=passphrase
                )
            except CertificateError as exc:
                self.passphrase = None
                if "passphrase" not in exc.title.lower():
                    raise  # a broken file: no passphrase will help
                error = f"{exc.title}. Try again."
                continue
            first = self.passphrase is None
            self.passphrase = passphrase
            if first:
                self.screen.load_certificate()  # a PKCS#12 can now be summarised
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

        upload_log = self.log
        row = self.screen.query_one("#progress-row")
        bar = self.screen.query_one("#progress", ProgressBar)
        label = self.screen.query_one("#progress-label", Label)
        bar.update(total=len(plan), progress=0)
        row.add_class("-active")
        results: list[Submission] = []

        upload_log.add(
            f"Sending {len(plan)} file(s) to {target.environment} "
            f"({target.upload_url})."
        )
        app = self.screen.omar
        sender = Sender(
            settings=app.settings,
            history=app.history,
            target=target,
            ssl_context=context,
            lock_dir=app.paths.lock_dir,
            profile=app.paths.profile,
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
                result = await self._send_one(planner, sender, item)
                if result is not None:
                    results.append(result)
                bar.advance(1)
        self._summarise(results, target)

    async def _send_one(
        self, planner: SendPlanner, sender: Sender, item: Planned
    ) -> Submission | None:
        from omar_tui.core.sender import SendRequest

        table = self.table
        file = item.file
        file.sending = True
        table.refresh_file(file)
        try:
            report = await asyncio.to_thread(planner.recheck, item)
            if report.sha256 != item.sha256:
                self.log.add_error(
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
            self._note_accepted(result)
        table.refresh_file(file)
        if file is table.highlighted:
            self.screen.show_details(file)
        return result

    def _note_accepted(self, result: Submission) -> None:
        """Other files holding the same bytes are now 'sent before'."""
        table = self.table
        for other in table.files.values():
            if other.report is not None and other.report.sha256 == result.sha256:
                other.accepted_before = result
                other.unknown_before = None
                table.refresh_file(other)

    def _on_send_event(self, event: SendEvent) -> None:
        self.log.add_event(event)

    def _summarise(self, results: list[Submission], target: Target) -> None:
        counts: dict[Outcome, int] = {}
        for result in results:
            counts[result.outcome] = counts.get(result.outcome, 0) + 1
        if not counts:
            return
        parts = [f"{n} {outcome.value}" for outcome, n in counts.items()]
        upload_log = self.log
        upload_log.add(f"Done: {', '.join(parts)}.", style="bold")
        unknown = counts.get(Outcome.UNKNOWN, 0)
        if unknown:
            upload_log.add(
                f"{unknown} file(s) need a look in OMAR-Online ({target.base_url}): "
                "find them by name and time in its file list before sending again; "
                "the history (h) has the details.",
                style="bold yellow",
            )
            self.screen.notify(
                "Look them up in OMAR-Online before sending again.",
                title=f"{unknown} outcome(s) unknown",
                severity="warning",
                timeout=15,
            )
        accepted = counts.get(Outcome.ACCEPTED, 0)
        if accepted:
            self.screen.notify(
                "File Ids are in the upload log and the history; c copies one.",
                title=f"{accepted} file(s) accepted",
            )
