"""Issue 4, items 1 and 5: every fault ends in the right outcome, through the CLI.

Each test runs ``omar-tui submit`` in-process against the real simulator
over real TLS, with one fault switched on, and checks three things: the
outcome and exit code, what the server actually received, and that a fault
after the body left is never retried by itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import socket
import threading
import types
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from reliability_helpers import (
    FAST_NETWORK,
    config_dir,
    connection,
    run_json,
    write,
    write_settings,
)

from omar_tui.core import sender as sender_module
from omar_tui.core.history import RAW_REPLY_LIMIT, History
from omar_tui.errors import ExitCode
from omar_tui.simulator import Simulator
from omar_tui.simulator.pki import (
    issue_client_cert,
    issue_expired_server_cert,
    issue_untrusted_client_cert,
    write_legacy_p12,
)


@pytest.fixture
def meter(tmp_path: Path) -> Path:
    write_settings()
    return write(tmp_path / "pending", "meter.csv")


def submit(
    capsys: pytest.CaptureFixture[str], sim: Simulator, path: Path, *extra: str
) -> tuple[int, dict, str]:
    code, records, err = run_json(
        capsys, "submit", "--json", *connection(sim), *extra, str(path)
    )
    assert "Traceback" not in err
    assert len(records) == 1, err
    return code, records[0], err


@pytest.fixture
def sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The sender's back-off pauses, recorded instead of slept."""
    recorded: list[float] = []

    async def fake_sleep(delay: float) -> None:
        recorded.append(delay)

    shim = types.SimpleNamespace(sleep=fake_sleep, to_thread=asyncio.to_thread)
    monkeypatch.setattr(sender_module, "asyncio", shim)
    return recorded


# -- item 1: outcomes, retries and the expired session


@contextlib.contextmanager
def hang_up_server() -> Iterator[tuple[int, list[int]]]:
    """A TCP port that accepts and closes at once: every TLS handshake fails."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    accepted: list[int] = []
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            accepted.append(1)
            conn.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1], accepted
    finally:
        stop.set()
        listener.close()
        thread.join(2)


def test_failures_before_sending_are_retried_with_bounded_backoff(
    simulator: Simulator,
    meter: Path,
    sleeps: list[float],
    capsys: pytest.CaptureFixture[str],
) -> None:
    write_settings(FAST_NETWORK.replace("retries = 0", "retries = 5"))
    with hang_up_server() as (port, accepted):
        code, records, err = run_json(
            capsys,
            "submit",
            "--json",
            *connection(simulator)[2:],
            "--base-url",
            f"https://127.0.0.1:{port}",
            str(meter),
        )
    assert code == ExitCode.SOME_FAILED
    assert records[0]["outcome"] == "failed"
    assert "Traceback" not in err
    assert sleeps == [1, 2, 4, 8, 10]  # doubling, capped at 10 s
    assert len(accepted) == 6  # the first try and five retries, no more


def test_a_drop_after_the_body_is_unknown_and_never_retried(
    simulator: Simulator,
    meter: Path,
    sleeps: list[float],
    capsys: pytest.CaptureFixture[str],
) -> None:
    write_settings(FAST_NETWORK.replace("retries = 0", "retries = 3"))
    simulator.faults.drop_after_body = True
    code, record, _ = submit(capsys, simulator, meter)
    assert code == ExitCode.UNKNOWN
    assert record["outcome"] == "unknown"
    assert "Look the file up in OMAR-Online" in record["message"]
    assert sleeps == []
    assert simulator.requests.posts == 1
    assert len(simulator.received) == 1  # it did arrive: "unknown" was right


@pytest.mark.parametrize("fault", ["expire_session", "redirect_login"])
def test_expired_session_is_reopened_and_the_file_sent_once_more(
    fault: str, simulator: Simulator, meter: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    simulator.faults.once(fault)
    code, record, _ = submit(capsys, simulator, meter)
    assert code == ExitCode.OK
    assert record["outcome"] == "accepted"
    assert simulator.requests.posts == 2  # the refused one and the resend
    assert simulator.requests.gets == 2  # the first session and the new one
    assert [f.data for f in simulator.received] == [meter.read_bytes()]


def test_a_session_that_never_comes_back_is_rejected_not_looped(
    simulator: Simulator, meter: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    simulator.faults.redirect_login = True
    code, record, _ = submit(capsys, simulator, meter)
    assert code == ExitCode.SOME_FAILED
    assert record["outcome"] == "rejected"
    assert "log in again" in record["message"]
    assert simulator.requests.posts == 2
    assert simulator.received == []


# -- item 5: one test per fault


def test_connection_refused(
    simulator: Simulator, meter: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()  # nothing listens there now
    code, records, err = run_json(
        capsys,
        "submit",
        "--json",
        *connection(simulator)[2:],
        "--base-url",
        f"https://127.0.0.1:{port}",
        str(meter),
    )
    assert code == ExitCode.SOME_FAILED
    assert records[0]["outcome"] == "failed"
    assert "refused the connection" in records[0]["message"]
    assert "Traceback" not in err


def test_unknown_server_ca(
    simulator: Simulator, meter: Path, tmp_path: Path, capsys
) -> None:
    other = issue_untrusted_client_cert(tmp_path / "other")
    assert other.ca_cert_path is not None
    code, record, _ = submit(
        capsys, simulator, meter, "--ca-bundle", str(other.ca_cert_path)
    )
    assert code == ExitCode.SOME_FAILED
    assert record["outcome"] == "failed"
    assert "not trusted" in record["message"]
    assert simulator.requests.tls_connections == 0
    assert simulator.received == []


def test_expired_server_certificate(
    shared_pki: Path, meter: Path, tmp_path: Path, capsys
) -> None:
    state = tmp_path / "expired-sim"
    shutil.copytree(shared_pki, state)
    files = Simulator(state).files  # not started: only its PKI is used
    sim = Simulator(
        state, server_cert=issue_expired_server_cert(files, tmp_path / "srv")
    )
    with sim:
        code, record, _ = submit(capsys, sim, meter)
    assert code == ExitCode.SOME_FAILED
    assert record["outcome"] == "failed"
    assert "expired" in record["message"]
    assert sim.received == []


def test_a_client_certificate_the_server_does_not_take(
    simulator: Simulator, meter: Path, tmp_path: Path, capsys
) -> None:
    expired = issue_client_cert(
        simulator.files,
        tmp_path / "old",
        not_after=datetime(2020, 1, 1, tzinfo=UTC),
    )
    code, records, err = run_json(
        capsys,
        "submit",
        "--json",
        *connection(simulator)[:4],
        "--cert",
        str(expired.cert_path),
        "--key",
        str(expired.key_path),
        str(meter),
    )
    assert code in (ExitCode.USAGE, ExitCode.SOME_FAILED)
    assert "refused the client certificate" in err + str(records)
    assert "Traceback" not in err
    assert simulator.received == []


@pytest.mark.parametrize("how", ["encrypted", "p12"])
def test_wrong_passphrase(
    how: str,
    simulator: Simulator,
    meter: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("OMAR_TUI_CERT_PASSWORD", "not-the-passphrase")
    code, records, err = run_json(
        capsys, "submit", "--json", *connection(simulator, how), str(meter)
    )
    assert code == ExitCode.USAGE
    assert records == []
    assert "Wrong passphrase" in err
    assert "not-the-passphrase" not in err
    assert "Traceback" not in err
    assert simulator.requests.gets == 0  # nothing was even attempted


def test_pkcs12_in_a_legacy_cipher(
    simulator: Simulator,
    meter: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    legacy = tmp_path / "legacy.p12"
    monkeypatch.setenv(
        "OMAR_TUI_CERT_PASSWORD", write_legacy_p12(simulator.files, legacy)
    )
    code, records, err = run_json(
        capsys,
        "submit",
        "--json",
        *connection(simulator)[:4],
        "--cert",
        str(legacy),
        str(meter),
    )
    assert "Traceback" not in err
    if code == ExitCode.USAGE:  # a system whose OpenSSL refuses the cipher
        assert "openssl pkcs12 -legacy" in err
        assert simulator.received == []
    else:
        assert code == ExitCode.OK
        assert records[0]["outcome"] == "accepted"
        assert simulator.received[0].client_subject


def test_read_timeout_before_the_reply(
    simulator: Simulator, meter: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    simulator.faults.once("delay", seconds=5)  # read_timeout is 1 s
    code, record, _ = submit(capsys, simulator, meter)
    assert code == ExitCode.UNKNOWN
    assert record["outcome"] == "unknown"
    assert "No reply from OMAR-Online in time" in record["message"]
    assert simulator.requests.posts == 1


def test_http_500(
    simulator: Simulator, meter: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    simulator.faults.http_500 = True
    code, record, _ = submit(capsys, simulator, meter)
    assert code == ExitCode.UNKNOWN
    assert record["outcome"] == "unknown"
    assert "HTTP 500" in record["message"]
    assert simulator.requests.posts == 1


def test_307_on_the_post_is_not_followed(
    simulator: Simulator, meter: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    simulator.faults.redirect_307 = True
    code, record, _ = submit(capsys, simulator, meter)
    assert code == ExitCode.SOME_FAILED
    assert record["outcome"] == "failed"
    assert "not followed" in record["message"]
    assert simulator.requests.posts == 1  # nothing POSTed to the new address
    assert simulator.received == []


@pytest.mark.parametrize("fault", ["no_receipt", "garbage"])
def test_a_reply_that_is_not_a_receipt_is_unknown(
    fault: str, simulator: Simulator, meter: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    simulator.faults.set(fault)
    code, record, _ = submit(capsys, simulator, meter)
    assert code == ExitCode.UNKNOWN
    assert record["outcome"] == "unknown"
    assert "not a receipt" in record["message"]
    assert len(simulator.received) == 1  # it was stored: resending would duplicate


def test_a_50_mb_reply_is_read_only_up_to_the_cap(
    simulator: Simulator, meter: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_settings(FAST_NETWORK + "max_reply_bytes = 100000\n")
    simulator.faults.huge_reply = True  # 50,000,000 bytes by default
    code, record, _ = submit(capsys, simulator, meter)
    assert code == ExitCode.UNKNOWN
    assert record["outcome"] == "unknown"
    log = (config_dir() / "logs" / "omar-tui.log").read_text()
    assert "POST /uploadProcess.jsp 200 sent=" in log
    assert "received=100000 " in log
    with History(config_dir() / "history.sqlite3") as history:
        raw = history.get(record["history_id"]).raw_reply  # type: ignore[union-attr]
    assert len(raw.encode()) < RAW_REPLY_LIMIT + 200


def test_a_slow_but_steady_server_is_waited_for(
    simulator: Simulator, meter: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    simulator.faults.slow_reply = True
    simulator.faults.slow_interval = 0.01  # well inside read_timeout = 1 s
    simulator.faults.slow_chunk = 128
    code, record, _ = submit(capsys, simulator, meter)
    assert code == ExitCode.OK
    assert record["outcome"] == "accepted"


def test_a_server_slower_than_the_timeout_sends_nothing(
    simulator: Simulator, meter: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    simulator.faults.latency = 5  # every request, the session page first
    code, record, _ = submit(capsys, simulator, meter)
    assert code == ExitCode.SOME_FAILED
    assert record["outcome"] == "failed"
    assert record["history_id"] is None
    assert simulator.requests.posts == 0


def test_an_unknown_outcome_is_marked_and_never_resent_by_itself(
    simulator: Simulator, meter: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    simulator.faults.once("drop_after_body")
    code, record, _ = submit(capsys, simulator, meter)
    assert code == ExitCode.UNKNOWN
    assert record["outcome"] == "unknown"

    code, record, _ = submit(capsys, simulator, meter)  # cron runs it again
    assert code == ExitCode.UNKNOWN
    assert record["outcome"] == "unknown"
    assert "Look it up in OMAR-Online first" in record["message"]
    assert simulator.requests.posts == 1
    assert len(simulator.received) == 1


def test_the_cli_says_unknown_and_how_to_look_it_up(
    simulator: Simulator, meter: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from omar_tui.cli.main import main

    simulator.faults.once("drop_after_body")
    assert main(["submit", *connection(simulator), str(meter)]) == ExitCode.UNKNOWN
    out = capsys.readouterr().out
    assert "[UNKNOWN]" in out
    assert "Look the file up in OMAR-Online (by name and time)" in out
    assert main(["history"]) == ExitCode.OK
    assert "UNKNOWN" in capsys.readouterr().out
