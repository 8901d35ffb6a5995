"""Pilot tests of the operator tools of issue 6, by keys: profiles, the
certificate screen, the new settings fields, the history's filters, the
connection test from the palette, and drawing on a Linux console.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console
from textual.command import CommandList
from textual.pilot import Pilot
from textual.scrollbar import ScrollBar
from textual.widgets import DataTable, Input, Label, Select, Static

from omar_tui.core.history import History
from omar_tui.core.models import Outcome
from omar_tui.core.paths import AppPaths
from omar_tui.core.settings import Settings, load_settings
from omar_tui.simulator import Simulator
from omar_tui.tui.app import OmarApp, OmarCommandPalette, palette_bindings
from omar_tui.tui.plain import PlainProgressBar, PlainScrollBarRender
from omar_tui.tui.screens import connection_test as connection_test_module
from omar_tui.tui.screens.certificate import (
    CertificateScreen,
    days_left_style,
    days_left_text,
)
from omar_tui.tui.screens.connection_test import ConnectionTestScreen
from omar_tui.tui.screens.history import HistoryScreen
from omar_tui.tui.screens.settings import SettingsScreen
from omar_tui.tui.widgets.file_list import FileList
from omar_tui.tui.widgets.header import HeaderInfo, OmarHeader, header_text

from .conftest import SIZE, checked, main_screen, wait_until


def text_of(widget: Static | Label) -> str:
    console = Console(width=200, record=True, color_system=None)
    console.print(widget.content)
    return console.export_text()


async def open_screen(pilot: Pilot[Any], key: str, kind: type) -> Any:
    await pilot.press(key)
    await wait_until(pilot, lambda: isinstance(pilot.app.screen, kind))
    return pilot.app.screen


# --- profiles --------------------------------------------------------------


@pytest.fixture
def east(history: History) -> AppPaths:
    """The paths of profile "east", sharing the test's config folder."""
    paths = AppPaths.resolve(profile="east").ensure()
    paths.settings_file.write_text("")
    return paths


async def test_the_header_names_the_profile_and_settings_save_to_its_file(
    east: AppPaths, history: History, sim_settings: Callable[..., Settings]
) -> None:
    app = OmarApp(east, sim_settings(), history)
    async with app.run_test(size=SIZE) as pilot:
        await checked(pilot, 4)
        header = main_screen(pilot).query_one("#header", OmarHeader)
        assert "profile east" in header.plain
        await wait_until(pilot, lambda: "days left" in header.plain)
        assert header.plain.index("days left") < header.plain.index("CN=")

        screen = await open_screen(pilot, "e", SettingsScreen)
        screen.query_one("#retries", Input).focus()
        await pilot.press("ctrl+a", "ctrl+k", "5", "ctrl+s")
        await wait_until(pilot, lambda: pilot.app.screen is main_screen(pilot))

    assert east.settings_file == east.config_dir / "profiles" / "east.toml"
    assert load_settings(east.settings_file).retries == 5
    assert not (east.config_dir / "settings.toml").exists()


@pytest.fixture
def mixed(tmp_path: Path) -> Iterator[History]:
    """Records of two profiles, of every outcome the filter knows."""
    with History(tmp_path / "mixed.sqlite3") as records:
        plan = [
            ("default", Outcome.ACCEPTED),
            ("east", Outcome.ACCEPTED),
            ("default", Outcome.REJECTED),
            ("east", Outcome.UNKNOWN),
            ("default", Outcome.FAILED),
            ("default", Outcome.UNKNOWN),
        ]
        for n, (profile, outcome) in enumerate(plan, 1):
            rid = records.begin(
                environment="test",
                base_url="https://omar-onlinetest.caiso.com",
                local_path=f"/p/m{n}.csv",
                name_sent=f"m{n}.csv",
                bytes=n,
                sha256=f"{n:064x}",
                profile=profile,
            )
            records.finish(rid, outcome=outcome, file_id=str(n))
        yield records


async def test_history_shows_the_active_profile_with_keys_for_all_and_outcomes(
    make_app: Callable[..., OmarApp], mixed: History, tmp_path: Path
) -> None:
    app = OmarApp(AppPaths.resolve(profile="east"), Settings(), mixed)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_screen(pilot, "h", HistoryScreen)

        def shown() -> list[int]:
            return [r.id for r in screen.rows]

        def status() -> str:
            return text_of(screen.query_one("#history-status", Static)).strip()

        await wait_until(pilot, lambda: shown() == [4, 2] and screen.total == 2)
        assert status() == "Records 1-2 of 2 (profile east)"

        await pilot.press("a")  # every profile, with a Profile column
        await wait_until(pilot, lambda: shown() == [6, 5, 4, 3, 2, 1])
        table = screen.query_one(DataTable)
        assert "profile" in table.columns
        assert table.get_row_at(0)[1] == "default"

        await pilot.press("o", "o", "o")  # accepted, rejected, unknown
        await wait_until(pilot, lambda: shown() == [6, 4])
        await wait_until(pilot, lambda: screen.total == 2)
        assert status() == "Records 1-2 of 2 (all profiles, unknown)"

        await pilot.press("o")
        await wait_until(pilot, lambda: shown() == [5])
        await pilot.press("a")  # back to east only: it has no failed record
        await wait_until(pilot, lambda: shown() == [] and screen.total == 0)
        assert "profile" not in table.columns
        assert status() == "No submissions (profile east, failed)."
        await pilot.press("o")  # all outcomes again
        await wait_until(pilot, lambda: shown() == [4, 2])


# --- certificate -----------------------------------------------------------


async def test_the_certificate_screen_shows_details_and_paths(
    make_app: Callable[..., OmarApp], simulator: Simulator, paths: AppPaths
) -> None:
    async with make_app().run_test(size=SIZE) as pilot:
        screen = await open_screen(pilot, "i", CertificateScreen)
        await wait_until(pilot, lambda: screen.state == "shown")
        details = text_of(screen.query_one("#cert-details", Static))
        summary = screen.summary
        assert summary is not None
        for text in (
            summary.subject,
            summary.issuer,
            summary.serial,
            f"{summary.days_left} days left",
            summary.fingerprint_sha256[:40],
            str(simulator.files.client_cert),
            str(simulator.files.client_key),
            str(simulator.files.ca_cert),
        ):
            assert text in details, text
        shown_paths = text_of(screen.query_one("#cert-paths", Static))
        for path in (paths.config_dir, paths.settings_file, paths.history_db):
            assert str(path) in shown_paths
        assert str(paths.log_file) in shown_paths
        assert "Profile" in shown_paths and "default" in shown_paths

        await pilot.press("c")
        assert pilot.app.clipboard == summary.fingerprint_sha256
        await pilot.press("escape")
        await wait_until(pilot, lambda: pilot.app.screen is main_screen(pilot))


async def test_a_locked_p12_is_shown_as_locked_until_the_passphrase_is_known(
    make_app: Callable[..., OmarApp],
    sim_settings: Callable[..., Settings],
    simulator: Simulator,
) -> None:
    settings = sim_settings(cert=simulator.files.client_p12, key=None)
    async with make_app(settings).run_test(size=SIZE) as pilot:
        screen = await open_screen(pilot, "i", CertificateScreen)
        await wait_until(pilot, lambda: screen.state == "locked")
        assert "Locked" in text_of(screen.query_one("#cert-details", Static))
        await pilot.press("escape")

        # Once this run holds the passphrase (as after a send), it is used.
        main_screen(pilot).sender.passphrase = simulator.files.p12_password
        screen = await open_screen(pilot, "i", CertificateScreen)
        await wait_until(pilot, lambda: screen.state == "shown")
        assert screen.summary is not None


def test_days_left_is_styled_by_urgency() -> None:
    assert days_left_style(90) == "green"
    assert "yellow" in days_left_style(29)
    assert "red" in days_left_style(6)
    assert "red" in days_left_style(-1)
    assert days_left_text(-3).plain.strip() == "EXPIRED 3 days ago"
    assert days_left_text(1).plain.strip() == "1 day left"

    soon = header_text(HeaderInfo("test", profile="east", subject="CN=a", days_left=5))
    assert soon.plain.startswith(" TEST  profile east  cert  5 days left  CN=a")
    assert any("red" in str(span.style) for span in soon.spans)


# --- settings --------------------------------------------------------------


async def test_settings_edit_proxy_after_send_and_network_fields(
    make_app: Callable[..., OmarApp], paths: AppPaths
) -> None:
    async with make_app().run_test(size=SIZE) as pilot:
        await checked(pilot, 4)
        screen = await open_screen(pilot, "e", SettingsScreen)

        async def type_into(name: str, text: str) -> None:
            """Clear a field by keys; type short text, paste long (each key redraws)."""
            field = screen.query_one(f"#{name}", Input)
            field.focus()
            await pilot.press("ctrl+a", "ctrl+k")
            if len(text) <= 3:
                await pilot.press(*text)
            else:
                field.insert_text_at_cursor(text)

        def error(name: str) -> str:
            return text_of(screen.query_one(f"#{name}-error", Label)).strip()

        await type_into("proxy", "ftp://proxy")
        await type_into("user_agent", "omar é")
        await type_into("max_reply_bytes", "0")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert isinstance(pilot.app.screen, SettingsScreen)
        assert "http://proxy.example:3128" in error("proxy")
        assert "printable ASCII" in error("user_agent")
        assert "1 or more" in error("max_reply_bytes")

        await type_into("proxy", "http://me:secret@proxy.lan:3128")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert "Remove the password" in error("proxy")
        assert not paths.settings_file.exists()

        await type_into("proxy", "http://proxy.lan:3128")
        await type_into("user_agent", "omar-tui/test")
        await type_into("max_reply_bytes", "50000")
        for name in ("after_send", "include_subfolders"):
            screen.query_one(f"#{name}", Select).focus()
            await pilot.press("enter", "down", "enter")  # the second choice
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: pilot.app.screen is main_screen(pilot))

    saved = load_settings(paths.settings_file)
    assert saved.proxy == "http://proxy.lan:3128"
    assert saved.user_agent == "omar-tui/test"
    assert saved.max_reply_bytes == 50_000
    assert saved.after_send == "move"
    assert saved.include_subfolders is True


# --- the command palette ---------------------------------------------------


@dataclass
class FakeStep:
    name: str
    ok: bool
    detail: str
    fix: str
    warning: bool = False


async def test_test_connection_runs_from_the_palette_on_the_main_screen(
    make_app: Callable[..., OmarApp], monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[Settings] = []

    async def fake_doctor(
        settings: Settings, environment: str | None = None, passphrase: Any = None
    ) -> AsyncIterator[FakeStep]:
        seen.append(settings)
        yield FakeStep("Settings", True, "readable", "")

    monkeypatch.setattr(connection_test_module, "load_doctor", lambda: fake_doctor)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await checked(pilot, 4)
        await pilot.press("ctrl+p")
        await wait_until(pilot, lambda: isinstance(app.screen, OmarCommandPalette))
        assert str(app.screen.query_one("SearchIcon").render()) == ">"
        await pilot.press(*"test connection")
        commands = app.screen.query_one(CommandList)

        def found() -> bool:  # the palette searches in a worker
            first = commands.highlighted_option
            return first is not None and "Test connection" in str(first.prompt)

        await wait_until(pilot, found)
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, ConnectionTestScreen))
        screen = app.screen
        await wait_until(pilot, lambda: screen.finished)
        assert "Every step passed" in text_of(screen.query_one("#test-summary"))
    assert [s.environment for s in seen] == ["sim"]


async def test_every_screen_lists_its_keys_in_the_palette(
    make_app: Callable[..., OmarApp],
) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        for key, kind in (("h", HistoryScreen), ("i", CertificateScreen)):
            screen = await open_screen(pilot, key, kind)
            titles = {c.title: c.help for c in app.get_system_commands(screen)}
            for binding in palette_bindings(screen):
                assert binding.tooltip, binding.action
                assert titles[binding.description].startswith(binding.tooltip)
            await pilot.press("escape")
        await open_screen(pilot, "h", HistoryScreen)
        history_titles = {b.description for b in palette_bindings(app.screen)}
        assert {"Outcome", "All profiles", "Export CSV"} <= history_titles


# --- the Linux console -----------------------------------------------------


async def test_a_plain_console_gets_ascii_glyphs(
    sim_settings: Callable[..., Settings], paths: AppPaths, history: History
) -> None:
    app = OmarApp(paths, sim_settings(), history, plain=True)
    before = ScrollBar.renderer
    async with app.run_test(size=SIZE) as pilot:
        await checked(pilot, 4)
        assert app.has_class("-ascii")
        assert ScrollBar.renderer is PlainScrollBarRender
        # The cursor row has one style throughout: no state colour to vanish.
        files = main_screen(pilot).query_one(FileList)
        cursor_row = files.render_line(files.cursor + 1)
        assert (
            len({segment.style for segment in cursor_row if segment.text.strip()}) == 1
        )
        assert isinstance(main_screen(pilot).query_one("#progress"), PlainProgressBar)
        screen = await open_screen(pilot, "h", HistoryScreen)
        keys = {app.get_key_display(b.binding) for b in screen.active_bindings.values()}
        assert "enter" in keys and "⏎" not in keys
        assert "up" in keys
    assert ScrollBar.renderer is before
