"""``omar-tui watch``: send files as they land in a folder, unattended.

For cron (``--once``) or a service. The certificate passphrase comes from
``OMAR_TUI_CERT_PASSWORD``, since a service has no terminal to prompt on.
SIGTERM or Ctrl-C lets the file in flight finish, then stops.

Output: a line per file dealt with and a summary line per cycle on stdout
(cycles that found nothing new print nothing); notices on stderr.

Exit codes: a long-running watcher that is told to stop exits 0. With
``--once`` the exit code is ``submit``'s for the files dealt with in that
cycle; files not yet stable are reported as waiting and count as nothing
(they are taken by a later run). A second watcher on the same folder exits
1 at once; settings, certificate or usage errors exit 2.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import ssl
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from omar_tui.cli.commands import open_history, setup_command, ssl_context_for
from omar_tui.cli.output import exit_code_for, print_submission
from omar_tui.core.locks import file_lock
from omar_tui.errors import ExitCode, UsageError

if TYPE_CHECKING:
    from omar_tui.core.connection import Target
    from omar_tui.core.history import History
    from omar_tui.core.models import Submission
    from omar_tui.core.paths import AppPaths
    from omar_tui.core.sender import SendEvent
    from omar_tui.core.settings import Settings
    from omar_tui.core.watch import CycleReport


def run_watch(args: argparse.Namespace) -> int:
    """Watch a folder until stopped (or for one cycle with ``--once``)."""
    paths, settings = setup_command(args)
    from omar_tui.core.connection import resolve_target

    folder = watched_folder(args.folder, settings.pending_folder)
    if args.stable_seconds < 0:
        raise UsageError("--stable-seconds must be 0 or more.")
    if args.interval <= 0:
        raise UsageError("--interval must be more than 0 seconds.")
    target = resolve_target(settings, args.env, args.base_url)

    # The lock comes first: a second watcher must leave before asking for
    # a passphrase or touching the server.
    with file_lock(
        paths.lock_dir,
        str(folder.resolve()),
        what=f"the folder {folder}",
        doing="watching",
    ):
        ssl_context = ssl_context_for(args, settings)
        history = open_history(paths, sending=True)
        with history:
            return asyncio.run(
                _watch(args, paths, settings, target, ssl_context, history, folder)
            )


def watched_folder(given: Path | None, pending: Path | None) -> Path:
    """The folder from the command line, else the settings' pending folder.

    Raises:
        UsageError: Neither is set, or the folder does not exist.
    """
    folder = given.expanduser() if given is not None else pending
    if folder is None:
        raise UsageError(
            "No folder to watch.",
            "Name one (omar-tui watch FOLDER), or set pending_folder in the "
            "settings file (omar-tui paths shows where it is).",
        )
    if not folder.is_dir():
        raise UsageError(
            f"{folder} is not a folder.",
            "Check the path; the watcher does not create the folder it watches.",
        )
    return folder.absolute()


async def _watch(
    args: argparse.Namespace,
    paths: AppPaths,
    settings: Settings,
    target: Target,
    ssl_context: ssl.SSLContext,
    history: History,
    folder: Path,
) -> int:
    from omar_tui.core.sender import EventKind, Sender
    from omar_tui.core.watch import Watcher

    filed: list[str] = []  # "Moved to ..." notes, printed after their file's line

    def on_event(event: SendEvent) -> None:
        if event.kind is EventKind.FILED:
            filed.append(event.message)

    def on_result(result: Submission) -> None:
        print_submission(result)
        for note in filed:
            print(f"  {note}", flush=True)
        filed.clear()

    def make_sender() -> Sender:
        return Sender(
            settings=settings,
            history=history,
            target=target,
            ssl_context=ssl_context,
            lock_dir=paths.lock_dir,
            profile=paths.profile,
            listener=on_event,
        )

    watcher = Watcher(
        folder,
        settings=settings,
        history=history,
        target=target,
        make_sender=make_sender,
        stable_seconds=args.stable_seconds,
        on_result=on_result,
    )

    def stop() -> None:
        if not watcher.stop_requested:
            print("omar-tui: stopping after the current file.", file=sys.stderr)
        watcher.request_stop()

    loop = asyncio.get_running_loop()
    signals = (signal.SIGTERM, signal.SIGINT)
    for signum in signals:
        loop.add_signal_handler(signum, stop)
    try:
        if args.once:
            report = await watcher.cycle()
            print(report.summary(), flush=True)
            return exit_code_for_cycle(report)

        print(
            f"omar-tui: watching {folder} for {target.environment} "
            f"({target.base_url}): a cycle every {args.interval:g} s, files "
            f"stable for {args.stable_seconds:g} s. Stop with Ctrl-C or SIGTERM.",
            file=sys.stderr,
            flush=True,
        )
        await watcher.run(args.interval, _summary_printer())
        print("omar-tui: stopped.", file=sys.stderr, flush=True)
        return int(ExitCode.OK)
    finally:
        for signum in signals:
            loop.remove_signal_handler(signum)


def exit_code_for_cycle(report: CycleReport) -> int:
    """``submit``'s exit code for a ``--once`` cycle; waiting files count as nothing.

    A cycle cut short by a signal, with nothing worse to report, gives 130.
    """
    code = exit_code_for([r.outcome for r in report.results])
    if report.stopped and code is ExitCode.OK:
        return int(ExitCode.INTERRUPTED)
    return int(code)


def _summary_printer() -> Callable[[CycleReport], None]:
    """Print a cycle's summary unless it did nothing new (no spam when idle)."""
    last_waiting: list[int] = []

    def on_cycle(report: CycleReport) -> None:
        if report.idle and last_waiting == [report.waiting]:
            return
        last_waiting[:] = [report.waiting]
        print(report.summary(), flush=True)

    return on_cycle
