"""The test suite itself cannot reach any host but this machine."""

from __future__ import annotations

import socket

import pytest


def test_resolving_a_caiso_host_fails() -> None:
    with pytest.raises(socket.gaierror, match="loopback only"):
        socket.getaddrinfo("omar-online.caiso.com", 443)


def test_connecting_to_a_public_address_fails() -> None:
    with socket.socket() as sock, pytest.raises(ConnectionRefusedError):
        sock.connect(("192.0.2.1", 443))  # TEST-NET-1: refused before any packet


def test_loopback_still_resolves() -> None:
    assert socket.getaddrinfo("127.0.0.1", 443)
