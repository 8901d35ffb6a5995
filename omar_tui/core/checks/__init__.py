"""Pre-flight checks: what OMAR-Online will refuse, caught before anything is sent.

CAISO validates a file's contents only about an hour after the upload
(SPEC.md R12), so a bad file found here saves an operator that wait. The
checks read a file once and keep the bytes they read: those exact bytes are
hashed and are the only ones ever sent, so what was approved is what leaves.

Severities, and why:

- **Errors block** a file where the contract is broken (size, extension, name
  length, SPEC.md R8-R10), where the name cannot travel safely (separators,
  quotes, control characters, undecodable bytes), where there is nothing
  sensible to send (missing, empty, a folder, unreadable, changed while read,
  a symlink leading out of the pending folder) and where the contents are not
  text at all (NUL bytes, UTF-16, a spreadsheet or archive saved as ``.csv``).
- **Warnings** cover what may be fine or may be refused later: a size between
  the two readings of "500 KB", an upper-case extension, a non-ASCII name, and
  contents that break the documented ASCII format or look ragged (byte-order
  mark, non-ASCII bytes, other control characters, mixed line endings, rows
  whose field count differs from the first row's, an unclosed quote). We do not
  have CAISO's CSV layout, so no column is checked by meaning.

Field counts are checked on ``.csv`` files always, and on any other file only
when it looks comma-separated: each of its first ten non-blank lines holds a
comma. Double-quoted fields may hold commas and line breaks. Blank lines at the
end of a file are ignored; blank lines elsewhere count as rows.

A rule that matches many lines gives one finding naming the first few lines
and the total, with ``line`` set to the first, so a broken file cannot flood
the screen.

The rules live in one module per seam: :mod:`.names` (the name sent under),
:mod:`.reading` (opening and reading the file once, and the file rules),
:mod:`.content` (the bytes), :mod:`.csv_fields` (the field count) and
:mod:`.findings` (the rule table and the shared wording). This module ties
them together in :func:`check_file`.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from omar_tui.core.checks.content import check_content
from omar_tui.core.checks.findings import RULES, SHOWN_LINES
from omar_tui.core.checks.names import check_name, suggest_short_name
from omar_tui.core.checks.reading import check_size, file_stamp, read_once
from omar_tui.core.models import CheckReport, Limits

__all__ = [
    "RULES",
    "SHOWN_LINES",
    "check_content",
    "check_file",
    "check_name",
    "file_stamp",
    "suggest_short_name",
]


def check_file(
    path: Path,
    *,
    limits: Limits = Limits(),  # noqa: B008 - frozen, so one shared default is safe
    pending_root: Path | None = None,
    name: str | None = None,
) -> CheckReport:
    """Read one file once and run every check on it.

    The file is opened, measured with ``fstat`` on the same descriptor and
    read; ``report.data`` holds exactly the bytes that were checked and hashed,
    and those are the bytes the client sends. This never raises for a bad
    file: every problem becomes a finding.

    Args:
        path: The file on disk.
        limits: Size and name limits (settings).
        pending_root: The pending folder. When given, a file whose real
            location (after symlinks) lies outside it is blocked, and the file
            is then opened by its resolved path without following links.
        name: The name to send the file under; ``path.name`` when ``None``.

    Returns:
        The report. ``data``, ``size``, ``sha256`` and ``mtime`` are ``None``
        when the file could not be read.
    """
    send_name = path.name if name is None else name
    read = read_once(path, pending_root, limits)
    findings = list(read.findings)
    findings.extend(check_name(send_name, limits))

    if read.size is not None:
        findings.extend(check_size(read.size, limits))

    digest: str | None = None
    if read.data is not None:
        findings.extend(check_content(read.data, send_name))
        digest = hashlib.sha256(read.data).hexdigest()

    return CheckReport(
        path=path,
        name=send_name,
        findings=tuple(findings),
        size=None if read.data is None else len(read.data),
        sha256=digest,
        mtime=read.mtime,
        data=read.data,
        stamp=read.stamp,
    )
