"""History.recent / count with a profile and outcomes: the TUI's history pages.

The history screen pages the active profile's records (optionally one
outcome) newest first; a page must never come up short because records of
another profile or outcome were among a search part's newest ids.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from omar_tui.core.history import History
from omar_tui.core.models import Outcome

PROFILES = ("default", "east", "west")
OUTCOMES = (Outcome.ACCEPTED, Outcome.REJECTED, Outcome.FAILED, Outcome.UNKNOWN)


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> Iterator[History]:
    """120 records: profile cycles every record, outcome every three."""
    with History(tmp_path_factory.mktemp("h") / "h.sqlite3") as records:
        for n in range(1, 121):
            rid = records.begin(
                environment="test",
                base_url="https://omar-onlinetest.caiso.com",
                local_path=f"/p/meter_{n:03d}.csv",
                name_sent=f"meter_{n:03d}.csv",
                bytes=n,
                sha256=f"{n:064x}",
                profile=PROFILES[n % 3],
            )
            outcome = OUTCOMES[n // 3 % 4]
            records.finish(rid, outcome=outcome, file_id=f"F{n}")
        yield records


def expected(
    profile: str | None = None,
    outcomes: tuple[Outcome, ...] = (),
    name: str = "",
) -> list[int]:
    return [
        n
        for n in range(120, 0, -1)
        if (profile is None or PROFILES[n % 3] == profile)
        and (not outcomes or OUTCOMES[n // 3 % 4] in outcomes)
        and name in f"meter_{n:03d}.csv"
    ]


@pytest.mark.parametrize("profile", [None, "east"])
@pytest.mark.parametrize("outcomes", [(), (Outcome.REJECTED,), (Outcome.UNKNOWN,)])
@pytest.mark.parametrize("search", ["", "meter_0", "F7"])
def test_pages_hold_exactly_the_matching_records(
    history: History,
    profile: str | None,
    outcomes: tuple[Outcome, ...],
    search: str,
) -> None:
    if search == "F7":
        want = [7] if 7 in expected(profile, outcomes) else []
    else:
        want = expected(profile, outcomes, search)

    pages = [
        [
            r.id
            for r in history.recent(
                5, offset, search, profile=profile, outcomes=outcomes
            )
        ]
        for offset in range(0, 125, 5)
    ]
    assert [i for page in pages for i in page] == want
    assert all(len(page) == 5 for page in pages[: len(want) // 5])
    assert history.count(search, profile=profile, outcomes=outcomes) == len(want)


def test_unknown_includes_records_still_pending(
    history: History, tmp_path: Path
) -> None:
    with History(tmp_path / "p.sqlite3") as records:
        records.begin(
            environment="test",
            base_url="https://x",
            local_path="/p/a.csv",
            name_sent="a.csv",
            bytes=1,
            sha256="0" * 64,
            profile="east",
        )  # this process is alive: the record reads as pending
        rows = records.recent(10, profile="east", outcomes=(Outcome.UNKNOWN,))
        assert [r.outcome for r in rows] == [Outcome.PENDING]
        assert records.count(profile="west", outcomes=(Outcome.UNKNOWN,)) == 0
