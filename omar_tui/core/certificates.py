"""A readable summary of the client certificate, and its expiry warning.

An expired certificate shows up at OMAR-Online as a refused handshake, which
reads like a network fault. Showing who the certificate names and how long it
has left turns that into something an operator can act on weeks ahead.

``cryptography`` is imported only by :func:`summarize`, so importing this
module costs nothing at start-up.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING

from omar_tui.core.tls import ClientIdentity, load_certificate

if TYPE_CHECKING:
    from cryptography.x509 import Certificate

DEFAULT_WARN_DAYS = 30
"""Warn this many days or fewer before the certificate expires."""


@dataclass(frozen=True, slots=True)
class CertSummary:
    """What an operator needs to know about a client certificate."""

    subject: str
    """The certificate's subject, RFC 4514 form (``CN=...,O=...``)."""
    issuer: str
    serial: str
    """Serial number in upper-case hexadecimal, as CAISO's portal shows it."""
    not_before: dt.datetime
    """Start of validity, UTC."""
    not_after: dt.datetime
    """End of validity, UTC."""
    days_left: int
    """Whole days from the summary to ``not_after``; negative once expired."""
    fingerprint_sha256: str
    """SHA-256 of the certificate, colon-separated hex pairs."""

    @property
    def expired(self) -> bool:
        return self.days_left < 0


def summarize(
    identity: ClientIdentity,
    passphrase: str | None,
    *,
    now: dt.datetime | None = None,
) -> CertSummary:
    """Summarise the client certificate of ``identity``.

    A PEM certificate is read without its key, so no passphrase is needed; a
    PKCS#12 must be opened (``passphrase`` when it is encrypted).

    Args:
        identity: The certificate files.
        passphrase: Opens an encrypted PKCS#12; ignored for PEM.
        now: The moment ``days_left`` counts from (UTC now by default).

    Raises:
        CertificateError: the file cannot be read or opened.
    """
    return summary_of(load_certificate(identity, passphrase), now=now)


def summary_of(cert: Certificate, *, now: dt.datetime | None = None) -> CertSummary:
    """Summarise an already-loaded certificate."""
    from cryptography.hazmat.primitives import hashes

    moment = now or dt.datetime.now(dt.UTC)
    not_after = cert.not_valid_after_utc
    serial = f"{cert.serial_number:X}"
    return CertSummary(
        subject=cert.subject.rfc4514_string(),
        issuer=cert.issuer.rfc4514_string(),
        serial=serial if len(serial) % 2 == 0 else "0" + serial,
        not_before=cert.not_valid_before_utc,
        not_after=not_after,
        days_left=(not_after - moment).days,
        fingerprint_sha256=cert.fingerprint(hashes.SHA256()).hex(":").upper(),
    )


def expiry_warning(
    summary: CertSummary, warn_days: int = DEFAULT_WARN_DAYS
) -> str | None:
    """One line to show when the certificate is expired or close to it.

    Returns:
        ``None`` while more than ``warn_days`` days are left.
    """
    date = summary.not_after.date().isoformat()
    if summary.days_left < 0:
        return f"Certificate expired on {date}"
    if summary.days_left > warn_days:
        return None
    if summary.days_left == 0:
        return f"Certificate expires today ({date})"
    unit = "day" if summary.days_left == 1 else "days"
    return f"Certificate expires in {summary.days_left} {unit} ({date})"
