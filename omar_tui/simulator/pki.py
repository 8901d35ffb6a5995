"""Throwaway certificates for the local OMAR-Online simulator.

OMAR-Online authenticates people by a client certificate, so trying the tool
offline needs a whole small PKI: a CA, a server certificate the client can
verify for loopback addresses, and a user certificate in every shape an
operator may hold one (PEM key in clear or encrypted, PKCS#12 with a
password). Everything lives in one private state folder and is reused across
restarts, so a user who configured omar-tui against the simulator once keeps
working certificates.

The helpers at the bottom make the awkward certificates tests need: expiring
soon, already expired, from a CA the server does not trust, or a PKCS#12 in a
legacy cipher.
"""

from __future__ import annotations

import contextlib
import ipaddress
import logging
import os
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Literal

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

log = logging.getLogger("omar_tui.simulator")

KeyType = Literal["rsa", "ec"]
"""RSA 2048 is what CAISO users hold; P-256 is far quicker to make in tests."""

PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey

USER_COMMON_NAME = "Demo Operator"
USER_ORGANIZATION = "Demo Scheduling Coordinator"
CA_COMMON_NAME = "OMAR-Online Simulator Test CA"
SIM_ORGANIZATION = "omar-tui simulator"

CA_DAYS = 3650
SERVER_DAYS = 397
CLIENT_DAYS = 730
RENEW_WITHIN = timedelta(days=2)
"""A stored certificate this close to its end is made again rather than reused."""
BACKDATE = timedelta(hours=1)
"""Start validity a little in the past, so a clock slightly behind still accepts it."""

LEGACY_P12_NOTE = (
    "RC2-40 cannot be written with the cryptography package; the legacy "
    "PKCS#12 uses PBES1 SHA1 + 3-key Triple-DES with a SHA1 MAC instead."
)


@dataclass(frozen=True, slots=True)
class SimulatorFiles:
    """Every file of the simulator's PKI, and the throwaway passwords.

    The passwords protect test credentials made for this simulator only; they
    are kept in ``passwords_file`` (mode 0600) so the simulator can print
    them for a person trying the tool.
    """

    state_dir: Path
    ca_cert: Path
    """The CA certificate: give it to the client as its CA bundle."""
    ca_key: Path
    server_cert: Path
    server_key: Path
    client_cert: Path
    """The user's certificate (PEM)."""
    client_key: Path
    """The user's private key, unencrypted PEM."""
    client_key_encrypted: Path
    """The same key as encrypted PEM, opened with ``client_key_password``."""
    client_p12: Path
    """Certificate, key and CA as PKCS#12 (AES-256), opened with ``p12_password``."""
    passwords_file: Path
    client_key_password: str = field(repr=False)
    p12_password: str = field(repr=False)

    @classmethod
    def in_dir(
        cls, state_dir: Path, client_key_password: str, p12_password: str
    ) -> SimulatorFiles:
        """Name every file of a state folder (nothing is read or written)."""
        return cls(
            state_dir=state_dir,
            ca_cert=state_dir / "ca.pem",
            ca_key=state_dir / "ca-key.pem",
            server_cert=state_dir / "server.pem",
            server_key=state_dir / "server-key.pem",
            client_cert=state_dir / "client.pem",
            client_key=state_dir / "client-key.pem",
            client_key_encrypted=state_dir / "client-key.enc.pem",
            client_p12=state_dir / "client.p12",
            passwords_file=state_dir / "passwords.txt",
            client_key_password=client_key_password,
            p12_password=p12_password,
        )


@dataclass(frozen=True, slots=True)
class Authority:
    """A CA held in memory, able to sign more certificates."""

    cert: x509.Certificate
    key: PrivateKey


@dataclass(frozen=True, slots=True)
class IssuedCert:
    """A certificate and its unencrypted key written as PEM files."""

    cert_path: Path
    key_path: Path
    cert: x509.Certificate = field(repr=False)
    key: PrivateKey = field(repr=False)
    ca_cert_path: Path | None = None
    """The CA that signed it, when that CA is not the simulator's own."""


# --------------------------------------------------------------------------
# Building blocks


def _now() -> datetime:
    return datetime.now(UTC)


def new_key(key_type: KeyType = "rsa") -> PrivateKey:
    """Make a private key of the chosen type."""
    if key_type == "ec":
        return ec.generate_private_key(ec.SECP256R1())
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _name(common_name: str, organization: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _key_usage(key: PrivateKey, *, ca: bool = False) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=True,
        content_commitment=False,
        key_encipherment=isinstance(key, rsa.RSAPrivateKey) and not ca,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=ca,
        crl_sign=ca,
        encipher_only=False,
        decipher_only=False,
    )


def make_authority(
    common_name: str = CA_COMMON_NAME, key_type: KeyType = "rsa"
) -> Authority:
    """Create a self-signed CA in memory.

    The extensions are the ones strict verifiers (Python 3.13's
    ``VERIFY_X509_STRICT``, browsers) insist on: critical basic constraints,
    key usage, and key identifiers.
    """
    key = new_key(key_type)
    name = _name(common_name, SIM_ORGANIZATION)
    now = _now()
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - BACKDATE)
        .not_valid_after(now + timedelta(days=CA_DAYS))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_key_usage(key, ca=True), critical=True)
        .add_extension(
            x509.SubjectKeyIdentifier.from_public_key(key.public_key()),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    return Authority(cert=cert, key=key)


def _leaf(
    ca: Authority,
    key: PrivateKey,
    subject: x509.Name,
    not_before: datetime,
    not_after: datetime,
    usage: x509.ObjectIdentifier,
    san: x509.SubjectAlternativeName | None = None,
) -> x509.Certificate:
    ca_ski = ca.cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(ca.cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), True)
        .add_extension(_key_usage(key), critical=True)
        .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
        .add_extension(
            x509.SubjectKeyIdentifier.from_public_key(key.public_key()),
            critical=False,
        )
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(
                ca_ski.value
            ),
            critical=False,
        )
    )
    if san is not None:
        builder = builder.add_extension(san, critical=False)
    return builder.sign(ca.key, hashes.SHA256())


def server_certificate(
    ca: Authority,
    *,
    key_type: KeyType = "rsa",
    not_before: datetime | None = None,
    not_after: datetime | None = None,
) -> tuple[x509.Certificate, PrivateKey]:
    """Make a server certificate for ``localhost``, ``127.0.0.1`` and ``::1``."""
    key = new_key(key_type)
    now = _now()
    san = x509.SubjectAlternativeName(
        [
            x509.DNSName("localhost"),
            x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
            x509.IPAddress(ipaddress.ip_address("::1")),
        ]
    )
    cert = _leaf(
        ca,
        key,
        _name("localhost", SIM_ORGANIZATION),
        not_before or now - BACKDATE,
        not_after or now + timedelta(days=SERVER_DAYS),
        ExtendedKeyUsageOID.SERVER_AUTH,
        san,
    )
    return cert, key


def client_certificate(
    ca: Authority,
    *,
    common_name: str = USER_COMMON_NAME,
    organization: str = USER_ORGANIZATION,
    key_type: KeyType = "rsa",
    not_before: datetime | None = None,
    not_after: datetime | None = None,
) -> tuple[x509.Certificate, PrivateKey]:
    """Make a user certificate for TLS client authentication."""
    key = new_key(key_type)
    now = _now()
    cert = _leaf(
        ca,
        key,
        _name(common_name, organization),
        not_before or now - BACKDATE,
        not_after or now + timedelta(days=CLIENT_DAYS),
        ExtendedKeyUsageOID.CLIENT_AUTH,
    )
    return cert, key


# --------------------------------------------------------------------------
# Files


def write_private(path: Path, data: bytes, mode: int = 0o600) -> None:
    """Write a file through a private temporary file and a rename."""
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        tmp.chmod(mode)
        tmp.replace(path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise


def cert_pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def key_pem(key: PrivateKey, password: str | None = None) -> bytes:
    """PEM of a key (PKCS#8), encrypted with the best cipher when given a password."""
    encryption: serialization.KeySerializationEncryption = (
        serialization.BestAvailableEncryption(password.encode())
        if password
        else serialization.NoEncryption()
    )
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption
    )


def write_cert_and_key(
    cert: x509.Certificate, key: PrivateKey, cert_path: Path, key_path: Path
) -> IssuedCert:
    """Write a certificate (0644) and its unencrypted key (0600)."""
    write_private(cert_path, cert_pem(cert), mode=0o644)
    write_private(key_path, key_pem(key))
    return IssuedCert(cert_path=cert_path, key_path=key_path, cert=cert, key=key)


def write_pkcs12(
    path: Path,
    cert: x509.Certificate,
    key: PrivateKey,
    password: str,
    *,
    ca_certs: list[x509.Certificate] | None = None,
    legacy: bool = False,
    friendly_name: str = USER_COMMON_NAME,
) -> None:
    """Write certificate, key and CA chain as a password-protected PKCS#12.

    Args:
        path: Where to write the ``.p12`` (mode 0600).
        cert: The user certificate.
        key: Its private key.
        password: The file's password.
        ca_certs: CA certificates to include (the chain).
        legacy: Use the old PBES1 SHA1 + 3DES encryption and a SHA1 MAC, as
            files exported by old browsers and Windows do, instead of
            PBES2 AES-256 with a SHA-256 MAC. See ``LEGACY_P12_NOTE``: RC2-40
            is not available in cryptography.
        friendly_name: The name shown when the file is imported.
    """
    mac: hashes.HashAlgorithm
    if legacy:
        algorithm = pkcs12.PBES.PBESv1SHA1And3KeyTripleDESCBC
        mac = hashes.SHA1()  # noqa: S303 - deliberately legacy, for tests
    else:
        algorithm = pkcs12.PBES.PBESv2SHA256AndAES256CBC
        mac = hashes.SHA256()
    encryption = (
        serialization.PrivateFormat.PKCS12.encryption_builder()
        .kdf_rounds(2048)
        .key_cert_algorithm(algorithm)
        .hmac_hash(mac)
        .build(password.encode())
    )
    data = pkcs12.serialize_key_and_certificates(
        friendly_name.encode(), key, cert, ca_certs or None, encryption
    )
    write_private(path, data)


# --------------------------------------------------------------------------
# The state folder


def _read_passwords(path: Path) -> dict[str, str]:
    values: dict[str, str] = {}
    with contextlib.suppress(OSError, UnicodeDecodeError):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.startswith("#") or ":" not in line:
                continue
            name, _, value = line.partition(":")
            values[name.strip()] = value.strip()
    return values


def _write_passwords(files: SimulatorFiles) -> None:
    text = (
        "# Throwaway passwords of the omar-tui simulator's test certificate.\n"
        "# They protect credentials that only this local simulator trusts.\n"
        f"{files.client_key_encrypted.name}: {files.client_key_password}\n"
        f"{files.client_p12.name}: {files.p12_password}\n"
    )
    write_private(files.passwords_file, text.encode())


def _load_cert(path: Path) -> x509.Certificate | None:
    try:
        return x509.load_pem_x509_certificate(path.read_bytes())
    except (OSError, ValueError):
        return None


def _load_key(path: Path, password: str | None = None) -> PrivateKey | None:
    try:
        key = serialization.load_pem_private_key(
            path.read_bytes(), password.encode() if password else None
        )
    except (OSError, ValueError, TypeError):
        return None
    return (
        key if isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey) else None
    )


def _fresh(cert: x509.Certificate) -> bool:
    now = _now()
    return cert.not_valid_before_utc <= now < cert.not_valid_after_utc - RENEW_WITHIN


def _signed_by(cert: x509.Certificate, ca: x509.Certificate) -> bool:
    try:
        cert.verify_directly_issued_by(ca)
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True


def _same_key(cert: x509.Certificate, key: PrivateKey) -> bool:
    fmt = serialization.PublicFormat.SubjectPublicKeyInfo
    enc = serialization.Encoding.DER
    return cert.public_key().public_bytes(enc, fmt) == key.public_key().public_bytes(
        enc, fmt
    )


def _load_pair(
    cert_path: Path, key_path: Path, ca: Authority | None
) -> tuple[x509.Certificate, PrivateKey] | None:
    """A stored certificate and key, if usable: fresh, matching, signed by ``ca``."""
    cert = _load_cert(cert_path)
    key = _load_key(key_path)
    if cert is None or key is None or not _fresh(cert) or not _same_key(cert, key):
        return None
    if ca is not None and not _signed_by(cert, ca.cert):
        return None
    return cert, key


def _client_bundle_ok(files: SimulatorFiles, ca: Authority) -> bool:
    """True when every stored shape of the user credential opens and matches."""
    pair = _load_pair(files.client_cert, files.client_key, ca)
    if pair is None or not files.client_key_password or not files.p12_password:
        return False
    cert = pair[0]
    encrypted = _load_key(files.client_key_encrypted, files.client_key_password)
    if encrypted is None or not _same_key(cert, encrypted):
        return False
    try:
        p12_key, p12_cert, _ = pkcs12.load_key_and_certificates(
            files.client_p12.read_bytes(), files.p12_password.encode()
        )
    except (OSError, ValueError):
        return False
    return (
        p12_cert == cert
        and isinstance(p12_key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey)
        and _same_key(cert, p12_key)
    )


def ensure_pki(state_dir: Path, *, key_type: KeyType = "rsa") -> SimulatorFiles:
    """Create the simulator's PKI in ``state_dir``, reusing what is still good.

    The CA is kept while it is valid; the server and user certificates are kept
    while they are valid, signed by that CA and match their keys, so a user's
    configured certificate survives restarts. Anything missing or broken is
    made again (a new CA means new server and user certificates too).

    Args:
        state_dir: The simulator's private folder (created with mode 0700).
        key_type: Key type for newly made keys.

    Returns:
        The paths of every file and the throwaway passwords.
    """
    state_dir.mkdir(parents=True, exist_ok=True)
    state_dir.chmod(0o700)

    stored = _read_passwords(state_dir / "passwords.txt")
    files = SimulatorFiles.in_dir(
        state_dir,
        stored.get("client-key.enc.pem", ""),
        stored.get("client.p12", ""),
    )

    ca_pair = _load_pair(files.ca_cert, files.ca_key, None)
    if ca_pair is None or not _signed_by(ca_pair[0], ca_pair[0]):
        log.info("simulator: making a new CA in %s", state_dir)
        ca = make_authority(key_type=key_type)
        write_cert_and_key(ca.cert, ca.key, files.ca_cert, files.ca_key)
    else:
        ca = Authority(cert=ca_pair[0], key=ca_pair[1])

    if _load_pair(files.server_cert, files.server_key, ca) is None:
        log.info("simulator: making a new server certificate")
        cert, key = server_certificate(ca, key_type=key_type)
        write_cert_and_key(cert, key, files.server_cert, files.server_key)

    if not _client_bundle_ok(files, ca):
        log.info("simulator: making a new user certificate")
        files = SimulatorFiles.in_dir(
            state_dir, secrets.token_urlsafe(12), secrets.token_urlsafe(12)
        )
        cert, key = client_certificate(ca, key_type=key_type)
        write_cert_and_key(cert, key, files.client_cert, files.client_key)
        write_private(
            files.client_key_encrypted, key_pem(key, files.client_key_password)
        )
        write_pkcs12(
            files.client_p12, cert, key, files.p12_password, ca_certs=[ca.cert]
        )
        _write_passwords(files)

    return files


def load_authority(files: SimulatorFiles) -> Authority:
    """Load the simulator's CA, to sign more certificates with it."""
    cert = _load_cert(files.ca_cert)
    key = _load_key(files.ca_key)
    if cert is None or key is None:
        raise ValueError(f"no usable CA in {files.state_dir}")
    return Authority(cert=cert, key=key)


# --------------------------------------------------------------------------
# Awkward certificates for tests


def issue_client_cert(
    files: SimulatorFiles,
    directory: Path,
    *,
    name: str = "client",
    valid_for: timedelta | None = None,
    not_before: datetime | None = None,
    not_after: datetime | None = None,
    common_name: str = USER_COMMON_NAME,
    organization: str = USER_ORGANIZATION,
    key_type: KeyType = "ec",
) -> IssuedCert:
    """Issue a user certificate signed by the simulator's CA, with chosen dates.

    ``valid_for=timedelta(days=5)`` gives one that expires in five days;
    ``not_after`` in the past gives one already expired (the server then
    refuses it at the handshake).

    Args:
        files: The simulator's PKI (its CA signs the certificate).
        directory: Where ``<name>.pem`` and ``<name>-key.pem`` are written.
        name: Base name of the two files.
        valid_for: Validity from now; ignored when ``not_after`` is given.
        not_before: Start of validity (default: an hour ago).
        not_after: End of validity.
        common_name: Subject CN.
        organization: Subject O.
        key_type: Key type (EC by default: quick to make).
    """
    ca = load_authority(files)
    if not_after is None and valid_for is not None:
        not_after = _now() + valid_for
    if not_after is not None and not_before is None and not_after <= _now():
        not_before = not_after - timedelta(days=30)
    cert, key = client_certificate(
        ca,
        common_name=common_name,
        organization=organization,
        key_type=key_type,
        not_before=not_before,
        not_after=not_after,
    )
    directory.mkdir(parents=True, exist_ok=True)
    return write_cert_and_key(
        cert, key, directory / f"{name}.pem", directory / f"{name}-key.pem"
    )


def issue_expired_server_cert(
    files: SimulatorFiles, directory: Path, *, name: str = "server-expired"
) -> IssuedCert:
    """Issue a loopback server certificate, signed by the CA, that expired yesterday.

    Pass it to ``Simulator(server_cert=...)`` to see how a client reacts to an
    expired server certificate.
    """
    ca = load_authority(files)
    now = _now()
    cert, key = server_certificate(
        ca,
        key_type="ec",
        not_before=now - timedelta(days=30),
        not_after=now - timedelta(days=1),
    )
    directory.mkdir(parents=True, exist_ok=True)
    return write_cert_and_key(
        cert, key, directory / f"{name}.pem", directory / f"{name}-key.pem"
    )


def issue_untrusted_client_cert(
    directory: Path, *, name: str = "untrusted", key_type: KeyType = "ec"
) -> IssuedCert:
    """Issue a user certificate from a new CA the simulator does not trust.

    The subject is the same as the demo user's, so only the issuer differs.
    The other CA's certificate is written too (``ca_cert_path``).
    """
    other = make_authority("Some Other CA", key_type=key_type)
    cert, key = client_certificate(other, key_type=key_type)
    directory.mkdir(parents=True, exist_ok=True)
    ca_path = directory / f"{name}-ca.pem"
    write_private(ca_path, cert_pem(other.cert), mode=0o644)
    issued = write_cert_and_key(
        cert, key, directory / f"{name}.pem", directory / f"{name}-key.pem"
    )
    return IssuedCert(
        cert_path=issued.cert_path,
        key_path=issued.key_path,
        cert=cert,
        key=key,
        ca_cert_path=ca_path,
    )


def write_legacy_p12(
    files: SimulatorFiles, path: Path, password: str | None = None
) -> str:
    """Write the demo user's credential as a legacy (3DES, SHA1 MAC) PKCS#12.

    RC2-40, used by the oldest exports, is not offered by cryptography; see
    ``LEGACY_P12_NOTE``.

    Args:
        files: The simulator's PKI.
        path: Where to write the file.
        password: Its password (random when not given).

    Returns:
        The password.
    """
    password = password or secrets.token_urlsafe(12)
    cert = _load_cert(files.client_cert)
    key = _load_key(files.client_key)
    ca = _load_cert(files.ca_cert)
    if cert is None or key is None or ca is None:
        raise ValueError(f"no usable user certificate in {files.state_dir}")
    write_pkcs12(path, cert, key, password, ca_certs=[ca], legacy=True)
    return password
