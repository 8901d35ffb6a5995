"""Logging: a private rotating file, nothing on the terminal, secrets redacted."""

from __future__ import annotations

import logging
import re
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from omar_tui.core import logs
from omar_tui.core.logs import redact, register_secret, setup_logging

LINE = re.compile(
    r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d{4} (INFO|WARNING|ERROR|DEBUG) "
    r"omar_tui[\w.]*: .*$"
)


@pytest.fixture(autouse=True)
def clean_logging(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("OMAR_TUI_CONFIG_DIR", str(tmp_path / "cfg"))
    monkeypatch.setattr(logs, "_secrets", set())
    logger = logging.getLogger("omar_tui")
    saved = (logger.handlers[:], logger.level, logger.propagate)
    yield
    for handler in logger.handlers[:]:
        if handler not in saved[0]:
            logger.removeHandler(handler)
            handler.close()
    logger.setLevel(saved[1])
    logger.propagate = saved[2]


@pytest.fixture
def log_file(tmp_path: Path) -> Path:
    return tmp_path / "cfg" / "logs" / "omar-tui.log"


def lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines()


def test_writes_one_line_per_record_to_a_private_file(
    log_file: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    setup_logging(log_file)
    log = logging.getLogger("omar_tui.core.test")
    log.info("sent %s", "a.csv")
    log.warning("two\nlines")
    log.debug("not at INFO")

    written = lines(log_file)
    assert len(written) == 2
    assert all(LINE.match(line) for line in written), written
    assert written[0].endswith("INFO omar_tui.core.test: sent a.csv")
    assert written[1].endswith("two\\nlines")
    assert stat.S_IMODE(log_file.stat().st_mode) == 0o600
    assert stat.S_IMODE(log_file.parent.stat().st_mode) == 0o700

    captured = capfd.readouterr()
    assert captured.out == "" and captured.err == ""  # the TUI must never print


def test_verbose_also_logs_to_stderr(
    log_file: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    setup_logging(log_file, verbose=True)
    logging.getLogger("omar_tui.x").debug("details")

    assert "details" in capfd.readouterr().err
    assert "details" in log_file.read_text()


def test_calling_twice_adds_no_second_handler(log_file: Path, tmp_path: Path) -> None:
    setup_logging(log_file, verbose=True)
    setup_logging(log_file)
    logging.getLogger("omar_tui").info("once")

    assert lines(log_file).count(lines(log_file)[-1]) == 1
    assert len(lines(log_file)) == 1
    ours = [
        h for h in logging.getLogger("omar_tui").handlers if hasattr(h, "_omar_tui")
    ]
    assert len(ours) == 1


def test_records_do_not_reach_the_root_logger(log_file: Path) -> None:
    seen: list[logging.LogRecord] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            seen.append(record)

    root_handler = Collect()
    logging.getLogger().addHandler(root_handler)
    try:
        setup_logging(log_file)
        logging.getLogger("omar_tui").warning("private")
    finally:
        logging.getLogger().removeHandler(root_handler)
    assert seen == []


def test_cookies_and_secrets_are_redacted(log_file: Path) -> None:
    setup_logging(log_file)
    register_secret("hunter2-pass")
    log = logging.getLogger("omar_tui.client")

    log.info("request headers %s", {"Cookie": "JSESSIONID=abc123; other=xyz9"})
    log.info("Set-Cookie: JSESSIONID=def456; Path=/; Secure")
    log.info("redirect to /login.jsp;jsessionid=ghi789?x=1")
    log.info("raw %r", [(b"cookie", b"SESSIONID=jkl012")])
    log.info("passphrase was %s", "hunter2-pass")
    try:
        raise ValueError("bad hunter2-pass")
    except ValueError:
        log.exception("failed")

    text = log_file.read_text()
    for secret in ("abc123", "xyz9", "def456", "ghi789", "jkl012", "hunter2"):
        assert secret not in text, secret
    assert text.count("[redacted]") >= 6
    assert "request headers" in text and "failed" in text


def test_redact_keeps_ordinary_text() -> None:
    for text in (
        "Uploaded a.csv (123 bytes) to https://127.0.0.1:8443/uploadProcess.jsp",
        "No session cookie, opening a session first",
    ):
        assert redact(text) == text


def test_empty_secret_is_ignored() -> None:
    register_secret("")
    assert redact("abc") == "abc"


def test_rotation_keeps_files_private(
    log_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(logs, "MAX_BYTES", 300)
    setup_logging(log_file)
    for i in range(40):
        logging.getLogger("omar_tui").info("line %d %s", i, "x" * 40)

    rotated = sorted(log_file.parent.glob("omar-tui.log.*"))
    assert 1 <= len(rotated) <= 5
    for path in [log_file, *rotated]:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
