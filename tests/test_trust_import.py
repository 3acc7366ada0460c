"""A gateway whose CA is external: import the anchor, register certificates that CA issued, sign, verify, roll over.

The external CA (root + issuing CA + its CRL) is built here with cryptography alone, the way a national CA would hand
over PEM files, so nothing in it comes from our own CA code.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import stat
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import Result
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from certs import lifecycle
from certs.context import chain, verification_material
from certs.errors import TrustError
from certs.smime import sign_entity
from certs.verify import Sender, Verifier
from gateway.cli.init import registry_sessions
from gateway.home import Home
from tests.fixtures.registry import invoke, one_line_error
from tests.fixtures.trust import ENTITY

STC = "000.00.15.H12"
STC_MAIL = "vanthu@stc.camau.lienthong.test"
SENDER = Sender(STC, frozenset({STC_MAIL}))
DAY = dt.timedelta(days=1)
pytestmark = pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl binary")


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _usage(*, sign: bool, cert_sign: bool) -> x509.KeyUsage:
    return x509.KeyUsage(sign, sign and not cert_sign, False, False, False, cert_sign, cert_sign, False, False)


@dataclass
class ExternalCa:
    """A national-CA stand-in: root and issuing certificates, the issuing key, and files under ``directory``."""

    directory: Path
    root: x509.Certificate
    issuing: x509.Certificate
    issuing_key: ec.EllipticCurvePrivateKey

    @classmethod
    def create(cls, directory: Path, name: str = "Cục Chứng thực số và Bảo mật thông tin") -> ExternalCa:
        directory.mkdir(parents=True)
        root_key, issuing_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
        root_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"{name} Root")])
        root = cls._ca(root_name, root_name, root_key, root_key, 1)
        issuing_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"{name} Issuing")])
        issuing = cls._ca(issuing_name, root_name, issuing_key, root_key, 0)
        ca = cls(directory, root, issuing, issuing_key)
        ca.write("root.pem", root)
        ca.write("issuing.pem", issuing)
        return ca

    @staticmethod
    def _ca(
        subject: x509.Name, issuer: x509.Name, key: ec.EllipticCurvePrivateKey, signer: ec.EllipticCurvePrivateKey,
        path_length: int,
    ) -> x509.Certificate:  # fmt: skip
        return (
            x509.CertificateBuilder(subject_name=subject, issuer_name=issuer, public_key=key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(_now() - DAY)
            .not_valid_after(_now() + 3650 * DAY)
            .add_extension(x509.BasicConstraints(ca=True, path_length=path_length), critical=True)
            .add_extension(_usage(sign=False, cert_sign=True), critical=True)
            .sign(signer, hashes.SHA256())
        )

    def write(self, name: str, *certs: x509.Certificate) -> Path:
        path = self.directory / name
        path.write_bytes(b"".join(c.public_bytes(serialization.Encoding.PEM) for c in certs))
        return path

    def issue(
        self,
        name: str,
        *,
        organ_id: str | None = STC,
        mails: tuple[str, ...] = (STC_MAIL,),
        hosts: tuple[str, ...] = (),
        eku: tuple[x509.ObjectIdentifier, ...] = (ExtendedKeyUsageOID.EMAIL_PROTECTION,),
        start: dt.datetime | None = None,
        days: int = 365,
        passphrase: bytes | None = None,
    ) -> tuple[Path, Path]:
        """A leaf certificate and its key, written as ``name``.pem and ``name``.key."""
        key = ec.generate_private_key(ec.SECP256R1())
        attributes = [x509.NameAttribute(NameOID.COMMON_NAME, name)]
        if organ_id:
            attributes.append(x509.NameAttribute(NameOID.SERIAL_NUMBER, organ_id))
        names: list[x509.GeneralName] = [x509.RFC822Name(m) for m in mails] + [x509.DNSName(h) for h in hosts]
        begin = start or _now() - DAY
        cert = (
            x509.CertificateBuilder(
                subject_name=x509.Name(attributes), issuer_name=self.issuing.subject, public_key=key.public_key()
            )
            .serial_number(x509.random_serial_number())
            .not_valid_before(begin)
            .not_valid_after(begin + days * DAY)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(_usage(sign=True, cert_sign=False), critical=True)
            .add_extension(x509.ExtendedKeyUsage(list(eku)), critical=False)
            .add_extension(x509.SubjectAlternativeName(names), critical=False)
            .sign(self.issuing_key, hashes.SHA256())
        )
        encryption: serialization.KeySerializationEncryption = (
            serialization.BestAvailableEncryption(passphrase) if passphrase else serialization.NoEncryption()
        )
        key_path = self.directory / f"{name}.key"
        key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                               encryption))  # fmt: skip
        return self.write(f"{name}.pem", cert), key_path

    def crl(self, revoked: tuple[x509.Certificate, ...] = ()) -> bytes:
        builder = (
            x509.CertificateRevocationListBuilder()
            .issuer_name(self.issuing.subject)
            .last_update(_now() - dt.timedelta(minutes=5))
            .next_update(_now() + 7 * DAY)
        )
        for cert in revoked:
            builder = builder.add_revoked_certificate(
                x509.RevokedCertificateBuilder(cert.serial_number, _now() - dt.timedelta(minutes=1)).build()
            )
        return builder.sign(self.issuing_key, hashes.SHA256()).public_bytes(serialization.Encoding.DER)


@pytest.fixture
def national(tmp_path: Path) -> ExternalCa:
    return ExternalCa.create(tmp_path / "national")


@pytest.fixture
def anchored(demo_home: Home, national: ExternalCa) -> Home:
    """A home that trusts only the external root (no CA of its own) and holds the external CA's current CRL."""
    ok(invoke(demo_home, "ca", "init", "--import-root", str(national.directory / "root.pem")))
    crl_dir = demo_home.keys_dir / "crl"
    crl_dir.mkdir(exist_ok=True)
    (crl_dir / "national-issuing.crl").write_bytes(national.crl())
    return demo_home


def ok(result: Result) -> Result:
    assert result.exit_code == 0, result.output + result.stderr
    return result


def _import(home: Home, cert: Path, key: Path, *extra: str) -> Result:
    return invoke(home, "cert", "import", "--cert", str(cert), "--key", str(key), *extra)


def _certs(home: Home) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = json.loads(ok(invoke(home, "cert", "list", "--json")).output)
    return rows


def _sign_as_active(home: Home) -> tuple[bytes, x509.Certificate]:
    with registry_sessions(home)() as session:
        signer = lifecycle.active_signer(session, home.keys_dir, STC, chain(home))
    return b"Subject: x\r\n" + sign_entity(
        ENTITY, signer.certificate, signer.key, signer.chain
    ).entity, signer.certificate


def test_import_sign_verify_with_us_and_openssl(anchored: Home, national: ExternalCa, tmp_path: Path) -> None:
    passphrase = tmp_path / "passphrase"
    passphrase.write_text("the national CA's PIN\n")
    cert, key = national.issue("stc-2026", passphrase=b"the national CA's PIN")
    chain_pem = national.directory / "issuing.pem"
    imported = ok(_import(anchored, cert, key, "--agency", STC, "--chain", str(chain_pem), "--passphrase-file",
                          str(passphrase)))  # fmt: skip
    assert "(active)" in imported.output
    [row] = _certs(anchored)
    assert (row["organ_id"], row["mailbox"], row["active"], row["state"]) == (STC, STC_MAIL, True, "valid")
    stored_key = Path(str(row["key_path"]))
    assert stat.S_IMODE(stored_key.stat().st_mode) == 0o600
    assert b"ENCRYPTED" not in stored_key.read_bytes()  # the gateway signs unattended
    # the intermediates of the validated path, embedded when signing so that peers reach the shared anchor
    assert Path(str(row["cert_path"])).with_suffix(".chain.pem").read_bytes() == chain_pem.read_bytes()
    shown = json.loads(ok(invoke(anchored, "cert", "show", str(row["serial"]), "--json")).output)
    kinds_details = [e.split(" ", 2)[1:] for e in shown["events"]]
    assert [k for k, _ in kinds_details] == ["issued", "activated"]
    assert kinds_details[0][1] == f"imported smime {STC_MAIL}; issued by {national.issuing.subject.rfc4514_string()}"

    raw, signer = _sign_as_active(anchored)
    with Verifier(verification_material(anchored)) as verifier:
        result = verifier.verify_sync(raw, SENDER)
    assert result.organ_id == STC
    assert result.signer == signer

    message = tmp_path / "signed.eml"
    message.write_bytes(raw)
    checked = subprocess.run(
        ["openssl", "cms", "-verify", "-in", str(message), "-CAfile", str(national.directory / "root.pem"),
         "-purpose", "smimesign", "-out", str(tmp_path / "content")],
        capture_output=True, timeout=60, check=False,
    )  # fmt: skip
    assert checked.returncode == 0, checked.stderr.decode()
    assert (tmp_path / "content").read_bytes() == ENTITY

    # the issuer's CRL, not our records, decides for peers: once the national CA revokes it, verification refuses
    (anchored.keys_dir / "crl" / "national-issuing.crl").write_bytes(national.crl((signer,)))
    with pytest.raises(TrustError) as caught, Verifier(verification_material(anchored)) as verifier:
        verifier.verify_sync(raw, SENDER)
    assert caught.value.code == "CERT_REVOKED"


def test_rollover_between_imported_certificates(anchored: Home, national: ExternalCa) -> None:
    chain_pem = str(national.directory / "issuing.pem")
    first = national.issue("stc-old")
    second = national.issue("stc-new")
    ok(_import(anchored, *first, "--agency", STC, "--chain", chain_pem))
    bundle = national.write(
        "stc-new-bundle.pem", national.issuing, x509.load_pem_x509_certificate(second[0].read_bytes())
    )
    assert "(active)" not in ok(_import(anchored, bundle, second[1], "--agency", STC)).output  # chain first in --cert
    old_raw, old_cert = _sign_as_active(anchored)
    new_serial = format(x509.load_pem_x509_certificate(second[0].read_bytes()).serial_number, "x")
    assert format(old_cert.serial_number, "x") != new_serial
    ok(invoke(anchored, "cert", "activate", new_serial))
    new_raw, new_cert = _sign_as_active(anchored)
    assert format(new_cert.serial_number, "x") == new_serial
    with Verifier(verification_material(anchored)) as verifier:  # the overlap: both verify
        assert verifier.verify_sync(old_raw, SENDER).signer == old_cert
        assert verifier.verify_sync(new_raw, SENDER).signer == new_cert
    revoked = ok(invoke(anchored, "cert", "revoke", format(old_cert.serial_number, "x"), "--reason", "superseded"))
    assert "external CA" in revoked.output


def test_tls_certificate_import(anchored: Home, national: ExternalCa) -> None:
    tls = national.issue("gw", organ_id=None, mails=(), hosts=("camau.lienthong.test",),
                         eku=(ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH))  # fmt: skip
    ok(_import(anchored, *tls, "--tls", "--chain", str(national.directory / "issuing.pem")))
    [row] = _certs(anchored)
    assert (row["kind"], row["host"], row["organ_id"]) == ("tls", "camau.lienthong.test", None)
    server_only = national.issue("gw2", organ_id=None, mails=(), hosts=("camau.lienthong.test",),
                                 eku=(ExtendedKeyUsageOID.SERVER_AUTH,))  # fmt: skip
    error = one_line_error(_import(anchored, *server_only, "--tls", "--chain", str(national.directory / "issuing.pem")))
    assert "EKU lacks clientAuth" in error


def test_import_refusals_name_the_problem(anchored: Home, national: ExternalCa, tmp_path: Path) -> None:
    chain_pem = ("--chain", str(national.directory / "issuing.pem"))
    good_cert, good_key = national.issue("stc")
    _, other_key = national.issue("other")
    stranger = ExternalCa.create(tmp_path / "stranger", name="Some Other CA")
    cases: list[tuple[tuple[str, ...], str]] = [
        ((str(good_cert), str(other_key), "--agency", STC, *chain_pem), "does not match the certificate"),
        ((str(good_cert), str(good_key), "--agency", STC), "does not chain to a configured trust anchor"),
        ((*map(str, stranger.issue("x")), "--agency", STC, "--chain", str(stranger.directory / "issuing.pem")),
         "does not chain to a configured trust anchor"),
        ((*map(str, national.issue("web", eku=(ExtendedKeyUsageOID.SERVER_AUTH,))), "--agency", STC, *chain_pem),
         "key usage/EKU unfit for smime"),
        ((*map(str, national.issue("syt", organ_id="000.00.22.H12")), "--agency", STC, *chain_pem),
         "serialNumber (OrganId) is 000.00.22.H12, not --agency 000.00.15.H12"),
        ((*map(str, national.issue("mail", organ_id=None, mails=("x@elsewhere.test",))), "--agency", STC, *chain_pem),
         "rfc822Name x@elsewhere.test is not a mailbox of agency"),
        ((*map(str, national.issue("old", start=_now() - 40 * DAY, days=30)), "--agency", STC, *chain_pem),
         "expired on"),
        ((str(good_cert), str(good_key), *chain_pem), "--agency: required"),
        ((str(good_cert), str(good_key), "--agency", "000.00.99.H12", *chain_pem), "no such agency"),
        ((str(good_cert), str(good_key), "--tls", *chain_pem), "EKU"),
        ((str(tmp_path / "missing.pem"), str(good_key), "--agency", STC), "certificate file not found"),
        ((str(good_key), str(good_key), "--agency", STC), "not a PEM certificate"),
    ]  # fmt: skip
    for (cert, key, *extra), expected in cases:
        error = one_line_error(_import(anchored, Path(cert), Path(key), *extra))
        assert expected in error, (expected, error)
    assert _certs(anchored) == []  # nothing half-registered
    assert not list(anchored.keys_dir.glob("certs/*.key"))
    ok(_import(anchored, good_cert, good_key, "--agency", STC, *chain_pem))
    again = one_line_error(_import(anchored, good_cert, good_key, "--agency", STC, *chain_pem))
    assert "already registered" in again


def test_openssl_signed_with_imported_certificate_verifies(
    anchored: Home, national: ExternalCa, tmp_path: Path
) -> None:
    cert, key = national.issue("stc")
    content = tmp_path / "entity"
    content.write_bytes(ENTITY)
    out = tmp_path / "openssl.eml"
    signed = subprocess.run(
        ["openssl", "cms", "-sign", "-binary", "-md", "sha256", "-in", str(content), "-signer", str(cert), "-inkey",
         str(key), "-certfile", str(national.directory / "issuing.pem"), "-out", str(out)],
        capture_output=True, timeout=60, check=False,
    )  # fmt: skip
    assert signed.returncode == 0, signed.stderr.decode()
    raw = out.read_bytes().replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
    with Verifier(verification_material(anchored)) as verifier:
        assert verifier.verify_sync(raw, SENDER).content == ENTITY
