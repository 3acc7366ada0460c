"""The outgoing number (số đi) for a document its sender submitted unnumbered, and the envelope rebuilt around it.

An agency system or a clerk may leave ``Code/CodeNumber`` empty and let the gateway keep the agency's register: the
processing worker allocates the next outgoing number for the year of the issue date in the transaction that records
the document (``registry.sequences``), and this module rebuilds the envelope with that number, the DocumentId it
implies, and the outer headers (Subject, Message-ID, ``Lienthong-Document-Id``) that follow from them. The files —
the main PDF and the attachments — are carried over byte for byte; the summary part and the manifest are rebuilt,
because both name the document.

A resubmission of the same unnumbered message (a client retrying after a lost 250, with bytes that differ only in
their trace or Date) is recognised by the sender's Message-ID, and told apart from a different document that reuses
a Message-ID by the ``fingerprint`` of what identifies the document: issuer, notation, issue date, subject,
recipients and the digests of the files.
"""

from __future__ import annotations

import hashlib
from dataclasses import replace

from gateway.envelope.build import build_from
from gateway.envelope.model import Attachment, Code, DocumentHeader, Metadata, TraceHeaderList
from gateway.envelope.parse import Envelope


def is_unnumbered(header: DocumentHeader) -> bool:
    """The "not yet numbered" state (docs/envelope.md): CodeNumber empty, nothing else about the document missing."""
    return header.code.number == ""


def issue_year(header: DocumentHeader) -> int:
    if header.promulgation_info.date is None:  # the required rule refuses this before any numbering
        raise ValueError("a document without an issue date cannot be numbered")
    return header.promulgation_info.date.year


def fingerprint(envelope: Envelope, header: DocumentHeader) -> str:
    """SHA-256 of the document's identity, without the trace and Date a client's retry may change."""
    issued = header.promulgation_info.date.isoformat() if header.promulgation_info.date else ""
    fields = [
        header.from_.organ_id,
        header.code.notation,
        issued,
        header.subject,
        ",".join(sorted(t.organ_id for t in header.to)),
        *(part.sha256 for part in envelope.parts[2:]),
    ]
    return hashlib.sha256("\0".join(fields).encode("utf-8")).hexdigest()


def numbered_header(header: DocumentHeader, number: int) -> DocumentHeader:
    code = Code(str(number), header.code.notation)
    issued = header.promulgation_info.date
    if issued is None:
        raise ValueError("a document without an issue date cannot be numbered")
    return replace(header, code=code, document_id=DocumentHeader.make_document_id(header.from_.organ_id, issued, code))


def _trace(trace: TraceHeaderList | None, document_id: str) -> TraceHeaderList | None:
    if trace is None or trace.bussiness is None or not trace.bussiness.document_id:
        return trace
    return replace(trace, bussiness=replace(trace.bussiness, document_id=document_id))


def _files(envelope: Envelope, metadata: Metadata) -> list[Attachment]:
    by_cid = {entry.content_id: entry for entry in metadata.manifest}
    files = []
    for part in envelope.parts[2:]:
        entry = by_cid.get(part.content_id)
        name = entry.file_name if entry is not None else part.file_name
        media_type = entry.media_type if entry is not None else part.media_type
        files.append(Attachment(name, media_type, part.data, entry.description if entry is not None else ""))
    return files


def rebuild(envelope: Envelope, header: DocumentHeader, number: int) -> tuple[DocumentHeader, bytes]:
    """The numbered header and the complete unsigned envelope carrying it (Date and trace as the sender wrote)."""
    metadata = envelope.metadata
    if metadata is None:
        raise ValueError("only a document with metadata can be numbered")
    numbered = numbered_header(header, number)
    rebuilt = Metadata(metadata.kind, numbered, _trace(metadata.trace, numbered.document_id), ())
    return numbered, build_from(rebuilt, _files(envelope, metadata))
