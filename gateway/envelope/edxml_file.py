"""The all-in-one ``.edxml`` file of the national and provincial hubs: export an envelope, import one back.

The hubs carry the files base64 inside the XML; we carry them as MIME parts. Export writes the edXML header and a
manifest of the PDF and attachments (no ``lt:`` elements, which hubs do not know) and the files under
``edXML:AttachmentEncoded``; import reads them back and rebuilds the envelope with the builder, so metadata and file
bytes survive the round trip unchanged (docs/envelope.md §5).
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from datetime import datetime

from gateway.envelope.build import build_from
from gateway.envelope.edxml import write_header, write_reference
from gateway.envelope.edxml_read import kid, kids, local_name, parse_xml, read_header, read_reference, text
from gateway.envelope.errors import EnvelopeError
from gateway.envelope.model import Attachment, DocumentHeader, Kind, Metadata
from gateway.envelope.parse import Envelope
from gateway.envelope.xmlwrite import EDXML_NS, XmlWriter

MAX_EDXML_BYTES = 40 << 20  # base64 of a 25 MiB envelope plus the header


def export_edxml(envelope: Envelope) -> bytes:
    meta = envelope.metadata
    if meta is None or meta.kind not in (Kind.DOCUMENT, Kind.STATUS):
        raise EnvelopeError.of("ENVELOPE_STRUCTURE", "Lienthong-Kind", "only documents and status packages export")
    if isinstance(meta.header, DocumentHeader) and meta.header.classification:
        raise EnvelopeError.of("CLASSIFIED", "lt:Classification", "a classified document is never exported")
    by_cid = {entry.content_id: entry for entry in meta.manifest}
    w = XmlWriter()
    w.open("edXMLEnvelope", f' xmlns:edXML="{EDXML_NS}"')
    write_header(w, meta, ours=False)
    w.open("edXMLBody")
    files = []
    for part in envelope.parts[2:]:
        entry = by_cid.get(part.content_id)
        if entry is None:
            raise EnvelopeError.of("MANIFEST_PART_EXTRA", f"part {part.index}", "not listed in the manifest")
        files.append((entry, part.data))
    w.open("edXMLManifest", ' version="1.0"')
    for entry, _ in files:
        write_reference(w, entry, ours=False)
    w.close()
    w.open("AttachmentEncoded")
    for entry, data in files:
        w.open("Attachment")
        w.leaf("ContentId", f"cid:{entry.content_id}")
        w.leaf("AttachmentName", entry.file_name, keep_empty=True)
        w.leaf("ContentType", entry.media_type)
        w.leaf("ContentTransferEncoded", "base64")
        w.leaf("Value", base64.b64encode(data).decode("ascii"), keep_empty=True)
        w.close()
    w.close()
    w.close()
    w.close()
    return w.to_bytes()


def import_edxml(data: bytes, *, sent_at: datetime | None = None, to_mailboxes: Sequence[str] | None = None) -> bytes:
    """The envelope for an ``.edxml`` file. ``sent_at`` is used only when the trace lacks the sender's entry;
    ``to_mailboxes`` addresses a status package (its header names no recipient mailbox)."""
    root = parse_xml(data, MAX_EDXML_BYTES)
    envelope = root if local_name(root.tag) == "edXMLEnvelope" else kid(root, "edXMLEnvelope")
    if envelope is None:
        raise EnvelopeError.of("METADATA_XML", "edXMLEnvelope", "not an edXML file")
    kind, header, trace = read_header(envelope)
    body = kid(envelope, "edXMLBody")
    manifest = kid(body, "edXMLManifest")
    refs = [read_reference(r) for r in kids(manifest, "Reference")] if manifest is not None else []
    holder = kid(body, "AttachmentEncoded")
    if holder is None:
        holder = kid(root, "AttachmentEncoded")
    encoded = {}
    for attachment in kids(holder, "Attachment") if holder is not None else []:
        cid = text(attachment, "ContentId").strip().removeprefix("cid:").strip("<>")
        try:
            encoded[cid] = base64.b64decode("".join(text(attachment, "Value").split()), validate=True)
        except (binascii.Error, ValueError):
            raise EnvelopeError.of("METADATA_XML", f"Attachment {cid}", "Value is not base64") from None
    files = []
    for ref in refs:
        if ref.content_id not in encoded:
            raise EnvelopeError.of("MANIFEST_PART_MISSING", f"cid:{ref.content_id}", ref.file_name)
        files.append(Attachment(ref.file_name, ref.media_type, encoded.pop(ref.content_id), ref.description))
    if encoded:
        raise EnvelopeError.of("MANIFEST_PART_EXTRA", f"cid:{next(iter(encoded))}", "attachment not in the manifest")
    if kind is Kind.DOCUMENT and (not files or files[0].media_type != "application/pdf"):
        raise EnvelopeError.of("PDF_MISSING", "edXMLManifest", "the first reference must be the main PDF")
    return build_from(Metadata(kind, header, trace, ()), files, sent_at=sent_at, to_mailboxes=to_mailboxes)
