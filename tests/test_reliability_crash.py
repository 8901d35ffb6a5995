"""Issue 4, items 2 and 3: processes that die, and processes that run together.

Real ``python -m omar_tui`` processes against the real simulator over TLS.
An upload is held inside the simulator (``UploadGate``) so that "while it
sends" is a fact the test waits for, not a guess about timing.
"""

from __future__ import annotations

import contextlib
import subprocess
import sys

import pytest
from reliability_helpers import (
    METER,
    UploadGate,
    child_env,
    cli_command,
    connection,
    json_lines,
    run_cli,
    run_json,
    wait_for,
    write,
    write_settings,
)

from omar_tui.errors import ExitCode
from omar_tui.simulator import Simulator


def test_kill_9_mid_send_leaves_unknown_that_is_not_resent(
    simulator: Simulator,
    tmp_path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    write_settings()
    path = write(tmp_path / "pending", "meter.csv")
    gate = UploadGate(simulator, monkeypatch)
    sender = subprocess.Popen(
        cli_command("submit", "--json", *connection(simulator), str(path)),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=child_env(),
    )
    try:
        assert gate.entered.wait(30), sender.communicate(timeout=5)
        sender.kill()  # SIGKILL: no handler, no finally, no last write
        sender.communicate(timeout=10)
    finally:
        gate.release.set()
    # The server goes on to store the file the dead client never heard about.
    assert wait_for(lambda: len(simulator.received) == 1)

    code, records, _ = run_json(capsys, "history", "--json")
    assert code == ExitCode.OK
    assert [r["outcome"] for r in records] == ["unknown"]
    assert "OMAR-Online" in records[0]["message"]
    assert main_text(capsys, "history").count("UNKNOWN") == 1

    code, results, _ = run_json(
        capsys, "submit", "--json", *connection(simulator), str(path)
    )
    assert code == ExitCode.UNKNOWN  # still unknown: exit 4 asks for a look-up
    assert results[0]["outcome"] == "unknown"
    assert results[0]["history_id"] is None  # no new attempt was recorded
    assert "Look it up in OMAR-Online first" in results[0]["message"]
    assert "--allow-resend" in results[0]["message"]
    assert len(simulator.received) == 1
    assert simulator.requests.posts == 1  # not even tried again

    # The operator looked, it was not there (say): an explicit resend goes.
    code, results, _ = run_json(
        capsys, "submit", "--json", "--allow-resend", *connection(simulator), str(path)
    )
    assert code == ExitCode.OK
    assert results[0]["outcome"] == "accepted"
    assert len(simulator.received) == 2


def main_text(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    from omar_tui.cli.main import main

    assert main(list(argv)) == ExitCode.OK
    return capsys.readouterr().out


def test_two_processes_never_send_the_same_file_at_once(
    simulator: Simulator, tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_settings()
    path = write(tmp_path / "pending", "meter.csv")
    gate = UploadGate(simulator, monkeypatch)
    first = subprocess.Popen(
        cli_command("submit", "--json", *connection(simulator), str(path)),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=child_env(),
    )
    try:
        assert gate.entered.wait(30), first.communicate(timeout=5)
        # The first one is mid-send: its body is at the server, no reply yet.
        second = run_cli("submit", "--json", *connection(simulator), str(path))
    finally:
        gate.release.set()
    out, err = first.communicate(timeout=30)

    assert second.returncode == ExitCode.SOME_FAILED, second.stderr
    [refused] = json_lines(second.stdout)
    assert refused["outcome"] == "failed"
    assert "Another omar-tui is already sending" in refused["message"]
    assert refused["history_id"] is None  # never recorded: nothing left

    assert first.returncode == ExitCode.OK, err
    assert [r["outcome"] for r in json_lines(out)] == ["accepted"]
    assert len(simulator.received) == 1
    assert simulator.requests.posts == 1


def test_two_processes_of_50_sends_lose_no_record(
    simulator: Simulator, tmp_path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_settings()
    batches = {
        tag: [
            write(
                tmp_path / tag, f"{tag}_{i:02d}.csv", METER + f"{tag},{i}\r\n".encode()
            )
            for i in range(50)
        ]
        for tag in ("cron", "tui")
    }
    children = [
        subprocess.Popen(
            cli_command("submit", *connection(simulator), *map(str, files)),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            env=child_env(),
        )
        for files in batches.values()
    ]
    errors = [child.communicate(timeout=60)[1] for child in children]

    assert [child.returncode for child in children] == [0, 0], errors
    assert not any("locked" in e.lower() for e in errors), errors
    code, records, _ = run_json(capsys, "history", "--json", "--limit", "500")
    assert code == ExitCode.OK
    assert len(records) == 100
    assert {r["outcome"] for r in records} == {"accepted"}
    names = {p.name for files in batches.values() for p in files}
    assert {r["name_sent"] for r in records} == names
    assert len({r["file_id"] for r in records}) == 100
    assert sorted(f.original_name for f in simulator.received) == sorted(names)


WRITER = """
import sys
from pathlib import Path
from omar_tui.core.history import History
from omar_tui.core.models import Outcome
from omar_tui.core.settings import parse_settings, save_settings

folder = Path(sys.argv[1])
path = folder / "settings.toml"
short = parse_settings("[network]\\nretries = 1\\n", source=path)
long = parse_settings(
    "[network]\\nretries = 2\\nuser_agent = '" + "x" * 5000 + "'\\n", source=path
)
history = History(folder / "history.sqlite3")
i = 0
while True:
    save_settings(short if i % 2 else long, path)
    rid = history.begin(environment="test", base_url="https://127.0.0.1:9",
        local_path=f"/p/{i}.csv", name_sent=f"{i}.csv", bytes=1, sha256="a" * 64)
    history.finish(rid, outcome=Outcome.ACCEPTED, file_id=str(i))
    i += 1
    if i == 20:
        print("writing", flush=True)
"""


def test_kill_9_while_writing_leaves_settings_and_history_whole(tmp_path) -> None:
    import sqlite3

    from omar_tui.core.history import History
    from omar_tui.core.settings import load_settings

    writer = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(tmp_path)],
        stdout=subprocess.PIPE,
        text=True,
        env=child_env(),
    )
    assert writer.stdout is not None
    assert writer.stdout.readline() == "writing\n"
    writer.kill()  # mid-loop: somewhere in a settings write or a record
    writer.wait(10)

    settings = load_settings(tmp_path / "settings.toml")  # parses: never torn
    long_agent = len(settings.user_agent) == 5000
    assert (settings.retries, long_agent) in {(1, False), (2, True)}
    with History(tmp_path / "history.sqlite3") as history:
        assert history.recovered_from is None
        records = history.recent(limit=100_000)
        assert len(records) >= 20
        assert {r.outcome.value for r in records} <= {"accepted", "unknown"}
        assert [r.outcome.value for r in records[1:]] == ["accepted"] * (
            len(records) - 1
        )  # only the record in flight can be unknown
    with contextlib.closing(sqlite3.connect(tmp_path / "history.sqlite3")) as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
