"""The CA, certificate and CRL commands end to end on a demo home (SQLite and PostgreSQL), with rollover."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID

from certs import lifecycle
from certs.context import chain, verification_material
from certs.errors import TrustError
from certs.smime import sign_entity
from certs.verify import Sender, verify_message_sync
from gateway.cli import main
from gateway.cli.init import registry_sessions
from gateway.home import Home
from tests.fixtures.trust import ENTITY

STC = "000.00.15.H12"
STC_MAIL = "vanthu@stc.camau.lienthong.test"
SENDER = Sender(STC, frozenset({STC_MAIL}))


def run(home: Home, *args: str, ok: bool = True) -> Result:
    result = CliRunner().invoke(main, ["--home", str(home.root), *args])
    if ok:
        assert result.exit_code == 0, result.output + result.stderr
    return result


@pytest.fixture
def passphrase(tmp_path: Path) -> Path:
    path = tmp_path / "passphrase"
    path.write_text("a long enough passphrase\n")
    return path


@pytest.fixture
def ca_home(demo_home: Home, passphrase: Path) -> Home:
    run(demo_home, "ca", "init", "--passphrase-file", str(passphrase))
    return demo_home


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _certs(home: Home, *args: str) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = json.loads(run(home, "cert", "list", "--json", *args).output)
    return rows


def _sign_as_active(home: Home) -> bytes:
    with registry_sessions(home)() as session:
        signer = lifecycle.active_signer(session, home.keys_dir, STC, chain(home))
    return sign_entity(ENTITY, signer.certificate, signer.key, signer.chain).entity


def _sign_with(home: Home, serial: str) -> bytes:
    row = next(r for r in _certs(home) if r["serial"] == serial)
    cert = x509.load_pem_x509_certificate(Path(str(row["cert_path"])).read_bytes())
    from certs.keys import load_key

    key = load_key(Path(str(row["key_path"])))
    return sign_entity(ENTITY, cert, key, chain(home)).entity


def test_ca_init_writes_protected_keys(ca_home: Home, passphrase: Path) -> None:
    keys = ca_home.keys_dir
    assert _mode(keys) == 0o700
    assert _mode(keys / "ca") == 0o700
    for name in ("root.key", "issuing.key"):
        assert _mode(keys / "ca" / name) == 0o600
        assert b"ENCRYPTED PRIVATE KEY" in (keys / "ca" / name).read_bytes()
    assert (keys / "crl" / "issuing.crl").exists()
    assert (keys / "crl" / "issuing.crl.pem").read_bytes().startswith(b"-----BEGIN X509 CRL-----")
    again = run(ca_home, "ca", "init", ok=False)
    assert again.exit_code != 0
    assert "already exists" in again.stderr
    anchors = json.loads(run(ca_home, "trust", "anchors", "--json").output)
    assert [a["subject"] for a in anchors] == ["CN=Lienthong Provincial CA Root,O=Lienthong Provincial CA,C=VN"]


def test_issue_needs_the_passphrase_and_a_known_agency(ca_home: Home, passphrase: Path, tmp_path: Path) -> None:
    missing = run(ca_home, "cert", "issue", "smime", "--agency", STC, "--mail", STC_MAIL, ok=False)
    assert "passphrase-protected" in missing.stderr
    wrong = tmp_path / "wrong"
    wrong.write_text("not the passphrase\n")
    bad = run(ca_home, "cert", "issue", "smime", "--agency", STC, "--mail", STC_MAIL, "--passphrase-file", str(wrong),
              ok=False)  # fmt: skip
    assert "wrong passphrase" in bad.stderr
    unknown = run(ca_home, "cert", "issue", "smime", "--agency", "000.00.99.H12", "--mail", STC_MAIL,
                  "--passphrase-file", str(passphrase), ok=False)  # fmt: skip
    assert "no such agency" in unknown.stderr
    foreign = run(ca_home, "cert", "issue", "smime", "--agency", STC, "--mail", "x@elsewhere.test",
                  "--passphrase-file", str(passphrase), ok=False)  # fmt: skip
    assert "--mail x@elsewhere.test: not a mailbox" in foreign.stderr
    assert "Traceback" not in missing.output + bad.output + unknown.output + foreign.output


def test_rollover_revocation_and_events(ca_home: Home, passphrase: Path) -> None:
    pp = ("--passphrase-file", str(passphrase))
    run(ca_home, "cert", "issue", "smime", "--agency", STC, "--mail", STC_MAIL, *pp)
    [first] = _certs(ca_home, "--agency", STC)
    assert first["active"] is True
    assert first["state"] == "valid"
    cert = x509.load_pem_x509_certificate(Path(str(first["cert_path"])).read_bytes())
    assert cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value == x509.ExtendedKeyUsage(
        [ExtendedKeyUsageOID.EMAIL_PROTECTION]
    )
    assert _mode(Path(str(first["key_path"]))) == 0o600

    old_signed = _sign_as_active(ca_home)
    run(ca_home, "cert", "renew", str(first["serial"]), *pp)
    rows = _certs(ca_home, "--agency", STC)
    second = next(r for r in rows if r["serial"] != first["serial"])
    assert second["renewed_from"] == first["serial"]
    assert [r["active"] for r in rows] == [True, False]  # renewal does not switch by itself

    run(ca_home, "cert", "activate", str(second["serial"]))
    assert [r["active"] for r in _certs(ca_home, "--agency", STC)] == [False, True]
    new_signed = _sign_as_active(ca_home)
    assert new_signed != old_signed
    trust = verification_material(ca_home)
    # overlap: both certificates verify while both are valid
    assert verify_message_sync(old_signed, trust, SENDER).serial_hex == first["serial"]
    assert verify_message_sync(new_signed, trust, SENDER).serial_hex == second["serial"]

    run(ca_home, "cert", "revoke", str(first["serial"]), "--reason", "superseded", *pp)
    trust = verification_material(ca_home)
    with pytest.raises(TrustError) as caught:
        verify_message_sync(old_signed, trust, SENDER)
    assert caught.value.code == "CERT_REVOKED"
    assert verify_message_sync(new_signed, trust, SENDER).serial_hex == second["serial"]

    shown = json.loads(run(ca_home, "cert", "show", str(first["serial"]), "--json").output)
    assert shown["state"] == "revoked"
    assert shown["revocation_reason"] == "superseded"
    assert [e.split(" ")[1] for e in shown["events"]] == ["issued", "activated", "revoked"]
    refused = run(ca_home, "cert", "activate", str(first["serial"]), ok=False)
    assert "revoked" in refused.stderr
    again = run(ca_home, "cert", "revoke", str(first["serial"]), "--reason", "keyCompromise", *pp, ok=False)
    assert "already revoked" in again.stderr


def test_tls_and_ledger(ca_home: Home, passphrase: Path) -> None:
    run(ca_home, "cert", "issue", "tls", "--host", "camau.lienthong.test", "--passphrase-file", str(passphrase))
    run(ca_home, "cert", "issue", "ledger")
    tls = _certs(ca_home, "--kind", "tls")[0]
    cert = x509.load_pem_x509_certificate(Path(str(tls["cert_path"])).read_bytes())
    usages = set(cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value)
    assert usages == {ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH}
    names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert names.get_values_for_type(x509.DNSName) == ["camau.lienthong.test"]
    ledger = _certs(ca_home, "--kind", "ledger")[0]
    assert ledger["active"] is True
    assert _mode(Path(str(ledger["key_path"]))) == 0o600
    assert Path(str(ledger["cert_path"])).read_bytes().startswith(b"-----BEGIN PUBLIC KEY-----")


def test_crl_issue_increments_number(ca_home: Home, passphrase: Path) -> None:
    crl_path = ca_home.keys_dir / "crl" / "issuing.crl"
    number = x509.load_der_x509_crl(crl_path.read_bytes()).extensions.get_extension_for_class(x509.CRLNumber)
    run(ca_home, "crl", "issue", "--passphrase-file", str(passphrase))
    after = x509.load_der_x509_crl(crl_path.read_bytes()).extensions.get_extension_for_class(x509.CRLNumber)
    assert after.value.crl_number == number.value.crl_number + 1


def test_import_anchor_only_mode(demo_home: Home, tmp_path: Path) -> None:
    from tests.fixtures.trust import make_pki

    national = make_pki(tmp_path / "national", name="National CA")
    run(demo_home, "ca", "init", "--import-root", str(national.files.root_cert))
    anchors = json.loads(run(demo_home, "trust", "anchors", "--json").output)
    assert [a["subject"] for a in anchors] == [national.ca.chain[-1].subject.rfc4514_string()]
    refused = run(demo_home, "cert", "issue", "smime", "--agency", STC, "--mail", STC_MAIL, ok=False)
    assert "holds no issuing key" in refused.stderr
    not_ca = run(demo_home, "ca", "init", "--import-root", str(national.issue().cert_path), ok=False)
    assert "not a CA certificate" in not_ca.stderr


def test_import_external_issuing_ca_and_issue_under_it(demo_home: Home, tmp_path: Path, passphrase: Path) -> None:
    from tests.fixtures.trust import make_pki

    national = make_pki(tmp_path / "national", name="National CA")
    files = national.files
    wrong = run(demo_home, "ca", "init", "--import-root", str(files.root_cert), "--import-issuing",
                str(files.root_cert), "--issuing-key", str(files.issuing_key), ok=False)  # fmt: skip
    assert "does not match the issuing certificate" in wrong.stderr
    run(demo_home, "ca", "init", "--import-root", str(files.root_cert), "--import-issuing", str(files.issuing_cert),
        "--issuing-key", str(files.issuing_key), "--passphrase-file", str(passphrase))  # fmt: skip
    run(demo_home, "cert", "issue", "smime", "--agency", STC, "--mail", STC_MAIL, "--passphrase-file", str(passphrase))
    signed = _sign_as_active(demo_home)
    assert verify_message_sync(signed, verification_material(demo_home), SENDER).organ_id == STC
    # a verifier that trusts only the national root accepts it too, given the CRL this home published
    from certs.revocation import load_crl_der
    from certs.verify import material

    peer = material([national.ca.chain[-1]], [], [load_crl_der(demo_home.keys_dir / "crl" / "issuing.crl")])
    assert verify_message_sync(signed, peer, SENDER).organ_id == STC
