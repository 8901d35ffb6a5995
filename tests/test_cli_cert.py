"""``omar-tui cert`` shows the certificate and warns before it expires."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest

from omar_tui.cli.main import main
from omar_tui.simulator import Simulator
from omar_tui.simulator.pki import issue_client_cert


def test_shows_subject_issuer_serial_and_validity(
    simulator: Simulator, capsys: pytest.CaptureFixture[str]
) -> None:
    files = simulator.files
    code = main(["cert", "--json", "--cert", str(files.client_cert)])
    shown = json.loads(capsys.readouterr().out)
    assert code == 0
    assert "Demo Operator" in shown["subject"]
    assert "Simulator" in shown["issuer"]
    assert shown["serial"] and shown["days_left"] > 30


def test_p12_needs_its_passphrase(
    simulator: Simulator,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("OMAR_TUI_CERT_PASSWORD", simulator.files.p12_password)
    assert main(["cert", "--cert", str(simulator.files.client_p12)]) == 0
    assert "subject:" in capsys.readouterr().out


def test_warns_within_30_days_and_fails_once_expired(
    simulator: Simulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    soon = issue_client_cert(
        simulator.files, tmp_path / "soon", valid_for=timedelta(days=12)
    )
    assert main(["cert", "--cert", str(soon.cert_path)]) == 0
    assert "expires in" in capsys.readouterr().err

    gone = issue_client_cert(
        simulator.files,
        tmp_path / "gone",
        not_before=soon.cert.not_valid_before_utc - timedelta(days=30),
        not_after=soon.cert.not_valid_before_utc - timedelta(days=1),
    )
    assert main(["cert", "--cert", str(gone.cert_path)]) == 1
    assert "expired" in capsys.readouterr().err
