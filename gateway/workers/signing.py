"""Turn an accepted envelope into what travels: S/MIME-signed by the agency, DKIM-signed by the gateway.

The agency's signature covers the inner ``multipart/mixed`` entity exactly as the sender built it (its Content-Type
line and body bytes, unchanged); the outer headers stay the sender's, minus the MIME headers that now describe the
``multipart/signed`` wrapper. DKIM then signs the whole message for the gateway's domain. An envelope the agency
system signed itself gets only the DKIM signature (``dkim_only``): its bytes travel as it sent them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from email.parser import BytesHeaderParser

from certs import dkim
from certs.lifecycle import Signer
from certs.multipart import split_signed
from certs.smime import mic, sign_entity
from gateway.envelope.errors import EnvelopeError

_MIME_HEADERS = (b"content-type", b"mime-version", b"content-transfer-encoding")


@dataclass(frozen=True, slots=True)
class Outgoing:
    message: bytes  # what is stored and relayed
    mic: str  # base64 SHA-256 of the signed entity, for receipts


def split_unsigned(raw: bytes) -> tuple[bytes, bytes]:
    """(outer header lines without the MIME headers, the inner entity: its Content-Type line, CRLF, the body)."""
    end = raw.find(b"\r\n\r\n")
    if end < 0:
        raise EnvelopeError.of("MIME_MALFORMED", None, "no header/body separator")
    lines = raw[: end + 2].split(b"\r\n")[:-1]
    fields: list[list[bytes]] = []
    for line in lines:
        if line[:1] in (b" ", b"\t") and fields:
            fields[-1].append(line)
        else:
            fields.append([line])
    outer = [f for f in fields if f[0].split(b":", 1)[0].strip().lower() not in _MIME_HEADERS]
    content_type = [f for f in fields if f[0].split(b":", 1)[0].strip().lower() == b"content-type"]
    if len(content_type) != 1:
        raise EnvelopeError.of("HEADER_INVALID", "Content-Type", "must appear exactly once")
    header = BytesHeaderParser().parsebytes(b"\r\n".join(content_type[0]) + b"\r\n\r\n")
    if header.get_content_type() != "multipart/mixed":
        raise EnvelopeError.of("ENVELOPE_STRUCTURE", "Content-Type", "an unsigned envelope must be multipart/mixed")
    inner = b"\r\n".join(content_type[0]) + b"\r\n\r\n" + raw[end + 4 :]
    return b"".join(b"\r\n".join(f) + b"\r\n" for f in outer), inner


def sign_outgoing(raw: bytes, signer: Signer, domain: str, dkim_keys: Sequence[dkim.DkimKey]) -> Outgoing:
    outer, inner = split_unsigned(raw)
    signed = sign_entity(inner, signer.certificate, signer.key, signer.chain)
    message = outer + b"MIME-Version: 1.0\r\n" + b"Content-Type: " + signed.content_type.encode("ascii") + b"\r\n\r\n"
    message += signed.body
    if dkim_keys:
        message = dkim.sign(message, domain, dkim_keys) + message
    return Outgoing(message, signed.mic)


def dkim_only(message: bytes, domain: str, dkim_keys: Sequence[dkim.DkimKey]) -> Outgoing:
    """A ``multipart/signed`` message the agency signed: unchanged behind the gateway's DKIM signature, with the MIC
    of the entity the agency signed (what the recipient's receipt will quote)."""
    content = split_signed(message).content
    if dkim_keys:
        message = dkim.sign(message, domain, dkim_keys) + message
    return Outgoing(message, mic(content))
