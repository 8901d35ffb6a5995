"""Filing files away after sending: sent/<day>/, rejected/ + reply, no overwrite."""

from __future__ import annotations

import errno
import hashlib
import os
from datetime import datetime
from pathlib import Path

import pytest

from omar_tui.core import archive
from omar_tui.core.archive import (
    archive_submission,
    move_no_replace,
    numbered_names,
)
from omar_tui.core.connection import Target
from omar_tui.core.history import History
from omar_tui.core.models import Outcome, Submission
from omar_tui.core.settings import Settings
from omar_tui.core.tls import ClientIdentity, build_ssl_context
from omar_tui.simulator import Simulator

DATA = b"meter,1,2\n"
STARTED = "2026-12-04T17:03:11.250+00:00"


def submission(path: Path, outcome: Outcome, **kw: object) -> Submission:
    data = path.read_bytes()
    fields: dict[str, object] = {
        "id": 7,
        "started_at": STARTED,
        "finished_at": STARTED,
        "environment": "test",
        "base_url": "https://127.0.0.1:1",
        "local_path": str(path),
        "name_sent": path.name,
        "bytes": len(data),
        "sha256": hashlib.sha256(data).hexdigest(),
        "outcome": outcome,
        "message": "Accepted.",
        **kw,
    }
    return Submission(**fields)  # type: ignore[arg-type]


def local_day() -> str:
    return datetime.fromisoformat(STARTED).astimezone().strftime("%Y-%m-%d")


@pytest.fixture
def pending(tmp_path: Path) -> Path:
    folder = tmp_path / "pending"
    folder.mkdir()
    return folder


def test_accepted_goes_to_sent_day_folder(pending: Path) -> None:
    path = pending / "a.csv"
    path.write_bytes(DATA)

    result = archive_submission(
        submission(path, Outcome.ACCEPTED), pending_folder=pending
    )

    expected = pending / "sent" / local_day() / "a.csv"
    assert result.moved_to == expected
    assert result.problem == ""
    assert expected.read_bytes() == DATA
    assert not path.exists()


def test_rejected_goes_to_rejected_with_reply(pending: Path) -> None:
    path = pending / "b.csv"
    path.write_bytes(DATA)
    sub = submission(
        path,
        Outcome.REJECTED,
        message="The file name must end in .csv",
        raw_reply="<html>refused: bad name</html>",
    )

    result = archive_submission(sub, pending_folder=pending)

    assert result.moved_to == pending / "rejected" / "b.csv"
    assert result.reply_file == pending / "rejected" / "b.csv.reply.txt"
    reply = result.reply_file.read_text()
    assert "The file name must end in .csv" in reply
    assert "<html>refused: bad name</html>" in reply
    assert "reply" in result.message


@pytest.mark.parametrize("outcome", [Outcome.UNKNOWN, Outcome.FAILED])
def test_unknown_and_failed_stay(pending: Path, outcome: Outcome) -> None:
    path = pending / "c.csv"
    path.write_bytes(DATA)

    result = archive_submission(submission(path, outcome), pending_folder=pending)

    assert result.moved_to is None and result.message == ""
    assert path.exists()
    assert not (pending / "sent").exists() and not (pending / "rejected").exists()


def test_collisions_get_numbers_and_never_overwrite(pending: Path) -> None:
    day = pending / "sent" / local_day()
    day.mkdir(parents=True)
    (day / "a.csv").write_bytes(b"older one")
    (day / "a (2).csv").write_bytes(b"older two")

    path = pending / "a.csv"
    path.write_bytes(DATA)
    result = archive_submission(
        submission(path, Outcome.ACCEPTED), pending_folder=pending
    )

    assert result.moved_to == day / "a (3).csv"
    assert (day / "a.csv").read_bytes() == b"older one"
    assert (day / "a (2).csv").read_bytes() == b"older two"
    assert (day / "a (3).csv").read_bytes() == DATA


def test_rejected_reply_file_collision(pending: Path) -> None:
    rejected = pending / "rejected"
    rejected.mkdir()
    (rejected / "b.csv.reply.txt").write_text("stray")  # no b.csv beside it

    path = pending / "b.csv"
    path.write_bytes(DATA)
    result = archive_submission(
        submission(path, Outcome.REJECTED, message="no"), pending_folder=pending
    )

    assert result.moved_to == rejected / "b.csv"
    assert result.reply_file == rejected / "b.csv.reply (2).txt"
    assert (rejected / "b.csv.reply.txt").read_text() == "stray"


def test_numbered_names() -> None:
    names = numbered_names("meter.2026.csv")
    assert [next(names) for _ in range(3)] == [
        "meter.2026.csv",
        "meter.2026 (2).csv",
        "meter.2026 (3).csv",
    ]
    assert next(iter(numbered_names(".hidden"))) == ".hidden"
    assert list(numbered_names(".hidden"))[1] == ".hidden (2)"


def test_cross_device_falls_back_to_copy(
    pending: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_link(*args: object, **kwargs: object) -> None:
        raise OSError(errno.EXDEV, "Invalid cross-device link")

    def no_replace(*args: object, **kwargs: object) -> None:
        raise AssertionError("a move must never use a replacing rename")

    monkeypatch.setattr(archive.os, "link", no_link)
    monkeypatch.setattr(archive.os, "replace", no_replace)
    monkeypatch.setattr(archive.os, "rename", no_replace)

    day = pending / "sent" / local_day()
    day.mkdir(parents=True)
    (day / "a.csv").write_bytes(b"taken")
    path = pending / "a.csv"
    path.write_bytes(DATA)
    os.chmod(path, 0o640)
    os.utime(path, (1_000_000_000, 1_000_000_000))

    result = archive_submission(
        submission(path, Outcome.ACCEPTED), pending_folder=pending
    )

    assert result.moved_to == day / "a (2).csv"
    assert result.moved_to.read_bytes() == DATA
    assert (day / "a.csv").read_bytes() == b"taken"
    assert not path.exists()
    assert result.moved_to.stat().st_mode & 0o777 == 0o640
    assert result.moved_to.stat().st_mtime == 1_000_000_000


def test_failed_unlink_keeps_exactly_one_copy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = tmp_path / "a.csv"
    source.write_bytes(DATA)
    real_unlink = Path.unlink

    def unlink(self: Path, missing_ok: bool = False) -> None:
        if self == source:
            raise PermissionError(errno.EACCES, "Permission denied")
        real_unlink(self, missing_ok)

    monkeypatch.setattr(Path, "unlink", unlink)
    with pytest.raises(PermissionError):
        move_no_replace(source, tmp_path / "sent")

    assert source.read_bytes() == DATA
    assert list((tmp_path / "sent").iterdir()) == []


def test_failed_move_is_reported_not_raised(
    pending: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = pending / "a.csv"
    path.write_bytes(DATA)

    def refuse(*args: object, **kwargs: object) -> None:
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(archive, "move_no_replace", refuse)
    result = archive_submission(
        submission(path, Outcome.ACCEPTED), pending_folder=pending
    )

    assert result.moved_to is None
    assert "Could not move a.csv" in result.problem
    assert "Permission denied" in result.problem
    assert path.exists()


def test_changed_file_is_left_in_place(pending: Path) -> None:
    path = pending / "a.csv"
    path.write_bytes(DATA)
    sub = submission(path, Outcome.ACCEPTED)
    path.write_bytes(DATA + b"more,3,4\n")

    result = archive_submission(sub, pending_folder=pending)

    assert result.moved_to is None
    assert "changed after it was sent" in result.problem
    assert path.exists()


def test_file_outside_pending_uses_its_own_folder(
    pending: Path, tmp_path: Path
) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    path = elsewhere / "a.csv"
    path.write_bytes(DATA)

    result = archive_submission(
        submission(path, Outcome.ACCEPTED), pending_folder=pending
    )

    assert result.moved_to == elsewhere / "sent" / local_day() / "a.csv"


def test_file_in_pending_subfolder_uses_pending_root(pending: Path) -> None:
    (pending / "sub").mkdir()
    path = pending / "sub" / "a.csv"
    path.write_bytes(DATA)

    result = archive_submission(
        submission(path, Outcome.ACCEPTED), pending_folder=pending
    )

    assert result.moved_to == pending / "sent" / local_day() / "a.csv"


def test_vanished_file_is_not_a_problem(pending: Path) -> None:
    path = pending / "a.csv"
    path.write_bytes(DATA)
    sub = submission(path, Outcome.ACCEPTED)
    path.unlink()

    result = archive_submission(sub, pending_folder=pending)

    assert result == archive.ArchiveResult()


# -- through the Sender, against the simulator ---------------------------------


async def send_files(
    sim: Simulator,
    pending: Path,
    history: History,
    names: list[tuple[str, bool]],
    *,
    after_send: str = "move",
) -> list[Submission]:
    from omar_tui.core.checks import check_file
    from omar_tui.core.sender import Sender, SendRequest

    settings = Settings(pending_folder=pending, after_send=after_send, retries=0)
    ctx = build_ssl_context(
        ca_bundle=sim.files.ca_cert,
        identity=ClientIdentity(sim.files.client_cert, sim.files.client_key),
        passphrase=None,
    )
    target = Target("test", sim.base_url)
    results = []
    async with Sender(
        settings=settings,
        history=history,
        target=target,
        ssl_context=ctx,
        lock_dir=pending.parent / "locks",
    ) as sender:
        for name, override in names:
            report = check_file(pending / name, pending_root=pending)
            request = SendRequest(report, override_block=override)
            results.append(await sender.send(request))
    return results


async def test_sender_moves_accepted_and_rejected(
    simulator: Simulator, pending: Path, tmp_path: Path
) -> None:
    (pending / "good.csv").write_bytes(DATA)
    long_name = "x" * 41 + ".csv"  # blocked locally; sent anyway, refused remotely
    (pending / long_name).write_bytes(DATA + b"2\n")

    with History(tmp_path / "h.sqlite3") as history:
        good, bad = await send_files(
            simulator, pending, history, [("good.csv", False), (long_name, True)]
        )

        assert good.outcome is Outcome.ACCEPTED
        assert good.moved_to == str(pending / "sent" / local_day_of(good) / "good.csv")
        assert Path(good.moved_to).read_bytes() == DATA
        assert history.get(good.id).moved_to == good.moved_to  # type: ignore[union-attr]
        assert history.get(good.id).local_path == str(pending / "good.csv")  # type: ignore[union-attr]

        assert bad.outcome is Outcome.REJECTED
        assert bad.moved_to == str(pending / "rejected" / long_name)
        reply = (pending / "rejected" / (long_name + ".reply.txt")).read_text()
        assert "40 characters" in reply
        assert history.get(bad.id).moved_to == bad.moved_to  # type: ignore[union-attr]

    assert sorted(p.name for p in pending.iterdir()) == ["rejected", "sent"]


async def test_sender_keeps_files_by_default(
    simulator: Simulator, pending: Path, tmp_path: Path
) -> None:
    (pending / "good.csv").write_bytes(DATA)
    with History(tmp_path / "h.sqlite3") as history:
        (good,) = await send_files(
            simulator, pending, history, [("good.csv", False)], after_send="keep"
        )
    assert good.outcome is Outcome.ACCEPTED
    assert good.moved_to is None
    assert (pending / "good.csv").exists()


async def test_sender_does_not_move_unknown(
    simulator: Simulator, pending: Path, tmp_path: Path
) -> None:
    (pending / "good.csv").write_bytes(DATA)
    simulator.faults.once("drop_after_body")
    with History(tmp_path / "h.sqlite3") as history:
        (sub,) = await send_files(simulator, pending, history, [("good.csv", False)])
    assert sub.outcome is Outcome.UNKNOWN
    assert sub.moved_to is None
    assert (pending / "good.csv").exists()


def local_day_of(sub: Submission) -> str:
    return datetime.fromisoformat(sub.started_at).astimezone().strftime("%Y-%m-%d")


def test_file_taken_away_during_the_move_is_not_a_problem(
    pending: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = pending / "a.csv"
    path.write_bytes(DATA)
    sub = submission(path, Outcome.ACCEPTED)
    real_link = os.link

    def link_after_someone_else(src: object, dst: object, **kw: object) -> None:
        path.unlink()  # another process filed it between the read and the link
        real_link(src, dst, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(archive.os, "link", link_after_someone_else)
    assert archive_submission(sub, pending_folder=pending) == archive.ArchiveResult()
