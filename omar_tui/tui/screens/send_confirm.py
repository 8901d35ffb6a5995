"""The conversation before files leave: names, overrides, the last look.

:class:`SendPlanner` walks the operator through a batch: a file whose name
the server would refuse gets a shorter one (:class:`RenameScreen`), blocked
files and bytes already accepted go only after an explicit "yes" naming the
reason (:class:`ConfirmScreen`, where the safe answer has the focus), and
:class:`SendConfirmScreen` lists every file with its size and the name it
goes under, and names the environment and the address. Production is drawn
in red with the word PRODUCTION, and the operator must type the
environment's name before the Send button works: a habit of pressing Enter
must not be enough to send to the live market.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Static

from omar_tui.core.checks import check_file, suggest_short_name
from omar_tui.core.models import CheckReport, Outcome
from omar_tui.core.settings import Settings
from omar_tui.tui.widgets.file_list import PendingFile, format_size

if TYPE_CHECKING:
    from textual.app import App

    from omar_tui.core.connection import Target
    from omar_tui.core.history import History

MAX_LISTED = 200
"""Files named one by one in the dialog; the rest are counted."""


@dataclass(frozen=True, slots=True)
class ConfirmItem:
    """One file as the confirmation dialog lists it."""

    label: str
    """The file as the pending list shows it."""
    size: int
    name_sent: str
    note: str = ""
    """An override the operator chose ("blocked: sent anyway", "resend")."""


class SendConfirmScreen(ModalScreen[bool]):
    """Show what will be sent where; ``True`` to send.

    Args:
        items: The files, in the order they will go.
        environment: The target environment's name.
        url: The address files are posted to.
        production: Draw the production warning and ask for the name typed.
    """

    HELP_GROUP = "Confirm sending"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="confirm.cancel")
    ]

    def __init__(
        self,
        items: list[ConfirmItem],
        *,
        environment: str,
        url: str,
        production: bool,
    ) -> None:
        classes = "dialog-screen -production" if production else "dialog-screen"
        super().__init__(classes=classes)
        self._items = items
        self._environment = environment
        self._url = url
        self._production = production

    def compose(self) -> ComposeResult:
        total = sum(item.size for item in self._items)
        count = len(self._items)
        with Vertical(classes="dialog", id="send-dialog") as dialog:
            dialog.border_title = "Send to PRODUCTION" if self._production else "Send"
            yield Static(self._target_text(), id="send-target")
            with VerticalScroll(id="send-files"):
                yield Static(self._files_table(), id="send-files-table")
            files = "file" if count == 1 else "files"
            yield Static(
                f"{count} {files}, {total:,} bytes, sent one at a time.",
                id="send-total",
            )
            if self._production:
                yield Static(
                    Text(
                        f"Type {self._environment} to send to the live market.",
                        style="bold red",
                    )
                )
                yield Input(placeholder=self._environment, id="send-typed")
            with Horizontal(classes="dialog-buttons"):
                yield Button(
                    "Send",
                    variant="error" if self._production else "primary",
                    id="send-ok",
                    disabled=self._production,
                    compact=True,
                )
                yield Button("Cancel", id="send-cancel", compact=True)

    def _target_text(self) -> Text:
        text = Text()
        if self._production:
            text.append(" PRODUCTION ", style="bold white on red")
            text.append(
                " live OMAR-Online: these files reach Settlements.\n", "bold red"
            )
        else:
            text.append(f"Environment: {self._environment}\n", style="bold")
        text.append(f"To: {self._url}")
        return text

    def _files_table(self) -> Table:
        table = Table.grid(padding=(0, 1), expand=True)
        table.add_column(no_wrap=True, overflow="ellipsis", ratio=1)
        table.add_column(justify="right", no_wrap=True)
        for item in self._items[:MAX_LISTED]:
            table.add_row(Text(item.label), format_size(item.size))
            if item.name_sent != item.label.rsplit("/", 1)[-1]:
                table.add_row(Text(f"  sent as {item.name_sent}", style="bold"), "")
            if item.note:
                table.add_row(Text(f"  {item.note}", style="yellow"), "")
        rest = len(self._items) - MAX_LISTED
        if rest > 0:
            table.add_row(Text(f"... and {rest:,} more", style="dim"), "")
        return table

    def on_mount(self) -> None:
        if self._production:
            self.query_one("#send-typed", Input).focus()
        else:
            self.query_one("#send-ok", Button).focus()

    def on_input_changed(self, event: Input.Changed) -> None:
        self.query_one("#send-ok", Button).disabled = not self._typed_ok()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if self._typed_ok():
            self.dismiss(True)
        else:
            self.notify(
                f"Type {self._environment} exactly to send, or Esc to cancel.",
                severity="warning",
            )

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "send-ok" and self._typed_ok():
            self.dismiss(True)
        elif event.button.id == "send-cancel":
            self.dismiss(False)

    def action_cancel(self) -> None:
        """Send nothing."""
        self.dismiss(False)

    def _typed_ok(self) -> bool:
        if not self._production:
            return True
        return self.query_one("#send-typed", Input).value.strip() == self._environment


class ConfirmScreen(ModalScreen[bool]):
    """One yes/no question; ``True`` for yes. The "no" button has the focus.

    Args:
        title: The dialog's title.
        body: The question, naming the files and the reason.
        yes: Label of the button that goes ahead.
        no: Label of the safe button.
    """

    HELP_GROUP = "Question"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "no", "Cancel", id="question.cancel")
    ]

    def __init__(self, title: str, body: Text | str, *, yes: str, no: str) -> None:
        super().__init__(classes="dialog-screen")
        self._title = title
        self._body = body
        self._yes = yes
        self._no = no

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog") as dialog:
            dialog.border_title = self._title
            with VerticalScroll(id="question-body"):
                yield Static(self._body, classes="dialog-text")
            with Horizontal(classes="dialog-buttons"):
                yield Button(
                    self._yes, variant="warning", id="question-yes", compact=True
                )
                yield Button(
                    self._no, variant="primary", id="question-no", compact=True
                )

    def on_mount(self) -> None:
        self.query_one("#question-no", Button).focus()

    def rephrase(self, title: str, body: Text | str, *, yes: str, no: str) -> None:
        """Ask another question in the same dialog (the situation changed).

        The answer still goes to the callback the dialog was pushed with.
        """
        self._title, self._body, self._yes, self._no = title, body, yes, no
        if not self.is_mounted:
            return
        self.query_one(".dialog", Vertical).border_title = title
        self.query_one(".dialog-text", Static).update(body)
        self.query_one("#question-yes", Button).label = yes
        self.query_one("#question-no", Button).label = no

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(event.button.id == "question-yes")

    def action_no(self) -> None:
        """The safe answer."""
        self.dismiss(False)


RENAME_RULES = frozenset({"name-length", "name-chars", "name-encoding", "name-empty"})
"""Errors a different name cures: the file may go under a name the operator types."""

MAX_NAMED = 50
"""Files named one by one in an override question; the rest are counted."""


@dataclass(slots=True)
class Planned:
    """A file the operator decided to send, with the choices made for it."""

    file: PendingFile
    sha256: str
    """The bytes the operator saw; different bytes at send time are not sent."""
    name: str | None = None
    """A shorter name typed by the operator, or ``None`` for the file's own."""
    override_block: bool = False
    allow_resend: bool = False
    note: str = ""
    """Why the file needed an override, shown in the confirmation."""

    @property
    def name_sent(self) -> str:
        return self.name or self.file.path.name


class SendPlanner:
    """Asks the operator every question a batch needs before it may leave.

    Args:
        app: The running app; dialogs are pushed on it (from a worker).
        settings: Limits and the pending folder, for re-checking files.
        say: Writes a line to the upload log.
        fault: Writes a fault (title, hint) to the upload log.
        history: Looked up afresh for every file: bytes accepted, or whose
            last attempt ended unknown, since the folder was checked.
        environment: The environment the files go to (history lookups).
        changed: Redraws a file whose row the lookup changed.
    """

    def __init__(
        self,
        app: App[object],
        settings: Settings,
        *,
        say: Callable[[str], None],
        fault: Callable[[str, str], None],
        history: History | None = None,
        environment: str = "",
        changed: Callable[[PendingFile], None] | None = None,
    ) -> None:
        self.app = app
        self.settings = settings
        self._say = say
        self._fault = fault
        self._history = history
        self._environment = environment
        self._changed = changed

    async def plan(self, files: list[PendingFile]) -> list[Planned]:
        """Decide, with the operator, what goes and under which name."""
        plan: list[Planned] = []
        blocked: list[Planned] = []
        resends: list[Planned] = []
        unknowns: list[Planned] = []
        for file in files:
            report = file.report
            if report is None or report.sha256 is None:
                why = "still being checked" if report is None else reasons(report)
                self._fault(f"{file.label} cannot be sent: {why}", "")
                continue
            item = Planned(file=file, sha256=report.sha256)
            if any(f.rule in RENAME_RULES for f in report.errors):
                renamed = await self._rename(item, report)
                if renamed is None:
                    self._say(f"{file.label} skipped: no name to send it under.")
                    continue
                report = renamed
            if report.sha256 != item.sha256:
                self._fault(f"{file.label} changed.", "Check it again (r).")
                continue
            if report.blocked:
                blocked.append(item)
                item.note = reasons(report)
            self._look_up(file, item.sha256)
            if file.unknown_before is not None:
                unknowns.append(item)
            if file.accepted_before is not None:
                resends.append(item)
            plan.append(item)

        if blocked:
            if await self._override(
                "Send blocked files?",
                "These files break a rule and are normally not sent:",
                blocked,
                "Send anyway",
                _blocked_detail,
            ):
                for item in blocked:
                    item.override_block = True
                    item.note = f"BLOCKED, sent anyway: {item.note}"
            else:
                plan = [p for p in plan if p not in blocked]
                self._say(f"{len(blocked)} blocked file(s) not sent.")

        unknowns = [p for p in unknowns if p in plan]
        if unknowns:
            if await self._override(
                "Outcome unknown: check OMAR-Online first",
                "The last attempt to send these exact bytes may have reached "
                "OMAR-Online: its outcome is unknown. Look each file up in "
                "OMAR-Online (by name and time) first; sending again could "
                "deliver the same data twice.",
                unknowns,
                "Send anyway",
                _unknown_detail,
            ):
                for item in unknowns:
                    item.allow_resend = True
                    item.note = _noted(item.note, "last outcome unknown: sent anyway")
            else:
                plan = [p for p in plan if p not in unknowns]
                self._say(
                    f"{len(unknowns)} file(s) whose last outcome is unknown not "
                    "sent: look them up in OMAR-Online first."
                )

        resends = [p for p in resends if p in plan]
        if resends:
            if await self._override(
                "Send the same bytes again?",
                "These exact bytes were already accepted in this environment:",
                resends,
                "Send again",
                _accepted_detail,
            ):
                for item in resends:
                    item.allow_resend = True
                    item.note = _noted(item.note, "already accepted: sent again")
            else:
                plan = [p for p in plan if p not in resends]
                self._say(f"{len(resends)} already accepted file(s) not sent.")
        return plan

    def _look_up(self, file: PendingFile, sha256: str) -> None:
        """Bring the file's earlier acceptance and unknown attempt up to date."""
        if self._history is None:
            return
        latest = self._history.find_latest(sha256, self._environment)
        unknown = None
        if latest is not None and latest.outcome is Outcome.UNKNOWN:
            unknown = latest
        accepted = file.accepted_before
        if latest is not None and latest.outcome is Outcome.ACCEPTED:
            accepted = latest
        if (unknown, accepted) != (file.unknown_before, file.accepted_before):
            file.unknown_before, file.accepted_before = unknown, accepted
            if self._changed is not None:
                self._changed(file)

    async def confirm(self, plan: list[Planned], target: Target) -> bool:
        """The last look: every file, the environment and the address."""
        items = [
            ConfirmItem(
                label=p.file.label,
                size=p.file.size,
                name_sent=p.name_sent,
                note=p.note,
            )
            for p in plan
        ]
        answer: bool = await self.app.push_screen_wait(
            SendConfirmScreen(
                items,
                environment=target.environment,
                url=target.upload_url,
                production=target.is_production,
            )
        )
        return answer

    def recheck(self, item: Planned) -> CheckReport:
        """Read and check the file again, under the name it will be sent as.

        Runs in a worker thread; the report holds the bytes to send.
        """
        return check_file(
            item.file.path,
            limits=self.settings.limits,
            pending_root=self.settings.pending_folder,
            name=item.name,
        )

    async def _rename(self, item: Planned, report: CheckReport) -> CheckReport | None:
        """Ask for a name the server takes; the file is re-checked under it."""
        from omar_tui.tui.screens.rename import RenameScreen

        limits = self.settings.limits
        reason = " ".join(f.message for f in report.errors if f.rule in RENAME_RULES)
        name = await self.app.push_screen_wait(
            RenameScreen(
                item.file.path.name,
                reason=reason,
                suggestion=suggest_short_name(item.file.path.name, limits.max_name),
                limits=limits,
            )
        )
        if not name:
            return None
        item.name = name
        return await asyncio.to_thread(self.recheck, item)

    async def _override(
        self,
        title: str,
        intro: str,
        items: list[Planned],
        yes: str,
        detail: Callable[[Planned], str],
    ) -> bool:
        """One question for a group of files; the safe answer has the focus."""
        body = Text(intro + "\n", style="bold")
        for item in items[:MAX_NAMED]:
            body.append(f"\n{item.file.label}", style="bold")
            body.append(f"\n  {detail(item)}")
        if len(items) > MAX_NAMED:
            body.append(f"\n... and {len(items) - MAX_NAMED} more")
        answer: bool = await self.app.push_screen_wait(
            ConfirmScreen(title, body, yes=yes, no="Skip them")
        )
        return answer


def _blocked_detail(item: Planned) -> str:
    return item.note


def _unknown_detail(item: Planned) -> str:
    last = item.file.unknown_before
    if last is None:
        return ""
    return (
        f"last attempt {last.started_at} as {last.name_sent} "
        f"(history record {last.id}): outcome unknown"
    )


def _accepted_detail(item: Planned) -> str:
    prior = item.file.accepted_before
    if prior is None:
        return ""
    when = prior.finished_at or prior.started_at
    return f"accepted {when}, File Id {prior.file_id}"


def _noted(note: str, more: str) -> str:
    return f"{note}; {more}" if note else more


def reasons(report: CheckReport) -> str:
    """The errors that block a report, in one line."""
    return "; ".join(f.message for f in report.errors) or "it cannot be read"
