"""Telling a dead sender from a slow one, for records still marked pending.

A record is written ``pending`` before its file leaves. If the process that
wrote it is gone, no reply will ever complete it, and the file may or may
not have reached OMAR-Online: such a record reads as ``unknown``. Each
record keeps the pid and host of its writer; only a writer on this machine
can be checked, so a pending record from another host reads as unknown too.
"""

from __future__ import annotations

import os
from pathlib import Path

UNKNOWN_MESSAGE = (
    "The process sending this file stopped before a reply arrived; "
    "look the file up in OMAR-Online before sending it again."
)
"""Shown for a pending record whose process is gone."""


def writer_alive(pid: int, host: str, this_host: str) -> bool:
    """True when the record's writer runs on this machine and has not stopped."""
    return host == this_host and pid_alive(pid)


def pid_alive(pid: int) -> bool:
    """True when a process with this id runs on this machine (zombies: no)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process

    try:  # a killed child not yet reaped still answers kill(0)
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat.rpartition(")")[2].split()[:1] != ["Z"]
