"""Pilot tests of the history, settings and help screens, driven by keys."""

from __future__ import annotations

import csv
import stat
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import pytest
from rich.console import Console
from textual.app import App
from textual.binding import BindingType
from textual.pilot import Pilot
from textual.screen import Screen
from textual.widgets import DataTable, Input, Label, Static

from omar_tui.core.history import History
from omar_tui.core.models import Outcome
from omar_tui.core.paths import AppPaths
from omar_tui.core.settings import Environment, Settings, load_settings
from omar_tui.demo import prepare_demo
from omar_tui.tui.screens import connection_test as doctor_module
from omar_tui.tui.screens import history as history_module
from omar_tui.tui.screens.connection_test import ConnectionTestScreen
from omar_tui.tui.screens.help import HelpScreen, binding_groups
from omar_tui.tui.screens.history import EXPORT_FIELDS, ExportDialog, HistoryScreen
from omar_tui.tui.screens.history_detail import SubmissionDetailScreen
from omar_tui.tui.screens.passphrase import PassphraseScreen
from omar_tui.tui.screens.settings import ConfirmDiscard, SettingsScreen

RECORDS = 450
UNKNOWN_ID = 7  # record 7 ends with outcome unknown


class ScreenApp(App[None]):
    """Opens one screen, records toasts and what the screen returned."""

    def __init__(self, make: Callable[[], Screen[Any]]) -> None:
        super().__init__()
        self.make = make
        self.results: list[object] = []
        self.toasts: list[tuple[str, str]] = []

    def on_mount(self) -> None:
        self.push_screen(self.make(), self.results.append)

    def notify(self, message: str, *, title: str = "", **kwargs: Any) -> None:
        self.toasts.append((title, message))
        super().notify(message, title=title, **kwargs)


async def settle(pilot: Pilot[Any]) -> None:
    """Let timers, workers and the messages they post run to the end."""
    for _ in range(3):
        await pilot.pause()
        await pilot.app.workers.wait_for_complete()
    await pilot.pause()


def text_of(widget: Static | Label) -> str:
    console = Console(width=200, record=True, color_system=None)
    console.print(widget.content)
    return console.export_text()


# --- history -------------------------------------------------------------


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory):
    db = tmp_path_factory.mktemp("history") / "history.sqlite3"
    with History(db) as records:
        for n in range(1, RECORDS + 1):
            rid = records.begin(
                environment="test",
                base_url="https://omar-onlinetest.caiso.com",
                local_path=f"/data/pending/meter_{n:04d}.csv",
                name_sent=f"meter_{n:04d}.csv",
                bytes=1000 + n,
                sha256=f"{n:064x}",
            )
            if n == UNKNOWN_ID:
                records.finish(rid, outcome=Outcome.UNKNOWN, message="no reply")
            elif n % 10 == 0:
                records.finish(rid, outcome=Outcome.REJECTED, message="bad rows")
            else:
                records.finish(
                    rid,
                    outcome=Outcome.ACCEPTED,
                    file_id=f"FID{n:06d}",
                    saved_as=f"saved_{n}.csv",
                    server_size=1000 + n,
                    raw_reply=f"<html><b>File Id</b> FID{n:06d}</html>",
                )
        yield records


@pytest.fixture
def no_debounce(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(HistoryScreen, "DEBOUNCE", 0.0)


def history_app(history: History, folder: Path) -> ScreenApp:
    return ScreenApp(lambda: HistoryScreen(history, export_folder=folder))


def shown_ids(app: App[Any]) -> list[int]:
    screen = app.screen
    assert isinstance(screen, HistoryScreen)
    return [r.id for r in screen.rows]


def status(app: App[Any]) -> str:
    return text_of(app.screen.query_one("#history-status", Static)).strip()


async def test_history_opens_on_the_newest_page(history, tmp_path) -> None:
    app = history_app(history, tmp_path)
    async with app.run_test() as pilot:
        await settle(pilot)
        ids = shown_ids(app)
        assert ids[:3] == [RECORDS, RECORDS - 1, RECORDS - 2]
        assert len(ids) == history_module.PAGE_SIZE
        assert app.screen.query_one(DataTable).row_count == len(ids)
        assert status(app) == f"Records 1-200 of {RECORDS} (profile default)"


async def test_history_pages_with_n_p_and_page_keys(history, tmp_path) -> None:
    app = history_app(history, tmp_path)
    async with app.run_test() as pilot:
        await settle(pilot)
        await pilot.press("n")
        await settle(pilot)
        assert shown_ids(app)[0] == RECORDS - 200
        await pilot.press("n")
        await settle(pilot)
        assert shown_ids(app) == list(range(50, 0, -1))
        assert status(app) == f"Records 401-450 of {RECORDS} (profile default)"

        await pilot.press("n")  # no further page
        await settle(pilot)
        assert shown_ids(app)[0] == 50
        assert ("", "This is the last page.") in app.toasts

        await pilot.press("p")
        await settle(pilot)
        assert shown_ids(app)[0] == RECORDS - 200

        # PgDn on the last row of a page turns to the next page.
        await pilot.press("end")
        table = app.screen.query_one(DataTable)
        table.move_cursor(row=table.row_count - 1)
        await pilot.press("pagedown")
        await settle(pilot)
        assert shown_ids(app)[0] == 50
        await pilot.press("pageup")
        await settle(pilot)
        assert shown_ids(app)[0] == RECORDS - 200


async def test_history_search_as_you_type(history, tmp_path, no_debounce) -> None:
    app = history_app(history, tmp_path)
    async with app.run_test() as pilot:
        await settle(pilot)
        await pilot.press("slash")
        assert isinstance(app.focused, Input)
        await pilot.press(*"meter_001")
        await settle(pilot)
        assert shown_ids(app) == list(range(19, 9, -1))
        assert "(profile default, matching 'meter_001')" in status(app)

        app.screen.query_one(Input).value = "FID000123"
        await settle(pilot)
        assert shown_ids(app) == [123]

        started = history.get(1).started_at[:10]
        app.screen.query_one(Input).value = started
        await settle(pilot)
        assert len(shown_ids(app)) == 200

        app.screen.query_one(Input).value = "no-such-file"
        await settle(pilot)
        assert shown_ids(app) == []
        assert status(app) == (
            "No submissions (profile default, matching 'no-such-file')."
        )

        await pilot.press("escape")  # leaves the search box first
        assert isinstance(app.focused, DataTable)
        assert isinstance(app.screen, HistoryScreen)
        await pilot.press("escape")
        await settle(pilot)
        assert not isinstance(app.screen, HistoryScreen)
        assert app.results == [None]


async def test_enter_in_search_runs_at_once(history, tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(HistoryScreen, "DEBOUNCE", 3600.0)
    app = history_app(history, tmp_path)
    async with app.run_test() as pilot:
        await settle(pilot)
        await pilot.press("slash", *"FID000042", "enter")
        await settle(pilot)
        assert shown_ids(app) == [42]
        assert isinstance(app.focused, DataTable)


async def test_history_detail_shows_every_field_and_the_reply(
    history, tmp_path
) -> None:
    app = history_app(history, tmp_path)
    async with app.run_test() as pilot:
        await settle(pilot)
        await pilot.press("down", "enter")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, SubmissionDetailScreen)
        assert screen.submission.id == RECORDS - 1
        fields = text_of(screen.query_one("#detail-fields", Static))
        for text in ("FID000449", "saved_449.csv", "1,449", f"{RECORDS - 1:064x}"):
            assert text in fields
        assert "1449" not in fields  # sizes read as everywhere else: 1,449
        raw = text_of(screen.query_one("#detail-raw", Static))
        assert "<html><b>File Id</b> FID000449</html>" in raw

        await pilot.press("c")
        assert app.clipboard == "FID000449"
        await pilot.press("escape")
        assert isinstance(app.screen, HistoryScreen)


async def test_unknown_outcome_is_marked_with_what_to_do(history, tmp_path) -> None:
    app = history_app(history, tmp_path)
    async with app.run_test() as pilot:
        await settle(pilot)
        app.screen.query_one(Input).value = "meter_0007"
        await pilot.press("slash", "enter")
        await settle(pilot)
        assert shown_ids(app) == [UNKNOWN_ID]
        advice = app.screen.query_one("#history-advice", Static)
        assert advice.display
        text = text_of(advice)
        assert "Outcome unknown" in text
        assert "Look it up" in text
        table = app.screen.query_one(DataTable)
        assert "UNKNOWN" in str(table.get_row_at(0)[3])


async def test_export_writes_every_record_matching_the_filters(
    history, tmp_path
) -> None:
    app = history_app(history, tmp_path)
    async with app.run_test() as pilot:
        await settle(pilot)
        await pilot.press("o", "o")  # all -> accepted -> rejected
        await settle(pilot)
        assert status(app) == "Records 1-45 of 45 (profile default, rejected)"
        await pilot.press("e")
        await pilot.pause()
        assert isinstance(app.screen, ExportDialog)
        what = text_of(app.screen.query_one("#export-what", Label))
        assert "The 45 records matching: profile default, rejected (all pages)" in what
        field = app.screen.query_one(Input)
        assert Path(field.value).parent == tmp_path
        target = tmp_path / "out.csv"
        field.value = str(target)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, HistoryScreen)
        assert ("Exported 45 records", str(target)) in app.toasts

        with target.open(newline="", encoding="utf-8") as handle:
            rows = list(csv.reader(handle))
        assert tuple(rows[0]) == EXPORT_FIELDS
        assert "raw_reply" not in rows[0]
        records = [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]
        assert [r["id"] for r in records] == [str(n) for n in range(10, 451, 10)]
        assert {r["outcome"] for r in records} == {"rejected"}

        # A second export to the same name is refused in the dialog.
        before = target.read_bytes()
        await pilot.press("e")
        await pilot.pause()
        app.screen.query_one(Input).value = str(target)
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, ExportDialog)
        error = text_of(app.screen.query_one("#export-error", Label))
        assert "exists" in error
        await pilot.press("escape")
        assert target.read_bytes() == before


async def test_copy_puts_the_file_id_on_the_clipboard_and_shows_it(
    history, tmp_path
) -> None:
    app = history_app(history, tmp_path)
    async with app.run_test() as pilot:
        await settle(pilot)
        await pilot.press("c")  # record 450 was rejected: no File Id
        await pilot.pause()
        assert app.clipboard == ""
        assert any("has no File Id" in message for _, message in app.toasts)

        await pilot.press("down", "c")
        await pilot.pause()
        assert app.clipboard == f"FID{RECORDS - 1:06d}"
        assert (
            "Copied File Id",
            "Copied to the clipboard (if your terminal allows it). "
            f"The File Id is: FID{RECORDS - 1:06d}",
        ) in app.toasts


# --- settings --------------------------------------------------------------


@dataclass
class Setup:
    paths: AppPaths
    settings: Settings
    pending: Path


@pytest.fixture
def setup(tmp_path: Path) -> Setup:
    pending = tmp_path / "pending"
    pending.mkdir()
    paths = AppPaths.resolve({"OMAR_TUI_CONFIG_DIR": str(tmp_path / "config")})
    settings = Settings(
        environment="sim",
        environments={"sim": Environment("sim", "https://127.0.0.1:8443")},
        pending_folder=pending,
    )
    return Setup(paths, settings, pending)


def settings_app(setup: Setup) -> ScreenApp:
    return ScreenApp(lambda: SettingsScreen(setup.settings, setup.paths))


def error_text(app: App[Any], name: str) -> str:
    return text_of(app.screen.query_one(f"#{name}-error", Label)).strip()


async def type_into(pilot: Pilot[Any], name: str, text: str) -> None:
    """Focus a field and replace its text (typed key by key only when short)."""
    field = pilot.app.screen.query_one(f"#{name}", Input)
    field.focus()
    field.value = ""
    if len(text) <= 3:
        await pilot.press(*text)
    else:
        field.value = text
    await pilot.pause()


async def test_settings_edit_and_save_writes_the_file(setup) -> None:
    app = settings_app(setup)
    async with app.run_test() as pilot:
        await pilot.pause()
        await type_into(pilot, "read_timeout", "30")
        await type_into(pilot, "max_name", "38")
        await pilot.press("ctrl+s")
        await pilot.pause()

    assert len(app.results) == 1
    saved = app.results[0]
    assert isinstance(saved, Settings)
    assert saved.read_timeout == 30.0
    assert saved.limits.max_name == 38
    assert load_settings(setup.paths.settings_file) == saved
    mode = stat.S_IMODE(setup.paths.settings_file.stat().st_mode)
    assert mode == 0o600
    assert [p.name for p in setup.paths.config_dir.iterdir()] == ["settings.toml"]


async def test_settings_validation_shows_plain_messages(setup, tmp_path) -> None:
    app = settings_app(setup)
    async with app.run_test() as pilot:
        await pilot.pause()
        await type_into(pilot, "warn_bytes", "600000")
        await type_into(pilot, "cert", "certs/me.p12")
        await type_into(pilot, "ca_bundle", str(tmp_path / "missing.pem"))
        await type_into(pilot, "connect_timeout", "soon")
        await pilot.press("ctrl+s")
        await pilot.pause()

        assert isinstance(app.screen, SettingsScreen)
        assert "at or below the size that blocks" in error_text(app, "warn_bytes")
        assert "full path" in error_text(app, "cert")
        assert "There is no file" in error_text(app, "ca_bundle")
        assert "number of seconds" in error_text(app, "connect_timeout")
        assert error_text(app, "read_timeout") == ""
        assert not setup.paths.settings_file.exists()

        await type_into(pilot, "warn_bytes", "400000")
        await type_into(pilot, "cert", "")
        await type_into(pilot, "ca_bundle", "")
        await type_into(pilot, "connect_timeout", "10")
        await pilot.press("ctrl+s")
        await pilot.pause()
    assert app.results and isinstance(app.results[0], Settings)
    assert app.results[0].limits.warn_bytes == 400_000


async def test_settings_arrow_keys_never_change_the_environment(setup) -> None:
    from textual.widgets import Select

    app = settings_app(setup)
    async with app.run_test() as pilot:
        await pilot.pause()
        select = app.screen.query_one("#environment", Select)
        assert not isinstance(app.focused, (Select, Input))  # no stray key lands
        await pilot.press("x", "down", "enter", "down", "space")
        await pilot.pause()
        assert not app.screen.changed

        select.focus()
        await pilot.press("down", "down", "up", "down")
        await pilot.pause()
        assert not select.expanded and select.value == "sim"

        await pilot.press("enter")  # Enter opens the menu...
        await pilot.pause()
        assert select.expanded
        await pilot.press("escape")
        await pilot.pause()
        assert not select.expanded and select.value == "sim"


async def test_settings_escape_with_changes_asks_first(setup) -> None:
    setup.paths.ensure()
    setup.paths.settings_file.write_text('environment = "test"\n')
    app = settings_app(setup)
    async with app.run_test() as pilot:
        await pilot.pause()
        await type_into(pilot, "retries", "5")
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmDiscard)
        await pilot.press("escape")  # keep editing
        await pilot.pause()
        assert isinstance(app.screen, SettingsScreen)
        assert app.screen.query_one("#retries", Input).value == "5"

        await pilot.press("escape")
        await pilot.pause()
        await pilot.press("d")
        await pilot.pause()
        assert not isinstance(app.screen, SettingsScreen)
    assert app.results == [None]
    assert setup.paths.settings_file.read_text() == 'environment = "test"\n'


async def test_settings_escape_without_changes_leaves_at_once(setup) -> None:
    app = settings_app(setup)
    async with app.run_test() as pilot:
        await pilot.pause()
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, SettingsScreen)
    assert app.results == [None]


async def test_settings_add_and_remove_environments(setup) -> None:
    app = settings_app(setup)
    async with app.run_test() as pilot:
        await pilot.pause()
        await type_into(pilot, "new-env-name", "sandbox")
        await type_into(pilot, "new-env-url", "http://omar.example.org")
        await pilot.press("enter")
        assert "https://" in error_text(app, "new_env_url")

        await type_into(pilot, "new-env-url", "https://omar.example.org/")
        await pilot.press("enter")
        await pilot.pause()
        assert error_text(app, "new_env_url") == ""
        screen = app.screen
        assert isinstance(screen, SettingsScreen)
        assert screen.environments["sandbox"].base_url == "https://omar.example.org"

        await type_into(pilot, "new-env-name", "test")
        await type_into(pilot, "new-env-url", "https://x.example.org")
        await pilot.press("enter")
        assert "built in" in error_text(app, "new_env_url")

        # Remove "sim" (not active after choosing sandbox) with Delete.
        table = screen.query_one("#envs-table", DataTable)
        table.focus()
        table.move_cursor(row=table.get_row_index("sandbox"))
        await pilot.press("enter")  # makes it the active environment
        table.move_cursor(row=table.get_row_index("sim"))
        await pilot.press("delete")
        await pilot.pause()
        assert "sim" not in screen.environments
        table.move_cursor(row=table.get_row_index("production"))
        await pilot.press("delete")
        assert "production" in screen.environments

        await pilot.press("ctrl+s")
        await pilot.pause()

    saved = load_settings(setup.paths.settings_file)
    assert saved.environment == "sandbox"
    assert "sim" not in saved.environments
    assert saved.environments["sandbox"].base_url == "https://omar.example.org"


@dataclass
class FakeStep:
    name: str
    ok: bool
    detail: str
    fix: str
    warning: bool = False


def fake_doctor(seen: list[dict[str, Any]]):
    async def run_doctor(
        settings: Settings,
        environment: str | None = None,
        passphrase: str | None = None,
    ) -> AsyncIterator[FakeStep]:
        seen.append({"settings": settings, "passphrase": passphrase})
        yield FakeStep("Settings readable", True, "settings.toml", "")
        yield FakeStep("TLS handshake", False, "certificate refused", "Ask CAISO")

    return run_doctor


async def test_test_connection_shows_each_step(setup, monkeypatch) -> None:
    seen: list[dict[str, Any]] = []
    monkeypatch.setattr(doctor_module, "load_doctor", lambda: fake_doctor(seen))
    app = settings_app(setup)
    async with app.run_test() as pilot:
        await pilot.pause()
        await type_into(pilot, "read_timeout", "42")
        await pilot.press("ctrl+t")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, ConnectionTestScreen)
        text = text_of(screen.query_one("#test-results", Static))
        assert " ok  Settings readable: settings.toml" in text
        assert "FAIL TLS handshake: certificate refused" in text
        assert "fix: Ask CAISO" in text
        assert "1 step(s) failed" in text_of(screen.query_one("#test-summary", Static))
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, SettingsScreen)

    # The unsaved form was tested; nothing was written.
    assert seen[0]["settings"].read_timeout == 42.0
    assert seen[0]["passphrase"] is None
    assert not setup.paths.settings_file.exists()


@pytest.fixture(scope="module")
def encrypted_demo(tmp_path_factory: pytest.TempPathFactory):
    return prepare_demo(tmp_path_factory.mktemp("demo"), use_passphrase=True)


async def test_test_connection_asks_for_a_passphrase_when_needed(
    encrypted_demo, monkeypatch
) -> None:
    seen: list[dict[str, Any]] = []
    monkeypatch.setattr(doctor_module, "load_doctor", lambda: fake_doctor(seen))
    demo = encrypted_demo
    app = ScreenApp(lambda: SettingsScreen(demo.settings, demo.paths))
    secret = demo.sim_files.client_key_password
    async with app.run_test() as pilot:
        await pilot.pause()
        await pilot.press("ctrl+t")
        for _ in range(20):  # the worker waits on the dialog: do not wait for it
            await pilot.pause()
            if isinstance(app.screen, PassphraseScreen):
                break
        assert isinstance(app.screen, PassphraseScreen)
        field = app.screen.query_one(Input)
        assert field.password
        await pilot.press(*secret, "enter")
        await settle(pilot)
        assert isinstance(app.screen, ConnectionTestScreen)
        assert secret not in text_of(app.screen.query_one("#test-results", Static))
    assert seen[0]["passphrase"] == secret


# --- help ------------------------------------------------------------------


async def test_help_lists_the_bindings_of_the_screen_below(history, tmp_path) -> None:
    app = history_app(history, tmp_path)
    async with app.run_test() as pilot:
        await settle(pilot)
        below = app.screen
        groups = {g.title: g.rows for g in binding_groups(below)}
        own = "History: this screen's keys"
        assert list(groups)[:2] == [own, "Everywhere"]  # the screen's own first
        history_rows = {desc: keys for keys, desc, _ in groups[own]}
        assert history_rows["Export CSV"] == "e"
        assert history_rows["Search"] == "/"
        list_rows = {desc: keys for keys, desc, _ in groups["Submission list"]}
        assert list_rows["Open the record in full"] == "⏎"
        assert "Page down" in list_rows

        app.push_screen(HelpScreen())
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        text = text_of(app.screen.query_one("#help-keys", Static))
        for binding in HistoryScreen.BINDINGS:
            assert binding.description in text  # type: ignore[union-attr]
        # Headings do not widen the key column: descriptions sit near their keys.
        (search,) = [ln for ln in text.splitlines() if ln.lstrip().startswith("/ ")]
        assert search.index("Search") < 16
        states = text_of(app.screen.query_one("#help-states", Static))
        assert "outcome unknown" in states and "already accepted" in states
        outcomes = text_of(app.screen.query_one("#help-outcomes", Static))
        assert "check OMAR-Online before resending" in outcomes

        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is below


async def test_settings_help_lists_its_own_keys_before_generic_ones(setup) -> None:
    app = settings_app(setup)
    async with app.run_test() as pilot:
        await pilot.pause()
        groups = binding_groups(app.screen)
        first = groups[0]
        assert first.title == "Settings: this screen's keys"
        assert [desc for _, desc, _ in first.rows][:3] == [
            "Save",
            "Test connection",
            "Back",
        ]
        generic = {desc for _, desc, _ in groups[-1].rows}
        assert "Focus Next" in generic
        assert groups[-1].title.startswith("Moving between fields")
        assert not any(desc == "Focus Next" for _, desc, _ in first.rows)
        assert "Input" not in [g.title for g in groups]  # a plain heading instead


async def test_help_merges_aliases_of_one_action() -> None:
    class Aliased(Screen[None]):
        BINDINGS: ClassVar[list[BindingType]] = [
            ("down,j", "go_down", "Move down"),
            ("x", "stop", ""),
        ]

        def action_go_down(self) -> None:
            pass

        def action_stop(self) -> None:
            pass

    app = ScreenApp(Aliased)
    async with app.run_test() as pilot:
        await pilot.pause()
        groups = binding_groups(app.screen)
        rows = {desc: keys for g in groups for keys, desc, _ in g.rows}
        assert rows["Move down"] == "↓ / j"
        assert rows["Stop"] == "x"  # no description: the action's name


async def test_test_connection_against_the_simulator(tmp_path) -> None:
    from omar_tui.simulator import Simulator

    with Simulator(tmp_path / "simulator") as sim:
        demo = prepare_demo(tmp_path, base_url=sim.base_url)
        app = ScreenApp(lambda: SettingsScreen(demo.settings, demo.paths))
        async with app.run_test() as pilot:
            await pilot.pause()
            await pilot.press("ctrl+t")
            screen = None
            for _ in range(500):
                await pilot.pause(0.01)
                screen = app.screen
                if isinstance(screen, ConnectionTestScreen) and screen.finished:
                    break
            assert isinstance(screen, ConnectionTestScreen) and screen.finished
            assert screen.steps and all(step.ok for step in screen.steps)
            names = [step.name for step in screen.steps]
            assert names[0] == "Settings" and "CA bundle" in names
            summary = text_of(screen.query_one("#test-summary", Static))
            assert "Every step passed" in summary
