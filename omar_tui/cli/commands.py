"""The headless commands. Each takes parsed arguments and returns an exit code."""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import signal
import ssl
import sys
from typing import TYPE_CHECKING

from omar_tui.cli.output import (
    exit_code_for,
    print_json,
    print_report,
    print_submission,
    submission_record,
)
from omar_tui.core.checks import check_file
from omar_tui.core.models import CheckReport, Outcome, Submission
from omar_tui.core.paths import DEFAULT_PROFILE, AppPaths
from omar_tui.core.settings import Settings, load_settings
from omar_tui.errors import ExitCode, SettingsError, UsageError

if TYPE_CHECKING:
    from omar_tui.core.connection import Target
    from omar_tui.core.history import History
    from omar_tui.core.sender import Sender, SendEvent, SendRequest


def setup_command(
    args: argparse.Namespace, *, need_profile: bool = True
) -> tuple[AppPaths, Settings]:
    """Create the config folder, start the log file and read the settings.

    Also records the active profile in ``args.active_profile`` for the
    commands that filter or label by profile.
    """
    from omar_tui.core.logs import setup_logging

    paths = resolve_paths(args)
    try:
        paths.ensure()
    except OSError as exc:
        raise SettingsError(
            f"Cannot create the config folder {paths.config_dir}: {exc.strerror}",
            "Set OMAR_TUI_CONFIG_DIR to a folder you can write to.",
        ) from exc
    setup_logging(paths.log_file, verbose=args.verbose)
    args.active_profile = paths.profile
    missing = paths.profile != DEFAULT_PROFILE and not paths.settings_file.exists()
    if missing and not need_profile:
        print(
            f"omar-tui: there is no profile called {paths.profile!r} (known: "
            f"{', '.join(paths.profiles())}); showing its records, if any.",
            file=sys.stderr,
        )
    if missing and need_profile:
        raise SettingsError(
            f"There is no profile called {paths.profile!r}.",
            f"Known profiles: {', '.join(paths.profiles())}. Create it with "
            f"`omar-tui profiles add {paths.profile}`.",
        )
    return paths, load_settings(paths.settings_file)


def resolve_paths(args: argparse.Namespace) -> AppPaths:
    """The state paths for the profile named on the command line, if any."""
    return AppPaths.resolve(profile=getattr(args, "profile", None))


def run_check(args: argparse.Namespace) -> int:
    _paths, settings = setup_command(args)
    reports = [check_file(path, limits=settings.limits) for path in args.files]
    for report in reports:
        if args.json:
            print_json(_report_record(report))
        else:
            print_report(report)
    return int(ExitCode.BLOCKED if any(r.blocked for r in reports) else ExitCode.OK)


def _report_record(report: CheckReport) -> dict[str, object]:
    return {
        "file": str(report.path),
        "name": report.name,
        "bytes": report.size,
        "sha256": report.sha256,
        "blocked": report.blocked,
        "findings": [
            {
                "rule": f.rule,
                "severity": f.severity.value,
                "message": f.message,
                "fix": f.fix,
                "line": f.line,
            }
            for f in report.findings
        ],
    }


def run_submit(args: argparse.Namespace) -> int:
    paths, settings = setup_command(args)
    from omar_tui.core.connection import resolve_target

    target = resolve_target(settings, args.env, args.base_url)
    reports = [check_file(path, limits=settings.limits) for path in args.files]
    if not args.json:
        for report in reports:
            if report.findings:
                print_report(report, sys.stderr)

    results, stopped = asyncio.run(_submit(args, paths, settings, target, reports))
    code = exit_code_for([r.outcome for r in results])
    if stopped and code is not ExitCode.UNKNOWN:
        return int(ExitCode.INTERRUPTED)
    return int(code)


async def _submit(
    args: argparse.Namespace,
    paths: AppPaths,
    settings: Settings,
    target: Target,
    reports: list[CheckReport],
) -> tuple[list[Submission], bool]:
    """Send the files in order; returns the results and whether it was stopped."""
    from omar_tui.core.sender import Sender, SendRequest, blocked_submission, not_sent

    requests = [SendRequest(r, allow_resend=args.allow_resend) for r in reports]
    if all(r.blocked for r in reports):
        # Nothing could go: no passphrase prompt, no connection.
        blocked = [blocked_submission(r, target) for r in requests]
        for result in blocked:
            _print_result(args, result)
        return blocked, False

    history = open_history(paths, sending=not args.dry_run)
    ssl_context = ssl_context_for(args, settings)
    sender = Sender(
        settings=settings,
        history=history,
        target=target,
        ssl_context=ssl_context,
        lock_dir=paths.lock_dir,
        profile=paths.profile,
        listener=_print_event,
    )
    # SIGTERM (cron, systemd) finishes the file in flight, then stops.
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, sender.request_stop)

    results: list[Submission] = []
    with history:
        async with sender:
            try:
                for request in requests:
                    if sender.stop_requested:
                        why = "Not sent: stopped on request."
                        result = not_sent(request, target, why)
                    elif args.dry_run:
                        result = await sender.dry_run(request)
                    else:
                        result = await sender.send(request)
                    _print_result(args, result)
                    results.append(result)
            except asyncio.CancelledError:
                _report_interruption(args, sender, requests[len(results) :], target)
                raise
    if sender.stop_requested:
        print("omar-tui: stopped on request.", file=sys.stderr)
    return results, sender.stop_requested


def _report_interruption(
    args: argparse.Namespace,
    sender: Sender,
    unfinished: list[SendRequest],
    target: Target,
) -> None:
    """Ctrl-C: name the file whose outcome is now unknown, list the rest."""
    from omar_tui.core.models import Outcome
    from omar_tui.core.sender import LOOK_IT_UP, not_sent

    interrupted = sender.interrupted
    for request in unfinished:
        result = not_sent(request, target, "Not sent: interrupted.")
        if interrupted is not None and request.name_to_send == interrupted:
            result = dataclasses.replace(
                result,
                outcome=Outcome.UNKNOWN,
                message=f"Sending was interrupted. {LOOK_IT_UP}",
            )
            interrupted = None
        _print_result(args, result)
    if sender.interrupted is not None:
        print(
            f"omar-tui: interrupted while sending {sender.interrupted}: it may "
            "have reached OMAR-Online. Look it up there before sending it again.",
            file=sys.stderr,
        )


def _print_result(args: argparse.Namespace, result: Submission) -> None:
    """One file's result as soon as it is known, so a killed run loses no line."""
    if not args.json:
        print_submission(result)
        return
    record = submission_record(result)
    if args.dry_run:
        record["dry_run"] = True
    print_json(record)


def open_history(paths: AppPaths, *, sending: bool = False) -> History:
    """Open the history, telling the operator if a damaged one was moved aside.

    Args:
        paths: Where the history lives.
        sending: The caller is about to send. A fresh history knows no earlier
            submission, so the run that finds the damage sends nothing: the
            operator hears of it before a file can go out twice.

    Raises:
        HistoryError: ``sending`` and the history was just replaced.
    """
    from omar_tui.core.history import History
    from omar_tui.errors import HistoryError

    history = History(paths.history_db)
    moved_to = history.unconfirmed_recovery
    if moved_to is None:
        return history
    moved = (
        f"The history database was damaged; it was moved to {moved_to} and a "
        "new one started."
    )
    if sending:
        history.confirm_recovery()
        raise HistoryError(
            f"{moved} Nothing was sent.",
            "The new history does not know what was sent before, so it cannot "
            "stop a file going twice. Check recent submissions in OMAR-Online "
            "(the old database may still open with the sqlite3 tool), then run "
            "again.",
        )
    print(f"omar-tui: {moved}", file=sys.stderr)
    return history


def _print_event(event: SendEvent) -> None:
    """Retries, re-checks and moves on stderr; results are printed by the caller."""
    from omar_tui.core.sender import EventKind

    if event.kind in (EventKind.RETRY, EventKind.RECHECKED, EventKind.FILED):
        print(f"omar-tui: {event.message}", file=sys.stderr, flush=True)


def ssl_context_for(args: argparse.Namespace, settings: Settings) -> ssl.SSLContext:
    """The TLS context of a headless run, asking for a passphrase only if needed.

    Also warns on stderr when the certificate expires within 30 days, so cron
    mail carries the warning long before uploads start failing.
    """
    from omar_tui.core.certificates import expiry_warning, summarize
    from omar_tui.core.connection import (
        identity_from,
        make_ssl_context,
        require_identity,
    )
    from omar_tui.core.passphrase import get_passphrase
    from omar_tui.core.tls import needs_passphrase

    identity = require_identity(identity_from(settings, args.cert, args.key))
    passphrase = (
        get_passphrase(str(identity.cert)) if needs_passphrase(identity) else None
    )
    ssl_context = make_ssl_context(
        settings, identity=identity, ca_bundle=args.ca_bundle, passphrase=passphrase
    )
    warning = expiry_warning(summarize(identity, passphrase))
    if warning:
        print(f"omar-tui: {warning}", file=sys.stderr)
    return ssl_context


def run_history(args: argparse.Namespace) -> int:
    # A profile's records stay readable after its settings file is gone.
    paths, _settings = setup_command(args, need_profile=False)
    from omar_tui.cli import export
    from omar_tui.core.history import HistoryFilter

    if args.limit < 1:
        raise UsageError("--limit must be 1 or more.")
    export.check_export_args(args)
    filters = export.filters_from_args(args)
    history = open_history(paths)  # says where a damaged one was moved

    if args.export is not None:  # every matching record, oldest first
        rows = history.iter_query(filters)
        if args.output is None:
            export.export_to_stdout(rows, args.export)
        else:
            count = export.export_to_file(
                rows, args.export, args.output, force=args.force
            )
            print(f"Exported {count:,} records to {args.output}.", file=sys.stderr)
        return int(ExitCode.OK)

    listed = history.query(filters, limit=args.limit)
    if listed and not args.json:
        print(_HISTORY_HEADINGS)
    for row in listed:
        if args.json:
            print_json(submission_record(row))
        else:
            print(_history_line(row))
    if not listed and not args.json:
        filtered = filters != HistoryFilter()
        print(
            "No submissions match." if filtered else "No submissions yet.",
            file=sys.stderr,
        )
    return int(ExitCode.OK)


_HISTORY_HEADINGS = (
    f"{'started (UTC)':<29}  {'environment':<10} {'outcome':<9} {'File Id':>8}  "
    "name sent  message"
)


def _history_line(row: Submission) -> str:
    outcome = row.outcome.value
    if row.outcome is Outcome.UNKNOWN:
        outcome = outcome.upper()
    note = "" if row.outcome is Outcome.ACCEPTED else row.message
    return (
        f"{row.started_at}  {row.environment:<10} {outcome:<9} "
        f"{row.file_id or '-':>8}  {row.name_sent}  {note}"
    ).rstrip()


def run_doctor(args: argparse.Namespace) -> int:
    from omar_tui.errors import OmarError

    paths = resolve_paths(args)
    try:
        paths.ensure()
        from omar_tui.core.logs import setup_logging

        setup_logging(paths.log_file, verbose=args.verbose)
        settings = load_settings(paths.settings_file)
    except OmarError as exc:
        _print_step("Settings", False, exc.title, exc.hint)
        return int(ExitCode.USAGE)
    return asyncio.run(_doctor(args, settings))


async def _doctor(args: argparse.Namespace, settings: Settings) -> int:
    from omar_tui.core.connection import identity_from
    from omar_tui.core.doctor import run_doctor
    from omar_tui.core.passphrase import get_passphrase
    from omar_tui.core.tls import needs_passphrase

    passphrase = None
    identity = identity_from(settings, args.cert, args.key)
    if identity is not None and identity.cert.exists() and needs_passphrase(identity):
        passphrase = get_passphrase(str(identity.cert))

    failed = False
    async for step in run_doctor(
        settings,
        environment=args.env,
        base_url=args.base_url,
        cert=args.cert,
        key=args.key,
        ca_bundle=args.ca_bundle,
        passphrase=passphrase,
    ):
        _print_step(step.name, step.ok, step.detail, step.fix, warning=step.warning)
        failed = failed or not step.ok
    return int(ExitCode.SOME_FAILED if failed else ExitCode.OK)


def _print_step(
    name: str, ok: bool, detail: str, fix: str, *, warning: bool = False
) -> None:
    mark = "[ok]  " if ok and not warning else "[warn]" if ok else "[FAIL]"
    print(f"{mark} {name}: {detail}", flush=True)
    if fix and (warning or not ok):
        print(f"       fix: {fix}", flush=True)


def run_cert(args: argparse.Namespace) -> int:
    _paths, settings = setup_command(args)
    from omar_tui.core.certificates import expiry_warning, summarize
    from omar_tui.core.connection import identity_from, require_identity
    from omar_tui.core.passphrase import get_passphrase
    from omar_tui.core.tls import needs_passphrase

    identity = require_identity(identity_from(settings, args.cert, args.key))
    passphrase = (
        get_passphrase(str(identity.cert)) if needs_passphrase(identity) else None
    )
    summary = summarize(identity, passphrase)
    fields = {
        "file": str(identity.cert),
        "subject": summary.subject,
        "issuer": summary.issuer,
        "serial": summary.serial,
        "not_before": summary.not_before.isoformat(),
        "not_after": summary.not_after.isoformat(),
        "days_left": summary.days_left,
        "fingerprint_sha256": summary.fingerprint_sha256,
    }
    if args.json:
        print_json(fields)
    else:
        for name, value in fields.items():
            print(f"{name.replace('_', ' ') + ':':<20}{value}")
    warning = expiry_warning(summary)
    if warning:
        print(f"omar-tui: {warning}", file=sys.stderr)
    return int(ExitCode.SOME_FAILED if summary.expired else ExitCode.OK)


def run_profiles(args: argparse.Namespace) -> int:
    paths = resolve_paths(args)
    if args.action == "list":
        for name in paths.profiles():
            mark = "*" if name == paths.profile else " "
            print(f"{mark} {name}")
        return int(ExitCode.OK)

    if not args.name:
        raise UsageError("Name the profile to add: omar-tui profiles add NAME")
    new = AppPaths.resolve(profile=args.name)
    if new.profile == DEFAULT_PROFILE or new.settings_file.exists():
        raise UsageError(f"The profile {new.profile!r} exists already.")
    new.ensure()
    from omar_tui.core.settings import save_settings

    # Start from the active profile's settings: most sites change only the
    # certificate (and maybe the pending folder) between accounts.
    _current_paths, settings = setup_command(args)
    save_settings(settings, new.settings_file)
    print(f"Profile {new.profile!r} created: edit {new.settings_file}")
    return int(ExitCode.OK)


def run_paths(args: argparse.Namespace) -> int:
    paths = resolve_paths(args)
    print(f"profile:          {paths.profile}")
    print(f"config folder:    {paths.config_dir}")
    print(f"settings file:    {paths.settings_file}")
    print(f"history database: {paths.history_db}")
    print(f"log file:         {paths.log_file}")
    return int(ExitCode.OK)


def run_simulator(args: argparse.Namespace) -> int:
    from omar_tui.core.logs import setup_logging
    from omar_tui.simulator.cli import run_simulator as run

    paths = AppPaths.resolve()
    paths.ensure()
    setup_logging(paths.log_file, verbose=args.verbose)
    return run(port=args.port, state_dir=args.state_dir, faults=args.fault)


def run_demo(args: argparse.Namespace) -> int:
    from omar_tui.demo import run_demo as run

    return run(passphrase=args.passphrase)


def run_app(args: argparse.Namespace) -> int:
    paths, _settings = setup_command(args)
    from omar_tui.tui.app import run_tui

    return run_tui(paths, environment=args.env)
