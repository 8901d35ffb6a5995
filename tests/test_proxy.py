"""Uploads through an HTTPS (CONNECT) proxy still present the client certificate."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from connect_proxy import connect_proxy

from omar_tui.cli.main import main
from omar_tui.simulator import Simulator

METER = b"resource_id,interval_start,value\r\nR1,2026-12-01T00:00,1.5\r\n"


def submit_args(sim: Simulator, path: Path) -> list[str]:
    files = sim.files
    return [
        "submit",
        "--json",
        "--base-url",
        sim.base_url,
        "--cert",
        str(files.client_cert),
        "--key",
        str(files.client_key),
        "--ca-bundle",
        str(files.ca_cert),
        str(path),
    ]


def outcome(capsys: pytest.CaptureFixture[str]) -> dict[str, object]:
    lines = capsys.readouterr().out.splitlines()
    return json.loads(lines[-1])


def test_proxy_from_the_settings(
    simulator: Simulator,
    tmp_path: Path,
    private_config: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    path = tmp_path / "meter.csv"
    path.write_bytes(METER)
    with connect_proxy() as proxy:
        private_config.mkdir(parents=True, exist_ok=True)
        (private_config / "settings.toml").write_text(
            f'[network]\nproxy = "{proxy.url}"\n'
        )
        assert main(submit_args(simulator, path)) == 0

    assert outcome(capsys)["outcome"] == "accepted"
    port = simulator.base_url.rsplit(":", 1)[1]
    assert proxy.tunnels == [f"127.0.0.1:{port}"]  # one tunnel for the session
    assert simulator.received[0].data == METER
    assert simulator.received[0].client_subject  # the certificate went through


def test_proxy_from_the_environment(
    simulator: Simulator,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    path = tmp_path / "meter.csv"
    path.write_bytes(METER)
    with connect_proxy() as proxy:
        monkeypatch.setenv("HTTPS_PROXY", proxy.url)
        assert main(submit_args(simulator, path)) == 0
    assert outcome(capsys)["outcome"] == "accepted"
    assert len(proxy.tunnels) == 1
    assert simulator.received[0].client_subject


def test_no_proxy_with_an_ipv6_entry_does_not_break_uploads(
    simulator: Simulator,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    path = tmp_path / "meter.csv"
    path.write_bytes(METER)
    with connect_proxy() as proxy:
        monkeypatch.setenv("HTTPS_PROXY", proxy.url)
        monkeypatch.setenv("NO_PROXY", "::1,fe80::/10,127.0.0.1,localhost")
        assert main(submit_args(simulator, path)) == 0
    assert outcome(capsys)["outcome"] == "accepted"
    assert proxy.tunnels == []  # 127.0.0.1 is in NO_PROXY: direct
