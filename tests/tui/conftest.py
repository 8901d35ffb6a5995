"""Fixtures for the TUI's Pilot tests: a pending folder, settings, the app.

Every app talks to the simulator of the root ``conftest`` on loopback, keeps
its state in the test's private config folder, and is driven by keys only.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot

from omar_tui.core.history import History
from omar_tui.core.paths import AppPaths
from omar_tui.core.settings import Environment, Settings
from omar_tui.simulator import Simulator
from omar_tui.tui.app import OmarApp
from omar_tui.tui.screens.main import MainScreen
from omar_tui.tui.widgets.file_list import FileList, FileState, PendingFile

GOOD = "MeterData,Resource,Interval,Value\nMD1,RES_A,1,10.5\nMD1,RES_A,2,11.0\n"

SIZE = (80, 24)
"""Every test runs at the smallest terminal the app promises to fill."""


@pytest.fixture
def pending(tmp_path: Path) -> Path:
    """A pending folder with two good files, one with a warning, one blocked."""
    folder = tmp_path / "pending"
    folder.mkdir()
    (folder / "a_good.csv").write_text(GOOD)
    (folder / "b_good.csv").write_text(GOOD.replace("10.5", "12.5"))
    (folder / "c_warn.CSV").write_text(GOOD.replace("10.5", "13.5"))
    (folder / "d_blocked.txt").write_text(GOOD.replace("10.5", "14.5"))
    return folder


@pytest.fixture
def paths() -> AppPaths:
    """The test's private config folder (see the root conftest)."""
    return AppPaths.resolve().ensure()


@pytest.fixture
def history(paths: AppPaths) -> Iterator[History]:
    with History(paths.history_db) as records:
        yield records


@pytest.fixture
def sim_settings(simulator: Simulator, pending: Path) -> Callable[..., Settings]:
    """Settings that reach the simulator; keywords override any field."""

    def make(environment: str = "sim", **changes: Any) -> Settings:
        values: dict[str, Any] = {
            "environment": environment,
            "environments": {environment: Environment(environment, simulator.base_url)},
            "cert": simulator.files.client_cert,
            "key": simulator.files.client_key,
            "ca_bundle": simulator.files.ca_cert,
            "pending_folder": pending,
        }
        values.update(changes)
        return Settings(**values)

    return make


@pytest.fixture
def make_app(
    paths: AppPaths, history: History, sim_settings: Callable[..., Settings]
) -> Callable[..., OmarApp]:
    def make(
        settings: Settings | None = None, environment: str | None = None
    ) -> OmarApp:
        return OmarApp(paths, settings or sim_settings(), history, environment)

    return make


# -- helpers the tests share ---------------------------------------------------


async def wait_until(pilot: Pilot[Any], condition: Callable[[], bool]) -> None:
    """Let the app run until ``condition`` holds (bounded, never a fixed sleep)."""
    for _ in range(1000):
        if condition():
            return
        await pilot.pause(0.01)
    raise AssertionError("the app never reached the expected state")


def main_screen(pilot: Pilot[Any]) -> MainScreen:
    screen = pilot.app.screen_stack[0]
    assert isinstance(screen, MainScreen)
    return screen


def file_list(pilot: Pilot[Any]) -> FileList:
    return main_screen(pilot).query_one("#files", FileList)


def by_name(pilot: Pilot[Any], name: str) -> PendingFile:
    for file in file_list(pilot).files.values():
        if file.label == name:
            return file
    raise AssertionError(f"{name} is not listed")


async def checked(pilot: Pilot[Any], count: int | None = None) -> None:
    """Wait until the folder is listed and every file checked."""

    def done() -> bool:
        files = file_list(pilot).files.values()
        if count is not None and len(files) != count:
            return False
        return bool(files) and all(f.state is not FileState.CHECKING for f in files)

    await wait_until(pilot, done)


async def highlight(pilot: Pilot[Any], name: str) -> None:
    """Move the cursor to ``name`` with keys only."""
    table = file_list(pilot)
    await pilot.press("g")
    for _ in range(table.row_count):
        current = table.highlighted
        if current is not None and current.label == name:
            return
        await pilot.press("down")
    raise AssertionError(f"{name} is not shown")
