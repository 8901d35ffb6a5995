"""The last look before files leave, and the yes/no questions around a send.

:class:`SendConfirmScreen` lists every file with its size and the name it
goes under, and names the environment and the address. Production is drawn
in red with the word PRODUCTION, and the operator must type the
environment's name before the Send button works: a habit of pressing Enter
must not be enough to send to the live market.

:class:`ConfirmScreen` asks one question (send a blocked file anyway, quit
while a file is in flight); the safe answer has the focus.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Static

from omar_tui.tui.widgets.file_list import format_size

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

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(event.button.id == "question-yes")

    def action_no(self) -> None:
        """The safe answer."""
        self.dismiss(False)
