"""Profiles: one certificate or account each, with its own settings and history view."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from omar_tui.cli.main import main
from omar_tui.core.paths import AppPaths
from omar_tui.errors import ExitCode
from omar_tui.simulator import Simulator

METER = b"resource_id,interval_start,value\r\nR1,2026-12-01T00:00,1.5\r\n"


def settings_for(sim: Simulator) -> str:
    files = sim.files
    return (
        'environment = "sim"\n'
        "[certificate]\n"
        f'cert = "{files.client_cert}"\n'
        f'key = "{files.client_key}"\n'
        f'ca_bundle = "{files.ca_cert}"\n'
        "[environments.sim]\n"
        f'base_url = "{sim.base_url}"\n'
    )


def test_profiles_are_listed_and_added(
    private_config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["profiles"]) == ExitCode.OK
    assert capsys.readouterr().out.split() == ["*", "default"]

    assert main(["profiles", "add", "east"]) == ExitCode.OK
    assert (private_config / "profiles" / "east.toml").exists()
    assert main(["profiles", "add", "east"]) == ExitCode.USAGE
    capsys.readouterr()

    assert main(["--profile", "east", "profiles"]) == ExitCode.OK
    assert capsys.readouterr().out.splitlines() == ["  default", "* east"]


def test_unknown_or_malformed_profile_is_a_usage_error(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["check", "--profile", "west", "x.csv"]) == ExitCode.USAGE
    assert "no profile called 'west'" in capsys.readouterr().err
    assert main(["--profile", "../etc", "paths"]) == ExitCode.USAGE
    assert "not a profile name" in capsys.readouterr().err
    # The history of a profile whose settings are gone stays readable, but
    # a typo is not silent.
    assert main(["history", "--profile", "west"]) == ExitCode.OK
    assert "no profile called 'west'" in capsys.readouterr().err


def test_each_profile_sends_with_its_own_settings_and_is_named_in_history(
    simulator: Simulator,
    private_config: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    paths = AppPaths.resolve(profile="east").ensure()
    paths.settings_file.write_text(settings_for(simulator))
    meter = tmp_path / "meter.csv"
    meter.write_bytes(METER)

    # The default profile has no certificate: it cannot send.
    assert main(["submit", str(meter)]) == ExitCode.USAGE
    capsys.readouterr()

    monkeypatch.setenv("OMAR_TUI_PROFILE", "east")
    assert main(["submit", "--json", str(meter)]) == ExitCode.OK
    record = json.loads(capsys.readouterr().out)
    assert record["profile"] == "east"
    assert record["environment"] == "sim"

    monkeypatch.delenv("OMAR_TUI_PROFILE")
    assert main(["history", "--json"]) == ExitCode.OK
    assert capsys.readouterr().out == ""  # the default profile's view is empty
    assert main(["history", "--json", "--profile", "east"]) == ExitCode.OK
    assert json.loads(capsys.readouterr().out)["file_id"] == record["file_id"]
