"""Entry point of the ``omar-tui`` command.

With no subcommand it opens the TUI; every subcommand runs headless. This
module turns every :class:`OmarError` into its message and exit code, and any
other exception into one line pointing at the log file, so no traceback ever
reaches an operator.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from omar_tui import __version__
from omar_tui.cli.output import print_error
from omar_tui.errors import ExitCode, OmarError

log = logging.getLogger("omar_tui.cli")

# Until a command sets up the log file, records go nowhere: never to the terminal.
logging.getLogger("omar_tui").addHandler(logging.NullHandler())

EXIT_CODES_HELP = """\
exit codes:
  0  every file accepted (check: nothing blocks)
  1  some file rejected by OMAR-Online or not delivered
  2  usage, settings, certificate or passphrase error: nothing was sent
  3  some file blocked by the checks (or already accepted) and not sent
  4  some file's outcome is unknown: look it up in OMAR-Online before resending
130  interrupted
"""


def _connection_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("connection")
    group.add_argument("--env", metavar="NAME", help="environment from the settings")
    group.add_argument("--base-url", metavar="URL", help="server URL instead of --env")
    group.add_argument("--cert", type=Path, metavar="P", help=".p12/.pfx or PEM file")
    group.add_argument("--key", type=Path, metavar="P", help="PEM private key")
    group.add_argument("--ca-bundle", type=Path, metavar="P", help="CA bundle (PEM)")


class _Commands:
    """Subcommands that all take ``-v`` and ``--profile`` after their name too.

    The copies use ``SUPPRESS`` as default so a subcommand never overwrites
    what was given before its name (``omar-tui --profile east submit ...``).
    """

    def __init__(self, action: argparse._SubParsersAction[Any]) -> None:
        self._action = action
        self._common = argparse.ArgumentParser(add_help=False)
        self._common.add_argument(
            "-v",
            "--verbose",
            action="store_true",
            default=argparse.SUPPRESS,
            help="also log to stderr",
        )
        self._common.add_argument(
            "--profile",
            metavar="NAME",
            default=argparse.SUPPRESS,
            help="certificate/account profile",
        )

    def add_parser(self, name: str, **kwargs: Any) -> argparse.ArgumentParser:
        parser: argparse.ArgumentParser = self._action.add_parser(
            name, parents=[self._common], **kwargs
        )
        return parser


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="omar-tui",
        description="Send meter data files to CAISO OMAR-Online. "
        "Without a command, opens the terminal app.",
        epilog=EXIT_CODES_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--version", action="version", version=f"omar-tui {__version__}"
    )
    parser.add_argument(
        "-v", "--verbose", action="store_true", help="also log to stderr"
    )
    parser.add_argument(
        "--profile",
        metavar="NAME",
        help="certificate/account profile (default: $OMAR_TUI_PROFILE or default)",
    )
    parser.add_argument("--env", metavar="NAME", help="environment to open the app on")
    commands = _Commands(parser.add_subparsers(dest="command", metavar="COMMAND"))

    check = commands.add_parser("check", help="run the pre-flight checks only")
    check.add_argument("files", nargs="+", type=Path, metavar="FILE")
    check.add_argument("--json", action="store_true", help="one JSON object a file")

    submit = commands.add_parser(
        "submit",
        help="check and send files",
        epilog=EXIT_CODES_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    submit.add_argument("files", nargs="+", type=Path, metavar="FILE")
    _connection_options(submit)
    submit.add_argument(
        "--dry-run", action="store_true", help="everything but the upload itself"
    )
    submit.add_argument("--json", action="store_true", help="one JSON object a file")
    submit.add_argument(
        "--allow-resend",
        action="store_true",
        help="send bytes already accepted in this environment again",
    )

    history = commands.add_parser("history", help="list past submissions")
    history.add_argument("--json", action="store_true", help="one JSON object a row")
    history.add_argument("--limit", type=int, default=50, metavar="N")
    history.add_argument("--search", metavar="TEXT", help="name, File Id or date")
    history.add_argument("--since", metavar="YYYY-MM-DD", help="from this UTC day")
    history.add_argument("--until", metavar="YYYY-MM-DD", help="to this UTC day")
    history.add_argument(
        "--outcome",
        action="append",
        metavar="NAME",
        help="accepted, rejected, blocked, failed, unknown or pending (repeatable)",
    )
    history.add_argument("--env", metavar="NAME", help="only this environment")
    history.add_argument(
        "--all-profiles",
        action="store_true",
        help="every profile's records (default: the active profile's)",
    )
    history.add_argument(
        "--export",
        choices=("csv", "json"),
        help="every matching record, oldest first, as CSV or one JSON array",
    )
    history.add_argument(
        "--output", type=Path, metavar="FILE", help="write the export here"
    )
    history.add_argument(
        "--force", action="store_true", help="let --output replace a file"
    )

    commands.add_parser("paths", help="where settings, history and logs live")

    profiles = commands.add_parser(
        "profiles", help="list profiles, or add one with its own settings"
    )
    profiles.add_argument(
        "action", nargs="?", choices=("list", "add"), default="list", help="list|add"
    )
    profiles.add_argument("name", nargs="?", metavar="NAME", help="profile to add")

    cert = commands.add_parser(
        "cert", help="show the client certificate: subject, issuer, serial, validity"
    )
    cert.add_argument("--cert", type=Path, metavar="P", help=".p12/.pfx or PEM file")
    cert.add_argument("--key", type=Path, metavar="P", help="PEM private key")
    cert.add_argument("--json", action="store_true", help="one JSON object")

    watch = commands.add_parser(
        "watch",
        help="send files as they land in a folder (cron or a service)",
        description="Each cycle sends the files whose size and time have not "
        "changed for --stable-seconds, then files them away per after_send. "
        "Blocked files are reported once. With --once, files not yet stable "
        "are reported as waiting and do not affect the exit code.",
        epilog=EXIT_CODES_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    watch.add_argument(
        "folder", nargs="?", type=Path, metavar="FOLDER", help="default: pending_folder"
    )
    _connection_options(watch)
    watch.add_argument("--once", action="store_true", help="one cycle, then exit")
    watch.add_argument(
        "--stable-seconds",
        type=float,
        default=10.0,
        metavar="N",
        help="unchanged this long before sending (default 10)",
    )
    watch.add_argument(
        "--interval",
        type=float,
        default=30.0,
        metavar="N",
        help="seconds between cycles (default 30)",
    )

    doctor = commands.add_parser(
        "doctor", help="test settings, certificate and connection; uploads nothing"
    )
    _connection_options(doctor)

    simulator = commands.add_parser(
        "simulator", help="run a local OMAR-Online on 127.0.0.1 for trials"
    )
    simulator.add_argument("--port", type=int, default=8443)
    simulator.add_argument("--state-dir", type=Path, metavar="DIR")
    simulator.add_argument(
        "--fault", action="append", default=[], metavar="NAME", help="inject a fault"
    )

    demo = commands.add_parser("demo", help="the app on sample files and a simulator")
    demo.add_argument(
        "--passphrase",
        action="store_true",
        help="use an encrypted key, to try the passphrase dialog",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line and return its exit code."""
    _tolerant_output()
    args = build_parser().parse_args(argv)
    command = args.command or "tui"
    try:
        return int(_dispatch(command)(args))
    except OmarError as error:
        log.info("%s failed: %s", command, error.title)
        print_error(error)
        return int(error.exit_code)
    except KeyboardInterrupt:
        print("omar-tui: interrupted; see `omar-tui history`.", file=sys.stderr)
        return int(ExitCode.INTERRUPTED)
    except Exception:
        return _internal_error(command)


def _tolerant_output() -> None:
    """Print any file name, even one that is not valid UTF-8.

    Such a name holds surrogates (``os.fsdecode``); a strict UTF-8 stdout
    (any real UTF-8 locale) would fail on it and lose the whole report.
    They are shown escaped instead (``\\udcff``), which JSON reads back.
    """
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None and stream.errors == "strict":
            with contextlib.suppress(ValueError, OSError):
                reconfigure(errors="backslashreplace")


def _dispatch(command: str) -> Callable[[argparse.Namespace], int]:
    # Imported per command so that `check` never loads httpx and the TUI path
    # never loads what it does not draw.
    if command == "check":
        from omar_tui.cli.commands import run_check

        return run_check
    if command == "submit":
        from omar_tui.cli.commands import run_submit

        return run_submit
    if command == "history":
        from omar_tui.cli.commands import run_history

        return run_history
    if command == "doctor":
        from omar_tui.cli.commands import run_doctor

        return run_doctor
    if command == "watch":
        from omar_tui.cli.watch_command import run_watch

        return run_watch
    if command == "profiles":
        from omar_tui.cli.commands import run_profiles

        return run_profiles
    if command == "cert":
        from omar_tui.cli.commands import run_cert

        return run_cert
    if command == "paths":
        from omar_tui.cli.commands import run_paths

        return run_paths
    if command == "simulator":
        from omar_tui.cli.commands import run_simulator

        return run_simulator
    if command == "demo":
        from omar_tui.cli.commands import run_demo

        return run_demo
    from omar_tui.cli.commands import run_app

    return run_app


def _internal_error(command: str) -> int:
    """A bug: keep the traceback in the log, give the operator one plain line."""
    from omar_tui.core.logs import setup_logging
    from omar_tui.core.paths import AppPaths

    log_file = AppPaths.resolve().log_file
    # Idempotent: a command that got as far as logging keeps its handler.
    with contextlib.suppress(Exception):
        setup_logging(log_file)
    log.exception("internal error in %s", command)
    print(
        f"omar-tui: internal error in {command!r}; nothing more was sent. "
        f"Details are in {log_file}.",
        file=sys.stderr,
    )
    return int(ExitCode.USAGE)
