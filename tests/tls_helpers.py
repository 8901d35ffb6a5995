"""Throw-away certificates for the TLS and client tests (EC P-256: fast)."""

from __future__ import annotations

import datetime as dt
import ipaddress
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

KEY_PASS = "key pass é"
P12_PASS = "p12-pass"


def _name(cn: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "omar-tui tests"),
            x509.NameAttribute(NameOID.COMMON_NAME, cn),
        ]
    )


def new_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def make_cert(
    cn: str,
    key: ec.EllipticCurvePrivateKey,
    issuer_key: ec.EllipticCurvePrivateKey | None = None,
    issuer_cert: x509.Certificate | None = None,
    *,
    ca: bool = False,
    server: bool = False,
    not_before: dt.datetime | None = None,
    not_after: dt.datetime | None = None,
    serial: int | None = None,
) -> x509.Certificate:
    now = dt.datetime.now(dt.UTC)
    subject = _name(cn)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer_cert.subject if issuer_cert else subject)
        .public_key(key.public_key())
        .serial_number(serial or x509.random_serial_number())
        .not_valid_before(not_before or now - dt.timedelta(days=1))
        .not_valid_after(not_after or now + dt.timedelta(days=365))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if ca:
        builder = builder.add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        ).add_extension(
            x509.SubjectKeyIdentifier.from_public_key(key.public_key()),
            critical=False,
        )
    else:
        usage = (
            ExtendedKeyUsageOID.SERVER_AUTH
            if server
            else (ExtendedKeyUsageOID.CLIENT_AUTH)
        )
        builder = builder.add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
    if issuer_cert is not None:
        builder = builder.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(
                issuer_cert.public_key()  # type: ignore[arg-type]
            ),
            critical=False,
        )
    if server:
        builder = builder.add_extension(
            x509.SubjectAlternativeName(
                [
                    x509.DNSName("localhost"),
                    x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                ]
            ),
            critical=False,
        )
    return builder.sign(issuer_key or key, hashes.SHA256())


def pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def key_pem(key: ec.EllipticCurvePrivateKey, password: str | None = None) -> bytes:
    encryption: serialization.KeySerializationEncryption = (
        serialization.BestAvailableEncryption(password.encode())
        if password
        else serialization.NoEncryption()
    )
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption
    )


@dataclass
class Pki:
    """Paths of a small PKI written under one folder."""

    root: Path
    ca: Path
    ca_cert: x509.Certificate
    server_cert: Path
    server_key: Path
    client_cert: Path
    client_cert_obj: x509.Certificate
    client_key: Path
    client_key_encrypted: Path
    client_combined: Path
    client_p12: Path
    client_p12_nopass: Path
    other_ca: Path
    other_key: Path
    other_client_cert: Path
    other_client_key: Path


def make_pki(root: Path) -> Pki:
    root.mkdir(parents=True, exist_ok=True)
    ca_key = new_key()
    ca_cert = make_cert("Test CA", ca_key, ca=True)
    server_key = new_key()
    server_cert = make_cert("localhost", server_key, ca_key, ca_cert, server=True)
    client_key = new_key()
    client_cert = make_cert("Test Participant", client_key, ca_key, ca_cert)
    other_ca_key = new_key()
    other_ca = make_cert("Other CA", other_ca_key, ca=True)
    other_client_key = new_key()
    other_client = make_cert("Stranger", other_client_key, other_ca_key, other_ca)

    def write(name: str, data: bytes) -> Path:
        path = root / name
        path.write_bytes(data)
        return path

    p12 = pkcs12.serialize_key_and_certificates(
        b"client",
        client_key,
        client_cert,
        [ca_cert],
        serialization.BestAvailableEncryption(P12_PASS.encode()),
    )
    p12_nopass = pkcs12.serialize_key_and_certificates(
        b"client", client_key, client_cert, None, serialization.NoEncryption()
    )
    return Pki(
        root=root,
        ca=write("ca.pem", pem(ca_cert)),
        ca_cert=ca_cert,
        server_cert=write("server.pem", pem(server_cert) + pem(ca_cert)),
        server_key=write("server.key", key_pem(server_key)),
        client_cert=write("client.pem", pem(client_cert)),
        client_cert_obj=client_cert,
        client_key=write("client.key", key_pem(client_key)),
        client_key_encrypted=write("client-enc.key", key_pem(client_key, KEY_PASS)),
        client_combined=write("combined.pem", pem(client_cert) + key_pem(client_key)),
        client_p12=write("client.p12", p12),
        client_p12_nopass=write("client-nopass.pfx", p12_nopass),
        other_ca=write("other-ca.pem", pem(other_ca)),
        other_key=write("other.key", key_pem(new_key())),
        other_client_cert=write("stranger.pem", pem(other_client)),
        other_client_key=write("stranger.key", key_pem(other_client_key)),
    )
