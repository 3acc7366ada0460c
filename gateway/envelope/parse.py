"""Parsing an envelope from the exact bytes received.

Nothing is re-serialised: parts are located by boundary in the raw bytes (``rawmime``), a multipart/signed wrapper's
first part is exposed byte for byte for the signature check, and each part's digest is taken over its decoded content
(see docs/envelope.md §3.2). Whatever the input, only ``EnvelopeError`` leaves ``parse``: unexpected exceptions are
mapped to MIME_MALFORMED by one guard, and the real causes found by the fuzz test are fixed where they arise.
"""

from __future__ import annotations

import binascii
import hashlib
import quopri
import re
from dataclasses import dataclass
from datetime import datetime
from email.errors import CharsetError, HeaderParseError
from email.header import decode_header, make_header
from email.message import Message
from email.utils import getaddresses, parsedate_to_datetime

from gateway.envelope.edxml_read import read_metadata
from gateway.envelope.errors import EnvelopeError
from gateway.envelope.limits import EnvelopeLimits
from gateway.envelope.mime import text_digest_bytes
from gateway.envelope.model import Kind, Metadata, TextConversion
from gateway.envelope.rawmime import Entity, walk

SIGNATURE_TYPES = frozenset({"application/pkcs7-signature", "application/x-pkcs7-signature"})
METADATA_TYPES = frozenset({"application/xml", "text/xml"})
_SINGLE = ("From", "To", "Date", "Message-ID", "Lienthong-Kind")
_FOLD = re.compile(r"\r?\n(?=[ \t])")
_MAILBOX = re.compile(r"[^@\s<>()\[\],;:\\\"]+@[^@\s<>()\[\],;:\\\"]+")


@dataclass(frozen=True, slots=True)
class Part:
    index: int  # 1-based position in the multipart/mixed entity
    media_type: str
    content_id: str  # without angle brackets
    file_name: str
    data: bytes  # decoded content
    size: int  # of the hashed octets
    sha256: str


@dataclass(frozen=True, slots=True)
class Envelope:
    kind: Kind
    from_addr: str
    to_addrs: tuple[str, ...]
    date: datetime
    message_id: str
    subject: str
    document_id_header: str
    metadata: Metadata | None  # None for receipt and notice (their content is defined by the gateway issue)
    parts: tuple[Part, ...]
    signed: bool
    inner: bytes | None  # multipart/signed: the exact bytes of the first part (what the signature covers)
    signature: bytes | None  # multipart/signed: the decoded signature (CMS DER)
    raw_sha256: str
    # set by ``validate``: the metadata texts it converted to NFC Unicode (the signed bytes are never changed)
    conversions: tuple[TextConversion, ...] = ()

    @property
    def main_pdf(self) -> Part | None:
        if len(self.parts) > 2 and self.parts[2].media_type == "application/pdf":
            return self.parts[2]
        return None


def _decode(raw: memoryview, node: Entity, where: str) -> bytes:
    encoding = str(node.headers.get("Content-Transfer-Encoding", "7bit")).strip().lower()
    body = raw[node.body_start : node.end]
    try:
        if encoding == "base64":
            return binascii.a2b_base64(body)
        if encoding == "quoted-printable":
            return quopri.decodestring(bytes(body))
    except (binascii.Error, ValueError) as exc:
        raise EnvelopeError.of("MIME_MALFORMED", where, f"{encoding} body does not decode: {exc}") from None
    if encoding in ("7bit", "8bit", "binary"):
        return bytes(body)
    raise EnvelopeError.of("MIME_MALFORMED", f"{where} Content-Transfer-Encoding", f"unknown encoding {encoding!r}")


def _estimated_size(node: Entity) -> int:
    size = node.end - node.body_start
    encoding = str(node.headers.get("Content-Transfer-Encoding", "")).strip().lower()
    return size * 3 // 4 if encoding == "base64" else size


def _part(raw: memoryview, node: Entity, index: int) -> Part:
    where = f"part {index}"
    if node.children is not None:
        raise EnvelopeError.of("ENVELOPE_STRUCTURE", where, "a multipart inside the envelope")
    data = _decode(raw, node, where)
    media_type = node.content_type
    hashed = text_digest_bytes(data) if media_type.startswith("text/") else data
    content_id = _unfolded(node.headers.get("Content-ID", "")).strip().strip("<>")
    file_name = str(node.headers.get_filename() or "")
    return Part(index, media_type, content_id, file_name, data, len(hashed), hashlib.sha256(hashed).hexdigest())


def _unfolded(value: object) -> str:
    return _FOLD.sub("", str(value))


def _decoded(value: object) -> str:
    """An unstructured header value with RFC 2047 words decoded (undecodable words are kept as written)."""
    text = _unfolded(value)
    try:
        return str(make_header(decode_header(text)))
    except (LookupError, UnicodeError, ValueError, HeaderParseError, CharsetError):
        return text


def _single(headers: Message, name: str) -> str:
    values = headers.get_all(name) or []
    if len(values) != 1:
        raise EnvelopeError.of("HEADER_INVALID", name, f"expected exactly one, found {len(values)}")
    value = _unfolded(values[0])
    if any(c in value for c in "\r\n\x00"):
        raise EnvelopeError.of("HEADER_INVALID", name, "control character in the value")
    return value


def _addresses(value: str, name: str) -> tuple[str, ...]:
    found = tuple(address.lower() for _, address in getaddresses([value]))
    if not found or not all(_MAILBOX.fullmatch(a) for a in found):
        raise EnvelopeError.of("HEADER_INVALID", name, "not a list of mailbox addresses")
    return found


def _top(raw: memoryview, tree: Entity) -> tuple[Entity, bool, bytes | None, bytes | None]:
    """The multipart/mixed envelope entity, whether it was signed, the inner bytes and the signature."""
    if tree.content_type == "multipart/signed":
        children = tree.children or []
        if len(children) != 2 or children[0].content_type != "multipart/mixed":
            raise EnvelopeError.of("ENVELOPE_STRUCTURE", "multipart/signed", "expected the envelope and a signature")
        if children[1].content_type not in SIGNATURE_TYPES:
            raise EnvelopeError.of("ENVELOPE_STRUCTURE", "multipart/signed", "second part is not a CMS signature")
        envelope = children[0]
        return envelope, True, bytes(raw[envelope.start : envelope.end]), _decode(raw, children[1], "signature")
    if tree.content_type != "multipart/mixed" or tree.children is None:
        raise EnvelopeError.of("ENVELOPE_STRUCTURE", "Content-Type", f"{tree.content_type}, expected multipart/mixed")
    return tree, False, None, None


def _parse(raw: bytes, limits: EnvelopeLimits) -> Envelope:
    tree = walk(raw, limits)
    view = memoryview(raw)
    headers = tree.headers
    values = {name: _single(headers, name) for name in _SINGLE}
    try:
        kind = Kind(values["Lienthong-Kind"].strip().lower())
    except ValueError:
        raise EnvelopeError.of(
            "HEADER_INVALID", "Lienthong-Kind", f"unknown kind {values['Lienthong-Kind']!r}"
        ) from None
    try:
        when = parsedate_to_datetime(values["Date"])
    except (TypeError, ValueError, IndexError, OverflowError):
        when = None
    if when is None or when.tzinfo is None:
        raise EnvelopeError.of("HEADER_INVALID", "Date", "not an RFC 5322 date with a zone")
    from_addrs = _addresses(values["From"], "From")
    if len(from_addrs) != 1:
        raise EnvelopeError.of("HEADER_INVALID", "From", "exactly one mailbox is needed")
    envelope, signed, inner, signature = _top(view, tree)
    nodes = envelope.children or []
    if sum(_estimated_size(n) for n in nodes) > limits.max_decoded_bytes:
        raise EnvelopeError.of("MIME_TOO_COMPLEX", None, f"decoded parts over {limits.max_decoded_bytes} bytes")
    if len(nodes) < 2 or nodes[0].content_type != "text/plain" or nodes[1].content_type not in METADATA_TYPES:
        raise EnvelopeError.of("ENVELOPE_STRUCTURE", None, "the first parts must be the text summary and the metadata")
    parts = tuple(_part(view, node, i) for i, node in enumerate(nodes, start=1))
    metadata = read_metadata(parts[1].data, limits.max_metadata_bytes) if kind in (Kind.DOCUMENT, Kind.STATUS) else None
    return Envelope(
        kind=kind,
        from_addr=from_addrs[0],
        to_addrs=_addresses(values["To"], "To"),
        date=when,
        message_id=values["Message-ID"].strip(),
        subject=_decoded(headers.get("Subject", "")),
        document_id_header=_decoded(headers.get("Lienthong-Document-Id", "")).strip(),
        metadata=metadata,
        parts=parts,
        signed=signed,
        inner=inner,
        signature=signature,
        raw_sha256=hashlib.sha256(raw).hexdigest(),
    )


def parse(raw: bytes, limits: EnvelopeLimits | None = None) -> Envelope:
    """The envelope in ``raw``; raises only ``EnvelopeError``."""
    try:
        return _parse(raw, limits or EnvelopeLimits())
    except EnvelopeError:
        raise
    except Exception as exc:  # the guard: a bug must become a refusal, never a crash of the caller
        raise EnvelopeError.of("MIME_MALFORMED", None, f"unreadable message ({type(exc).__name__})") from exc
