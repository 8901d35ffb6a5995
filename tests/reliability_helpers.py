"""Shared pieces of the issue-4 reliability tests (``test_reliability_*.py``).

Every test there drives the real CLI against the real simulator over real
TLS; these helpers only write files, build command lines and hold an upload
inside the simulator until the test lets it go.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from omar_tui.cli.main import main
from omar_tui.simulator import Simulator

ROOT = Path(__file__).resolve().parents[1]

METER = b"resource_id,interval_start,value\r\nR1,2026-12-01T00:00,1.5\r\n"

FAST_NETWORK = """
[network]
connect_timeout = 2
read_timeout = 1
retries = 0
"""
"""Short timeouts and no retries: every fault shows within a second or two."""


def config_dir() -> Path:
    """The private config folder the autouse fixture gave this test."""
    return Path(os.environ["OMAR_TUI_CONFIG_DIR"])


def write_settings(text: str = FAST_NETWORK) -> Path:
    folder = config_dir()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "settings.toml"
    path.write_text(text)
    return path


def write(folder: Path, name: str | bytes, data: bytes = METER) -> Path:
    """Write a file; a bytes name makes a file name that is not UTF-8."""
    folder.mkdir(parents=True, exist_ok=True)
    raw = (
        os.fsencode(folder)
        + b"/"
        + (name if isinstance(name, bytes) else name.encode())
    )
    with open(raw, "wb") as out:
        out.write(data)
    return Path(os.fsdecode(raw))


def connection(sim: Simulator, how: str = "pem") -> list[str]:
    """``--base-url``/``--ca-bundle``/``--cert``/``--key`` for the simulator."""
    files = sim.files
    args = ["--base-url", sim.base_url, "--ca-bundle", str(files.ca_cert)]
    if how == "pem":
        return [*args, "--cert", str(files.client_cert), "--key", str(files.client_key)]
    if how == "encrypted":
        key = files.client_key_encrypted
        return [*args, "--cert", str(files.client_cert), "--key", str(key)]
    return [*args, "--cert", str(files.client_p12)]


def run_json(
    capsys: pytest.CaptureFixture[str], *argv: str
) -> tuple[int, list[dict[str, Any]], str]:
    """Run ``omar-tui`` in-process: (exit code, JSON lines of stdout, stderr)."""
    code = main(list(argv))
    captured = capsys.readouterr()
    lines = [json.loads(line) for line in captured.out.splitlines() if line.strip()]
    return code, lines, captured.err


def cli_command(*argv: str) -> list[str]:
    """``python -m omar_tui ...``: the real entry point, in a new process."""
    return [sys.executable, "-m", "omar_tui", *argv]


def child_env(**extra: str) -> dict[str, str]:
    env = {**os.environ, **extra}
    env["PYTHONPATH"] = str(ROOT)
    return env


def run_cli(
    *argv: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        cli_command(*argv),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
        env=env or child_env(),
        cwd=ROOT,
    )


def json_lines(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def wait_for(condition: Callable[[], bool], timeout: float = 20.0) -> bool:
    """Poll until ``condition`` holds; a deadline, not a timing assumption."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.01)
    return condition()


class UploadGate:
    """Holds an upload inside the simulator after its whole body was read.

    The ``delay`` fault pauses an upload after the body arrived and before
    the file is stored; this gate turns that pause into "until released", so
    a test can act (kill the sender, start a second one) while the request is
    provably in flight, without guessing how long anything takes.
    """

    def __init__(self, sim: Simulator, monkeypatch: pytest.MonkeyPatch) -> None:
        self.entered = threading.Event()
        """Set when an upload's body has been read and it is being held."""
        self.release = threading.Event()
        self._sim = sim
        monkeypatch.setattr(sim, "_pause", self._pause)
        sim.faults.once("delay", seconds=1.0)

    def _pause(self, seconds: float) -> bool:
        if seconds > 0:
            self.entered.set()
            self.release.wait(30)
        return self._sim._stopping.is_set()
