"""Reading OMAR-Online's reply page to an upload (SPEC.md R11).

CAISO documents the receipt only by example and warns that production "may
differ slightly", so the parser reads the page's *text*, not its markup: it
does not care about tables, CSS classes, letter case, ``&nbsp;`` or the order
of the rows. Its one firm rule is about safety: a page is ACCEPTED only when
a File Id is found on it. A page that looks like a receipt but has no File Id
is UNRECOGNISED (the file may well have been saved), never REJECTED, so it is
never presented as safe to send again.

BeautifulSoup (with the standard library's ``html.parser``) is imported when
a page is parsed, keeping start-up light.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass

from omar_tui.core.models import Receipt, ReceiptKind

SUMMARY_CHARS = 200
"""Longest summary of an unrecognised page, or of a rejection message."""

_BLOCK_TAGS = frozenset(
    {
        *("address", "article", "aside", "blockquote", "body", "br", "caption"),
        *("center", "dd", "div", "dl", "dt", "fieldset", "figcaption", "figure"),
        *("footer", "form", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr"),
        *("html", "li", "main", "nav", "ol", "p", "pre", "section", "table"),
        *("tbody", "td", "tfoot", "th", "thead", "title", "tr", "ul"),
    }
)
"""Elements whose edges end a line of text; inline tags (b, span...) do not."""
_BLOCK_TAG = re.compile(
    r"<\s*/?\s*(?:" + "|".join(sorted(_BLOCK_TAGS)) + r")\b[^>]*>", re.IGNORECASE
)

# --- patterns on the page text (case-insensitive) ---

_FILE_ID = re.compile(
    r"\bfile\s*[-_]?\s*id\b"
    r"(?:\s*(?:[:#=]|no\.|number)\s*[:#]?\s*(?P<tagged>(?=[\w.-]*\d)[a-z0-9][\w.-]*)"
    r"|\s+(?P<bare>\d[\w-]*))",
    re.IGNORECASE,
)
"""``File Id: 1``, ``FILE ID : 1``, ``File ID# 1``, ``FileId=1``, ``File Id 1``.

Without a separator only a number is taken, so "file id for future
reference" in the receipt's own advice is never read as an id.
"""

_FILE_SIZE = re.compile(
    r"\bfile\s*[-_]?\s*size\b\s*(?:\(\s*bytes\s*\))?\s*[:#=]?\s*"
    r"(?P<num>\d[\d,.]*)\s*(?P<unit>bytes?|[kmg]i?b|[kmg])?\b",
    re.IGNORECASE,
)
_SAVED_AS = re.compile(
    r"\bsaved\s+as\b\s*[:=]?\s*(?P<name>[^\n]*)",
    re.IGNORECASE,
)
_UPLOADED = re.compile(
    r"(?P<before>[^\n]*?)\s*\b(?:meter\s+)?(?:data\s+)?file\s+(?:was\s+)?"
    r"(?:successfully\s+)?uploaded\b",
    re.IGNORECASE,
)
_SOURCE_LABEL = re.compile(
    r"\b(?:source\s*file(?:\s*name)?|file\s*name)\s*[:=]\s*(?P<name>[^\n]+)",
    re.IGNORECASE,
)
_NEXT_LABEL = re.compile(
    r"\s*\b(?:file\s*[-_]?\s*(?:size|id)|saved\s+as|meter\s+file)\b.*$",
    re.IGNORECASE,
)
_DATA_NAME = re.compile(r"[^\s\"'<>]+\.(?:csv|dat)\b", re.IGNORECASE)

_LOGIN = re.compile(
    r"\blog\s*-?\s*(?:in|on)\b|\bsign\s*-?\s*in\b|\bnot\s+(?:logged|signed)\s+in\b"
    r"|\bsession\b[^\n]{0,40}\b(?:expired|timed?\s*-?\s*out|invalid|ended)\b"
    r"|\bcertificate\b|\bauthenticat|\bunauthori[sz]ed\b|\bpassword\b",
    re.IGNORECASE,
)
_ERROR = re.compile(
    r"\berrors?\b|\binvalid\b|\bexceed|\bmust\b|\bnot\s+(?:allowed|permitted)\b"
    r"|\bfail(?:ed|ure|s)?\b|\breject|\brefused\b|\bdenied\b|\btoo\s+(?:large|big|long)\b"
    r"|\bunable\b|\bcannot\b|\bcould\s+not\b|\bnot\s+accepted\b",
    re.IGNORECASE,
)
_META_CHARSET = re.compile(
    rb"<meta[^>]*?charset\s*=\s*[\"']?\s*([a-z0-9_.:-]+)", re.IGNORECASE
)
_HEADER_CHARSET = re.compile(r"charset\s*=\s*[\"']?\s*([a-z0-9_.:-]+)", re.IGNORECASE)

# Browsers read these labels as windows-1252, and so do servers' authors.
_CP1252_ALIASES = {"iso8859-1", "latin-1", "ascii", "cp1252"}


@dataclass(frozen=True, slots=True)
class _Page:
    """A reply page reduced to what the rules look at."""

    html: str
    text: str
    """Visible text, one line per block element, spaces collapsed."""
    title: str
    has_password_field: bool
    has_login_form: bool


def parse_receipt(
    body: bytes, content_type: str | None = None, *, status: int | None = None
) -> Receipt:
    """Classify and read the page OMAR-Online answered an upload with.

    Args:
        body: The reply's bytes (possibly cut short by the client's cap).
        content_type: The ``Content-Type`` header, for its charset.
        status: The HTTP status, recorded in the receipt and used to refuse a
            "receipt" that came with an error status.

    Returns:
        A :class:`Receipt` of kind ACCEPTED (File Id found), SESSION_EXPIRED
        (a login or certificate page), REJECTED (an error page, with the
        server's message) or UNRECOGNISED (anything else, summarised). It never
        raises, whatever the bytes.
    """
    html = decode_body(body, content_type)
    if not html.strip():
        return Receipt(
            ReceiptKind.UNRECOGNISED,
            message="The server sent an empty reply",
            raw=html,
            http_status=status,
        )

    page = _read_page(html)
    ok_status = status is None or 200 <= status < 300
    file_id = _find(_FILE_ID, page.text)

    if file_id is not None and ok_status and not page.has_password_field:
        return _accepted(page, file_id, status)

    if status == 401 or page.has_password_field or page.has_login_form:
        return _session_expired(page, status)
    if _LOGIN.search(page.text) and not _SAVED_AS.search(page.text):
        return _session_expired(page, status)

    if _SAVED_AS.search(page.text):
        # Reads like a receipt, but without a File Id: the file may be saved.
        return Receipt(
            ReceiptKind.UNRECOGNISED,
            message="The reply looks like a receipt but has no File Id: "
            + _summary(page),
            raw=html,
            http_status=status,
        )

    if _ERROR.search(page.text) or not ok_status:
        return Receipt(
            ReceiptKind.REJECTED,
            message=_error_message(page, status),
            raw=html,
            http_status=status,
        )

    if _unreadable(page.text):
        message = f"The reply is not readable text ({len(body):,} bytes)"
    else:
        message = "The reply was not a receipt: " + _summary(page)
    return Receipt(
        ReceiptKind.UNRECOGNISED, message=message, raw=html, http_status=status
    )


# --- decoding ----------------------------------------------------------------


def decode_body(body: bytes, content_type: str | None = None) -> str:
    """Decode a reply the way a browser would, never failing.

    The header's charset wins, then a ``<meta>`` charset in the first
    kilobytes, then UTF-8; bytes that are not UTF-8 are read as cp1252, the
    usual encoding of older Windows servers.
    """
    if body.startswith(codecs.BOM_UTF8):
        return body[len(codecs.BOM_UTF8) :].decode("utf-8", errors="replace")

    for label in (_header_charset(content_type), _meta_charset(body)):
        encoding = _encoding(label)
        if encoding is not None:
            return body.decode(encoding, errors="replace")

    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        return body.decode("cp1252", errors="replace")


def _header_charset(content_type: str | None) -> str | None:
    match = _HEADER_CHARSET.search(content_type or "")
    return match.group(1) if match else None


def _meta_charset(body: bytes) -> str | None:
    match = _META_CHARSET.search(body[:4096])
    return match.group(1).decode("ascii") if match else None


def _encoding(label: str | None) -> str | None:
    """A Python codec name for ``label``, or ``None`` if it names no codec."""
    if not label:
        return None
    try:
        name = codecs.lookup(label).name
    except LookupError:
        return None
    return "cp1252" if name in _CP1252_ALIASES else name


# --- reading the page -----------------------------------------------------------


def _read_page(html: str) -> _Page:
    from bs4 import BeautifulSoup
    from bs4.element import Tag

    # A line break before every block tag, opening or closing, so text in
    # different cells or paragraphs never runs together. Done on the markup
    # because editing a deeply nested tree is quadratic in bs4.
    soup = BeautifulSoup(_BLOCK_TAG.sub(r"\n\g<0>", html), "html.parser")

    title_tag = soup.find("title")
    title = _collapse(title_tag.get_text()) if isinstance(title_tag, Tag) else ""

    password = any(
        isinstance(tag, Tag) and str(tag.get("type", "")).lower() == "password"
        for tag in soup.find_all("input")
    )
    login_form = any(
        isinstance(form, Tag)
        and re.search(
            r"log\s*-?\s*[io]n|sign\s*-?\s*in|j_security_check|auth",
            str(form.get("action", "")),
            re.IGNORECASE,
        )
        is not None
        for form in soup.find_all("form")
    )

    lines = (_collapse(line) for line in soup.get_text().split("\n"))
    text = "\n".join(line for line in lines if line)
    return _Page(html, text, title, password, login_form)


def _collapse(text: str) -> str:
    """Collapse every run of whitespace (``&nbsp;`` included) to one space."""
    return " ".join(text.split())


def _find(pattern: re.Pattern[str], text: str) -> str | None:
    match = pattern.search(text)
    if match is None:
        return None
    return next((g for g in match.groups() if g), None)


# --- building the receipt -------------------------------------------------------


def _accepted(page: _Page, file_id: str, status: int | None) -> Receipt:
    saved_as = _saved_as(page.text)
    source = _source_name(page.text)
    size = _file_size(page.text)
    message = f"File Id {file_id}"
    if saved_as:
        message += f", saved as {saved_as}"
    return Receipt(
        ReceiptKind.ACCEPTED,
        source_name=source,
        saved_as=saved_as,
        file_size=size,
        file_id=file_id.rstrip(".-"),
        message=message,
        raw=page.html,
        http_status=status,
    )


def _saved_as(text: str) -> str | None:
    match = _SAVED_AS.search(text)
    return _clean_name(match.group("name")) if match else None


def _source_name(text: str) -> str | None:
    labelled = _SOURCE_LABEL.search(text)
    if labelled:
        return _clean_name(labelled.group("name"))

    match = _UPLOADED.search(text)
    if match is None:
        return None
    before = match.group("before")
    names = _DATA_NAME.findall(before)
    if names:
        return str(names[-1])
    tokens = before.split()
    return _clean_name(tokens[-1]) if tokens else None


def _clean_name(value: str) -> str | None:
    """Cut a name at the next label on the line and strip quotes and full stops."""
    value = _NEXT_LABEL.sub("", value).strip().strip("\"'").strip()
    if value.endswith(".") and _DATA_NAME.fullmatch(value[:-1]):
        value = value[:-1]
    return value or None


def _file_size(text: str) -> int | None:
    """Bytes as the server counted them; ``None`` if given in other units."""
    match = _FILE_SIZE.search(text)
    if match is None:
        return None
    unit = (match.group("unit") or "").lower()
    if unit.startswith(("k", "m", "g")):
        return None
    number = match.group("num").rstrip(".,")
    if "." in number:
        return None
    return int(number.replace(",", ""))


def _session_expired(page: _Page, status: int | None) -> Receipt:
    return Receipt(
        ReceiptKind.SESSION_EXPIRED,
        message="OMAR-Online answered with a login or certificate page: "
        + _summary(page),
        raw=page.html,
        http_status=status,
    )


def _error_message(page: _Page, status: int | None) -> str:
    """The server's own words: the lines that say what went wrong."""
    lines = [line for line in page.text.split("\n") if _ERROR.search(line)]
    lines = [line for line in lines if line != page.title] or lines
    words = " ".join(lines[:3]) if lines else _summary(page)
    if status is not None and not 200 <= status < 300:
        words = f"HTTP {status}: {words}"
    return _shorten(words)


def _unreadable(text: str) -> bool:
    """True for binary noise: many replacement or control characters."""
    odd = sum(1 for c in text if c == "\ufffd" or not (c.isprintable() or c == "\n"))
    return odd > len(text) // 10


def _summary(page: _Page) -> str:
    """A short description of a page: its title and first words."""
    body = page.text
    if page.title and body.startswith(page.title):
        body = body[len(page.title) :]
    parts = [part for part in (page.title, _collapse(body)) if part]
    return _shorten(" - ".join(parts)) or "(no text)"


def _shorten(text: str) -> str:
    """Printable, collapsed, and at most SUMMARY_CHARS long."""
    text = _collapse("".join(c if c.isprintable() else " " for c in text))
    if len(text) <= SUMMARY_CHARS:
        return text
    return text[: SUMMARY_CHARS - 3].rstrip() + "..."
