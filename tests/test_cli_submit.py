"""``omar-tui submit`` end to end: real files, real TLS, the real simulator.

These run the CLI's ``main`` in-process (the same code path as the script)
against a simulator that verifies the client certificate at the handshake.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from omar_tui.cli.main import main
from omar_tui.errors import ExitCode
from omar_tui.simulator import Simulator
from omar_tui.simulator.pki import issue_untrusted_client_cert

METER = b"resource_id,interval_start,value\r\nR1,2026-12-01T00:00,1.5\r\n"


def write(folder: Path, name: str, data: bytes = METER) -> Path:
    path = folder / name
    path.write_bytes(data)
    return path


def connection(sim: Simulator, how: str = "pem") -> list[str]:
    files = sim.files
    args = ["--base-url", sim.base_url, "--ca-bundle", str(files.ca_cert)]
    if how == "pem":
        return [*args, "--cert", str(files.client_cert), "--key", str(files.client_key)]
    if how == "encrypted":
        key = files.client_key_encrypted
        return [*args, "--cert", str(files.client_cert), "--key", str(key)]
    return [*args, "--cert", str(files.client_p12)]


def run_json(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, list[dict]]:
    code = main(list(argv))
    out = capsys.readouterr().out
    return code, [json.loads(line) for line in out.splitlines() if line.strip()]


@pytest.mark.parametrize("how", ["pem", "encrypted", "p12"])
def test_submit_sends_the_exact_bytes_and_records_the_file_id(
    how: str,
    simulator: Simulator,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    if how == "encrypted":
        monkeypatch.setenv(
            "OMAR_TUI_CERT_PASSWORD", simulator.files.client_key_password
        )
    if how == "p12":
        monkeypatch.setenv("OMAR_TUI_CERT_PASSWORD", simulator.files.p12_password)
    first = write(tmp_path, "meter_a.csv")
    second = write(tmp_path, "meter_b.dat", METER + b"R2,2026-12-01T01:00,2.0\r\n")

    code, records = run_json(
        capsys, "submit", *connection(simulator, how), "--json", str(first), str(second)
    )

    assert code == ExitCode.OK
    assert [r["outcome"] for r in records] == ["accepted", "accepted"]
    assert [f.data for f in simulator.received] == [
        first.read_bytes(),
        second.read_bytes(),
    ]
    assert [f.original_name for f in simulator.received] == [
        "meter_a.csv",
        "meter_b.dat",
    ]
    ids = [r["file_id"] for r in records]
    assert ids == [str(f.file_id) for f in simulator.received]
    assert all(r["server_size"] == r["bytes"] for r in records)
    # A URL given directly is its own environment: two servers never mix.
    netloc = simulator.base_url.removeprefix("https://")
    assert {r["environment"] for r in records} == {f"url:{netloc}"}
    assert all(r["saved_as"] for r in records)

    code, history = run_json(capsys, "history", "--json")
    assert code == ExitCode.OK
    assert sorted(h["file_id"] for h in history) == sorted(ids)
    assert {h["sha256"] for h in history} == {r["sha256"] for r in records}
    assert set(history[0]) == set(records[0])  # the same field names


def test_blocked_files_are_not_sent_and_exit_3(
    simulator: Simulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = write(tmp_path, "meter.txt")
    code, records = run_json(
        capsys, "submit", *connection(simulator), "--json", str(bad)
    )
    assert code == ExitCode.BLOCKED
    assert records[0]["outcome"] == "blocked"
    assert "csv" in records[0]["message"]
    assert simulator.received == []
    assert simulator.requests.gets == 0  # not even a session was opened


def test_same_bytes_are_refused_unless_resend_is_allowed(
    simulator: Simulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, "meter.csv")
    assert main(["submit", *connection(simulator), str(path)]) == ExitCode.OK
    capsys.readouterr()

    code, records = run_json(
        capsys, "submit", *connection(simulator), "--json", str(path)
    )
    assert code == ExitCode.BLOCKED
    assert "Already accepted" in records[0]["message"]
    assert len(simulator.received) == 1

    code, records = run_json(
        capsys, "submit", *connection(simulator), "--json", "--allow-resend", str(path)
    )
    assert code == ExitCode.OK
    assert len(simulator.received) == 2


def test_dry_run_opens_the_session_but_sends_nothing(
    simulator: Simulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, "meter.csv")
    code, records = run_json(
        capsys, "submit", *connection(simulator), "--json", "--dry-run", str(path)
    )
    assert code == ExitCode.OK
    assert records[0]["dry_run"] is True
    assert simulator.requests.gets == 1
    assert simulator.received == []
    assert run_json(capsys, "history", "--json")[1] == []


def test_rejection_by_the_server_exits_1(
    simulator: Simulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # A name the local checks would pass but a rule we relax locally: raise
    # the local size limit so the server's own refusal is what answers.
    config = Path(__import__("os").environ["OMAR_TUI_CONFIG_DIR"])
    config.mkdir(parents=True, exist_ok=True)
    (config / "settings.toml").write_text(
        "[limits]\nblock_bytes = 900000\nwarn_bytes = 800000\n"
    )
    path = write(tmp_path, "big.csv", b"a,b\r\n" + b"1,2\r\n" * 110_000)
    code, records = run_json(
        capsys, "submit", *connection(simulator), "--json", str(path)
    )
    assert code == ExitCode.SOME_FAILED
    assert records[0]["outcome"] == "rejected"
    assert records[0]["message"]


def test_an_untrusted_client_certificate_is_refused(
    simulator: Simulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    other = issue_untrusted_client_cert(tmp_path / "other")
    path = write(tmp_path, "meter.csv")
    code = main(
        [
            "submit",
            "--base-url",
            simulator.base_url,
            "--ca-bundle",
            str(simulator.files.ca_cert),
            "--cert",
            str(other.cert_path),
            "--key",
            str(other.key_path),
            str(path),
        ]
    )
    err = capsys.readouterr().err
    assert code in (ExitCode.USAGE, ExitCode.SOME_FAILED)
    assert "certificate" in err.lower()
    assert "Traceback" not in err
    assert simulator.received == []


def test_missing_passphrase_without_a_terminal_is_a_clear_error(
    simulator: Simulator, tmp_path: Path
) -> None:
    path = write(tmp_path, "meter.csv")
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "omar_tui",
            "submit",
            *connection(simulator, "p12"),
            str(path),
        ],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == ExitCode.USAGE
    assert "OMAR_TUI_CERT_PASSWORD" in result.stderr
    assert "Traceback" not in result.stderr
    assert simulator.received == []


def test_check_exit_codes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = write(tmp_path, "good.csv")
    warned = write(tmp_path, "warned.CSV")
    bad = write(tmp_path, "bad.xlsx")
    assert main(["check", str(good), str(warned)]) == ExitCode.OK
    assert main(["check", str(good), str(bad)]) == ExitCode.BLOCKED
    out = capsys.readouterr().out
    assert "extension" in out


def test_no_certificate_configured_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, "meter.csv")
    code = main(["submit", "--base-url", "https://127.0.0.1:9", str(path)])
    assert code == ExitCode.USAGE
    assert "No client certificate" in capsys.readouterr().err


def test_both_env_and_base_url_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, "meter.csv")
    code = main(
        ["submit", "--env", "test", "--base-url", "https://127.0.0.1:9", str(path)]
    )
    assert code == ExitCode.USAGE
    assert "either --env or --base-url" in capsys.readouterr().err
