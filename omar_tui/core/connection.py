"""Where a submission goes and with which credentials.

The CLI, the TUI, ``watch`` and ``doctor`` all answer the same two questions
before talking to OMAR-Online: which server (an environment from the settings
or a URL given on the command line) and which client certificate. Answering
them in one place keeps every front end honest about what it will contact.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from omar_tui.core.settings import Settings
from omar_tui.core.tls import ClientIdentity, build_ssl_context
from omar_tui.errors import CertificateError, UsageError

PRODUCTION = "production"


@dataclass(frozen=True, slots=True)
class Target:
    """One OMAR-Online server, as the client will contact it."""

    environment: str
    """The environment's name, or ``url:<host:port>`` for a URL given directly."""
    base_url: str
    session_path: str = "/"
    upload_path: str = "/uploadProcess.jsp"

    @property
    def is_production(self) -> bool:
        """True for the production environment or any URL on CAISO's production host.

        Checked on the host too, so a custom environment pointing at the
        production server gets the same confirmation as the built-in one.
        """
        host = urlsplit(self.base_url).hostname or ""
        return self.environment == PRODUCTION or host == "omar-online.caiso.com"

    @property
    def upload_url(self) -> str:
        return self.base_url.rstrip("/") + self.upload_path


def resolve_target(
    settings: Settings,
    environment: str | None = None,
    base_url: str | None = None,
) -> Target:
    """Pick the server from the command line or the settings.

    Raises:
        UsageError: when both an environment and a URL are given, or the URL is
            not an https URL with a host.
    """
    if environment and base_url:
        raise UsageError(
            "Give either --env or --base-url, not both.",
            "--env picks a server from the settings; --base-url names one directly.",
        )

    if base_url:
        parts = urlsplit(base_url)
        if parts.scheme.lower() != "https" or not parts.hostname:
            raise UsageError(
                f"{base_url!r} is not an https URL.",
                "OMAR-Online is only reached over HTTPS, e.g. https://host:port",
            )
        # A URL that is a configured environment *is* that environment, so
        # the duplicate refusal (kept per environment) sees the same history.
        for env in settings.environments.values():
            if _same_server(env.base_url, base_url):
                return Target(
                    env.name,
                    env.base_url.rstrip("/"),
                    env.session_path,
                    env.upload_path,
                )
        return Target(f"url:{_server_key(base_url)}", base_url.rstrip("/"))

    env = settings.active_environment(environment)
    return Target(
        environment=env.name,
        base_url=env.base_url.rstrip("/"),
        session_path=env.session_path,
        upload_path=env.upload_path,
    )


def identity_from(
    settings: Settings,
    cert: Path | None = None,
    key: Path | None = None,
) -> ClientIdentity | None:
    """The client certificate to present: the command line's, else the settings'."""
    cert_path = cert or settings.cert
    if cert_path is None:
        if key is not None:
            raise UsageError("A --key was given without a --cert.")
        return None
    key_path = key if cert is not None else (key or settings.key)
    return ClientIdentity(cert=cert_path.expanduser(), key=_expand(key_path))


def require_identity(identity: ClientIdentity | None) -> ClientIdentity:
    """OMAR-Online authenticates every user by certificate (SPEC.md R3)."""
    if identity is None:
        raise CertificateError(
            "No client certificate is configured.",
            "Set [certificate] cert in the settings, or pass --cert "
            "(a .p12/.pfx, or a PEM certificate with --key).",
        )
    return identity


def make_ssl_context(
    settings: Settings,
    *,
    identity: ClientIdentity | None,
    ca_bundle: Path | None = None,
    passphrase: str | None = None,
) -> ssl.SSLContext:
    """Build the TLS context for a run: server verified, client certificate loaded."""
    bundle = ca_bundle or settings.ca_bundle
    return build_ssl_context(
        ca_bundle=_expand(bundle),
        identity=identity,
        passphrase=passphrase,
    )


def _server_key(url: str) -> str:
    """``host:port`` (port 443 left out), lower case, plus any path prefix."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if ":" in host:
        host = f"[{host}]"
    port = parts.port or 443
    where = host if port == 443 else f"{host}:{port}"
    return where + parts.path.rstrip("/")


def _same_server(a: str, b: str) -> bool:
    return _server_key(a) == _server_key(b)


def _expand(path: Path | None) -> Path | None:
    return path.expanduser() if path is not None else None
