"""Naming a network fault: what broke, in plain words, and whether to retry.

A failed request surfaces as one of many httpx, ssl and socket exceptions,
often chained. These helpers walk the chain and turn it into the operator's
view: a :class:`~omar_tui.errors.ConnectionFailed` with a title and a hint
(unreachable, DNS, refused, timed out, proxy, untrusted server), or a
:class:`~omar_tui.errors.CertificateError` when the server refused our
client certificate. Whether a fault after the file started to leave is
"unknown" instead is the client's call; this module only names faults.
"""

from __future__ import annotations

import socket
import ssl
from urllib.parse import urlsplit

import httpx

from omar_tui.errors import CertificateError, ConnectionFailed

CERT_REFUSED_HINT = (
    "Check that the certificate is the one registered with OMAR-Online, that "
    "it has not expired, and that its key matches."
)

# OpenSSL reasons of alerts a server sends when it will not take our
# certificate (none sent, unknown CA, expired, revoked, access denied...).
_CLIENT_CERT_ALERTS = (
    "ALERT_CERTIFICATE_REQUIRED",
    "ALERT_BAD_CERTIFICATE",
    "ALERT_UNKNOWN_CA",
    "ALERT_CERTIFICATE_UNKNOWN",
    "ALERT_CERTIFICATE_EXPIRED",
    "ALERT_CERTIFICATE_REVOKED",
    "ALERT_UNSUPPORTED_CERTIFICATE",
    "ALERT_ACCESS_DENIED",
)


def chain(exc: BaseException) -> list[BaseException]:
    """``exc`` and every exception it was raised from, innermost last."""
    seen: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in seen:
        seen.append(current)
        current = current.__cause__ or current.__context__
    return seen


def client_cert_refused(exc: BaseException) -> bool:
    """True when a TLS alert in the chain says the server refused our certificate."""
    return any(
        isinstance(e, ssl.SSLError)
        and not isinstance(e, ssl.SSLCertVerificationError)
        and any(alert in _reason(e) for alert in _CLIENT_CERT_ALERTS)
        for e in chain(exc)
    )


def _reason(exc: ssl.SSLError) -> str:
    return f"{getattr(exc, 'reason', None) or ''} {exc}".upper()


def probe_refuses_certificate(
    context: ssl.SSLContext, host: str, port: int, timeout: float
) -> bool:
    """Handshake, send nothing, and see whether the server answers with an alert."""
    try:
        with (
            socket.create_connection((host, port), timeout=timeout) as raw,
            context.wrap_socket(raw, server_hostname=host) as tls,
        ):
            tls.recv(1)
    except ssl.SSLError as exc:
        return client_cert_refused(exc)
    except OSError:
        return False
    return False


def session_error(
    exc: BaseException, base_url: str
) -> ConnectionFailed | CertificateError:
    """As :func:`connection_error`, but a refused certificate is a CertificateError.

    Opening the session is where a bad certificate first shows, and it is a
    fault in the operator's setup rather than in the network.
    """
    if client_cert_refused(exc):
        return CertificateError(
            "OMAR-Online refused the client certificate", CERT_REFUSED_HINT
        )
    return connection_error(exc, base_url)


def connection_error(exc: BaseException, base_url: str) -> ConnectionFailed:
    """Name a fault that happened before anything was delivered."""
    host = urlsplit(base_url).hostname or base_url
    faults = chain(exc)

    if client_cert_refused(exc):
        return ConnectionFailed(
            "OMAR-Online refused the client certificate; nothing was processed",
            CERT_REFUSED_HINT,
            retryable=False,
        )

    verify = next(
        (e for e in faults if isinstance(e, ssl.SSLCertVerificationError)), None
    )
    if verify is not None:
        return _untrusted_server(verify, host)

    if any(isinstance(e, httpx.ProxyError) for e in faults):
        return ConnectionFailed(
            "The proxy refused or failed to connect to OMAR-Online",
            f"Check the proxy setting or HTTPS_PROXY ({describe(exc)}).",
        )
    if any(isinstance(e, httpx.TimeoutException) for e in faults):
        return ConnectionFailed(
            f"Timed out connecting to {host}",
            "The server or the network is slow or down; nothing was sent. "
            "Try again later, or raise connect_timeout.",
        )
    if any(
        isinstance(e, (httpx.UnsupportedProtocol, httpx.InvalidURL)) for e in faults
    ):
        return ConnectionFailed(
            f"The server address {base_url} cannot be used",
            "It must be an https:// URL with a host name.",
            retryable=False,
        )
    if any(_is_dns_error(e) for e in faults):
        return ConnectionFailed(
            f"Cannot find the server {host}",
            "The name does not resolve: check the address and the network/DNS.",
        )
    if any(isinstance(e, ConnectionRefusedError) for e in faults):
        return ConnectionFailed(
            f"{host} refused the connection",
            "Nothing listens at that address and port: check the base URL.",
        )
    if any(isinstance(e, ssl.SSLError) for e in faults):
        return ConnectionFailed(
            f"The secure connection to {host} failed",
            f"The TLS handshake did not complete ({describe(exc)}); nothing was sent.",
        )
    return ConnectionFailed(
        f"Cannot connect to {host}",
        f"{describe(exc)}; nothing was sent. Check the network and try again.",
    )


def _untrusted_server(exc: ssl.SSLCertVerificationError, host: str) -> ConnectionFailed:
    code = exc.verify_code
    hint = (
        "Nothing was sent. If the server uses a private CA (a test server or "
        "the simulator), set ca_bundle to that CA's certificate; verification "
        "itself cannot be turned off."
    )
    if code == 10:  # X509_V_ERR_CERT_HAS_EXPIRED
        title = f"The server's certificate has expired ({host})"
        hint = "Nothing was sent. The server's certificate is out of date."
    elif code in (62, 64):  # hostname / IP address mismatch
        title = f"The server's certificate is not valid for {host}"
    else:
        title = f"The server's certificate is not trusted ({host})"
    detail = exc.verify_message or exc.reason or ""
    return ConnectionFailed(
        f"{title}: {detail}" if detail else title, hint, retryable=False
    )


def _is_dns_error(exc: BaseException) -> bool:
    return isinstance(exc, socket.gaierror)


def describe(exc: BaseException) -> str:
    """A few plain words on what broke, for hints (never a URL or a cookie)."""
    for e in chain(exc):
        if isinstance(e, httpx.ReadTimeout):
            return "no reply in time"
        if isinstance(e, httpx.WriteTimeout):
            return "sending stalled"
        if isinstance(e, httpx.ReadError):
            return "the connection closed while waiting for the reply"
        if isinstance(e, httpx.WriteError):
            return "the connection closed while sending"
        if isinstance(e, (httpx.HTTPError, ssl.SSLError, OSError)) and str(e).strip():
            return str(e).strip()
    return type(exc).__name__
