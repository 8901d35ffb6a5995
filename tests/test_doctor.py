"""The doctor passes on a healthy simulator and names each broken step."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from omar_tui.cli.main import main
from omar_tui.core.doctor import Step, run_doctor
from omar_tui.core.settings import Environment, Settings
from omar_tui.simulator import Simulator
from omar_tui.simulator.pki import issue_client_cert, issue_untrusted_client_cert

ALL_STEPS = [
    "Settings",
    "Certificate",
    "Key matches certificate",
    "Certificate expiry",
    "CA bundle",
    "DNS",
    "Connect",
    "TLS handshake",
    "Session",
    "Upload page",
]


def settings_for(sim: Simulator, **changes: object) -> Settings:
    env = Environment("sim", sim.base_url)
    values: dict[str, object] = {
        "environment": "sim",
        "environments": {"sim": env},
        "cert": sim.files.client_cert,
        "key": sim.files.client_key,
        "ca_bundle": sim.files.ca_cert,
        "connect_timeout": 5.0,
    }
    values.update(changes)
    return Settings(**values)  # type: ignore[arg-type]


async def steps_of(settings: Settings, **kwargs: object) -> list[Step]:
    return [step async for step in run_doctor(settings, **kwargs)]  # type: ignore[arg-type]


def failed(steps: list[Step]) -> Step:
    bad = [s for s in steps if not s.ok]
    assert bad, f"expected a failing step in {steps}"
    return bad[0]


async def test_every_step_passes_on_a_healthy_simulator(simulator: Simulator) -> None:
    steps = await steps_of(settings_for(simulator))
    assert [s.name for s in steps] == ALL_STEPS
    assert all(s.ok and not s.warning for s in steps), steps
    assert simulator.received == []  # nothing uploaded
    assert simulator.requests.posts == 0


async def test_unknown_environment(simulator: Simulator) -> None:
    step = failed(await steps_of(settings_for(simulator), environment="nope"))
    assert step.name == "Settings"


async def test_missing_certificate(simulator: Simulator, tmp_path: Path) -> None:
    settings = settings_for(simulator, cert=tmp_path / "missing.pem")
    assert failed(await steps_of(settings)).name == "Certificate"


async def test_key_that_does_not_match(simulator: Simulator, tmp_path: Path) -> None:
    other = issue_client_cert(simulator.files, tmp_path / "other", name="other")
    settings = settings_for(simulator, key=other.key_path)
    assert failed(await steps_of(settings)).name == "Key matches certificate"


async def test_certificate_expiring_within_a_week(
    simulator: Simulator, tmp_path: Path
) -> None:
    soon = issue_client_cert(
        simulator.files, tmp_path / "soon", valid_for=timedelta(days=5)
    )
    settings = settings_for(simulator, cert=soon.cert_path, key=soon.key_path)
    step = failed(await steps_of(settings))
    assert step.name == "Certificate expiry"
    assert "days" in step.detail and step.fix


async def test_certificate_expiring_within_a_month_warns(
    simulator: Simulator, tmp_path: Path
) -> None:
    month = issue_client_cert(
        simulator.files, tmp_path / "month", valid_for=timedelta(days=20)
    )
    settings = settings_for(simulator, cert=month.cert_path, key=month.key_path)
    steps = await steps_of(settings)
    expiry = next(s for s in steps if s.name == "Certificate expiry")
    assert expiry.ok and expiry.warning


async def test_missing_ca_bundle(simulator: Simulator, tmp_path: Path) -> None:
    settings = settings_for(simulator, ca_bundle=tmp_path / "nope.pem")
    assert failed(await steps_of(settings)).name == "CA bundle"


async def test_host_that_does_not_resolve(simulator: Simulator) -> None:
    # The test network guard refuses every non-loopback name without sending
    # a query, which is exactly what an unknown host looks like.
    settings = settings_for(simulator)
    step = failed(await steps_of(settings, base_url="https://omar.invalid"))
    assert step.name == "DNS"


async def test_nothing_listening(simulator: Simulator) -> None:
    settings = settings_for(simulator)
    step = failed(await steps_of(settings, base_url="https://127.0.0.1:9"))
    assert step.name == "Connect"


async def test_server_not_trusted(simulator: Simulator) -> None:
    # The system store does not know the simulator's CA.
    settings = settings_for(simulator, ca_bundle=None)
    step = failed(await steps_of(settings))
    assert step.name == "TLS handshake"
    assert "ca_bundle" in step.fix


async def test_client_certificate_refused(simulator: Simulator, tmp_path: Path) -> None:
    other = issue_untrusted_client_cert(tmp_path / "untrusted")
    settings = settings_for(simulator, cert=other.cert_path, key=other.key_path)
    step = failed(await steps_of(settings))
    assert step.name in ("TLS handshake", "Session")


async def test_wrong_upload_path(simulator: Simulator) -> None:
    env = Environment("sim", simulator.base_url, upload_path="/nothing-here.jsp")
    settings = settings_for(simulator, environments={"sim": env})
    step = failed(await steps_of(settings))
    assert step.name == "Upload page"


def test_cli_doctor_exit_codes(
    simulator: Simulator, capsys: pytest.CaptureFixture[str]
) -> None:
    files = simulator.files
    args = [
        "doctor",
        "--base-url",
        simulator.base_url,
        "--cert",
        str(files.client_cert),
        "--key",
        str(files.client_key),
    ]
    assert main([*args, "--ca-bundle", str(files.ca_cert)]) == 0
    assert main(args) == 1  # the server is not trusted without the CA
    out = capsys.readouterr().out
    assert "[FAIL] TLS handshake" in out
    assert "fix:" in out
