"""Envelopes an agency system S/MIME-signed itself: verified at submission, sent on unchanged with DKIM only.

Against a real demo home (SQLite and PostgreSQL through ``demo_home``): the agency "keeps its own key" here by
signing with the key file the home issued to it — once with ``openssl cms -sign``, as a records office's tooling
would, otherwise with ``certs.smime.sign_entity`` — and the gateway then has no active certificate of its own for the
agency, so nothing it sends can have been signed by it. Delivery and receipts run the real workers.
"""

from __future__ import annotations

import subprocess
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from certs import context
from certs.multipart import split_signed
from certs.smime import mic, sign_entity
from certs.store import CertificateRecord
from gateway import queue
from gateway.documents import IncomingDocument, OutgoingDocument, OutgoingRecipient
from gateway.envelope.model import Code, Organization
from gateway.home import Home
from gateway.intake import SubmissionRecord
from gateway.ledger.store import LedgerEntry
from gateway.workers.deliver import deliver_one
from gateway.workers.notices import notice_one
from gateway.workers.process import process_one
from gateway.workers.receipt import receipt_one
from gateway.workers.services import Services
from gateway.workers.signing import split_unsigned
from tests.fixtures.envelope import build_valid, make_header
from tests.fixtures.workers import cli, signing_services
from tests.mailboxes import maildir_messages
from tests.test_worker_process import SKHCN, STC, STC_MAIL, SYT, envelope, submit

AGENCIES = {
    STC: STC_MAIL,
    SYT: "vanthu@syt.camau.lienthong.test",
    SKHCN: "vanthu@skhcn.camau.lienthong.test",
}
NOW = datetime(2026, 3, 3, 2, 0, tzinfo=UTC)  # Tuesday 09:00 in Vietnam (the workers' clock)


@pytest.fixture
def services(demo_home: Home) -> Services:
    return signing_services(demo_home, AGENCIES, lambda: NOW)


def unnumbered() -> bytes:
    """An envelope from the Sở Tài chính to the Sở Y tế with CodeNumber left empty (the "not yet numbered" state)."""
    header = make_header(
        from_=Organization(STC, organ_name="Sở Tài chính tỉnh Cà Mau", email=STC_MAIL), code=Code("", "STC-VP")
    )
    to = (Organization(SYT, organ_name="Sở Y tế tỉnh Cà Mau", email=AGENCIES[SYT]),)
    return build_valid(replace(header, to=to, subject="Về việc thử nghiệm văn bản chưa cấp số"))


def certificate(services: Services, organ_id: str) -> CertificateRecord:
    with services.sessions() as session:
        return services.signers.active(session, organ_id, services.chain).record


def signed_by(services: Services, raw: bytes, organ_id: str = STC) -> bytes:
    """``raw`` S/MIME-signed by ``organ_id``'s key, as the agency's own system would before submitting."""
    with services.sessions() as session:
        signer = services.signers.active(session, organ_id, services.chain)
    outer, inner = split_unsigned(raw)
    signed = sign_entity(inner, signer.certificate, signer.key, signer.chain)
    return (
        outer + b"MIME-Version: 1.0\r\nContent-Type: " + signed.content_type.encode("ascii") + b"\r\n\r\n" + signed.body
    )


def openssl_signed(services: Services, home: Home, raw: bytes, tmp_path: Path) -> bytes:
    """``raw`` signed by the agency with ``openssl cms -sign`` and the key file the home issued to it."""
    record = certificate(services, STC)
    cert_file, key_file = record.cert_file(home.keys_dir), record.key_file(home.keys_dir)
    assert cert_file is not None
    assert key_file is not None
    outer, inner = split_unsigned(raw)
    (tmp_path / "inner.eml").write_bytes(inner)
    issuing = home.keys_dir / "ca" / "issuing.pem"
    command = ["openssl", "cms", "-sign", "-binary", "-crlfeol", "-md", "sha256", "-in", str(tmp_path / "inner.eml"),
               "-signer", str(cert_file), "-inkey", str(key_file), "-certfile", str(issuing),
               "-out", str(tmp_path / "signed.eml")]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    return outer + (tmp_path / "signed.eml").read_bytes()


def gateway_forgets_agency_key(services: Services, organ_id: str = STC) -> None:
    """The agency keeps its key itself: the gateway holds no active certificate it could sign for it with."""
    with services.sessions.begin() as session:
        for record in session.scalars(select(CertificateRecord).where(CertificateRecord.organ_id == organ_id)):
            record.is_active = False


def run_all(services: Services) -> None:
    for step in (process_one, deliver_one, receipt_one, notice_one):
        while step(services, "w1"):
            pass


def refusal(services: Services) -> dict[str, object]:
    with services.sessions() as session:
        assert session.scalars(select(OutgoingDocument)).all() == []
        assert session.scalars(select(SubmissionRecord)).one().state == "refused"
        entry = session.scalars(select(LedgerEntry).where(LedgerEntry.kind == "refused")).one()
        return entry.data()


def openssl_verifies(home: Home, message: bytes, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    path = tmp_path / "delivered.eml"
    path.write_bytes(message)
    command = ["openssl", "cms", "-verify", "-in", str(path), "-CAfile", str(home.keys_dir / "ca" / "root.pem"),
               "-purpose", "smimesign", "-out", "/dev/null"]  # fmt: skip
    return subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)


def test_presigned_envelope_travels_unchanged_and_receipts_match(
    services: Services, demo_home: Home, tmp_path: Path
) -> None:
    submitted = openssl_signed(services, demo_home, envelope(), tmp_path)
    agency_mic = mic(split_signed(submitted).content)
    agency_serial = certificate(services, STC).serial
    gateway_forgets_agency_key(services)
    submit(services, submitted)
    run_all(services)

    with services.sessions() as session:
        [document] = session.scalars(select(OutgoingDocument)).all()
        sent = {row.organ_id: row for row in session.scalars(select(OutgoingRecipient))}
        incoming = {row.organ_id for row in session.scalars(select(IncomingDocument))}
        accepted = session.scalars(select(LedgerEntry).where(LedgerEntry.kind == "accepted")).one().data()
        assert session.scalars(select(SubmissionRecord)).one().state == "accepted"
        assert queue.counts(session) == {"done": 6}  # 1 process + 2 deliver + 2 receipt + 1 notice
    stored = services.blobs.get(document.signed_sha256)
    # The agency's bytes exactly, behind the gateway's DKIM signature and nothing else.
    assert stored.endswith(submitted)
    added = stored[: len(stored) - len(submitted)].split(b"\r\n")
    assert {line.split(b":")[0] for line in added if line and line[:1] not in b" \t"} == {b"DKIM-Signature"}
    assert document.mic == agency_mic
    assert accepted["details"]["agency_signed"] == agency_serial
    assert incoming == {SYT, SKHCN}
    for recipient in (SYT, SKHCN):
        [delivered] = maildir_messages(demo_home, AGENCIES[recipient], "document")
        assert delivered == stored
        verified = openssl_verifies(demo_home, delivered, tmp_path)
        assert verified.returncode == 0, verified.stderr
        assert sent[recipient].state == "sent"  # the receipt's Received-Content-MIC equals the agency's MIC
    assert len(maildir_messages(demo_home, STC_MAIL, "receipt")) == 2


def test_presigned_by_another_agency_is_refused(services: Services) -> None:
    submit(services, signed_by(services, envelope(), organ_id=SYT))
    assert process_one(services, "w1")
    assert refusal(services)["reason_code"] == "SIGNER_NOT_SENDER"


def test_presigned_as_another_agency_is_refused(services: Services) -> None:
    """Signed by the agency it claims to be, but submitted through another agency's account."""
    submit(services, signed_by(services, envelope(sender=SYT), organ_id=SYT))
    assert process_one(services, "w1")
    assert refusal(services)["reason_code"] in ("SIGNER_NOT_SENDER", "SENDER_MISMATCH")


def test_tampered_presigned_envelope_is_refused(services: Services) -> None:
    submitted = signed_by(services, envelope())
    content = split_signed(submitted).content
    # A preamble slipped in after the agency signed: the envelope still parses and validates, the signature does not.
    head, _, body = content.partition(b"\r\n\r\n")
    tampered = head + b"\r\n\r\nAdded after signing.\r\n" + body
    submit(services, submitted.replace(content, tampered))
    assert process_one(services, "w1")
    assert refusal(services)["reason_code"] == "SIGNATURE_INVALID"


def test_unnumbered_presigned_envelope_is_refused(services: Services) -> None:
    submit(services, signed_by(services, unnumbered()))
    assert process_one(services, "w1")
    refused = refusal(services)
    assert refused["reason_code"] == "FIELD_MISSING"
    [problem] = refused["details"]["problems"]  # type: ignore[index]
    assert problem == {"code": "FIELD_MISSING", "field": "Code/CodeNumber"}
    with services.sessions() as session:
        [notice] = [i for i in queue.listing(session, ("pending",)) if i.task == "notice"]
        assert "FIELD_MISSING" in str(notice.data())


def test_revoked_agency_certificate_is_refused(services: Services, demo_home: Home) -> None:
    submitted = signed_by(services, envelope())
    cli(demo_home, "cert", "revoke", certificate(services, STC).serial, "--reason", "keyCompromise")
    services = replace(services, verifier=context.verifier(demo_home))  # the new CRL
    submit(services, submitted)
    assert process_one(services, "w1")
    assert refusal(services)["reason_code"] == "CERT_REVOKED"


def test_no_current_crl_is_retried_not_refused(services: Services, demo_home: Home) -> None:
    for crl in (demo_home.keys_dir / "crl").glob("*.crl*"):
        crl.unlink()
    services = replace(services, verifier=context.verifier(demo_home))
    submit(services, signed_by(services, envelope()))
    assert process_one(services, "w1")
    with services.sessions() as session:
        [item] = queue.listing(session)
        assert item.state == "pending"
        assert "CertStatusUnknown" in (item.last_error or "")
        assert session.scalars(select(LedgerEntry).where(LedgerEntry.kind == "refused")).all() == []
        assert session.scalars(select(SubmissionRecord)).one().state != "refused"
