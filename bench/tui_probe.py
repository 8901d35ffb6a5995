"""Runs a Textual app headless in this process and reports on its frames.

Started as a subprocess by ``bench_startup.py`` and ``bench_folder.py``, so
each run pays Python's start-up and the imports, as an operator does:

    python bench/tui_probe.py omar     # omar-tui as `omar-tui` opens it
    python bench/tui_probe.py bare     # a bare Textual app, same kinds of widgets
    python bench/tui_probe.py folder   # omar-tui on a big pending folder

``omar`` and ``bare`` print one JSON line when the first frame has been
composed and handed to the (headless) driver, then leave at once with
``os._exit`` so the parent's ``wait4`` sees the peak memory up to that
frame. ``folder`` drives the app with a Pilot: first rows drawn, key
presses while the checks run, and all checks done.

Every run refuses to resolve or connect to anything but loopback.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import os
import socket
import sys
import time
from pathlib import Path
from typing import Any

SIZE = (120, 36)
HEAVY = ("httpx", "bs4", "cryptography")


def loopback_only() -> None:
    """Make any attempt to reach another host fail at once."""
    real_getaddrinfo = socket.getaddrinfo
    real_connect = socket.socket.connect

    def is_loopback(host: Any) -> bool:
        host = str(host).strip("[]").lower()
        if host in ("localhost", "none"):
            return True
        try:
            return ipaddress.ip_address(host.split("%")[0]).is_loopback
        except ValueError:
            return False

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        if host is not None and not is_loopback(host):
            raise socket.gaierror(f"benchmarks may not resolve {host!r}")
        return real_getaddrinfo(host, *args, **kwargs)

    def connect(sock: socket.socket, address: Any) -> None:
        inet = sock.family in (socket.AF_INET, socket.AF_INET6)
        if inet and not is_loopback(address[0]):
            raise ConnectionRefusedError(f"benchmarks may not connect to {address}")
        real_connect(sock, address)

    socket.getaddrinfo = getaddrinfo
    socket.socket.connect = connect  # type: ignore[method-assign,assignment]


def peak_rss_kb() -> int | None:
    """This process image's peak RSS (VmHWM), or None off Linux.

    ``ru_maxrss`` (self or children) also counts the parent's RSS at fork
    time on Linux, which a parent holding a big benchmark would inflate.
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return None


def report_first_frame_and_exit() -> None:
    """Patch Textual so the first composed frame prints a report and exits."""
    from textual.app import App

    original = App._display

    def display(self: App[Any], screen: Any, renderable: Any) -> None:
        original(self, screen, renderable)
        if renderable is None or self._batch_count:
            return
        import resource

        record = {
            "frame": time.monotonic(),
            "heavy_modules": [m for m in HEAVY if m in sys.modules],
            "modules": len(sys.modules),
            "rss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
            "hwm_kb": peak_rss_kb(),
        }
        sys.stdout.write(json.dumps(record) + "\n")
        sys.stdout.flush()
        os._exit(0)

    App._display = display  # type: ignore[method-assign]


def headless_run() -> None:
    """Make ``App.run()`` (as ``run_tui`` calls it) headless, at a fixed size."""
    from textual.app import App

    original = App.run

    def run(self: App[Any], *args: Any, **kwargs: Any) -> Any:
        kwargs["headless"] = True
        kwargs["size"] = SIZE
        return original(self, *args, **kwargs)

    App.run = run  # type: ignore[method-assign]


def run_omar() -> int:
    """``omar-tui`` with no command, exactly as the console script runs it."""
    report_first_frame_and_exit()
    headless_run()
    from omar_tui.cli.main import main

    return main([])


def run_bare() -> int:
    """A bare Textual app with the same kinds of widgets as the main screen."""
    report_first_frame_and_exit()
    from textual.app import App, ComposeResult
    from textual.widgets import DataTable, Footer, Header, RichLog, Static

    class Bare(App[None]):
        BINDINGS = [("q", "quit", "Quit"), ("s", "send", "Send")]  # noqa: RUF012

        def compose(self) -> ComposeResult:
            yield Header()
            yield DataTable(id="files")
            yield Static("Checks: nothing selected", id="checks")
            yield RichLog(id="log")
            yield Footer()

        def on_mount(self) -> None:
            table = self.query_one(DataTable)
            table.add_columns("State", "Name", "Size", "Age")
            for n in range(10):
                table.add_row("ok", f"meter_20260504_sc{n:02d}.csv", "1,234", "12m")
            self.query_one(RichLog).write("Ready.")

    Bare().run(headless=True, size=SIZE)
    return 0


def press_down(app: Any) -> None:
    """A ``down`` key arriving as a terminal's would: through the driver.

    Not ``Pilot.press``, which also waits for the whole app to go idle, and
    the app is not idle while a scan feeds it rows.
    """
    from textual import events

    key = events.Key("down", None)
    key.set_sender(app)
    app._driver.send_message(key)


async def drive_folder(folder: Path, presses: int) -> dict[str, Any]:
    """omar-tui on ``folder``: rows drawn, keys answered, checks done."""
    from textual.app import App

    from omar_tui.core.history import History
    from omar_tui.core.paths import AppPaths
    from omar_tui.core.settings import Environment, Settings
    from omar_tui.tui.app import OmarApp
    from omar_tui.tui.widgets.file_list import FileList

    frames: list[tuple[float, int, int]] = []
    """(time, rows shown, cursor) of every frame composed."""
    original = App._display

    def display(self: App[Any], screen: Any, renderable: Any) -> None:
        original(self, screen, renderable)
        if renderable is not None and not self._batch_count:
            try:
                files = self.screen.query_one("#files", FileList)
            except Exception:
                return
            frames.append((time.monotonic(), files.row_count, files.cursor))

    App._display = display  # type: ignore[method-assign]

    total = sum(1 for _ in folder.iterdir())
    paths = AppPaths.resolve().ensure()
    local = Environment("simulator", "https://127.0.0.1:9")  # never contacted
    settings = Settings(
        environment="simulator",
        environments={"simulator": local},
        pending_folder=folder,
    )
    started = time.monotonic()
    with History(paths.history_db) as history:
        app = OmarApp(paths, settings, history)
        async with app.run_test(headless=True, size=SIZE):
            files = app.screen.query_one("#files", FileList)
            while not any(rows for _, rows, _ in frames):
                await asyncio.sleep(0.002)
            first_frame = frames[0][0] - started
            first_rows = next(t for t, rows, _ in frames if rows) - started

            main = app.screen

            def checking() -> bool:
                # The screen's own flag: cheaper to poll than counting 20,000
                # reports, which would steal time from the app being measured.
                flag = getattr(main, "_scanning", None)
                if flag is not None:
                    return bool(flag)
                return any(f.report is None for f in files.files.values())

            latencies: list[float] = []
            pressed_while_checking = 0
            for _ in range(presses):
                before = files.cursor
                pressed = time.monotonic()
                press_down(app)
                while not any(
                    t >= pressed and cursor != before for t, _, cursor in frames
                ):
                    await asyncio.sleep(0.001)
                drawn = next(
                    t for t, _, cursor in frames if t >= pressed and cursor != before
                )
                latencies.append(drawn - pressed)
                if checking():
                    pressed_while_checking += 1
                await asyncio.sleep(0.05)

            while checking():
                await asyncio.sleep(0.01)
            done = time.monotonic() - started
            checked = sum(1 for f in files.files.values() if f.report is not None)
    return {
        "files": total,
        "first_frame": first_frame,
        "first_rows_drawn": first_rows,
        "key_latencies": latencies,
        "presses_while_checking": pressed_while_checking,
        "all_checked": done,
        "checked": checked,
    }


def main() -> int:
    loopback_only()
    mode = sys.argv[1]
    if mode == "omar":
        return run_omar()
    if mode == "bare":
        return run_bare()
    if mode == "folder":
        result = asyncio.run(drive_folder(Path(sys.argv[2]), int(sys.argv[3])))
        print(json.dumps(result))
        return 0
    raise SystemExit(f"unknown mode {mode!r}")


if __name__ == "__main__":
    raise SystemExit(main())
