"""AppPaths: where state lives, private folders, cheap import."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import platformdirs

from omar_tui.core.paths import AppPaths

ROOT = Path(__file__).resolve().parents[1]


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_override_puts_everything_under_one_folder(tmp_path: Path) -> None:
    paths = AppPaths.resolve({"OMAR_TUI_CONFIG_DIR": str(tmp_path / "cfg")})

    assert paths.config_dir == tmp_path / "cfg"
    assert paths.settings_file == tmp_path / "cfg" / "settings.toml"
    assert paths.history_db == tmp_path / "cfg" / "history.sqlite3"
    assert paths.log_file == tmp_path / "cfg" / "logs" / "omar-tui.log"
    assert paths.lock_dir.parent == tmp_path / "cfg"


def test_override_expands_home(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    paths = AppPaths.resolve({"OMAR_TUI_CONFIG_DIR": "~/omar"})
    assert paths.config_dir == tmp_path / "omar"


def test_platform_folders_without_override(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "xdg-state"))
    paths = AppPaths.resolve({})

    assert paths.config_dir == platformdirs.user_config_path("omar-tui")
    assert paths.log_file == platformdirs.user_log_path("omar-tui") / "omar-tui.log"
    assert paths.settings_file.parent == paths.config_dir


def test_resolve_does_not_touch_the_disk(tmp_path: Path) -> None:
    AppPaths.resolve({"OMAR_TUI_CONFIG_DIR": str(tmp_path / "cfg")})
    assert not (tmp_path / "cfg").exists()


def test_ensure_creates_private_folders(tmp_path: Path) -> None:
    paths = AppPaths.resolve({"OMAR_TUI_CONFIG_DIR": str(tmp_path / "cfg")})
    assert paths.ensure() is paths

    for folder in (paths.config_dir, paths.lock_dir, paths.log_file.parent):
        assert folder.is_dir()
        assert mode(folder) == 0o700


def test_ensure_tightens_an_open_config_folder(tmp_path: Path) -> None:
    folder = tmp_path / "cfg"
    folder.mkdir()
    folder.chmod(0o755)

    AppPaths.resolve({"OMAR_TUI_CONFIG_DIR": str(folder)}).ensure()

    assert mode(folder) == 0o700


def test_import_is_cheap() -> None:
    """The module is on the start-up path: no platformdirs at import."""
    code = "import sys, omar_tui.core.paths\nprint('platformdirs' in sys.modules)"
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert out.stdout.strip() == "False"
