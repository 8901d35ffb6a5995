"""Where the certificate passphrase comes from, and where it never comes from.

A passphrase on the command line would show in ``ps`` and in shell history,
so there are only two sources: the ``OMAR_TUI_CERT_PASSWORD`` variable (cron
jobs, CI) and a prompt on a real terminal. Without either, the caller gets a
:class:`~omar_tui.errors.PassphraseRequired` naming the variable, never a
hang waiting on a pipe.
"""

from __future__ import annotations

import getpass
import os
import sys
from collections.abc import Mapping
from typing import TextIO

from omar_tui.errors import PassphraseRequired

PASSPHRASE_VAR = "OMAR_TUI_CERT_PASSWORD"  # noqa: S105 - a name, not a value
"""Environment variable holding the passphrase of the certificate or key."""


def get_passphrase(
    label: str,
    *,
    environ: Mapping[str, str] = os.environ,
    stdin: TextIO | None = None,
) -> str:
    """Return the passphrase for a certificate or key file.

    The variable wins so that a scheduled job behaves the same whether or not
    it happens to have a terminal. The value is never logged or echoed.

    Args:
        label: The file the passphrase opens, named in the prompt and error.
        environ: Where to look for ``OMAR_TUI_CERT_PASSWORD``.
        stdin: The input to test for a terminal (``sys.stdin`` by default).

    Raises:
        PassphraseRequired: No variable and no terminal to ask on.
    """
    value = environ.get(PASSPHRASE_VAR)
    if value is not None:
        return value

    stream = sys.stdin if stdin is None else stdin
    if _is_tty(stream):
        return getpass.getpass(f"Passphrase for {label}: ")

    raise PassphraseRequired(
        f"{label} needs a passphrase, and there is no terminal to ask on",
        f"Set the environment variable {PASSPHRASE_VAR} to the passphrase, "
        "or run the command in a terminal to be prompted.",
    )


def _is_tty(stream: TextIO | None) -> bool:
    """True when ``stream`` is an interactive terminal (a closed one is not)."""
    if stream is None:
        return False
    try:
        return stream.isatty()
    except (ValueError, OSError):
        return False
