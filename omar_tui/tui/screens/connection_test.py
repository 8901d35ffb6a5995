"""Test connection: the doctor's steps, each shown as it completes.

The same steps as ``omar-tui doctor`` (:func:`omar_tui.core.doctor.run_doctor`):
settings, certificate and key, expiry, CA bundle, DNS and connect, the TLS
handshake with the client certificate, the session cookie and the upload
page. Nothing is uploaded. The settings screen tests the form as it stands,
saved or not; the main screen tests the settings in force.

A passphrase the test needs is asked for in a masked dialog (unless the
caller already holds it) and lives only in memory for that one test.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING, Any, ClassVar

from rich.table import Table
from rich.text import Text
from textual import work
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from omar_tui.core.settings import Settings
from omar_tui.errors import OmarError
from omar_tui.tui.screens.passphrase import PassphraseScreen

if TYPE_CHECKING:
    from omar_tui.core.doctor import Step

RunDoctor = Callable[..., AsyncIterator["Step"]]


def load_doctor() -> RunDoctor:
    """The connection doctor (a function, so tests can stand in for it).

    ``core.doctor`` pulls in httpx, so it is imported when a test starts.
    """
    from omar_tui.core.doctor import run_doctor

    return run_doctor


async def run_connection_test(
    app: App[Any], settings: Settings, passphrase: str | None = None
) -> None:
    """Ask for the passphrase if the key needs one, then show the steps.

    Call from a worker (the passphrase dialog is awaited).

    Args:
        app: The running app.
        settings: The settings to test.
        passphrase: A passphrase the caller already holds; ``None`` asks for
            one when the key is encrypted.
    """
    from omar_tui.core.connection import identity_from
    from omar_tui.core.tls import needs_passphrase

    if passphrase is None:
        try:
            identity = identity_from(settings)
            locked = identity is not None and needs_passphrase(identity)
        except OmarError:
            identity, locked = None, False  # the doctor reports it as a step
        if locked and identity is not None:
            passphrase = await app.push_screen_wait(
                PassphraseScreen(str(identity.cert))
            )
            if passphrase is None:
                return

    await app.push_screen(ConnectionTestScreen(settings, passphrase, load_doctor()))
    passphrase = None


class ConnectionTestScreen(ModalScreen[None]):
    """Runs the doctor's steps and shows each as it completes.

    Args:
        settings: The settings to test (as in the form, saved or not).
        passphrase: For an encrypted key; dropped as soon as the test starts.
        run_doctor: The doctor (``core.doctor.run_doctor``).
    """

    HELP_GROUP = "Connection test"

    DEFAULT_CSS = """
    ConnectionTestScreen { align: center middle; }
    ConnectionTestScreen > Vertical {
        width: 100%; max-width: 100; height: 100%; max-height: 30;
        border: round $accent; background: $surface; padding: 0 1;
    }
    ConnectionTestScreen #test-steps { height: 1fr; }
    ConnectionTestScreen #test-summary { height: auto; text-style: bold; }
    ConnectionTestScreen #test-help { color: $text-muted; height: 1; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", "Close"),
    ]

    def __init__(
        self, settings: Settings, passphrase: str | None, run_doctor: RunDoctor
    ) -> None:
        super().__init__()
        self._settings = settings
        self._passphrase = passphrase
        self._run_doctor = run_doctor
        self.steps: list[Step] = []
        self.finished = False

    def compose(self) -> ComposeResult:
        with Vertical() as box:
            box.border_title = (
                f"Test connection: {self._settings.environment} "
                f"({self._settings.active_environment().base_url})"
            )
            with VerticalScroll(id="test-steps"):
                yield Static("", id="test-results")
            yield Static("Running...", id="test-summary")
            yield Static("Esc closes", id="test-help")

    def on_mount(self) -> None:
        self.query_one("#test-steps").focus()
        self._run()

    @work(exclusive=True, group="doctor")
    async def _run(self) -> None:
        passphrase, self._passphrase = self._passphrase, None
        try:
            async for step in self._run_doctor(
                self._settings, environment=None, passphrase=passphrase
            ):
                self.steps.append(step)
                self._render_steps()
        except OmarError as exc:
            self._summary(Text(f"{exc.title}\n{exc.hint}", style="red"))
            return
        finally:
            passphrase = None
            self.finished = True

        failed = [s for s in self.steps if not s.ok]
        if failed:
            self._summary(Text(f"{len(failed)} step(s) failed.", style="red"))
        else:
            self._summary(Text("Every step passed.", style="green"))

    def _render_steps(self) -> None:
        table = Table.grid(padding=(0, 1))
        table.add_column(no_wrap=True)
        table.add_column(overflow="fold")
        for step in self.steps:
            mark = Text(" ok ", style="bold black on green")
            if not step.ok:
                mark = Text("FAIL", style="bold white on red")
            elif step.warning:
                mark = Text("WARN", style="bold black on yellow")
            line = Text(step.name, style="bold")
            if step.detail:
                line.append(f": {step.detail}", style="")
            if step.fix and (not step.ok or step.warning):
                line.append(f"\nfix: {step.fix}", style="yellow")
            table.add_row(mark, line)
        self.query_one("#test-results", Static).update(table)

    def _summary(self, text: Text) -> None:
        self.query_one("#test-summary", Static).update(text)

    def action_close(self) -> None:
        """Back to the settings form."""
        self.dismiss(None)
