"""Turning a search box and export filters into SQL that stays on its indexes.

Searching a million records stays fast because each kind of search has its
own index (see :mod:`omar_tui.core.history.schema`): names through a
covering index on ``name_sent`` (a substring match scans that narrow index,
not the table with its stored replies), File Ids and dates through ordinary
lookups and ranges. Pages are ordered by id, the insertion order, which
needs no sort. Only constants go into the SQL text; every value the
operator typed is a parameter.

Times are ISO 8601 in UTC, so a date search such as ``2026-12-04`` means
the UTC day.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from omar_tui.core.models import Outcome, Submission

_DATE = re.compile(r"\d{4}(-\d{2}(-\d{2}([T ]\d{2}(:\d{2})?)?)?)?")


@dataclass(frozen=True, slots=True)
class HistoryFilter:
    """Which records :meth:`History.query` and :meth:`History.iter_query` return.

    Every part is optional; the parts that are set must all match.
    """

    since: date | None = None
    """First UTC day included (records started on or after it)."""
    until: date | None = None
    """Last UTC day included (records started before the day after it)."""
    outcomes: tuple[Outcome, ...] = ()
    """Any of these outcomes; empty = any outcome."""
    environment: str | None = None
    profile: str | None = None
    search: str | None = None
    """As in :meth:`History.recent`: part of a name, a File Id or a date."""


def matching_ids(
    search: str | None,
    newest: int | None = None,
    *,
    profile: str | None = None,
    outcomes: Sequence[Outcome] = (),
) -> tuple[str, tuple[object, ...]]:
    """SQL selecting the ids that match ``search``, one index per kind.

    A UNION of three indexed look-ups, instead of one WHERE with ORs, keeps
    each part on its own index; the name part scans only the narrow index.

    With ``newest``, each part keeps only its ``newest`` highest ids, which
    is all a page needs: a search matching a month of records then unions
    a few hundred ids instead of tens of thousands. Each part is pinned to
    its index, since "newest first" tempts SQLite into walking the whole
    table (stored replies included) for a term that matches nothing.

    ``profile`` and ``outcomes`` are checked inside each part, before its
    ``newest`` cut, so a page is never short of matching records. They are
    written ``+column`` so no index is chosen for them: walking the table
    newest first stops after a page, where an index on the profile would
    make SQLite sort every one of the profile's records first.
    """
    extra, extra_params = _narrowing(profile, outcomes)
    term = (search or "").strip()
    if not term:
        where = f" WHERE {extra}" if extra else ""  # constants; values are params
        return f"SELECT id FROM submissions{where}", extra_params  # noqa: S608

    like = "%" + re.sub(r"([\\%_])", r"\\\1", term) + "%"
    parts: list[tuple[str, str, tuple[object, ...]]] = [
        ("submissions_name", "name_sent LIKE ? ESCAPE '\\'", (like,)),
        ("submissions_file_id", "file_id = ?", (term,)),
    ]
    if _DATE.fullmatch(term):
        start = term.replace(" ", "T")
        parts.append(
            (
                "submissions_started",
                "started_at >= ? AND started_at < ?",
                (start, start + "\x7f"),
            )
        )
    if extra:
        parts = [(i, f"{w} AND {extra}", (*p, *extra_params)) for i, w, p in parts]
    params = [value for *_, part_params in parts for value in part_params]

    # Only constants and an int go into the SQL; the term is a parameter.
    if newest is None:
        selects = [f"SELECT id FROM submissions WHERE {w}" for _, w, _ in parts]  # noqa: S608
    else:
        selects = [
            f"SELECT id FROM (SELECT id FROM submissions INDEXED BY {index}"  # noqa: S608
            f" WHERE {where} ORDER BY id DESC LIMIT {int(newest)})"
            for index, where, _ in parts
        ]
    return " UNION ".join(selects), tuple(params)


def filter_sql(filters: HistoryFilter) -> tuple[str, tuple[object, ...]]:
    """A WHERE clause (never empty) and its parameters for ``filters``."""
    clauses: list[str] = []
    params: list[object] = []
    if filters.since is not None:
        clauses.append("started_at >= ?")
        params.append(filters.since.isoformat())
    if filters.until is not None:
        clauses.append("started_at < ?")
        params.append((filters.until + timedelta(days=1)).isoformat())
    if filters.outcomes:
        stored = _stored_outcomes(filters.outcomes)
        clauses.append(f"outcome IN ({', '.join('?' * len(stored))})")
        params.extend(stored)
    for column, value in (
        ("environment", filters.environment),
        ("profile", filters.profile),
    ):
        if value is not None:
            clauses.append(f"{column} = ?")
            params.append(value)
    if (filters.search or "").strip():
        ids_sql, ids_params = matching_ids(filters.search)
        clauses.append(f"id IN ({ids_sql})")
        params.extend(ids_params)
    return " AND ".join(clauses) or "1", tuple(params)


def keep_asked_outcomes(
    filters: HistoryFilter, rows: list[Submission]
) -> list[Submission]:
    """Drop rows whose outcome, as read, is not one asked for.

    The SQL matches stored outcomes, where pending and unknown count as one;
    this settles which of the two each row reads as.
    """
    if not filters.outcomes:
        return rows
    return [r for r in rows if r.outcome in filters.outcomes]


def _narrowing(
    profile: str | None, outcomes: Sequence[Outcome]
) -> tuple[str, tuple[object, ...]]:
    """``+profile = ? AND +outcome IN (...)`` for :func:`matching_ids`, or ``""``."""
    clauses: list[str] = []
    params: list[object] = []
    if profile is not None:
        clauses.append("+profile = ?")
        params.append(profile)
    if outcomes:
        stored = _stored_outcomes(outcomes)
        clauses.append(f"+outcome IN ({', '.join('?' * len(stored))})")
        params.extend(stored)
    return " AND ".join(clauses), tuple(params)


def _stored_outcomes(outcomes: Sequence[Outcome]) -> list[str]:
    """The stored outcome values to look for; unknown brings pending along."""
    stored = {Outcome(o).value for o in outcomes}
    if stored & {Outcome.UNKNOWN.value, Outcome.PENDING.value}:
        # A pending record of a dead process reads as unknown (see
        # keep_asked_outcomes).
        stored |= {Outcome.UNKNOWN.value, Outcome.PENDING.value}
    return sorted(stored)
