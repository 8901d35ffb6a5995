"""Edit settings.toml from the app, and test the connection before saving.

The form holds text; nothing reaches the settings file until the whole form
turns into a :class:`Settings` that the core itself accepts (the values are
checked here field by field, then ``save_settings`` re-reads what it is about
to write). A problem is shown in plain words under the field it concerns, so
an operator never has to decode a TOML error to fix a typo.

"Test connection" runs the doctor's steps on the settings as they stand in
the form, saved or not, so a new certificate can be tried before it is
committed to. A passphrase it needs is asked for in a masked dialog and
lives only in memory for that one test.
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import urlsplit

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Button, DataTable, Footer, Input, Label, Select, Static

from omar_tui.core.models import Limits
from omar_tui.core.paths import AppPaths
from omar_tui.core.settings import (
    BUILTIN_ENVIRONMENTS,
    Environment,
    Settings,
    save_settings,
)
from omar_tui.errors import SettingsError
from omar_tui.tui.screens.connection_test import run_connection_test

ENV_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,39}")
"""Names the settings loader accepts for an environment."""

PATH_FIELDS: dict[str, str] = {
    "cert": "Certificate",
    "key": "Key",
    "ca_bundle": "CA bundle",
    "pending_folder": "Pending folder",
}
NUMBER_FIELDS: dict[str, str] = {
    "block_bytes": "Block at bytes",
    "warn_bytes": "Warn at bytes",
    "max_name": "Longest name",
    "connect_timeout": "Connect timeout",
    "read_timeout": "Reply timeout",
    "retries": "Retries",
    "max_reply_bytes": "Max reply bytes",
}
TEXT_FIELDS: dict[str, str] = {
    "user_agent": "User-Agent",
    "proxy": "Proxy",
}
CHOICE_FIELDS: dict[str, str] = {
    "include_subfolders": "Subfolders",
    "after_send": "After sending",
}
SUBFOLDER_CHOICES: list[tuple[str, str]] = [
    ("no: only the pending folder itself", "no"),
    ("yes: its subfolders too", "yes"),
]
AFTER_SEND_OPTIONS: list[tuple[str, str]] = [
    ("keep: leave sent files where they are", "keep"),
    ("move: accepted to sent/<day>/, rejected to rejected/", "move"),
]
SETTINGS_KEYS: dict[str, str] = {
    "environment": "environment",
    "pending_folder": "pending_folder",
    "certificate.cert": "cert",
    "certificate.key": "key",
    "certificate.ca_bundle": "ca_bundle",
    "limits.block_bytes": "block_bytes",
    "limits.warn_bytes": "warn_bytes",
    "limits.max_name": "max_name",
    "network.connect_timeout": "connect_timeout",
    "network.read_timeout": "read_timeout",
    "network.retries": "retries",
    "network.max_reply_bytes": "max_reply_bytes",
    "network.user_agent": "user_agent",
    "network.proxy": "proxy",
    "include_subfolders": "include_subfolders",
    "after_send": "after_send",
}
"""Keys named in the core's error messages -> the form field they concern."""


class FormErrors(Exception):
    """The form does not yet make valid settings; ``errors`` maps field -> text."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__(", ".join(errors))
        self.errors = errors


# --- reading the form ---------------------------------------------------------


def parse_path(text: str, *, folder: bool, required: bool = False) -> Path | None:
    """A full path from a field, checked to exist; ``None`` for an empty field.

    Raises:
        ValueError: With the plain message to show under the field.
    """
    text = text.strip()
    if not text:
        if required:
            raise ValueError("Required.")
        return None
    path = Path(text).expanduser()
    if not path.is_absolute():
        raise ValueError("Use a full path, starting with / or ~.")
    if folder and not path.is_dir():
        raise ValueError(f"There is no folder {path}.")
    if not folder and not path.is_file():
        raise ValueError(f"There is no file {path}.")
    return path


def parse_int(text: str, least: int) -> int:
    """A whole number of at least ``least``, or ValueError with a message."""
    try:
        value = int(text.strip().replace(",", "").replace("_", ""))
    except ValueError:
        raise ValueError("Type a whole number.") from None
    if value < least:
        raise ValueError(f"Must be {least} or more.")
    return value


def parse_seconds(text: str) -> float:
    """Seconds between 0 and 3600 (the loader's range), or ValueError."""
    try:
        value = float(text.strip())
    except ValueError:
        raise ValueError("Type a number of seconds, such as 15 or 2.5.") from None
    if not 0 < value <= 3600:
        raise ValueError("Must be more than 0 and at most 3600 seconds.")
    return value


def parse_user_agent(text: str) -> str:
    """The ``User-Agent`` header: printable ASCII, not empty (as the loader asks)."""
    value = text.strip()
    if not value:
        raise ValueError("Required: omar-tui names itself to OMAR-Online.")
    if not value.isascii() or not value.isprintable():
        raise ValueError("Use printable ASCII characters only.")
    return value


def parse_proxy(text: str) -> str | None:
    """A proxy address, or ``None`` for a direct connection.

    Raises:
        ValueError: Not an http://, https:// or socks5:// address with a
            host, or it holds a password (never stored in settings).
    """
    value = text.strip()
    if not value:
        return None
    try:
        parts = urlsplit(value)
        _ = parts.port
    except ValueError:
        raise ValueError("That is not a usable address.") from None
    if parts.scheme not in ("http", "https", "socks5") or not parts.hostname:
        raise ValueError("Give an address such as http://proxy.example:3128.")
    if parts.password is not None:
        raise ValueError("Remove the password: passwords are never stored in settings.")
    return value


def check_base_url(url: str) -> str | None:
    """Why ``url`` cannot be an environment's base URL, or ``None`` if it can."""
    try:
        parts = urlsplit(url)
        _ = parts.port
    except ValueError:
        return "That is not a usable address."
    if parts.scheme != "https":
        return "Must start with https:// (OMAR-Online is HTTPS only)."
    if not parts.hostname:
        return "Must name a host, such as https://omar.example.org."
    if parts.query or parts.fragment or parts.username is not None:
        return "Give only https://host[:port][/path], no user, ? or #."
    return None


def field_for_error(error: SettingsError) -> str | None:
    """The form field a core ``SettingsError`` is about (it names the key)."""
    for key in re.findall(r"`([^`]+)`", error.title):
        if key in SETTINGS_KEYS:
            return SETTINGS_KEYS[key]
        if key.startswith("environments."):
            return "new_env_url"
    return None


# --- dialogs -----------------------------------------------------------------


class ConfirmDiscard(ModalScreen[bool]):
    """Asked when leaving settings with changes that were not saved."""

    DEFAULT_CSS = """
    ConfirmDiscard { align: center middle; }
    ConfirmDiscard > Vertical {
        width: 56; height: auto; border: round $warning;
        background: $surface; padding: 0 1;
    }
    ConfirmDiscard Horizontal { height: auto; margin-top: 1; }
    ConfirmDiscard Button { margin-right: 2; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("d", "discard", "Discard changes"),
        Binding("escape", "keep", "Keep editing"),
    ]

    def compose(self) -> ComposeResult:
        with Vertical() as box:
            box.border_title = "Unsaved changes"
            yield Label("The settings were changed but not saved.")
            with Horizontal():
                yield Button("Discard (d)", variant="error", id="discard")
                yield Button("Keep editing (Esc)", variant="primary", id="keep")

    def on_mount(self) -> None:
        self.query_one("#keep", Button).focus()

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "discard")

    def action_discard(self) -> None:
        """Leave without saving."""
        self.dismiss(True)

    def action_keep(self) -> None:
        """Go back to the form."""
        self.dismiss(False)


# --- the screen --------------------------------------------------------------


class ChoiceSelect(Select[str], inherit_bindings=False):
    """A drop-down that opens on Enter (or Space) only, never on an arrow key.

    Textual's Select opens on Up and Down too: an operator scrolling the
    form with the arrows would land in the environment menu, a step away
    from switching to production. Here the arrows pass to the form, which
    scrolls; a choice takes Enter to open the menu and Enter to pick.
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter,space", "show_overlay", "Open the choices", show=False),
    ]


class SettingsScreen(Screen[Settings | None]):
    """Edit, validate, test and save the settings.

    Dismisses with the saved :class:`Settings` (so the app can reload them),
    or ``None`` when the operator leaves without saving.

    Args:
        settings: The settings in force.
        paths: Where ``settings.toml`` is written.
    """

    HELP_GROUP = "Settings"

    DEFAULT_CSS = """
    SettingsScreen #settings-form { height: 1fr; padding: 0 1; }
    SettingsScreen .section {
        text-style: bold; color: $accent; margin-top: 1;
    }
    SettingsScreen .row { height: auto; }
    SettingsScreen .row > Label { width: 17; padding-top: 0; }
    SettingsScreen .row > Input { width: 1fr; }
    SettingsScreen .row > Select { width: 1fr; }
    SettingsScreen .field-error { color: $error; margin-left: 17; height: auto; }
    SettingsScreen .field-error.-empty { display: none; }
    SettingsScreen #envs-table { height: auto; max-height: 6; margin-left: 17; }
    SettingsScreen #envs-help { color: $text-muted; margin-left: 17; }
    SettingsScreen #new-env-name { width: 14; }
    SettingsScreen #add-env { min-width: 7; width: 7; height: 1; border: none; }
    SettingsScreen #settings-status { height: 1; padding: 0 1; background: $boost; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "ctrl+s",
            "save",
            "Save",
            priority=True,
            tooltip="Check the form and write the settings file",
        ),
        Binding(
            "ctrl+t",
            "test_connection",
            "Test connection",
            priority=True,
            tooltip="Run the doctor's steps on the form as it stands; no upload",
        ),
        Binding("escape", "leave", "Back", tooltip="Leave (asks if unsaved)"),
        Binding(
            "delete",
            "remove_environment",
            "Remove environment",
            show=False,
            tooltip="Remove the custom environment highlighted in the table",
        ),
    ]

    def __init__(self, settings: Settings, paths: AppPaths) -> None:
        super().__init__()
        self.settings = settings
        self.paths = paths
        self.title = "Settings"
        self.environments: dict[str, Environment] = dict(settings.environments)
        self._initial: dict[str, object] | None = None

    # -- layout

    def compose(self) -> ComposeResult:
        s = self.settings
        yield Static(f"Settings file: {self.paths.settings_file}", id="settings-status")
        with VerticalScroll(id="settings-form"):
            yield Static("Server", classes="section")
            with Horizontal(classes="row"):
                yield Label("Environment")
                yield ChoiceSelect(
                    self._env_options(),
                    value=s.environment,
                    allow_blank=False,
                    compact=True,
                    id="environment",
                )
            yield self._error("environment")

            yield Static("Environments", classes="section")
            yield DataTable(id="envs-table", cursor_type="row", show_cursor=True)
            yield Static("Delete removes the highlighted custom one.", id="envs-help")
            with Horizontal(classes="row"):
                yield Label("Add name, URL")
                yield Input(placeholder="name", id="new-env-name", compact=True)
                yield Input(
                    placeholder="https://host[:port]", id="new-env-url", compact=True
                )
                yield Button("Add", id="add-env", compact=True)
            yield self._error("new_env_url")

            yield Static("TLS", classes="section")
            for name in ("cert", "key", "ca_bundle"):
                yield from self._row(name, PATH_FIELDS[name], getattr(s, name))

            yield Static("Files", classes="section")
            yield from self._row(
                "pending_folder", PATH_FIELDS["pending_folder"], s.pending_folder
            )
            yield from self._choice(
                "include_subfolders",
                SUBFOLDER_CHOICES,
                "yes" if s.include_subfolders else "no",
            )
            yield from self._choice("after_send", AFTER_SEND_OPTIONS, s.after_send)
            for name in ("block_bytes", "warn_bytes", "max_name"):
                yield from self._row(name, NUMBER_FIELDS[name], getattr(s.limits, name))

            yield Static("Network", classes="section")
            for name in ("connect_timeout", "read_timeout", "retries"):
                yield from self._row(name, NUMBER_FIELDS[name], getattr(s, name))
            yield from self._row(
                "max_reply_bytes", NUMBER_FIELDS["max_reply_bytes"], s.max_reply_bytes
            )
            for name, label in TEXT_FIELDS.items():
                yield from self._row(name, label, getattr(s, name))
        yield Footer(compact=True)

    def _row(self, name: str, label: str, value: object) -> ComposeResult:
        with Horizontal(classes="row"):
            yield Label(label)
            yield Input(
                "" if value is None else str(value),
                id=name,
                compact=True,
                placeholder=_PLACEHOLDERS.get(name, ""),
            )
        yield self._error(name)

    def _choice(
        self, name: str, options: list[tuple[str, str]], value: str
    ) -> ComposeResult:
        with Horizontal(classes="row"):
            yield Label(CHOICE_FIELDS[name])
            yield ChoiceSelect(
                options, value=value, allow_blank=False, compact=True, id=name
            )
        yield self._error(name)

    @staticmethod
    def _error(name: str) -> Label:
        return Label("", id=f"{name}-error", classes="field-error -empty")

    def on_mount(self) -> None:
        table = self.query_one("#envs-table", DataTable)
        table.add_column("Name", key="name")
        table.add_column("Base URL", key="url")
        self._fill_envs()
        self._initial = self._snapshot()
        # On the form itself: arrows scroll it, Tab enters the fields. Not on
        # the environment, nor on a text field (whose text a stray key
        # would replace): no single key changes anything from here.
        self.query_one("#settings-form", VerticalScroll).focus()

    # -- environments

    def _env_options(self) -> list[tuple[str, str]]:
        return [(name, name) for name in sorted(self.environments)]

    def _fill_envs(self) -> None:
        table = self.query_one("#envs-table", DataTable)
        table.clear()
        for name in sorted(self.environments):
            env = self.environments[name]
            label = f"{name} (built in)" if name in BUILTIN_ENVIRONMENTS else name
            table.add_row(label, env.base_url, key=name)

    def _refresh_env_select(self, value: str | None = None) -> None:
        select: Select[str] = self.query_one("#environment", Select)
        current = value or select.value
        select.set_options(self._env_options())
        if isinstance(current, str) and current in self.environments:
            select.value = current

    @on(Button.Pressed, "#add-env")
    @on(Input.Submitted, "#new-env-url")
    def action_add_environment(self) -> None:
        """Add the environment typed in the name and URL fields."""
        name_field = self.query_one("#new-env-name", Input)
        url_field = self.query_one("#new-env-url", Input)
        name = name_field.value.strip()
        url = url_field.value.strip().rstrip("/")

        problem = None
        if not ENV_NAME.fullmatch(name):
            problem = "Name: up to 40 letters, digits, '-' or '_'."
        elif name in BUILTIN_ENVIRONMENTS:
            problem = f"{name!r} is built in; choose another name."
        elif name in self.environments:
            problem = f"There is already an environment {name!r}."
        else:
            problem = check_base_url(url)
        if problem:
            self._show_error("new_env_url", problem)
            return

        self.environments[name] = Environment(name, url)
        self._show_error("new_env_url", "")
        name_field.value = url_field.value = ""
        self._fill_envs()
        self._refresh_env_select()
        self.notify(f"{name}: {url}", title="Environment added (not saved yet)")

    @on(DataTable.RowSelected, "#envs-table")
    def _env_chosen(self, event: DataTable.RowSelected) -> None:
        name = event.row_key.value
        if name:
            self.query_one("#environment", Select).value = name

    def action_remove_environment(self) -> None:
        """Remove the custom environment highlighted in the environments table."""
        table = self.query_one("#envs-table", DataTable)
        if self.focused is not table or not table.row_count:
            return
        name = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        if name is None:
            return
        if name in BUILTIN_ENVIRONMENTS:
            self.notify(
                f"{name} is built in and cannot be removed.", severity="warning"
            )
            return
        if self.query_one("#environment", Select).value == name:
            self.notify(
                f"{name} is the active environment: choose another first.",
                severity="warning",
            )
            return
        del self.environments[name]
        self._fill_envs()
        self._refresh_env_select()
        self.notify(f"{name} removed (not saved yet).")

    # -- validation

    def _show_error(self, name: str, message: str) -> None:
        label = self.query_one(f"#{name}-error", Label)
        label.update(message)
        label.set_class(not message, "-empty")

    def _value(self, name: str) -> str:
        return self.query_one(f"#{name}", Input).value

    def _choice_value(self, name: str) -> str:
        select: Select[str] = self.query_one(f"#{name}", Select)
        return str(select.value)

    def build_settings(self) -> Settings:
        """The settings the form describes.

        Raises:
            FormErrors: With a message per field that needs fixing.
        """
        errors: dict[str, str] = {}
        values: dict[str, Any] = {}

        select: Select[str] = self.query_one("#environment", Select)
        if not isinstance(select.value, str) or select.value not in self.environments:
            errors["environment"] = "Choose an environment."
        else:
            values["environment"] = select.value

        for name in PATH_FIELDS:
            try:
                values[name] = parse_path(
                    self._value(name), folder=name == "pending_folder"
                )
            except ValueError as exc:
                errors[name] = str(exc)
        if values.get("key") and not self._value("cert").strip():
            errors["key"] = "A key needs its certificate: fill in Certificate too."

        limits: dict[str, int] = {}
        for name in ("block_bytes", "warn_bytes", "max_name"):
            try:
                limits[name] = parse_int(self._value(name), 1)
            except ValueError as exc:
                errors[name] = str(exc)
        if "warn_bytes" not in errors and limits.get("warn_bytes", 0) > limits.get(
            "block_bytes", 1 << 62
        ):
            errors["warn_bytes"] = "Must be at or below the size that blocks a file."

        for name in ("connect_timeout", "read_timeout"):
            try:
                values[name] = parse_seconds(self._value(name))
            except ValueError as exc:
                errors[name] = str(exc)
        try:
            values["retries"] = parse_int(self._value("retries"), 0)
        except ValueError as exc:
            errors["retries"] = str(exc)
        try:
            values["max_reply_bytes"] = parse_int(self._value("max_reply_bytes"), 1)
        except ValueError as exc:
            errors["max_reply_bytes"] = str(exc)
        for name, parse in (("user_agent", parse_user_agent), ("proxy", parse_proxy)):
            try:
                values[name] = parse(self._value(name))
            except ValueError as exc:
                errors[name] = str(exc)
        values["include_subfolders"] = self._choice_value("include_subfolders") == "yes"
        values["after_send"] = self._choice_value("after_send")

        fields = (*PATH_FIELDS, *NUMBER_FIELDS, *TEXT_FIELDS, *CHOICE_FIELDS)
        for name in (*fields, "environment"):
            self._show_error(name, errors.get(name, ""))
        if errors:
            raise FormErrors(errors)

        return dataclasses.replace(
            self.settings,
            environments=dict(self.environments),
            limits=Limits(**limits),
            **values,
        )

    def _snapshot(self) -> dict[str, object]:
        """What the form holds, to tell whether anything changed."""
        fields = (*PATH_FIELDS, *NUMBER_FIELDS, *TEXT_FIELDS)
        inputs = {name: self._value(name) for name in fields}
        choices = {name: self._choice_value(name) for name in CHOICE_FIELDS}
        return {
            **inputs,
            **choices,
            "environment": self.query_one("#environment", Select).value,
            "environments": dict(self.environments),
        }

    @property
    def changed(self) -> bool:
        """True when the form differs from the settings it opened with."""
        return self._initial is not None and self._snapshot() != self._initial

    # -- actions

    def action_save(self) -> None:
        """Check the form, write settings.toml atomically, return the settings."""
        try:
            candidate = self.build_settings()
        except FormErrors as exc:
            self.notify(
                "Fix the fields marked in red first.",
                title=f"Not saved ({len(exc.errors)} problem(s))",
                severity="error",
            )
            self._focus_field(next(iter(exc.errors)))
            return

        try:
            save_settings(candidate, self.paths.settings_file)
        except SettingsError as exc:
            field = field_for_error(exc)
            if field:
                self._show_error(field, exc.title)
            self.notify(exc.hint, title=exc.title, severity="error", timeout=10)
            return

        self.settings = candidate
        self._initial = self._snapshot()
        self.app.notify(str(self.paths.settings_file), title="Settings saved")
        self.dismiss(candidate)

    def _focus_field(self, name: str) -> None:
        widget = self.query(f"#{name}")
        if widget:
            widget.first().focus()

    def action_leave(self) -> None:
        """Go back; asks first when there are unsaved changes."""
        if not self.changed:
            self.dismiss(None)
            return

        def answered(discard: bool | None) -> None:
            if discard:
                self.dismiss(None)

        self.app.push_screen(ConfirmDiscard(), answered)

    def action_test_connection(self) -> None:
        """Run the connection steps on the settings in the form."""
        try:
            candidate = self.build_settings()
        except FormErrors:
            self.notify("Fix the fields marked in red first.", severity="error")
            return
        self._test(candidate)

    @work(exclusive=True, group="settings-test")
    async def _test(self, candidate: Settings) -> None:
        await run_connection_test(self.app, candidate)


_PLACEHOLDERS: dict[str, str] = {
    "cert": "a .p12/.pfx, or a PEM certificate",
    "key": "PEM key, when the certificate is PEM",
    "ca_bundle": "empty: the system's trusted CAs",
    "pending_folder": "folder of files waiting to be sent",
    "proxy": "empty: HTTPS_PROXY from the environment, or direct",
}
