"""Deterministic app states, for the README screenshots and the snapshot tests.

Each :class:`Scene` builds the app on the demo's sample data and drives it by
keys to one screen. The same scenes feed ``scripts/screenshots.py`` (SVGs in
``screenshots/``) and ``tests/tui/test_snapshots.py`` (SVG baselines), so the
pictures in the README are the ones the tests hold still.

What would change between runs is pinned: the folder (paths are shown on
screen, so each scene has a fixed one, locked while in use), the history's
clock (records get fixed times), the sample files' contents and ages (set
relative to the moment the scene is built, so "12m" stays "12m"), and the
time zone (UTC), and the certificate's serial, fingerprint and dates (the
simulator makes a new one per run; the certificate screen shows them with
the scene clock's dates). Nothing here opens a connection: the environments
point at a loopback address where no request is ever made, since every scene
stops at a dialog before anything would be sent.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from hashlib import sha256
from pathlib import Path
from typing import Any
from unittest import mock

from textual.css.query import NoMatches
from textual.pilot import Pilot

from omar_tui.core import certificates as certificates_module
from omar_tui.core import history as history_module
from omar_tui.core.certificates import CertSummary
from omar_tui.core.history import History
from omar_tui.core.models import Outcome
from omar_tui.core.settings import Environment
from omar_tui.demo import SEED_FILES, DemoSetup, prepare_demo
from omar_tui.simulator import pages
from omar_tui.simulator.pki import ensure_pki
from omar_tui.tui.app import OmarApp

SIZE = (80, 24)
"""The smallest terminal the app promises to fill; every scene uses it."""

CLOCK_START = datetime(2026, 5, 4, 15, 2, 11, 250_000, tzinfo=UTC)
"""When the first sample history record was written."""

Drive = Callable[[Pilot[Any]], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class Scene:
    """One screen of the app, reached by keys from a fresh start."""

    name: str
    """File name stem of the screenshot (``main`` -> ``main.svg``)."""
    title: str
    drive: Drive
    passphrase: bool = False
    """Build the demo with the encrypted key (the passphrase dialog)."""
    production: bool = False
    """Make ``production`` the active environment (pointing at loopback)."""
    plain: bool = False
    """Draw as on a Linux console (``TERM=linux``): ASCII borders and bars."""


# --- the data ----------------------------------------------------------------


def scene_root(name: str) -> Path:
    """The fixed folder of one scene (its paths appear on screen)."""
    return Path(tempfile.gettempdir()) / "omar-tui-scenes" / name


@contextlib.contextmanager
def locked_root(name: str) -> Iterator[Path]:
    """The scene's folder, emptied, held against another run using it."""
    root = scene_root(name)
    root.parent.mkdir(parents=True, exist_ok=True)
    with (root.parent / f"{name}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        shutil.rmtree(root, ignore_errors=True)
        try:
            yield root
        finally:
            shutil.rmtree(root, ignore_errors=True)


def fixed_clock(start: datetime = CLOCK_START) -> Callable[[], str]:
    """A stand-in for the history's clock: 40 s and a bit per call."""
    ticks = iter(range(1_000_000))

    def now() -> str:
        moment = start + timedelta(seconds=41.125 * next(ticks))
        return moment.isoformat(timespec="milliseconds")

    return now


def write_sample_history(setup: DemoSetup, history: History) -> None:
    """Fixed records: the seed files accepted, then one of each other outcome.

    The reply pages come from the simulator's own page builders, so the
    detail screen shows what a real (simulated) receipt looks like.
    """
    base_url = setup.settings.active_environment().base_url
    samples = [
        ("meter_20260502_sc01.csv", Outcome.ACCEPTED, 1000),
        (SEED_FILES[0], Outcome.ACCEPTED, 1001),
        (SEED_FILES[1], Outcome.ACCEPTED, 1002),
        ("meter_20260503_sc03.csv", Outcome.REJECTED, None),
        ("meter_20260503_sc04.csv", Outcome.FAILED, None),
        ("meter_20260503_sc05.csv", Outcome.UNKNOWN, None),
    ]
    with mock.patch.object(history_module, "_now", fixed_clock()):
        for name, outcome, file_id in samples:
            path = setup.pending / name
            data = path.read_bytes() if path.exists() else name.encode() * 40
            record = history.begin(
                environment=setup.settings.environment,
                base_url=base_url,
                local_path=path,
                name_sent=name,
                bytes=len(data),
                sha256=sha256(data).hexdigest(),
            )
            if outcome is Outcome.ACCEPTED and file_id is not None:
                saved_as = f"20260504150211_{file_id}_{name}"
                history.finish(
                    record,
                    outcome=outcome,
                    file_id=str(file_id),
                    saved_as=saved_as,
                    server_size=len(data),
                    raw_reply=pages.receipt_page(
                        name, saved_as, len(data), file_id
                    ).decode(),
                )
            elif outcome is Outcome.REJECTED:
                message = "File name already used today"
                history.finish(
                    record,
                    outcome=outcome,
                    message=message,
                    raw_reply=pages.error_page(message).decode(),
                )
            elif outcome is Outcome.FAILED:
                history.finish(
                    record,
                    outcome=outcome,
                    message="Could not connect: connection refused",
                )
            else:
                history.finish(
                    record,
                    outcome=outcome,
                    message="The connection closed before a reply arrived.",
                )


_PKI_CACHE: list[Path] = []


def _copy_pki(target: Path) -> None:
    """Reuse one set of simulator certificates per process (keys are slow to make).

    The demo's ``ensure_pki`` keeps certificates that are still valid, so a
    copy is as good as new ones, and the screens show the same subject and
    days left either way.
    """
    if not _PKI_CACHE:
        cache = Path(tempfile.mkdtemp(prefix="omar-tui-scene-pki-"))
        ensure_pki(cache / "pki")
        _PKI_CACHE.append(cache / "pki")
    shutil.copytree(_PKI_CACHE[0], target)


_real_summarize = certificates_module.summarize


def fixed_summary(*args: Any, **kwargs: Any) -> CertSummary:
    """The demo certificate's summary with run-independent serial and dates."""
    summary = _real_summarize(*args, **kwargs)
    return replace(
        summary,
        serial="5CE7A1D4E5B0C9F2A3B4C5D6E7F8091A2B3C4D5E",
        fingerprint_sha256=":".join(f"{(n * 37) % 256:02X}" for n in range(32)),
        not_before=CLOCK_START - timedelta(hours=1),
        not_after=CLOCK_START + timedelta(days=summary.days_left, hours=1),
    )


@contextlib.contextmanager
def scene_app(scene: Scene) -> Iterator[OmarApp]:
    """The app for ``scene`` on fresh demo data in the scene's own folder."""
    os.environ["TZ"] = "UTC"
    time.tzset()
    with locked_root(scene.name) as root:
        _copy_pki(root / "simulator")
        setup = prepare_demo(root, use_passphrase=scene.passphrase, now=time.time())
        settings = setup.settings
        if scene.production:
            settings = replace(
                settings,
                environment="production",
                environments={
                    **settings.environments,
                    "production": Environment(
                        "production", settings.active_environment().base_url
                    ),
                },
            )
        with (
            History(setup.paths.history_db) as history,
            mock.patch.object(certificates_module, "summarize", fixed_summary),
        ):
            write_sample_history(setup, history)
            yield OmarApp(setup.paths, settings, history, plain=scene.plain)


# --- driving -----------------------------------------------------------------


async def wait_until(pilot: Pilot[Any], condition: Callable[[], bool]) -> None:
    """Let the app run until ``condition`` holds (bounded)."""
    for _ in range(2000):
        await pilot.pause(0.01)
        with contextlib.suppress(NoMatches):  # still being mounted
            if condition():
                return
    raise TimeoutError("the app never reached the scene's state")


async def checked(pilot: Pilot[Any]) -> None:
    """Wait until every sample file is listed and checked."""
    from omar_tui.demo import SAMPLE_FILES
    from omar_tui.tui.widgets.file_list import FileList, FileState

    def done() -> bool:
        screen = pilot.app.screen_stack[0]
        files = screen.query_one("#files", FileList).files.values()
        return len(files) == len(SAMPLE_FILES) and all(
            f.state is not FileState.CHECKING for f in files
        )

    await wait_until(pilot, done)
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


async def highlight(pilot: Pilot[Any], name: str) -> None:
    """Move the file cursor to ``name`` with keys."""
    from omar_tui.tui.widgets.file_list import FileList

    table = pilot.app.screen.query_one("#files", FileList)
    await pilot.press("g")
    for _ in range(table.row_count):
        current = table.highlighted
        if current is not None and current.label == name:
            await pilot.app.workers.wait_for_complete()
            await pilot.pause()
            return
        await pilot.press("down")
    raise LookupError(f"{name} is not listed")


async def screen_is(pilot: Pilot[Any], kind: str) -> None:
    """Wait until the screen in front is of the class called ``kind``.

    Text cursors stop blinking (hidden): a snapshot taken half a second
    later on a busy machine must look the same.
    """
    from textual.widgets import Input

    await wait_until(pilot, lambda: type(pilot.app.screen).__name__ == kind)
    for field in pilot.app.screen.query(Input):
        field.cursor_blink = False
    await pilot.pause()


async def drive_main(pilot: Pilot[Any]) -> None:
    await checked(pilot)
    await highlight(pilot, "meter_20260504_sc01.csv")


async def drive_checks(pilot: Pilot[Any]) -> None:
    await checked(pilot)
    await highlight(pilot, "meter_20260504_crlf.csv")


async def _mark_and_send(pilot: Pilot[Any]) -> None:
    await checked(pilot)
    await highlight(pilot, "meter_20260504_sc01.csv")
    await pilot.press("space", "space")  # marks sc01 and sc02
    await pilot.press("s")


async def drive_send(pilot: Pilot[Any]) -> None:
    await _mark_and_send(pilot)
    await screen_is(pilot, "SendConfirmScreen")


async def drive_production(pilot: Pilot[Any]) -> None:
    await _mark_and_send(pilot)
    await screen_is(pilot, "SendConfirmScreen")


async def drive_passphrase(pilot: Pilot[Any]) -> None:
    await _mark_and_send(pilot)
    await screen_is(pilot, "PassphraseScreen")


async def drive_history(pilot: Pilot[Any]) -> None:
    await checked(pilot)
    await pilot.press("h")
    await screen_is(pilot, "HistoryScreen")
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()  # the newest record, outcome unknown, shows its advice


async def drive_detail(pilot: Pilot[Any]) -> None:
    await checked(pilot)
    await pilot.press("h")
    await screen_is(pilot, "HistoryScreen")
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()
    await pilot.press("down", "down", "down", "enter")  # an accepted record
    await screen_is(pilot, "SubmissionDetailScreen")


async def drive_settings(pilot: Pilot[Any]) -> None:
    await checked(pilot)
    await pilot.press("comma")
    await screen_is(pilot, "SettingsScreen")


async def drive_certificate(pilot: Pilot[Any]) -> None:
    await checked(pilot)
    await pilot.press("i")
    await screen_is(pilot, "CertificateScreen")
    await wait_until(pilot, lambda: getattr(pilot.app.screen, "state", "") == "shown")
    await pilot.pause()


async def drive_help(pilot: Pilot[Any]) -> None:
    await checked(pilot)
    await pilot.press("f1")
    await screen_is(pilot, "HelpScreen")


SCENES: tuple[Scene, ...] = (
    Scene("main", "Pending files, checks and upload log", drive_main),
    Scene("checks", "The checks panel on a file with findings", drive_checks),
    Scene("send-confirm", "Confirmation before anything leaves", drive_send),
    Scene(
        "production-confirm",
        "Production: its name must be typed",
        drive_production,
        production=True,
    ),
    Scene(
        "passphrase", "The masked passphrase dialog", drive_passphrase, passphrase=True
    ),
    Scene("history", "Past submissions, newest first", drive_history),
    Scene("history-detail", "One submission in full", drive_detail),
    Scene("settings", "Settings", drive_settings),
    Scene("certificate", "The certificate in full, and the paths", drive_certificate),
    Scene("help", "F1 help: keys and states", drive_help),
    Scene("main-plain", "The main screen on a Linux console", drive_main, plain=True),
)
"""Every screen of the README, in the order it shows them."""


def scene(name: str) -> Scene:
    """The scene called ``name``."""
    for item in SCENES:
        if item.name == name:
            return item
    raise KeyError(name)
