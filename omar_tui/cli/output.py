"""How the CLI prints findings and submissions, for people and for scripts.

``submit --json`` and ``history --json`` share :func:`submission_record`, so a
script that reads one can read the other.
"""

from __future__ import annotations

import json
import sys
from typing import Any, TextIO

from omar_tui.core.models import CheckReport, Outcome, Submission
from omar_tui.errors import ExitCode, OmarError

MARKS = {
    Outcome.ACCEPTED: "[ok]",
    Outcome.REJECTED: "[rejected]",
    Outcome.BLOCKED: "[blocked]",
    Outcome.FAILED: "[failed]",
    Outcome.UNKNOWN: "[UNKNOWN]",
    Outcome.PENDING: "[ready]",
}


def submission_record(sub: Submission) -> dict[str, Any]:
    """The JSON shape of a submission, the same for ``submit`` and ``history``."""
    return {
        "file": sub.local_path,
        "name_sent": sub.name_sent,
        "sha256": sub.sha256,
        "bytes": sub.bytes,
        "outcome": sub.outcome.value,
        "file_id": sub.file_id,
        "saved_as": sub.saved_as,
        "server_size": sub.server_size,
        "size_mismatch": sub.size_mismatch,
        "message": sub.message,
        "environment": sub.environment,
        "base_url": sub.base_url,
        "started_at": sub.started_at,
        "finished_at": sub.finished_at,
        "history_id": sub.id or None,
        "profile": sub.profile,
        "moved_to": sub.moved_to,
    }


def print_json(record: dict[str, Any], out: TextIO | None = None) -> None:
    print(json.dumps(record, ensure_ascii=False), file=out or sys.stdout, flush=True)


def print_report(report: CheckReport, out: TextIO | None = None) -> None:
    """A file's findings, one per line, errors first."""
    stream = out or sys.stdout
    if report.blocked:
        verdict = "blocked"
    elif report.findings:
        verdict = "ok with warnings"
    else:
        verdict = "ok"
    size = f"{report.size:,} bytes" if report.size is not None else "unreadable"
    print(f"{report.path}: {verdict} ({size})", file=stream)

    ordered = sorted(
        report.findings, key=lambda f: (f.severity != "error", f.line or 0)
    )
    for finding in ordered:
        where = f" line {finding.line}" if finding.line else ""
        print(
            f"  {finding.severity.value:<7} {finding.rule}{where}: {finding.message}",
            file=stream,
        )
        if finding.fix:
            print(f"          fix: {finding.fix}", file=stream)


def print_submission(sub: Submission, out: TextIO | None = None) -> None:
    from omar_tui.core.sender import describe

    mark = MARKS.get(sub.outcome, "[?]")
    print(f"{mark} {describe(sub)}", file=out or sys.stdout, flush=True)


def print_error(error: OmarError) -> None:
    print(f"omar-tui: {error.title}", file=sys.stderr)
    if error.hint:
        print(f"  {error.hint}", file=sys.stderr)


def exit_code_for(outcomes: list[Outcome]) -> ExitCode:
    """The worst outcome decides: unknown, then failures, then blocked files."""
    if Outcome.UNKNOWN in outcomes:
        return ExitCode.UNKNOWN
    if Outcome.REJECTED in outcomes or Outcome.FAILED in outcomes:
        return ExitCode.SOME_FAILED
    if Outcome.BLOCKED in outcomes:
        return ExitCode.BLOCKED
    return ExitCode.OK
