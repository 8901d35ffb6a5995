"""``omar-tui doctor``: every step between the settings and an upload, tested.

When a submission fails, an operator wants to know *which* link broke:
the settings, the certificate, the network, TLS, the login session or the
upload page. The doctor walks those links in order, reports each one with a
one-line fix, and stops where a later step could only fail for the same
reason. Nothing is uploaded.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from omar_tui.core.connection import (
    Target,
    identity_from,
    require_identity,
    resolve_target,
)
from omar_tui.core.settings import Settings
from omar_tui.errors import OmarError

WARN_DAYS = 30
"""A certificate this close to expiry gets a warning."""
FAIL_DAYS = 7
"""A certificate this close to expiry fails the doctor: renew it now."""


@dataclass(frozen=True, slots=True)
class Step:
    """The result of one step of the doctor."""

    name: str
    ok: bool
    detail: str
    fix: str = ""
    warning: bool = False
    """Passed, but needs attention soon (a certificate near expiry, say)."""


async def run_doctor(
    settings: Settings,
    *,
    environment: str | None = None,
    base_url: str | None = None,
    cert: Path | None = None,
    key: Path | None = None,
    ca_bundle: Path | None = None,
    passphrase: str | None = None,
) -> AsyncIterator[Step]:
    """Yield the steps in order; stop after a step later ones depend on fails."""
    from omar_tui.core.certificates import summarize
    from omar_tui.core.tls import build_ssl_context

    try:
        target = resolve_target(settings, environment, base_url)
    except OmarError as exc:
        yield Step("Settings", False, exc.title, exc.hint)
        return
    yield Step("Settings", True, f"{target.environment} at {target.base_url}")

    try:
        identity = require_identity(identity_from(settings, cert, key))
        summary = summarize(identity, passphrase)
    except OmarError as exc:
        yield Step("Certificate", False, exc.title, exc.hint)
        return
    yield Step(
        "Certificate",
        True,
        f"{summary.subject} (issuer {summary.issuer}, serial {summary.serial})",
    )

    try:
        client_context = build_ssl_context(
            ca_bundle=None, identity=identity, passphrase=passphrase
        )
    except OmarError as exc:
        yield Step("Key matches certificate", False, exc.title, exc.hint)
        return
    yield Step("Key matches certificate", True, "the private key opens and matches")

    yield _expiry_step(summary.days_left, summary.not_after.date().isoformat())

    bundle = ca_bundle or settings.ca_bundle
    try:
        context = build_ssl_context(
            ca_bundle=bundle.expanduser() if bundle else None,
            identity=identity,
            passphrase=passphrase,
        )
    except OmarError as exc:
        yield Step("CA bundle", False, exc.title, exc.hint)
        return
    del client_context
    yield Step("CA bundle", True, str(bundle) if bundle else "the system's trust store")

    async for step in _network_steps(settings, target, context):
        yield step
        if not step.ok:
            return


def _expiry_step(days_left: int, not_after: str) -> Step:
    name = "Certificate expiry"
    renew = "Ask your CAISO user access administrator for a new certificate."
    if days_left < 0:
        return Step(name, False, f"expired on {not_after}", renew)
    if days_left < FAIL_DAYS:
        return Step(name, False, f"expires in {days_left} days ({not_after})", renew)
    if days_left < WARN_DAYS:
        detail = f"expires in {days_left} days ({not_after})"
        return Step(name, True, detail, renew, warning=True)
    return Step(name, True, f"{days_left} days left (until {not_after})")


async def _network_steps(
    settings: Settings, target: Target, context: ssl.SSLContext
) -> AsyncIterator[Step]:
    parts = urlsplit(target.base_url)
    host = parts.hostname or ""
    port = parts.port or 443
    timeout = settings.connect_timeout

    if settings.proxy:
        # Through a proxy the direct DNS, TCP and TLS probes would test the
        # wrong path; the session step below goes through the proxy.
        yield Step("Proxy", True, f"connecting through {settings.proxy}")
    else:
        yield await _dns_step(host, port)
        yield await _connect_step(host, port, timeout)
        yield await _tls_step(host, port, timeout, context)

    async for step in _session_steps(settings, target, context):
        yield step


async def _dns_step(host: str, port: int) -> Step:
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(host, port)
    except OSError as exc:
        return Step(
            "DNS",
            False,
            f"{host} does not resolve ({exc})",
            "Check the base URL, or ask your network team about DNS for this host.",
        )
    addresses = sorted({str(info[4][0]) for info in infos})
    return Step("DNS", True, f"{host} is {', '.join(addresses)}")


async def _connect_step(host: str, port: int, timeout: float) -> Step:
    try:
        _reader, writer = await asyncio.wait_for(
            asyncio.open_connection(host, port), timeout
        )
    except (OSError, TimeoutError) as exc:
        return Step(
            "Connect",
            False,
            f"no TCP connection to {host}:{port} ({_describe(exc)})",
            "Check the firewall and that the server is up; set a proxy if your "
            "site needs one.",
        )
    await _close(writer)
    return Step("Connect", True, f"{host}:{port} accepts connections")


async def _tls_step(
    host: str, port: int, timeout: float, context: ssl.SSLContext
) -> Step:
    try:
        _reader, writer = await asyncio.wait_for(
            asyncio.open_connection(host, port, ssl=context, server_hostname=host),
            timeout,
        )
    except ssl.SSLCertVerificationError as exc:
        return Step(
            "TLS handshake",
            False,
            f"the server's certificate is not trusted ({exc.verify_message})",
            "Set [certificate] ca_bundle to the CA that signed the server, "
            "or pass --ca-bundle.",
        )
    except (OSError, TimeoutError) as exc:
        return Step(
            "TLS handshake",
            False,
            f"TLS with {host} failed ({_describe(exc)})",
            "The server may refuse the client certificate or the TLS version; "
            "see the log file.",
        )
    ssl_object = writer.get_extra_info("ssl_object")
    version = ssl_object.version() if ssl_object is not None else "TLS"
    await _close(writer)
    return Step("TLS handshake", True, f"{version}, server certificate verified")


async def _session_steps(
    settings: Settings, target: Target, context: ssl.SSLContext
) -> AsyncIterator[Step]:
    from omar_tui.core.client import Connection, OmarClient

    connection = Connection.for_target(settings, target)
    async with OmarClient(connection, context) as client:
        try:
            await client.open_session()
        except OmarError as exc:
            yield Step("Session", False, exc.title, exc.hint)
            return
        cookies = client.cookie_names
        if not cookies:
            yield Step(
                "Session",
                False,
                f"{target.session_path} answered but set no session cookie",
                "Check the environment's session_path in the settings.",
            )
            return
        yield Step("Session", True, f"session cookie set ({', '.join(cookies)})")

        try:
            status = await client.probe(target.upload_path)
        except OmarError as exc:
            yield Step("Upload page", False, exc.title, exc.hint)
            return
        if status == 404:
            yield Step(
                "Upload page",
                False,
                f"{target.upload_path} does not exist (HTTP 404)",
                "Check the environment's upload_path in the settings.",
            )
            return
        yield Step(
            "Upload page",
            True,
            f"{target.upload_path} answers (HTTP {status} to a GET; "
            "uploads are POSTed, nothing was sent)",
        )


def _describe(exc: BaseException) -> str:
    if isinstance(exc, TimeoutError):
        return "timed out"
    return getattr(exc, "strerror", None) or str(exc) or type(exc).__name__


async def _close(writer: asyncio.StreamWriter) -> None:
    writer.close()
    with contextlib.suppress(OSError, ssl.SSLError):
        await writer.wait_closed()
