"""The OMAR-Online client: requests, sessions and the classification of faults.

Unit tests drive it through in-process transports; integration tests talk real
TLS (verified server, verified client certificate) to the local simulator.
"""

from __future__ import annotations

import asyncio
import logging
import shutil
import socket
import ssl
from collections.abc import AsyncIterator, Callable, Iterator
from email.parser import BytesParser
from email.policy import HTTP
from pathlib import Path
from typing import Any

import httpx
import pytest

from omar_tui.core.client import Connection, OmarClient
from omar_tui.core.models import Receipt, ReceiptKind
from omar_tui.core.tls import ClientIdentity, build_ssl_context
from omar_tui.errors import CertificateError, ConnectionFailed, OutcomeUnknown
from omar_tui.simulator import Simulator, SimulatorFiles
from omar_tui.simulator import pki as sim_pki

BASE = "https://omar.test"
RECEIPT = (
    b"<table><tr><td class=formgray> a.csv  Meter file uploaded and Saved As "
    b"x_a.csv</td></tr><tr><td class=formgray> File Size : 4</td></tr>"
    b"<tr><td class=formgray> File Id: 42 (save this file id)</td></tr></table>"
)


def plain_context() -> ssl.SSLContext:
    return build_ssl_context(ca_bundle=None, identity=None, passphrase=None)


def mock_client(
    handler: Callable[[httpx.Request], httpx.Response], **conn: Any
) -> OmarClient:
    return OmarClient(
        Connection(BASE, **conn),
        plain_context(),
        transport=httpx.MockTransport(handler),
    )


class ScriptedTransport(httpx.AsyncBaseTransport):
    """Fails the way a network can: before or after reading the request body.

    ``read`` is how many body bytes to pull from the request before raising
    ``error`` (``None``: do not touch the body at all).
    """

    def __init__(self, error: BaseException, read: int | None = None) -> None:
        self.error = error
        self.read = read

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self.read is not None:
            taken = 0
            async for chunk in request.stream:  # type: ignore[union-attr]
                taken += len(chunk)
                if taken >= self.read:
                    break
        raise self.error


async def upload_via(
    transport: httpx.AsyncBaseTransport, data: bytes = b"x"
) -> Receipt:
    async with OmarClient(Connection(BASE), plain_context(), transport=transport) as c:
        return await c.upload("a.csv", data)


def parse_multipart(request: httpx.Request, body: bytes) -> list[Any]:
    head = f"Content-Type: {request.headers['content-type']}\r\n\r\n".encode()
    message = BytesParser(policy=HTTP).parsebytes(head + body)
    return list(message.iter_parts())


# --- requests ---


def test_connection_url_joins_paths() -> None:
    assert Connection("https://h").url("/uploadProcess.jsp") == (
        "https://h/uploadProcess.jsp"
    )
    assert Connection("https://h/omar/").url("uploadProcess.jsp") == (
        "https://h/omar/uploadProcess.jsp"
    )


async def test_upload_sends_one_multipart_file_exactly() -> None:
    data = b"a,b\r\n\x00\xff\xe9,\n--not-a-boundary\r\n" * 3
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, content=RECEIPT)

    async with mock_client(handler, user_agent="Mozilla/4.0 test") as client:
        receipt = await client.upload("a.csv", data)

    assert receipt.kind is ReceiptKind.ACCEPTED
    assert receipt.file_id == "42"
    assert receipt.http_status == 200
    (request,) = seen
    assert request.method == "POST"
    assert str(request.url) == f"{BASE}/uploadProcess.jsp"
    assert request.headers["user-agent"] == "Mozilla/4.0 test"
    assert "transfer-encoding" not in request.headers
    body = request.content
    assert int(request.headers["content-length"]) == len(body)
    (part,) = parse_multipart(request, body)
    assert part.get_param("name", header="content-disposition") == "datafile"
    assert part.get_filename() == "a.csv"
    assert part.get_content_type() == "application/octet-stream"
    assert part.get_payload(decode=True) == data


async def test_default_user_agent_names_the_tool() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, content=RECEIPT)

    async with mock_client(handler) as client:
        await client.upload("a.csv", b"x")
    assert seen[0].headers["user-agent"].startswith("omar-tui/")


async def test_session_follows_same_host_redirects_and_keeps_cookies() -> None:
    seen: list[tuple[str, str | None]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append((request.url.path, request.headers.get("cookie")))
        if request.url.path == "/":
            return httpx.Response(
                302, headers={"Location": "/home", "Set-Cookie": "A=1; Path=/"}
            )
        if request.url.path == "/home":
            return httpx.Response(
                200, headers={"Set-Cookie": "JSESSIONID=SECRETCOOKIE; Path=/; Secure"}
            )
        return httpx.Response(200, content=RECEIPT)

    async with mock_client(handler) as client:
        await client.open_session()
        await client.upload("a.csv", b"x")

    assert [path for path, _ in seen] == ["/", "/home", "/uploadProcess.jsp"]
    cookie = seen[2][1] or ""
    assert "A=1" in cookie and "JSESSIONID=SECRETCOOKIE" in cookie


async def test_session_does_not_follow_another_host() -> None:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        return httpx.Response(302, headers={"Location": "https://elsewhere.test/"})

    async with mock_client(handler) as client:
        await client.open_session()
    assert seen == [f"{BASE}/"]


async def test_session_redirect_loop_is_refused() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(302, headers={"Location": "/"})

    async with mock_client(handler) as client:
        with pytest.raises(ConnectionFailed) as info:
            await client.open_session()
    assert "keeps redirecting" in info.value.title
    assert info.value.retryable is False


@pytest.mark.parametrize(
    ("status", "error"), [(503, ConnectionFailed), (403, CertificateError)]
)
async def test_session_error_statuses(status: int, error: type[Exception]) -> None:
    async with mock_client(lambda r: httpx.Response(status)) as client:
        with pytest.raises(error):
            await client.open_session()


async def test_session_404_is_only_logged(caplog: pytest.LogCaptureFixture) -> None:
    async with mock_client(lambda r: httpx.Response(404)) as client:
        await client.open_session()
    assert "answered HTTP 404" in caplog.text


async def test_client_must_be_entered() -> None:
    client = mock_client(lambda r: httpx.Response(200))
    with pytest.raises(RuntimeError):
        await client.upload("a.csv", b"x")


# --- classification of replies ---


@pytest.mark.parametrize("status", [500, 502, 503])
async def test_5xx_is_unknown(status: int) -> None:
    async with mock_client(lambda r: httpx.Response(status)) as client:
        with pytest.raises(OutcomeUnknown) as info:
            await client.upload("a.csv", b"x")
    assert f"HTTP {status}" in info.value.title
    assert "OMAR-Online" in info.value.hint


@pytest.mark.parametrize(
    ("status", "location"),
    [
        (302, "/login.jsp"),
        (303, "https://omar.test/sso/logon?next=/uploadProcess.jsp"),
        (302, "/"),
        (301, "/;jsessionid=ABC"),
        (307, f"{BASE}/"),
    ],
)
async def test_redirect_to_login_or_session_page_is_session_expired(
    status: int, location: str
) -> None:
    reply = httpx.Response(status, headers={"Location": location})
    async with mock_client(lambda r: reply) as client:
        receipt = await client.upload("a.csv", b"x")
    assert receipt.kind is ReceiptKind.SESSION_EXPIRED
    assert receipt.http_status == status
    assert "ABC" not in receipt.message


@pytest.mark.parametrize("status", [307, 308])
async def test_307_308_are_not_followed(status: int) -> None:
    calls: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request.url.path)
        return httpx.Response(status, headers={"Location": "/upload/new.jsp"})

    async with mock_client(handler) as client:
        with pytest.raises(ConnectionFailed) as info:
            await client.upload("a.csv", b"x")
    assert calls == ["/uploadProcess.jsp"]
    assert "redirected the upload" in info.value.title
    assert "nothing was processed" in info.value.title
    assert info.value.retryable is False


@pytest.mark.parametrize(
    ("status", "location"), [(303, "/receipt.jsp?id=1"), (301, "/x"), (302, "")]
)
async def test_other_redirects_are_unknown(status: int, location: str) -> None:
    reply = httpx.Response(status, headers={"Location": location} if location else {})
    async with mock_client(lambda r: reply) as client:
        with pytest.raises(OutcomeUnknown):
            await client.upload("a.csv", b"x")


async def test_4xx_page_is_parsed_with_its_status() -> None:
    reply = httpx.Response(413, content=b"<h1>Request Entity Too Large</h1>")
    async with mock_client(lambda r: reply) as client:
        receipt = await client.upload("a.csv", b"x")
    assert receipt.kind is ReceiptKind.REJECTED
    assert receipt.http_status == 413


async def test_reply_charset_from_the_header() -> None:
    body = RECEIPT.replace(b"a.csv", "\u00e9.csv".encode("cp1252"))
    reply = httpx.Response(
        200, content=body, headers={"Content-Type": "text/html; charset=windows-1252"}
    )
    async with mock_client(lambda r: reply) as client:
        receipt = await client.upload("a.csv", b"x")
    assert receipt.source_name == "\u00e9.csv"


async def test_huge_reply_is_capped_and_not_downloaded() -> None:
    produced = 0

    async def endless() -> AsyncIterator[bytes]:
        nonlocal produced
        block = b"<p>" + b"OMAR " * 13_000 + b"</p>"
        while produced < 50_000_000:
            produced += len(block)
            yield block

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=endless())

    async with mock_client(handler, max_reply_bytes=100_000) as client:
        receipt = await client.upload("a.csv", b"x")
    assert receipt.kind is ReceiptKind.UNRECOGNISED
    assert len(receipt.raw) == 100_000
    assert produced < 300_000


async def test_reply_broken_mid_body_is_unknown() -> None:
    async def broken() -> AsyncIterator[bytes]:
        yield b"<table><tr><td>a.csv Meter file"
        raise httpx.ReadError("connection reset")

    async with mock_client(lambda r: httpx.Response(200, content=broken())) as client:
        with pytest.raises(OutcomeUnknown, match="could not be read"):
            await client.upload("a.csv", b"x")


# --- classification of transport faults ---


@pytest.mark.parametrize(
    "error",
    [
        httpx.ConnectError("[Errno 111] refused"),
        httpx.ConnectTimeout("timed out"),
        httpx.ProxyError("407 Proxy Authentication Required"),
        httpx.RemoteProtocolError("Server disconnected without sending a response."),
        httpx.WriteError("broken pipe"),
    ],
    ids=["refused", "connect-timeout", "proxy", "stale-keepalive", "write-headers"],
)
async def test_faults_before_the_body_left_are_not_delivered(
    error: Exception,
) -> None:
    with pytest.raises(ConnectionFailed) as info:
        await upload_via(ScriptedTransport(error, read=None))
    assert info.value.retryable is True


@pytest.mark.parametrize(
    "error",
    [
        httpx.WriteError("broken pipe"),
        httpx.WriteTimeout("stalled"),
        httpx.ReadTimeout("slow"),
        httpx.ReadError("reset"),
        httpx.RemoteProtocolError("Server disconnected without sending a response."),
    ],
    ids=["write-error", "write-timeout", "read-timeout", "read-error", "dropped"],
)
async def test_faults_after_the_body_started_are_unknown(error: Exception) -> None:
    data = b"y" * 200_000  # several chunks: the failure comes mid-body
    with pytest.raises(OutcomeUnknown) as info:
        await upload_via(ScriptedTransport(error, read=1), data)
    assert "OMAR-Online" in info.value.hint


async def test_dns_failure_is_named() -> None:
    error = httpx.ConnectError("name resolution")
    error.__cause__ = socket.gaierror(-2, "Name or service not known")
    with pytest.raises(ConnectionFailed) as info:
        await upload_via(ScriptedTransport(error))
    assert info.value.title == "Cannot find the server omar.test"


async def test_untrusted_server_certificate_is_named() -> None:
    verify = ssl.SSLCertVerificationError(1, "certificate verify failed")
    verify.verify_code = 20
    verify.verify_message = "unable to get local issuer certificate"
    error = httpx.ConnectError("verify failed")
    error.__cause__ = verify
    with pytest.raises(ConnectionFailed) as info:
        await upload_via(ScriptedTransport(error))
    assert info.value.title.startswith("The server's certificate is not trusted")
    assert "ca_bundle" in info.value.hint
    assert info.value.retryable is False


async def test_certificate_alert_after_the_body_means_not_processed() -> None:
    alert = ssl.SSLError(1, "[SSL: TLSV13_ALERT_CERTIFICATE_REQUIRED] alert")
    with pytest.raises(ConnectionFailed) as info:
        await upload_via(ScriptedTransport(alert, read=1))
    assert "refused the client certificate" in info.value.title
    assert info.value.retryable is False


async def test_uploads_run_one_at_a_time() -> None:
    active = 0
    most = 0

    class Counting(httpx.AsyncBaseTransport):
        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            nonlocal active, most
            active += 1
            most = max(most, active)
            for _ in range(5):
                await asyncio.sleep(0)
            await request.aread()
            active -= 1
            return httpx.Response(200, content=RECEIPT)

    async with OmarClient(
        Connection(BASE), plain_context(), transport=Counting()
    ) as client:
        receipts = await asyncio.gather(
            *(client.upload(f"{i}.csv", b"x") for i in range(4))
        )
    assert [r.kind for r in receipts] == [ReceiptKind.ACCEPTED] * 4
    assert most == 1


async def test_one_log_line_per_request_without_secrets(
    caplog: pytest.LogCaptureFixture,
) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "GET":
            return httpx.Response(
                200, headers={"Set-Cookie": "JSESSIONID=SECRETCOOKIE"}
            )
        return httpx.Response(200, content=RECEIPT)

    caplog.set_level(logging.INFO, logger="omar_tui.client")
    async with mock_client(handler, session_path="/;jsessionid=SECRETID") as client:
        await client.open_session()
        await client.upload("a.csv", b"abcd")

    lines = [r.getMessage() for r in caplog.records if r.name == "omar_tui.client"]
    assert len(lines) == 2
    assert lines[0].startswith("GET / 200 sent=0 received=0 ")
    assert lines[1].startswith("POST /uploadProcess.jsp 200 sent=")
    assert lines[1].endswith(" ms")
    assert "SECRETCOOKIE" not in caplog.text
    assert "SECRETID" not in caplog.text


async def test_failed_requests_are_logged_too(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="omar_tui.client")
    with pytest.raises(ConnectionFailed):
        await upload_via(ScriptedTransport(httpx.ConnectError("refused")))
    (line,) = [r.getMessage() for r in caplog.records if r.name == "omar_tui.client"]
    assert line.startswith("POST /uploadProcess.jsp ConnectError sent=0 received=0")


# --- proxies ---


@pytest.mark.parametrize("proxy", ["ftp://proxy.test", "socks5://127.0.0.1:1"])
async def test_bad_proxy_setting_is_a_clear_error(proxy: str) -> None:
    client = OmarClient(Connection(BASE, proxy=proxy), plain_context())
    with pytest.raises(ConnectionFailed, match="proxy setting") as info:
        await client.__aenter__()
    assert info.value.retryable is False


# --- integration with the simulator (real TLS, verified both ways) ---


def copy_pki(shared_pki: Path, tmp_path: Path, name: str) -> Path:
    state = tmp_path / name
    shutil.copytree(shared_pki, state)
    return state


def identities(files: SimulatorFiles) -> dict[str, tuple[ClientIdentity, str | None]]:
    return {
        "pem": (ClientIdentity(files.client_cert, files.client_key), None),
        "encrypted-pem": (
            ClientIdentity(files.client_cert, files.client_key_encrypted),
            files.client_key_password,
        ),
        "p12": (ClientIdentity(files.client_p12), files.p12_password),
    }


def sim_client(
    sim: Simulator,
    shape: str | None = "pem",
    *,
    ca_bundle: Path | None = None,
    identity: ClientIdentity | None = None,
    **conn: Any,
) -> OmarClient:
    secret = None
    if identity is None and shape is not None:
        identity, secret = identities(sim.files)[shape]
    context = build_ssl_context(
        ca_bundle=ca_bundle or sim.files.ca_cert, identity=identity, passphrase=secret
    )
    return OmarClient(Connection(sim.base_url, **conn), context)


@pytest.mark.parametrize("shape", ["pem", "encrypted-pem", "p12"])
async def test_upload_to_the_simulator(simulator: Simulator, shape: str) -> None:
    data = b"\xef\xbb\xbfHEADER,1\r\nrow,\xe9\x00\r\n" * 50
    async with sim_client(simulator, shape) as client:
        await client.open_session()
        receipt = await client.upload("meter_2026.csv", data)

    (stored,) = simulator.received
    assert stored.data == data
    assert stored.original_name == "meter_2026.csv"
    assert stored.client_subject is not None
    assert receipt.kind is ReceiptKind.ACCEPTED
    assert receipt.file_id == str(stored.file_id)
    assert receipt.saved_as == stored.saved_as
    assert receipt.source_name == "meter_2026.csv"
    assert receipt.file_size == len(data)
    assert receipt.http_status == 200


async def test_one_connection_carries_session_and_uploads(simulator: Simulator) -> None:
    async with sim_client(simulator) as client:
        await client.open_session()
        first = await client.upload("a.csv", b"1\n")
        second = await client.upload("b.csv", b"2\n")
    assert int(second.file_id or 0) == int(first.file_id or 0) + 1
    assert simulator.requests.tls_connections == 1


@pytest.fixture
def pha_simulator(shared_pki: Path, tmp_path: Path) -> Iterator[Simulator]:
    """Asks for the client certificate only on the upload path (TLS 1.3 PHA)."""
    state = copy_pki(shared_pki, tmp_path, "pha")
    with Simulator(state, client_cert="upload-only") as sim:
        yield sim


@pytest.mark.parametrize("shape", ["pem", "p12"])
async def test_certificate_asked_after_the_handshake(
    pha_simulator: Simulator, shape: str
) -> None:
    async with sim_client(pha_simulator, shape) as client:
        await client.open_session()
        receipt = await client.upload("a.csv", b"late,cert\n")
    assert receipt.kind is ReceiptKind.ACCEPTED
    assert pha_simulator.received[0].client_subject is not None


async def test_no_certificate_when_asked_after_the_handshake(
    pha_simulator: Simulator,
) -> None:
    async with sim_client(pha_simulator, None) as client:
        await client.open_session()  # the session page needs no certificate here
        with pytest.raises(ConnectionFailed) as info:
            await client.upload("a.csv", b"x\n")
    assert "refused the client certificate" in info.value.title
    assert info.value.retryable is False
    assert pha_simulator.received == []


async def test_no_client_certificate_is_refused(simulator: Simulator) -> None:
    async with sim_client(simulator, None) as client:
        with pytest.raises(CertificateError) as info:
            await client.open_session()
    assert info.value.title == "OMAR-Online refused the client certificate"


async def test_untrusted_client_certificate_is_refused(
    simulator: Simulator, tmp_path: Path
) -> None:
    stranger = sim_pki.issue_untrusted_client_cert(tmp_path / "stranger")
    identity = ClientIdentity(stranger.cert_path, stranger.key_path)
    async with sim_client(simulator, identity=identity) as client:
        with pytest.raises(CertificateError, match="refused the client certificate"):
            await client.open_session()


async def test_untrusted_server_ca(simulator: Simulator, tmp_path: Path) -> None:
    other = sim_pki.issue_untrusted_client_cert(tmp_path / "other")
    assert other.ca_cert_path is not None
    async with sim_client(simulator, ca_bundle=other.ca_cert_path) as client:
        with pytest.raises(ConnectionFailed) as info:
            await client.open_session()
        with pytest.raises(ConnectionFailed) as upload_info:
            await client.upload("a.csv", b"x\n")
    assert info.value.title.startswith("The server's certificate is not trusted")
    assert info.value.retryable is False
    assert upload_info.value.title == info.value.title
    assert simulator.received == []


async def test_expired_server_certificate(shared_pki: Path, tmp_path: Path) -> None:
    state = copy_pki(shared_pki, tmp_path, "expired")
    files = sim_pki.ensure_pki(state, key_type="ec")
    expired = sim_pki.issue_expired_server_cert(files, tmp_path / "exp")
    with Simulator(state, server_cert=expired) as sim:
        async with sim_client(sim) as client:
            with pytest.raises(ConnectionFailed) as info:
                await client.open_session()
    assert info.value.title.startswith("The server's certificate has expired")


async def test_connection_refused(simulator: Simulator) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    context = build_ssl_context(
        ca_bundle=simulator.files.ca_cert, identity=None, passphrase=None
    )
    async with OmarClient(Connection(f"https://127.0.0.1:{port}"), context) as client:
        with pytest.raises(ConnectionFailed) as info:
            await client.upload("a.csv", b"x\n")
    assert info.value.title == "127.0.0.1 refused the connection"
    assert info.value.retryable is True


# --- simulator faults ---


async def upload_with_fault(
    sim: Simulator, fault: str, **conn: Any
) -> Receipt | BaseException:
    async with sim_client(sim, **conn) as client:
        await client.open_session()
        sim.faults.set(fault)
        try:
            return await client.upload("a.csv", b"fault,test\n")
        except (ConnectionFailed, OutcomeUnknown) as exc:
            return exc


async def test_fault_http_500(simulator: Simulator) -> None:
    result = await upload_with_fault(simulator, "http_500")
    assert isinstance(result, OutcomeUnknown)
    assert "HTTP 500" in result.title


async def test_fault_drop_after_body(simulator: Simulator) -> None:
    result = await upload_with_fault(simulator, "drop_after_body")
    assert isinstance(result, OutcomeUnknown)
    assert len(simulator.received) == 1  # why it must be "unknown": it arrived


@pytest.mark.parametrize(
    ("fault", "kind"),
    [
        ("garbage", ReceiptKind.UNRECOGNISED),
        ("no_receipt", ReceiptKind.UNRECOGNISED),
        ("expire_session", ReceiptKind.SESSION_EXPIRED),
        ("redirect_login", ReceiptKind.SESSION_EXPIRED),
    ],
)
async def test_fault_pages(simulator: Simulator, fault: str, kind: ReceiptKind) -> None:
    result = await upload_with_fault(simulator, fault)
    assert isinstance(result, Receipt)
    assert result.kind is kind
    assert result.file_id is None


async def test_fault_redirect_login_keeps_the_status(simulator: Simulator) -> None:
    result = await upload_with_fault(simulator, "redirect_login")
    assert isinstance(result, Receipt)
    assert result.http_status == 302


async def test_fault_redirect_307(simulator: Simulator) -> None:
    result = await upload_with_fault(simulator, "redirect_307")
    assert isinstance(result, ConnectionFailed)
    assert result.retryable is False
    assert simulator.received == []


async def test_fault_huge_reply_is_capped(simulator: Simulator) -> None:
    simulator.faults.huge_reply_bytes = 20_000_000
    result = await upload_with_fault(simulator, "huge_reply", max_reply_bytes=50_000)
    assert isinstance(result, Receipt)
    assert result.kind is ReceiptKind.UNRECOGNISED
    assert len(result.raw) <= 50_000


async def test_fault_read_timeout(simulator: Simulator) -> None:
    # The simulator would wait 60 s; the client gives up after 0.2 s.
    result = await upload_with_fault(simulator, "delay=60", read_timeout=0.2)
    assert isinstance(result, OutcomeUnknown)
    assert result.title == "No reply from OMAR-Online in time after the file was sent"


async def test_malformed_proxy_environment_does_not_crash(
    simulator: Simulator,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # A proxy nothing listens on, which must be bypassed for 127.0.0.1; the
    # IPv6 entries are ones httpx itself cannot parse.
    monkeypatch.setenv("HTTPS_PROXY", "http://127.0.0.1:9")
    monkeypatch.setenv("NO_PROXY", "[::1],fe80::/10,127.0.0.1")
    async with sim_client(simulator) as client:
        await client.open_session()
        receipt = await client.upload("a.csv", b"proxy\n")
    assert receipt.kind is ReceiptKind.ACCEPTED
    assert "proxy settings in the environment are malformed" in caplog.text


async def test_proxy_from_the_environment_is_used(
    simulator: Simulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HTTPS_PROXY", "http://127.0.0.1:9")
    monkeypatch.setenv("NO_PROXY", "[::1]")  # malformed for httpx, and not ours
    async with sim_client(simulator) as client:
        with pytest.raises(ConnectionFailed):
            await client.open_session()
    assert simulator.requests.gets == 0


def test_certificate_probe(simulator: Simulator) -> None:
    from omar_tui.core.network_errors import probe_refuses_certificate

    ca = simulator.files.ca_cert
    bare = build_ssl_context(ca_bundle=ca, identity=None, passphrase=None)
    identity, _ = identities(simulator.files)["pem"]
    good = build_ssl_context(ca_bundle=ca, identity=identity, passphrase=None)
    port = simulator.port
    assert probe_refuses_certificate(bare, "127.0.0.1", port, 5.0) is True
    # Accepted: the server waits for a request, and the probe gives up.
    assert probe_refuses_certificate(good, "127.0.0.1", port, 0.2) is False


async def test_dropped_session_without_certificate_trouble_is_a_connection_fault() -> (
    None
):
    with pytest.raises(ConnectionFailed) as info:
        async with OmarClient(
            Connection(BASE),
            plain_context(),
            transport=ScriptedTransport(httpx.RemoteProtocolError("dropped")),
        ) as client:
            await client.open_session()
    assert info.value.title == "Cannot connect to omar.test"
