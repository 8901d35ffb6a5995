"""The HTTPS conversation with OMAR-Online: a session, then uploads.

One :class:`OmarClient` wraps one ``httpx.AsyncClient``: the connection is
kept alive, cookies persist (SPEC.md R2) and files go strictly one at a time
(R7). Its real job is *classifying failure*, because a resend of a file that
did arrive is a duplicate in CAISO's settlement data:

* :class:`~omar_tui.errors.ConnectionFailed` -- provably nothing was
  processed: the fault came before any byte of the file left, or the server
  answered "not here" (307/308) or refused our certificate at the TLS level.
* :class:`~omar_tui.errors.OutcomeUnknown` -- the file may have arrived: the
  connection broke after its bytes started to leave, the reply was
  unreadable, or the server failed (5xx) after reading it.
* a :class:`~omar_tui.core.models.Receipt` -- the server answered with a
  page; :func:`~omar_tui.core.receipt.parse_receipt` says what kind.

Redirects are never followed automatically: an upload that is redirected and
re-sent is exactly the duplicate this module exists to prevent.

The pieces that are not the conversation itself live beside it:
:mod:`~omar_tui.core.multipart` (the upload body that counts what left),
:mod:`~omar_tui.core.network_errors` (naming a fault for the operator) and
:mod:`~omar_tui.core.proxies` (proxies from the environment).
"""

from __future__ import annotations

import asyncio
import logging
import ssl
import time
from dataclasses import dataclass
from types import TracebackType
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin, urlsplit

import httpx

from omar_tui import __version__
from omar_tui.core.models import Receipt, ReceiptKind
from omar_tui.core.multipart import MultipartBody
from omar_tui.core.network_errors import (
    CERT_REFUSED_HINT,
    chain,
    client_cert_refused,
    connection_error,
    describe,
    probe_refuses_certificate,
    session_error,
)
from omar_tui.core.proxies import env_proxies, environment_mounts
from omar_tui.core.receipt import parse_receipt
from omar_tui.errors import CertificateError, ConnectionFailed, OutcomeUnknown

if TYPE_CHECKING:
    from omar_tui.core.connection import Target
    from omar_tui.core.settings import Settings

log = logging.getLogger("omar_tui.client")

MAX_SESSION_REDIRECTS = 5
PROBE_SECONDS = 3.0
"""Longest wait of the certificate probe (see ``OmarClient._certificate_refused``)."""

LOOK_IT_UP = "Look the file up in OMAR-Online before sending it again."

_LOGIN_WORDS = (
    *("login", "logon", "log-in", "signin", "sign-in", "j_security_check"),
    *("sso", "/auth", "cas/", "session", "expired", "certificate"),
)


def default_user_agent() -> str:
    return f"omar-tui/{__version__}"


INLINE_PARSE_BYTES = 16_384
"""Reply pages up to this size are parsed on the event loop (well under 1 ms)."""


@dataclass(frozen=True, slots=True)
class Connection:
    """Where and how to talk to OMAR-Online; built from the settings."""

    base_url: str
    """Scheme, host and optional port (and path prefix), e.g. ``https://host``."""
    session_path: str = "/"
    """Page whose GET opens the session and sets its cookie."""
    upload_path: str = "/uploadProcess.jsp"
    """Page files are POSTed to (SPEC.md R6)."""
    user_agent: str = ""
    """User-Agent header; empty means ``omar-tui/<version>``."""
    connect_timeout: float = 15.0
    """Seconds allowed for the TCP connection and TLS handshake."""
    read_timeout: float = 120.0
    """Seconds allowed between bytes of the reply (and of the upload's writes)."""
    max_reply_bytes: int = 2_000_000
    """Most reply bytes read; the rest of a larger reply is never downloaded."""
    proxy: str | None = None
    """Proxy URL; ``None`` uses HTTPS_PROXY/NO_PROXY from the environment."""

    @classmethod
    def for_target(cls, settings: Settings, target: Target) -> Connection:
        """The connection to ``target`` with the timeouts and proxy of ``settings``."""
        return cls(
            base_url=target.base_url,
            session_path=target.session_path,
            upload_path=target.upload_path,
            user_agent=settings.user_agent,
            connect_timeout=settings.connect_timeout,
            read_timeout=settings.read_timeout,
            max_reply_bytes=settings.max_reply_bytes,
            proxy=settings.proxy,
        )

    def url(self, path: str) -> str:
        """The absolute URL of ``path`` on this server."""
        return self.base_url.rstrip("/") + "/" + path.lstrip("/")


class OmarClient:
    """An HTTPS session with OMAR-Online: ``async with``, then ``upload``.

    Args:
        connection: Server and timeouts.
        ssl_context: From :func:`omar_tui.core.tls.build_ssl_context`; it is
            the only trust configuration used (verification is always on).
        transport: Replaces the network (tests use ``httpx.MockTransport``).
    """

    def __init__(
        self,
        connection: Connection,
        ssl_context: ssl.SSLContext,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.connection = connection
        self._ssl_context = ssl_context
        self._transport = transport
        self._client: httpx.AsyncClient | None = None
        self._lock = asyncio.Lock()

    async def __aenter__(self) -> OmarClient:
        self._client = self._make_client()
        await self._client.__aenter__()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        client, self._client = self._client, None
        if client is not None:
            await client.__aexit__(exc_type, exc, tb)

    # -- the session ----------------------------------------------------------

    async def open_session(self) -> None:
        """GET the session page so the server sets its session cookie.

        Redirects within the same server are followed (at most five), as a
        browser would, so cookies set along the way are kept.

        Raises:
            ConnectionFailed: the server cannot be reached, its certificate is
                not trusted, it failed (5xx) or it redirects in a loop.
            CertificateError: the server refused our client certificate.
        """
        async with self._lock:
            client = self._require_client()
            url = self.connection.url(self.connection.session_path)
            for _ in range(MAX_SESSION_REDIRECTS + 1):
                status, location = await self._get(client, url)
                if not (300 <= status < 400 and location):
                    _check_session_status(status, url)
                    return
                target = urljoin(url, location)
                if not _same_origin(url, target):
                    log.warning(
                        "session page redirects to another server (%s); not followed",
                        _loggable(target),
                    )
                    return
                url = target
            raise ConnectionFailed(
                "OMAR-Online keeps redirecting the session page",
                f"More than {MAX_SESSION_REDIRECTS} redirects from "
                f"{self.connection.session_path}: check the session path setting.",
                retryable=False,
            )

    @property
    def cookie_names(self) -> list[str]:
        """Names (never values) of the cookies the server has set, for diagnosis."""
        client = self._require_client()
        return sorted({cookie.name for cookie in client.cookies.jar})

    async def probe(self, path: str) -> int:
        """GET a page of the server and return its status, following nothing.

        Used by ``doctor`` to show the upload page exists without uploading.
        """
        async with self._lock:
            status, _location = await self._get(
                self._require_client(), self.connection.url(path)
            )
            return status

    async def _get(self, client: httpx.AsyncClient, url: str) -> tuple[int, str]:
        """One GET whose body is read (capped) and dropped: (status, Location)."""
        started = time.monotonic()
        status: int | str = "error"
        size = 0
        try:
            try:
                response = await client.send(
                    client.build_request("GET", url), stream=True
                )
            except (httpx.HTTPError, ssl.SSLError, OSError) as exc:
                status = type(exc).__name__
                if await self._certificate_refused(exc):
                    raise CertificateError(
                        "OMAR-Online refused the client certificate",
                        CERT_REFUSED_HINT,
                    ) from exc
                raise session_error(exc, self.connection.base_url) from exc
            try:
                status = response.status_code
                size = len(
                    await _read_capped(response, self.connection.max_reply_bytes)
                )
            except (httpx.HTTPError, ssl.SSLError, OSError) as exc:
                raise session_error(exc, self.connection.base_url) from exc
            finally:
                await response.aclose()
            return response.status_code, response.headers.get("location", "")
        finally:
            _log_request("GET", url, status, 0, size, started)

    async def _certificate_refused(self, exc: BaseException) -> bool:
        """Tell whether a connection dropped without a reply refused our certificate.

        With TLS 1.3 the server judges the client certificate after the
        client has already sent its request; it then sends an alert and
        closes, and since the request was never read the close is often a
        reset that destroys the alert before it is read. So a bare
        connection that sends nothing is opened to ask again: without unread
        data the alert arrives intact. Only done when no proxy is involved,
        so the probe goes exactly where the request went.
        """
        if client_cert_refused(exc):
            return True
        broken = (httpx.ReadError, httpx.WriteError, httpx.RemoteProtocolError)
        faults = chain(exc)
        if not any(isinstance(e, broken) for e in faults) or any(
            isinstance(e, ssl.SSLCertVerificationError) for e in faults
        ):
            return False
        if self._transport is not None or self.connection.proxy or env_proxies():
            return False

        parts = urlsplit(self.connection.base_url)
        if not parts.hostname:
            return False
        timeout = min(self.connection.connect_timeout, PROBE_SECONDS)
        return await asyncio.to_thread(
            probe_refuses_certificate,
            self._ssl_context,
            parts.hostname,
            parts.port or 443,
            timeout,
        )

    # -- uploads --------------------------------------------------------------

    async def upload(self, name: str, data: bytes) -> Receipt:
        """Send one file and read the server's answer.

        The file goes as ``multipart/form-data`` in field ``datafile`` under
        ``name``, with ``data`` exactly as given. Only one upload runs at a
        time, whatever the number of callers.

        Returns:
            The parsed reply; SESSION_EXPIRED also for a redirect to a login
            page or to the session page. ``http_status`` is always set.

        Raises:
            ConnectionFailed: provably not processed (see the module doc).
            OutcomeUnknown: the file may have reached OMAR-Online.
        """
        async with self._lock:
            client = self._require_client()
            url = self.connection.url(self.connection.upload_path)
            body = MultipartBody(name, data)
            request = client.build_request(
                "POST",
                url,
                content=body,
                headers={
                    "Content-Type": body.content_type,
                    "Content-Length": str(body.length),
                },
            )
            started = time.monotonic()
            status: int | str = "error"
            size = 0
            try:
                try:
                    response = await client.send(request, stream=True)
                except (httpx.HTTPError, ssl.SSLError, OSError) as exc:
                    status = type(exc).__name__
                    raise self._upload_error(exc, body) from exc
                try:
                    status = response.status_code
                    receipt, size = await self._upload_reply(response, url)
                finally:
                    await response.aclose()
                return receipt
            finally:
                _log_request("POST", url, status, body.sent, size, started)

    def _upload_error(
        self, exc: Exception, body: MultipartBody
    ) -> ConnectionFailed | OutcomeUnknown:
        """Classify a fault before a reply arrived.

        httpx cannot say how many bytes reached the socket, so the body keeps
        its own count: it knows whether the connection ever asked for the
        first byte of the file. Until then only the request line and headers
        can have left, and a multipart POST without its body cannot make the
        server save anything, so the fault is a clean "not delivered". Once
        the file started to leave, nothing is provable: even a keep-alive
        connection that "went stale" may have carried the whole request
        before the server dropped it (a crash after saving looks the same),
        so it is reported as unknown rather than resent blindly. httpcore
        already skips idle connections the server has visibly closed, which
        keeps that case rare.

        One exception: a TLS alert refusing our certificate is the server's
        TLS layer rejecting us before its application saw the request (with
        TLS 1.3 the alert for a certificate sent in the handshake only shows
        on the first read, after the request was written).
        """
        if client_cert_refused(exc) or not body.started:
            return connection_error(exc, self.connection.base_url)
        if isinstance(exc, httpx.TimeoutException):
            title = "No reply from OMAR-Online in time after the file was sent"
        else:
            title = "The connection broke after the file was sent"
        return OutcomeUnknown(
            title,
            f"OMAR-Online may have saved the file ({describe(exc)}). {LOOK_IT_UP}",
        )

    async def _upload_reply(
        self, response: httpx.Response, url: str
    ) -> tuple[Receipt, int]:
        """Turn the reply's status and (capped) body into a receipt."""
        status = response.status_code
        if 300 <= status < 400:
            return self._redirected(response, url), 0
        if status >= 500:
            raise OutcomeUnknown(
                f"OMAR-Online failed with HTTP {status} after receiving the file",
                f"The server may have saved it before failing. {LOOK_IT_UP}",
            )

        try:
            body = await _read_capped(response, self.connection.max_reply_bytes)
        except (httpx.HTTPError, ssl.SSLError, OSError) as exc:
            raise OutcomeUnknown(
                "The reply from OMAR-Online could not be read",
                f"The file may have been saved ({describe(exc)}). {LOOK_IT_UP}",
            ) from exc

        content_type = response.headers.get("content-type")
        if len(body) <= INLINE_PARSE_BYTES:
            # A receipt is a few hundred bytes: parsing it costs less than a
            # thread hop, and a batch pays the hop once per file.
            return parse_receipt(body, content_type, status=status), len(body)
        # A big page takes a while to parse: keep the event loop (the TUI) free.
        receipt = await asyncio.to_thread(
            parse_receipt, body, content_type, status=status
        )
        return receipt, len(body)

    def _redirected(self, response: httpx.Response, url: str) -> Receipt:
        """A redirected upload: a login page, a moved upload page, or unknown."""
        status = response.status_code
        location = urljoin(url, response.headers.get("location", ""))
        session_url = self.connection.url(self.connection.session_path)
        to_session = bool(location) and _same_page(location, session_url)

        if to_session or (status in (302, 303) and _looks_like_login(location)):
            return Receipt(
                ReceiptKind.SESSION_EXPIRED,
                message=f"OMAR-Online redirected the upload to {_loggable(location)}"
                " (a login page): the session has expired.",
                http_status=status,
            )
        if status in (307, 308):
            raise ConnectionFailed(
                f"OMAR-Online redirected the upload (HTTP {status}); it was not "
                "followed and nothing was processed",
                f"The server asks for the upload at {_loggable(location)}. If that "
                "is right, change the upload path in the settings.",
                retryable=False,
            )
        raise OutcomeUnknown(
            f"OMAR-Online answered the upload with a redirect (HTTP {status})",
            f"It points to {_loggable(location)}; the file may have been "
            f"saved. {LOOK_IT_UP}",
        )

    # -- plumbing -------------------------------------------------------------

    def _require_client(self) -> httpx.AsyncClient:
        if self._client is None:
            raise RuntimeError("OmarClient is used outside 'async with'")
        return self._client

    def _make_client(self) -> httpx.AsyncClient:
        conn = self.connection
        options: dict[str, Any] = {
            "verify": self._ssl_context,
            "http1": True,
            "http2": False,
            "follow_redirects": False,
            "timeout": httpx.Timeout(
                connect=conn.connect_timeout,
                read=conn.read_timeout,
                write=conn.read_timeout,
                pool=conn.connect_timeout,
            ),
            "limits": httpx.Limits(max_connections=1, max_keepalive_connections=1),
            "headers": {"User-Agent": conn.user_agent or default_user_agent()},
        }
        if self._transport is not None:
            return httpx.AsyncClient(transport=self._transport, **options)
        if conn.proxy:
            try:
                return httpx.AsyncClient(proxy=conn.proxy, **options)
            except (httpx.InvalidURL, ValueError, ImportError) as exc:
                raise ConnectionFailed(
                    f"The proxy setting {conn.proxy!r} cannot be used",
                    "Give an http:// or https:// proxy URL, such as "
                    f"http://proxy.example:3128 ({exc}).",
                    retryable=False,
                ) from exc
        try:
            return httpx.AsyncClient(trust_env=True, **options)
        except (httpx.InvalidURL, ValueError, ImportError) as exc:
            # httpx refuses the whole environment for one bad entry (an IPv6
            # range in NO_PROXY, say): keep the entries it can read.
            log.warning("proxy settings in the environment are malformed: %s", exc)
            mounts = environment_mounts(self._ssl_context, options["limits"])
            return httpx.AsyncClient(trust_env=False, mounts=mounts, **options)


async def _read_capped(response: httpx.Response, limit: int) -> bytes:
    """Read at most ``limit`` bytes of a streamed reply; drop the rest unread."""
    parts: list[bytes] = []
    size = 0
    async for chunk in response.aiter_bytes():
        parts.append(chunk)
        size += len(chunk)
        if size >= limit:
            log.warning("reply longer than %d bytes; the rest was not read", limit)
            break
    return b"".join(parts)[:limit]


# --- classifying faults --------------------------------------------------------


def _check_session_status(status: int, url: str) -> None:
    if status >= 500:
        raise ConnectionFailed(
            f"OMAR-Online failed (HTTP {status}) when opening the session",
            "The server is having trouble; nothing was sent. Try again later.",
        )
    if status in (401, 403):
        raise CertificateError(
            f"OMAR-Online refused access (HTTP {status})",
            "The certificate may not be registered for OMAR-Online, or has "
            "expired; check it with the CAISO access administrator.",
        )
    if status >= 400:
        log.warning("session page %s answered HTTP %d", _loggable(url), status)


# --- URLs and logging ------------------------------------------------------------


def _same_origin(a: str, b: str) -> bool:
    pa, pb = urlsplit(a), urlsplit(b)
    return (pa.scheme, pa.hostname, pa.port) == (pb.scheme, pb.hostname, pb.port)


def _same_page(a: str, b: str) -> bool:
    pa, pb = urlsplit(a), urlsplit(b)
    path_a = pa.path.split(";")[0] or "/"
    path_b = pb.path.split(";")[0] or "/"
    return _same_origin(a, b) and path_a.rstrip("/") == path_b.rstrip("/")


def _looks_like_login(url: str) -> bool:
    parts = urlsplit(url)
    text = f"{parts.path} {parts.query}".lower()
    return any(word in text for word in _LOGIN_WORDS)


def _loggable(url: str) -> str:
    """A URL without query or ``;jsessionid=...``: no session id reaches a log."""
    parts = urlsplit(url)
    path = parts.path.split(";")[0] or "/"
    return f"{parts.scheme}://{parts.netloc}{path}" if parts.netloc else path


def _log_request(
    method: str, url: str, status: int | str, sent: int, received: int, started: float
) -> None:
    elapsed = (time.monotonic() - started) * 1000
    log.info(
        "%s %s %s sent=%d received=%d %.0f ms",
        method,
        urlsplit(url).path.split(";")[0] or "/",
        status,
        sent,
        received,
        elapsed,
    )
