"""A multipart/signed envelope: the parser hands out the exact signed bytes and the signature (trust checks them).

Signed with the project's real signer (certs.smime) and checked with the real openssl, so the test shows that the
bytes the parser exposes are exactly the bytes the signature covers.
"""

from __future__ import annotations

import datetime as dt
import subprocess

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from certs.smime import sign_entity
from gateway.envelope.build import build_inner, outer_headers, with_sender_trace
from gateway.envelope.errors import EnvelopeError
from gateway.envelope.model import Attachment, Kind, Metadata
from gateway.envelope.parse import parse
from gateway.envelope.validate import validate
from tests.fixtures.envelope import NOW, SENT_AT, make_header
from tests.pdfs import make_ascii_pdf


def _certificate() -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "vanthu@camau.gov.vn")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    return cert, key


def test_signed_envelope_exposes_the_exact_signed_bytes(tmp_path, directory):
    header = make_header()
    meta = Metadata(Kind.DOCUMENT, header, with_sender_trace(header, None, SENT_AT), ())
    built = build_inner(meta, [Attachment("qd.pdf", "application/pdf", make_ascii_pdf())])
    cert, key = _certificate()
    signed = sign_entity(built.inner, cert, key)
    raw = outer_headers(built.metadata) + signed.entity

    env = parse(raw)
    assert env.signed
    assert env.inner == built.inner
    assert env.signature == signed.signature
    validate(env, now=NOW, directory=directory)

    (tmp_path / "content").write_bytes(env.inner)
    (tmp_path / "sig.der").write_bytes(env.signature)
    result = subprocess.run(
        [
            "openssl",
            "cms",
            "-verify",
            "-noverify",
            "-binary",
            "-inform",
            "DER",
            "-in",
            str(tmp_path / "sig.der"),
            "-content",
            str(tmp_path / "content"),
            "-out",
            "/dev/null",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr


def test_signed_wrapper_with_something_else_inside_is_refused():
    cert, key = _certificate()
    signed = sign_entity(b"Content-Type: text/plain\r\n\r\nhello\r\n", cert, key)
    raw = (
        b"From: vanthu@camau.gov.vn\r\nTo: vanthu@stc.camau.gov.vn\r\nDate: Mon, 02 Mar 2026 09:30:00 +0700\r\n"
        b"Message-ID: <x@camau.gov.vn>\r\nLienthong-Kind: document\r\n" + signed.entity
    )
    with pytest.raises(EnvelopeError) as info:
        parse(raw)
    assert info.value.primary.code == "ENVELOPE_STRUCTURE"
