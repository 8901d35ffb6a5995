"""Rules for the name a file is sent under, and a safe name to offer instead.

A name is checked apart from the file (SPEC.md R9, R10) because an operator
may send a file under another name: the rename dialog checks a typed name
with these rules alone, and :func:`suggest_short_name` proposes one.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence

from omar_tui.core.checks.findings import error, join_words, show, warning
from omar_tui.core.models import Finding, Limits

_EXTENSIONS = (".csv", ".dat")
"""The only extensions OMAR-Online takes, in the case the contract names."""

_BAD_NAME_CHARS = frozenset("/\\'\"")


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
            error(
                "name-empty",
                "The file name is empty.",
                "Give the file a name ending in .csv or .dat.",
            )
        ]

    findings: list[Finding] = []
    shown = show(name)

    if len(name) > limits.max_name:
        findings.append(
            error(
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
            error(
                "name-chars",
                f"The name {shown} holds {_list_chars(bad)}, which cannot be "
                "sent safely in a file name.",
                "Rename the file without / \\ ' \" or control characters.",
            )
        )

    if _has_surrogates(name):
        findings.append(
            error(
                "name-encoding",
                f"The name {shown} holds bytes that are not valid UTF-8 text.",
                "Rename the file using only ASCII letters, digits, '-', '_' and '.'.",
            )
        )
    elif not name.isascii():
        size = len(name.encode("utf-8"))
        findings.append(
            warning(
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
            warning(
                "extension-case",
                f"The extension of {shown} is not lower case; the contract "
                "names .csv and .dat.",
                f"Rename the file to {show(right)}.",
            )
        ]

    if name.rstrip().lower().endswith(_EXTENSIONS):
        fix = "Remove the spaces after the extension."
    else:
        fix = "Rename the file to end in .csv (or .dat)."
    return [
        error(
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


def _list_chars(chars: Sequence[str]) -> str:
    names = {"/": "a slash (/)", "\\": "a backslash (\\)"}
    names |= {"'": "a single quote (')", '"': 'a double quote (")'}
    parts = [names.get(c, f"a control character ({show(c)[1:-1]})") for c in chars]
    return join_words(parts)
