"""One submission record in full: every field and the server's raw reply.

An operator comes here to answer "what exactly happened to this file?", often
while on the phone with CAISO, so nothing is left out or abbreviated: the
list of fields is taken from the record type itself, and the reply page is
shown as the server sent it (as text, never interpreted as markup).
"""

from __future__ import annotations

import dataclasses
from typing import Any, ClassVar

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Static

from omar_tui.core.models import Outcome, Submission
from omar_tui.tui.clipboard import copy_text

FIELD_LABELS: dict[str, str] = {
    "id": "Record",
    "started_at": "Started (UTC)",
    "finished_at": "Finished (UTC)",
    "environment": "Environment",
    "base_url": "Server",
    "local_path": "Local file",
    "name_sent": "Sent as",
    "bytes": "Bytes sent",
    "sha256": "SHA-256",
    "outcome": "Outcome",
    "file_id": "File Id",
    "saved_as": "Saved as",
    "server_size": "Server size",
    "message": "Message",
    "raw_reply": "Raw reply",
    "profile": "Profile",
    "moved_to": "Moved to",
}
"""Plain labels for the record's fields; a field missing here shows its name."""
BYTE_FIELDS = frozenset({"bytes", "server_size"})
"""Sizes, written with thousands separators."""

OUTCOME_STYLES: dict[Outcome, str] = {
    Outcome.ACCEPTED: "bold green",
    Outcome.REJECTED: "bold red",
    Outcome.BLOCKED: "bold red",
    Outcome.FAILED: "bold red",
    Outcome.UNKNOWN: "bold black on yellow",
    Outcome.PENDING: "bold yellow",
}


def outcome_advice(submission: Submission) -> str:
    """What the operator should do about a record, or ``""`` when nothing.

    Unknown (and still-pending) outcomes are the dangerous ones: the file may
    be at CAISO already, and sending it again could double the data.
    """
    if submission.outcome in (Outcome.UNKNOWN, Outcome.PENDING):
        return (
            f"Outcome unknown: {submission.name_sent} may have reached OMAR-Online. "
            f"Look it up there (sent {short_time(submission.started_at)} UTC to "
            f"{submission.environment}) before sending it again."
        )
    if submission.outcome is Outcome.FAILED:
        return "Not delivered: it is safe to send this file again."
    if submission.outcome is Outcome.REJECTED:
        return "Rejected by OMAR-Online: read the message, fix the file, send again."
    if submission.size_mismatch:
        return (
            f"The server reported {submission.server_size or 0:,} bytes but "
            f"{submission.bytes:,} were sent: check the file in OMAR-Online."
        )
    return ""


def short_time(iso: str | None) -> str:
    """``2026-05-09T07:35:12.345+00:00`` -> ``2026-05-09 07:35:12``."""
    if not iso:
        return ""
    return iso.replace("T", " ")[:19]


def field_rows(submission: Submission) -> list[tuple[str, str]]:
    """(label, value) for every field of the record except the raw reply."""
    rows: list[tuple[str, str]] = []
    for item in dataclasses.fields(submission):
        if item.name == "raw_reply":
            continue
        value = getattr(submission, item.name)
        text = "" if value is None else str(value)
        if item.name in BYTE_FIELDS and isinstance(value, int):
            text = f"{value:,}"  # as the file list and the CLI write sizes
        if item.name == "server_size" and submission.size_mismatch:
            text += f"  (differs from the {submission.bytes:,} bytes sent)"
        rows.append((FIELD_LABELS.get(item.name, item.name), text))
    return rows


class SubmissionDetailScreen(Screen[None]):
    """Every field of one history record, then the raw reply, scrollable.

    Args:
        submission: The record, with its raw reply.
    """

    HELP_GROUP = "Submission detail"

    DEFAULT_CSS = """
    SubmissionDetailScreen #detail-body {
        height: 1fr;
        padding: 0 1;
    }
    SubmissionDetailScreen #detail-advice {
        background: $warning 30%;
        padding: 0 1;
        margin-bottom: 1;
    }
    SubmissionDetailScreen #detail-advice.-hidden {
        display: none;
    }
    SubmissionDetailScreen .detail-heading {
        text-style: bold underline;
        margin-top: 1;
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back", tooltip="Back to the history list"),
        Binding(
            "c",
            "copy_file_id",
            "Copy File Id",
            tooltip="Copy this record's File Id to the clipboard",
        ),
    ]

    def __init__(self, submission: Submission) -> None:
        super().__init__()
        self.submission = submission
        self.title = f"Submission {submission.id}"

    def compose(self) -> ComposeResult:
        record = self.submission
        advice = outcome_advice(record)
        with VerticalScroll(id="detail-body"):
            yield Static(
                Text(advice),
                id="detail-advice",
                classes="" if advice else "-hidden",
            )
            yield Static(self._fields_table(), id="detail-fields")
            yield Static("Reply from OMAR-Online", classes="detail-heading")
            raw = record.raw_reply or "(no reply was received)"
            yield Static(Text(raw), id="detail-raw", markup=False)
        yield Footer(compact=True)

    def _fields_table(self) -> Table:
        table = Table.grid(padding=(0, 2))
        table.add_column(no_wrap=True, style="bold")
        table.add_column(overflow="fold")
        for label, value in field_rows(self.submission):
            style = ""
            if label == FIELD_LABELS["outcome"]:
                style = OUTCOME_STYLES.get(self.submission.outcome, "")
            table.add_row(label, Text(value, style=style))
        return table

    def on_mount(self) -> None:
        self.query_one("#detail-body").focus()

    def action_back(self) -> None:
        """Return to the history list."""
        self.dismiss(None)

    def action_copy_file_id(self) -> None:
        """Copy the File Id (OSC 52) and show it, since not every terminal copies."""
        copy_file_id(self, self.submission)


def copy_file_id(screen: Screen[Any], submission: Submission) -> None:
    """Put a record's File Id on the clipboard and say what was copied."""
    if not submission.file_id:
        screen.notify(
            f"{submission.name_sent} has no File Id ({submission.outcome}).",
            title="Nothing copied",
            severity="warning",
        )
        return
    copy_text(screen.app, submission.file_id, "File Id")
