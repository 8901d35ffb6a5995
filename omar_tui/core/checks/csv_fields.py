"""The field-count rule: rows whose number of fields differs from the first's.

Its own module because it is the one rule with a parser in it and the one
whose speed matters most: the common case (no quotes, every row the same
shape) is decided by whole-buffer byte operations, and only a file that
fails that shortcut is counted line by line, or with the ``csv`` module
when it holds double quotes (which may hold commas and line breaks).

Blank lines at the end of a file are ignored; blank lines elsewhere count as
rows. We do not have CAISO's CSV layout, so no column is checked by meaning.
"""

from __future__ import annotations

import csv
import io

from omar_tui.core.checks.findings import SHOWN_LINES, phrase, warning
from omar_tui.core.models import Finding

_NOT_COMMA_OR_LF = bytes(b for b in range(256) if b not in b",\n")


def looks_comma_separated(body: bytes) -> bool:
    """True when each of the first ten non-blank lines holds a comma."""
    head = [line for line in body[:65536].splitlines()[:50] if line.strip()][:10]
    return bool(head) and all(b"," in line for line in head)


def check_fields(body: bytes) -> list[Finding]:
    """Compare each row's field count with the first row's, quotes respected."""
    if b'"' in body:
        rows, findings = _count_quoted(body)
    elif _same_comma_counts(body):
        return []
    else:
        rows = [(n, line.count(b",") + 1 if line else 0) for n, line in _numbered(body)]
        findings = []

    if not rows:
        return findings
    first_line, expected = rows[0]
    odd = [(n, count) for n, count in rows[1:] if count != expected]
    if not odd:
        return findings

    lines = [n for n, _ in odd]
    detail = ", ".join(f"line {n}: {_fields(count)}" for n, count in odd[:SHOWN_LINES])
    findings.insert(
        0,
        warning(
            "csv-fields",
            f"Rows with a different number of fields from line {first_line} "
            f"({_fields(expected)}) {phrase(lines, noun='line')} ({detail}).",
            "Check these rows: a field that holds a comma must be in double "
            "quotes, and no field may be missing or extra.",
            line=lines[0],
        ),
    )
    return findings


def _same_comma_counts(body: bytes) -> bool:
    """True when every row of an unquoted body holds the same number of commas.

    The common case, decided without a Python loop over the lines: drop all
    but commas and line feeds, then compare the lines that are left. False
    means "count line by line", not "ragged": blank rows, rows without a
    comma and bare CR line ends (which the skeleton would not split on) all
    take the slow path, which names the lines.
    """
    if body.count(b"\r") != body.count(b"\r\n"):
        return False
    shapes = set(body.strip().translate(None, _NOT_COMMA_OR_LF).split(b"\n"))
    return len(shapes) == 1 and shapes != {b""}


def _numbered(body: bytes) -> list[tuple[int, bytes]]:
    """Non-blank-at-the-end lines with their 1-based numbers, leading blanks out."""
    lines = body.splitlines()
    while lines and not lines[-1].strip():
        lines.pop()
    numbered = list(enumerate(lines, 1))
    while numbered and not numbered[0][1].strip():
        numbered.pop(0)
    return numbered


def _count_quoted(body: bytes) -> tuple[list[tuple[int, int]], list[Finding]]:
    """Field counts per record with the csv module, for files with quotes."""
    text = body.decode("latin-1")
    reader = csv.reader(io.StringIO(text, newline=""))
    rows: list[tuple[int, int, bool]] = []
    start = 1
    try:
        for record in reader:
            blank = not record or (len(record) == 1 and not record[0].strip())
            rows.append((start, len(record), blank))
            start = reader.line_num + 1
    except csv.Error as exc:  # a field over the csv module's size limit, say
        if text.count('"') % 2:
            return [], [_unclosed_quote(start)]
        problem = f"The CSV cannot be read from line {start}: {exc}."
        return [], [_quote_problem(start, problem)]

    # An odd number of quotes and a last record running over several lines
    # means a quote opened there swallowed the rest of the file.
    findings = []
    if rows and text.count('"') % 2 and reader.line_num > rows[-1][0]:
        findings.append(_unclosed_quote(rows[-1][0]))

    while rows and rows[-1][2]:
        rows.pop()
    while rows and rows[0][2]:
        rows.pop(0)
    return [(n, count) for n, count, _ in rows], findings


def _unclosed_quote(line: int) -> Finding:
    return _quote_problem(
        line,
        f"A double quote on line {line} is never closed, so the rest of the file "
        "reads as one field.",
    )


def _quote_problem(line: int, message: str) -> Finding:
    return warning(
        "csv-quotes",
        message,
        'Close the quote, or double it ("") where a quote is meant literally.',
        line=line,
    )


def _fields(count: int) -> str:
    return f"{count} field" if count == 1 else f"{count} fields"
