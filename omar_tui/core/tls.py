"""The TLS side of a connection: whom we trust, and who we are.

OMAR-Online authenticates a participant by a software client certificate
(SPEC.md R3), which usually arrives as a password-protected PKCS#12 file and
sometimes as PEM files. Python's :mod:`ssl` only loads PEM from files and asks
OpenSSL to prompt on the terminal when a key is encrypted and no password is
given, so this module:

* checks every file with ``cryptography`` first, to turn OpenSSL's terse
  failures into distinct, plain :class:`~omar_tui.errors.CertificateError`\\s;
* always passes a password to ``load_cert_chain``, so OpenSSL never prompts;
* converts PKCS#12 to a short-lived PEM whose key is encrypted with a random
  one-time password, so neither a clear key nor the operator's passphrase is
  ever written to disk.

Server verification is always on; there is deliberately no switch for it.
"""

from __future__ import annotations

import os
import re
import secrets
import ssl
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, TypeAlias

from omar_tui.errors import CertificateError, PassphraseRequired

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.types import (
        PrivateKeyTypes,
        PublicKeyTypes,
    )
    from cryptography.x509 import Certificate

PKCS12_SUFFIXES = (".p12", ".pfx")

_KEY_BLOCK = re.compile(
    rb"-----BEGIN ((?:ENCRYPTED |RSA |EC |DSA )?PRIVATE KEY)-----"
    rb".*?-----END \1-----",
    re.DOTALL,
)
_CERT_MARKER = b"-----BEGIN CERTIFICATE-----"

# DER encodings (tag, length, value) of the password-based encryption schemes
# that OpenSSL 3 only offers through its "legacy" provider: the PKCS#12 PBEs
# with RC2 and RC4 (1.2.840.113549.1.12.1.1, .2, .5, .6) and the PKCS#5 v1
# schemes with DES or RC2 (1.2.840.113549.1.5.1, .3, .4, .6, .10, .11). They
# sit in clear in the file, outside the encrypted parts, so a byte search
# finds them without the password.
_LEGACY_PBE_OIDS: tuple[bytes, ...] = tuple(
    bytes.fromhex("060a2a864886f70d010c01") + bytes([last]) for last in (1, 2, 5, 6)
) + tuple(
    bytes.fromhex("06092a864886f70d0105") + bytes([last])
    for last in (1, 3, 4, 6, 10, 11)
)

LEGACY_P12_RECIPE = (
    "openssl pkcs12 -legacy -in OLD.p12 -passin env:OLD_PASS -passout env:NEW_PASS"
    " -out OLD-encrypted.pem"
    " && openssl pkcs12 -export -in OLD-encrypted.pem -passin env:NEW_PASS"
    " -passout env:NEW_PASS -out NEW.p12"
    " && rm OLD-encrypted.pem"
)
"""Re-encrypts an old PKCS#12 with modern ciphers; the key is never in clear."""


@dataclass(frozen=True, slots=True)
class ClientIdentity:
    """The client certificate OMAR-Online knows the participant by.

    Either a PKCS#12 file (``cert`` ending in .p12/.pfx, ``key`` unused), a
    PEM certificate with its key in ``key``, or a PEM holding both.
    """

    cert: Path
    key: Path | None = None

    @property
    def is_pkcs12(self) -> bool:
        """True when ``cert`` is a PKCS#12 bundle, judged by its extension."""
        return self.cert.suffix.lower() in PKCS12_SUFFIXES


@dataclass(frozen=True, slots=True)
class LoadedIdentity:
    """What a client identity holds once opened: certificate, chain and key."""

    cert: Certificate
    chain: tuple[Certificate, ...]
    key: PrivateKeyTypes


def needs_passphrase(identity: ClientIdentity) -> bool:
    """Tell whether opening ``identity`` needs a passphrase.

    Asked before :func:`build_ssl_context` so a front end can prompt (or read
    the variable) only when it must.

    Raises:
        CertificateError: the file is missing or unreadable, or is a PKCS#12
            in a cipher this system refuses (no passphrase would help).
    """
    if identity.is_pkcs12:
        data = _read(identity.cert, "certificate")
        _refuse_legacy_if_unsupported(identity.cert, data)
        return _open_pkcs12_without_password(data) is None

    if identity.key is None:
        data = _read(identity.cert, "certificate")
    else:
        data = _read(identity.key, "key")
    block = _find_key_block(data)
    return block is not None and _is_encrypted(block)


def build_ssl_context(
    *,
    ca_bundle: Path | None,
    identity: ClientIdentity | None,
    passphrase: str | None,
) -> ssl.SSLContext:
    """Build the client context for OMAR-Online.

    Args:
        ca_bundle: PEM file (or folder) of CAs to trust instead of the
            system store; ``None`` trusts the system store.
        identity: The client certificate, or ``None`` to connect without one.
        passphrase: Opens an encrypted key or PKCS#12; ignored when not needed.

    Returns:
        A context that verifies the server (certificate and host name), speaks
        TLS 1.2 or newer, and answers a certificate request made after the
        handshake, as servers that ask only on the upload path do.

    Raises:
        CertificateError: any file cannot be used; the title says which and why.
    """
    context = _base_context(ca_bundle)
    if identity is not None:
        if identity.is_pkcs12:
            _load_pkcs12(context, identity.cert, passphrase)
        else:
            _load_pem(context, identity, passphrase)
    return context


def load_identity(identity: ClientIdentity, passphrase: str | None) -> LoadedIdentity:
    """Open and check an identity without building a context.

    Shared with :mod:`omar_tui.core.certificates`, so a summary and a
    connection judge the same files the same way.

    Raises:
        CertificateError: as :func:`build_ssl_context`.
    """
    if identity.is_pkcs12:
        return _open_pkcs12(identity.cert, passphrase)
    return _open_pem(identity, passphrase)[0]


def load_certificate(identity: ClientIdentity, passphrase: str | None) -> Certificate:
    """The client (leaf) certificate of ``identity``, opening as little as needed.

    A PEM certificate is read without touching its key, so no passphrase is
    needed; a PKCS#12 has to be opened whole.

    Raises:
        CertificateError: as :func:`build_ssl_context`.
    """
    if identity.is_pkcs12:
        return _open_pkcs12(identity.cert, passphrase).cert

    from cryptography import x509

    data = _read(identity.cert, "certificate")
    if _CERT_MARKER not in data:
        raise _not_a_certificate(identity.cert)
    try:
        return x509.load_pem_x509_certificates(data)[0]
    except ValueError as exc:
        raise _not_a_certificate(identity.cert) from exc


# --- trust -----------------------------------------------------------------


def _base_context(ca_bundle: Path | None) -> ssl.SSLContext:
    """A verifying client context over the system store or ``ca_bundle``."""
    if ca_bundle is None:
        context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH)
    else:
        context = _context_for_bundle(ca_bundle)

    # create_default_context already sets these; they are stated again so no
    # later edit of the defaults can quietly weaken them.
    context.verify_mode = ssl.CERT_REQUIRED
    context.check_hostname = True
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.post_handshake_auth = True
    return context


def _context_for_bundle(path: Path) -> ssl.SSLContext:
    """A context trusting exactly the CAs in ``path`` (PEM file or hashed folder)."""
    if path.is_dir():
        return ssl.create_default_context(ssl.Purpose.SERVER_AUTH, capath=str(path))

    data = _read(path, "CA bundle")
    if _CERT_MARKER not in data:
        raise _no_ca_error(path)
    try:
        return ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=str(path))
    except ssl.SSLError as exc:
        raise _no_ca_error(path) from exc


def _no_ca_error(path: Path) -> CertificateError:
    return CertificateError(
        f"The CA bundle {path} holds no usable certificate",
        "Point ca_bundle at a PEM file of CA certificates (-----BEGIN "
        "CERTIFICATE----- blocks), or remove the setting to use the system store.",
    )


# --- PEM -------------------------------------------------------------------


def _load_pem(
    context: ssl.SSLContext, identity: ClientIdentity, passphrase: str | None
) -> None:
    """Check a PEM identity, then hand the same files to OpenSSL."""
    _, encrypted = _open_pem(identity, passphrase)

    # Always a password: for a clear key OpenSSL ignores it, and for an
    # encrypted one it means OpenSSL never falls back to a terminal prompt.
    password = (passphrase or "").encode() if encrypted else b""
    keyfile = str(identity.key) if identity.key is not None else None
    try:
        context.load_cert_chain(str(identity.cert), keyfile, password=password)
    except ssl.SSLError as exc:
        raise _unusable_error(identity.cert, exc) from exc


def _open_pem(
    identity: ClientIdentity, passphrase: str | None
) -> tuple[LoadedIdentity, bool]:
    """Open a PEM identity; return it and whether its key was encrypted."""
    from cryptography import x509

    cert_data = _read(identity.cert, "certificate")
    if _CERT_MARKER not in cert_data:
        raise _not_a_certificate(identity.cert)
    try:
        certs = x509.load_pem_x509_certificates(cert_data)
    except ValueError as exc:
        raise _not_a_certificate(identity.cert) from exc

    key_path = identity.key or identity.cert
    key_data = cert_data if identity.key is None else _read(identity.key, "key")
    block = _find_key_block(key_data)
    if block is None:
        raise _key_missing(identity, key_path)

    encrypted = _is_encrypted(block)
    key = _load_pem_key(key_path, block, passphrase if encrypted else None)
    _check_pair(certs[0], key)
    return LoadedIdentity(certs[0], tuple(certs[1:]), key), encrypted


def _load_pem_key(path: Path, block: bytes, passphrase: str | None) -> PrivateKeyTypes:
    """Decrypt (if needed) one PEM key block, with plain errors."""
    from cryptography.exceptions import UnsupportedAlgorithm
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    if passphrase is None and _is_encrypted(block):
        raise _passphrase_required(path)
    password = passphrase.encode() if passphrase is not None else None
    try:
        return load_pem_private_key(block, password)
    except UnsupportedAlgorithm as exc:
        raise CertificateError(
            f"The key in {path} uses an algorithm this system cannot load",
            "Convert it to an RSA or EC key in PKCS#8 PEM form.",
        ) from exc
    except (ValueError, TypeError) as exc:
        if password is not None:
            raise _wrong_passphrase(path) from exc
        raise CertificateError(
            f"The private key in {path} is damaged or not in PEM form",
            "Export the key again from where the certificate was issued.",
        ) from exc


def _find_key_block(data: bytes) -> bytes | None:
    match = _KEY_BLOCK.search(data)
    return match.group(0) if match else None


def _is_encrypted(block: bytes) -> bool:
    """Both PKCS#8 and the older OpenSSL ("Proc-Type") encrypted keys count."""
    return block.startswith(b"-----BEGIN ENCRYPTED") or b"Proc-Type: 4,ENCRYPTED" in (
        block
    )


# --- PKCS#12 ---------------------------------------------------------------


def _load_pkcs12(context: ssl.SSLContext, path: Path, passphrase: str | None) -> None:
    """Load a PKCS#12 identity through a short-lived, encrypted PEM file.

    ``ssl`` reads keys only from files. The file holds the key encrypted with
    a random one-time password that lives only in this process, sits in a
    private 0700 folder as a 0600 file, and is deleted before returning.
    """
    from cryptography.hazmat.primitives.serialization import (
        BestAvailableEncryption,
        Encoding,
        PrivateFormat,
    )

    loaded = _open_pkcs12(path, passphrase)
    one_time = secrets.token_bytes(32)
    pem = b"".join(c.public_bytes(Encoding.PEM) for c in (loaded.cert, *loaded.chain))
    pem += loaded.key.private_bytes(
        Encoding.PEM, PrivateFormat.PKCS8, BestAvailableEncryption(one_time)
    )

    try:
        folder = Path(tempfile.mkdtemp(prefix="omar-tui-"))  # created 0700
    except OSError as exc:
        raise _temp_error(exc) from exc
    file = folder / "identity.pem"
    try:
        fd = os.open(file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as out:
            out.write(pem)
        context.load_cert_chain(str(file), password=one_time)
    except ssl.SSLError as exc:
        raise _unusable_error(path, exc) from exc
    except OSError as exc:
        raise _temp_error(exc) from exc
    finally:
        file.unlink(missing_ok=True)
        folder.rmdir()


def _temp_error(exc: OSError) -> CertificateError:
    return CertificateError(
        f"Cannot write a temporary file to load the certificate ({exc.strerror})",
        "The PKCS#12 is loaded through a private temporary file: check that "
        "TMPDIR (or /tmp) exists and is writable.",
    )


def _open_pkcs12(path: Path, passphrase: str | None) -> LoadedIdentity:
    """Open a PKCS#12 with ``passphrase`` and check what it holds."""
    data = _read(path, "certificate")
    if not _looks_like_pkcs12(data):
        raise _not_a_certificate(path)
    _refuse_legacy_if_unsupported(path, data)

    if passphrase:
        content = _try_pkcs12(data, passphrase.encode())
        if content is None:
            raise _wrong_passphrase(path)
    else:
        content = _open_pkcs12_without_password(data)
        if content is None:
            raise _passphrase_required(path)

    key, cert, chain = content
    if key is None:
        raise CertificateError(
            f"{path} holds no private key",
            "Export the PKCS#12 again with the private key included.",
        )
    if cert is None:
        raise CertificateError(
            f"{path} holds no certificate for its key",
            "Export the PKCS#12 again with the certificate included.",
        )
    _check_pair(cert, key)
    return LoadedIdentity(cert, tuple(chain), key)


_P12Content: TypeAlias = (
    "tuple[PrivateKeyTypes | None, Certificate | None, list[Certificate]]"
)


def _try_pkcs12(data: bytes, password: bytes | None) -> _P12Content | None:
    """The contents of a PKCS#12, or ``None`` when ``password`` does not open it."""
    from cryptography.hazmat.primitives.serialization import pkcs12

    try:
        return pkcs12.load_key_and_certificates(data, password)
    except ValueError:
        return None


def _open_pkcs12_without_password(data: bytes) -> _P12Content | None:
    """Tools disagree on "no password": absent and empty are both tried."""
    return _try_pkcs12(data, None) or _try_pkcs12(data, b"")


def _looks_like_pkcs12(data: bytes) -> bool:
    """A DER SEQUENCE whose first element is the PFX version, INTEGER 3."""
    if len(data) < 8 or data[0] != 0x30:
        return False
    first = data[1]
    offset = 2 + (first & 0x7F if first & 0x80 else 0)
    return data[offset : offset + 3] == b"\x02\x01\x03"


def uses_legacy_cipher(data: bytes) -> bool:
    """True when a PKCS#12 is protected by RC2, RC4 or single DES."""
    return any(oid in data for oid in _LEGACY_PBE_OIDS)


def _legacy_ciphers_available() -> bool:
    """Whether ``cryptography``'s OpenSSL has its legacy provider loaded.

    Wheels of ``cryptography`` load it unless CRYPTOGRAPHY_OPENSSL_NO_LEGACY
    is set; distribution builds may not. The flag is private, so its absence
    is read as "not available", which only changes the wording of an error.
    """
    try:
        from cryptography.hazmat.bindings._rust import openssl as rust_openssl
    except ImportError:  # pragma: no cover - layout of future releases
        return False
    return bool(getattr(rust_openssl, "_legacy_provider_loaded", False))


def _refuse_legacy_if_unsupported(path: Path, data: bytes) -> None:
    if uses_legacy_cipher(data) and not _legacy_ciphers_available():
        raise CertificateError(
            f"{path} is protected by an old cipher (RC2/RC4/DES) this system refuses",
            "Re-encrypt it once with OpenSSL 3 (the key stays encrypted): export "
            "OLD_PASS (its password) and NEW_PASS (a new one), run\n"
            f"  {LEGACY_P12_RECIPE}\n"
            "then use NEW.p12 with the new password.",
        )


# --- checks shared by both forms ---------------------------------------------


def _check_pair(cert: Certificate, key: PrivateKeyTypes) -> None:
    """Refuse a key that does not belong to the certificate."""
    if _spki(cert.public_key()) != _spki(key.public_key()):
        raise CertificateError(
            "The private key does not belong to the certificate",
            "Use the key file that was created with this certificate; the "
            "subject and serial are shown by `omar-tui doctor`.",
        )


def _spki(public_key: PublicKeyTypes) -> bytes:
    from cryptography.hazmat.primitives.serialization import (
        Encoding,
        PublicFormat,
    )

    return public_key.public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)


def _read(path: Path, what: str) -> bytes:
    """Read a credential file, turning OS errors into a plain title."""
    try:
        return path.read_bytes()
    except FileNotFoundError as exc:
        raise CertificateError(
            f"The {what} file {path} does not exist",
            "Check the path in the settings or on the command line.",
        ) from exc
    except IsADirectoryError as exc:
        raise CertificateError(
            f"The {what} file {path} is a folder",
            "Give the path of the file itself.",
        ) from exc
    except OSError as exc:
        raise CertificateError(
            f"The {what} file {path} cannot be read ({exc.strerror})",
            "Check the file's permissions: the user running omar-tui must read it.",
        ) from exc


def _not_a_certificate(path: Path) -> CertificateError:
    return CertificateError(
        f"{path} does not hold a certificate",
        "Give a PEM certificate (-----BEGIN CERTIFICATE-----) or a PKCS#12 "
        "file ending in .p12 or .pfx.",
    )


def _key_missing(identity: ClientIdentity, key_path: Path) -> CertificateError:
    if identity.key is None:
        return CertificateError(
            f"{identity.cert} holds a certificate but no private key",
            "Give the key file too (the `key` setting or --key), or use the "
            ".p12/.pfx file the certificate came in.",
        )
    return CertificateError(
        f"The key file {key_path} holds no private key",
        "Give the file with the -----BEGIN ... PRIVATE KEY----- block.",
    )


def _wrong_passphrase(path: Path) -> CertificateError:
    return CertificateError(
        f"Wrong passphrase for {path}",
        "Check OMAR_TUI_CERT_PASSWORD, or the passphrase typed at the prompt.",
    )


def _passphrase_required(path: Path) -> PassphraseRequired:
    return PassphraseRequired(
        f"{path} is protected by a passphrase, and none was given",
        "Set OMAR_TUI_CERT_PASSWORD, or run in a terminal to be prompted.",
    )


def _unusable_error(path: Path, exc: ssl.SSLError) -> CertificateError:
    reason = getattr(exc, "reason", None) or exc.strerror or str(exc)
    return CertificateError(
        f"OpenSSL cannot use the certificate in {path} ({reason})",
        "Check that the certificate and key are PEM (or a .p12/.pfx) and belong "
        "together.",
    )
