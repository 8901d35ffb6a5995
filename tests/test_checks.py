"""Tests of the pre-flight checks: each rule broken once and just passed once."""

from __future__ import annotations

import builtins
import hashlib
import os
import sys
from pathlib import Path

import pytest

from omar_tui.core.checks import (
    RULES,
    check_content,
    check_file,
    check_name,
    csv_fields,
    reading,
    suggest_short_name,
)
from omar_tui.core.models import CheckReport, Finding, Limits, Severity

LIMITS = Limits()
GOOD = b"id,channel,value\r\nA,1,2.5\r\nB,2,3.5\r\n"


def rules(findings: CheckReport | list[Finding]) -> set[str]:
    items = findings.findings if isinstance(findings, CheckReport) else findings
    return {f.rule for f in items}


def only(findings: list[Finding] | CheckReport, rule: str) -> Finding:
    items = findings.findings if isinstance(findings, CheckReport) else findings
    matching = [f for f in items if f.rule == rule]
    assert len(matching) == 1, items
    return matching[0]


def write(folder: Path, name: str, data: bytes) -> Path:
    path = folder / name
    path.write_bytes(data)
    return path


# --- the rule table ----------------------------------------------------------


def test_rules_are_one_line_descriptions() -> None:
    assert RULES
    for rule, text in RULES.items():
        assert rule == rule.lower() and " " not in rule
        assert text and "\n" not in text


def test_every_finding_uses_a_listed_rule_and_has_a_fix(tmp_path: Path) -> None:
    samples = [
        check_file(tmp_path / "missing.csv"),
        check_file(write(tmp_path, "Bad'name" + "x" * 40 + ".txt", b"")),
        check_file(write(tmp_path, "b.CSV", _BOM_DATA + "é\r\n".encode() + b"a,b\n")),
        check_file(write(tmp_path, "c.csv", b"a\x00b\n\x01\n")),
    ]
    seen = [f for report in samples for f in report.findings]
    assert len(seen) >= 8
    for finding in seen:
        assert finding.rule in RULES
        assert finding.message and finding.fix


_BOM_DATA = b"\xef\xbb\xbf"


# --- size --------------------------------------------------------------------


def sized(size: int) -> bytes:
    """A valid one-column CSV of exactly ``size`` bytes."""
    line = b"1234567\n"
    data = line * (size // len(line))
    return data + b"9" * (size - len(data))


@pytest.mark.parametrize(
    ("size", "expected"),
    [
        (499_999, set()),
        (500_000, {"size-near-limit"}),
        (511_999, {"size-near-limit"}),
        (512_000, {"size"}),
    ],
)
def test_size_limits(tmp_path: Path, size: int, expected: set[str]) -> None:
    report = check_file(write(tmp_path, "m.csv", sized(size)))
    assert report.size == size
    assert rules(report) == expected
    assert report.blocked is ("size" in expected)


def test_size_limits_are_settings(tmp_path: Path) -> None:
    path = write(tmp_path, "m.csv", sized(100))
    assert rules(check_file(path, limits=Limits(block_bytes=100))) == {"size"}
    assert rules(check_file(path, limits=Limits(warn_bytes=100))) == {"size-near-limit"}
    assert rules(check_file(path, limits=Limits(block_bytes=101))) == set()


def test_huge_file_is_blocked_without_being_read(tmp_path: Path) -> None:
    path = tmp_path / "huge.csv"
    with path.open("wb") as handle:
        handle.truncate(64 * 1024 * 1024)  # sparse: no disk, no memory
    report = check_file(path)
    assert rules(report) == {"size"}
    assert "67,108,864 bytes" in only(report, "size").message
    assert report.data is None and report.sha256 is None


# --- extension ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "expected", "severity"),
    [
        ("meter.csv", set(), None),
        ("meter.dat", set(), None),
        ("meter.CSV", {"extension-case"}, Severity.WARNING),
        ("meter.Dat", {"extension-case"}, Severity.WARNING),
        ("meter.txt", {"extension"}, Severity.ERROR),
        ("meter", {"extension"}, Severity.ERROR),
        ("meter.csv.bak", {"extension"}, Severity.ERROR),
        ("meter.csv ", {"extension"}, Severity.ERROR),
    ],
)
def test_extension(name: str, expected: set[str], severity: Severity | None) -> None:
    findings = check_name(name, LIMITS)
    assert rules(findings) == expected
    if severity is not None:
        assert findings[0].severity is severity


def test_extension_fixes_are_concrete() -> None:
    assert "meter.csv" in only(check_name("meter.CSV", LIMITS), "extension-case").fix
    assert ".csv" in only(check_name("meter.txt", LIMITS), "extension").fix
    assert "space" in only(check_name("meter.csv ", LIMITS), "extension").fix


# --- name --------------------------------------------------------------------


def test_name_of_40_characters_passes_and_41_blocks() -> None:
    assert check_name("a" * 36 + ".csv", LIMITS) == []
    finding = only(check_name("a" * 37 + ".csv", LIMITS), "name-length")
    assert finding.severity is Severity.ERROR
    assert "41 characters" in finding.message


def test_name_length_follows_the_setting() -> None:
    assert check_name("a" * 6 + ".csv", Limits(max_name=10)) == []
    assert rules(check_name("a" * 7 + ".csv", Limits(max_name=10))) == {"name-length"}


def test_name_length_fix_offers_a_short_name_that_passes() -> None:
    name = "CAISO_meter_data_2024-05-01_resource_ABCDEFG_final_v2.csv"
    fix = only(check_name(name, LIMITS), "name-length").fix
    assert suggest_short_name(name) in fix


def test_non_ascii_name_counts_characters_and_only_warns() -> None:
    name = "é" * 36 + ".csv"  # 40 characters, 76 bytes in UTF-8
    finding = only(check_name(name, LIMITS), "name-non-ascii")
    assert finding.severity is Severity.WARNING
    assert "40 characters, 76 bytes" in finding.message
    assert rules(check_name(name, LIMITS)) == {"name-non-ascii"}


@pytest.mark.parametrize("bad", ["/", "\\", "'", '"', "\x01", "\n", "\x7f", "\x85"])
def test_separators_quotes_and_control_characters_block(bad: str) -> None:
    finding = only(check_name(f"me{bad}ter.csv", LIMITS), "name-chars")
    assert finding.severity is Severity.ERROR
    assert "\n" not in finding.message  # escaped for the screen


def test_ordinary_punctuation_in_a_name_passes() -> None:
    assert check_name("Meter data (v2) 2024-05-01_#3.csv", LIMITS) == []


def test_empty_name_blocks() -> None:
    finding = only(check_name("", LIMITS), "name-empty")
    assert finding.severity is Severity.ERROR


def test_undecodable_name_blocks_and_is_shown_escaped() -> None:
    name = os.fsdecode(b"meter\xff.csv")
    findings = check_name(name, LIMITS)
    assert rules(findings) == {"name-encoding"}
    assert "\\xff" in findings[0].message
    findings[0].message.encode("utf-8")  # printable without errors


@pytest.mark.skipif(sys.platform == "win32", reason="bytes file names are POSIX")
def test_file_with_a_non_utf8_name_does_not_crash(tmp_path: Path) -> None:
    raw = os.fsencode(tmp_path) + b"/meter\xe9.csv"
    with open(raw, "wb") as handle:
        handle.write(GOOD)
    path = Path(os.fsdecode(raw))
    report = check_file(path)
    assert rules(report) == {"name-encoding"}
    assert report.data == GOOD


# --- suggest_short_name ------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "CAISO_meter_data_2024-05-01_resource_ABCDEFG_final_v2.csv",
        "x" * 200 + ".dat",
        "Données météo – très longues, vraiment trop longues.CSV",
        "a/b\\c'd\"e\x01f" * 8 + ".csv",
        os.fsdecode(b"meter\xff" * 20 + b".csv"),
        "no extension at all but a very long name indeed, yes",
    ],
)
def test_suggested_names_pass_the_name_rules(name: str) -> None:
    short = suggest_short_name(name)
    assert len(short) <= 40
    allowed = {"extension"} if not name.lower().endswith((".csv", ".dat")) else set()
    assert rules(check_name(short, LIMITS)) <= allowed


def test_suggested_name_keeps_start_end_and_extension() -> None:
    name = "CAISO_meter_data_2024-05-01_resource_ABCDEFG_final_v2.CSV"
    short = suggest_short_name(name)
    assert short.endswith("_final_v2.csv")
    assert short.startswith("CAISO_meter_data")
    assert len(short) >= 38  # uses the room it has


def test_suggested_name_leaves_a_good_name_alone() -> None:
    assert suggest_short_name("meter.csv") == "meter.csv"
    assert suggest_short_name("a" * 36 + ".dat") == "a" * 36 + ".dat"


def test_suggested_name_respects_max_len() -> None:
    short = suggest_short_name("abcdefghijklmnopqrstuvwxyz.csv", max_len=12)
    assert len(short) <= 12 and short.endswith(".csv")
    assert short.startswith("abc") and "z" in short


def test_suggested_name_folds_accents() -> None:
    assert suggest_short_name("données.csv") == "donnees.csv"


# --- the file itself ---------------------------------------------------------


def test_report_holds_exactly_the_bytes_and_their_hash(tmp_path: Path) -> None:
    path = write(tmp_path, "m.csv", GOOD)
    report = check_file(path)
    assert report.findings == ()
    assert not report.blocked
    assert report.data == path.read_bytes()
    assert report.sha256 == hashlib.sha256(GOOD).hexdigest()
    assert report.size == len(GOOD)
    assert report.mtime == os.stat(path).st_mtime
    assert report.name == "m.csv" and report.path == path


def test_name_override_is_checked_instead_of_the_file_name(tmp_path: Path) -> None:
    path = write(tmp_path, "x" * 60 + ".csv", GOOD)
    assert rules(check_file(path)) == {"name-length"}
    report = check_file(path, name="short.csv")
    assert report.name == "short.csv" and report.findings == ()


def test_file_is_opened_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(tmp_path, "m.csv", GOOD)
    real_open = builtins.open
    opened: list[object] = []

    def counting_open(file, *args, **kwargs):  # type: ignore[no-untyped-def]
        opened.append(file)
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", counting_open)
    check_file(path)
    assert opened == [path]


def test_empty_file_blocks(tmp_path: Path) -> None:
    report = check_file(write(tmp_path, "m.csv", b""))
    assert rules(report) == {"file-empty"}
    assert report.blocked and report.size == 0
    assert rules(check_file(write(tmp_path, "n.csv", b"\n"))) == set()


def test_directory_named_like_a_csv_blocks(tmp_path: Path) -> None:
    folder = tmp_path / "x.csv"
    folder.mkdir()
    report = check_file(folder)
    assert rules(report) == {"file-directory"}
    assert report.data is None and report.size is None and report.sha256 is None


def test_missing_file_blocks(tmp_path: Path) -> None:
    report = check_file(tmp_path / "gone.csv")
    assert rules(report) == {"file-missing"}
    assert report.data is None


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes here")
def test_named_pipe_blocks_without_hanging(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.csv"
    os.mkfifo(fifo)
    assert rules(check_file(fifo)) == {"file-not-regular"}


@pytest.mark.skipif(
    sys.platform == "win32" or os.geteuid() == 0,
    reason="root reads files whatever their mode; the monkeypatch test covers it",
)
def test_unreadable_file_blocks(tmp_path: Path) -> None:
    path = write(tmp_path, "m.csv", GOOD)
    path.chmod(0)
    try:
        assert rules(check_file(path)) == {"file-unreadable"}
    finally:
        path.chmod(0o600)


def test_permission_error_on_open_blocks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write(tmp_path, "m.csv", GOOD)

    def refuse(*args: object, **kwargs: object) -> None:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(builtins, "open", refuse)
    report = check_file(path)
    finding = only(report, "file-unreadable")
    assert finding.severity is Severity.ERROR
    assert "Permission denied" in finding.message
    assert report.data is None


def test_read_error_blocks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(tmp_path, "m.csv", GOOD)

    def broken(*args: object, **kwargs: object) -> bytes:
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(reading, "_read_capped", broken)
    assert rules(check_file(path)) == {"file-unreadable"}


@pytest.mark.parametrize("bad", ["nul\x00.csv", "x" * 5000 + ".csv"])
def test_impossible_paths_do_not_raise(tmp_path: Path, bad: str) -> None:
    report = check_file(tmp_path / bad, pending_root=tmp_path)
    assert report.blocked and report.data is None
    report = check_file(tmp_path / bad)
    assert report.blocked and report.data is None


def test_file_that_changes_while_read_blocks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write(tmp_path, "m.csv", GOOD)
    real_fstat = os.fstat

    def stale_fstat(fd: int) -> os.stat_result:
        st = real_fstat(fd)
        fields = list(st)
        fields[6] = st.st_size - 5  # st_size as it was a moment before
        return os.stat_result(fields)

    monkeypatch.setattr(os, "fstat", stale_fstat)
    report = check_file(path)
    assert rules(report) == {"file-changed"}
    assert report.data == GOOD


# --- symlinks and the pending folder ------------------------------------------


@pytest.fixture
def pending(tmp_path: Path) -> Path:
    folder = tmp_path / "pending"
    folder.mkdir()
    return folder


def test_symlink_inside_pending_passes(pending: Path) -> None:
    target = write(pending, "real.csv", GOOD)
    link = pending / "link.csv"
    link.symlink_to(target)
    report = check_file(link, pending_root=pending)
    assert report.findings == () and report.data == GOOD
    assert report.name == "link.csv"


def test_symlink_outside_pending_blocks(tmp_path: Path, pending: Path) -> None:
    target = write(tmp_path, "secret.csv", GOOD)
    link = pending / "link.csv"
    link.symlink_to(target)
    report = check_file(link, pending_root=pending)
    finding = only(report, "file-outside-pending")
    assert finding.severity is Severity.ERROR
    assert report.data is None
    # Without a pending folder the link is simply followed.
    assert check_file(link).data == GOOD


def test_symlinked_folder_leading_outside_blocks(tmp_path: Path, pending: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    write(elsewhere, "m.csv", GOOD)
    (pending / "sub").symlink_to(elsewhere)
    report = check_file(pending / "sub" / "m.csv", pending_root=pending)
    assert rules(report) == {"file-outside-pending"}


def test_pending_folder_reached_through_a_symlink_passes(
    tmp_path: Path, pending: Path
) -> None:
    write(pending, "m.csv", GOOD)
    alias = tmp_path / "alias"
    alias.symlink_to(pending)
    assert check_file(alias / "m.csv", pending_root=alias).findings == ()


def test_broken_symlink_is_missing(pending: Path) -> None:
    link = pending / "link.csv"
    link.symlink_to(pending / "nowhere.csv")
    finding = only(check_file(link, pending_root=pending), "file-missing")
    assert "symlink" in finding.message
    assert rules(check_file(link)) == {"file-missing"}


# --- contents: binary ----------------------------------------------------------


def test_nul_bytes_block_with_the_line_of_the_first(tmp_path: Path) -> None:
    data = b"a,b\r\nc,d\r\ne,\x00f\r\ng,h\r\n"
    finding = only(check_content(data, "m.csv"), "binary")
    assert finding.severity is Severity.ERROR
    assert finding.line == 3
    assert "on line 3" in finding.message


def test_binary_file_gets_no_text_findings() -> None:
    data = b"\x00\x01\xfe\xff" * 100
    assert rules(check_content(data, "m.csv")) == {"binary"}


@pytest.mark.parametrize(
    ("data", "word"),
    [
        ("id,value\r\n".encode("utf-16"), "UTF-16"),
        (b"PK\x03\x04rest-of-a-workbook", "xlsx"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "xls"),
        (b"\x1f\x8b\x08\x00", "gzip"),
        (b"%PDF-1.4\n", "PDF"),
    ],
)
def test_known_binary_formats_are_named(data: bytes, word: str) -> None:
    finding = only(check_content(data, "m.csv"), "binary")
    assert word in finding.message
    assert finding.line == 1


def test_utf16_without_bom_is_still_binary() -> None:
    data = "id,value\r\n".encode("utf-16-le") * 5
    finding = only(check_content(data, "m.csv"), "binary")
    assert "UTF-16" in finding.message


# --- contents: text -------------------------------------------------------------


def test_plain_ascii_passes() -> None:
    assert check_content(GOOD, "m.csv") == []


def test_bom_warns_on_line_1() -> None:
    finding = only(check_content(_BOM_DATA + GOOD, "m.csv"), "bom")
    assert finding.severity is Severity.WARNING and finding.line == 1
    assert "byte-order mark" in finding.fix
    # The BOM itself is not also reported as non-ASCII.
    assert rules(check_content(_BOM_DATA + GOOD, "m.csv")) == {"bom"}


def test_non_ascii_lines_are_named() -> None:
    data = b"a,b\nc,d\ne,\xe9\nf,g\nh,\xb0\n"
    finding = only(check_content(data, "m.csv"), "non-ascii")
    assert finding.severity is Severity.WARNING
    assert finding.line == 3
    assert "on lines 3 and 5" in finding.message
    assert "not UTF-8" in finding.message


def test_non_ascii_utf8_is_recognised() -> None:
    data = "a,b\nc,é\n".encode()
    finding = only(check_content(data, "m.csv"), "non-ascii")
    assert finding.line == 2 and "look like UTF-8" in finding.message


def test_control_characters_warn_with_lines() -> None:
    data = b"a,b\r\nc,d\x1a\r\n"
    finding = only(check_content(data, "m.csv"), "control-chars")
    assert finding.line == 2 and "Ctrl-Z" in finding.message
    assert check_content(b"a\tb\r\n", "m.csv") == []  # tabs are fine


@pytest.mark.parametrize("ending", [b"\r\n", b"\n", b"\r"])
def test_one_kind_of_line_ending_passes(ending: bytes) -> None:
    data = ending.join([b"a,b", b"c,d", b"e,f"]) + ending
    assert check_content(data, "m.csv") == []


def test_mixed_line_endings_name_the_odd_lines() -> None:
    data = b"a,b\r\nc,d\r\ne,f\ng,h\r\ni,j\rk,l\r\n"
    finding = only(check_content(data, "m.csv"), "line-endings")
    assert finding.severity is Severity.WARNING
    assert finding.line == 3
    assert "CRLF (Windows)" in finding.message
    assert "LF (Unix) and CR (old Mac)" in finding.message
    assert "on lines 3 and 5" in finding.message


def test_missing_final_line_break_is_not_mixed() -> None:
    assert check_content(b"a,b\r\nc,d", "m.csv") == []


# --- contents: field counts -------------------------------------------------------


def test_field_count_mismatch_names_lines_and_counts() -> None:
    data = b"a,b,c\n1,2,3\n1,2\n1,2,3\n1,2,3,4\n"
    finding = only(check_content(data, "m.csv"), "csv-fields")
    assert finding.severity is Severity.WARNING
    assert finding.line == 3
    assert "line 1 (3 fields)" in finding.message
    assert "on lines 3 and 5" in finding.message
    assert "line 3: 2 fields" in finding.message
    assert "line 5: 4 fields" in finding.message


def test_quoted_commas_and_line_breaks_are_one_field() -> None:
    data = b'a,b,c\n1,"x,y",3\n2,"two\nlines",3\n4,"say ""hi""",6\n7,8,9\n'
    assert check_content(data, "m.csv") == []


def test_line_numbers_after_a_quoted_line_break_are_physical() -> None:
    data = b'a,b,c\n1,"x\ny",3\n1,2\n'
    finding = only(check_content(data, "m.csv"), "csv-fields")
    assert finding.line == 4


def test_trailing_blank_lines_are_not_mismatches() -> None:
    assert check_content(b"a,b\n1,2\n\n\n  \n", "m.csv") == []
    assert check_content(b'a,"b"\r\n1,2\r\n\r\n \r\n', "m.csv") == []


def test_blank_line_in_the_middle_is_a_mismatch() -> None:
    for data in (b"a,b\n\n1,2\n", b'a,"b"\n\n1,2\n'):
        finding = only(check_content(data, "m.csv"), "csv-fields")
        assert finding.line == 2
        assert "0 fields" in finding.message


def test_unclosed_quote_warns_where_it_opens() -> None:
    data = b'a,b\n1,"open\n2,3\n4,5\n'
    finding = only(check_content(data, "m.csv"), "csv-quotes")
    assert finding.line == 2 and finding.severity is Severity.WARNING


def test_unclosed_quote_in_a_big_file_warns_where_it_opens() -> None:
    data = b'a,b\n1,2\n3,"open\n' + b"4,5\n" * 40_000  # past csv's field limit
    finding = only(check_content(data, "m.csv"), "csv-quotes")
    assert finding.line == 3
    assert "never closed" in finding.message


def test_stray_quote_inside_a_field_is_not_unclosed() -> None:
    data = b'a,b\n1,5" pipe\n2,3\n'
    assert check_content(data, "m.csv") == []


def test_dat_file_gets_field_counts_only_when_comma_separated() -> None:
    ragged_csv = b"a,b,c\n1,2,3\n1,2\n"
    assert rules(check_content(ragged_csv, "m.dat")) == {"csv-fields"}
    fixed_width = b"HEADER FILE, VERSION 2\nA      1   2.5\nB      2   3.5\n"
    assert check_content(fixed_width, "m.dat") == []
    # A .csv is always counted, commas or not.
    assert rules(check_content(fixed_width, "m.csv")) == {"csv-fields"}


def test_the_field_count_fast_path_agrees_with_counting_line_by_line() -> None:
    # Bodies built from rows that trip the shortcut: blank and space-only
    # rows, rows without commas, bare CRs, CRLFs, blank edges.
    import random

    def slow(body: bytes) -> list[Finding]:
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(csv_fields, "_same_comma_counts", lambda _body: False)
            return csv_fields.check_fields(body)

    pieces = [b"a,b,c", b"1,2,3", b"x,y", b"", b"  ", b"solo", b",,", b"\t1,2,3 "]
    ends = [b"\n", b"\r\n", b"\r"]
    chooser = random.Random(5)
    for _ in range(3000):
        rows = chooser.choices(pieces[:2], k=chooser.randint(1, 5))
        for _ in range(chooser.randint(0, 2)):
            rows.insert(chooser.randint(0, len(rows)), chooser.choice(pieces))
        body = b"".join(row + chooser.choice(ends[:2] * 4 + ends) for row in rows)
        assert csv_fields.check_fields(body) == slow(body), body


# --- capping -----------------------------------------------------------------------


def test_thousands_of_bad_lines_give_one_finding_per_rule() -> None:
    lines = [b"a,b,c\n"]
    for n in range(2, 5002):  # even lines non-ASCII and CR, odd ones too long
        lines.append(b"1,\xe9,3\r" if n % 2 == 0 else b"1,2,3,4\n")
    data = b"".join(lines)
    findings = check_content(data, "m.csv")
    assert len(findings) == len({f.rule for f in findings})
    non_ascii = only(findings, "non-ascii")
    assert non_ascii.line == 2
    assert "on 2,500 lines, first at 2, 4, 6 (" in non_ascii.message
    fields = only(findings, "csv-fields")
    assert fields.line == 3
    assert "on 2,500 lines, first at 3, 5, 7 (" in fields.message
    assert len(fields.message) < 300
    assert only(findings, "line-endings").line is not None


def test_line_numbers_are_correct_on_a_large_file() -> None:
    body = [b"x,y"] * 9999
    body[1233] = b"x,\xe9"  # line 1234
    finding = only(check_content(b"\n".join(body), "m.csv"), "non-ascii")
    assert finding.line == 1234 and "on line 1234" in finding.message
