"""The core stays free of Textual, and heavy libraries stay off the start-up path.

Checked in fresh interpreters, so what another test imported cannot hide a
regression.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "omar_tui"
HEADLESS = ["core", "simulator", "cli"]


def headless_modules() -> list[str]:
    names = []
    for part in HEADLESS:
        for path in sorted((PACKAGE / part).rglob("*.py")):
            module = path.relative_to(PACKAGE.parent).with_suffix("")
            names.append(".".join(module.parts).removesuffix(".__init__"))
    return names


def loaded_after(code: str) -> set[str]:
    script = f"{code}\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))"
    out = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    ).stdout
    return set(json.loads(out.splitlines()[-1]))


def test_no_headless_module_imports_textual() -> None:
    modules = headless_modules()
    assert len(modules) > 20
    imports = "\n".join(f"import {name}" for name in modules)
    loaded = loaded_after(imports)
    assert not any(m == "textual" or m.startswith("textual.") for m in loaded)


def test_no_headless_source_mentions_a_textual_import() -> None:
    offenders = [
        str(path)
        for part in HEADLESS
        for path in (PACKAGE / part).rglob("*.py")
        if "import textual" in path.read_text() or "from textual" in path.read_text()
    ]
    assert offenders == []


@pytest.mark.parametrize("heavy", ["httpx", "bs4", "cryptography"])
def test_check_command_path_loads_no_network_or_crypto_library(heavy: str) -> None:
    loaded = loaded_after(
        "import omar_tui.cli.main, omar_tui.cli.commands, omar_tui.core.checks"
    )
    assert heavy not in loaded


def test_app_module_keeps_heavy_libraries_off_the_start_up_path() -> None:
    loaded = loaded_after("import omar_tui.tui.app")
    assert {"httpx", "bs4", "cryptography"}.isdisjoint(loaded)
