"""Send a file under a shorter name, typed by the operator.

OMAR-Online takes names of at most 40 characters (SPEC.md R10). A file named
longer on disk keeps its name there and travels under the name typed here;
the history keeps both. The field is filled with a suggestion and checked as
the operator types, so a name the server would refuse cannot be accepted.
"""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Static

from omar_tui.core.checks import check_name
from omar_tui.core.models import Limits, Severity


class RenameScreen(ModalScreen[str | None]):
    """Ask for the name to send a file under; ``None`` skips the file.

    Args:
        name: The file's own name.
        reason: Why it cannot go under that name.
        suggestion: Pre-filled in the field.
        limits: The name limit to check against.
    """

    HELP_GROUP = "Send under another name"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "skip", "Skip this file", id="rename.skip")
    ]

    def __init__(
        self, name: str, *, reason: str, suggestion: str, limits: Limits
    ) -> None:
        super().__init__(classes="dialog-screen")
        self._file_name = name
        self._reason = reason
        self._suggestion = suggestion
        self._limits = limits

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog") as dialog:
            dialog.border_title = "Send under another name"
            yield Static(
                Text.assemble(
                    ("File: ", "bold"),
                    f"{self._file_name} ({len(self._file_name)} characters)\n",
                    (self._reason, "red"),
                    "\nThe file keeps its name on disk; OMAR-Online gets the name "
                    "below, and the history records both.",
                ),
                classes="dialog-text",
            )
            yield Input(self._suggestion, id="rename-input")
            yield Static("", id="rename-status")
            with Horizontal(classes="dialog-buttons"):
                yield Button(
                    "Use this name", variant="primary", id="rename-ok", compact=True
                )
                yield Button("Skip this file", id="rename-skip", compact=True)

    def on_mount(self) -> None:
        self.query_one("#rename-input", Input).focus()
        self._validate(self._suggestion)

    def on_input_changed(self, event: Input.Changed) -> None:
        self._validate(event.value)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self._accept()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "rename-ok":
            self._accept()
        else:
            self.dismiss(None)

    def action_skip(self) -> None:
        """Do not send this file."""
        self.dismiss(None)

    def _problems(self, name: str) -> list[str]:
        return [
            f.message
            for f in check_name(name, self._limits)
            if f.severity is Severity.ERROR
        ]

    def _validate(self, name: str) -> bool:
        problems = self._problems(name)
        status = self.query_one("#rename-status", Static)
        if problems:
            status.update(Text("[x] " + " ".join(problems), style="red"))
        else:
            status.update(
                Text(f"[ok] {len(name)} of {self._limits.max_name} characters")
            )
        self.query_one("#rename-ok", Button).disabled = bool(problems)
        return not problems

    def _accept(self) -> None:
        name = self.query_one("#rename-input", Input).value
        if self._validate(name):
            self.dismiss(name)
