"""The reply-page parser: the specification's receipt and its likely variants."""

from __future__ import annotations

import subprocess
import sys

import pytest

from omar_tui.core.models import ReceiptKind
from omar_tui.core.receipt import decode_body, parse_receipt

# SPEC.md R11, as printed in the submission specification, section 3.3.
SPEC_RECEIPT = b"""<table>

        <tr><td class=formgray>

        myfile.csv  Meter file uploaded and Saved As renamedmyfile.csv

        </td></tr>

        <tr><td class=formgray> File Size : 13133

        </td></tr>

        <tr><td class=formgray> File Id: 1 (save this file id for future reference \
and file status inquiries)

        </td></tr>

</table>"""


def assert_accepted(
    body: bytes,
    *,
    file_id: str = "1",
    source: str | None = "myfile.csv",
    saved_as: str | None = "renamedmyfile.csv",
    size: int | None = 13133,
    content_type: str | None = None,
) -> None:
    receipt = parse_receipt(body, content_type, status=200)
    assert receipt.kind is ReceiptKind.ACCEPTED, receipt.message
    assert receipt.file_id == file_id
    assert receipt.source_name == source
    assert receipt.saved_as == saved_as
    assert receipt.file_size == size
    assert receipt.http_status == 200


def test_the_specification_example() -> None:
    receipt = parse_receipt(SPEC_RECEIPT, "text/html")
    assert receipt.kind is ReceiptKind.ACCEPTED
    assert receipt.source_name == "myfile.csv"
    assert receipt.saved_as == "renamedmyfile.csv"
    assert receipt.file_size == 13133
    assert receipt.file_id == "1"
    assert receipt.raw == SPEC_RECEIPT.decode()
    assert receipt.http_status is None


def test_whitespace_and_nbsp() -> None:
    body = (
        b"<table><tr><td>&nbsp;&nbsp;myfile.csv&nbsp;&nbsp;Meter\tfile\n uploaded "
        b"and&nbsp;Saved  As&nbsp;renamedmyfile.csv&nbsp;</td></tr>"
        b"<tr><td>File&nbsp;Size&nbsp;:&nbsp;13133</td></tr>"
        b"<tr><td>\n\n   File\xc2\xa0Id:\n 1   </td></tr></table>"
    )
    assert_accepted(body)


@pytest.mark.parametrize(
    ("size_label", "id_label"),
    [
        ("file size:", "file id:"),
        ("FILE SIZE :", "FILE ID :"),
        ("File size", "File id"),
    ],
)
def test_letter_case(size_label: str, id_label: str) -> None:
    body = (
        "<table><tr><td>myfile.csv MeTeR FiLe UPLOADED and SAVED AS "
        f"renamedmyfile.csv</td></tr><tr><td>{size_label} 13133</td></tr>"
        f"<tr><td>{id_label} 1</td></tr></table>"
    ).encode()
    assert_accepted(body)


def test_missing_and_other_css_classes() -> None:
    body = SPEC_RECEIPT.replace(b" class=formgray", b"", 1).replace(
        b"class=formgray", b'class="result ok" style="color:red"'
    )
    assert_accepted(body)


def test_unclosed_tags() -> None:
    body = (
        b"<html><body><table><tr><td>myfile.csv Meter file uploaded and Saved As "
        b"renamedmyfile.csv<tr><td>File Size : 13133<tr><td>File Id: 1 (save this"
    )
    assert_accepted(body)


@pytest.mark.parametrize(
    "meta",
    [
        b'<meta charset="windows-1252">',
        b'<META HTTP-EQUIV="Content-Type" CONTENT="text/html; charset=ISO-8859-1">',
    ],
)
def test_charset_only_in_meta(meta: bytes) -> None:
    name = "caf\u00e9.csv".encode("cp1252")
    body = (
        b"<html><head>" + meta + b"</head><body><p>" + name + b" Meter file uploaded "
        b"and Saved As X" + name + b"</p><p>File Size : 13133</p><p>File Id: 1</p>"
    )
    assert_accepted(body, source="caf\u00e9.csv", saved_as="Xcaf\u00e9.csv")


def test_cp1252_bytes_without_any_charset() -> None:
    body = SPEC_RECEIPT.replace(b"myfile.csv", "m\u00e9ter\u2019s.csv".encode("cp1252"))
    assert_accepted(
        body, source="m\u00e9ter\u2019s.csv", saved_as="renamedm\u00e9ter\u2019s.csv"
    )


def test_charset_from_the_header_wins() -> None:
    body = SPEC_RECEIPT.replace(b"myfile.csv", "\u00e9.csv".encode("cp1252"))
    assert_accepted(
        body.replace(b"<table>", b'<meta charset="utf-8"><table>'),
        content_type='text/html; charset="windows-1252"',
        source="\u00e9.csv",
        saved_as="renamed\u00e9.csv",
    )


def test_unknown_charset_label_falls_back() -> None:
    assert_accepted(SPEC_RECEIPT, content_type="text/html; charset=x-no-such-thing")


@pytest.mark.parametrize(
    "line",
    [
        b"File Size:13133 File Id:1",
        b"File Size : 13133 File Id : 1",
        b"File Size= 13,133 bytes File Id =1",
        b"File Size (bytes): 13133 File ID# 1",
        b"FileSize: 13133 FileId: 1",
        b"File Size 13133 File Id 1",
        b"File-Size: 13133 File-ID: 1",
    ],
)
def test_label_spellings(line: bytes) -> None:
    body = (
        b"<p>myfile.csv Meter file uploaded and Saved As renamedmyfile.csv</p><p>"
        + line
        + b"</p>"
    )
    assert_accepted(body)


def test_extra_rows_and_text() -> None:
    body = (
        b"<html><head><title>OMAR Online - Upload</title><script>var error = 1;"
        b"</script></head><body><div class=nav>Home | Upload | Log out</div>"
        b"<h2>Upload result</h2><table><tr><td>Participant: ABC</td></tr>"
        + SPEC_RECEIPT[7:-8]
        + b"<tr><td>Note: files must pass validation; errors are reported "
        b"later in File Status.</td></tr></table><!-- error page template -->"
        b"<p>Copyright CAISO</p></body></html>"
    )
    assert_accepted(body)


def test_rows_in_another_order() -> None:
    body = (
        b"<table><tr><td>File Id: 1</td></tr><tr><td>File Size : 13133</td></tr>"
        b"<tr><td>myfile.csv Meter file uploaded and Saved As renamedmyfile.csv"
        b"</td></tr></table>"
    )
    assert_accepted(body)


@pytest.mark.parametrize(
    "body",
    [
        b"<div>myfile.csv Meter file uploaded and Saved As renamedmyfile.csv</div>"
        b"<div>File Size : 13133</div><div>File Id: 1</div>",
        b"<p>myfile.csv Meter file uploaded and Saved As renamedmyfile.csv<br>"
        b"File Size : 13133<br>File Id: 1 (save this file id)</p>",
        b"<dl><dt>Source file:</dt><dd>myfile.csv</dd><dt>Saved As</dt>"
        b"<dd>renamedmyfile.csv</dd><dt>File Size</dt><dd>13133</dd>"
        b"<dt>File Id</dt><dd>1</dd></dl>",
        b"myfile.csv Meter file uploaded and Saved As renamedmyfile.csv "
        b"File Size : 13133 File Id: 1",
    ],
    ids=["divs", "paragraph-br", "label-cells", "plain-text"],
)
def test_divs_paragraphs_and_plain_text(body: bytes) -> None:
    assert_accepted(body)


def test_inline_markup_inside_values() -> None:
    body = (
        b"<p><b>myfile.csv</b> Meter file uploaded and Saved As <span>renamed"
        b"</span><span>myfile.csv</span></p><p>File Size : <b>13133</b></p>"
        b"<p>File Id: <font color=red>1</font></p>"
    )
    assert_accepted(body)


def test_size_in_other_units_is_not_guessed() -> None:
    body = SPEC_RECEIPT.replace(b"13133", b"12.8 KB")
    receipt = parse_receipt(body)
    assert receipt.kind is ReceiptKind.ACCEPTED
    assert receipt.file_size is None


def test_rejected_page_keeps_the_servers_words() -> None:
    body = (
        b"<html><head><title>OMAR-Online Upload Error</title></head><body>"
        b"<h2>File upload failed</h2><p class=error>Error: The file name must not "
        b"exceed 40 characters.</p></body></html>"
    )
    receipt = parse_receipt(body, "text/html; charset=utf-8", status=200)
    assert receipt.kind is ReceiptKind.REJECTED
    assert "must not exceed 40 characters" in receipt.message
    assert receipt.file_id is None
    assert receipt.http_status == 200


@pytest.mark.parametrize(
    "words",
    [b"Invalid file format", b"Files of this type are not allowed", b"Upload rejected"],
)
def test_error_words(words: bytes) -> None:
    receipt = parse_receipt(b"<p>" + words + b"</p>")
    assert receipt.kind is ReceiptKind.REJECTED
    assert receipt.message == words.decode()


@pytest.mark.parametrize(
    "body",
    [
        b"<form method=post action=j_security_check>User <input name=u>"
        b"<input type=password name=p></form>",
        b"<h2>OMAR-Online Login</h2><p>Your session has expired or you are not "
        b"logged in.</p><form action='j_security_check'><input type=submit></form>",
        b"<p>Please select your digital certificate to continue.</p>",
        b"<p>Session timed out. Please log in again.</p>",
    ],
    ids=["password-field", "login-form", "certificate", "session-timeout"],
)
def test_login_or_certificate_page(body: bytes) -> None:
    receipt = parse_receipt(body, status=200)
    assert receipt.kind is ReceiptKind.SESSION_EXPIRED
    assert receipt.file_id is None


def test_401_is_a_session_problem_and_4xx_a_rejection() -> None:
    assert parse_receipt(b"<p>nope</p>", status=401).kind is ReceiptKind.SESSION_EXPIRED
    receipt = parse_receipt(b"<h1>Payload Too Large</h1>", status=413)
    assert receipt.kind is ReceiptKind.REJECTED
    assert receipt.message.startswith("HTTP 413")


def test_a_file_id_with_an_error_status_is_not_accepted() -> None:
    assert parse_receipt(SPEC_RECEIPT, status=404).kind is not ReceiptKind.ACCEPTED


@pytest.mark.parametrize(
    "body",
    [
        b"<p>myfile.csv Meter file uploaded and Saved As renamedmyfile.csv</p>"
        b"<p>File Size : 13133</p>",
        b"<p>myfile.csv Meter file uploaded and Saved As renamedmyfile.csv</p>"
        b"<p>File Id: (save this file id for future reference)</p>",
        b"<p>myfile.csv Saved As renamedmyfile.csv. File Id: pending. Error: "
        b"id service unavailable</p>",
    ],
    ids=["no-id-row", "empty-id", "id-word"],
)
def test_receipt_without_file_id_is_never_accepted_nor_rejected(body: bytes) -> None:
    receipt = parse_receipt(body, status=200)
    assert receipt.kind is ReceiptKind.UNRECOGNISED
    assert "no File Id" in receipt.message


def test_a_page_with_a_password_field_is_never_accepted() -> None:
    body = SPEC_RECEIPT + b"<form><input type=password name=p></form>"
    assert parse_receipt(body).kind is ReceiptKind.SESSION_EXPIRED


def test_garbage_bytes() -> None:
    body = bytes(range(256)) * 40
    receipt = parse_receipt(body, "text/html", status=200)
    assert receipt.kind is ReceiptKind.UNRECOGNISED
    assert receipt.message == f"The reply is not readable text ({len(body):,} bytes)"
    assert receipt.raw


def test_unrelated_page_is_summarised() -> None:
    body = b"<html><title>OMAR-Online</title><p>Welcome. Choose an option.</p>"
    receipt = parse_receipt(body)
    assert receipt.kind is ReceiptKind.UNRECOGNISED
    assert receipt.message == (
        "The reply was not a receipt: OMAR-Online - Welcome. Choose an option."
    )


def test_summary_is_short_and_printable() -> None:
    receipt = parse_receipt(b"<p>" + b"word\x01 " * 500 + b"</p>")
    assert receipt.kind is ReceiptKind.UNRECOGNISED
    assert len(receipt.message) < 260
    assert "\x01" not in receipt.message


@pytest.mark.parametrize("body", [b"", b"   \r\n\t ", b"\xef\xbb\xbf"])
def test_empty_body(body: bytes) -> None:
    receipt = parse_receipt(body)
    assert receipt.kind is ReceiptKind.UNRECOGNISED
    assert receipt.message == "The server sent an empty reply"


def test_deeply_nested_markup_does_not_crash() -> None:
    receipt = parse_receipt(b"<div>" * 5000 + SPEC_RECEIPT)
    assert receipt.kind is ReceiptKind.ACCEPTED


def test_decode_body_rules() -> None:
    assert decode_body(b"\xef\xbb\xbfcaf\xc3\xa9") == "caf\u00e9"
    assert decode_body(b"caf\xc3\xa9") == "caf\u00e9"
    assert decode_body(b"caf\xe9") == "caf\u00e9"
    assert decode_body(b"\x93q\x94", "text/html; charset=iso-8859-1") == (
        "\u201cq\u201d"
    )
    assert decode_body("\u00e9".encode("utf-16"), "text/html; charset=utf-16") == (
        "\u00e9"
    )
    assert decode_body(b"\x81\x8d") == "\ufffd\ufffd"


def test_importing_the_parser_loads_neither_bs4_nor_cryptography() -> None:
    code = (
        "import sys, omar_tui.core.receipt, omar_tui.core.certificates, "
        "omar_tui.core.tls, omar_tui.core.passphrase; "
        "print('bs4' in sys.modules, 'cryptography' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert out.stdout.split() == ["False", "False"]
