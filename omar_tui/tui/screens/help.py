"""F1 help: every key the screen below answers to, and what the words mean.

The key list is read from the live bindings of the screen the help was
opened over (its focused widget, the screen itself and the app), so it can
never drift from what the keys really do: a binding added anywhere shows up
here without anyone editing a list.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.dom import DOMNode
from textual.screen import ModalScreen, Screen
from textual.widgets import Static

FILE_STATES: tuple[tuple[str, str], ...] = (
    ("ready", "Passed every check; it can be sent."),
    ("warning", "It can be sent, but read the findings first."),
    (
        "blocked",
        "Breaks a rule; not sent unless you press s and choose Send anyway "
        "in the question that follows (a bad name: you type a new one).",
    ),
    (
        "already accepted",
        "The same bytes were accepted before in this environment; "
        "not sent again unless you say so.",
    ),
    ("sending", "Being uploaded now."),
    ("accepted", "OMAR-Online returned a File Id (keep it for status inquiries)."),
    ("rejected", "OMAR-Online answered with an error page: the file was not taken."),
    (
        "outcome unknown",
        "It may have reached OMAR-Online. Look it up there before sending again.",
    ),
)
"""The states of a pending file, in the order a file usually meets them."""

OUTCOMES: tuple[tuple[str, str], ...] = (
    (
        "accepted",
        "Received with a File Id; CAISO validates the data itself later "
        "(usually within an hour).",
    ),
    ("rejected", "The server refused the upload; nothing was taken."),
    ("failed", "Provably never delivered (DNS, connect or TLS failure)."),
    ("unknown", "May have been delivered: check OMAR-Online before resending."),
    ("pending", "The request was still running when the record was read."),
)
"""What a history record's outcome means (see ``models.Outcome``)."""


GENERIC_ACTIONS = frozenset(
    {"app.focus_next", "app.focus_previous", "screen.copy_text"}
)
"""Keys every Textual screen has; listed after a screen's own."""
WIDGET_TITLES: dict[str, str] = {
    "Input": "Editing the text field with the cursor",
    "ChoiceSelect": "The drop-down with the cursor",
    "Select": "The drop-down with the cursor",
}
"""Headings for Textual's widgets, whose class names mean little to operators."""
SCREEN_TITLE = "this screen's keys"
"""Added to the heading of the screen's own keys, which come first."""
GENERIC_TITLE = "Moving between fields, copying text (every screen)"


@dataclass(slots=True)
class KeyGroup:
    """Keys defined on one widget, screen or app, for the help table."""

    title: str
    rows: list[tuple[str, str, bool]] = field(default_factory=list)
    """(keys, description, enabled now) per action."""
    details: dict[str, str] = field(default_factory=dict)
    """A longer explanation (the binding's tooltip) by description, if any."""


def describe_node(node: DOMNode) -> str:
    """A heading for the keys of one node: its help title, border title or kind."""
    if isinstance(node, App):
        return "Everywhere"
    kind = type(node).__name__
    if kind in WIDGET_TITLES:
        return WIDGET_TITLES[kind]
    help_title = getattr(node, "HELP_GROUP", None)
    if isinstance(help_title, str) and help_title:
        return help_title
    if isinstance(node, Screen):
        title = node.title or node.sub_title
        return f"This screen ({title})" if title else "This screen"
    border = getattr(node, "border_title", None)
    if border:
        return str(border)
    return _words(type(node).__name__)


def binding_groups(screen: Screen[Any]) -> list[KeyGroup]:
    """Every active binding of ``screen``, grouped by where it is defined.

    Keys bound to the same action on the same node share a row ("down / j"),
    so hidden aliases appear beside the key they stand for. The order follows
    Textual's own: the focused widget first, the app last.
    """
    groups: dict[int, KeyGroup] = {}
    rows: dict[tuple[int, str], list[str]] = {}
    enabled: dict[tuple[int, str], bool] = {}
    descriptions: dict[tuple[int, str], str] = {}
    app = screen.app

    for active in screen.active_bindings.values():
        binding: Binding = active.binding
        node_id = id(active.node)
        if node_id not in groups:
            groups[node_id] = KeyGroup(describe_node(active.node))

        slot = (node_id, binding.action)
        keys = rows.setdefault(slot, [])
        display = app.get_key_display(binding)
        if display not in keys:
            keys.append(display)
        enabled[slot] = enabled.get(slot, False) or active.enabled
        description = descriptions.setdefault(
            slot, binding.description or _words(binding.action.rsplit(".", 1)[-1])
        )
        if binding.tooltip:
            groups[node_id].details.setdefault(description, binding.tooltip)

    # Textual's own focus and copy keys go in a group of their own, last.
    generic = KeyGroup(GENERIC_TITLE)
    for slot, keys in rows.items():
        group = generic if slot[1] in GENERIC_ACTIONS else groups[slot[0]]
        group.rows.append((" / ".join(keys), descriptions[slot], enabled[slot]))

    # The screen's own keys first, then those that work everywhere, then the
    # focused widget's (a text field's editing keys are many and generic).
    screen_group = groups.pop(id(screen), None)
    app_group = groups.pop(id(app), None)
    if screen_group is not None:
        screen_group.title = f"{screen_group.title}: {SCREEN_TITLE}"
    ordered = [screen_group, app_group, *groups.values(), generic]
    return [group for group in ordered if group is not None and group.rows]


def _words(name: str) -> str:
    """``copy_file_id`` or ``CopyFileId`` -> ``Copy file id``."""
    spaced = "".join(f" {c}" if c.isupper() else c for c in name).replace("_", " ")
    text = " ".join(spaced.split()).lower()
    return text[:1].upper() + text[1:]


def _keys_table(groups: list[KeyGroup]) -> Group:
    """One heading and one key table per group.

    A heading in the key column of one shared table would widen that column
    for every row, pushing the descriptions off to the right.
    """
    parts: list[RenderableType] = []
    for number, group in enumerate(groups):
        if number:
            parts.append(Text(""))
        parts.append(Text(group.title, style="underline"))
        table = Table.grid(padding=(0, 2))
        table.add_column(no_wrap=True, style="bold")
        table.add_column()
        for keys, description, is_enabled in group.rows:
            note = "" if is_enabled else " (not available now)"
            line = Text(description, style="bold" if is_enabled else "dim")
            detail = group.details.get(description)
            if detail:
                line.append(f": {detail}", style="" if is_enabled else "dim")
            line.append(note, style="dim")
            table.add_row(keys, line)
        parts.append(table)
    return Group(*parts)


def _terms_table(title: str, terms: tuple[tuple[str, str], ...]) -> Table:
    table = Table.grid(padding=(0, 2))
    table.add_column(no_wrap=True, style="bold")
    table.add_column()
    table.add_row(Text(title, style="underline"), "")
    for term, meaning in terms:
        table.add_row(term, meaning)
    return table


class HelpScreen(ModalScreen[None]):
    """Keys of the screen below, then the file states and outcomes.

    Args:
        target: The screen whose keys to list; by default the one this help
            was opened over.
    """

    HELP_GROUP = "Help"

    DEFAULT_CSS = """
    HelpScreen {
        align: center middle;
    }
    HelpScreen > #help-dialog {
        width: 100%;
        max-width: 100;
        height: 100%;
        max-height: 40;
        border: round $accent;
        border-title-align: left;
        padding: 0 1;
        background: $surface;
    }
    HelpScreen #help-body {
        height: 1fr;
    }
    HelpScreen .help-section {
        margin-bottom: 1;
    }
    HelpScreen #help-footer {
        color: $text-muted;
        height: 1;
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", "Close help"),
        Binding("f1,q", "close", "Close help", show=False),
    ]

    def __init__(self, target: Screen[Any] | None = None) -> None:
        super().__init__()
        self._target = target

    def target_screen(self) -> Screen[Any]:
        """The screen whose keys are listed."""
        if self._target is not None:
            return self._target
        stack = self.app.screen_stack
        if self in stack:
            index = stack.index(self)
            return stack[index - 1] if index > 0 else stack[0]
        return stack[-1]

    def compose(self) -> ComposeResult:
        groups = binding_groups(self.target_screen())
        with Vertical(id="help-dialog") as dialog:
            dialog.border_title = "Help"
            with VerticalScroll(id="help-body"):
                yield Static(
                    _keys_table(groups), id="help-keys", classes="help-section"
                )
                yield Static(
                    _terms_table("File states", FILE_STATES),
                    id="help-states",
                    classes="help-section",
                )
                yield Static(
                    _terms_table("History outcomes", OUTCOMES),
                    id="help-outcomes",
                    classes="help-section",
                )
                yield Static(
                    "ctrl+p opens the command palette: every action, by name.",
                    classes="help-section",
                )
            yield Static("Up/Down, PgUp/PgDn scroll   Esc closes", id="help-footer")

    def on_mount(self) -> None:
        self.query_one("#help-body").focus()

    def action_close(self) -> None:
        """Back to the screen the help was opened over."""
        self.dismiss(None)
