"""The local OMAR-Online simulator behaves like a real server to real clients."""

from __future__ import annotations

import io
import re
import shutil
import signal
import socket
import ssl
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import load_pem_private_key, pkcs12

from omar_tui.errors import UsageError
from omar_tui.simulator import Simulator, SimulatorFiles, ensure_pki, multipart
from omar_tui.simulator.cli import default_state_dir, run_simulator
from omar_tui.simulator.faults import Faults
from omar_tui.simulator.pki import (
    issue_client_cert,
    issue_expired_server_cert,
    issue_untrusted_client_cert,
    write_legacy_p12,
)

RECEIPT = re.compile(
    r"<td class=formgray>\s*(?P<name>\S+)  Meter file uploaded and Saved As "
    r"(?P<saved>\S+)\s*</td>.*File Size : (?P<size>\d+).*File Id: (?P<id>\d+) "
    r"\(save this file id",
    re.S,
)
AES256_CBC_OID = bytes.fromhex("060960864801650304012a")
TRIPLE_DES_PBE_OID = bytes.fromhex("060a2a864886f70d010c0103")


# -- fixtures ------------------------------------------------------------------


@pytest.fixture(scope="session")
def pki_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One PKI for the whole run: copied into each test's state folder."""
    state = tmp_path_factory.mktemp("simulator-pki") / "state"
    ensure_pki(state, key_type="ec")
    return state


@pytest.fixture
def state_dir(pki_template: Path, tmp_path: Path) -> Path:
    state = tmp_path / "state"
    shutil.copytree(pki_template, state)
    return state


@pytest.fixture
def sim(state_dir: Path) -> Iterator[Simulator]:
    with Simulator(state_dir) as running:
        yield running


def context(
    files: SimulatorFiles,
    cert: Path | None = None,
    key: Path | None = None,
    *,
    with_cert: bool = True,
    pha: bool = True,
) -> ssl.SSLContext:
    """A client context trusting the simulator's CA, with a client certificate."""
    ctx = ssl.create_default_context(cafile=str(files.ca_cert))
    if with_cert:
        ctx.load_cert_chain(cert or files.client_cert, key or files.client_key)
    ctx.post_handshake_auth = pha
    return ctx


def make_client(sim: Simulator, ctx: ssl.SSLContext | None = None) -> httpx.Client:
    return httpx.Client(
        base_url=sim.base_url, verify=ctx or context(sim.files), timeout=10
    )


@pytest.fixture
def client(sim: Simulator) -> Iterator[httpx.Client]:
    """A client that has opened a session."""
    with make_client(sim) as c:
        assert c.get("/").status_code == 200
        yield c


def upload(
    client: httpx.Client,
    name: str = "meter.csv",
    data: bytes = b"a,b\r\n1,2\r\n",
    path: str = "/uploadProcess.jsp",
) -> httpx.Response:
    return client.post(path, files={"datafile": (name, data, "text/csv")})


def receipt(response: httpx.Response) -> re.Match[str]:
    match = RECEIPT.search(response.text)
    assert match, response.text
    return match


# -- PKI -----------------------------------------------------------------------


def test_pki_files_have_private_modes_and_every_shape(pki_template: Path) -> None:
    files = ensure_pki(pki_template, key_type="ec")

    assert stat.S_IMODE(files.state_dir.stat().st_mode) == 0o700
    for private in (
        files.ca_key,
        files.server_key,
        files.client_key,
        files.client_key_encrypted,
        files.client_p12,
        files.passwords_file,
    ):
        assert stat.S_IMODE(private.stat().st_mode) == 0o600, private

    cert = x509.load_pem_x509_certificate(files.client_cert.read_bytes())
    assert cert.subject.rfc4514_string() == (
        "CN=Demo Operator,O=Demo Scheduling Coordinator"
    )

    encrypted = files.client_key_encrypted.read_bytes()
    with pytest.raises(TypeError):
        load_pem_private_key(encrypted, None)
    key = load_pem_private_key(encrypted, files.client_key_password.encode())
    assert key.public_key() == cert.public_key()

    p12 = files.client_p12.read_bytes()
    p12_key, p12_cert, extra = pkcs12.load_key_and_certificates(
        p12, files.p12_password.encode()
    )
    assert p12_cert == cert and p12_key is not None
    ca = x509.load_pem_x509_certificate(files.ca_cert.read_bytes())
    assert extra == [ca]
    assert AES256_CBC_OID in p12

    passwords = files.passwords_file.read_text()
    assert files.client_key_password in passwords and files.p12_password in passwords


def test_server_certificate_names_loopback_only(pki_template: Path) -> None:
    files = ensure_pki(pki_template, key_type="ec")
    cert = x509.load_pem_x509_certificate(files.server_cert.read_bytes())
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value

    assert san.get_values_for_type(x509.DNSName) == ["localhost"]
    assert {str(ip) for ip in san.get_values_for_type(x509.IPAddress)} == {
        "127.0.0.1",
        "::1",
    }


def test_pki_is_reused_and_repaired(state_dir: Path) -> None:
    first = ensure_pki(state_dir)
    ca_bytes = first.ca_cert.read_bytes()
    client_bytes = first.client_cert.read_bytes()

    again = ensure_pki(state_dir)
    assert again == first
    assert again.p12_password == first.p12_password
    assert first.client_cert.read_bytes() == client_bytes

    first.client_p12.unlink()
    repaired = ensure_pki(state_dir)
    assert repaired.ca_cert.read_bytes() == ca_bytes
    assert repaired.client_cert.read_bytes() != client_bytes
    assert repaired.p12_password != first.p12_password
    assert repaired.client_p12.exists()


def test_issue_client_cert_with_chosen_validity(state_dir: Path) -> None:
    files = ensure_pki(state_dir)
    now = datetime.now(UTC)

    soon = issue_client_cert(files, state_dir / "x", valid_for=timedelta(days=5))
    left = soon.cert.not_valid_after_utc - now
    assert timedelta(days=4) < left <= timedelta(days=5)

    expired = issue_client_cert(
        files, state_dir / "x", name="old", not_after=now - timedelta(days=1)
    )
    assert expired.cert.not_valid_after_utc < now
    assert expired.cert.not_valid_before_utc < expired.cert.not_valid_after_utc


def test_legacy_p12_uses_triple_des(state_dir: Path) -> None:
    files = ensure_pki(state_dir)
    path = state_dir / "legacy.p12"

    password = write_legacy_p12(files, path)

    data = path.read_bytes()
    assert TRIPLE_DES_PBE_OID in data
    key, cert, _ = pkcs12.load_key_and_certificates(data, password.encode())
    assert key is not None and cert is not None


# -- sessions and receipts -----------------------------------------------------


def test_get_sets_a_secure_session_cookie(sim: Simulator) -> None:
    with make_client(sim) as c:
        first = c.get("/")
        second = c.get("/")

    cookie = first.headers["set-cookie"]
    assert re.fullmatch(r"JSESSIONID=[0-9A-F]{32}; Path=/; Secure; HttpOnly", cookie)
    assert 'NAME="datafile"' in first.text
    assert "set-cookie" not in second.headers  # the session is kept


def test_upload_gets_a_receipt_and_the_exact_bytes_are_stored(
    sim: Simulator, client: httpx.Client
) -> None:
    data = b"a,b\r\n--boundary-like\r\n\xe9\x00 trailing\r\n\r\n"

    response = upload(client, "meter_2024.csv", data)

    assert response.status_code == 200
    match = receipt(response)
    assert match["name"] == "meter_2024.csv"
    assert match["saved"].endswith("_1_meter_2024.csv")
    assert int(match["size"]) == len(data)
    assert match["id"] == "1"

    (got,) = sim.received
    assert got.data == data
    assert got.path.read_bytes() == data
    assert got.file_id == 1 and got.saved_as == match["saved"]
    assert got.client_subject == "CN=Demo Operator,O=Demo Scheduling Coordinator"


def test_upload_without_session_gets_the_login_page(sim: Simulator) -> None:
    with make_client(sim) as c:
        response = upload(c)

    assert response.status_code == 200
    assert "Login" in response.text and "certificate" in response.text
    assert "File Id" not in response.text
    assert sim.received == []


@pytest.mark.parametrize(
    ("files", "message"),
    [
        ({"other": ("meter.csv", b"x")}, "No datafile field"),
        (
            [("datafile", ("a.csv", b"x")), ("datafile", ("b.csv", b"y"))],
            "More than one file",
        ),
        ({"datafile": ("meter.csv", b"x" * 512_000)}, "less than 500KB"),
        ({"datafile": ("meter.txt", b"x")}, ".csv or .dat"),
        ({"datafile": ("m" * 37 + ".csv", b"x")}, "must not exceed 40"),
        ({"datafile": ("meter.csv", b"")}, "empty"),
        ({"datafile": ("", b"x")}, "No file was selected"),
    ],
)
def test_rule_violations_get_an_error_page(
    sim: Simulator, client: httpx.Client, files: object, message: str
) -> None:
    response = client.post("/uploadProcess.jsp", files=files)  # type: ignore[arg-type]

    assert response.status_code == 200
    assert message in response.text
    assert "File Id" not in response.text
    assert sim.received == []


@pytest.mark.parametrize(
    ("name", "size"),
    [("m" * 36 + ".csv", 1), ("METER.CSV", 1), ("meter.Dat", 511_999)],
)
def test_limits_are_inclusive_where_the_spec_says(
    client: httpx.Client, name: str, size: int
) -> None:
    match = receipt(upload(client, name, b"x" * size))
    assert match["name"] == name and int(match["size"]) == size


def test_path_in_the_filename_is_dropped(sim: Simulator, client: httpx.Client) -> None:
    match = receipt(upload(client, "C:\\data\\meter.csv"))
    assert match["name"] == "meter.csv"


def test_wrong_method_and_body_are_refused(
    sim: Simulator, client: httpx.Client
) -> None:
    assert client.get("/uploadProcess.jsp").status_code == 405
    put = client.put("/uploadProcess.jsp", content=b"x")
    assert put.status_code == 405 and put.headers["allow"] == "POST"

    form = client.post("/uploadProcess.jsp", data={"datafile": "meter.csv"})
    assert "not multipart/form-data" in form.text

    broken = client.post(
        "/uploadProcess.jsp",
        content=b"no boundary here",
        headers={"Content-Type": "multipart/form-data; boundary=XYZ"},
    )
    assert "malformed" in broken.text
    assert client.get("/nowhere").status_code == 404
    assert sim.received == []


def test_file_ids_increase_and_persist_across_restarts(state_dir: Path) -> None:
    with Simulator(state_dir) as sim, make_client(sim) as c:
        c.get("/")
        ids = [receipt(upload(c))["id"] for _ in range(2)]
        client_cert = sim.files.client_cert.read_bytes()

    with Simulator(state_dir) as sim, make_client(sim) as c:
        c.get("/")
        ids.append(receipt(upload(c))["id"])
        assert sim.files.client_cert.read_bytes() == client_cert

    assert ids == ["1", "2", "3"]
    assert len(list((state_dir / "received").iterdir())) == 3


def test_one_connection_carries_a_batch(sim: Simulator, client: httpx.Client) -> None:
    for _ in range(3):
        receipt(upload(client))

    assert sim.requests.tls_connections == 1
    assert (sim.requests.gets, sim.requests.posts, sim.requests.uploads) == (1, 3, 3)


def test_custom_paths(state_dir: Path) -> None:
    with (
        Simulator(state_dir, session_path="/omar/", upload_path="/omar/up.jsp") as sim,
        make_client(sim) as c,
    ):
        assert "set-cookie" in c.get("/omar/").headers
        receipt(upload(c, path="/omar/up.jsp"))


# -- certificates at the handshake --------------------------------------------


def assert_refused(sim: Simulator, ctx: ssl.SSLContext) -> None:
    with make_client(sim, ctx) as c, pytest.raises(httpx.TransportError):
        c.get("/")
    assert sim.received == []


def test_no_client_certificate_is_refused(sim: Simulator) -> None:
    assert_refused(sim, context(sim.files, with_cert=False))


def test_untrusted_client_certificate_is_refused(
    sim: Simulator, tmp_path: Path
) -> None:
    other = issue_untrusted_client_cert(tmp_path)
    assert_refused(sim, context(sim.files, other.cert_path, other.key_path))


def test_expired_client_certificate_is_refused(sim: Simulator, tmp_path: Path) -> None:
    old = issue_client_cert(
        sim.files, tmp_path, not_after=datetime.now(UTC) - timedelta(days=1)
    )
    assert_refused(sim, context(sim.files, old.cert_path, old.key_path))


def test_expired_server_certificate_fails_verification(
    state_dir: Path, tmp_path: Path
) -> None:
    files = ensure_pki(state_dir)
    expired = issue_expired_server_cert(files, tmp_path)

    with Simulator(state_dir, server_cert=expired) as sim, make_client(sim) as c:
        with pytest.raises(httpx.ConnectError, match="expired"):
            c.get("/")


def test_upload_only_mode_asks_for_the_certificate_after_the_handshake(
    state_dir: Path,
) -> None:
    with Simulator(state_dir, client_cert="upload-only") as sim:
        with make_client(sim, context(sim.files, with_cert=False)) as anonymous:
            assert anonymous.get("/").status_code == 200
            with pytest.raises(httpx.TransportError):
                upload(anonymous)

        with make_client(sim, context(sim.files, pha=False)) as no_pha:
            no_pha.get("/")
            assert upload(no_pha).status_code == 403

        with make_client(sim) as c:
            c.get("/")
            receipt(upload(c))
            receipt(upload(c))  # the certificate stays on the connection

        assert [r.client_subject for r in sim.received] == [
            "CN=Demo Operator,O=Demo Scheduling Coordinator"
        ] * 2


# -- faults --------------------------------------------------------------------


@pytest.fixture
def pauses(sim: Simulator, monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Record the simulator's waits instead of sleeping: no test hangs on time."""
    seen: list[float] = []

    def pause(seconds: float) -> bool:
        if seconds > 0:
            seen.append(seconds)
        return False

    monkeypatch.setattr(sim, "_pause", pause)
    return seen


def test_delay_and_latency_wait_where_they_should(
    sim: Simulator, client: httpx.Client, pauses: list[float]
) -> None:
    sim.faults.latency = 0.25
    sim.faults.once("delay", seconds=3.0)

    receipt(upload(client))
    receipt(upload(client))
    client.get("/")

    assert pauses == [0.25, 3.0, 0.25, 0.25]


def test_drop_after_body_closes_without_reply_but_stores(
    sim: Simulator, client: httpx.Client
) -> None:
    sim.faults.once("drop_after_body")

    with pytest.raises(httpx.RemoteProtocolError):
        upload(client)

    assert len(sim.received) == 1
    receipt(upload(client))  # the client reconnects; the server is fine


def test_http_500_stores_nothing(sim: Simulator, client: httpx.Client) -> None:
    sim.faults.http_500 = True

    assert upload(client).status_code == 500
    assert upload(client).status_code == 500
    assert sim.received == []


def test_garbage_reply(sim: Simulator, client: httpx.Client) -> None:
    sim.faults.once("garbage")

    response = upload(client)

    assert response.status_code == 200 and len(response.content) == 4096
    assert b"File Id" not in response.content
    assert len(sim.received) == 1


def test_expire_session_forgets_every_session(
    sim: Simulator, client: httpx.Client
) -> None:
    sim.faults.once("expire_session")

    assert "Login" in upload(client).text
    assert "Login" in upload(client).text  # the old cookie stays dead
    assert sim.received == []

    client.get("/")
    receipt(upload(client))


def test_redirect_login(sim: Simulator, client: httpx.Client) -> None:
    sim.faults.once("redirect_login")

    response = upload(client)

    assert response.status_code == 302
    location = response.headers["location"]
    assert location == sim.base_url + "/login.jsp"
    assert "Login" in client.get(location).text
    assert sim.received == []


def test_redirect_307_points_at_another_upload_path(
    sim: Simulator, client: httpx.Client
) -> None:
    sim.faults.once("redirect_307")

    response = upload(client)

    assert response.status_code == 307
    assert sim.received == []
    receipt(upload(client, path=response.headers["location"]))


def test_no_receipt(sim: Simulator, client: httpx.Client) -> None:
    sim.faults.once("no_receipt")

    response = upload(client)

    assert response.status_code == 200 and "<html>" in response.text
    assert "File Id" not in response.text
    assert len(sim.received) == 1


def test_huge_reply_is_streamed(sim: Simulator, client: httpx.Client) -> None:
    sim.faults.once("huge_reply")

    with client.stream(
        "POST", "/uploadProcess.jsp", files={"datafile": ("m.csv", b"x")}
    ) as response:
        assert response.headers["content-length"] == "50000000"
        first = next(response.iter_bytes())
        assert first.startswith(b"<p>OMAR-Online")

    sim.faults.huge_reply_bytes = 300_000
    sim.faults.once("huge_reply")
    assert len(upload(client).content) == 300_000


def test_slow_reply_dribbles_the_receipt(
    sim: Simulator, client: httpx.Client, pauses: list[float]
) -> None:
    sim.faults.once("slow_reply")
    sim.faults.slow_chunk = 50

    response = upload(client)

    receipt(response)
    assert len(pauses) == -(-len(response.content) // 50)
    assert set(pauses) == {sim.faults.slow_interval}


def test_one_shot_and_sticky_faults() -> None:
    faults = Faults()
    faults.once("http_500", 2)
    faults.set("garbage")

    taken = [faults.take() for _ in range(3)]

    assert ["http_500" in t for t in taken] == [True, True, False]
    assert all("garbage" in t for t in taken)
    faults.clear()
    assert not faults.take().switches


def test_fault_specs() -> None:
    faults = Faults()
    faults.set("http-500")
    faults.set("delay=2.5")
    faults.set("latency=0.1")

    assert faults.http_500 and faults.delay == 2.5 and faults.latency == 0.1
    for bad in ("nonsense", "delay=abc", "http_500=1", "latency=-1"):
        with pytest.raises(ValueError):
            faults.set(bad)
    with pytest.raises(ValueError):
        faults.once("latency")


# -- robustness ----------------------------------------------------------------


def test_client_vanishing_mid_request_leaves_the_server_up(
    sim: Simulator, client: httpx.Client
) -> None:
    raw = socket.create_connection(("127.0.0.1", sim.port))
    with context(sim.files).wrap_socket(raw, server_hostname="127.0.0.1") as tls:
        tls.sendall(
            b"POST /uploadProcess.jsp HTTP/1.1\r\nHost: x\r\n"
            b"Content-Type: multipart/form-data; boundary=b\r\n"
            b"Content-Length: 5000\r\n\r\n--b\r\npartial"
        )
    socket.create_connection(("127.0.0.1", sim.port)).close()  # no TLS at all

    receipt(upload(client))


def test_stop_closes_idle_keep_alive_connections(state_dir: Path) -> None:
    sim = Simulator(state_dir).start()
    c = make_client(sim)
    c.get("/")
    assert sim._connections  # the idle connection is held open

    sim.stop()
    c.close()

    assert not sim._connections


def test_only_loopback_hosts(state_dir: Path) -> None:
    for host in ("0.0.0.0", "192.168.1.10", "example.org", "127.0.0.2", "::"):
        with pytest.raises(UsageError):
            Simulator(state_dir, host=host)


def test_ipv6_loopback(state_dir: Path) -> None:
    try:
        probe = socket.socket(socket.AF_INET6)
        probe.bind(("::1", 0))
        probe.close()
    except OSError:
        pytest.skip("this machine has no IPv6 loopback")

    with Simulator(state_dir, host="::1") as sim, make_client(sim) as c:
        assert sim.base_url.startswith("https://[::1]:")
        c.get("/")
        receipt(upload(c))


def test_real_curl_gets_a_receipt(sim: Simulator, tmp_path: Path) -> None:
    curl = shutil.which("curl") or "/usr/bin/curl"
    if not Path(curl).exists():
        pytest.skip("the curl binary is not installed")
    meter = tmp_path / "meter.dat"
    meter.write_bytes(b"H,1\r\nD,2\r\n")
    jar = tmp_path / "cookies.txt"
    f = sim.files
    base = [
        curl, "--silent", "--show-error", "--fail",
        "--cacert", str(f.ca_cert), "--cert", str(f.client_cert),
        "--key", str(f.client_key), "-c", str(jar), "-b", str(jar),
    ]  # fmt: skip

    subprocess.run([*base, sim.base_url + "/"], check=True, capture_output=True)
    done = subprocess.run(
        [*base, "-F", f"datafile=@{meter}", sim.upload_url],
        check=True,
        capture_output=True,
        text=True,
    )

    match = RECEIPT.search(done.stdout)
    assert match and match["name"] == "meter.dat", done.stdout
    assert sim.received[0].data == meter.read_bytes()


# -- multipart parser ----------------------------------------------------------


def test_multipart_parser_is_byte_exact() -> None:
    body = (
        b"preamble\r\n--XX\r\n"
        b'Content-Disposition: form-data; name="note"\r\n\r\nhi\r\n'
        b"--XX\r\n"
        b'Content-Disposition: form-data; name="datafile"; filename="a;b.csv"\r\n'
        b"Content-Type: text/csv\r\n\r\n"
        b"1\r\n--X\r\n\r\n\r\n--XX--\r\nepilogue"
    )

    note, datafile = multipart.parse(body, "XX")

    assert (note.name, note.filename, note.data) == ("note", None, b"hi")
    assert datafile.filename == "a;b.csv" and datafile.content_type == "text/csv"
    assert datafile.data == b"1\r\n--X\r\n\r\n"
    assert multipart.boundary_of('multipart/form-data; boundary="a b"') == "a b"
    assert multipart.boundary_of("application/x-www-form-urlencoded") is None
    with pytest.raises(multipart.MultipartError):
        multipart.parse(b"--XX\r\nContent-Disposition: form-data\r\n\r\nx", "XX")


# -- command line --------------------------------------------------------------


def test_run_simulator_prints_what_to_paste_and_stops_cleanly(
    state_dir: Path,
) -> None:
    out = io.StringIO()
    stop = threading.Event()
    result: list[int] = []
    thread = threading.Thread(
        target=lambda: result.append(
            run_simulator(0, state_dir, faults=["latency=0"], out=out, stop=stop)
        )
    )
    thread.start()
    deadline = time.monotonic() + 10
    while "Ctrl-C" not in out.getvalue() and time.monotonic() < deadline:
        time.sleep(0.01)
    stop.set()
    thread.join(10)

    text = out.getvalue()
    files = ensure_pki(state_dir)
    assert result == [0]
    assert "listening on https://127.0.0.1:" in text
    for needed in (
        str(files.ca_cert),
        str(files.client_cert),
        str(files.client_key),
        str(files.client_p12),
        files.p12_password,
        files.client_key_password,
        "curl --cacert",
        "-F datafile=@meter.csv",
        "omar-tui submit --base-url https://127.0.0.1:",
    ):
        assert needed in text


def test_run_simulator_refuses_bad_input(state_dir: Path) -> None:
    out = io.StringIO()
    assert run_simulator(0, state_dir, host="0.0.0.0", out=out) == 2
    assert "loopback" in out.getvalue()
    assert run_simulator(0, state_dir, faults=["bogus"], out=out) == 2
    assert "unknown fault" in out.getvalue()


def test_default_state_dir_is_under_the_data_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    assert default_state_dir() == tmp_path / "omar-tui" / "simulator"


def test_run_simulator_refuses_a_busy_port(sim: Simulator) -> None:
    out = io.StringIO()
    assert run_simulator(sim.port, sim.state_dir, out=out) == 2
    assert "cannot listen on port" in out.getvalue()


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_ctrl_c_stops_the_foreground_simulator_with_exit_0(
    state_dir: Path, signum: int
) -> None:
    code = (
        "import sys; from pathlib import Path;"
        "from omar_tui.simulator.cli import run_simulator;"
        f"sys.exit(run_simulator(0, Path({str(state_dir)!r})))"
    )
    child = subprocess.Popen(
        [sys.executable, "-c", code],
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).parent.parent,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    try:
        assert child.stdout is not None
        for line in child.stdout:
            if "Ctrl-C" in line:
                break
        child.send_signal(signum)
        rest, _ = child.communicate(timeout=20)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()

    assert child.returncode == 0
    assert "Stopped." in rest


def test_accepted_connections_have_nagle_off(sim: Simulator) -> None:
    # With Nagle on, a reply's second write waits for the client's delayed ACK.
    with socket.create_connection((sim.host, sim.port), timeout=5) as raw:
        deadline = time.monotonic() + 5
        while not sim._connections and time.monotonic() < deadline:
            time.sleep(0.01)
        with sim._lock:
            accepted = list(sim._connections)
        assert accepted, raw
        nodelay = accepted[0].getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
        assert nodelay != 0
