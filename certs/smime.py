"""S/MIME signing of the exact bytes of a MIME entity (RFC 8551 multipart/signed, RFC 1847).

The signed entity is never parsed or re-serialised: the first part of the output is the input bytes verbatim, and
the detached CMS is computed over those same bytes with the ``Binary`` option (no canonicalisation by the library).
This is the lesson of AS2's MIC mismatches: what is hashed, what is sent and what the receipt quotes must be the same
bytes. The caller therefore hands over an entity that is already canonical (CRLF line endings).
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.hazmat.primitives.serialization import pkcs7

from certs.keys import SigningKey
from gateway.errors import InputError
from gateway.smtp.guard import crlf_only

SIGNATURE_TYPE = "application/pkcs7-signature"


@dataclass(frozen=True)
class SignedMessage:
    """The ``multipart/signed`` entity (headers + body) and the MIC of the signed part, for receipts."""

    content_type: str
    body: bytes
    mic: str  # base64 SHA-256 of the signed entity's exact bytes (RFC 8098 Received-Content-MIC, "sha-256")
    signature: bytes  # the detached CMS, DER

    @property
    def entity(self) -> bytes:
        """A complete MIME entity: the Content-Type header line, an empty line, the body."""
        return b"Content-Type: " + self.content_type.encode("ascii") + b"\r\n\r\n" + self.body


def mic(content: bytes) -> str:
    return base64.b64encode(hashlib.sha256(content).digest()).decode("ascii")


def _check_canonical(content: bytes) -> None:
    if not content:
        raise InputError("the entity to sign is empty")
    if not crlf_only(content):
        raise InputError("the entity to sign has bare LF or CR line endings; it must use CRLF throughout")
    if b"\r\n\r\n" not in content and not content.startswith(b"\r\n"):
        raise InputError("the entity to sign has no header/body separator (an empty line)")


def detached_signature(
    content: bytes, certificate: x509.Certificate, key: SigningKey, chain: Sequence[x509.Certificate] = ()
) -> bytes:
    """DER CMS SignedData over ``content``: SHA-256, signed attributes (incl. signingTime), signer cert + chain."""
    if isinstance(key, ed25519.Ed25519PrivateKey):
        raise InputError(
            "Ed25519: cryptography's PKCS7SignatureBuilder signs with RSA and EC keys only; use EC P-256 or RSA"
        )
    if not isinstance(key, ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey):
        raise InputError(f"unsupported key type {type(key).__name__}")
    builder = pkcs7.PKCS7SignatureBuilder().set_data(content).add_signer(certificate, key, hashes.SHA256())
    for extra in chain:
        if extra != certificate:
            builder = builder.add_certificate(extra)
    options = [pkcs7.PKCS7Options.DetachedSignature, pkcs7.PKCS7Options.Binary]
    return builder.sign(serialization.Encoding.DER, options)


def _boundary(content: bytes) -> str:
    while True:
        candidate = "=_lienthong_signed_" + secrets.token_hex(12)
        if candidate.encode("ascii") not in content:
            return candidate


def _wrap_base64(data: bytes) -> bytes:
    encoded = base64.b64encode(data)
    return b"\r\n".join(encoded[i : i + 76] for i in range(0, len(encoded), 76))


def sign_entity(
    content: bytes, certificate: x509.Certificate, key: SigningKey, chain: Sequence[x509.Certificate] = ()
) -> SignedMessage:
    """Wrap ``content`` (a full MIME entity: headers, empty line, body; CRLF) in a signed multipart."""
    _check_canonical(content)
    signature = detached_signature(content, certificate, key, chain)
    boundary = _boundary(content)
    delimiter = b"--" + boundary.encode("ascii")
    body = b"".join(
        [
            b"This is an S/MIME signed message.\r\n\r\n",
            delimiter + b"\r\n",
            content,
            b"\r\n" + delimiter + b"\r\n",
            b"Content-Type: application/pkcs7-signature; name=smime.p7s\r\n",
            b"Content-Transfer-Encoding: base64\r\n",
            b"Content-Disposition: attachment; filename=smime.p7s\r\n\r\n",
            _wrap_base64(signature),
            b"\r\n" + delimiter + b"--\r\n",
        ]
    )
    content_type = f'multipart/signed; protocol="{SIGNATURE_TYPE}"; micalg=sha-256; boundary="{boundary}"'
    return SignedMessage(content_type=content_type, body=body, mic=mic(content), signature=signature)
