"""Stopping a batch: SIGTERM lets the file in flight finish and says what was not sent.

An upload is held inside the simulator (``UploadGate``) so that "while it
sends" is a fact the test waits for, not a guess about timing.
"""

from __future__ import annotations

import signal
import subprocess

import pytest
from reliability_helpers import (
    UploadGate,
    child_env,
    cli_command,
    connection,
    json_lines,
    write,
    write_settings,
)

from omar_tui.errors import ExitCode
from omar_tui.simulator import Simulator


def signal_mid_send(
    simulator: Simulator, tmp_path, monkeypatch: pytest.MonkeyPatch, signum: int
) -> tuple[int, list[dict], str]:
    """Submit two files, send ``signum`` while the first is held in the server.

    SIGTERM lets the file in flight finish, so the upload is released before
    waiting; SIGINT cuts it off, so the child is waited for first.
    """
    write_settings()
    first = write(tmp_path, "first.csv")
    second = write(tmp_path, "second.csv", b"a,b\r\n1,2\r\n")
    gate = UploadGate(simulator, monkeypatch)
    sender = subprocess.Popen(
        cli_command(
            "submit", "--json", *connection(simulator), str(first), str(second)
        ),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=child_env(),
        # CI may start us with SIGINT ignored; an operator's Ctrl-C is not.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    try:
        assert gate.entered.wait(30), sender.communicate(timeout=5)
        sender.send_signal(signum)
        if signum == signal.SIGTERM:
            gate.release.set()
        out, err = sender.communicate(timeout=30)
    finally:
        gate.release.set()
    return sender.returncode, json_lines(out), err


def test_sigterm_finishes_the_file_in_flight_then_reports_the_rest_not_sent(
    simulator: Simulator, tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    code, records, err = signal_mid_send(
        simulator, tmp_path, monkeypatch, signal.SIGTERM
    )

    assert code == ExitCode.INTERRUPTED, err
    assert [r["outcome"] for r in records] == ["accepted", "failed"]
    assert "stopped on request" in records[1]["message"]
    assert [f.original_name for f in simulator.received] == ["first.csv"]
    assert "Traceback" not in err


def test_ctrl_c_names_the_file_in_flight_and_lists_every_file(
    simulator: Simulator, tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    code, records, err = signal_mid_send(
        simulator, tmp_path, monkeypatch, signal.SIGINT
    )

    assert code == ExitCode.INTERRUPTED, err
    assert "interrupted while sending first.csv" in err
    assert [(r["name_sent"], r["outcome"]) for r in records] == [
        ("first.csv", "unknown"),
        ("second.csv", "failed"),
    ]
    assert "Traceback" not in err
