"""``omar-tui demo``: the whole tool on sample files, against a local simulator.

The demo is the README's first command, so it must work on a fresh clone
without touching anything of the operator's: everything lives in one
temporary folder (simulator certificates, settings, history, sample files),
``OMAR_TUI_CONFIG_DIR`` points there while the app runs, and the folder is
removed when the app exits. Only the local simulator on 127.0.0.1 is ever
contacted.

:func:`prepare_demo` builds the folder without starting anything, with fixed
names, contents and file ages, so the tests and the screenshot script show
exactly what an operator sees in the demo. :func:`run_demo` adds the running
simulator and opens the app.

This module is reached from the CLI, so Textual is imported only when the
app is about to start.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from omar_tui.core.models import Limits, Submission
from omar_tui.core.paths import CONFIG_DIR_VAR, AppPaths
from omar_tui.core.settings import Environment, Settings, save_settings
from omar_tui.simulator.pki import SimulatorFiles, ensure_pki

DEMO_ENVIRONMENT = "simulator"
"""Name of the custom environment the demo settings point at."""

PLACEHOLDER_URL = "https://127.0.0.1:8443"
"""Base URL written when no simulator runs (tests, screenshots): never contacted."""

SEED_FILES = ("meter_20260503_sc01.csv", "meter_20260503_sc02.csv")
"""Sent to the simulator before the app opens, so the history has real records
and the pending list shows files that were already accepted."""

# The sample contents are illustrative only. They are NOT CAISO's MDEF layout
# (we do not have that specification): the header is deliberately generic, so
# nobody mistakes these files for a template of the real format.
HEADER = b"resource_id,interval_start,interval_end,channel,value,uom"


@dataclass(frozen=True, slots=True)
class SampleFile:
    """One file of the sample pending folder."""

    name: str
    data: bytes
    rules: tuple[str, ...]
    """Rule ids the checks must report for it (empty for a good file)."""
    age_minutes: float
    """How long before "now" the file was last modified."""


@dataclass(frozen=True, slots=True)
class DemoSetup:
    """What :func:`prepare_demo` made."""

    root: Path
    paths: AppPaths
    """The demo's own config folder: settings, history, log, locks."""
    pending: Path
    """The sample pending folder."""
    settings: Settings
    sim_files: SimulatorFiles
    """Certificates and throwaway passwords, in ``root/simulator``."""
    files: tuple[Path, ...]
    """Every sample file, in :data:`SAMPLE_FILES` order."""

    @property
    def sim_dir(self) -> Path:
        """The simulator's state folder (its PKI, File Ids and stored files)."""
        return self.sim_files.state_dir

    def environ(self) -> dict[str, str]:
        """Environment variables that point omar-tui at the demo's config."""
        return {CONFIG_DIR_VAR: str(self.paths.config_dir)}


def _clock(minutes: int) -> str:
    """Minutes since midnight as ``HH:MM`` (``24:00`` for the day's end)."""
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def meter_row(resource: str, day: str, interval: int, seed: int) -> bytes:
    """One 15-minute interval row, the same every time for the same args."""
    start = interval % 96 * 15
    value = ((interval * 37 + seed * 11) % 900) / 100 + 0.25
    return (
        f"{resource},{day}T{_clock(start)},{day}T{_clock(start + 15)},1,{value:.3f},MWH"
    ).encode()


def meter_file(resource: str, day: str, count: int = 24, *, seed: int = 1) -> bytes:
    """A whole sample file: the generic header and ``count`` interval rows."""
    rows = [meter_row(resource, day, n, seed) for n in range(count)]
    return b"\n".join([HEADER, *rows]) + b"\n"


def _big_file(target: int) -> bytes:
    """A valid-looking file of at least ``target`` bytes (many resources, days)."""
    rows = [HEADER]
    size, n = len(HEADER) + 1, 0
    while size < target:
        resource = f"DEMO_GEN_{n // 2688 + 10:02d}"
        row = meter_row(resource, f"2026-04-{1 + n // 96 % 28:02d}", n, n // 96)
        rows.append(row)
        size += len(row) + 1
        n += 1
    return b"\n".join(rows) + b"\n"


def _sample_files() -> tuple[SampleFile, ...]:
    good = meter_file("DEMO_GEN_01", "2026-05-04")
    lines = good.split(b"\n")
    mixed = b"\r\n".join(lines[:10]) + b"\r\n" + b"\n".join(lines[10:])
    fields = b"\n".join(
        [*lines[:6], b"DEMO_GEN_01,2026-05-04T01:30,1,2.500", *lines[6:]]
    )
    non_ascii = good.replace(
        b"DEMO_GEN_01,2026-05-04T02:00", b"DEMO_CAF\xc3\x89_01,2026-05-04T02:00"
    )
    nul = good.replace(b"2026-05-04T03:00,1", b"2026-05-04T03:00,\x00\x001")
    return (
        SampleFile("meter_20260504_sc01.csv", good, (), 12.5),
        SampleFile(
            "meter_20260504_sc02.csv",
            meter_file("DEMO_GEN_02", "2026-05-04", seed=2),
            (),
            14.5,
        ),
        SampleFile(
            "meter_20260504_sc03.dat",
            meter_file("DEMO_LOAD_07", "2026-05-04", seed=3),
            (),
            18.5,
        ),
        SampleFile(
            SEED_FILES[0],
            meter_file("DEMO_GEN_01", "2026-05-03", seed=4),
            (),
            26 * 60 + 5.5,
        ),
        SampleFile(
            SEED_FILES[1],
            meter_file("DEMO_GEN_02", "2026-05-03", seed=5),
            (),
            26 * 60 + 7.5,
        ),
        SampleFile("meter_20260504_big.csv", _big_file(520_000), ("size",), 35.5),
        SampleFile(
            "meter_20260504_near_limit.csv",
            _big_file(505_000),
            ("size-near-limit",),
            36.5,
        ),
        SampleFile(
            "meter_20260504_sc04.txt",
            meter_file("DEMO_GEN_04", "2026-05-04", seed=6),
            ("extension",),
            41.5,
        ),
        SampleFile(
            "METER_20260504_SC05.CSV",
            meter_file("DEMO_GEN_05", "2026-05-04", seed=7),
            ("extension-case",),
            43.5,
        ),
        SampleFile(
            "meter_data_scheduling_coordinator_20260504_sc06.csv",
            meter_file("DEMO_GEN_06", "2026-05-04", seed=8),
            ("name-length",),
            47.5,
        ),
        SampleFile("meter_20260504_accent.csv", non_ascii, ("non-ascii",), 52.5),
        SampleFile("meter_20260504_bom.csv", b"\xef\xbb\xbf" + good, ("bom",), 55.5),
        SampleFile("meter_20260504_nul.csv", nul, ("binary",), 58.5),
        SampleFile("meter_20260504_crlf.csv", mixed, ("line-endings",), 61.5),
        SampleFile("meter_20260504_fields.csv", fields, ("csv-fields",), 64.5),
        SampleFile("meter_20260504_empty.csv", b"", ("file-empty",), 67.5),
    )


SAMPLE_FILES: tuple[SampleFile, ...] = _sample_files()
"""The sample pending folder: good files first, then one file per broken rule."""


def prepare_demo(
    root: Path,
    *,
    base_url: str = PLACEHOLDER_URL,
    use_passphrase: bool = False,
    now: float | None = None,
) -> DemoSetup:
    """Build the demo's folder: certificates, settings, sample files.

    Starts nothing and contacts nothing. Calling it twice on the same folder
    gives the same files (the certificates are reused while valid).

    Args:
        root: An empty (or earlier demo) folder; created if missing.
        base_url: The simulator's address, for the ``simulator`` environment.
        use_passphrase: Configure the encrypted key instead of the clear one.
        now: The time the file ages count back from (``time.time()`` if
            ``None``); a fixed value gives fixed modification times.

    Returns:
        Where everything is.
    """
    root.mkdir(parents=True, exist_ok=True)
    paths = AppPaths.resolve({CONFIG_DIR_VAR: str(root / "config")}).ensure()
    sim_files = ensure_pki(root / "simulator")

    pending = root / "pending"
    pending.mkdir(exist_ok=True)
    stamp = time.time() if now is None else now
    written = []
    for sample in SAMPLE_FILES:
        path = pending / sample.name
        path.write_bytes(sample.data)
        mtime = stamp - sample.age_minutes * 60
        os.utime(path, (mtime, mtime))
        written.append(path)

    key = sim_files.client_key_encrypted if use_passphrase else sim_files.client_key
    settings = Settings(
        environment=DEMO_ENVIRONMENT,
        environments={DEMO_ENVIRONMENT: Environment(DEMO_ENVIRONMENT, base_url)},
        cert=sim_files.client_cert,
        key=key,
        ca_bundle=sim_files.ca_cert,
        pending_folder=pending,
        limits=Limits(),
        connect_timeout=5.0,
        read_timeout=30.0,
        retries=1,
    )
    save_settings(settings, paths.settings_file)

    return DemoSetup(
        root=root,
        paths=paths,
        pending=pending,
        settings=settings,
        sim_files=sim_files,
        files=tuple(written),
    )


async def seed_history(
    setup: DemoSetup, passphrase: str | None = None
) -> list[Submission]:
    """Send :data:`SEED_FILES` to the running simulator through the core sender.

    The records are real: the same path as the app's, so the history screen
    opens on genuine File Ids, saved-as names and reply pages.
    """
    from omar_tui.core.checks import check_file
    from omar_tui.core.connection import identity_from, make_ssl_context, resolve_target
    from omar_tui.core.history import History
    from omar_tui.core.sender import Sender, SendRequest

    settings = setup.settings
    context = make_ssl_context(
        settings, identity=identity_from(settings), passphrase=passphrase
    )
    done: list[Submission] = []
    with History(setup.paths.history_db) as history:
        async with Sender(
            settings=settings,
            history=history,
            target=resolve_target(settings),
            ssl_context=context,
            lock_dir=setup.paths.lock_dir,
        ) as sender:
            await sender.open_session()
            for name in SEED_FILES:
                report = check_file(
                    setup.pending / name,
                    limits=settings.limits,
                    pending_root=setup.pending,
                )
                done.append(await sender.send(SendRequest(report)))
    return done


@dataclass(slots=True)
class _EnvVar:
    """Sets one environment variable for a while, then puts it back."""

    name: str
    value: str
    old: str | None = None

    def __enter__(self) -> None:
        self.old = os.environ.get(self.name)
        os.environ[self.name] = self.value

    def __exit__(self, *exc: object) -> None:
        if self.old is None:
            os.environ.pop(self.name, None)
        else:
            os.environ[self.name] = self.old


def run_demo(*, passphrase: bool = False, out: TextIO = sys.stdout) -> int:
    """Start the simulator, build the demo folder, run the app, clean up.

    Args:
        passphrase: Use the encrypted key, so the passphrase dialog appears;
            its throwaway password is printed before the app starts.
        out: Where the short introduction is printed.

    Returns:
        The app's exit code.
    """
    from omar_tui.core.logs import register_secret, setup_logging
    from omar_tui.simulator import Simulator

    root = Path(tempfile.mkdtemp(prefix="omar-tui-demo-"))
    try:
        with _cleanup_on_hangup(), Simulator(root / "simulator") as sim:
            setup = prepare_demo(root, base_url=sim.base_url, use_passphrase=passphrase)
            with _EnvVar(CONFIG_DIR_VAR, str(setup.paths.config_dir)):
                setup_logging(setup.paths.log_file)
                secret = sim.files.client_key_password if passphrase else None
                if secret:
                    register_secret(secret)

                for line in _introduction(setup, sim.base_url, secret):
                    print(line, file=out)
                try:
                    asyncio.run(seed_history(setup, secret))
                except Exception as exc:  # the demo still opens without history
                    print(f"(Could not pre-send the sample files: {exc})", file=out)
                out.flush()

                from omar_tui.tui.app import run_tui

                return run_tui(setup.paths)
    finally:
        shutil.rmtree(root, ignore_errors=True)


@contextlib.contextmanager
def _cleanup_on_hangup() -> Iterator[None]:
    """Turn SIGHUP and SIGTERM into a normal exit, so the temp folder goes too.

    Closing the terminal (or the SSH session) sends SIGHUP, whose default
    action ends the process at once and would leave the demo's throwaway
    keys behind in the temp folder.
    """

    def leave(signum: int, _frame: object) -> None:
        raise SystemExit(128 + signum)

    previous = {
        sig: signal.signal(sig, leave) for sig in (signal.SIGHUP, signal.SIGTERM)
    }
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _introduction(setup: DemoSetup, base_url: str, secret: str | None) -> Iterator[str]:
    yield "omar-tui demo"
    yield f"  simulator    {base_url} (local only; nothing leaves this machine)"
    yield f"  sample files {setup.pending}"
    yield f"  settings     {setup.paths.settings_file} (temporary, not yours)"
    if secret:
        yield f"  key password {secret}   (a throwaway password for the demo key)"
    yield "  Everything is removed when you quit (q)."
