"""Logging to a private, rotating file, with secrets taken out.

The TUI draws on the terminal, so nothing may ever be printed there: logs go
to a file only (stderr too when a headless command is asked to be verbose).
The file can end up attached to a support ticket, so session cookies and any
registered secret (a passphrase, say) are replaced by ``[redacted]`` before a
line is written.
"""

from __future__ import annotations

import logging
import os
import re
import sys
import threading
from logging.handlers import RotatingFileHandler
from pathlib import Path
from typing import IO, Any, cast

from omar_tui.core.paths import make_private_dir

LOGGER_NAME = "omar_tui"
"""The package's logger; every module logs under it (``omar_tui.core...``)."""

REDACTED = "[redacted]"

MAX_BYTES = 1_000_000
"""A log file is rotated at this size..."""
BACKUPS = 5
"""...and this many old ones are kept."""

_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
_DATE_FORMAT = "%Y-%m-%dT%H:%M:%S%z"

_COOKIE_HEADER = re.compile(  # "Cookie: v", "'cookie': 'v'", "(b'cookie', b'v')"
    r"(?i)(\b(?:set-)?cookie)((?:['\"]?\s*[:=]|['\"]\s*,)\s*b?['\"]?)([^'\"\r\n]+)"
)
_SESSION_COOKIE = re.compile(
    r"(?i)(\b[\w.-]*(?:sessionid|sessid|session|token|auth)[\w.-]*=)([^;,\s'\"&]+)"
)

_secrets: set[str] = set()
_secrets_lock = threading.Lock()


def register_secret(value: str) -> None:
    """Never write ``value`` to the log; it shows as ``[redacted]`` instead.

    Call it as soon as a secret is known (a passphrase read from a prompt
    or ``OMAR_TUI_CERT_PASSWORD``), before anything might log it.
    """
    if value:
        with _secrets_lock:
            _secrets.add(value)


def redact(text: str) -> str:
    """``text`` with cookie values and registered secrets replaced."""
    with _secrets_lock:
        secrets = sorted(_secrets, key=len, reverse=True)
    for secret in secrets:  # longest first: one may contain another
        text = text.replace(secret, REDACTED)

    text = _COOKIE_HEADER.sub(rf"\1\2{REDACTED}", text)
    return _SESSION_COOKIE.sub(rf"\1{REDACTED}", text)


class RedactingFilter(logging.Filter):
    """Redacts a record's message and arguments before any handler sees them.

    The arguments are merged into the message first, so a secret inside a
    dict of headers or an exception's text is caught too.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a bad format string: keep what we have
            message = f"{record.msg} {record.args}"
        record.msg = redact(message)
        record.args = None
        return True


class _OneLineFormatter(logging.Formatter):
    """One line per record; a traceback follows on indented lines."""

    def format(self, record: logging.LogRecord) -> str:
        saved = record.msg
        record.msg = str(record.msg).replace("\r", "\\r").replace("\n", "\\n")
        try:
            line = super().format(record)
        finally:
            record.msg = saved
        first, _, rest = line.partition("\n")
        if rest:  # traceback text, which may quote values
            first += "\n" + "\n".join("    " + x for x in rest.splitlines())
        return redact(first)


class _PrivateRotatingFileHandler(RotatingFileHandler):
    """A rotating file handler whose files are created readable by us only.

    Errors while writing (a full disk) are dropped silently: the default
    prints a traceback to stderr, which would draw over the TUI.
    """

    def _open(self) -> Any:
        flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT | getattr(os, "O_CLOEXEC", 0)
        fd = os.open(self.baseFilename, flags, 0o600)
        return cast(IO[str], os.fdopen(fd, "a", encoding=self.encoding))

    def handleError(self, record: logging.LogRecord) -> None:
        pass


def setup_logging(log_file: Path, *, verbose: bool = False) -> None:
    """Send the ``omar_tui`` logger to ``log_file`` (and stderr if verbose).

    Safe to call again: the handlers of an earlier call are replaced, not
    added to. Records are not passed on to the root logger, so a library
    that configured it cannot make the TUI print.

    Args:
        log_file: The file, rotated at 1 MB with 5 old copies, mode 0600.
        verbose: Log at DEBUG and also to stderr (headless commands only).

    Raises:
        OSError: When the folder or file cannot be created.
    """
    logger = logging.getLogger(LOGGER_NAME)
    for old in [h for h in logger.handlers if getattr(h, "_omar_tui", False)]:
        logger.removeHandler(old)
        old.close()

    make_private_dir(log_file.parent)
    handlers: list[logging.Handler] = [
        _PrivateRotatingFileHandler(
            log_file, maxBytes=MAX_BYTES, backupCount=BACKUPS, encoding="utf-8"
        )
    ]
    if log_file.exists():
        log_file.chmod(0o600)
    if verbose:
        handlers.append(logging.StreamHandler(sys.stderr))

    formatter = _OneLineFormatter(_FORMAT, _DATE_FORMAT)
    for handler in handlers:
        handler.addFilter(RedactingFilter())
        handler.setFormatter(formatter)
        handler._omar_tui = True  # type: ignore[attr-defined]
        logger.addHandler(handler)

    logger.setLevel(logging.DEBUG if verbose else logging.INFO)
    logger.propagate = False
