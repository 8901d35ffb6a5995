"""Rules on a file's bytes: is it text, and is it the documented ASCII.

CAISO validates contents only about an hour after the upload (SPEC.md R12),
so what can be seen in the bytes is seen here: files that are not text at
all block (NUL bytes, UTF-16, a spreadsheet or archive saved as ``.csv``);
what breaks the ASCII format or looks ragged only warns.
"""

from __future__ import annotations

from omar_tui.core.checks.csv_fields import check_fields, looks_comma_separated
from omar_tui.core.checks.findings import (
    error,
    join_words,
    lines_where,
    phrase,
    warning,
)
from omar_tui.core.models import Finding

_BOM = b"\xef\xbb\xbf"

_CONTROL = bytes([*range(0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0x7F])
"""C0 control bytes other than tab, LF and CR, plus DEL."""
_NOT_CONTROL = bytes(b for b in range(256) if b not in _CONTROL)

_MAGIC: tuple[tuple[bytes, str, str], ...] = (
    (
        b"PK\x03\x04",
        "a ZIP archive or an Excel .xlsx workbook",
        "Open it in Excel and use Save As > CSV (Comma delimited).",
    ),
    (
        b"\xd0\xcf\x11\xe0",
        "an old Excel .xls workbook or other Office file",
        "Open it in Excel and use Save As > CSV (Comma delimited).",
    ),
    (
        b"\xff\xfe",
        "UTF-16 text (Excel's 'Unicode Text')",
        "Save it as CSV (Comma delimited) or plain ASCII, not Unicode/UTF-16.",
    ),
    (
        b"\xfe\xff",
        "UTF-16 text",
        "Save it as CSV (Comma delimited) or plain ASCII, not Unicode/UTF-16.",
    ),
    (
        b"\x1f\x8b",
        "a gzip archive",
        "Unpack it and check the CSV inside instead.",
    ),
    (
        b"%PDF-",
        "a PDF document",
        "Export the meter data as CSV instead.",
    ),
)

_ENDINGS = {b"\r\n": "CRLF (Windows)", b"\n": "LF (Unix)", b"\r": "CR (old Mac)"}


def check_content(data: bytes, name: str) -> list[Finding]:
    """Check a file's bytes against the documented ASCII meter data format.

    Fast paths keep a 500 KB ASCII file well under the time of a screen
    refresh: whole-buffer ``isascii``, ``find``, ``count`` and ``translate``
    decide whether a rule can match at all, and only then are lines walked.

    Args:
        data: The complete contents.
        name: The name the file is sent under; a ``.csv`` name always gets
            the field-count check, any other only when it looks
            comma-separated.

    Returns:
        The findings, each with the line it starts at (1-based) where it has
        one.
    """
    if not data:
        return [
            error(
                "file-empty",
                "The file is empty (0 bytes).",
                "Check that the export finished, then send the file again.",
            )
        ]

    binary = _check_binary(data)
    if binary:
        return binary

    findings: list[Finding] = []
    body = data
    if data.startswith(_BOM):
        body = data[len(_BOM) :]
        findings.append(
            warning(
                "bom",
                "The file starts with a UTF-8 byte-order mark; meter data is "
                "documented as plain ASCII.",
                "Save the file as plain ASCII without a byte-order mark (in "
                "Excel: 'CSV (Comma delimited)', not 'CSV UTF-8').",
                line=1,
            )
        )

    findings.extend(_check_non_ascii(body))
    findings.extend(_check_control(body))
    findings.extend(_check_line_endings(body))
    if name.lower().endswith(".csv") or looks_comma_separated(body):
        findings.extend(check_fields(body))
    return findings


def _check_binary(data: bytes) -> list[Finding]:
    """Block files that are not text: known binary formats or NUL bytes."""
    for magic, what, fix in _MAGIC:
        if data.startswith(magic):
            return [error("binary", f"The file is {what}, not CSV text.", fix, line=1)]

    nul = data.find(b"\x00")
    if nul < 0:
        return []
    lines = lines_where(data, lambda line: b"\x00" in line)
    return [
        error(
            "binary",
            f"The file holds NUL bytes {phrase(lines)}: it is binary, not text"
            f"{' (perhaps UTF-16)' if _looks_utf16(data) else ''}.",
            "Export the meter data again as CSV (Comma delimited) or plain ASCII.",
            line=lines[0],
        )
    ]


def _looks_utf16(data: bytes) -> bool:
    sample = data[:4096]
    return sample.count(b"\x00") * 3 > len(sample)


def _check_non_ascii(body: bytes) -> list[Finding]:
    if body.isascii():
        return []
    lines = lines_where(body, lambda line: not line.isascii())
    try:
        body.decode("utf-8")
        kind = "they look like UTF-8"
    except UnicodeDecodeError:
        kind = "they are not UTF-8; perhaps Windows-1252 or Latin-1"
    return [
        warning(
            "non-ascii",
            f"Non-ASCII bytes {phrase(lines)} ({kind}); meter data is documented "
            "as ASCII.",
            "Save the file as plain ASCII: replace accented letters and symbols "
            "such as é, ° or curly quotes.",
            line=lines[0],
        )
    ]


def _check_control(body: bytes) -> list[Finding]:
    if not body.translate(None, _NOT_CONTROL):
        return []
    lines = lines_where(body, lambda line: bool(line.translate(None, _NOT_CONTROL)))
    eof = body.rstrip(b" \r\n").endswith(b"\x1a")
    note = " (a Ctrl-Z at the end is an old DOS end-of-file mark)" if eof else ""
    return [
        warning(
            "control-chars",
            f"Control characters other than tab and line breaks {phrase(lines)}{note}.",
            "Remove them, or export the file again as plain ASCII text.",
            line=lines[0],
        )
    ]


def _check_line_endings(body: bytes) -> list[Finding]:
    """Warn when lines end in more than one way; name the odd ones out."""
    crlf = body.count(b"\r\n")
    counts = {
        b"\r\n": crlf,
        b"\n": body.count(b"\n") - crlf,
        b"\r": body.count(b"\r") - crlf,
    }
    if sum(1 for n in counts.values() if n) < 2:
        return []

    usual = max(counts, key=lambda k: counts[k])
    odd = [
        number
        for number, line in enumerate(body.splitlines(keepends=True), 1)
        if _ending(line) not in (usual, b"")
    ]
    others = join_words([_ENDINGS[k] for k in _ENDINGS if k != usual and counts[k]])
    return [
        warning(
            "line-endings",
            f"Mixed line endings: most lines end in {_ENDINGS[usual]}, but "
            f"{others} {phrase(odd)}.",
            "Save the file again with one kind of line ending (for example with "
            "dos2unix or unix2dos).",
            line=odd[0],
        )
    ]


def _ending(line: bytes) -> bytes:
    if line.endswith(b"\r\n"):
        return b"\r\n"
    if line.endswith((b"\n", b"\r")):
        return line[-1:]
    return b""
