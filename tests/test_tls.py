"""Client identities, the SSL context, certificate summaries and the passphrase."""

from __future__ import annotations

import datetime as dt
import io
import os
import shutil
import ssl
import stat
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.serialization import pkcs12
from tls_helpers import KEY_PASS, P12_PASS, Pki, make_cert, make_pki, new_key

from omar_tui.core import passphrase as passphrase_module
from omar_tui.core import tls
from omar_tui.core.certificates import expiry_warning, summarize, summary_of
from omar_tui.core.passphrase import PASSPHRASE_VAR, get_passphrase
from omar_tui.core.tls import (
    LEGACY_P12_RECIPE,
    ClientIdentity,
    build_ssl_context,
    needs_passphrase,
    uses_legacy_cipher,
)
from omar_tui.errors import CertificateError, PassphraseRequired


@pytest.fixture
def pki(tmp_path: Path) -> Pki:
    """A fresh PKI per test (EC keys: milliseconds), so tests may damage files."""
    return make_pki(tmp_path / "pki")


def build(pki: Pki, identity: ClientIdentity | None, secret: str | None = None) -> Any:
    return build_ssl_context(ca_bundle=pki.ca, identity=identity, passphrase=secret)


# --- ClientIdentity / needs_passphrase ---


@pytest.mark.parametrize(
    ("name", "expected"),
    [("a.p12", True), ("a.PFX", True), ("a.Pfx", True), ("a.pem", False)],
)
def test_is_pkcs12_by_extension(name: str, expected: bool) -> None:
    assert ClientIdentity(Path(name)).is_pkcs12 is expected


def test_needs_passphrase(pki: Pki) -> None:
    assert not needs_passphrase(ClientIdentity(pki.client_cert, pki.client_key))
    assert not needs_passphrase(ClientIdentity(pki.client_combined))
    assert needs_passphrase(ClientIdentity(pki.client_cert, pki.client_key_encrypted))
    assert needs_passphrase(ClientIdentity(pki.client_p12))
    assert not needs_passphrase(ClientIdentity(pki.client_p12_nopass))


def test_needs_passphrase_for_traditional_encrypted_pem(pki: Pki) -> None:
    key = pki.root / "trad.key"
    key.write_bytes(
        b"-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\n"
        b"DEK-Info: AES-128-CBC,00\n\nAAAA\n-----END RSA PRIVATE KEY-----\n"
    )
    assert needs_passphrase(ClientIdentity(pki.client_cert, key))


def test_needs_passphrase_of_a_missing_file(pki: Pki) -> None:
    with pytest.raises(CertificateError, match=r"certificate file .* does not exist"):
        needs_passphrase(ClientIdentity(pki.root / "missing.pem"))


# --- the context ---


def test_context_always_verifies(pki: Pki) -> None:
    context = build(pki, None)
    assert context.verify_mode is ssl.CERT_REQUIRED
    assert context.check_hostname is True
    assert context.minimum_version is ssl.TLSVersion.TLSv1_2
    assert context.post_handshake_auth is True
    subjects = [dict(x[0] for x in c["subject"]) for c in context.get_ca_certs()]
    assert subjects == [{"organizationName": "omar-tui tests", "commonName": "Test CA"}]


def test_context_without_bundle_uses_the_system_store() -> None:
    context = build_ssl_context(ca_bundle=None, identity=None, passphrase=None)
    assert context.verify_mode is ssl.CERT_REQUIRED
    assert context.check_hostname is True
    assert context.post_handshake_auth is True


@pytest.mark.parametrize(
    "shape", ["pem+key", "combined", "encrypted", "p12", "p12-no-password"]
)
def test_every_identity_shape_loads(pki: Pki, shape: str) -> None:
    identity, secret = {
        "pem+key": (ClientIdentity(pki.client_cert, pki.client_key), None),
        "combined": (ClientIdentity(pki.client_combined), None),
        "encrypted": (
            ClientIdentity(pki.client_cert, pki.client_key_encrypted),
            KEY_PASS,
        ),
        "p12": (ClientIdentity(pki.client_p12), P12_PASS),
        "p12-no-password": (ClientIdentity(pki.client_p12_nopass), None),
    }[shape]
    assert isinstance(build(pki, identity, secret), ssl.SSLContext)


def test_a_passphrase_for_a_clear_key_is_ignored(pki: Pki) -> None:
    build(pki, ClientIdentity(pki.client_cert, pki.client_key), "unused")


class LoadSpy:
    """Wraps SSLContext.load_cert_chain to see what OpenSSL is given."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.calls: list[dict[str, Any]] = []
        real = ssl.SSLContext.load_cert_chain

        def spy(context: ssl.SSLContext, certfile: str, *args: Any, **kw: Any) -> None:
            path = Path(certfile)
            self.calls.append(
                {
                    "certfile": path,
                    "password": kw.get("password"),
                    "file_mode": stat.S_IMODE(path.stat().st_mode),
                    "dir_mode": stat.S_IMODE(path.parent.stat().st_mode),
                    "content": path.read_bytes(),
                }
            )
            real(context, certfile, *args, **kw)

        monkeypatch.setattr(ssl.SSLContext, "load_cert_chain", spy)


def test_openssl_always_gets_a_password(
    pki: Pki, monkeypatch: pytest.MonkeyPatch
) -> None:
    spy = LoadSpy(monkeypatch)
    build(pki, ClientIdentity(pki.client_cert, pki.client_key))
    build(pki, ClientIdentity(pki.client_combined))
    build(pki, ClientIdentity(pki.client_cert, pki.client_key_encrypted), KEY_PASS)
    assert [c["password"] is not None for c in spy.calls] == [True, True, True]
    assert spy.calls[2]["password"] == KEY_PASS.encode()


def test_pkcs12_goes_through_a_private_encrypted_temp_file(
    pki: Pki, monkeypatch: pytest.MonkeyPatch
) -> None:
    spy = LoadSpy(monkeypatch)
    build(pki, ClientIdentity(pki.client_p12), P12_PASS)

    (call,) = spy.calls
    assert call["file_mode"] == 0o600
    assert call["dir_mode"] == 0o700
    assert b"-----BEGIN ENCRYPTED PRIVATE KEY-----" in call["content"]
    assert b"-----BEGIN PRIVATE KEY-----" not in call["content"]
    assert call["content"].count(b"-----BEGIN CERTIFICATE-----") == 2  # leaf + CA
    assert P12_PASS.encode() not in call["content"]
    assert isinstance(call["password"], bytes) and len(call["password"]) == 32
    assert call["password"] != P12_PASS.encode()
    assert not call["certfile"].exists()
    assert not call["certfile"].parent.exists()


def test_pkcs12_temp_file_is_removed_when_loading_fails(
    pki: Pki, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[Path] = []

    def broken(context: ssl.SSLContext, certfile: str, *args: Any, **kw: Any) -> None:
        seen.append(Path(certfile))
        raise ssl.SSLError(1, "boom")

    monkeypatch.setattr(ssl.SSLContext, "load_cert_chain", broken)
    with pytest.raises(CertificateError, match="OpenSSL cannot use"):
        build(pki, ClientIdentity(pki.client_p12), P12_PASS)
    assert seen and not seen[0].exists() and not seen[0].parent.exists()


# --- errors ---


def test_missing_certificate(pki: Pki) -> None:
    with pytest.raises(CertificateError) as info:
        build(pki, ClientIdentity(pki.root / "nope.p12"), "x")
    assert "does not exist" in info.value.title
    assert info.value.hint


def test_certificate_path_is_a_folder(pki: Pki) -> None:
    with pytest.raises(CertificateError, match="is a folder"):
        build(pki, ClientIdentity(pki.root))


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any file")
def test_unreadable_certificate(pki: Pki) -> None:
    pki.client_cert.chmod(0)
    with pytest.raises(CertificateError, match="cannot be read"):
        build(pki, ClientIdentity(pki.client_cert, pki.client_key))


@pytest.mark.parametrize("which", ["key-as-cert", "garbage.pem", "garbage.p12"])
def test_not_a_certificate(pki: Pki, which: str) -> None:
    if which == "key-as-cert":
        identity = ClientIdentity(pki.client_key, pki.client_key)
    else:
        path = pki.root / which
        path.write_bytes(os.urandom(600))
        identity = ClientIdentity(path)
    with pytest.raises(CertificateError, match="does not hold a certificate"):
        build(pki, identity, "x")


def test_broken_pem_certificate(pki: Pki) -> None:
    path = pki.root / "broken.pem"
    path.write_bytes(
        b"-----BEGIN CERTIFICATE-----\nnot base64!\n-----END CERTIFICATE-----\n"
    )
    with pytest.raises(CertificateError, match="does not hold a certificate"):
        build(pki, ClientIdentity(path, pki.client_key))


def test_key_missing(pki: Pki) -> None:
    with pytest.raises(CertificateError) as info:
        build(pki, ClientIdentity(pki.client_cert))
    assert "no private key" in info.value.title
    assert "--key" in info.value.hint


def test_key_file_without_a_key(pki: Pki) -> None:
    with pytest.raises(CertificateError, match="holds no private key"):
        build(pki, ClientIdentity(pki.client_cert, pki.ca))


def test_key_does_not_match(pki: Pki) -> None:
    with pytest.raises(CertificateError, match="does not belong to the certificate"):
        build(pki, ClientIdentity(pki.client_cert, pki.other_key))


@pytest.mark.parametrize("shape", ["pem", "p12"])
def test_wrong_passphrase(pki: Pki, shape: str) -> None:
    identity = (
        ClientIdentity(pki.client_cert, pki.client_key_encrypted)
        if shape == "pem"
        else ClientIdentity(pki.client_p12)
    )
    with pytest.raises(CertificateError) as info:
        build(pki, identity, "Zq9-not-it")
    assert info.value.title.startswith("Wrong passphrase for")
    assert not isinstance(info.value, PassphraseRequired)
    assert "Zq9-not-it" not in str(info.value)


@pytest.mark.parametrize("shape", ["pem", "p12"])
def test_passphrase_needed_but_none_given(pki: Pki, shape: str) -> None:
    identity = (
        ClientIdentity(pki.client_cert, pki.client_key_encrypted)
        if shape == "pem"
        else ClientIdentity(pki.client_p12)
    )
    with pytest.raises(PassphraseRequired, match="protected by a passphrase"):
        build(pki, identity, None)


def test_pkcs12_without_a_key(pki: Pki) -> None:
    path = pki.root / "certonly.p12"
    path.write_bytes(
        pkcs12.serialize_key_and_certificates(
            b"x", None, pki.client_cert_obj, None, _no_encryption()
        )
    )
    with pytest.raises(CertificateError, match="holds no private key"):
        build(pki, ClientIdentity(path))


def _no_encryption() -> Any:
    from cryptography.hazmat.primitives.serialization import NoEncryption

    return NoEncryption()


def test_triple_des_pkcs12_still_loads(pki: Pki) -> None:
    from cryptography.hazmat.primitives.serialization import PrivateFormat
    from cryptography.hazmat.primitives.serialization.pkcs12 import PBES

    key = new_key()
    cert = make_cert("3des", key)
    encryption = (
        PrivateFormat.PKCS12.encryption_builder()
        .key_cert_algorithm(PBES.PBESv1SHA1And3KeyTripleDESCBC)
        .hmac_hash(hashes.SHA1())
        .build(b"pw")
    )
    path = pki.root / "3des.p12"
    path.write_bytes(
        pkcs12.serialize_key_and_certificates(b"x", key, cert, None, encryption)
    )
    assert not uses_legacy_cipher(path.read_bytes())
    build(pki, ClientIdentity(path), "pw")


# --- legacy PKCS#12 (RC2-40) ---

OPENSSL = shutil.which("openssl")


@pytest.fixture
def legacy_p12(pki: Pki) -> Path:
    if OPENSSL is None:
        pytest.skip("the openssl command is needed to write an RC2-40 PKCS#12")
    path = pki.root / "legacy.p12"
    done = subprocess.run(
        [OPENSSL, "pkcs12", "-export", "-legacy", "-in", str(pki.client_cert),
         "-inkey", str(pki.client_key), "-out", str(path), "-passout", "pass:old"],
        capture_output=True,
        check=False,
    )  # fmt: skip
    if done.returncode != 0:
        pytest.skip(f"openssl cannot write legacy PKCS#12: {done.stderr[-200:]!r}")
    return path


def test_legacy_cipher_is_detected_without_the_password(legacy_p12: Path) -> None:
    assert uses_legacy_cipher(legacy_p12.read_bytes())


def test_legacy_pkcs12_refused_gives_the_conversion_recipe(
    pki: Pki, legacy_p12: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tls, "_legacy_ciphers_available", lambda: False)
    with pytest.raises(CertificateError) as info:
        build(pki, ClientIdentity(legacy_p12), "old")
    assert "old cipher" in info.value.title
    assert LEGACY_P12_RECIPE in info.value.hint
    with pytest.raises(CertificateError, match="old cipher"):
        needs_passphrase(ClientIdentity(legacy_p12))


def test_legacy_pkcs12_when_cryptography_really_refuses(legacy_p12: Path) -> None:
    code = (
        "import sys; from pathlib import Path\n"
        "from omar_tui.core.tls import ClientIdentity, build_ssl_context\n"
        "from omar_tui.errors import CertificateError\n"
        "try:\n"
        f"    build_ssl_context(ca_bundle=None, identity=ClientIdentity(Path({str(legacy_p12)!r})), passphrase='old')\n"  # noqa: E501
        "except CertificateError as e:\n"
        "    print(e.title)\n"
    )
    env = {**os.environ, "CRYPTOGRAPHY_OPENSSL_NO_LEGACY": "1"}
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    assert "old cipher (RC2/RC4/DES) this system refuses" in out.stdout


def test_the_conversion_recipe_works(pki: Pki, legacy_p12: Path) -> None:
    env = {**os.environ, "OLD_PASS": "old", "NEW_PASS": "new pass"}
    command = LEGACY_P12_RECIPE.replace("OLD.p12", str(legacy_p12)).replace(
        "NEW.p12", str(pki.root / "new.p12")
    )
    done = subprocess.run(
        command, shell=True, env=env, capture_output=True, check=False
    )
    if done.returncode != 0:
        pytest.skip(f"openssl has no legacy provider here: {done.stderr[-200:]!r}")
    new = pki.root / "new.p12"
    assert not uses_legacy_cipher(new.read_bytes())
    assert not (pki.root / "OLD-encrypted.pem").exists()
    build(pki, ClientIdentity(new), "new pass")


# --- CA bundle ---


def test_ca_bundle_missing(pki: Pki) -> None:
    with pytest.raises(CertificateError, match=r"CA bundle file .* does not exist"):
        build_ssl_context(
            ca_bundle=pki.root / "none.pem", identity=None, passphrase=None
        )


@pytest.mark.parametrize(
    "content",
    [
        b"",
        b"just text\n",
        b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
    ],
)
def test_ca_bundle_without_a_certificate(pki: Pki, content: bytes) -> None:
    bundle = pki.root / "bundle.pem"
    bundle.write_bytes(content)
    with pytest.raises(CertificateError, match="holds no usable certificate"):
        build_ssl_context(ca_bundle=bundle, identity=None, passphrase=None)


def test_ca_bundle_of_a_key_only(pki: Pki) -> None:
    with pytest.raises(CertificateError, match="holds no usable certificate"):
        build_ssl_context(ca_bundle=pki.client_key, identity=None, passphrase=None)


def test_no_temp_files_are_left(pki: Pki) -> None:
    before = {p.name for p in Path(tempfile.gettempdir()).glob("omar-tui-*")}
    build(pki, ClientIdentity(pki.client_p12), P12_PASS)
    with pytest.raises(CertificateError):
        build(pki, ClientIdentity(pki.client_p12), "wrong")
    after = {p.name for p in Path(tempfile.gettempdir()).glob("omar-tui-*")}
    assert after <= before


# --- certificates.py ---


def test_summary_of_a_pem_needs_no_passphrase(pki: Pki) -> None:
    summary = summarize(ClientIdentity(pki.client_cert, pki.client_key_encrypted), None)
    cert = pki.client_cert_obj
    assert summary.subject == "CN=Test Participant,O=omar-tui tests"
    assert summary.issuer == "CN=Test CA,O=omar-tui tests"
    assert int(summary.serial, 16) == cert.serial_number
    assert (
        summary.fingerprint_sha256 == cert.fingerprint(hashes.SHA256()).hex(":").upper()
    )
    assert summary.not_after == cert.not_valid_after_utc
    assert summary.not_before == cert.not_valid_before_utc
    assert 363 <= summary.days_left <= 365


def test_summary_of_a_pkcs12(pki: Pki) -> None:
    summary = summarize(ClientIdentity(pki.client_p12), P12_PASS)
    assert summary.subject == "CN=Test Participant,O=omar-tui tests"
    with pytest.raises(PassphraseRequired):
        summarize(ClientIdentity(pki.client_p12), None)
    assert summarize(ClientIdentity(pki.client_p12_nopass), None).subject == (
        summary.subject
    )


def test_summary_serial_is_even_length_hex() -> None:
    key = new_key()
    cert = make_cert("s", key, serial=0xABC)
    assert summary_of(cert).serial == "0ABC"


def _summary_ending(days: float, *, now: dt.datetime) -> Any:
    key = new_key()
    cert = make_cert(
        "x",
        key,
        not_before=now - dt.timedelta(days=400),
        not_after=now + dt.timedelta(days=days),
    )
    return summary_of(cert, now=now)


@pytest.mark.parametrize(
    ("days", "expected"),
    [
        (12.5, "Certificate expires in 12 days (2027-01-13)"),
        (1.5, "Certificate expires in 1 day (2027-01-02)"),
        (0.5, "Certificate expires today (2027-01-01)"),
        (-3.5, "Certificate expired on 2026-12-28"),
        (31.5, None),
    ],
)
def test_expiry_warning(days: float, expected: str | None) -> None:
    now = dt.datetime(2027, 1, 1, 0, 0, tzinfo=dt.UTC)
    summary = _summary_ending(days, now=now)
    assert expiry_warning(summary, warn_days=30) == expected
    assert summary.expired is (days < 0)


def test_expiry_warning_threshold_is_a_parameter() -> None:
    now = dt.datetime(2027, 1, 1, tzinfo=dt.UTC)
    summary = _summary_ending(45.5, now=now)
    assert expiry_warning(summary) is None
    assert expiry_warning(summary, warn_days=60) == (
        "Certificate expires in 45 days (2027-02-15)"
    )


# --- passphrase.py ---


class FakeStdin(io.StringIO):
    def __init__(self, tty: bool) -> None:
        super().__init__("")
        self._tty = tty

    def isatty(self) -> bool:
        if self.closed:
            raise ValueError("I/O operation on closed file")
        return self._tty


def test_passphrase_from_the_environment() -> None:
    value = get_passphrase(
        "client.p12", environ={PASSPHRASE_VAR: "s3cret"}, stdin=FakeStdin(tty=True)
    )
    assert value == "s3cret"


def test_passphrase_prompt_names_the_file(monkeypatch: pytest.MonkeyPatch) -> None:
    prompts: list[str] = []

    def fake_getpass(prompt: str) -> str:
        prompts.append(prompt)
        return "typed"

    monkeypatch.setattr(passphrase_module.getpass, "getpass", fake_getpass)
    assert (
        get_passphrase("client.p12", environ={}, stdin=FakeStdin(tty=True)) == "typed"
    )
    assert prompts == ["Passphrase for client.p12: "]


def test_passphrase_without_terminal_or_variable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(
        passphrase_module.getpass, "getpass", lambda prompt: pytest.fail("prompted")
    )
    with pytest.raises(PassphraseRequired) as info:
        get_passphrase("client.p12", environ={}, stdin=FakeStdin(tty=False))
    assert "client.p12" in info.value.title
    assert PASSPHRASE_VAR in info.value.hint


def test_passphrase_with_a_closed_stdin() -> None:
    stdin = FakeStdin(tty=True)
    stdin.close()
    with pytest.raises(PassphraseRequired):
        get_passphrase("k.pem", environ={}, stdin=stdin)


def test_passphrase_is_not_read_from_argv(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "argv", ["omar-tui", "--password", "argv-secret"])
    with pytest.raises(PassphraseRequired) as info:
        get_passphrase("k.pem", environ={}, stdin=FakeStdin(tty=False))
    assert "argv-secret" not in str(info.value)


def test_unwritable_temp_folder_is_a_clear_error(
    pki: Pki, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "no-such-folder"))
    with pytest.raises(CertificateError, match="temporary file"):
        build(pki, ClientIdentity(pki.client_p12), P12_PASS)
