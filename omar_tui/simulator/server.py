"""A local OMAR-Online: a real HTTPS server with client-certificate login.

It exists so the client, the demo and an operator checking their setup can
go through the whole flow (TLS with a client certificate, a session cookie,
a multipart upload, a receipt) without touching CAISO. It is a real server
on a loopback socket, so curl, httpx or a browser talk to it exactly as they
would to the real one, and it can be told to misbehave (see ``Faults``).
"""

from __future__ import annotations

import contextlib
import ipaddress
import logging
import re
import secrets
import socket
import ssl
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime
from http.cookies import CookieError, SimpleCookie
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any, Literal

from cryptography import x509

from omar_tui.errors import UsageError
from omar_tui.simulator import multipart, pages
from omar_tui.simulator.faults import ActiveFaults, Faults
from omar_tui.simulator.pki import (
    IssuedCert,
    KeyType,
    SimulatorFiles,
    ensure_pki,
    write_private,
)

log = logging.getLogger("omar_tui.simulator")

ClientCertMode = Literal["required", "upload-only"]

LOOPBACK_HOSTS = ("127.0.0.1", "::1", "localhost")
"""The only hosts the simulator binds to: its certificate names these three."""

MAX_FILE_BYTES = 512_000
"""Files of this many bytes or more are refused (SPEC.md: 500 KB, read as KiB)."""
MAX_NAME = 40
EXTENSIONS = (".csv", ".dat")
MAX_BODY = 8 * 1024 * 1024
"""Largest request body read at all; beyond it the connection is closed."""
IDLE_TIMEOUT = 30.0
"""An idle keep-alive connection is closed after this many seconds."""
PHA_WAIT = 5.0
"""How long to wait for a certificate asked for after the handshake."""
SESSION_COOKIE = "JSESSIONID"
LOGIN_PATH = "/login.jsp"
MOVED_UPLOAD_PATH = "/upload/uploadProcess.jsp"
"""Where the ``redirect_307`` fault sends an upload; it accepts uploads too."""


@dataclass(frozen=True, slots=True)
class ReceivedFile:
    """One file the simulator accepted, kept for byte-for-byte comparisons."""

    original_name: str
    saved_as: str
    file_id: int
    data: bytes = field(repr=False)
    client_subject: str | None
    """The client certificate's subject (RFC 4514), or None if none was seen."""
    path: Path
    """Where the bytes were stored, under ``state_dir/received``."""


@dataclass
class RequestCounters:
    """What the simulator has seen; benchmarks read these to check reuse."""

    gets: int = 0
    posts: int = 0
    uploads: int = 0
    """Files accepted and stored."""
    tls_connections: int = 0
    """Connections whose TLS handshake succeeded."""
    handshake_failures: int = 0
    _lock: threading.Lock = field(
        default_factory=threading.Lock, repr=False, compare=False
    )

    def bump(self, name: str) -> None:
        with self._lock:
            setattr(self, name, getattr(self, name) + 1)


class _Server(ThreadingHTTPServer):
    """Accepts TCP, and does each TLS handshake in the connection's own thread.

    Doing the handshake on accept would let one slow or broken client stall
    every other; here a failed handshake only ends its own thread.
    """

    daemon_threads = True
    block_on_close = False

    def __init__(self, sim: Simulator, address: tuple[str, int], family: int) -> None:
        self.address_family = family
        self.sim = sim
        super().__init__(address, _Handler)

    def get_request(self) -> tuple[Any, Any]:
        sock, address = self.socket.accept()
        # A reply goes out as two writes (headers, then body); with Nagle on,
        # the second waits for the client's delayed ACK (~40 ms a request).
        # Real servers set TCP_NODELAY, so the simulator does too.
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        wrapped = self.sim.ssl_context.wrap_socket(
            sock, server_side=True, do_handshake_on_connect=False
        )
        return wrapped, address

    def finish_request(self, request: Any, client_address: Any) -> None:
        sim = self.sim
        sim._track(request, add=True)
        try:
            request.settimeout(IDLE_TIMEOUT)
            try:
                request.do_handshake()
            except (OSError, ValueError) as exc:
                sim.requests.bump("handshake_failures")
                log.info("simulator: TLS handshake refused: %s", exc)
                return
            sim.requests.bump("tls_connections")
            super().finish_request(request, client_address)
        except (OSError, ValueError) as exc:
            log.debug("simulator: connection ended: %s", exc)
        finally:
            sim._track(request, add=False)

    def handle_error(self, request: Any, client_address: Any) -> None:
        log.debug("simulator: error on a connection", exc_info=True)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "OMAR-Online-Simulator/1.0"
    sys_version = ""
    timeout = IDLE_TIMEOUT
    server: _Server

    # -- plumbing ---------------------------------------------------------

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("simulator: %s " + format, self.address_string(), *args)

    @property
    def sim(self) -> Simulator:
        return self.server.sim

    def _send(
        self,
        status: int,
        body: bytes,
        *,
        headers: dict[str, str] | None = None,
        content_type: str = "text/html; charset=utf-8",
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _read_body(self) -> bytes | None:
        """The request body, or None after answering a body that cannot be read."""
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            return self._read_chunked()
        length_text = self.headers.get("Content-Length")
        if length_text is None:
            return b""
        try:
            length = int(length_text)
        except ValueError:
            length = -1
        if length < 0 or length > MAX_BODY:
            self.close_connection = True
            self._send(413, pages.status_page("Request too large", "Body refused."))
            return None
        return self.rfile.read(length)

    def _read_chunked(self) -> bytes | None:
        chunks: list[bytes] = []
        total = 0
        while True:
            line = self.rfile.readline(1024)
            try:
                size = int(line.split(b";")[0].strip(), 16)
            except ValueError:
                size = -1
            if size < 0 or total + size > MAX_BODY:
                self.close_connection = True
                self._send(400, pages.status_page("Bad request", "Bad chunked body."))
                return None
            if size == 0:
                while self.rfile.readline(1024) not in (b"\r\n", b"\n", b""):
                    pass
                return b"".join(chunks)
            chunks.append(self.rfile.read(size))
            self.rfile.readline(1024)
            total += size

    def _session_id(self) -> str | None:
        """The request's session cookie, if it names a live session."""
        for header in self.headers.get_all("Cookie") or []:
            cookie: SimpleCookie = SimpleCookie()
            with contextlib.suppress(CookieError):
                cookie.load(header)
            morsel = cookie.get(SESSION_COOKIE)
            if morsel is not None and self.sim._has_session(morsel.value):
                return morsel.value
        return None

    def _client_subject(self) -> str | None:
        with contextlib.suppress(OSError, ValueError):
            der = self.connection.getpeercert(binary_form=True)
            if der:
                return x509.load_der_x509_certificate(der).subject.rfc4514_string()
        return None

    # -- dispatch ---------------------------------------------------------

    def _dispatch(self) -> None:
        sim = self.sim
        sim.requests.bump("posts" if self.command == "POST" else "gets")
        if sim._pause(sim.faults.latency):
            self.close_connection = True
            return

        path = self.path.split("?", 1)[0]
        upload_paths = (sim.upload_path, MOVED_UPLOAD_PATH)
        if self.command == "POST" and path in upload_paths:
            self._upload()
            return

        body = self._read_body()
        if body is None:
            return
        if path in upload_paths:
            self._send(
                405,
                pages.status_page("Method not allowed", "Upload with POST."),
                headers={"Allow": "POST"},
            )
        elif self.command not in ("GET", "HEAD"):
            self._send(405, pages.status_page("Method not allowed", self.command))
        elif path == sim.session_path:
            self._home()
        elif path == LOGIN_PATH:
            self._send(200, pages.login_page())
        else:
            self._send(404, pages.status_page("Not found", path))

    do_GET = do_HEAD = do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = _dispatch

    def _home(self) -> None:
        session = self._session_id()
        headers = {}
        if session is None:
            session = self.sim._new_session()
            headers["Set-Cookie"] = (
                f"{SESSION_COOKIE}={session}; Path=/; Secure; HttpOnly"
            )
        self._send(200, pages.home_page(self.sim.upload_path), headers=headers)

    # -- upload -----------------------------------------------------------

    def _upload(self) -> None:
        sim = self.sim
        body = self._read_body()
        if body is None:
            return
        if sim.client_cert == "upload-only" and not self._ask_certificate():
            return

        faults = sim.faults.take()
        if sim._pause(faults.delay):
            self.close_connection = True
            return
        if self._early_fault(faults):
            return
        if self._session_id() is None:
            self._send(200, pages.login_page())
            return

        ctype = self.headers.get("Content-Type", "")
        boundary = multipart.boundary_of(ctype)
        if boundary is None:
            self._reject("The request is not multipart/form-data.")
            return
        try:
            parts = multipart.parse(body, boundary)
        except multipart.MultipartError as exc:
            self._reject(f"The multipart/form-data body is malformed: {exc}.")
            return

        problem, name, data = _check_upload(parts)
        if problem:
            self._reject(problem)
            return
        assert name is not None and data is not None
        received = sim._store(name, data, self._client_subject())
        reply = pages.receipt_page(name, received.saved_as, len(data), received.file_id)
        self._late_fault(faults, reply)

    def _ask_certificate(self) -> bool:
        """Ask for the client certificate after the handshake (TLS 1.3).

        The certificate arrives only once the client reads, i.e. after it sent
        the whole request; short reads let OpenSSL take it in. Returns False
        (the connection is then closed) when none came.
        """
        conn = self.connection
        if conn.getpeercert(binary_form=True):
            return True
        self.close_connection = True
        try:
            conn.verify_client_post_handshake()
            conn.do_handshake()
            deadline = time.monotonic() + PHA_WAIT
            conn.settimeout(0.02)
            while not conn.getpeercert(binary_form=True):
                if time.monotonic() > deadline or self.sim._stopping.is_set():
                    return False
                with contextlib.suppress(TimeoutError):
                    if conn.recv(1):
                        return False  # a pipelined request: not supported here
            conn.settimeout(IDLE_TIMEOUT)
        except ssl.SSLError as exc:
            log.info("simulator: no client certificate on upload: %s", exc)
            if "EXTENSION_NOT_RECEIVED" in str(exc):
                self._send(
                    403,
                    pages.status_page(
                        "Certificate required",
                        "This page needs your client certificate, and the "
                        "client does not allow post-handshake authentication.",
                    ),
                )
            return False
        self.close_connection = False
        return True

    def _reject(self, message: str) -> None:
        log.info("simulator: upload refused: %s", message)
        self._send(200, pages.error_page(message))

    def _early_fault(self, faults: ActiveFaults) -> bool:
        """Faults that answer before the file is looked at. True if one did."""
        base = self.sim.base_url
        if "expire_session" in faults:
            self.sim._forget_sessions()
            self._send(200, pages.login_page())
        elif "redirect_login" in faults:
            self._send(
                302,
                pages.status_page("Moved", "Please log in."),
                headers={"Location": base + LOGIN_PATH},
            )
        elif "redirect_307" in faults:
            self._send(
                307,
                pages.status_page("Moved", "The upload page has moved."),
                headers={"Location": base + MOVED_UPLOAD_PATH},
            )
        elif "http_500" in faults:
            self._send(
                500,
                pages.status_page(
                    "Internal Server Error", "java.lang.NullPointerException"
                ),
            )
        else:
            return False
        return True

    def _late_fault(self, faults: ActiveFaults, reply: bytes) -> None:
        """Send the reply to a stored file, broken the way ``faults`` ask."""
        if "drop_after_body" in faults:
            self.close_connection = True
            with contextlib.suppress(OSError):
                socket.socket.shutdown(self.connection, socket.SHUT_RDWR)
        elif "garbage" in faults:
            self._send(200, secrets.token_bytes(4096))
        elif "huge_reply" in faults:
            self._stream_huge(self.sim.faults.huge_reply_bytes)
        elif "no_receipt" in faults:
            self._send(200, pages.no_receipt_page())
        elif "slow_reply" in faults:
            self._dribble(reply)
        else:
            self._send(200, reply)

    def _stream_huge(self, size: int) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(size))
        self.end_headers()
        block = (b"<p>" + b"OMAR-Online " * 5000 + b"</p>\n")[:65536]
        left = size
        while left > 0 and not self.sim._stopping.is_set():
            chunk = block[: min(left, len(block))]
            self.wfile.write(chunk)
            left -= len(chunk)
        if left:
            self.close_connection = True

    def _dribble(self, body: bytes) -> None:
        faults = self.sim.faults
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        step = max(1, faults.slow_chunk)
        for start in range(0, len(body), step):
            if self.sim._pause(faults.slow_interval):
                self.close_connection = True
                return
            self.wfile.write(body[start : start + step])


def _check_upload(
    parts: list[multipart.Part],
) -> tuple[str | None, str | None, bytes | None]:
    """Apply the upload rules (SPEC.md R6-R10): (problem, name, data)."""
    files = [p for p in parts if p.filename is not None]
    datafiles = [p for p in parts if p.name == "datafile"]
    if not datafiles:
        return (
            "No datafile field was sent: the file must be in field 'datafile'.",
            None,
            None,
        )
    if len(files) > 1 or len(datafiles) > 1:
        return (
            "More than one file was sent: upload one meter file at a time.",
            None,
            None,
        )
    part = datafiles[0]
    name = re.split(r"[\\/]", part.filename or "")[-1]
    if not name:
        return "No file was selected in field 'datafile'.", None, None
    if len(name) > MAX_NAME:
        return (
            f"The file name is {len(name)} characters long; "
            f"it must not exceed {MAX_NAME} characters.",
            None,
            None,
        )
    if not name.lower().endswith(EXTENSIONS):
        return "The file name must end in .csv or .dat.", None, None
    if not part.data:
        return "The file is empty.", None, None
    if len(part.data) >= MAX_FILE_BYTES:
        return (
            f"The file is {len(part.data)} bytes; files must be less than 500KB.",
            None,
            None,
        )
    return None, name, part.data


def check_loopback(host: str) -> None:
    """Refuse any host that is not loopback, so the simulator is never exposed.

    Raises:
        UsageError: when ``host`` is anything but 127.0.0.1, ::1 or localhost.
    """
    if host in LOOPBACK_HOSTS:
        return
    hint = "Use 127.0.0.1, ::1 or localhost: the simulator only listens on loopback."
    with contextlib.suppress(ValueError):
        if ipaddress.ip_address(host).is_loopback:
            hint = (
                "Its certificate only names 127.0.0.1, ::1 and localhost; "
                "use one of those."
            )
    raise UsageError(f"The simulator cannot listen on {host!r}.", hint)


class Simulator:
    """A local OMAR-Online server running in a background thread.

    Use it as a context manager (or ``start()``/``stop()``)::

        with Simulator(tmp_path / "sim") as sim:
            ...  # talk to sim.base_url with sim.files.client_cert

    Args:
        state_dir: Private folder for certificates, File Ids and stored files.
        host: 127.0.0.1, ::1 or localhost; nothing else is accepted.
        port: TCP port, 0 for any free one.
        session_path: The page that opens a session (sets the cookie).
        upload_path: The page files are posted to.
        client_cert: ``required`` asks for the client certificate in the
            handshake; ``upload-only`` asks for it only on the upload path,
            by TLS 1.3 post-handshake authentication (the server then speaks
            TLS 1.3 only).
        server_cert: Serve this certificate instead of the state folder's
            (e.g. an expired one from ``pki.issue_expired_server_cert``).
        key_type: Key type for certificates made for a new state folder.

    Raises:
        UsageError: for a host that is not loopback.
    """

    def __init__(
        self,
        state_dir: Path,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        session_path: str = "/",
        upload_path: str = "/uploadProcess.jsp",
        client_cert: ClientCertMode = "required",
        server_cert: IssuedCert | None = None,
        key_type: KeyType = "rsa",
    ) -> None:
        check_loopback(host)
        self.state_dir = state_dir
        self.host = host
        self.port = port
        self.session_path = session_path
        self.upload_path = upload_path
        self.client_cert = client_cert
        self.files: SimulatorFiles = ensure_pki(state_dir, key_type=key_type)
        self.faults = Faults()
        self.received: list[ReceivedFile] = []
        self.requests = RequestCounters()
        self.ssl_context = self._make_context(server_cert)

        self._received_dir = state_dir / "received"
        self._ids_file = state_dir / "next-file-id"
        self._lock = threading.Lock()
        self._sessions: set[str] = set()
        self._connections: set[Any] = set()
        self._stopping = threading.Event()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    def _make_context(self, server_cert: IssuedCert | None) -> ssl.SSLContext:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        if server_cert is not None:
            context.load_cert_chain(server_cert.cert_path, server_cert.key_path)
        else:
            context.load_cert_chain(self.files.server_cert, self.files.server_key)
        context.load_verify_locations(cafile=self.files.ca_cert)
        context.verify_mode = ssl.CERT_REQUIRED
        if self.client_cert == "upload-only":
            context.minimum_version = ssl.TLSVersion.TLSv1_3
            context.post_handshake_auth = True
        return context

    # -- life cycle -------------------------------------------------------

    def start(self) -> Simulator:
        """Bind the socket and start serving in a daemon thread."""
        if self._server is not None:
            return self
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        bind_host = "127.0.0.1" if self.host == "localhost" else self.host
        self._stopping.clear()
        self._server = _Server(self, (bind_host, self.port), family)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"omar-simulator-{self.port}",
            daemon=True,
        )
        self._thread.start()
        log.info("simulator: listening on %s", self.base_url)
        return self

    def stop(self) -> None:
        """Stop serving and close every connection; returns within a second or so."""
        server, self._server = self._server, None
        if server is None:
            return
        self._stopping.set()
        server.shutdown()
        with self._lock:
            connections = list(self._connections)
        for conn in connections:
            with contextlib.suppress(OSError):
                socket.socket.shutdown(conn, socket.SHUT_RDWR)
        server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=2)
        deadline = time.monotonic() + 2
        while self._connections and time.monotonic() < deadline:
            time.sleep(0.01)
        log.info("simulator: stopped")

    def __enter__(self) -> Simulator:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        """The URL to configure in the client, e.g. ``https://127.0.0.1:8443``."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"https://{host}:{self.port}"

    @property
    def upload_url(self) -> str:
        return self.base_url + self.upload_path

    # -- state shared by the handler threads ------------------------------

    def _pause(self, seconds: float) -> bool:
        """Sleep, but wake at once on stop. True when stopping."""
        if seconds > 0:
            return self._stopping.wait(seconds)
        return self._stopping.is_set()

    def _track(self, conn: Any, *, add: bool) -> None:
        with self._lock:
            if add:
                self._connections.add(conn)
            else:
                self._connections.discard(conn)

    def _new_session(self) -> str:
        session = secrets.token_hex(16).upper()
        with self._lock:
            self._sessions.add(session)
        return session

    def _has_session(self, session: str) -> bool:
        with self._lock:
            return session in self._sessions

    def _forget_sessions(self) -> None:
        with self._lock:
            self._sessions.clear()

    def _next_file_id(self) -> int:
        """Hand out the next File Id, persisted so Ids keep rising across restarts."""
        try:
            current = int(self._ids_file.read_text(encoding="ascii").strip())
        except (OSError, ValueError):
            current = 1
        write_private(self._ids_file, f"{current + 1}\n".encode())
        return current

    def _store(self, name: str, data: bytes, subject: str | None) -> ReceivedFile:
        with self._lock:
            file_id = self._next_file_id()
            stamp = datetime.now().strftime("%Y%m%d%H%M%S")
            safe = re.sub(r"[^A-Za-z0-9._-]", "_", name)
            saved_as = f"{stamp}_{file_id}_{safe}"
            self._received_dir.mkdir(mode=0o700, exist_ok=True)
            path = self._received_dir / saved_as
            write_private(path, data)
            received = ReceivedFile(name, saved_as, file_id, data, subject, path)
            self.received.append(received)
        self.requests.bump("uploads")
        log.info("simulator: stored %s as %s (File Id %d)", name, saved_as, file_id)
        return received
