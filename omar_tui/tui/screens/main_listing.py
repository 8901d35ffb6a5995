"""The main screen's pending folder: listing, checking and polling it.

A folder may hold tens of thousands of files, so nothing here runs on the UI
thread: a thread worker lists the folder, puts the names on screen at once,
then runs :func:`~omar_tui.core.checks.check_file` on each new or changed
file and hands the results over in batches (few redraws, steady progress).
Each file's bytes are dropped after its check; they are read again, and
compared by hash, just before a send.

A poll lists the folder again every :data:`POLL_SECONDS`, so files that
appear, change or vanish show up without a restart. No scan runs during a
send (the rows being sent must stay put); one asked for meanwhile runs after.
"""

from __future__ import annotations

import logging
import time
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from textual.worker import get_current_worker

from omar_tui.core.checks import check_file
from omar_tui.core.models import Outcome
from omar_tui.tui.widgets.file_list import (
    FileList,
    PendingFile,
    Stamp,
    diff_listing,
    list_folder,
)
from omar_tui.tui.widgets.upload_log import UploadLog

if TYPE_CHECKING:
    from omar_tui.tui.screens.main import MainScreen

log = logging.getLogger("omar_tui.tui")

POLL_SECONDS = 3.0
"""How often the pending folder is listed again for new, changed or gone files."""
BATCH = 200
"""Files checked before the table is updated: few redraws, steady progress."""
BATCH_SECONDS = 0.25
"""...or this long, whichever comes first, so the first rows appear quickly."""


class FolderListing:
    """Keeps the main screen's file list in step with the pending folder.

    Args:
        screen: The main screen, whose file list, log and details are updated.
    """

    def __init__(self, screen: MainScreen) -> None:
        self.screen = screen
        self.recursive = False
        """Include files in subfolders of the pending folder."""
        self.scanning = False
        """True while a listing worker runs (one at a time)."""
        self._rescan = False
        self._stamps: dict[Path, Stamp] = {}
        self._folder_problem: str | None = None

    def title(self) -> str:
        """The file list's border title: the folder, and whether subfolders count."""
        folder = self.screen.omar.settings.pending_folder
        where = str(folder) if folder else "no pending folder set"
        sub = " +subfolders" if self.recursive else ""
        return f"Pending files: {where}{sub}"

    def poll(self) -> None:
        """The periodic tick: ages move on, and the folder is listed again."""
        self.screen.query_one("#files", FileList).refresh_ages()
        if not self.screen.sending:
            self.start()

    def start(self, *, full: bool = False) -> None:
        """List the folder again (in a thread); ``full`` re-checks every file."""
        if self.scanning or self.screen.sending:
            # One scan at a time; none during a send, whose rows must stay put.
            self._rescan = self._rescan or full
            return
        self.scanning = True
        known = dict(self._stamps)
        if full:  # an impossible stamp: every file counts as changed
            known = dict.fromkeys(known, (-1, -1.0))
        self.screen.run_worker(
            partial(self._scan, known, self.recursive),
            thread=True,
            group="scan",
            exit_on_error=False,
        )

    def run_held_back(self) -> None:
        """Run the scan that a send (or a running scan) held back, if any."""
        if self._rescan:
            self._rescan = False
            self.start(full=True)

    # -- in the worker thread ----------------------------------------------------

    def _scan(self, known: dict[Path, Stamp], recursive: bool) -> None:
        call = self.screen.app.call_from_thread
        try:
            self._scan_folder(known, recursive)
        except Exception:
            log.exception("listing the pending folder")
            call(self.screen.show_internal_error, "Listing the pending folder failed")
        finally:
            call(self._scan_done)

    def _scan_folder(self, known: dict[Path, Stamp], recursive: bool) -> None:
        worker = get_current_worker()
        call = self.screen.app.call_from_thread
        root = self.screen.omar.settings.pending_folder
        if root is None:
            message = "No pending folder is set: press e for Settings."
            call(self._folder_state, {}, message)
            return
        try:
            listing = list_folder(root, recursive=recursive)
        except OSError as exc:
            message = f"Cannot read the pending folder {root}: {exc.strerror or exc}"
            call(self._folder_state, {}, message)
            return

        fresh, gone = diff_listing(known, listing)
        call(self._folder_state, listing, None)
        if gone:
            call(self._drop, gone)

        # Names first, so the list fills at once; then the checks, in batches.
        fresh.sort(key=lambda path: str(path).lower())
        placeholders = [_pending(root, path, listing[path]) for path in fresh]
        if placeholders:
            call(self._put, placeholders)

        environment = self.screen.environment().name
        batch: list[PendingFile] = []
        last = time.monotonic()
        for file in placeholders:
            if worker.is_cancelled:
                return
            batch.append(self._checked(file, root, environment))
            if len(batch) >= BATCH or time.monotonic() - last > BATCH_SECONDS:
                call(self._put, batch)
                batch, last = [], time.monotonic()
        if batch:
            call(self._put, batch)

    def _checked(self, file: PendingFile, root: Path, environment: str) -> PendingFile:
        """Check one file; the bytes are not kept."""
        app = self.screen.omar
        report = check_file(file.path, limits=app.settings.limits, pending_root=root)
        prior = unknown = None
        if report.sha256 is not None:
            # One query for most files: bytes never sent have no record at all.
            latest = app.history.find_latest(report.sha256, environment)
            if latest is not None and latest.outcome is Outcome.ACCEPTED:
                prior = latest
            elif latest is not None:
                prior = app.history.find_accepted(report.sha256, environment)
                if latest.outcome is Outcome.UNKNOWN:
                    unknown = latest
        size = report.size if report.size is not None else file.size
        mtime = report.mtime if report.mtime is not None else file.mtime
        return replace(
            file,
            report=replace(report, data=None),
            accepted_before=prior,
            unknown_before=unknown,
            size=size,
            mtime=mtime,
        )

    # -- back on the UI thread ---------------------------------------------------

    def _folder_state(self, listing: dict[Path, Stamp], problem: str | None) -> None:
        self._stamps = listing
        if problem != self._folder_problem:
            self._folder_problem = problem
            if problem:
                self.screen.query_one("#log", UploadLog).add_error(problem)
        if problem and not listing:
            self._drop(list(self.screen.query_one("#files", FileList).files))

    def _put(self, files: list[PendingFile]) -> None:
        table = self.screen.query_one("#files", FileList)
        merged = []
        for file in files:
            old = table.files.get(file.path)
            if old is not None:
                # Keep what the operator and this run know about the file.
                if file.report is None:
                    continue  # a placeholder for a file already shown
                file.marked = old.marked
                file.sending = old.sending
                if (old.size, old.mtime) == (file.size, file.mtime):
                    file.last_result = old.last_result
            merged.append(file)
        table.put(merged)
        self.screen.files_updated(merged)

    def _drop(self, paths: list[Path]) -> None:
        self.screen.query_one("#files", FileList).drop(paths)
        self.screen.files_dropped(paths)

    def _scan_done(self) -> None:
        self.scanning = False
        self.screen.query_one("#files", FileList).border_title = self.title()
        self.run_held_back()


def _pending(root: Path, path: Path, stamp: Stamp) -> PendingFile:
    """A row for a file not yet checked (shown as "checking")."""
    try:
        label = str(path.relative_to(root))
    except ValueError:
        label = path.name
    return PendingFile(path=path, label=label, size=stamp[0], mtime=stamp[1])
