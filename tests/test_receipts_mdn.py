"""Signed automatic receipts (RFC 8098 MDN + edXML status): built, verified (ours and openssl), read, MIC-checked."""

from __future__ import annotations

import dataclasses
import shutil
import subprocess
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from certs.errors import SignatureInvalid
from certs.smime import mic
from certs.verify import Sender, Verifier
from gateway.envelope.model import Organization
from gateway.receipts.mdn import (
    ARRIVED,
    REFUSED,
    DeliveryFacts,
    ReceiptError,
    ReceiptMismatch,
    build_receipt,
    check_mic,
    read_receipt,
)
from tests.fixtures.trust import Pki

VN = timezone(timedelta(hours=7))
RECIPIENT_ID, RECIPIENT_MAIL = "000.00.22.H12", "vanthu@syt.camau.lienthong.test"
SENT_BYTES = 'Content-Type: multipart/mixed; boundary="x"\r\n\r\n--x\r\n\r\nvăn bản\r\n--x--\r\n'.encode()


def facts(**changes: object) -> DeliveryFacts:
    base = DeliveryFacts(
        document_id="000.00.15.H12,2026/02/13,15/STC-VP",
        original_message_id="<abc@stc.camau.lienthong.test>",
        original_sender=Organization(organ_id="000.00.15.H12", email="vanthu@stc.camau.lienthong.test"),
        recipient=Organization(organ_id=RECIPIENT_ID, organ_name="Sở Y tế tỉnh Cà Mau", email=RECIPIENT_MAIL),
        final_recipient=RECIPIENT_MAIL,
        mic=mic(SENT_BYTES),
        received_at=datetime(2026, 2, 13, 10, 30, 5, 123000, tzinfo=UTC),
        effective_at=datetime(2026, 2, 23, 7, 0, tzinfo=VN),
        calendar_version="0123456789abcdef",
        incoming_number=42,
        subject="Về việc thử nghiệm hồi báo",
    )
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def signed_receipt(pki: Pki, **changes: object) -> bytes:
    issued = pki.issue(RECIPIENT_ID, RECIPIENT_MAIL)
    chain = [pki.ca.certificate]
    return build_receipt(facts(**changes), "syt.camau.lienthong.test", issued.certificate, issued.key, chain)


def test_receipt_round_trip(pki: Pki) -> None:
    raw = signed_receipt(pki)
    receipt = read_receipt(raw)
    assert receipt.document_id == facts().document_id
    assert receipt.original_message_id == "<abc@stc.camau.lienthong.test>"
    assert receipt.final_recipient == RECIPIENT_MAIL
    assert receipt.disposition == "automatic-action/MDN-sent-automatically; processed"
    assert receipt.status_code == ARRIVED
    assert receipt.incoming_number == 42
    assert receipt.received_at == facts().received_at
    assert receipt.effective_at == facts().effective_at
    assert receipt.calendar_version == "0123456789abcdef"
    assert receipt.reason_code is None
    check_mic(receipt, mic(SENT_BYTES))
    assert b"Lienthong-Kind: receipt\r\n" in raw
    assert b"\n" not in raw.replace(b"\r\n", b"")


def test_receipt_signature_verifies_with_our_verifier(pki: Pki) -> None:
    raw = signed_receipt(pki)
    result = Verifier(pki.trust()).verify_sync(raw, Sender(RECIPIENT_ID, frozenset({RECIPIENT_MAIL})))
    assert result.organ_id == RECIPIENT_ID
    tampered = raw.replace(b"Lienthong-Incoming-Number: 42", b"Lienthong-Incoming-Number: 43")
    assert tampered != raw
    with pytest.raises(SignatureInvalid, match="does not match the signed bytes"):
        Verifier(pki.trust()).verify_sync(tampered, Sender(RECIPIENT_ID, frozenset({RECIPIENT_MAIL})))


@pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl binary not installed")
def test_receipt_signature_verifies_with_openssl(pki: Pki, tmp_path: Path) -> None:
    path = tmp_path / "receipt.eml"
    path.write_bytes(signed_receipt(pki))
    result = subprocess.run(
        [
            "openssl",
            "cms",
            "-verify",
            "-in",
            str(path),
            "-CAfile",
            str(pki.files.root_cert),
            "-purpose",
            "smimesign",
            "-out",
            str(tmp_path / "content"),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "Verification successful" in result.stderr
    assert b"report-type=disposition-notification" in (tmp_path / "content").read_bytes()


def test_refusal_notice_carries_status_02_and_reason(pki: Pki) -> None:
    receipt = read_receipt(signed_receipt(pki, incoming_number=None, reason_code="RECIPIENT_UNKNOWN", detail="x"))
    assert receipt.status_code == REFUSED
    assert receipt.reason_code == "RECIPIENT_UNKNOWN"
    assert receipt.disposition.endswith("processed/error: RECIPIENT_UNKNOWN")
    assert receipt.incoming_number is None


def test_mic_mismatch_is_a_failure(pki: Pki) -> None:
    receipt = read_receipt(signed_receipt(pki))
    with pytest.raises(ReceiptMismatch, match="did not receive our bytes"):
        check_mic(receipt, mic(SENT_BYTES + b"x"))


def test_not_a_receipt_is_refused(pki: Pki) -> None:
    raw = signed_receipt(pki).replace(b"Lienthong-Kind: receipt", b"Lienthong-Kind: document")
    with pytest.raises(ReceiptError, match="not a receipt"):
        read_receipt(raw)
    # A receipt-looking Subject changes nothing: classification is by the top-level header only.
    with pytest.raises(ReceiptError, match="not a receipt"):
        read_receipt(b"Subject: Hoi bao\r\nLienthong-Kind: document\r\n\r\nbody\r\n")


def test_header_injection_in_fields_is_refused(pki: Pki) -> None:
    with pytest.raises(ReceiptError, match="line break"):
        signed_receipt(pki, original_message_id="<a@b>\r\nBcc: evil@x.test")
