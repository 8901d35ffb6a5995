"""Watching a folder and sending what lands in it (``omar-tui watch``).

A watcher runs unattended (cron with ``--once``, or a service), so it must
never send half a file and never nag. Each cycle:

1. lists the folder (hidden files and the ``sent``/``rejected`` folders are
   left out);
2. takes the files whose size and modification time have stopped changing
   for ``stable_seconds``: a file seen for the first time counts as stable
   when its modification time is already that old (so ``--once`` from cron
   sends files that were finished before it ran); a file seen changing must
   then be seen unchanged for that long;
3. checks them, and sends the sendable ones through one :class:`Sender`
   (one session for the cycle), which files them away per ``after_send``.

A file is reported once per version: a blocked file, or bytes whose last
attempt was rejected or ended unknown, are reported on the cycle they are
first met and then left alone until the file changes. Bytes already accepted
are done: they are only counted ("2 already sent") and never make a cycle
fail, so a cron job with ``after_send = "keep"`` does not fail for ever.
Only files that failed to go (nothing was delivered) are tried again on the
next cycle. The state lives in memory; after a restart the history (bytes
already accepted, last attempt rejected or unknown) keeps the same promise.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Protocol

from omar_tui.core.archive import ARCHIVE_FOLDERS
from omar_tui.core.checks import check_file
from omar_tui.core.models import CheckReport, Outcome, Submission
from omar_tui.errors import ConnectionFailed

if TYPE_CHECKING:
    from omar_tui.core.connection import Target
    from omar_tui.core.history import History
    from omar_tui.core.sender import SendRequest
    from omar_tui.core.settings import Settings

log = logging.getLogger("omar_tui.watch")

DEFAULT_STABLE_SECONDS = 10.0
DEFAULT_INTERVAL = 30.0

Signature = tuple[int, int]
"""A file's (size, mtime in ns): when it changes, the file is being written."""


class SenderLike(Protocol):
    """What a cycle needs of :class:`~omar_tui.core.sender.Sender`."""

    async def __aenter__(self) -> SenderLike: ...

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...

    async def open_session(self) -> None: ...

    async def send(self, request: SendRequest) -> Submission: ...

    def request_stop(self) -> None: ...


SenderFactory = Callable[[], SenderLike]
Clock = Callable[[], float]


# -- stability ----------------------------------------------------------------


@dataclass(slots=True)
class _Seen:
    signature: Signature
    since: float
    """Monotonic time this signature was first seen."""


class Stability:
    """Which files of a listing have stopped changing.

    Args:
        stable_seconds: How long a file must stay the same.
        clock: Monotonic seconds, for the time between looks.
        wall: Wall-clock seconds, compared with modification times.
    """

    def __init__(
        self,
        stable_seconds: float,
        *,
        clock: Clock = time.monotonic,
        wall: Clock = time.time,
    ) -> None:
        self.stable_seconds = stable_seconds
        self._clock = clock
        self._wall = wall
        self._seen: dict[Path, _Seen] = {}

    def update(self, listing: dict[Path, Signature]) -> tuple[list[Path], list[Path]]:
        """Record a new look at the folder; return (stable, still changing)."""
        now = self._clock()
        for gone in self._seen.keys() - listing.keys():
            del self._seen[gone]

        ready: list[Path] = []
        waiting: list[Path] = []
        for path, signature in sorted(listing.items()):
            seen = self._seen.get(path)
            if seen is None:
                self._seen[path] = _Seen(signature, now)
                age = self._wall() - signature[1] / 1e9
            elif seen.signature != signature:
                self._seen[path] = _Seen(signature, now)
                age = 0.0
            else:
                age = now - seen.since
            stable = self.stable_seconds <= 0 or age >= self.stable_seconds
            (ready if stable else waiting).append(path)
        return ready, waiting

    def restart(self, path: Path, signature: Signature) -> None:
        """The file changed after it was judged stable: wait for it again."""
        self._seen[path] = _Seen(signature, self._clock())


def list_folder(
    folder: Path, *, include_subfolders: bool = False
) -> dict[Path, Signature]:
    """The regular files to consider, with their signatures.

    Left out: names starting with a dot (temporary files of rsync and
    editors), and folders named ``sent`` or ``rejected`` (filed files).
    """
    found: dict[Path, Signature] = {}
    for entry in _walk(folder, include_subfolders):
        try:
            st = entry.stat()
        except OSError:
            continue  # gone between listing and stat
        found[Path(entry.path)] = (st.st_size, st.st_mtime_ns)
    return found


def _walk(folder: Path, deep: bool) -> Iterator[os.DirEntry[str]]:
    try:
        entries = list(os.scandir(folder))
    except OSError as exc:
        log.warning("Cannot list %s: %s", folder, exc)
        return
    for entry in entries:
        if entry.name.startswith("."):
            continue
        try:
            if entry.is_file():
                yield entry
            elif deep and entry.is_dir() and entry.name not in ARCHIVE_FOLDERS:
                yield from _walk(Path(entry.path), deep)
        except OSError:
            continue


# -- cycles -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CycleReport:
    """What one cycle did, for its summary line and an exit code."""

    number: int
    results: list[Submission] = field(default_factory=list)
    """One record per file dealt with (sent, blocked or held back)."""
    waiting: int = 0
    """Files not yet stable, or busy in another process."""
    stopped: bool = False
    """A stop was asked for before every ready file was dealt with."""
    already_sent: int = 0
    """Files whose bytes were accepted before: done, left alone, not an error.

    With ``after_send = "keep"`` they stay in the folder, so a cron job
    running ``watch --once`` meets them on every run; counting them as
    blocked would make every run fail.
    """

    def count(self, *outcomes: Outcome) -> int:
        return sum(1 for r in self.results if r.outcome in outcomes)

    def summary(self) -> str:
        """``cycle 3: 2 accepted, 1 blocked, 0 failed, 4 waiting``.

        ``rejected`` and ``unknown`` are shown when not zero.
        """
        parts = [f"{self.count(Outcome.ACCEPTED)} accepted"]
        if rejected := self.count(Outcome.REJECTED):
            parts.append(f"{rejected} rejected")
        parts.append(f"{self.count(Outcome.BLOCKED)} blocked")
        parts.append(f"{self.count(Outcome.FAILED)} failed")
        if unknown := self.count(Outcome.UNKNOWN):
            parts.append(f"{unknown} UNKNOWN")
        parts.append(f"{self.waiting} waiting")
        if self.already_sent:
            parts.append(f"{self.already_sent} already sent")
        text = f"cycle {self.number}: " + ", ".join(parts)
        return text + (" (stopped)" if self.stopped else "")

    @property
    def idle(self) -> bool:
        """Nothing was dealt with (the folder may hold waiting files)."""
        return not self.results and not self.stopped


class Watcher:
    """Cycles over one folder; see the module docstring for the rules.

    Args:
        folder: The folder watched.
        settings: Limits for the checks, and ``include_subfolders``.
        history: Consulted so that rejected or unknown bytes are not resent
            after a restart.
        target: The server, for duplicate look-ups and blocked records.
        make_sender: Makes the :class:`Sender` of a cycle (one per cycle
            that has something to send).
        stable_seconds: How long a file must stay unchanged.
        on_result: Called with each file's record as soon as it is known.
        clock, wall: Time sources (monotonic, wall clock), for tests.
    """

    def __init__(
        self,
        folder: Path,
        *,
        settings: Settings,
        history: History,
        target: Target,
        make_sender: SenderFactory,
        stable_seconds: float = DEFAULT_STABLE_SECONDS,
        on_result: Callable[[Submission], None] | None = None,
        clock: Clock = time.monotonic,
        wall: Clock = time.time,
    ) -> None:
        self.folder = folder
        self.settings = settings
        self.history = history
        self.target = target
        self.cycles = 0
        self._make_sender = make_sender
        self._on_result = on_result
        self._stability = Stability(stable_seconds, clock=clock, wall=wall)
        self._settled: dict[Path, Signature] = {}
        self._sender: SenderLike | None = None
        self._stop = asyncio.Event()

    # -- stopping

    @property
    def stop_requested(self) -> bool:
        return self._stop.is_set()

    def request_stop(self) -> None:
        """Finish the file in flight, then stop (safe from a signal handler)."""
        self._stop.set()
        if self._sender is not None:
            self._sender.request_stop()

    async def run(
        self,
        interval: float,
        on_cycle: Callable[[CycleReport], None] | None = None,
    ) -> None:
        """Run cycles ``interval`` seconds apart until a stop is asked for."""
        while not self.stop_requested:
            report = await self.cycle()
            if on_cycle is not None:
                on_cycle(report)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), timeout=interval)

    # -- one cycle

    async def cycle(self) -> CycleReport:
        """Look at the folder once and deal with every stable file."""
        self.cycles += 1
        listing = list_folder(
            self.folder, include_subfolders=self.settings.include_subfolders
        )
        for path in self._settled.keys() - listing.keys():
            del self._settled[path]
        # Files settled in an earlier cycle and unchanged since: left alone.
        fresh = {p: s for p, s in listing.items() if self._settled.get(p) != s}
        ready, changing = self._stability.update(fresh)

        results: list[Submission] = []
        requests: list[tuple[SendRequest, Signature]] = []
        waiting = len(changing)
        already_sent = 0
        complete = True
        for path in ready:
            if self.stop_requested:
                complete = False
                break
            prepared = await self._prepare(path, fresh[path])
            if prepared is None:
                waiting += 1
            elif isinstance(prepared, _AlreadySent):
                already_sent += 1
                self._settled[path] = fresh[path]
            elif isinstance(prepared, Submission):
                self._report(results, prepared, path, fresh[path])
            else:
                requests.append((prepared, fresh[path]))

        if requests:
            complete = await self._send(requests, results) and complete

        report = CycleReport(
            self.cycles,
            results,
            waiting,
            stopped=not complete,
            already_sent=already_sent,
        )
        if not report.idle:
            log.info("%s", report.summary())
        return report

    async def _prepare(
        self, path: Path, signature: Signature
    ) -> SendRequest | Submission | _AlreadySent | None:
        """A request to send, a record to report, ``ALREADY_SENT`` or ``None``."""
        from omar_tui.core.sender import SendRequest, blocked_submission

        report = await asyncio.to_thread(
            check_file, path, limits=self.settings.limits, pending_root=self.folder
        )
        current = _signature(path)
        if current is None:
            return None  # moved away meanwhile; gone from the next listing
        if current != signature or not _matches(report, current):
            self._stability.restart(path, current)
            return None

        request = SendRequest(report)
        if report.blocked or report.sha256 is None:
            return blocked_submission(request, self.target)

        environment = self.target.environment
        if self.history.find_accepted(report.sha256, environment) is not None:
            return ALREADY_SENT
        latest = self.history.find_latest(report.sha256, environment)
        if latest is None:
            return request
        if latest.outcome is Outcome.PENDING:
            return None  # another process is sending these bytes now
        if latest.outcome in (Outcome.REJECTED, Outcome.UNKNOWN):
            return _held(request, self.target, latest)
        return request  # failed before: nothing was delivered, try again

    async def _send(
        self,
        requests: list[tuple[SendRequest, Signature]],
        results: list[Submission],
    ) -> bool:
        """Send through one session; False when a stop cut the list short."""
        if self.stop_requested:
            return False
        sender = self._make_sender()
        self._sender = sender
        try:
            async with sender:
                if self.stop_requested:
                    sender.request_stop()
                try:
                    await sender.open_session()
                except ConnectionFailed as exc:
                    note = f"{exc.title} {exc.hint}".strip()
                    log.warning("Could not open a session: %s", note)
                    for request, signature in requests:
                        failed = _not_sent(request, self.target, note)
                        self._report(results, failed, request.report.path, signature)
                    return True
                for request, signature in requests:
                    if self.stop_requested:
                        return False
                    result = await sender.send(request)
                    self._report(results, result, request.report.path, signature)
                return True
        finally:
            self._sender = None

    def _report(
        self,
        results: list[Submission],
        result: Submission,
        path: Path,
        signature: Signature,
    ) -> None:
        results.append(result)
        if result.outcome is not Outcome.FAILED:
            self._settled[path] = signature  # not again until the file changes
        if self._on_result is not None:
            self._on_result(result)


class _AlreadySent:
    """Marks a file whose bytes OMAR-Online accepted before."""


ALREADY_SENT = _AlreadySent()


def _signature(path: Path) -> Signature | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return (st.st_size, st.st_mtime_ns)


def _matches(report: CheckReport, signature: Signature) -> bool:
    """True when the checked bytes are those of the file as last listed."""
    return report.size is None or report.size == signature[0]


def _held(request: SendRequest, target: Target, latest: Submission) -> Submission:
    from omar_tui.core.sender import blocked_submission

    if latest.outcome is Outcome.UNKNOWN:
        why = (
            f"its last attempt (history record {latest.id}, {latest.started_at}) "
            "may or may not have reached OMAR-Online. Look it up there; send it "
            "with `omar-tui submit --allow-resend` if it is not there"
        )
    else:
        why = (
            f"OMAR-Online rejected these exact bytes before (history record "
            f"{latest.id}: {latest.message}). Fix the file, and it is sent "
            "once it changes"
        )
    # An unknown earlier attempt keeps its word: the operator must look it up.
    outcome = Outcome.UNKNOWN if latest.outcome is Outcome.UNKNOWN else Outcome.BLOCKED
    return dataclasses.replace(
        blocked_submission(request, target),
        outcome=outcome,
        message=f"Not sent again: {why}.",
    )


def _not_sent(request: SendRequest, target: Target, note: str) -> Submission:
    from omar_tui.core.sender import blocked_submission

    return dataclasses.replace(
        blocked_submission(request, target),
        outcome=Outcome.FAILED,
        message=f"Not sent: {note} It is tried again on the next cycle.",
    )
