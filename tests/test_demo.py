"""The demo's sample folder shows every rule, and its history is real."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from omar_tui.core.checks import RULES, check_file
from omar_tui.core.models import Outcome
from omar_tui.core.settings import load_settings
from omar_tui.demo import (
    DEMO_ENVIRONMENT,
    HEADER,
    SAMPLE_FILES,
    SEED_FILES,
    prepare_demo,
    seed_history,
)

NOW = 1_777_900_000.0


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory):
    return prepare_demo(tmp_path_factory.mktemp("demo"), now=NOW)


def test_each_sample_file_breaks_exactly_its_rules(setup) -> None:
    for sample, path in zip(SAMPLE_FILES, setup.files, strict=True):
        report = check_file(
            path, limits=setup.settings.limits, pending_root=setup.pending
        )
        found = {f.rule for f in report.findings}
        assert found == set(sample.rules), sample.name


def test_the_files_break_every_rule_the_brief_names(setup) -> None:
    found = set()
    for path in setup.files:
        report = check_file(path, limits=setup.settings.limits)
        found |= {f.rule for f in report.findings}
    wanted = {
        "size",
        "extension",
        "extension-case",
        "name-length",
        "non-ascii",
        "bom",
        "binary",
        "line-endings",
        "csv-fields",
        "file-empty",
    }
    assert wanted <= found
    assert found <= set(RULES)


def test_good_files_pass_and_use_the_generic_header(setup) -> None:
    good = [s for s in SAMPLE_FILES if not s.rules]
    assert len(good) >= 3
    for sample in good:
        assert sample.data.startswith(HEADER + b"\n")
        report = check_file(setup.pending / sample.name)
        assert report.findings == ()


def test_prepare_is_deterministic(tmp_path: Path, setup) -> None:
    again = prepare_demo(tmp_path / "again", now=NOW)
    assert [p.name for p in again.files] == [p.name for p in setup.files]
    for one, two in zip(setup.files, again.files, strict=True):
        assert one.read_bytes() == two.read_bytes()
        assert one.stat().st_mtime == two.stat().st_mtime


def test_settings_point_at_the_demo_only(setup) -> None:
    settings = load_settings(setup.paths.settings_file)
    assert settings.environment == DEMO_ENVIRONMENT
    assert settings.active_environment().base_url.startswith("https://127.0.0.1:")
    assert settings.ca_bundle == setup.sim_files.ca_cert
    assert settings.key == setup.sim_files.client_key
    assert settings.pending_folder == setup.pending
    assert setup.paths.config_dir.is_relative_to(setup.root)


def test_passphrase_mode_uses_the_encrypted_key(tmp_path: Path) -> None:
    setup = prepare_demo(tmp_path, use_passphrase=True, now=NOW)
    settings = load_settings(setup.paths.settings_file)
    assert settings.key == setup.sim_files.client_key_encrypted
    text = setup.paths.settings_file.read_text()
    assert setup.sim_files.client_key_password not in text


def test_demo_module_does_not_import_textual() -> None:
    import subprocess

    code = "import sys, omar_tui.demo; print('textual' in sys.modules)"
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == "False"


async def test_seed_history_sends_through_the_simulator(tmp_path: Path) -> None:
    from omar_tui.core.history import History
    from omar_tui.simulator import Simulator

    with Simulator(tmp_path / "simulator") as sim:
        setup = prepare_demo(tmp_path, base_url=sim.base_url)
        done = await seed_history(setup)
        received = [r.original_name for r in sim.received]

    assert [s.outcome for s in done] == [Outcome.ACCEPTED, Outcome.ACCEPTED]
    assert received == list(SEED_FILES)
    with History(setup.paths.history_db) as history:
        rows = history.recent(10)
    assert {r.name_sent for r in rows} == set(SEED_FILES)
    assert all(r.file_id for r in rows)


def test_a_hangup_becomes_a_normal_exit_so_the_temp_folder_is_removed() -> None:
    import os
    import signal

    from omar_tui.demo import _cleanup_on_hangup

    before = signal.getsignal(signal.SIGHUP)
    with pytest.raises(SystemExit) as exit_info, _cleanup_on_hangup():
        os.kill(os.getpid(), signal.SIGHUP)
        signal.sigtimedwait([], 0)  # give the handler its chance to run
    assert exit_info.value.code == 128 + signal.SIGHUP
    assert signal.getsignal(signal.SIGHUP) == before
