"""The one exception tree of omar-tui, and the exit codes the CLI returns.

Every fault an operator can meet is an :class:`OmarError` with a plain-language
``title`` (what went wrong) and ``hint`` (what to do). The CLI prints both and
exits with ``exit_code``; the TUI shows them in a toast or a dialog. Anything
that is not an ``OmarError`` is a bug: it is logged with its traceback to the
log file and the operator is told where that file is.
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """Exit codes of the headless commands, documented in the README."""

    OK = 0
    """Every file was accepted (or, for ``check``, nothing blocks)."""
    SOME_FAILED = 1
    """At least one file was rejected by the server or provably not delivered."""
    USAGE = 2
    """Bad command line, settings, certificate or passphrase: nothing was sent."""
    BLOCKED = 3
    """At least one file was blocked by the pre-flight checks and not sent."""
    UNKNOWN = 4
    """At least one file may or may not have reached OMAR-Online: look it up."""
    INTERRUPTED = 130
    """Stopped by Ctrl-C or SIGTERM; see ``omar-tui history`` for what was sent."""


class OmarError(Exception):
    """Base of every error omar-tui reports to an operator.

    Args:
        title: One line saying what went wrong, in plain words.
        hint: What the operator can do about it (may be empty).
    """

    exit_code: ExitCode = ExitCode.USAGE

    def __init__(self, title: str, hint: str = "") -> None:
        super().__init__(title)
        self.title = title
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.title}\n{self.hint}" if self.hint else self.title


class UsageError(OmarError):
    """The command line asks for something impossible or contradictory."""


class SettingsError(OmarError):
    """The settings file cannot be read, parsed or written."""


class CertificateError(OmarError):
    """A certificate, key, CA bundle or passphrase cannot be used."""


class PassphraseRequired(CertificateError):
    """A passphrase is needed but there is neither a terminal nor the variable."""


class HistoryError(OmarError):
    """The submission history cannot be opened or written."""


class ConnectionFailed(OmarError):
    """OMAR-Online could not be reached; nothing was delivered.

    Raised for faults before any byte of a request left (DNS, connect, TLS
    handshake), which are the only ones safe to retry by themselves.
    """

    exit_code = ExitCode.SOME_FAILED

    def __init__(self, title: str, hint: str = "", *, retryable: bool = True) -> None:
        super().__init__(title, hint)
        self.retryable = retryable
        """False when trying again would meet the same answer (a 307, say)."""


class OutcomeUnknown(OmarError):
    """The request may have reached OMAR-Online, but no receipt came back."""

    exit_code = ExitCode.UNKNOWN


class SessionExpired(OmarError):
    """OMAR-Online answered with a login or certificate page, not a receipt."""

    exit_code = ExitCode.SOME_FAILED


class BusyError(OmarError):
    """Another omar-tui process holds the lock this operation needs."""

    exit_code = ExitCode.SOME_FAILED
