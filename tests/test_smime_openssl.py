"""Interoperability with the real ``openssl cms`` binary, both ways.

OpenSSL 3.0's S/MIME reader in ``-binary`` mode leaves the CR of the CRLF that precedes the boundary on the content
(so it hashes one byte too many); without ``-binary`` it canonicalises to CRLF, which is a no-op on our canonical
entities. So the multipart message is checked without ``-binary``, and the exact detached bytes with ``-binary``.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from certs.errors import TrustError
from certs.keys import KeyAlgorithm
from certs.smime import sign_entity
from certs.verify import verify_message_sync
from tests.fixtures.trust import ENTITY, SENDER, Pki

pytestmark = pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl binary")


def _openssl(*args: str | Path, stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(["openssl", *map(str, args)], input=stdin, capture_output=True, timeout=60, check=False)


@pytest.mark.parametrize("algorithm", [KeyAlgorithm.EC_P256, KeyAlgorithm.RSA_3072])
def test_openssl_verifies_what_we_sign(pki: Pki, tmp_path: Path, algorithm: KeyAlgorithm) -> None:
    issued = pki.issue(algorithm=algorithm)
    signed = sign_entity(ENTITY, issued.certificate, issued.key, pki.ca.chain)
    message = tmp_path / "signed.eml"
    message.write_bytes(b"Subject: x\r\nMIME-Version: 1.0\r\n" + signed.entity)
    out = tmp_path / "content.out"
    result = _openssl(
        "cms", "-verify", "-in", message, "-CAfile", pki.files.root_cert, "-purpose", "smimesign", "-out", out
    )
    assert result.returncode == 0, result.stderr.decode()
    assert out.read_bytes() == ENTITY

    content, signature = tmp_path / "content.bin", tmp_path / "sig.der"
    content.write_bytes(ENTITY)
    signature.write_bytes(signed.signature)
    exact = ("cms", "-verify", "-binary", "-inform", "DER", "-in", signature, "-CAfile", pki.files.root_cert)
    result = _openssl(*exact, "-purpose", "smimesign", "-content", content, "-out", "/dev/null")
    assert result.returncode == 0, result.stderr.decode()

    content.write_bytes(ENTITY[:-3] + b"X\r\n")  # one byte changed: OpenSSL must refuse as well
    result = _openssl(*exact, "-purpose", "smimesign", "-content", content, "-out", "/dev/null")
    assert result.returncode != 0


def _openssl_signed(pki: Pki, tmp_path: Path, signer_cert: Path, signer_key: Path) -> bytes:
    content = tmp_path / "entity.bin"
    content.write_bytes(ENTITY)
    out = tmp_path / "openssl-signed.eml"
    result = _openssl(
        "cms", "-sign", "-binary", "-md", "sha256", "-in", content, "-signer", signer_cert, "-inkey", signer_key,
        "-certfile", pki.files.issuing_cert, "-out", out,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr.decode()
    raw = out.read_bytes()
    # OpenSSL ends its own header and delimiter lines with LF; SMTP transport makes every line CRLF. The content
    # was already CRLF, so only OpenSSL's own lines change.
    return raw.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


def test_we_verify_what_openssl_signs(pki: Pki, tmp_path: Path) -> None:
    issued = pki.issue()
    raw = _openssl_signed(pki, tmp_path, issued.cert_path, issued.key_path)
    result = verify_message_sync(raw, pki.trust(), SENDER)
    assert result.content == ENTITY
    assert result.signer == issued.certificate


def test_openssl_signature_with_tampered_content_fails(pki: Pki, tmp_path: Path) -> None:
    issued = pki.issue()
    raw = _openssl_signed(pki, tmp_path, issued.cert_path, issued.key_path)
    tampered = raw.replace("tổng kết".encode(), "tổng kết".encode().upper(), 1)
    assert tampered != raw
    with pytest.raises(TrustError) as caught:
        verify_message_sync(tampered, pki.trust(), SENDER)
    assert caught.value.code == "SIGNATURE_INVALID"


def test_openssl_signature_by_revoked_certificate_fails(pki: Pki, tmp_path: Path) -> None:
    issued = pki.issue()
    raw = _openssl_signed(pki, tmp_path, issued.cert_path, issued.key_path)
    pki.revoke(issued.certificate, "superseded")
    with pytest.raises(TrustError) as caught:
        verify_message_sync(raw, pki.trust(), SENDER)
    assert caught.value.code == "CERT_REVOKED"
