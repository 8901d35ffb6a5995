"""``omar-tui simulator``: run the local OMAR-Online in the foreground.

An operator uses it to check a setup offline: it prints everything needed to
point curl or omar-tui at it (URL, CA, certificate, key, passwords), then
serves until Ctrl-C.
"""

from __future__ import annotations

import shlex
import signal
import sys
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TextIO

import platformdirs

from omar_tui.errors import ExitCode, OmarError
from omar_tui.simulator.faults import FAULT_NAMES
from omar_tui.simulator.server import Simulator, check_loopback


def default_state_dir() -> Path:
    """The simulator's folder under the platform data directory (never /tmp)."""
    return platformdirs.user_data_path("omar-tui") / "simulator"


def describe(sim: Simulator) -> str:
    """What a person needs to use a running simulator, ready to paste."""
    f = sim.files
    q = shlex.quote
    jar = f.state_dir / "curl-cookies.txt"
    curl = (
        f"curl --cacert {q(str(f.ca_cert))} --cert {q(str(f.client_cert))} "
        f"--key {q(str(f.client_key))} -c {q(str(jar))} -b {q(str(jar))}"
    )
    return "\n".join(
        [
            f"OMAR-Online simulator listening on {sim.base_url}",
            f"  session page:        {sim.base_url}{sim.session_path}",
            f"  upload page:         {sim.upload_url}",
            f"  state folder:        {f.state_dir}",
            f"  CA certificate:      {f.ca_cert}",
            f"  client certificate:  {f.client_cert}",
            f"  client key:          {f.client_key}",
            f"  encrypted key:       {f.client_key_encrypted}"
            f"  (password: {f.client_key_password})",
            f"  PKCS#12:             {f.client_p12}  (password: {f.p12_password})",
            "These are throwaway test credentials trusted only by this simulator.",
            "",
            "Try it with curl (open a session, then upload):",
            f"  {curl} {q(sim.base_url + sim.session_path)}",
            f"  {curl} -F datafile=@meter.csv {q(sim.upload_url)}",
            "",
            "Or with omar-tui:",
            f"  omar-tui submit --base-url {q(sim.base_url)} "
            f"--cert {q(str(f.client_cert))} --key {q(str(f.client_key))} "
            f"--ca-bundle {q(str(f.ca_cert))} meter.csv",
            "",
            f"Faults: {', '.join(FAULT_NAMES)}.",
            "Press Ctrl-C to stop.",
        ]
    )


@contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    """Let ``kill`` stop the simulator as cleanly as Ctrl-C does."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def run_simulator(
    port: int,
    state_dir: Path | None,
    host: str = "127.0.0.1",
    faults: Sequence[str] = (),
    *,
    out: TextIO | None = None,
    stop: threading.Event | None = None,
) -> int:
    """Run the simulator until Ctrl-C (or ``stop`` is set), printing how to use it.

    Args:
        port: TCP port (0 for any free one).
        state_dir: The simulator's folder; ``default_state_dir()`` if None.
        host: 127.0.0.1, ::1 or localhost; anything else is refused.
        faults: Faults to switch on, such as ``http_500`` or ``delay=2``.
        out: Where to print (standard output by default).
        stop: Set it to stop the simulator (for embedding and tests).

    Returns:
        The exit code: 0 after a clean stop, 2 for a bad host, fault or port.
    """
    out = out or sys.stdout
    try:
        with _sigterm_as_interrupt():
            sim = _start(port, state_dir, host, faults, out)
            if sim is None:
                return int(ExitCode.USAGE)
            try:
                print(describe(sim), file=out, flush=True)
                if faults:
                    print(f"Faults on: {', '.join(faults)}", file=out, flush=True)
                waiter = stop or threading.Event()
                while not waiter.wait(0.5):
                    pass
            finally:
                sim.stop()
    except KeyboardInterrupt:
        print("\nStopped.", file=out, flush=True)
    return int(ExitCode.OK)


def _start(
    port: int,
    state_dir: Path | None,
    host: str,
    faults: Sequence[str],
    out: TextIO,
) -> Simulator | None:
    """Make and start the simulator, or print why not and return None."""
    folder = state_dir or default_state_dir()
    try:
        check_loopback(host)
        sim = Simulator(folder, host, port)
        for spec in faults:
            sim.faults.set(spec)
    except OmarError as exc:
        print(f"error: {exc.title}", file=out)
        if exc.hint:
            print(exc.hint, file=out)
        return None
    except ValueError as exc:
        print(f"error: {exc}", file=out)
        return None
    except OSError as exc:
        print(f"error: the simulator cannot use its folder {folder}: {exc}", file=out)
        print("Choose another folder with --state-dir.", file=out)
        return None

    try:
        return sim.start()
    except OSError as exc:
        print(f"error: the simulator cannot listen on port {port}: {exc}", file=out)
        print("Choose another port with --port.", file=out)
        return None
