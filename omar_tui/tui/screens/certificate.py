"""The client certificate in full, and where omar-tui keeps its files.

An operator on the phone with CAISO, or renewing a certificate, needs the
subject, issuer, serial, validity and fingerprint; one chasing a problem
needs the settings file, the history and the log. This screen shows both
(the TUI's ``omar-tui cert`` and ``omar-tui paths``), so neither needs a
shell beside the app.

The certificate is read in a thread worker (``cryptography`` loads there).
A PEM certificate is read without its key; a PKCS#12 must be opened, so it
is summarised only with the passphrase this run already holds, and is
otherwise shown as locked: this screen never asks for a passphrase itself.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from rich.table import Table
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Static

from omar_tui.core.paths import AppPaths
from omar_tui.core.settings import Settings
from omar_tui.errors import OmarError

if TYPE_CHECKING:
    from omar_tui.core.certificates import CertSummary

EXPIRY_WARNING_DAYS = 30
"""Days left under which the expiry is drawn as a warning."""
EXPIRY_ERROR_DAYS = 7
"""Days left under which it is drawn as an error (the doctor fails too)."""


def days_left_style(days_left: int) -> str:
    """Red when expired or under a week, yellow under a month, else green."""
    if days_left < EXPIRY_ERROR_DAYS:
        return "bold white on red"
    if days_left < EXPIRY_WARNING_DAYS:
        return "bold black on yellow"
    return "green"


def days_left_text(days_left: int) -> Text:
    """``729 days left``, ``EXPIRED 3 days ago``, styled by urgency."""
    if days_left < 0:
        ago = -days_left
        words = f" EXPIRED {ago} day{'s' if ago != 1 else ''} ago "
    else:
        words = f" {days_left} day{'s' if days_left != 1 else ''} left "
    return Text(words, style=days_left_style(days_left))


def header_certificate(
    settings: Settings, environment: str, passphrase: str | None
) -> tuple[dict[str, Any], str | None]:
    """What the header shows about the certificate, and an expiry warning.

    Runs in a worker thread: it reads the certificate file.

    Returns:
        ``HeaderInfo`` field changes, and a warning to toast (or ``None``).

    Raises:
        OmarError: The certificate cannot be read.
    """
    from omar_tui.core.certificates import expiry_warning, summarize
    from omar_tui.core.connection import identity_from, resolve_target
    from omar_tui.core.tls import needs_passphrase

    target = resolve_target(settings, environment)
    changes: dict[str, Any] = {"production": target.is_production}
    identity = identity_from(settings)
    if identity is None:
        changes["subject"] = None
        changes["cert_note"] = "no certificate configured (Settings: e)"
        return changes, None
    if identity.is_pkcs12 and passphrase is None and needs_passphrase(identity):
        changes["subject"] = None
        changes["cert_note"] = (
            f"certificate {identity.cert.name} is locked; "
            "its passphrase is asked when sending"
        )
        return changes, None

    summary = summarize(identity, passphrase)
    changes["subject"] = summary.subject
    changes["days_left"] = summary.days_left
    return changes, expiry_warning(summary)


def paths_table(paths: AppPaths) -> Table:
    """The ``omar-tui paths`` lines: profile, folders and files."""
    table = _grid()
    table.add_row("Profile", paths.profile)
    table.add_row("Config folder", str(paths.config_dir))
    table.add_row("Settings file", str(paths.settings_file))
    table.add_row("History database", str(paths.history_db))
    table.add_row("Log file", str(paths.log_file))
    return table


def summary_table(summary: CertSummary, settings: Settings) -> Table:
    """Every field an operator may be asked for, then the files it came from."""
    table = _grid()
    table.add_row("Subject", summary.subject)
    table.add_row("Issuer", summary.issuer)
    table.add_row("Serial", summary.serial)
    table.add_row("Valid from", _utc(summary.not_before))
    table.add_row("Valid until", _utc(summary.not_after))
    table.add_row("Expiry", days_left_text(summary.days_left))
    table.add_row("SHA-256", summary.fingerprint_sha256)
    _add_files(table, settings)
    return table


def _add_files(table: Table, settings: Settings) -> None:
    table.add_row("Certificate file", str(settings.cert or "(none)"))
    if settings.key is not None:
        table.add_row("Key file", str(settings.key))
    ca = str(settings.ca_bundle) if settings.ca_bundle else "the system's trusted CAs"
    table.add_row("CA bundle", ca)


def _grid() -> Table:
    table = Table.grid(padding=(0, 2))
    table.add_column(no_wrap=True, style="bold")
    table.add_column(overflow="fold")
    return table


def _utc(moment: Any) -> str:
    return f"{moment:%Y-%m-%d %H:%M} UTC"


class CertificateScreen(Screen[None]):
    """The certificate's details and omar-tui's paths, read-only.

    Args:
        settings: Where the certificate files are.
        paths: The active profile's paths.
        passphrase: The passphrase this run holds, if any; used once and dropped.
    """

    HELP_GROUP = "Certificate"

    DEFAULT_CSS = """
    CertificateScreen #cert-body {
        height: 1fr;
        padding: 0 1;
    }
    CertificateScreen .cert-heading {
        text-style: bold;
        color: $accent;
    }
    CertificateScreen #cert-details {
        margin-bottom: 1;
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back", tooltip="Back to the pending files"),
        Binding(
            "c",
            "copy_fingerprint",
            "Copy fingerprint",
            tooltip="Copy the certificate's SHA-256 fingerprint",
        ),
    ]

    def __init__(
        self, settings: Settings, paths: AppPaths, passphrase: str | None = None
    ) -> None:
        super().__init__()
        self.settings = settings
        self.paths = paths
        self.title = "Certificate"
        self.summary: CertSummary | None = None
        self.state = "loading"
        """``loading``, ``shown``, ``none``, ``locked`` or ``error``."""
        self._passphrase = passphrase

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="cert-body"):
            yield Static("Client certificate", classes="cert-heading")
            yield Static("Reading the certificate...", id="cert-details")
            yield Static("Paths (omar-tui paths)", classes="cert-heading")
            yield Static(paths_table(self.paths), id="cert-paths")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.query_one("#cert-body").focus()
        passphrase, self._passphrase = self._passphrase, None
        self._load(passphrase)

    @work(thread=True, exclusive=True, group="certificate-details")
    def _load(self, passphrase: str | None) -> None:
        from omar_tui.core.certificates import summarize
        from omar_tui.core.connection import identity_from
        from omar_tui.core.tls import needs_passphrase

        try:
            identity = identity_from(self.settings)
            if identity is None:
                self._show("none", None)
                return
            locked = identity.is_pkcs12 and passphrase is None
            if locked and needs_passphrase(identity):
                self._show("locked", None)
                return
            summary = summarize(identity, passphrase)
        except OmarError as exc:
            self._show("error", f"{exc.title}\n{exc.hint}")
            return
        finally:
            passphrase = None
        self.app.call_from_thread(self._shown, summary)

    def _show(self, state: str, problem: str | None) -> None:
        self.app.call_from_thread(self._not_shown, state, problem)

    def _shown(self, summary: CertSummary) -> None:
        self.state, self.summary = "shown", summary
        details = self.query_one("#cert-details", Static)
        details.update(summary_table(summary, self.settings))

    def _not_shown(self, state: str, problem: str | None) -> None:
        self.state = state
        table = _grid()
        if state == "none":
            message = Text(
                "No client certificate is configured: set one in Settings (e).",
                style="bold yellow",
            )
        elif state == "locked":
            message = Text(
                "Locked: this PKCS#12 file needs its passphrase, which is asked "
                "for once per run when sending. Send a file, then look again.",
                style="bold yellow",
            )
        else:
            message = Text(problem or "The certificate cannot be read.", style="red")
        table.add_row("Status", message)
        _add_files(table, self.settings)
        self.query_one("#cert-details", Static).update(table)

    def action_back(self) -> None:
        """Back to the main screen."""
        self.dismiss(None)

    def action_copy_fingerprint(self) -> None:
        """Copy the SHA-256 fingerprint (OSC 52) and show it."""
        from omar_tui.tui.clipboard import copy_text

        if self.summary is None:
            self.notify("The certificate has not been read.", severity="warning")
            return
        copy_text(self.app, self.summary.fingerprint_sha256, "SHA-256 fingerprint")
