"""A strict multipart/form-data parser (RFC 7578), for the simulator only.

The standard library's ``cgi`` module is gone, and the ``email`` parser
rewrites line endings and guesses at encodings, which would make "the stored
bytes equal the bytes sent" untrue. Parsing by hand on the raw bytes keeps
every part byte-exact.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from email.message import Message


class MultipartError(ValueError):
    """The body is not well-formed multipart/form-data."""


@dataclass(frozen=True, slots=True)
class Part:
    """One part of a form: a field, or a file when ``filename`` is set."""

    name: str | None
    filename: str | None
    content_type: str | None
    data: bytes = field(repr=False)


def boundary_of(content_type: str) -> str | None:
    """The boundary of a multipart/form-data Content-Type, or None if it is not one."""
    message = Message()
    message["Content-Type"] = content_type
    if message.get_content_type() != "multipart/form-data":
        return None
    boundary = message.get_param("boundary")
    return boundary if isinstance(boundary, str) and boundary else None


def _header_params(value: str) -> Message:
    message = Message()
    message["Content-Disposition"] = value
    return message


def _parse_part(raw: bytes) -> Part:
    if raw.startswith(b"\r\n"):
        head, data = b"", raw[2:]
    else:
        end = raw.find(b"\r\n\r\n")
        if end < 0:
            raise MultipartError("a part has no blank line after its headers")
        head, data = raw[:end], raw[end + 4 :]

    headers: dict[str, str] = {}
    for line in head.split(b"\r\n"):
        name, sep, value = line.partition(b":")
        if not sep:
            raise MultipartError("a part header has no colon")
        try:
            text = value.decode("utf-8")
        except UnicodeDecodeError:
            text = value.decode("latin-1")
        headers[name.decode("latin-1").strip().lower()] = text.strip()

    disposition = headers.get("content-disposition")
    if disposition is None:
        raise MultipartError("a part has no Content-Disposition header")
    params = _header_params(disposition)
    if params.get_content_disposition() != "form-data":
        raise MultipartError("a part is not form-data")
    field_name = params.get_param("name", header="content-disposition")
    return Part(
        name=field_name if isinstance(field_name, str) else None,
        filename=params.get_filename(),
        content_type=headers.get("content-type"),
        data=data,
    )


def parse(body: bytes, boundary: str) -> list[Part]:
    """Split a multipart/form-data body into its parts.

    Raises:
        MultipartError: when the body does not follow RFC 7578 / RFC 2046.
    """
    dash = b"--" + boundary.encode("latin-1")
    if body.startswith(dash):
        pos = len(dash)
    else:
        first = body.find(b"\r\n" + dash)
        if first < 0:
            raise MultipartError("the body does not contain the boundary")
        pos = first + 2 + len(dash)

    parts: list[Part] = []
    while True:
        if body[pos : pos + 2] == b"--":
            return parts
        eol = body.find(b"\r\n", pos)
        if eol < 0 or body[pos:eol].strip(b" \t"):
            raise MultipartError("a boundary line is malformed")
        start = eol + 2
        end = body.find(b"\r\n" + dash, start)
        if end < 0:
            raise MultipartError("the body ends before its closing boundary")
        parts.append(_parse_part(body[start:end]))
        pos = end + 2 + len(dash)
