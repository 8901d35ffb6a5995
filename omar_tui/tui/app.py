"""The Textual app: what ``omar-tui`` opens when it is given no command.

The app holds what every screen shares (paths, settings, the history and the
environment chosen on the command line) and the keys that work everywhere.
It is made for SSH: no animations, ASCII state markers, complete at 80x24,
and nothing printed on the terminal it draws on; faults go to toasts, the
upload log and the log file. On a Linux console (``TERM=linux``) borders,
scrollbars, the progress bar and key names are drawn in ASCII
(:mod:`omar_tui.tui.plain`).

Every key of the screen in front is also a command in the palette (ctrl+p),
titled by the key's description and explained by its tooltip, so an operator
who forgot a key can find the action by name.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterable
from typing import TYPE_CHECKING, ClassVar

from textual.app import App, SystemCommand
from textual.binding import Binding, BindingType
from textual.command import CommandPalette, SearchIcon
from textual.screen import Screen
from textual.scrollbar import ScrollBarRender

from omar_tui.core.history import History
from omar_tui.core.paths import AppPaths
from omar_tui.core.settings import Settings, load_settings
from omar_tui.errors import ExitCode
from omar_tui.tui.plain import (
    plain_console,
    plain_key,
    restore_glyphs,
    use_plain_glyphs,
)
from omar_tui.tui.screens.main import MainScreen

if TYPE_CHECKING:
    from omar_tui.tui.screens.send_confirm import ConfirmScreen

log = logging.getLogger("omar_tui.tui")

PALETTE_PLACEHOLDER = "Type part of a command: send, history, certificate, test..."
"""ASCII only: Textual's own placeholder ends in an ellipsis glyph."""


class OmarCommandPalette(CommandPalette):
    """Textual's command palette with an ASCII prompt instead of the 🔎 emoji.

    Emoji are drawn one or two cells wide depending on the terminal, and the
    Linux console has none.
    """

    def on_mount(self) -> None:
        self.query_one(SearchIcon).icon = ">"


class OmarApp(App[int]):
    """Pending files, checks, sending and history, by keyboard.

    Args:
        paths: Where settings, history, log and locks live.
        settings: The settings in force (the settings screen may replace them).
        history: The submission records, shared with the sender.
        environment: An environment chosen on the command line, overriding
            the one in the settings for this run.
        plain: Draw for a terminal without box and block glyphs; by default
            worked out from ``TERM``.
    """

    CSS_PATH = "omar.tcss"
    TITLE = "omar-tui"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("f1,question_mark", "help", "Help", id="app.help"),
        Binding("ctrl+c", "help_quit", show=False, system=True),
    ]

    def __init__(
        self,
        paths: AppPaths,
        settings: Settings,
        history: History,
        environment: str | None = None,
        *,
        plain: bool | None = None,
    ) -> None:
        super().__init__()
        self.paths = paths
        self.settings = settings
        self.history = history
        self.environment = environment
        self.animation_level = "none"  # over SSH every animated frame costs
        self.plain = plain_console() if plain is None else plain
        """True on a terminal without box and block glyphs (see ``plain``)."""
        self._glyphs: type[ScrollBarRender] | None = None
        self._quit_question: ConfirmScreen | None = None
        """The "Quit while sending?" dialog, while it is up."""

    def get_default_screen(self) -> Screen[None]:
        return MainScreen()

    def on_mount(self) -> None:
        if self.plain:
            self.add_class("-ascii")
            self._glyphs = use_plain_glyphs()
        if self.history.recovered_from is not None:
            self.notify(
                f"It was moved to {self.history.recovered_from}; "
                "a new one was started.",
                title="The history database was damaged",
                severity="warning",
                timeout=20,
            )

    def on_unmount(self) -> None:
        if self._glyphs is not None:
            restore_glyphs(self._glyphs)

    def get_key_display(self, binding: Binding) -> str:
        """Key names for the footer and help; words instead of symbols when plain."""
        display = super().get_key_display(binding)
        return plain_key(display) if self.plain else display

    def action_command_palette(self) -> None:
        """Open the command palette (with an ASCII prompt)."""
        is_open = any(isinstance(s, CommandPalette) for s in self.screen_stack)
        if self.use_command_palette and not is_open:
            self.push_screen(
                OmarCommandPalette(
                    id="--command-palette", placeholder=PALETTE_PLACEHOLDER
                )
            )

    @property
    def main_screen(self) -> MainScreen:
        """The main screen, wherever the screen stack is."""
        screen = self.screen_stack[0]
        assert isinstance(screen, MainScreen)
        return screen

    # -- actions --------------------------------------------------------------

    def action_help(self) -> None:
        """Keys of the screen in front, and what the states mean."""
        from omar_tui.tui.screens.help import HelpScreen

        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    async def action_quit(self) -> None:
        """Quit; while a file is in flight, ask first and never cut it off."""
        main = self.main_screen
        if not main.sending:
            self.exit(int(ExitCode.OK))
            return

        from omar_tui.tui.screens.send_confirm import ConfirmScreen

        def answered(stop: bool | None) -> None:
            self._quit_question = None
            if stop:  # once the send is over this quits at once
                main.request_stop(then_quit=True)

        self._quit_question = ConfirmScreen(
            "Quit while sending?",
            "A file is being sent. Quitting in the middle of a request would "
            "leave its outcome unknown.\n\nStop after the current file, then "
            "quit?",
            yes="Stop, then quit",
            no="Keep sending",
        )
        self.push_screen(self._quit_question, answered)

    def send_finished(self) -> None:
        """A send ended: a pending "Quit while sending?" becomes a plain question.

        Its answer is then about quitting only: there is nothing left to stop.
        """
        question = self._quit_question
        if question is None:
            return
        question.rephrase(
            "Quit?",
            "The send has finished (the upload log has the results).\n\nQuit now?",
            yes="Quit",
            no="Stay",
        )

    def action_help_quit(self) -> None:
        """Ctrl+C: during a send, stop after the current file; never kill it."""
        main = self.main_screen
        if main.sending:
            main.request_stop()
            self.notify("Stopping after the current file. q quits once it is done.")
            return
        self.notify("Press q to quit.", title="Do you want to quit?")

    def get_system_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        """The command palette: every action of the screen in front, by name.

        Each command is one of the screen's own keys: its description is the
        title, its tooltip (or description) and key the explanation. Keys
        that do nothing right now (``check_action``) are left out.
        """
        yield from super().get_system_commands(screen)
        yield SystemCommand(
            "Help", "Every key, and what the file states mean (f1)", self.action_help
        )
        for binding in palette_bindings(screen):
            action = binding.action
            explain = binding.tooltip or binding.description
            yield SystemCommand(
                binding.description,
                f"{explain} (key: {self.get_key_display(binding)})",
                lambda action=action: self.run_action(action, screen),
            )

    # -- faults ---------------------------------------------------------------

    def _fatal_error(self) -> None:
        """A bug: the traceback goes to the log file, never to the terminal.

        Textual would print a traceback with local variables, which could
        hold a passphrase; the operator gets one line naming the log file.
        """
        log.error("internal error in the TUI", exc_info=sys.exc_info())
        self.bell()
        self._exit_renderables.append(
            f"omar-tui: internal error; nothing more was sent. "
            f"Details are in {self.paths.log_file}."
        )
        self._close_messages_no_wait()


def palette_bindings(screen: Screen[object]) -> list[Binding]:
    """The screen's own keys that make palette commands, one per action.

    Bindings without a description, the app's own (``app.``, listed by
    Textual already) and those ``check_action`` turns off right now are
    left out.
    """
    found: dict[str, Binding] = {}
    for item in type(screen).BINDINGS:
        binding = item if isinstance(item, Binding) else Binding(*item)
        action = binding.action
        if not binding.description or action.startswith("app.") or action in found:
            continue
        name = action.split("(", 1)[0]
        if screen.check_action(name, ()) is False:
            continue
        found[action] = binding
    return list(found.values())


def run_tui(paths: AppPaths, *, environment: str | None = None) -> int:
    """Open the app; the CLI calls this when ``omar-tui`` has no command.

    Settings and history are opened here, before the screen is taken over,
    so a broken settings file is reported by the CLI like any other error.

    Raises:
        OmarError: The settings cannot be read, the environment is unknown,
            or the history cannot be opened.
    """
    settings = load_settings(paths.settings_file)
    if environment is not None:
        settings.active_environment(environment)  # unknown names fail here
    paths.ensure()
    with History(paths.history_db) as history:
        app = OmarApp(paths, settings, history, environment)
        code = app.run()
    if app.return_code:
        return int(app.return_code)
    return int(code or ExitCode.OK)
