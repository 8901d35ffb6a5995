"""Issue 4, item 6: no secret is left in any file the tool writes.

Real ``python -m omar_tui`` processes (umask 000, a private TMPDIR) go through
a whole day's work with an encrypted PEM key and a PKCS#12, both opened with
``OMAR_TUI_CERT_PASSWORD``; then every byte they could have written is
searched for the passphrases, clear private keys and the session cookie.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from reliability_helpers import ROOT, child_env, json_lines, write

from omar_tui.core.settings import load_settings, save_settings
from omar_tui.simulator import Simulator

WRONG = "Wrong-Passphrase-7f3a9c"
CLEAR_KEY_MARKERS = (
    b"BEGIN PRIVATE KEY",
    b"BEGIN EC PRIVATE KEY",
    b"BEGIN RSA PRIVATE KEY",
)
DRIVER = "import os, sys; os.umask(0); from omar_tui.cli.main import main; "
DRIVER += "sys.exit(main(sys.argv[1:]))"
"""The CLI's own entry point, under the loosest umask there is."""


def every_file(folder: Path) -> list[Path]:
    return [Path(root) / name for root, _, names in os.walk(folder) for name in names]


def every_dir(folder: Path) -> list[Path]:
    return [Path(root) for root, _, _ in os.walk(folder)]


@dataclass
class Day:
    """What one day's runs left behind."""

    config: Path
    temp: Path
    sim: Simulator
    codes: list[int]
    stdout: list[bytes]
    stderr: list[bytes]
    secrets: list[str]

    @property
    def outputs(self) -> list[bytes]:
        return self.stdout + self.stderr


@pytest.fixture(scope="module")
def day(shared_pki: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Day]:
    """Run a day's commands once for the whole module (they take a few seconds)."""
    root = tmp_path_factory.mktemp("secrets")
    state = root / "simulator"
    shutil.copytree(shared_pki, state)
    with Simulator(state) as sim:
        yield _run_day(sim, root)


def _run_day(sim: Simulator, root: Path) -> Day:
    files = sim.files
    config = root / "config"
    config.mkdir()
    settings_file = config / "settings.toml"
    settings_file.write_text(
        f'environment = "sim"\n'
        f"[certificate]\n"
        f'cert = "{files.client_cert}"\n'
        f'key = "{files.client_key_encrypted}"\n'
        f'ca_bundle = "{files.ca_cert}"\n'
        f"[network]\nread_timeout = 5\nretries = 0\n"
        f'[environments.sim]\nbase_url = "{sim.base_url}"\n'
    )
    old_umask = os.umask(0)
    try:  # the tool's own writer, even under umask 000
        save_settings(load_settings(settings_file), settings_file)
    finally:
        os.umask(old_umask)

    temp = root / "tmpdir"
    temp.mkdir(mode=0o700)
    pending = root / "pending"

    def env(passphrase: str) -> dict[str, str]:
        return child_env(
            OMAR_TUI_CONFIG_DIR=str(config),
            TMPDIR=str(temp),
            OMAR_TUI_CERT_PASSWORD=passphrase,
        )

    key_env = env(files.client_key_password)
    p12_env = env(files.p12_password)
    wrong_env = env(WRONG)
    p12 = ["--cert", str(files.client_p12)]
    runs = [
        (key_env, ["-v", "submit", "--json", str(write(pending, "a.csv"))]),
        (p12_env, ["-v", "submit", "--json", *p12, str(write(pending, "b.csv", b"x"))]),
        (wrong_env, ["-v", "submit", str(write(pending, "c.csv", b"y"))]),
        (wrong_env, ["-v", "submit", *p12, str(write(pending, "d.csv", b"z"))]),
        (p12_env, ["-v", "doctor", *p12]),
        (key_env, ["-v", "cert"]),
        (key_env, ["-v", "history", "--json"]),
    ]
    day = Day(
        config,
        temp,
        sim,
        [],
        [],
        [],
        [*map(str, (files.client_key_password, files.p12_password, WRONG))],
    )
    for run_env, argv in runs:
        done = subprocess.run(
            [sys.executable, "-c", DRIVER, *argv],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            env=run_env,
            cwd=ROOT,
            timeout=60,
            check=False,
        )
        day.codes.append(done.returncode)
        day.stdout.append(done.stdout)
        day.stderr.append(done.stderr)
    return day


def test_passphrases_are_in_no_file_and_no_output(day: Day) -> None:
    assert day.codes[:4] == [0, 0, 2, 2], day.stderr
    history = json_lines(day.stdout[6].decode())
    assert [r["outcome"] for r in history] == ["accepted", "accepted"]
    assert len(day.sim.received) == 2

    written = every_file(day.config) + every_file(day.temp)
    names = {p.name for p in written}
    assert {"settings.toml", "history.sqlite3", "omar-tui.log"} <= names
    for secret in day.secrets:
        needle = secret.encode()
        for path in written:
            assert needle not in path.read_bytes(), f"passphrase found in {path}"
        for output in day.outputs:
            assert needle not in output
    assert b"Traceback" not in b"".join(day.outputs)


def test_no_clear_private_key_is_left_in_the_temp_folder(day: Day) -> None:
    leftovers = every_file(day.temp)
    assert leftovers == []  # the PKCS#12's temporary PEM was removed
    for path in every_file(day.config):
        data = path.read_bytes()
        assert not any(marker in data for marker in CLEAR_KEY_MARKERS), path


def test_config_folder_0700_and_every_file_0600(day: Day) -> None:
    for folder in every_dir(day.config):
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700, folder
    files = every_file(day.config)
    assert any(p.name.endswith(".lock") for p in files)  # lock files count too
    for path in files:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path


def test_session_cookies_are_not_in_the_log(day: Day) -> None:
    cookies = set(day.sim._sessions)
    assert cookies  # the runs did open sessions
    log = b"".join(p.read_bytes() for p in every_file(day.config / "logs"))
    assert b"POST /uploadProcess.jsp 200" in log  # the log did record the sends
    for value in cookies:
        assert value.encode() not in log
        assert all(value.encode() not in out for out in day.outputs)
