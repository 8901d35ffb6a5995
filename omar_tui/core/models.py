"""Plain data shared by the checks, the client, the history and both front ends.

These types are the vocabulary of the whole tool. They are frozen dataclasses
so that a worker thread can hand them to the UI without copies or locks.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path


class Severity(StrEnum):
    """How much a finding matters."""

    ERROR = "error"
    """The file is blocked: it is not sent without an explicit override."""
    WARNING = "warning"
    """The file may be sent, but the operator should look first."""


@dataclass(frozen=True, slots=True)
class Finding:
    """One thing a pre-flight check found about a file."""

    rule: str
    """Stable rule id, such as ``size`` or ``csv-fields`` (see ``checks.RULES``)."""
    severity: Severity
    message: str
    """What is wrong, in plain words."""
    fix: str
    """What the operator can do about it."""
    line: int | None = None
    """1-based line number in the file, where the finding has one."""


@dataclass(frozen=True, slots=True)
class CheckReport:
    """Everything the pre-flight checks learnt about one file.

    ``data`` holds the exact bytes that were checked and hashed: the client
    sends these bytes and no others, so what was approved is what leaves.
    """

    path: Path
    name: str
    """The name the file will be sent under (normally ``path.name``)."""
    findings: tuple[Finding, ...]
    size: int | None = None
    """Bytes read, or ``None`` when the file could not be read."""
    sha256: str | None = None
    mtime: float | None = None
    data: bytes | None = field(default=None, repr=False, compare=False)
    stamp: tuple[int, int, int, int, int] | None = field(default=None, repr=False)
    """(device, inode, size, mtime ns, ctime ns) when the bytes were read.

    The kernel moves ctime on every write, even one that restores the mtime,
    so an unchanged stamp proves the bytes are the ones checked without
    reading the file again.
    """

    @property
    def blocked(self) -> bool:
        """True when any finding is an error."""
        return any(f.severity is Severity.ERROR for f in self.findings)

    @property
    def warnings(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.severity is Severity.WARNING)

    @property
    def errors(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.severity is Severity.ERROR)


class Outcome(StrEnum):
    """How a file's submission ended. The same words appear in every JSON output."""

    PENDING = "pending"
    """Recorded, request not finished yet; shown as unknown after a crash."""
    ACCEPTED = "accepted"
    """OMAR-Online returned a receipt with a File Id."""
    REJECTED = "rejected"
    """OMAR-Online answered with an error page: the file was not taken."""
    BLOCKED = "blocked"
    """The pre-flight checks blocked the file; nothing was sent."""
    FAILED = "failed"
    """Provably never delivered (DNS, connect or TLS failure, refused locally)."""
    UNKNOWN = "unknown"
    """It may have reached the server: look it up in OMAR-Online before resending."""


class ReceiptKind(StrEnum):
    """What kind of page OMAR-Online answered an upload with."""

    ACCEPTED = "accepted"
    REJECTED = "rejected"
    SESSION_EXPIRED = "session_expired"
    UNRECOGNISED = "unrecognised"


@dataclass(frozen=True, slots=True)
class Receipt:
    """The parsed reply page of an upload (SPEC.md R11)."""

    kind: ReceiptKind
    source_name: str | None = None
    saved_as: str | None = None
    file_size: int | None = None
    file_id: str | None = None
    message: str = ""
    """The server's own words for a rejection, or a summary of the page."""
    raw: str = field(default="", repr=False)
    """The decoded page, kept so an operator can read it later."""
    http_status: int | None = None


@dataclass(frozen=True, slots=True)
class Submission:
    """One row of the submission history, also the shape of every JSON output."""

    id: int
    started_at: str
    """ISO 8601 UTC time the record was written, before the request left."""
    finished_at: str | None
    environment: str
    base_url: str
    local_path: str
    name_sent: str
    bytes: int
    sha256: str
    outcome: Outcome
    file_id: str | None = None
    saved_as: str | None = None
    server_size: int | None = None
    message: str = ""
    raw_reply: str = field(default="", repr=False)
    profile: str = "default"
    moved_to: str | None = None

    @property
    def size_mismatch(self) -> bool:
        """True when the server reported a size other than the bytes sent."""
        return self.server_size is not None and self.server_size != self.bytes


@dataclass(frozen=True, slots=True)
class Limits:
    """File limits of the contract (SPEC.md R8, R10), kept as settings.

    CAISO says "less than 500KB" without saying whether a KB is 1,000 or 1,024
    bytes, so the tool blocks at the larger reading and warns from the smaller.
    """

    block_bytes: int = 512_000
    """Files of this many bytes or more are blocked."""
    warn_bytes: int = 500_000
    """Files of this many bytes or more get a warning: the server may refuse them."""
    max_name: int = 40
    """Longest name allowed, extension included, counted as it will be sent."""
