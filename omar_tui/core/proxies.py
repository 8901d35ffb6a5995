"""Proxies from the environment (HTTPS_PROXY, NO_PROXY), read entry by entry.

httpx refuses the whole environment when one entry is malformed (an IPv6
address or range in NO_PROXY, say), which would leave an operator behind a
proxy unable to connect at all. The client falls back to these helpers,
which keep every entry httpx can use and log the ones it cannot.
"""

from __future__ import annotations

import logging
import ssl
import urllib.request

import httpx

log = logging.getLogger("omar_tui.client")


def env_proxies() -> bool:
    """True when the environment names a proxy for https."""
    found = urllib.request.getproxies()
    return bool(found.get("https") or found.get("all"))


def environment_mounts(
    context: ssl.SSLContext, limits: httpx.Limits
) -> dict[str, httpx.AsyncBaseTransport | None]:
    """HTTP(S)_PROXY / NO_PROXY read entry by entry, skipping what httpx rejects."""
    found = urllib.request.getproxies()
    mounts: dict[str, httpx.AsyncBaseTransport | None] = {}

    for scheme in ("http", "https", "all"):
        url = found.get(scheme)
        if not url:
            continue
        url = url if "://" in url else f"http://{url}"
        try:
            mounts[f"{scheme}://"] = httpx.AsyncHTTPTransport(
                proxy=url, verify=context, limits=limits, http1=True, http2=False
            )
        except (httpx.InvalidURL, ValueError, ImportError) as exc:
            log.warning("ignoring the %s proxy from the environment: %s", scheme, exc)

    for entry in found.get("no", "").split(","):
        host = entry.strip().strip("[]")
        if not host:
            continue
        if host == "*":
            return {}
        pattern = _no_proxy_pattern(host)
        try:
            httpx.URL(pattern)
        except (httpx.InvalidURL, ValueError):
            pattern = ""
        if pattern:
            mounts[pattern] = None
        else:
            log.warning("ignoring NO_PROXY entry %r: not a host name or address", entry)
    return mounts


def _no_proxy_pattern(host: str) -> str:
    """The httpx mount pattern for one NO_PROXY entry ("" if it cannot be one)."""
    import ipaddress

    if "/" in host:
        return ""  # address ranges are not supported by httpx's patterns
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        if "://" in host:
            return host
        return f"all://{host}" if host.lower() == "localhost" else f"all://*{host}"
    return f"all://[{host}]" if address.version == 6 else f"all://{host}"
