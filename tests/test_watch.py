"""``omar-tui watch``: stable files only, reported once, one watcher a folder."""

from __future__ import annotations

import dataclasses
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import TracebackType

import pytest

from omar_tui.cli.main import main
from omar_tui.core.connection import Target
from omar_tui.core.history import History
from omar_tui.core.locks import file_lock
from omar_tui.core.models import Outcome, Submission
from omar_tui.core.paths import AppPaths
from omar_tui.core.sender import SendRequest
from omar_tui.core.settings import Settings
from omar_tui.core.watch import CycleReport, Watcher, list_folder
from omar_tui.errors import ConnectionFailed, ExitCode
from omar_tui.simulator import Simulator

METER = b"resource_id,interval_start,value\r\nR1,2026-12-01T00:00,1.5\r\n"
TARGET = Target("test", "https://127.0.0.1:9")
T0 = 1_800_000_000.0  # fake wall-clock start


class Clocks:
    """A monotonic clock and a wall clock that move only when told to."""

    def __init__(self) -> None:
        self.mono = 0.0

    def advance(self, seconds: float) -> None:
        self.mono += seconds

    def monotonic(self) -> float:
        return self.mono

    def wall(self) -> float:
        return T0 + self.mono


class FakeSender:
    """Stands in for Sender: accepts everything, or what ``outcome`` says."""

    def __init__(self, log: list[bytes], outcome: Outcome = Outcome.ACCEPTED) -> None:
        self.log = log
        self.outcome = outcome
        self.stopped = False
        self.session_error: ConnectionFailed | None = None
        self.on_send: object = None

    async def __aenter__(self) -> FakeSender:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        return None

    async def open_session(self) -> None:
        if self.session_error is not None:
            raise self.session_error

    async def send(self, request: SendRequest) -> Submission:
        assert request.report.data is not None
        self.log.append(request.report.data)
        if callable(self.on_send):
            self.on_send()
        return Submission(
            id=len(self.log),
            started_at="2026-12-04T00:00:00+00:00",
            finished_at="2026-12-04T00:00:01+00:00",
            environment="test",
            base_url=TARGET.base_url,
            local_path=str(request.report.path),
            name_sent=request.name_to_send,
            bytes=len(request.report.data),
            sha256=request.report.sha256 or "",
            outcome=self.outcome,
        )

    def request_stop(self) -> None:
        self.stopped = True


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    path = tmp_path / "pending"
    path.mkdir()
    return path


@pytest.fixture
def history(tmp_path: Path):
    with History(tmp_path / "history.sqlite3") as h:
        yield h


def make_watcher(
    folder: Path,
    history: History,
    clocks: Clocks,
    sent: list[bytes],
    *,
    stable: float = 10.0,
    sender: FakeSender | None = None,
) -> Watcher:
    return Watcher(
        folder,
        settings=Settings(),
        history=history,
        target=TARGET,
        make_sender=lambda: sender or FakeSender(sent),
        stable_seconds=stable,
        clock=clocks.monotonic,
        wall=clocks.wall,
    )


def write(path: Path, data: bytes, mtime: float) -> None:
    path.write_bytes(data)
    os.utime(path, (mtime, mtime))


async def test_file_still_being_written_waits_until_stable(
    folder: Path, history: History
) -> None:
    clocks = Clocks()
    sent: list[bytes] = []
    watcher = make_watcher(folder, history, clocks, sent)
    path = folder / "meter.csv"

    write(path, METER[:20], clocks.wall())  # the writer has just begun
    report = await watcher.cycle()
    assert (report.results, report.waiting) == ([], 1)

    clocks.advance(5)
    write(path, METER[:40], clocks.wall())  # still growing
    assert (await watcher.cycle()).waiting == 1

    clocks.advance(5)
    write(path, METER, clocks.wall())  # last write
    assert (await watcher.cycle()).waiting == 1

    clocks.advance(7)  # unchanged for 7 s only
    assert (await watcher.cycle()).waiting == 1
    assert sent == []

    clocks.advance(4)  # unchanged for 11 s
    report = await watcher.cycle()
    assert [r.outcome for r in report.results] == [Outcome.ACCEPTED]
    assert report.waiting == 0
    assert sent == [METER]  # the finished file, never a part of it
    assert report.summary() == "cycle 5: 1 accepted, 0 blocked, 0 failed, 0 waiting"


async def test_same_mtime_but_growing_size_still_waits(
    folder: Path, history: History
) -> None:
    clocks = Clocks()
    sent: list[bytes] = []
    watcher = make_watcher(folder, history, clocks, sent)
    path = folder / "meter.csv"
    old = clocks.wall() - 3600

    write(path, METER[:20], old)  # looks old at first sight: taken at once...
    await watcher.cycle()
    assert sent == [METER[:20]]

    write(path, METER, old)  # ...then changes size with the same mtime
    clocks.advance(1)
    assert (await watcher.cycle()).waiting == 1
    clocks.advance(10)
    await watcher.cycle()
    assert sent == [METER[:20], METER]


async def test_old_file_is_sent_on_first_sight(folder: Path, history: History) -> None:
    clocks = Clocks()
    sent: list[bytes] = []
    watcher = make_watcher(folder, history, clocks, sent)
    write(folder / "old.csv", METER, clocks.wall() - 60)
    write(folder / "new.csv", METER + b"x\r\n", clocks.wall() - 2)

    report = await watcher.cycle()

    assert sent == [METER]
    assert report.waiting == 1


async def test_stable_zero_takes_everything(folder: Path, history: History) -> None:
    clocks = Clocks()
    sent: list[bytes] = []
    watcher = make_watcher(folder, history, clocks, sent, stable=0)
    write(folder / "a.csv", METER, clocks.wall() + 5)  # even a future mtime

    report = await watcher.cycle()

    assert sent == [METER] and report.waiting == 0


async def test_accepted_and_blocked_files_are_reported_once(
    folder: Path, history: History
) -> None:
    clocks = Clocks()
    sent: list[bytes] = []
    watcher = make_watcher(folder, history, clocks, sent, stable=0)
    write(folder / "a.csv", METER, T0)
    write(folder / "notes.txt", b"hello\n", T0)

    first = await watcher.cycle()
    assert sorted(r.outcome for r in first.results) == ["accepted", "blocked"]

    clocks.advance(60)
    second = await watcher.cycle()
    assert second.results == [] and second.idle
    assert sent == [METER]

    write(folder / "notes.txt", b"changed\n", T0 + 1)  # a new version: new report
    third = await watcher.cycle()
    assert [r.outcome for r in third.results] == [Outcome.BLOCKED]


async def test_rejected_or_unknown_bytes_are_held_not_resent(
    folder: Path, history: History
) -> None:
    import hashlib

    for name, outcome in (("r.csv", Outcome.REJECTED), ("u.csv", Outcome.UNKNOWN)):
        data = METER + name.encode() + b"\r\n"
        write(folder / name, data, T0)
        record = history.begin(
            environment="test",
            base_url=TARGET.base_url,
            local_path=str(folder / name),
            name_sent=name,
            bytes=len(data),
            sha256=hashlib.sha256(data).hexdigest(),
        )
        history.finish(record, outcome=outcome, message="bad row 2")

    clocks = Clocks()
    sent: list[bytes] = []
    watcher = make_watcher(folder, history, clocks, sent, stable=0)
    report = await watcher.cycle()

    assert sent == []
    messages = sorted(r.message for r in report.results)
    assert all(m.startswith("Not sent again") for m in messages)
    assert "rejected these exact bytes" in messages[0]
    assert "may or may not have reached" in messages[1]
    assert (await watcher.cycle()).results == []  # once only


async def test_failed_files_are_tried_again_next_cycle(
    folder: Path, history: History
) -> None:
    clocks = Clocks()
    sent: list[bytes] = []
    sender = FakeSender(sent)
    sender.session_error = ConnectionFailed("OMAR-Online could not be reached.")
    watcher = make_watcher(folder, history, clocks, sent, stable=0, sender=sender)
    write(folder / "a.csv", METER, T0)

    first = await watcher.cycle()
    assert [r.outcome for r in first.results] == [Outcome.FAILED]
    assert "tried again" in first.results[0].message
    assert sent == []

    sender.session_error = None
    second = await watcher.cycle()
    assert [r.outcome for r in second.results] == [Outcome.ACCEPTED]
    assert sent == [METER]


async def test_stop_finishes_the_current_file_only(
    folder: Path, history: History
) -> None:
    clocks = Clocks()
    sent: list[bytes] = []
    sender = FakeSender(sent)
    watcher = make_watcher(folder, history, clocks, sent, stable=0, sender=sender)
    sender.on_send = watcher.request_stop  # a SIGTERM during the first upload
    for name in ("a.csv", "b.csv", "c.csv"):
        write(folder / name, METER + name.encode(), T0)

    report = await watcher.cycle()

    assert len(sent) == 1 and sender.stopped
    assert report.stopped
    assert report.summary().endswith("(stopped)")


def test_listing_leaves_out_hidden_and_filed(folder: Path) -> None:
    for rel in ("a.csv", ".a.csv.part", "sent/2026-12-04/b.csv", "rejected/c.csv"):
        path = folder / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(METER)
    (folder / "sub").mkdir()
    (folder / "sub" / "d.csv").write_bytes(METER)

    assert set(list_folder(folder)) == {folder / "a.csv"}
    deep = set(list_folder(folder, include_subfolders=True))
    assert deep == {folder / "a.csv", folder / "sub" / "d.csv"}


def test_summary_shows_rejected_and_unknown_only_when_present() -> None:
    sub = Submission(
        id=1,
        started_at="",
        finished_at=None,
        environment="test",
        base_url="",
        local_path="a.csv",
        name_sent="a.csv",
        bytes=1,
        sha256="",
        outcome=Outcome.REJECTED,
    )
    unknown = dataclasses.replace(sub, outcome=Outcome.UNKNOWN)
    report = CycleReport(3, [sub, unknown], waiting=4)
    assert report.summary() == (
        "cycle 3: 0 accepted, 1 rejected, 0 blocked, 0 failed, 1 UNKNOWN, 4 waiting"
    )


# -- the command ---------------------------------------------------------------


def test_second_watcher_on_a_folder_is_refused(
    folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    paths = AppPaths.resolve()
    with file_lock(paths.lock_dir, str(folder.resolve()), what="x", doing="watching"):
        code = main(["watch", "--once", str(folder)])

    assert code == 1
    err = capsys.readouterr().err
    assert "Another omar-tui is already watching the folder" in err
    assert str(os.getpid()) in err  # names the holder


def test_no_folder_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["watch", "--once"]) == ExitCode.USAGE
    assert "No folder to watch" in capsys.readouterr().err


def connection(sim: Simulator) -> list[str]:
    files = sim.files
    return [
        "--base-url",
        sim.base_url,
        "--ca-bundle",
        str(files.ca_cert),
        "--cert",
        str(files.client_cert),
        "--key",
        str(files.client_key),
    ]


def write_settings(config: Path, text: str) -> None:
    config.mkdir(parents=True, exist_ok=True)
    (config / "settings.toml").write_text(text)


def test_once_sends_stable_files_and_files_them_away(
    simulator: Simulator,
    folder: Path,
    private_config: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    write_settings(
        private_config, f'pending_folder = "{folder}"\nafter_send = "move"\n'
    )
    write(folder / "old.csv", METER, time.time() - 120)
    write(folder / "fresh.csv", METER + b"R2\r\n", time.time() + 5)  # being written

    code = main(["watch", "--once", *connection(simulator)])  # FOLDER from settings

    out = capsys.readouterr().out
    assert code == ExitCode.OK  # the waiting file is no failure
    assert "cycle 1: 1 accepted, 0 blocked, 0 failed, 1 waiting" in out
    assert out.index("[ok] old.csv") < out.index("Moved to")  # result, then move
    assert [f.data for f in simulator.received] == [METER]
    assert (folder / "fresh.csv").exists() and not (folder / "old.csv").exists()
    assert len(list((folder / "sent").rglob("old.csv"))) == 1


def test_once_from_cron_with_keep_does_not_fail_on_files_already_sent(
    simulator: Simulator,
    folder: Path,
    private_config: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    write_settings(private_config, f'pending_folder = "{folder}"\n')  # keep
    write(folder / "old.csv", METER, time.time() - 120)

    assert main(["watch", "--once", *connection(simulator)]) == ExitCode.OK
    capsys.readouterr()
    assert main(["watch", "--once", *connection(simulator)]) == ExitCode.OK

    out = capsys.readouterr().out
    assert "0 accepted, 0 blocked, 0 failed, 0 waiting, 1 already sent" in out
    assert len(simulator.received) == 1


def test_sigterm_stops_a_watcher_after_the_current_file(
    simulator: Simulator, folder: Path, private_config: Path
) -> None:
    for name in ("a.csv", "b.csv"):
        write(folder / name, METER + name.encode() + b"\r\n", time.time() - 60)
    simulator.faults.once("delay", seconds=2.0)  # the first upload stays in flight

    argv = ["-v", "watch", "--interval", "60", *connection(simulator), str(folder)]
    child = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys; from omar_tui.cli.main import main; "
            "sys.exit(main(sys.argv[1:]))",
            *argv,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "OMAR_TUI_CONFIG_DIR": str(private_config)},
    )
    try:
        assert child.stderr is not None
        for line in child.stderr:
            if "Sending a.csv" in line:
                break
        else:
            pytest.fail("the watcher never started sending")

        # While it sends, a second watcher on the same folder is refused.
        second = main(["watch", "--once", str(folder)])
        assert second == 1

        child.send_signal(signal.SIGTERM)
        out, err = child.communicate(timeout=30)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()

    assert child.returncode == 0, err
    assert "stopping after the current file" in err
    assert "[ok] a.csv: accepted" in out
    assert "b.csv" not in out
    assert [f.original_name for f in simulator.received] == ["a.csv"]
