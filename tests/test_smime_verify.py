"""S/MIME sign and verify over exact bytes: the success path, and each failure with its own reason code."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from certs.errors import SignatureMissing, TrustError
from certs.keys import KeyAlgorithm
from certs.multipart import split_signed
from certs.smime import sign_entity
from certs.verify import Sender, material, verify_message_sync
from gateway.errors import InputError
from tests.fixtures.trust import ENTITY, SENDER, SENDER_MAIL, Pki


def _signed(pki: Pki, **issue: object) -> bytes:
    issued = pki.issue(**issue)  # type: ignore[arg-type]
    signed = sign_entity(ENTITY, issued.certificate, issued.key, pki.ca.chain)
    return b"From: " + SENDER_MAIL.encode() + b"\r\nSubject: test\r\n" + signed.entity


def _reason(raw: bytes, pki: Pki, sender: Sender = SENDER) -> str:
    with pytest.raises(TrustError) as caught:
        verify_message_sync(raw, pki.trust(), sender)
    return caught.value.code


@pytest.mark.parametrize("algorithm", [KeyAlgorithm.EC_P256, KeyAlgorithm.RSA_2048])
def test_round_trip_keeps_exact_bytes_and_reports_signer(pki: Pki, algorithm: KeyAlgorithm) -> None:
    issued = pki.issue(algorithm=algorithm)
    signed = sign_entity(ENTITY, issued.certificate, issued.key, pki.ca.chain)
    assert signed.mic == base64.b64encode(hashlib.sha256(ENTITY).digest()).decode()
    assert ENTITY in signed.body  # verbatim, not re-serialised
    result = verify_message_sync(b"Subject: x\r\n" + signed.entity, pki.trust(), SENDER)
    assert result.content == ENTITY
    assert result.mic == signed.mic
    assert result.organ_id == SENDER.organ_id
    assert result.mailboxes == (SENDER_MAIL,)
    assert result.signer == issued.certificate
    assert abs(result.signing_time - dt.datetime.now(dt.UTC)) < dt.timedelta(minutes=1)


def test_split_takes_exact_span_even_with_trailing_blank_lines(pki: Pki) -> None:
    issued = pki.issue()
    entity = ENTITY + b"\r\n\r\n"  # blank lines at the end belong to the content and are signed
    signed = sign_entity(entity, issued.certificate, issued.key, pki.ca.chain)
    assert split_signed(signed.entity).content == entity
    assert verify_message_sync(signed.entity, pki.trust(), SENDER).content == entity


def test_tampering_any_byte_of_the_content_fails(pki: Pki) -> None:
    raw = _signed(pki)
    start = raw.index(b"Content-Type: multipart/mixed")
    end = raw.index(b"--inner--") + len(b"--inner--")
    for offset in (start, start + 40, raw.index("Công".encode()), end - 1):
        tampered = bytearray(raw)
        tampered[offset] ^= 0x01
        assert _reason(bytes(tampered), pki) == "SIGNATURE_INVALID", offset


def test_tampering_the_signature_fails(pki: Pki) -> None:
    raw = _signed(pki)
    parts = split_signed(raw)
    broken = bytearray(parts.signature)
    broken[-5] ^= 0xFF  # inside the signature value
    encoded = base64.encodebytes(parts.signature).replace(b"\n", b"\r\n")
    replacement = base64.encodebytes(bytes(broken)).replace(b"\n", b"\r\n")
    assert encoded in raw
    assert _reason(raw.replace(encoded, replacement), pki) == "SIGNATURE_INVALID"


def test_unsigned_message_is_signature_missing(pki: Pki) -> None:
    with pytest.raises(SignatureMissing):
        verify_message_sync(b"Subject: x\r\n" + ENTITY, pki.trust(), SENDER)


def test_untrusted_root(pki: Pki, other_pki: Pki) -> None:
    issued = other_pki.issue()
    signed = sign_entity(ENTITY, issued.certificate, issued.key, other_pki.ca.chain)
    assert _reason(signed.entity, pki) == "CERT_UNTRUSTED"


def test_expired_certificate(pki: Pki) -> None:
    long_ago = dt.datetime.now(dt.UTC) - dt.timedelta(days=40)
    assert _reason(_signed(pki, valid_from=long_ago, days=30), pki) == "CERT_EXPIRED"


def test_not_yet_valid_certificate(pki: Pki) -> None:
    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=2)
    assert _reason(_signed(pki, valid_from=later), pki) == "CERT_EXPIRED"


def test_wrong_extended_key_usage(pki: Pki) -> None:
    raw = _signed(pki, eku=(ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH))
    assert _reason(raw, pki) == "CERT_WRONG_USAGE"


def test_revoked_certificate(pki: Pki) -> None:
    issued = pki.issue()
    raw = sign_entity(ENTITY, issued.certificate, issued.key, pki.ca.chain).entity
    verify_message_sync(raw, pki.trust(), SENDER)
    pki.revoke(issued.certificate, "keyCompromise")
    assert _reason(raw, pki) == "CERT_REVOKED"


def test_wrong_agency(pki: Pki) -> None:
    assert _reason(_signed(pki), pki, Sender("000.00.20.H12", frozenset({"vanthu@other.test"}))) == "SIGNER_NOT_SENDER"


def test_mailbox_match_when_certificate_lacks_organ_id(pki: Pki) -> None:
    """A certificate from another CA profile may carry only the mailbox; then the rfc822Name must be the sender's."""
    issued = pki.issue()
    without_id = x509.Name([a for a in issued.certificate.subject if a.oid != NameOID.SERIAL_NUMBER])
    builder = x509.CertificateBuilder(
        issuer_name=issued.certificate.issuer,
        subject_name=without_id,
        public_key=issued.key.public_key(),
        serial_number=x509.random_serial_number(),
        not_valid_before=issued.certificate.not_valid_before_utc,
        not_valid_after=issued.certificate.not_valid_after_utc,
        extensions=list(issued.certificate.extensions),
    )
    cert = builder.sign(pki.ca.key, hashes.SHA256())  # type: ignore[arg-type]
    raw = sign_entity(ENTITY, cert, issued.key, pki.ca.chain).entity
    result = verify_message_sync(raw, pki.trust(), SENDER)
    assert result.organ_id is None
    assert _reason(raw, pki, Sender(SENDER.organ_id, frozenset({"someone@else.test"}))) == "SIGNER_NOT_SENDER"


def test_without_crl_the_status_is_unknown_not_good(pki: Pki) -> None:
    raw = _signed(pki)
    trust = material(pki.trust().anchors, [pki.ca.certificate], [])
    with pytest.raises(TrustError) as caught:
        verify_message_sync(raw, trust, SENDER)
    assert caught.value.code == "CERT_STATUS_UNKNOWN"
    assert caught.value.reason.smtp_code == 451


def test_future_signing_time_is_refused(pki: Pki) -> None:
    raw = _signed(pki)
    with pytest.raises(TrustError) as caught:
        verify_message_sync(raw, pki.trust(), SENDER, at=dt.datetime.now(dt.UTC) - dt.timedelta(hours=1))
    assert caught.value.code == "SIGNING_TIME_INVALID"


def test_every_failure_code_is_in_the_reason_table() -> None:
    from certs import errors
    from gateway.reasons import REASONS

    codes = {cls.code for cls in vars(errors).values() if isinstance(cls, type) and issubclass(cls, TrustError)}
    assert codes <= set(REASONS)
    assert len(codes) >= 10


@pytest.mark.parametrize(
    ("entity", "field"),
    [(b"Content-Type: text/plain\n\nbare LF\n", "bare LF"), (b"", "empty"), (b"Content-Type: text/plain\r\n", "no")],
)
def test_signing_refuses_non_canonical_input(pki: Pki, entity: bytes, field: str) -> None:
    issued = pki.issue()
    with pytest.raises(InputError, match=field):
        sign_entity(entity, issued.certificate, issued.key)


def test_garbage_signature_part_is_signature_invalid(pki: Pki) -> None:
    raw = _signed(pki)
    parts = split_signed(raw)
    encoded = base64.encodebytes(parts.signature).replace(b"\n", b"\r\n")
    garbage = base64.encodebytes(b"\x30\x82\x01\x00" + bytes(300)).replace(b"\n", b"\r\n")
    assert _reason(raw.replace(encoded, garbage), pki) == "SIGNATURE_INVALID"
    assert _reason(raw.replace(encoded, b"not base64 !!\r\n"), pki) == "SIGNATURE_INVALID"


def test_missing_second_part_is_signature_invalid(pki: Pki) -> None:
    raw = _signed(pki)
    cut = raw[: raw.index(b"Content-Type: application/pkcs7-signature")]
    assert _reason(cut, pki) == "SIGNATURE_INVALID"
