"""The one path by which a meter data file leaves the machine.

Both front ends and ``watch`` hand files to a :class:`Sender`. It owns the
rules that make a submission safe to automate: the bytes sent are the bytes
that were checked, bytes already accepted are not sent again by accident, two
processes never send the same bytes at once, and a history record exists
before a request leaves, so a crash can never leave a send unaccounted for.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import ssl
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from types import TracebackType

from omar_tui.core.archive import archive_submission
from omar_tui.core.checks import check_file, file_stamp
from omar_tui.core.client import Connection, OmarClient
from omar_tui.core.connection import Target
from omar_tui.core.history import History
from omar_tui.core.locks import file_lock
from omar_tui.core.models import (
    CheckReport,
    Outcome,
    Receipt,
    ReceiptKind,
    Submission,
)
from omar_tui.core.settings import Settings
from omar_tui.errors import (
    BusyError,
    ConnectionFailed,
    HistoryError,
    OutcomeUnknown,
)

log = logging.getLogger("omar_tui.sender")

LOOK_IT_UP = (
    "Look the file up in OMAR-Online (by name and time) before sending it again."
)


class EventKind(StrEnum):
    """What a :class:`SendEvent` reports."""

    SESSION = "session"
    SENDING = "sending"
    RETRY = "retry"
    RECHECKED = "rechecked"
    FINISHED = "finished"
    FILED = "filed"
    """A sent file was moved to ``sent/`` or ``rejected/``, or could not be."""


@dataclass(frozen=True, slots=True)
class SendEvent:
    """Progress of a send, for the TUI's log and the CLI's ``--verbose`` output."""

    kind: EventKind
    message: str
    path: Path | None = None
    submission: Submission | None = None


Listener = Callable[[SendEvent], None]


@dataclass(frozen=True, slots=True)
class SendRequest:
    """A file the operator asked to send, with the overrides they chose."""

    report: CheckReport
    name: str | None = None
    """Send under this name instead of the file's own (a shorter one, say)."""
    allow_resend: bool = False
    """Send even though the same bytes were accepted before in this environment."""
    override_block: bool = False
    """Send even though the checks blocked the file (never for unreadable files)."""

    @property
    def name_to_send(self) -> str:
        return self.name or self.report.name


class Sender:
    """Sends files one at a time through one OMAR-Online session.

    Use as an async context manager; one instance serves a whole batch so the
    connection, the TLS session and the session cookie are reused.
    """

    def __init__(
        self,
        *,
        settings: Settings,
        history: History,
        target: Target,
        ssl_context: ssl.SSLContext,
        lock_dir: Path,
        profile: str = "default",
        listener: Listener | None = None,
        retry_delay: float = 1.0,
        archive: bool | None = None,
    ) -> None:
        self.settings = settings
        self.archive = settings.after_send == "move" if archive is None else archive
        """Move accepted and rejected files away after sending (``after_send``)."""
        self.history = history
        self.target = target
        self.profile = profile
        self._listener = listener
        self._lock_dir = lock_dir
        self._retry_delay = retry_delay
        self._session_open = False
        self._stop = False
        self._open_record: tuple[int, CheckReport, str] | None = None
        self.interrupted: str | None = None
        """Name of a file whose send was cut off (Ctrl-C): its outcome is unknown."""
        """Name of the file whose request is under way, for interruption messages."""
        self._client = OmarClient(
            Connection(
                base_url=target.base_url,
                session_path=target.session_path,
                upload_path=target.upload_path,
                user_agent=settings.user_agent,
                connect_timeout=settings.connect_timeout,
                read_timeout=settings.read_timeout,
                max_reply_bytes=settings.max_reply_bytes,
                proxy=settings.proxy,
            ),
            ssl_context,
        )

    async def __aenter__(self) -> Sender:
        await self._client.__aenter__()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self._client.__aexit__(exc_type, exc, tb)
        try:
            self.history.sync()  # the batch's last results, on disk now
        except HistoryError as error:
            log.error("history not saved to disk: %s %s", error.title, error.hint)
            if exc is None:
                raise

    # -- stopping -----------------------------------------------------------

    @property
    def stop_requested(self) -> bool:
        return self._stop

    def request_stop(self) -> None:
        """Finish the file in flight, then send no more (never cut a request)."""
        self._stop = True

    # -- session ------------------------------------------------------------

    async def open_session(self) -> None:
        """Open the login session, retrying faults that happened before any send.

        Raises:
            ConnectionFailed: the server could not be reached after the retries.
            CertificateError: the server refused the client certificate.
        """
        self._emit(EventKind.SESSION, f"Opening a session at {self.target.base_url}")
        await self._retrying(self._client.open_session, what="opening the session")
        self._session_open = True

    async def _retrying(self, call: Callable[[], Awaitable[None]], what: str) -> None:
        attempt = 0
        while True:
            try:
                await call()
                return
            except ConnectionFailed as exc:
                if not exc.retryable or attempt >= self.settings.retries:
                    raise
                attempt += 1
                delay = min(self._retry_delay * 2 ** (attempt - 1), 10.0)
                self._emit(
                    EventKind.RETRY,
                    f"{sentence(exc.title)} Retrying {what} in {delay:g} s "
                    f"({attempt}/{self.settings.retries}).",
                )
                await asyncio.sleep(delay)

    # -- sending ------------------------------------------------------------

    async def dry_run(self, request: SendRequest) -> Submission:
        """Everything :meth:`send` does except the upload and the history record."""
        report, refusal = await self._vet(request)
        if refusal is not None:
            return refusal
        if not self._session_open:
            await self.open_session()
        return _unrecorded(
            report,
            request.name_to_send,
            self.target,
            Outcome.PENDING,
            "Ready: checks passed and the session opened (dry run, nothing sent).",
        )

    async def send(self, request: SendRequest) -> Submission:
        """Send one file and return its history record.

        Per-file faults never raise: they come back as the record's outcome.
        Records that were never written to the history (blocked, duplicate,
        vanished, busy) have ``id == 0``.
        """
        report, refusal = await self._vet(request)
        if refusal is not None:
            return self._finished(refusal)

        assert report.data is not None and report.sha256 is not None
        name = request.name_to_send
        try:
            with file_lock(self._lock_dir, report.sha256, what=name):
                # Checked again under the lock: another process may have just
                # finished sending the same bytes.
                duplicate = self._duplicate_of(report, request)
                if duplicate is not None:
                    return self._finished(duplicate)
                delivered = await self._deliver(report, name)
                return self._finished(self._file_away(delivered))
        except BusyError as exc:
            return self._finished(
                _unrecorded(report, name, self.target, Outcome.FAILED, exc.title)
            )

    async def _vet(self, request: SendRequest) -> tuple[CheckReport, Submission | None]:
        """Bring the report up to date and decide whether the file may go."""
        report = await self._current_report(request)
        name = request.name_to_send

        unsendable = report.data is None or report.sha256 is None or not report.data
        if unsendable or (report.blocked and not request.override_block):
            fresh = SendRequest(report, name, request.allow_resend)
            return report, blocked_submission(fresh, self.target)
        return report, self._duplicate_of(report, request)

    async def _current_report(self, request: SendRequest) -> CheckReport:
        """Re-check a file that changed, vanished or is sent under a new name.

        An unchanged file (same inode, size, mtime and ctime) is not read
        again, so a batch reads every file once.
        """
        report = request.report
        name = request.name_to_send
        try:
            changed = file_stamp(report.path.stat()) != report.stamp
        except OSError:
            changed = True

        if not changed and name == report.name:
            return report

        fresh = await asyncio.to_thread(
            check_file,
            report.path,
            limits=self.settings.limits,
            pending_root=self.settings.pending_folder,
            name=name,
        )
        if changed and report.stamp is not None:
            self._emit(
                EventKind.RECHECKED,
                f"{report.name} changed since it was checked; checked it again.",
                report.path,
            )
        return fresh

    def _duplicate_of(
        self, report: CheckReport, request: SendRequest
    ) -> Submission | None:
        if request.allow_resend or report.sha256 is None:
            return None
        environment = self.target.environment
        prior = self.history.find_accepted(report.sha256, environment)
        if prior is not None:
            return _unrecorded(
                report,
                request.name_to_send,
                self.target,
                Outcome.BLOCKED,
                f"Already accepted on {prior.finished_at or prior.started_at} as "
                f"File Id {prior.file_id} ({prior.name_sent}); not sent again "
                "without an explicit resend.",
            )
        # An attempt that may have arrived is never repeated by itself: only
        # OMAR-Online can say whether it did (issue 4, "unknown" outcomes).
        latest = self.history.find_latest(report.sha256, environment)
        # A live "pending" one holds the lock, which refuses it by itself.
        if latest is None or latest.outcome is not Outcome.UNKNOWN:
            return None
        return _unrecorded(
            report,
            request.name_to_send,
            self.target,
            Outcome.UNKNOWN,
            f"The last attempt to send these bytes (history record {latest.id}, "
            f"{latest.started_at}, as {latest.name_sent}) may or may not have "
            "reached OMAR-Online. Look it up in OMAR-Online first; if it is not "
            "there, send it again explicitly (omar-tui submit --allow-resend).",
        )

    async def _deliver(self, report: CheckReport, name: str) -> Submission:
        assert report.data is not None and report.sha256 is not None
        if not self._session_open:
            try:
                await self.open_session()
            except ConnectionFailed as exc:
                return _unrecorded(
                    report, name, self.target, Outcome.FAILED, _plain(exc)
                )

        record_id = self.history.begin(
            environment=self.target.environment,
            base_url=self.target.base_url,
            local_path=str(report.path.absolute()),
            name_sent=name,
            bytes=len(report.data),
            sha256=report.sha256,
            profile=self.profile,
        )
        self._emit(EventKind.SENDING, f"Sending {name} ({len(report.data):,} bytes)")
        self._open_record = (record_id, report, name)
        try:
            return await self._upload_and_record(record_id, report.data, name)
        except BaseException:
            self.interrupted = name
            # Cancelled, interrupted or a bug: the request may have left, so the
            # record must say "unknown" rather than stay pending for ever. If
            # even that write fails, the dead process's record reads unknown.
            with contextlib.suppress(HistoryError):
                self.history.finish(
                    record_id,
                    outcome=Outcome.UNKNOWN,
                    message=f"Sending was interrupted. {LOOK_IT_UP}",
                )
            raise
        finally:
            self._open_record = None

    async def _upload_and_record(
        self, record_id: int, data: bytes, name: str
    ) -> Submission:
        reopened = False
        attempt = 0
        while True:
            try:
                receipt = await self._client.upload(name, data)
            except ConnectionFailed as exc:
                if exc.retryable and attempt < self.settings.retries:
                    attempt += 1
                    delay = min(self._retry_delay * 2 ** (attempt - 1), 10.0)
                    self._emit(
                        EventKind.RETRY,
                        f"{sentence(exc.title)} Nothing was delivered; retrying "
                        f"{name} in {delay:g} s ({attempt}/{self.settings.retries}).",
                    )
                    await asyncio.sleep(delay)
                    continue
                return self._complete(
                    record_id, outcome=Outcome.FAILED, message=_plain(exc)
                )
            except OutcomeUnknown as exc:
                return self._complete(
                    record_id,
                    outcome=Outcome.UNKNOWN,
                    message=f"{sentence(exc.title)} {LOOK_IT_UP}",
                )

            if receipt.kind is ReceiptKind.SESSION_EXPIRED and not reopened:
                # A login page means the upload was not taken: safe to send again.
                reopened = True
                self._emit(EventKind.SESSION, "The session expired; opening a new one.")
                try:
                    await self.open_session()
                except ConnectionFailed as exc:
                    return self._complete(
                        record_id, outcome=Outcome.FAILED, message=_plain(exc)
                    )
                continue

            return self._record_receipt(record_id, receipt, len(data))

    def _record_receipt(
        self, record_id: int, receipt: Receipt, sent: int
    ) -> Submission:
        raw = receipt.raw
        match receipt.kind:
            case ReceiptKind.ACCEPTED:
                message = "Accepted."
                if receipt.file_size is not None and receipt.file_size != sent:
                    message = (
                        f"Size mismatch: OMAR-Online reports {receipt.file_size:,} "
                        f"bytes but {sent:,} were sent. Check the file in OMAR-Online."
                    )
                return self._complete(
                    record_id,
                    outcome=Outcome.ACCEPTED,
                    file_id=receipt.file_id,
                    saved_as=receipt.saved_as,
                    server_size=receipt.file_size,
                    message=message,
                    raw_reply=raw,
                )
            case ReceiptKind.REJECTED:
                return self._complete(
                    record_id,
                    outcome=Outcome.REJECTED,
                    message=receipt.message or "OMAR-Online refused the file.",
                    raw_reply=raw,
                )
            case ReceiptKind.SESSION_EXPIRED:
                return self._complete(
                    record_id,
                    outcome=Outcome.REJECTED,
                    message="OMAR-Online asked to log in again even after a new "
                    "session was opened: the certificate may not be authorised "
                    "to upload.",
                    raw_reply=raw,
                )
            case _:
                return self._complete(
                    record_id,
                    outcome=Outcome.UNKNOWN,
                    message=f"OMAR-Online answered with a page that is not a "
                    f"receipt. {LOOK_IT_UP}",
                    raw_reply=raw,
                )

    def _complete(
        self,
        record_id: int,
        *,
        outcome: Outcome,
        message: str = "",
        file_id: str | None = None,
        saved_as: str | None = None,
        server_size: int | None = None,
        raw_reply: str = "",
    ) -> Submission:
        """Complete the history record; if the history fails now, keep the result.

        The request has already been answered: losing its File Id because the
        database is locked would be worse than a record left to read
        "unknown". The full result goes to the log file and to the caller.
        """
        try:
            return self.history.finish(
                record_id,
                outcome=outcome,
                message=message,
                file_id=file_id,
                saved_as=saved_as,
                server_size=server_size,
                raw_reply=raw_reply,
                # Flushed by the next begin() or at the batch's end (__aexit__).
                durable=False,
            )
        except HistoryError as exc:
            assert self._open_record is not None
            _id, report, name = self._open_record
            log.error(
                "history record %d could not be completed (%s): %s outcome=%s "
                "file_id=%s saved_as=%s server_size=%s",
                record_id, exc.title, name, outcome.value, file_id, saved_as,
                server_size,
            )  # fmt: skip
            note = (
                f"{sentence(message)} The history could not record this "
                f"({sentence(exc.title)}); it is in the log file."
            ).strip()
            submission = _unrecorded(report, name, self.target, outcome, note)
            return dataclasses.replace(
                submission,
                id=record_id,
                file_id=file_id,
                saved_as=saved_as,
                server_size=server_size,
                raw_reply=raw_reply,
            )

    def _file_away(self, submission: Submission) -> Submission:
        """Move a recorded file per ``after_send``; a failure changes no outcome."""
        if not self.archive or submission.id == 0:
            return submission
        result = archive_submission(
            submission, pending_folder=self.settings.pending_folder
        )
        message = result.message
        if result.moved_to is not None:
            submission = dataclasses.replace(submission, moved_to=str(result.moved_to))
            try:
                self.history.set_moved_to(submission.id, result.moved_to)
            except HistoryError as exc:
                message += f" The history could not note the new place: {exc.title}"
                log.warning("%s", message)
        if message:
            self._emit(EventKind.FILED, message, result.moved_to, submission)
        return submission

    # -- events -------------------------------------------------------------

    def _finished(self, submission: Submission) -> Submission:
        self._emit(
            EventKind.FINISHED,
            describe(submission),
            Path(submission.local_path),
            submission,
        )
        return submission

    def _emit(
        self,
        kind: EventKind,
        message: str,
        path: Path | None = None,
        submission: Submission | None = None,
    ) -> None:
        # The client already logs each request; progress notes are detail.
        level = logging.DEBUG if kind is EventKind.SENDING else logging.INFO
        log.log(level, "%s: %s", kind.value, message)
        if self._listener is not None:
            self._listener(SendEvent(kind, message, path, submission))


async def send_batch(
    sender: Sender, requests: Iterable[SendRequest]
) -> list[Submission]:
    """Send files in order, one at a time, stopping early when asked to."""
    results: list[Submission] = []
    for request in requests:
        if sender.stop_requested:
            break
        results.append(await sender.send(request))
    return results


def describe(submission: Submission) -> str:
    """One line for a log: the outcome and what the operator needs from it."""
    name = submission.name_sent
    match submission.outcome:
        case Outcome.ACCEPTED:
            text = f"{name}: accepted, File Id {submission.file_id}"
            if submission.saved_as:
                text += f", saved as {submission.saved_as}"
            if submission.server_size is not None:
                text += f", {submission.server_size:,} bytes"
            if submission.size_mismatch:
                text += f". {submission.message}"
            return text
        case Outcome.UNKNOWN:
            return f"{name}: OUTCOME UNKNOWN - {submission.message}"
        case _:
            return f"{name}: {submission.outcome.value} - {submission.message}"


def blocked_submission(request: SendRequest, target: Target) -> Submission:
    """The result of a file the checks blocked, without a sender or a connection."""
    reasons = "; ".join(f.message for f in request.report.errors)
    return _unrecorded(
        request.report,
        request.name_to_send,
        target,
        Outcome.BLOCKED,
        f"Blocked: {reasons or 'nothing to send'}",
    )


def not_sent(request: SendRequest, target: Target, why: str) -> Submission:
    """A file a batch never got to (stopped, say): provably not delivered."""
    return _unrecorded(
        request.report, request.name_to_send, target, Outcome.FAILED, why
    )


def _unrecorded(
    report: CheckReport,
    name: str,
    target: Target,
    outcome: Outcome,
    message: str,
) -> Submission:
    now = datetime.now(UTC).isoformat(timespec="seconds")
    return Submission(
        id=0,
        started_at=now,
        finished_at=now,
        environment=target.environment,
        base_url=target.base_url,
        local_path=str(report.path.absolute()),
        name_sent=name,
        bytes=report.size or 0,
        sha256=report.sha256 or "",
        outcome=outcome,
        message=message,
    )


def _plain(exc: ConnectionFailed) -> str:
    return f"{sentence(exc.title)} {exc.hint}".strip()


def sentence(text: str) -> str:
    """``text`` ending in a full stop, so two messages join into readable prose."""
    text = text.strip()
    return text if not text or text[-1] in ".!?" else f"{text}."


__all__ = [
    "EventKind",
    "SendEvent",
    "SendRequest",
    "Sender",
    "blocked_submission",
    "describe",
    "not_sent",
    "send_batch",
]
