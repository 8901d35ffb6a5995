"""The rule table and the helpers every check uses to word its findings.

Kept apart so that each rule module words its findings the same way: a rule
that matches many lines gives one finding naming the first few lines and the
total, with ``line`` set to the first, so a broken file cannot flood the
screen; names are quoted with what a terminal should not draw escaped.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from omar_tui.core.models import Finding, Severity

RULES: dict[str, str] = {
    "name-empty": "Blocks: the file name is empty.",
    "name-length": "Blocks: the name is over the limit (40 characters by default).",
    "name-chars": "Blocks: the name holds a path separator, quote or control "
    "character.",
    "name-encoding": "Blocks: the name holds bytes that are not valid text.",
    "name-non-ascii": "Warns: the name has non-ASCII characters; the server's "
    "counting is unknown.",
    "extension": "Blocks: the name does not end in .csv or .dat.",
    "extension-case": "Warns: the extension is not lower case (.CSV, .Dat).",
    "size": "Blocks: the file is 512,000 bytes or more (a setting).",
    "size-near-limit": "Warns: the file is 500,000 bytes or more; the server may "
    "refuse it.",
    "file-missing": "Blocks: the file does not exist (or its symlink is broken).",
    "file-directory": "Blocks: the path is a folder, not a file.",
    "file-not-regular": "Blocks: the path is a device, pipe or socket.",
    "file-unreadable": "Blocks: the file cannot be opened or read.",
    "file-outside-pending": "Blocks: a symlink leads outside the pending folder.",
    "file-changed": "Blocks: the file changed while it was being read.",
    "file-empty": "Blocks: the file is empty (0 bytes).",
    "binary": "Blocks: the file is not text (NUL bytes, UTF-16, a spreadsheet "
    "or archive).",
    "bom": "Warns: the file starts with a UTF-8 byte-order mark.",
    "non-ascii": "Warns: lines with non-ASCII bytes (meter data is ASCII).",
    "control-chars": "Warns: lines with control characters other than tab and "
    "line breaks.",
    "line-endings": "Warns: lines end in a mix of CRLF, LF and CR.",
    "csv-fields": "Warns: rows whose field count differs from the first row's.",
    "csv-quotes": "Warns: a double quote is opened and never closed.",
}
"""Every rule id the checks can report, with a one-line description."""

SHOWN_LINES = 3
"""How many line numbers one finding names before it only gives the total."""


def error(rule: str, message: str, fix: str, *, line: int | None = None) -> Finding:
    """A finding that blocks the file."""
    return Finding(rule, Severity.ERROR, message, fix, line)


def warning(rule: str, message: str, fix: str, *, line: int | None = None) -> Finding:
    """A finding that lets the file go but tells the operator why it may fail."""
    return Finding(rule, Severity.WARNING, message, fix, line)


def show(text: str) -> str:
    """Quote a name for a message, escaping what a terminal should not draw."""
    out = []
    for c in text:
        if "\udc80" <= c <= "\udcff":
            out.append(f"\\x{ord(c) - 0xDC00:02x}")
        elif not c.isprintable():
            out.append(c.encode("unicode_escape", "backslashreplace").decode())
        else:
            out.append(c)
    return "'" + "".join(out) + "'"


def lines_where(data: bytes, bad: Callable[[bytes], bool]) -> list[int]:
    """1-based numbers of the lines (split on CRLF, LF or CR) that are bad."""
    return [n for n, line in enumerate(data.splitlines(), 1) if bad(line)]


def phrase(lines: Sequence[int], noun: str = "line") -> str:
    """'on line 3', 'on lines 3, 17 and 40', 'on 1,234 lines, first at 3, ...'."""
    if len(lines) == 1:
        return f"on {noun} {lines[0]}"
    if len(lines) <= SHOWN_LINES:
        return f"on {noun}s {join_words([str(n) for n in lines])}"
    first = ", ".join(str(n) for n in lines[:SHOWN_LINES])
    return f"on {len(lines):,} {noun}s, first at {first}"


def join_words(parts: Sequence[str]) -> str:
    """'a', 'a and b', 'a, b and c'."""
    if len(parts) == 1:
        return parts[0]
    return ", ".join(parts[:-1]) + " and " + parts[-1]
