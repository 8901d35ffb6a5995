"""Fixtures for every test: a private config folder and a loopback-only network.

The guard below makes the rule "tests talk only to the simulator on loopback"
something a test cannot break by accident: resolving or connecting to any
other address fails at once.
"""

from __future__ import annotations

import logging
import shutil
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from loopback import is_loopback as _is_loopback

from omar_tui.simulator import Simulator, ensure_pki

PROXY_VARIABLES = (
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "ALL_PROXY",
    "NO_PROXY",
    "http_proxy",
    "https_proxy",
    "all_proxy",
    "no_proxy",
)


@pytest.fixture(autouse=True)
def loopback_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """Refuse to resolve or reach any host that is not this machine."""
    real_getaddrinfo = socket.getaddrinfo

    def guarded_getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        if not _is_loopback(host):
            raise socket.gaierror(f"tests may not resolve {host!r} (loopback only)")
        return real_getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", guarded_getaddrinfo)

    real_connect = socket.socket.connect
    real_connect_ex = socket.socket.connect_ex

    def _check(sock: socket.socket, address: Any) -> None:
        inet = sock.family in (socket.AF_INET, socket.AF_INET6)
        if inet and not _is_loopback(address[0]):
            raise ConnectionRefusedError(f"tests may not connect to {address[0]!r}")

    def guarded_connect(sock: socket.socket, address: Any) -> None:
        _check(sock, address)
        real_connect(sock, address)

    def guarded_connect_ex(sock: socket.socket, address: Any) -> int:
        _check(sock, address)
        return real_connect_ex(sock, address)

    monkeypatch.setattr(socket.socket, "connect", guarded_connect)
    monkeypatch.setattr(socket.socket, "connect_ex", guarded_connect_ex)


@pytest.fixture(autouse=True)
def private_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets its own config folder; the user's is never touched."""
    config = tmp_path / "omar-config"
    monkeypatch.setenv("OMAR_TUI_CONFIG_DIR", str(config))
    monkeypatch.delenv("OMAR_TUI_CERT_PASSWORD", raising=False)
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    return config


@pytest.fixture(autouse=True)
def restore_logging() -> Iterator[None]:
    """Undo what ``setup_logging`` (called by ``main``) does to the package logger.

    It stops propagation so the TUI never prints; later tests using ``caplog``
    need the records to reach the root logger again.
    """
    logger = logging.getLogger("omar_tui")
    saved = (logger.handlers[:], logger.level, logger.propagate)
    yield
    for handler in logger.handlers:
        if handler not in saved[0]:
            handler.close()
    logger.handlers[:], logger.level, logger.propagate = saved


@pytest.fixture(scope="session")
def shared_pki(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One simulator PKI for the whole run (key generation is the slow part)."""
    state = tmp_path_factory.mktemp("shared-pki") / "state"
    ensure_pki(state, key_type="ec")
    return state


@pytest.fixture
def simulator(shared_pki: Path, tmp_path: Path) -> Iterator[Simulator]:
    """A running simulator with its own copy of the shared PKI."""
    state = tmp_path / "simulator"
    shutil.copytree(shared_pki, state)
    with Simulator(state) as running:
        yield running
