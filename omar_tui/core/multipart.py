"""The upload body: ``multipart/form-data`` that knows whether it started to leave.

Built by hand rather than by httpx for two reasons: the bytes between the
headers and the closing boundary are exactly the file, and the body counts
what the connection asked of it. That count is what lets the client tell
"nothing of the file left" (safe to resend) from "the file may have arrived"
(see ``OmarClient._upload_error``).
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator

CHUNK_BYTES = 64 * 1024
"""Size of the pieces the upload body is handed to the connection in."""


class MultipartBody:
    """A ``multipart/form-data`` body that knows whether it started to leave.

    Built by hand rather than by httpx so that the bytes are exactly the file
    and the sending can be counted (see ``OmarClient._upload_error``).
    """

    def __init__(self, name: str, data: bytes) -> None:
        boundary = "----omar-tui-" + secrets.token_hex(16)
        self.content_type = f"multipart/form-data; boundary={boundary}"
        head = (
            f"--{boundary}\r\n"
            f'Content-Disposition: form-data; name="datafile"; '
            f'filename="{quote_filename(name)}"\r\n'
            "Content-Type: application/octet-stream\r\n\r\n"
        ).encode()
        self._payload = head + data + f"\r\n--{boundary}--\r\n".encode()
        self.length = len(self._payload)
        self.started = False
        """True once the connection asked for the first byte of the body."""
        self.sent = 0
        """Bytes handed to the connection (not necessarily received)."""

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for start in range(0, self.length, CHUNK_BYTES):
            self.started = True
            chunk = self._payload[start : start + CHUNK_BYTES]
            yield chunk
            self.sent += len(chunk)


def quote_filename(name: str) -> str:
    """Escape a file name for the header as browsers do (HTML5 form encoding)."""
    return name.replace('"', "%22").replace("\r", "%0D").replace("\n", "%0A")
