"""The checks panel: everything known about the highlighted file.

An operator decides here whether a file may go: each finding with its
severity, line and fix; the first lines of the file, to recognise it; its
sha256; and when the same bytes were accepted before, with which File Id.
"""

from __future__ import annotations

import io
from pathlib import Path

from rich.console import Console, Group, RenderableType
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

from omar_tui.core.models import CheckReport, Outcome, Severity
from omar_tui.tui.widgets.file_list import PendingFile, format_size, state_text

PREVIEW_LINES = 6
"""Lines of the file shown under the findings."""
PREVIEW_BYTES = 4096


def read_preview(path: Path, lines: int = PREVIEW_LINES) -> list[str]:
    """The first lines of a file, decoded leniently, control characters shown.

    Runs in a worker thread (the file may sit on a slow share).

    Raises:
        OSError: When the file cannot be read.
    """
    with path.open("rb") as handle:
        head = handle.read(PREVIEW_BYTES)
    text = head.decode("ascii", errors="backslashreplace")
    shown = []
    for line in text.splitlines()[:lines]:
        shown.append("".join(c if c.isprintable() or c == "\t" else "?" for c in line))
    return shown


class ChecksPanel(VerticalScroll):
    """Findings, preview, hash and earlier acceptance of one file."""

    HELP_GROUP = "Checks panel"

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._content: RenderableType = Text("No file highlighted.", style="dim")

    def compose(self) -> ComposeResult:
        yield Static(self._content, id="checks-body")

    def show(self, file: PendingFile | None, preview: list[str] | None = None) -> None:
        """Describe ``file`` (or say there is none)."""
        self._content = describe_file(file, preview)
        self.query_one("#checks-body", Static).update(self._content)
        self.scroll_home(animate=False)

    @property
    def text(self) -> str:
        """The panel as plain text, for tests and for copying."""
        console = Console(width=200, no_color=True, file=io.StringIO())
        with console.capture() as capture:
            console.print(self._content)
        return capture.get()


def describe_file(
    file: PendingFile | None, preview: list[str] | None
) -> RenderableType:
    """The panel's contents for ``file``."""
    if file is None:
        return Text("No file highlighted.", style="dim")

    parts: list[RenderableType] = []
    head = Text()
    head.append(file.label, style="bold")
    head.append(f"  {format_size(file.size)} bytes  ")
    head.append_text(state_text(file.state))
    parts.append(head)

    report = file.report
    if report is None:
        parts.append(Text("Checking...", style="dim"))
        return Group(*parts)

    parts.append(_findings(file))
    if report.blocked:
        parts.append(Text(how_to_send_blocked(report), style="bold"))
    parts.append(Text(f"sha256 {report.sha256 or '-'}", style="dim"))
    parts.extend(_earlier(file))

    if preview:
        parts.append(Text("First lines:", style="bold"))
        for number, line in enumerate(preview, 1):
            parts.append(Text(f"{number:>3} {line}", no_wrap=True, overflow="ellipsis"))
    return Group(*parts)


def how_to_send_blocked(report: CheckReport) -> str:
    """What sending a blocked file takes, as the send flow really asks it."""
    from omar_tui.tui.screens.send_confirm import RENAME_RULES

    if report.sha256 is None or not report.size:
        return "Not sent: it cannot be sent as it is. Fix the file; r checks it again."
    rules = {finding.rule for finding in report.errors}
    if rules <= RENAME_RULES:
        return (
            "Not sent under this name. Press s and type a name it can go under "
            "in the dialog that follows."
        )
    renamed = rules & RENAME_RULES
    first = "type a name it can go under, then " if renamed else ""
    return (
        "Not sent unless you say so: press s, "
        f"{first}choose Send anyway in the question that follows."
    )


def _findings(file: PendingFile) -> RenderableType:
    report = file.report
    assert report is not None
    if not report.findings:
        return Text("[ok] Passes every check.", style="green")
    rows: list[RenderableType] = []
    for finding in report.findings:
        error = finding.severity is Severity.ERROR
        line = Text()
        if error:
            line.append("[x] ERROR ", style="bold red")
        else:
            line.append("[!] WARNING ", style="yellow")
        if finding.line is not None:
            line.append(f"line {finding.line}: ", style="bold")
        line.append(finding.message)
        rows.append(line)
        if finding.fix:
            rows.append(Text(f"    Fix: {finding.fix}", style="dim"))
    return Group(*rows)


def _earlier(file: PendingFile) -> list[RenderableType]:
    lines: list[RenderableType] = []
    result = file.last_result
    if result is not None and result.id:
        text = Text(f"This run: {result.outcome.value}", style="bold")
        if result.file_id:
            text.append(f", File Id {result.file_id}")
        if result.name_sent != file.path.name:
            text.append(f", sent as {result.name_sent}")
        lines.append(text)
        if result.outcome is not Outcome.ACCEPTED and result.message:
            lines.append(Text(f"    {result.message}"))
    last = file.unknown_before
    if last is not None and (result is None or not result.id):
        lines.append(
            Text(
                f"[?] The last attempt to send these bytes ({last.started_at}, as "
                f"{last.name_sent}) may have reached OMAR-Online: its outcome is "
                "unknown. Look it up there before sending again.",
                style="bold yellow",
            )
        )
    prior = file.accepted_before
    if prior is not None:
        when = prior.finished_at or prior.started_at
        lines.append(
            Text(
                f"[=] The same bytes were accepted on {when} as File Id "
                f"{prior.file_id} ({prior.name_sent}).",
                style="cyan",
            )
        )
    return lines
