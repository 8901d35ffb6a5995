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
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
import stat
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from omar_tui.core.models import CheckReport, Finding, Limits, Severity

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

_EXTENSIONS = (".csv", ".dat")
_BAD_NAME_CHARS = frozenset("/\\'\"")
_BOM = b"\xef\xbb\xbf"
_READ_CAP = 16 * 1024 * 1024
"""Files larger than this (or twice the block limit) are not read at all."""

_CONTROL = bytes([*range(0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0x7F])
"""C0 control bytes other than tab, LF and CR, plus DEL."""
_NOT_CONTROL = bytes(b for b in range(256) if b not in _CONTROL)
_NOT_COMMA_OR_LF = bytes(b for b in range(256) if b not in b",\n")

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


# --- names -------------------------------------------------------------------


def check_name(name: str, limits: Limits) -> list[Finding]:
    """Check the name a file will be sent under (SPEC.md R9, R10).

    The length is counted on ``name`` exactly as it will be sent, in
    characters. A name with non-ASCII characters only warns, since nobody
    knows whether the server counts characters or bytes.

    Args:
        name: The name as it will be sent (not a path).
        limits: The configured limits; only ``max_name`` is used.

    Returns:
        The findings, empty when the name is fine.
    """
    if not name:
        return [
            _error(
                "name-empty",
                "The file name is empty.",
                "Give the file a name ending in .csv or .dat.",
            )
        ]

    findings: list[Finding] = []
    shown = _show(name)

    if len(name) > limits.max_name:
        findings.append(
            _error(
                "name-length",
                f"The name {shown} is {len(name)} characters long; OMAR-Online "
                f"takes at most {limits.max_name}, extension included.",
                "Rename the file, or send it under a shorter name such as "
                f"{suggest_short_name(name, limits.max_name)}.",
            )
        )

    bad = sorted({c for c in name if c in _BAD_NAME_CHARS or _is_control(c)})
    if bad:
        findings.append(
            _error(
                "name-chars",
                f"The name {shown} holds {_list_chars(bad)}, which cannot be "
                "sent safely in a file name.",
                "Rename the file without / \\ ' \" or control characters.",
            )
        )

    if _has_surrogates(name):
        findings.append(
            _error(
                "name-encoding",
                f"The name {shown} holds bytes that are not valid UTF-8 text.",
                "Rename the file using only ASCII letters, digits, '-', '_' and '.'.",
            )
        )
    elif not name.isascii():
        size = len(name.encode("utf-8"))
        findings.append(
            _warning(
                "name-non-ascii",
                f"The name {shown} has non-ASCII characters ({len(name)} "
                f"characters, {size} bytes in UTF-8); OMAR-Online may count or "
                "store it differently.",
                "Rename the file using only ASCII letters, digits, '-', '_' and '.'.",
            )
        )

    findings.extend(_check_extension(name, shown))
    return findings


def _check_extension(name: str, shown: str) -> list[Finding]:
    """Check the extension: lower-case passes, other case warns, else block."""
    if name.endswith(_EXTENSIONS):
        return []

    lowered = name.lower()
    if lowered.endswith(_EXTENSIONS):
        right = name[:-4] + lowered[-4:]
        return [
            _warning(
                "extension-case",
                f"The extension of {shown} is not lower case; the contract "
                "names .csv and .dat.",
                f"Rename the file to {_show(right)}.",
            )
        ]

    if name.rstrip().lower().endswith(_EXTENSIONS):
        fix = "Remove the spaces after the extension."
    else:
        fix = "Rename the file to end in .csv (or .dat)."
    return [
        _error(
            "extension",
            f"The name {shown} does not end in .csv or .dat; OMAR-Online takes "
            "no other files.",
            fix,
        )
    ]


def suggest_short_name(name: str, max_len: int = 40) -> str:
    """Propose a name that passes the name rules, for sending under.

    Used when an operator sends a file whose own name is too long or unsafe:
    the file keeps its name on disk and travels under this one. The extension
    is kept (a ``.CSV`` becomes ``.csv``), unsafe and non-ASCII characters are
    replaced, and when the name is still too long its middle is cut out and
    marked with ``~``, since dates, resource ids and versions tend to sit at
    the start and the end.

    Args:
        name: The name to shorten.
        max_len: The longest name allowed.

    Returns:
        A name of at most ``max_len`` characters; ``name`` itself when it is
        already fine.
    """
    stem, ext = _split_extension(name)
    if ext.lower() in _EXTENSIONS:
        ext = ext.lower()
    stem = _ascii_safe(stem).strip(" ") or "file"
    ext = _ascii_safe(ext)

    if len(stem) + len(ext) <= max_len:
        return stem + ext
    if len(ext) + 3 > max_len:
        return (stem + ext)[:max_len]

    room = max_len - len(ext) - 1
    head = stem[: (room + 1) // 2].rstrip(" ._-")
    tail = stem[len(stem) - room // 2 :].lstrip(" ._-")
    return f"{head}~{tail}{ext}"


def _split_extension(name: str) -> tuple[str, str]:
    """Split off a short alphanumeric extension (``.csv``), if there is one."""
    dot = name.rfind(".")
    if dot <= 0:
        return name, ""
    ext = name[dot:]
    if len(ext) > 6 or not ext[1:].isalnum():
        return name, ""
    return name[:dot], ext


def _ascii_safe(text: str) -> str:
    """Fold accents to ASCII and replace anything unsafe with ``_``."""
    folded = unicodedata.normalize("NFKD", text.encode("utf-8", "replace").decode())
    out = []
    for c in folded:
        if unicodedata.combining(c):
            continue
        unsafe = not c.isascii() or c in _BAD_NAME_CHARS or _is_control(c)
        out.append("_" if unsafe else c)
    return "".join(out)


def _is_control(c: str) -> bool:
    return unicodedata.category(c) == "Cc"


def _has_surrogates(text: str) -> bool:
    """True for names decoded from non-UTF-8 bytes (``os.fsdecode``)."""
    return any("\ud800" <= c <= "\udfff" for c in text)


def _show(text: str) -> str:
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


def _list_chars(chars: Sequence[str]) -> str:
    names = {"/": "a slash (/)", "\\": "a backslash (\\)"}
    names |= {"'": "a single quote (')", '"': 'a double quote (")'}
    parts = [names.get(c, f"a control character ({_show(c)[1:-1]})") for c in chars]
    return _join(parts)


# --- files -------------------------------------------------------------------


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
    read = _read(path, pending_root, limits)
    findings = list(read.findings)
    findings.extend(check_name(send_name, limits))

    if read.size is not None:
        findings.extend(_check_size(read.size, limits))

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


@dataclass(frozen=True, slots=True)
class _Read:
    """What reading a file gave: its bytes, or the findings why not."""

    findings: tuple[Finding, ...] = ()
    data: bytes | None = None
    size: int | None = None
    """Bytes read, or the ``fstat`` size of a file too large to read."""
    mtime: float | None = None
    stamp: tuple[int, int, int, int, int] | None = None


def _read(path: Path, pending_root: Path | None, limits: Limits) -> _Read:
    """Open, fstat and read ``path``, turning every failure into a finding."""
    target = path
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)

    if pending_root is not None:
        try:
            root = pending_root.resolve()
            target = path.resolve()
        except (OSError, RuntimeError, ValueError) as exc:
            return _Read((_unreadable(path, exc),))
        if not target.is_relative_to(root):
            return _Read((_outside(path, target, root),))
        flags |= getattr(os, "O_NOFOLLOW", 0)

    opener: Callable[[str, int], int] = lambda p, _f: os.open(p, flags)  # noqa: E731
    try:
        with open(target, "rb", buffering=0, opener=opener) as handle:
            st = os.fstat(handle.fileno())
            if stat.S_ISDIR(st.st_mode):
                return _Read((_directory(path),))
            if not stat.S_ISREG(st.st_mode):
                return _Read((_not_regular(path),))

            cap = max(_READ_CAP, 2 * limits.block_bytes)
            if st.st_size > cap:
                return _Read(size=st.st_size, mtime=st.st_mtime)
            data = _read_capped(handle, cap, st.st_size)
    except FileNotFoundError:
        return _Read((_missing(path),))
    except IsADirectoryError:
        return _Read((_directory(path),))
    except (OSError, ValueError) as exc:
        return _Read((_unreadable(path, exc),))

    if len(data) > cap:
        return _Read(size=len(data), mtime=st.st_mtime)
    changed = (
        () if len(data) == st.st_size else (_changed(path, st.st_size, len(data)),)
    )
    return _Read(
        changed, data=data, size=len(data), mtime=st.st_mtime, stamp=file_stamp(st)
    )


def file_stamp(st: os.stat_result) -> tuple[int, int, int, int, int]:
    """What identifies one version of a file without reading it (see CheckReport)."""
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)


def _read_capped(handle: io.FileIO, cap: int, expected: int) -> bytes:
    """Read to the end, but never more than ``cap + 1`` bytes.

    The first read asks for one byte more than ``fstat`` promised, so a file
    that does not change is read in one call and its end seen in the next.
    """
    chunks = []
    total = 0
    step = min(cap, max(expected, 65_536)) + 1
    while total <= cap:
        chunk = handle.read(min(step, cap + 1 - total))
        if not chunk:
            break
        chunks.append(chunk)
        total += len(chunk)
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)


def _check_size(size: int, limits: Limits) -> list[Finding]:
    if size >= limits.block_bytes:
        return [
            _error(
                "size",
                f"The file is {size:,} bytes; OMAR-Online takes files under 500 KB "
                f"(blocked from {limits.block_bytes:,} bytes).",
                "Split the data into smaller files and send each one.",
            )
        ]
    if size >= limits.warn_bytes:
        return [
            _warning(
                "size-near-limit",
                f"The file is {size:,} bytes; if OMAR-Online counts 500 KB as "
                "500,000 bytes it will refuse it.",
                "Split the data into smaller files to be safe.",
            )
        ]
    return []


def _missing(path: Path) -> Finding:
    if path.is_symlink():
        message = f"{_show(str(path))} is a symlink to a file that does not exist."
        fix = "Fix or remove the symlink."
    else:
        message = f"{_show(str(path))} does not exist (moved or deleted?)."
        fix = "Check the path, or refresh the list of pending files."
    return _error("file-missing", message, fix)


def _directory(path: Path) -> Finding:
    return _error(
        "file-directory",
        f"{_show(str(path))} is a folder, not a file.",
        "Choose the meter data files inside it instead.",
    )


def _not_regular(path: Path) -> Finding:
    return _error(
        "file-not-regular",
        f"{_show(str(path))} is not a regular file (a device, pipe or socket).",
        "Copy the data into an ordinary file and send that.",
    )


def _unreadable(path: Path, exc: BaseException) -> Finding:
    reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
    return _error(
        "file-unreadable",
        f"{_show(str(path))} cannot be read: {reason}.",
        "Check the file's permissions (the user running omar-tui must be able "
        "to read it).",
    )


def _outside(path: Path, target: Path, root: Path) -> Finding:
    return _error(
        "file-outside-pending",
        f"{_show(str(path))} leads to {_show(str(target))}, outside the pending "
        f"folder {_show(str(root))}.",
        "Copy the file into the pending folder instead of linking to it.",
    )


def _changed(path: Path, before: int, after: int) -> Finding:
    return _error(
        "file-changed",
        f"{_show(str(path))} changed while it was read ({before:,} bytes, then "
        f"{after:,}); it may still be being written.",
        "Wait until whatever writes the file has finished, then check it again.",
    )


# --- contents ----------------------------------------------------------------


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
            _error(
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
            _warning(
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
    if name.lower().endswith(".csv") or _looks_comma(body):
        findings.extend(_check_fields(body))
    return findings


def _check_binary(data: bytes) -> list[Finding]:
    """Block files that are not text: known binary formats or NUL bytes."""
    for magic, what, fix in _MAGIC:
        if data.startswith(magic):
            return [_error("binary", f"The file is {what}, not CSV text.", fix, line=1)]

    nul = data.find(b"\x00")
    if nul < 0:
        return []
    lines = _lines_where(data, lambda line: b"\x00" in line)
    return [
        _error(
            "binary",
            f"The file holds NUL bytes {_phrase(lines)}: it is binary, not text"
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
    lines = _lines_where(body, lambda line: not line.isascii())
    try:
        body.decode("utf-8")
        kind = "they look like UTF-8"
    except UnicodeDecodeError:
        kind = "they are not UTF-8; perhaps Windows-1252 or Latin-1"
    return [
        _warning(
            "non-ascii",
            f"Non-ASCII bytes {_phrase(lines)} ({kind}); meter data is documented "
            "as ASCII.",
            "Save the file as plain ASCII: replace accented letters and symbols "
            "such as é, ° or curly quotes.",
            line=lines[0],
        )
    ]


def _check_control(body: bytes) -> list[Finding]:
    if not body.translate(None, _NOT_CONTROL):
        return []
    lines = _lines_where(body, lambda line: bool(line.translate(None, _NOT_CONTROL)))
    eof = body.rstrip(b" \r\n").endswith(b"\x1a")
    note = " (a Ctrl-Z at the end is an old DOS end-of-file mark)" if eof else ""
    return [
        _warning(
            "control-chars",
            f"Control characters other than tab and line breaks {_phrase(lines)}"
            f"{note}.",
            "Remove them, or export the file again as plain ASCII text.",
            line=lines[0],
        )
    ]


_ENDINGS = {b"\r\n": "CRLF (Windows)", b"\n": "LF (Unix)", b"\r": "CR (old Mac)"}


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
    others = _join([_ENDINGS[k] for k in _ENDINGS if k != usual and counts[k]])
    return [
        _warning(
            "line-endings",
            f"Mixed line endings: most lines end in {_ENDINGS[usual]}, but "
            f"{others} {_phrase(odd)}.",
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


def _looks_comma(body: bytes) -> bool:
    """True when each of the first ten non-blank lines holds a comma."""
    head = [line for line in body[:65536].splitlines()[:50] if line.strip()][:10]
    return bool(head) and all(b"," in line for line in head)


def _check_fields(body: bytes) -> list[Finding]:
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
        _warning(
            "csv-fields",
            f"Rows with a different number of fields from line {first_line} "
            f"({_fields(expected)}) {_phrase(lines, noun='line')} ({detail}).",
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
    return _warning(
        "csv-quotes",
        message,
        'Close the quote, or double it ("") where a quote is meant literally.',
        line=line,
    )


# --- helpers -----------------------------------------------------------------


def _lines_where(data: bytes, bad: Callable[[bytes], bool]) -> list[int]:
    """1-based numbers of the lines (split on CRLF, LF or CR) that are bad."""
    return [n for n, line in enumerate(data.splitlines(), 1) if bad(line)]


def _phrase(lines: Sequence[int], noun: str = "line") -> str:
    """'on line 3', 'on lines 3, 17 and 40', 'on 1,234 lines, first at 3, ...'."""
    if len(lines) == 1:
        return f"on {noun} {lines[0]}"
    if len(lines) <= SHOWN_LINES:
        return f"on {noun}s {_join([str(n) for n in lines])}"
    first = ", ".join(str(n) for n in lines[:SHOWN_LINES])
    return f"on {len(lines):,} {noun}s, first at {first}"


def _join(parts: Sequence[str]) -> str:
    if len(parts) == 1:
        return parts[0]
    return ", ".join(parts[:-1]) + " and " + parts[-1]


def _fields(count: int) -> str:
    return f"{count} field" if count == 1 else f"{count} fields"


def _error(rule: str, message: str, fix: str, *, line: int | None = None) -> Finding:
    return Finding(rule, Severity.ERROR, message, fix, line)


def _warning(rule: str, message: str, fix: str, *, line: int | None = None) -> Finding:
    return Finding(rule, Severity.WARNING, message, fix, line)
