"""The operator's flows on the main screen, by keys only, against the simulator.

Each test asserts on what happened (what the simulator received, the history
rows, the widgets' state), never on how long anything took.
"""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

from omar_tui.core.checks import suggest_short_name
from omar_tui.core.history import History
from omar_tui.core.models import Outcome
from omar_tui.core.settings import Environment
from omar_tui.simulator import Simulator
from omar_tui.tui.screens.help import HelpScreen
from omar_tui.tui.screens.passphrase import PassphraseScreen
from omar_tui.tui.screens.rename import RenameScreen
from omar_tui.tui.screens.send_confirm import ConfirmScreen, SendConfirmScreen
from omar_tui.tui.widgets.checks_panel import ChecksPanel
from omar_tui.tui.widgets.file_list import FileState
from omar_tui.tui.widgets.header import HeaderInfo, OmarHeader, header_text
from omar_tui.tui.widgets.upload_log import UploadLog

from .conftest import (
    GOOD,
    SIZE,
    by_name,
    checked,
    file_list,
    highlight,
    main_screen,
    wait_until,
)


def log_text(pilot) -> str:
    return "\n".join(main_screen(pilot).query_one("#log", UploadLog).entries)


async def send_done(pilot) -> None:
    await wait_until(pilot, lambda: not main_screen(pilot).sending)


async def test_lists_files_with_their_states(make_app, history: History) -> None:
    async with make_app().run_test(size=SIZE) as pilot:
        await checked(pilot, 4)
        states = {f.label: f.state for f in file_list(pilot).files.values()}
        assert states == {
            "a_good.csv": FileState.READY,
            "b_good.csv": FileState.READY,
            "c_warn.CSV": FileState.WARNING,
            "d_blocked.txt": FileState.BLOCKED,
        }
        header = main_screen(pilot).query_one("#header", OmarHeader)
        await wait_until(pilot, lambda: "Demo Operator" in header.plain)
        assert "days left" in header.plain


async def test_the_certificate_is_read_only_after_the_first_frame(
    make_app, monkeypatch
) -> None:
    from omar_tui.tui.screens.main import READING_CERTIFICATE, MainScreen

    drawn: list[str] = []
    seen_at_start: list[list[str]] = []
    render = OmarHeader.render
    load = MainScreen.load_certificate

    def recording_render(self: OmarHeader):
        drawn.append(self.plain)
        return render(self)

    def recording_load(self: MainScreen):
        seen_at_start.append(list(drawn))
        return load(self)

    monkeypatch.setattr(OmarHeader, "render", recording_render)
    monkeypatch.setattr(MainScreen, "load_certificate", recording_load)
    async with make_app().run_test(size=SIZE) as pilot:
        header = main_screen(pilot).query_one("#header", OmarHeader)
        await wait_until(pilot, lambda: "Demo Operator" in header.plain)

    (before,) = seen_at_start
    assert before, "the certificate worker started before the first frame"
    assert READING_CERTIFICATE in before[0]


FIRST_FRAME_SCRIPT = """
import asyncio, sys
from pathlib import Path
from omar_tui.core.history import History
from omar_tui.core.paths import AppPaths
from omar_tui.core.settings import Settings
from omar_tui.tui.app import OmarApp
from omar_tui.tui.widgets.header import OmarHeader

first: list[bool] = []
render = OmarHeader.render
def recording(self):
    first.append("cryptography" in sys.modules)
    return render(self)
OmarHeader.render = recording

async def main() -> None:
    paths = AppPaths.resolve().ensure()
    settings = Settings(cert=Path(sys.argv[1]), key=Path(sys.argv[2]))
    with History(paths.history_db) as history:
        app = OmarApp(paths, settings, history)
        async with app.run_test(size=(80, 24)) as pilot:
            for _ in range(500):
                if "cryptography" in sys.modules:
                    break
                await pilot.pause(0.01)
    print(first[0], "cryptography" in sys.modules)

asyncio.run(main())
"""


def test_the_first_frame_is_drawn_before_cryptography_loads(
    simulator: Simulator, tmp_path: Path
) -> None:
    import os

    env = {**os.environ, "OMAR_TUI_CONFIG_DIR": str(tmp_path / "cfg")}
    files = simulator.files
    out = subprocess.run(
        [sys.executable, "-c", FIRST_FRAME_SCRIPT, str(files.client_cert),
         str(files.client_key)],
        capture_output=True, text=True, env=env, timeout=60, check=True,
    )  # fmt: skip
    assert out.stdout.split() == ["False", "True"]


async def test_checks_panel_shows_findings_hash_and_earlier_acceptance(
    make_app, history: History, pending: Path
) -> None:
    import hashlib

    sha = hashlib.sha256((pending / "b_good.csv").read_bytes()).hexdigest()
    record = history.begin(
        environment="sim",
        base_url="https://127.0.0.1:1",
        local_path="/old/b_good.csv",
        name_sent="b_good.csv",
        bytes=10,
        sha256=sha,
    )
    history.finish(record, outcome=Outcome.ACCEPTED, file_id="777001")

    async with make_app().run_test(size=SIZE) as pilot:
        await checked(pilot, 4)
        assert by_name(pilot, "b_good.csv").state is FileState.SENT_BEFORE
        panel = main_screen(pilot).query_one("#checks", ChecksPanel)

        await highlight(pilot, "b_good.csv")
        await wait_until(pilot, lambda: "First lines" in panel.text)
        assert sha in panel.text
        assert "File Id 777001" in panel.text
        assert "MD1,RES_A,1,12.5" in panel.text

        await highlight(pilot, "d_blocked.txt")
        await wait_until(pilot, lambda: "d_blocked.txt" in panel.text)
        assert "ERROR" in panel.text and "Fix:" in panel.text


async def test_mark_send_and_see_file_ids(
    make_app, simulator: Simulator, history: History
) -> None:
    async with make_app().run_test(size=SIZE) as pilot:
        await checked(pilot, 4)
        await highlight(pilot, "a_good.csv")
        await pilot.press("space", "space")  # marks a and b
        assert [f.label for f in main_screen(pilot).marked_files()] == [
            "a_good.csv",
            "b_good.csv",
        ]

        await pilot.press("s")
        await wait_until(pilot, lambda: isinstance(pilot.app.screen, SendConfirmScreen))
        assert simulator.received == []  # nothing leaves before the confirmation
        await pilot.press("enter")
        await send_done(pilot)

        assert [r.original_name for r in simulator.received] == [
            "a_good.csv",
            "b_good.csv",
        ]
        rows = history.recent(limit=10)
        assert {r.outcome for r in rows} == {Outcome.ACCEPTED}
        assert {r.profile for r in rows} == {"default"}
        ids = {r.file_id for r in rows}
        assert ids == {str(r.file_id) for r in simulator.received}
        for file_id in ids:
            assert f"File Id {file_id}" in log_text(pilot)
        assert by_name(pilot, "a_good.csv").state is FileState.ACCEPTED

        # c copies the highlighted file's File Id (OSC 52) and shows it.
        await highlight(pilot, "a_good.csv")
        await pilot.press("c")
        assert pilot.app.clipboard == by_name(pilot, "a_good.csv").file_id


async def test_blocked_file_is_refused_without_an_override(
    make_app, simulator: Simulator, history: History
) -> None:
    async with make_app().run_test(size=SIZE) as pilot:
        await checked(pilot, 4)
        await highlight(pilot, "d_blocked.txt")
        await pilot.press("s")
        await wait_until(pilot, lambda: isinstance(pilot.app.screen, ConfirmScreen))
        await pilot.press("enter")  # the focused answer is "Skip them"
        await send_done(pilot)

        assert simulator.received == []
        assert history.count() == 0
        assert "blocked file(s) not sent" in log_text(pilot)


async def test_an_explicit_override_sends_a_blocked_file(
    make_app, simulator: Simulator, history: History
) -> None:
    async with make_app().run_test(size=SIZE) as pilot:
        await checked(pilot, 4)
        await pilot.press("G")  # d_blocked.txt, the last file
        panel = main_screen(pilot).query_one("#checks", ChecksPanel)
        await wait_until(pilot, lambda: "d_blocked.txt" in panel.text)
        said = " ".join(panel.text.split())
        assert "press s, choose Send anyway in the question that follows" in said
        await pilot.press("s")
        await wait_until(pilot, lambda: isinstance(pilot.app.screen, ConfirmScreen))
        assert "d_blocked.txt" in str(
            pilot.app.screen.query_one(".dialog-text").content
        )
        yes = pilot.app.screen.query_one("#question-yes")
        assert str(yes.label) == "Send anyway"  # what the panel told the operator
        await pilot.press("shift+tab", "enter")  # "Send anyway"
        await wait_until(pilot, lambda: isinstance(pilot.app.screen, SendConfirmScreen))
        await pilot.press("enter")
        await send_done(pilot)

        # The simulator refuses the extension; the log says so in plain words.
        (row,) = history.recent(limit=10)
        assert row.outcome is Outcome.REJECTED
        assert "rejected by OMAR-Online" in log_text(pilot)
        assert by_name(pilot, "d_blocked.txt").state is FileState.REJECTED


async def test_send_under_a_shorter_name(
    make_app, simulator: Simulator, history: History, pending: Path
) -> None:
    long_name = "MeterData_RESOURCE_ABCDEFGHIJ_20240101_v2_final.csv"
    (pending / long_name).write_text(GOOD.replace("10.5", "99.5"))
    suggestion = suggest_short_name(long_name, 40)

    async with make_app().run_test(size=SIZE) as pilot:
        await checked(pilot, 5)
        assert by_name(pilot, long_name).state is FileState.BLOCKED
        await highlight(pilot, long_name)
        await pilot.press("s")
        await wait_until(pilot, lambda: isinstance(pilot.app.screen, RenameScreen))
        await pilot.press("enter")  # the suggestion, as pre-filled
        await wait_until(pilot, lambda: isinstance(pilot.app.screen, SendConfirmScreen))
        await pilot.press("enter")
        await send_done(pilot)

    assert [r.original_name for r in simulator.received] == [suggestion]
    (row,) = history.recent(limit=10)
    assert row.outcome is Outcome.ACCEPTED
    assert row.name_sent == suggestion
    assert Path(row.local_path).name == long_name


async def test_production_needs_its_name_typed(
    make_app, sim_settings, simulator: Simulator, history: History
) -> None:
    # "production" here points at the local simulator, never a real host.
    app = make_app(sim_settings(environment="production"))
    async with app.run_test(size=SIZE) as pilot:
        await checked(pilot, 4)
        header = main_screen(pilot).query_one("#header", OmarHeader)
        assert "PRODUCTION" in header.plain

        await highlight(pilot, "a_good.csv")
        await pilot.press("s")
        await wait_until(pilot, lambda: isinstance(pilot.app.screen, SendConfirmScreen))
        dialog = pilot.app.screen
        assert dialog.has_class("-production")

        await pilot.press("enter")  # nothing typed: refused
        await pilot.press(*"prod", "enter")  # not the whole name: refused
        assert pilot.app.screen is dialog
        assert simulator.received == []

        await pilot.press(*"uction", "enter")
        await send_done(pilot)

    assert [r.original_name for r in simulator.received] == ["a_good.csv"]
    assert history.recent(limit=1)[0].environment == "production"


async def test_passphrase_is_asked_once_and_a_wrong_one_again(
    make_app, sim_settings, simulator: Simulator, history: History
) -> None:
    settings = sim_settings(key=simulator.files.client_key_encrypted)
    password = simulator.files.client_key_password
    async with make_app(settings).run_test(size=SIZE) as pilot:
        await checked(pilot, 4)
        await highlight(pilot, "a_good.csv")
        await pilot.press("s")
        await wait_until(pilot, lambda: isinstance(pilot.app.screen, PassphraseScreen))
        await pilot.press(*"wrong", "enter")
        await wait_until(
            pilot,
            lambda: bool(pilot.app.screen.query("#passphrase-error")),
        )
        await pilot.press(*password, "enter")
        await wait_until(pilot, lambda: isinstance(pilot.app.screen, SendConfirmScreen))
        await pilot.press("enter")
        await send_done(pilot)
        assert len(simulator.received) == 1

        # Once per run: the second send goes straight to the confirmation.
        await highlight(pilot, "b_good.csv")
        await pilot.press("s")
        await wait_until(pilot, lambda: isinstance(pilot.app.screen, SendConfirmScreen))
        await pilot.press("enter")
        await send_done(pilot)
        assert password not in log_text(pilot)

    assert len(simulator.received) == 2


async def test_stop_after_the_current_file(
    make_app, simulator: Simulator, history: History
) -> None:
    simulator.faults.delay = 0.5  # keeps the first file in flight
    async with make_app().run_test(size=SIZE) as pilot:
        await checked(pilot, 4)
        await pilot.press("a")  # marks the ready files, not the warning or blocked
        assert [f.label for f in main_screen(pilot).marked_files()] == [
            "a_good.csv",
            "b_good.csv",
        ]
        await pilot.press("s")
        await wait_until(pilot, lambda: isinstance(pilot.app.screen, SendConfirmScreen))
        await pilot.press("enter")
        await wait_until(
            pilot, lambda: by_name(pilot, "a_good.csv").state is FileState.SENDING
        )
        await pilot.press("x")
        await send_done(pilot)

        assert [r.original_name for r in simulator.received] == ["a_good.csv"]
        assert [r.name_sent for r in history.recent(limit=10)] == ["a_good.csv"]
        assert by_name(pilot, "b_good.csv").state is FileState.READY
        assert "Stopped: 1 file(s) were not sent." in log_text(pilot)


async def test_quit_during_a_send_asks_and_lets_the_file_finish(
    make_app, simulator: Simulator, history: History
) -> None:
    simulator.faults.delay = 0.5
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await checked(pilot, 4)
        await pilot.press("a", "s")
        await wait_until(pilot, lambda: isinstance(pilot.app.screen, SendConfirmScreen))
        await pilot.press("enter")
        await wait_until(
            pilot, lambda: by_name(pilot, "a_good.csv").state is FileState.SENDING
        )
        await pilot.press("ctrl+c")  # never kills a send: it stops after the file
        assert app.is_running
        await pilot.press("q")
        await wait_until(pilot, lambda: isinstance(pilot.app.screen, ConfirmScreen))
        await pilot.press("shift+tab", "enter")  # "Stop, then quit"
        await wait_until(pilot, lambda: app.return_code is not None)

    assert [r.original_name for r in simulator.received] == ["a_good.csv"]
    (row,) = history.recent(limit=10)
    assert row.outcome is Outcome.ACCEPTED


async def test_quit_question_turns_plain_when_the_send_ends_under_it(
    make_app, simulator: Simulator, history: History
) -> None:
    simulator.faults.delay = 0.5
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await checked(pilot, 4)
        await highlight(pilot, "a_good.csv")
        await pilot.press("s")
        await wait_until(pilot, lambda: isinstance(pilot.app.screen, SendConfirmScreen))
        await pilot.press("enter")
        await wait_until(
            pilot, lambda: by_name(pilot, "a_good.csv").state is FileState.SENDING
        )
        await pilot.press("q")
        await wait_until(pilot, lambda: isinstance(pilot.app.screen, ConfirmScreen))
        question = pilot.app.screen
        await send_done(pilot)  # the operator has not answered yet
        await pilot.pause()

        assert pilot.app.screen is question
        title = question.query_one(".dialog").border_title
        assert title == "Quit?"
        assert "Stop" not in str(question.query_one("#question-yes").label)
        await pilot.press("enter")  # the focus stays on the safe answer: stay
        assert app.is_running and not isinstance(pilot.app.screen, ConfirmScreen)
        await pilot.press("q")  # nothing is sent now: q quits at once
        await wait_until(pilot, lambda: app.return_code is not None)

    assert history.recent(limit=1)[0].outcome is Outcome.ACCEPTED


async def test_unknown_outcome_says_to_look_it_up(
    make_app, simulator: Simulator, history: History
) -> None:
    simulator.faults.drop_after_body = True
    async with make_app().run_test(size=SIZE) as pilot:
        await checked(pilot, 4)
        await highlight(pilot, "a_good.csv")
        await pilot.press("s")
        await wait_until(pilot, lambda: isinstance(pilot.app.screen, SendConfirmScreen))
        await pilot.press("enter")
        await send_done(pilot)

        assert by_name(pilot, "a_good.csv").state is FileState.UNKNOWN
        assert "needs a look in OMAR-Online" in log_text(pilot)
    assert history.recent(limit=1)[0].outcome is Outcome.UNKNOWN


async def test_bytes_whose_last_attempt_is_unknown_need_a_yes_to_go_again(
    make_app, simulator: Simulator, history: History, pending: Path
) -> None:
    import hashlib

    sha = hashlib.sha256((pending / "a_good.csv").read_bytes()).hexdigest()
    record = history.begin(
        environment="sim",
        base_url=simulator.base_url,
        local_path=str(pending / "a_good.csv"),
        name_sent="a_good.csv",
        bytes=10,
        sha256=sha,
    )
    history.finish(record, outcome=Outcome.UNKNOWN, message="cut off")

    async with make_app().run_test(size=SIZE) as pilot:
        await checked(pilot, 4)
        assert by_name(pilot, "a_good.csv").state is FileState.UNKNOWN
        await highlight(pilot, "a_good.csv")
        panel = main_screen(pilot).query_one("#checks", ChecksPanel)
        assert "may have reached OMAR-Online" in panel.text

        await pilot.press("s")
        await wait_until(pilot, lambda: isinstance(pilot.app.screen, ConfirmScreen))
        body = str(pilot.app.screen.query_one(".dialog-text").render())
        assert "may have reached OMAR-Online" in body
        assert "OMAR-Online" in pilot.app.screen.query_one(".dialog").border_title
        await pilot.press("enter")  # the focus is on "Skip them"
        await send_done(pilot)
        assert simulator.received == []
        assert "look them up in OMAR-Online first" in log_text(pilot)

        await pilot.press("s")
        await wait_until(pilot, lambda: isinstance(pilot.app.screen, ConfirmScreen))
        await pilot.press("shift+tab", "enter")  # "Send anyway"
        await wait_until(pilot, lambda: isinstance(pilot.app.screen, SendConfirmScreen))
        await pilot.press("enter")
        await send_done(pilot)
        assert by_name(pilot, "a_good.csv").state is FileState.ACCEPTED

    assert [r.original_name for r in simulator.received] == ["a_good.csv"]
    assert history.recent(limit=1)[0].outcome is Outcome.ACCEPTED


async def test_folder_changes_show_up_and_the_filter_narrows(
    make_app, pending: Path
) -> None:
    async with make_app().run_test(size=SIZE) as pilot:
        await checked(pilot, 4)
        (pending / "e_new.csv").write_text(GOOD.replace("10.5", "15.5"))
        (pending / "a_good.csv").unlink()
        await pilot.press("r")
        await checked(pilot, 4)
        labels = {f.label for f in file_list(pilot).files.values()}
        assert "e_new.csv" in labels and "a_good.csv" not in labels

        (pending / "sub").mkdir()
        (pending / "sub" / "f_deep.csv").write_text(GOOD.replace("10.5", "16.5"))
        await pilot.press("t")  # subfolders on
        await checked(pilot, 5)
        assert by_name(pilot, "sub/f_deep.csv").state is FileState.READY
        await pilot.press("t")  # and off again
        await checked(pilot, 4)

        await pilot.press("slash", *"good")
        assert [f.label for f in file_list(pilot).shown()] == ["b_good.csv"]
        await pilot.press("escape")
        assert file_list(pilot).row_count == 4
        assert file_list(pilot).has_focus


async def test_help_history_and_palette_are_reachable(make_app) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await checked(pilot, 4)
        await pilot.press("f1")
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("escape")
        await pilot.press("h")
        assert type(app.screen).__name__ == "HistoryScreen"
        await pilot.press("escape")
        assert app.screen is main_screen(pilot)

        commands = {c.title: c.help for c in app.get_system_commands(app.screen)}
        wanted = {"Send", "Mark", "Filter", "Copy File Id", "History", "Settings"}
        wanted |= {"Certificate", "Test connection", "Refresh", "Subfolders"}
        assert wanted <= set(commands)
        assert "Stop" not in commands  # nothing is being sent
        assert commands["All ready"] == (
            "Mark every shown file that passed all checks (key: a)"
        )


async def test_a_server_that_cannot_be_reached_is_reported_in_plain_words(
    make_app, sim_settings, history: History
) -> None:
    with socket.socket() as probe:  # a loopback port with nobody listening
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings = sim_settings(
        environments={"sim": Environment("sim", f"https://127.0.0.1:{port}")},
        retries=0,
    )
    app = make_app(settings)
    async with app.run_test(size=SIZE) as pilot:
        await checked(pilot, 4)
        await highlight(pilot, "a_good.csv")
        await pilot.press("s")
        await wait_until(pilot, lambda: isinstance(pilot.app.screen, SendConfirmScreen))
        await pilot.press("enter")
        await send_done(pilot)

        assert "[x] 127.0.0.1 refused the connection - Nothing listens" in (
            log_text(pilot)
        )
        assert app.is_running
        assert by_name(pilot, "a_good.csv").state is FileState.READY
    assert history.count() == 0


async def test_a_missing_certificate_is_shown_not_raised(
    make_app, sim_settings, simulator: Simulator
) -> None:
    app = make_app(sim_settings(cert=None, key=None))
    async with app.run_test(size=SIZE) as pilot:
        await checked(pilot, 4)
        await highlight(pilot, "a_good.csv")
        await pilot.press("s")
        await send_done(pilot)
        assert "No client certificate is configured" in log_text(pilot)
        assert app.is_running
    assert simulator.received == []


def test_header_warns_before_the_certificate_expires() -> None:
    soon = header_text(HeaderInfo("test", "https://x", subject="CN=a", days_left=12))
    later = header_text(HeaderInfo("test", "https://x", subject="CN=a", days_left=90))
    prod = header_text(HeaderInfo("production", "https://x", production=True))
    assert "12 days left" in soon.plain and "90 days left" in later.plain
    assert any("yellow" in str(span.style) for span in soon.spans)
    assert not any("yellow" in str(span.style) for span in later.spans)
    assert prod.plain.startswith(" PRODUCTION ")


def test_the_app_starts_without_the_network_and_crypto_libraries() -> None:
    code = (
        "import sys, omar_tui.tui.app; "
        "print(sorted(m for m in ('httpx', 'bs4', 'cryptography') if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "[]"


async def test_the_file_list_keeps_its_place_among_twenty_thousand_files() -> None:
    from textual.app import App, ComposeResult

    from omar_tui.tui.widgets.file_list import FileList, PendingFile

    def pending(name: str) -> PendingFile:
        return PendingFile(path=Path("/p") / name, label=name, size=1, mtime=0.0)

    class ListApp(App[None]):
        def compose(self) -> ComposeResult:
            yield FileList(id="files")

    app = ListApp()
    async with app.run_test(size=SIZE) as pilot:
        table = app.query_one(FileList)
        table.focus()
        table.put(pending(f"m_{i:05d}.csv") for i in range(0, 40_000, 2))
        assert table.row_count == 20_000
        await pilot.press("G", "up")
        assert table.highlighted is not None
        assert table.highlighted.label == "m_39996.csv"

        # A new file sorts into place; the cursor stays on the same file.
        table.put([pending("m_00001.csv"), pending("M_39997.CSV")])
        assert table.highlighted.label == "m_39996.csv"
        assert [f.label for f in table.shown()[:3]] == [
            "m_00000.csv",
            "m_00001.csv",
            "m_00002.csv",
        ]
        assert table.shown()[-2].label == "M_39997.CSV"

        table.set_filter("3999")
        assert [f.label for f in table.shown()] == [
            "m_39990.csv",
            "m_39992.csv",
            "m_39994.csv",
            "m_39996.csv",
            "M_39997.CSV",
            "m_39998.csv",
        ]
        assert table.highlighted.label == "m_39996.csv"
        table.drop([Path("/p/m_39996.csv")])
        table.set_filter("")
        assert table.row_count == 20_001


async def test_the_file_list_redraws_only_rows_that_changed_on_screen(
    monkeypatch,
) -> None:
    from dataclasses import replace

    from textual.app import App, ComposeResult

    from omar_tui.core.models import CheckReport
    from omar_tui.tui.widgets.file_list import FileList, PendingFile

    def pending(name: str) -> PendingFile:
        return PendingFile(path=Path("/p") / name, label=name, size=1, mtime=0.0)

    class ListApp(App[None]):
        def compose(self) -> ComposeResult:
            yield FileList(id="files")

    built: list[str] = []
    row = FileList._row

    def counting_row(self: FileList, file: PendingFile, width: int, *rest):
        built.append(file.label)
        return row(self, file, width, *rest)

    monkeypatch.setattr(FileList, "_row", counting_row)
    app = ListApp()
    async with app.run_test(size=SIZE) as pilot:
        table = app.query_one(FileList)
        table.focus()
        table.put(pending(f"f_{i:04d}.csv") for i in range(1000))
        await pilot.pause()
        assert 0 < len(built) < 30  # only the rows on screen were drawn

        def checked_copy(file: PendingFile) -> PendingFile:
            report = CheckReport(file.path, file.label, (), size=1)
            return replace(file, report=report)

        # A batch of checks for rows below the screen: nothing is drawn again.
        built.clear()
        table.put(checked_copy(f) for f in table.shown()[500:700])
        await pilot.pause()
        assert built == []

        # One row on screen changes: that row alone is built again.
        table.put([checked_copy(table.shown()[3])])
        await pilot.pause()
        assert built == ["f_0003.csv"]

        # The cursor moves: the two rows whose look changed.
        built.clear()
        await pilot.press("down")
        await pilot.pause()
        assert sorted(built) == ["f_0000.csv", "f_0001.csv"]


async def test_the_footer_shows_settings_at_80_columns(make_app) -> None:
    from textual.widgets._footer import FooterKey

    async with make_app().run_test(size=SIZE) as pilot:
        await checked(pilot, 4)
        await pilot.pause()
        keys = {k.description: k for k in pilot.app.screen.query(FooterKey)}
        assert {"Send", "History", "Settings", "Quit"} <= set(keys)
        palette = [k for k in keys.values() if k.has_class("-command-palette")]
        right_edge = palette[0].region.x if palette else SIZE[0]
        for name in ("Send", "Settings", "Quit", "Help"):
            region = keys[name].region
            assert region.width and region.right <= right_edge, name
