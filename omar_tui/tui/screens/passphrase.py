"""The passphrase dialog: asked once per run, kept in memory only.

The caller tries the passphrase and, when it is wrong, opens the dialog
again with the error shown. The typed text is masked, never logged, and the
dialog keeps no copy once it has handed it back.
"""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Static


class PassphraseScreen(ModalScreen[str | None]):
    """Ask for the certificate's passphrase; ``None`` when the operator cancels.

    Args:
        label: The file the passphrase opens.
        error: Why the last passphrase was refused, shown above the field.
    """

    HELP_GROUP = "Passphrase"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="passphrase.cancel")
    ]

    def __init__(self, label: str, *, error: str | None = None) -> None:
        super().__init__(classes="dialog-screen")
        self._label = label
        self._error = error

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog") as dialog:
            dialog.border_title = "Certificate passphrase"
            yield Static(
                f"The certificate {self._label} is protected by a passphrase. "
                "It is kept in memory for this run only, never saved.",
                classes="dialog-text",
            )
            if self._error:
                yield Static(self._error, id="passphrase-error", classes="dialog-error")
            yield Input(password=True, placeholder="passphrase", id="passphrase-input")
            with Horizontal(classes="dialog-buttons"):
                yield Button(
                    "Unlock", variant="primary", id="passphrase-ok", compact=True
                )
                yield Button("Cancel", id="passphrase-cancel", compact=True)

    def on_mount(self) -> None:
        self.query_one("#passphrase-input", Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self._submit()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "passphrase-ok":
            self._submit()
        else:
            self.dismiss(None)

    def action_cancel(self) -> None:
        """Close without a passphrase: nothing is sent."""
        self.dismiss(None)

    def _submit(self) -> None:
        field = self.query_one("#passphrase-input", Input)
        value = field.value
        field.value = ""
        self.dismiss(value)
