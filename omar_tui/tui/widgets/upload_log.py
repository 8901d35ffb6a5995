"""The upload log: one line per event of a send, newest at the bottom.

Each finished file gets a line with the time, the file, the outcome, the File
Id, the name OMAR-Online saved it as and the size it reports, so the operator
can copy what a status inquiry needs. Failures are said in plain words, and
an unknown outcome says what to look up before sending again.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from rich.text import Text
from textual.widgets import RichLog

from omar_tui.core.models import Outcome, Submission

if TYPE_CHECKING:  # the sender pulls in httpx: not on the start-up path
    from omar_tui.core.sender import SendEvent

MAX_LINES = 5000

_OUTCOME_STYLE = {
    Outcome.ACCEPTED: ("[+]", "bold green"),
    Outcome.REJECTED: ("[-]", "bold red"),
    Outcome.FAILED: ("[-]", "red"),
    Outcome.BLOCKED: ("[x]", "red"),
    Outcome.UNKNOWN: ("[?]", "bold yellow"),
    Outcome.PENDING: ("[.]", ""),
}


def describe_submission(submission: Submission) -> Text:
    """One log line for a finished file (without the time)."""
    marker, style = _OUTCOME_STYLE.get(submission.outcome, ("[?]", ""))
    text = Text()
    text.append(f"{marker} ", style=style)
    text.append(submission.name_sent, style="bold")
    outcome = submission.outcome
    if outcome is Outcome.ACCEPTED:
        text.append(" accepted", style=style)
        text.append(f", File Id {submission.file_id or '?'}")
        if submission.saved_as:
            text.append(f", saved as {submission.saved_as}")
        if submission.server_size is not None:
            text.append(f", server size {submission.server_size:,} bytes")
        if submission.size_mismatch:
            text.append(f". {submission.message}", style="bold yellow")
    elif outcome is Outcome.UNKNOWN:
        text.append(" OUTCOME UNKNOWN", style=style)
        text.append(
            " - needs a look in OMAR-Online: search its file list for "
            f"{submission.name_sent!r} sent at {_clock(submission.started_at)} "
            "before sending it again."
        )
        if submission.message:
            text.append(f" ({submission.message})", style="dim")
    else:
        text.append(f" {_OUTCOME_WORDS.get(outcome, outcome.value)}", style=style)
        if submission.message:
            text.append(f": {submission.message}")
    return text


_OUTCOME_WORDS = {
    Outcome.REJECTED: "rejected by OMAR-Online",
    Outcome.FAILED: "not delivered",
    Outcome.BLOCKED: "not sent",
}


def _clock(iso: str) -> str:
    """Local ``HH:MM:SS`` of an ISO time, or the text itself if it is not one."""
    try:
        return datetime.fromisoformat(iso).astimezone().strftime("%H:%M:%S")
    except ValueError:
        return iso


class UploadLog(RichLog):
    """What happened during sends, kept for the whole run."""

    HELP_GROUP = "Upload log"

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(
            id=id, wrap=True, markup=False, max_lines=MAX_LINES, min_width=20
        )
        self.entries: list[str] = []
        """Every line written, as plain text (tests, copying)."""

    def add(self, text: Text | str, style: str = "") -> None:
        """Write one timestamped line."""
        line = Text(datetime.now().strftime("%H:%M:%S "), style="dim")
        line.append_text(text if isinstance(text, Text) else Text(text, style=style))
        self.entries.append(line.plain)
        del self.entries[:-MAX_LINES]
        self.write(line)

    def add_event(self, event: SendEvent) -> None:
        """Write the line for a sender event."""
        if event.submission is not None:
            self.add(describe_submission(event.submission))
        else:
            self.add(event.message, style="dim" if event.kind == "sending" else "")

    def add_error(self, title: str, hint: str = "") -> None:
        """Write a fault the operator must read, with what to do about it."""
        text = Text(f"[x] {title}", style="bold red")
        if hint:
            text.append(f" - {hint}", style="")
        self.add(text)
