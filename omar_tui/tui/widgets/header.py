"""The top line: where files will go, as whom, and with which certificate.

The environment comes first and production is drawn in reverse red with the
word PRODUCTION, so nobody sends to it believing they are on the test server.
Then the active profile (always: two profiles can look alike), the days
until the certificate expires (a warning style under 30 days, an error style
under 7), the certificate's subject, and the server's address. The line is
cut at the right on a narrow terminal, so what matters most comes first; the
certificate screen (i) shows the subject in full.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

EXPIRY_WARNING_DAYS = 30
EXPIRY_ERROR_DAYS = 7


@dataclass(frozen=True, slots=True)
class HeaderInfo:
    """What the header shows; replaced whole, so a redraw is never half-done."""

    environment: str = ""
    profile: str = "default"
    """The active profile (``--profile``), named on every screen of the main view."""
    base_url: str = ""
    production: bool = False
    subject: str | None = None
    """Certificate subject, or ``None`` while unknown."""
    days_left: int | None = None
    cert_note: str = "no certificate configured"
    """Shown instead of the subject when there is none (or it is locked)."""


class OmarHeader(Widget):
    """One line: environment, certificate, days left, server address."""

    DEFAULT_CSS = """
    OmarHeader {
        height: 1;
        background: $panel;
    }
    """

    info: reactive[HeaderInfo] = reactive(HeaderInfo, layout=False)

    def render(self) -> Text:
        # Cut to the width here: left to Textual, the line would wrap at a
        # space and lose its whole last word. A plain console has no "…".
        text = header_text(self.info)
        plain = self.app.has_class("-ascii")
        text.truncate(self.size.width, overflow="crop" if plain else "ellipsis")
        return text

    @property
    def plain(self) -> str:
        """The header as plain text (tests)."""
        return header_text(self.info).plain


def header_text(info: HeaderInfo) -> Text:
    """The header line for ``info``."""
    text = Text(no_wrap=True, overflow="ellipsis")
    if info.production:
        text.append(" PRODUCTION ", style="bold white on red")
    else:
        text.append(f" {info.environment.upper() or '?'} ", style="bold reverse")
    text.append(" profile ", style="dim")
    text.append(info.profile or "default", style="bold")
    text.append("  ")

    if info.subject is None:
        text.append(info.cert_note, style="dim")
    else:
        text.append("cert", style="dim")
        if info.days_left is not None:
            text.append(" ")
            if info.days_left < 0:
                text.append(" EXPIRED ", style="bold white on red")
            else:
                if info.days_left < EXPIRY_ERROR_DAYS:
                    style = "bold white on red"
                elif info.days_left < EXPIRY_WARNING_DAYS:
                    style = "bold black on yellow"
                else:
                    style = "green"
                text.append(f" {info.days_left} days left ", style=style)
        text.append(f" {info.subject}")

    text.append(f"  {info.base_url}", style="dim")
    return text
