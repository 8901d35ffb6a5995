"""The submission history: one SQLite record per file sent, kept for audit.

Import from here; the modules behind it are split by concern so each can be
read in one sitting:

- ``store``: :class:`History`, the records' reads and writes (start here).
- ``queries``: :class:`HistoryFilter` and the index-pinned search SQL.
- ``liveness``: whether the writer of a pending record is still running.
- ``schema``: the tables, indexes and migrations.
- ``database``: opening the file shared by processes (0600, WAL, busy wait).
- ``recovery``: moving a broken file aside and starting a new one.

:func:`_now` stamps every record. It lives here, and ``store`` looks it up
here at each call, so a test or a demo scene fixes the clock for the whole
package by patching ``omar_tui.core.history._now``.
"""

from __future__ import annotations

from datetime import UTC, datetime

from omar_tui.core.history.liveness import UNKNOWN_MESSAGE, pid_alive
from omar_tui.core.history.queries import HistoryFilter, matching_ids
from omar_tui.core.history.schema import COLUMNS
from omar_tui.core.history.store import RAW_REPLY_LIMIT, History, cap_reply

__all__ = [
    "RAW_REPLY_LIMIT",
    "UNKNOWN_MESSAGE",
    "History",
    "HistoryFilter",
    "cap_reply",
    "pid_alive",
]


def _now() -> str:
    """Now in UTC, ISO 8601 to the millisecond: the time stamped on a record."""
    return datetime.now(UTC).isoformat(timespec="milliseconds")


# Names the benchmark and the search-plan test reach in for, from before the split.
_COLUMNS = COLUMNS
_matching_ids = matching_ids
