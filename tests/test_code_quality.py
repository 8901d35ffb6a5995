"""Formatting, lint and strict typing are part of the test suite, not a step apart."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def tool(name: str) -> str:
    path = BIN / name
    if path.exists():
        return str(path)
    found = shutil.which(name)
    if found is None:
        pytest.skip(f"{name} is not installed (pip install -e '.[test]')")
    return found


def sources() -> list[str]:
    """The folders with Python in them that exist in this checkout."""
    names = ["omar_tui", "tests", "bench", "scripts"]
    return [name for name in names if (ROOT / name).is_dir()]


def run(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        argv, cwd=ROOT, capture_output=True, text=True, timeout=600, check=False
    )


def test_ruff_lint() -> None:
    result = run(tool("ruff"), "check", *sources())
    assert result.returncode == 0, result.stdout + result.stderr


def test_ruff_format() -> None:
    result = run(tool("ruff"), "format", "--check", *sources())
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_strict_on_the_package() -> None:
    result = run(tool("mypy"), "omar_tui")
    assert result.returncode == 0, result.stdout + result.stderr
