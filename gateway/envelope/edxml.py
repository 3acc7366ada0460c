"""Writing the edXML header (QCVN 102:2016) and our manifest, in the standard's element order.

Every standard element carries the ``edXML:`` prefix (one national hub rejects unprefixed children); our additions
(manifest size and digest, the classification field) live in the ``lt:`` namespace so that hubs may ignore them.
Reading is in ``edxml_read``.
"""

from __future__ import annotations

from datetime import date, datetime

from gateway.envelope.model import (
    VIETNAM,
    Bussiness,
    DocumentHeader,
    ManifestEntry,
    Metadata,
    Organization,
    ResponseFor,
    StaffInfo,
    StatusHeader,
    TraceHeaderList,
)
from gateway.envelope.xmlwrite import ROOT_ATTRS, XmlWriter


def fmt_date(value: date | None) -> str | None:
    return None if value is None else f"{value.year:04d}/{value.month:02d}/{value.day:02d}"


def fmt_timestamp(value: datetime) -> str:
    local = value.astimezone(VIETNAM)
    return f"{fmt_date(local.date())} {local:%H:%M:%S}"


def _organization(w: XmlWriter, name: str, org: Organization) -> None:
    w.open(name)
    w.leaf("OrganId", org.organ_id, keep_empty=True)
    w.leaf("OrganizationInCharge", org.organization_in_charge)
    w.leaf("OrganName", org.organ_name)
    w.leaf("OrganAdd", org.organ_add)
    w.leaf("Email", org.email)
    w.leaf("Telephone", org.telephone)
    w.leaf("Fax", org.fax)
    w.leaf("Website", org.website)
    w.close()


def _response_for(w: XmlWriter, rf: ResponseFor) -> None:
    w.open("ResponseFor")
    w.leaf("OrganId", rf.organ_id)
    w.leaf("Code", rf.code)
    w.leaf("PromulgationDate", fmt_date(rf.promulgation_date))
    w.leaf("DocumentId", rf.document_id)
    w.close()


def _staff(w: XmlWriter, staff: StaffInfo | None) -> None:
    if staff is None:
        return
    w.open("StaffInfo")
    w.leaf("Department", staff.department)
    w.leaf("Staff", staff.staff)
    w.leaf("Email", staff.email)
    w.leaf("Mobile", staff.mobile)
    w.close()


def _document_header(w: XmlWriter, h: DocumentHeader, *, ours: bool) -> None:
    w.open("MessageHeader")
    _organization(w, "From", h.from_)
    for to in h.to:
        _organization(w, "To", to)
    w.leaf("DocumentId", h.document_id, keep_empty=True)
    w.open("Code")
    w.leaf("CodeNumber", h.code.number, keep_empty=True)
    w.leaf("CodeNotation", h.code.notation, keep_empty=True)
    w.close()
    w.open("PromulgationInfo")
    w.leaf("Place", h.promulgation_info.place)
    w.leaf("PromulgationDate", fmt_date(h.promulgation_info.date))
    w.close()
    w.open("DocumentType")
    w.leaf("Type", h.document_type.type)
    w.leaf("TypeDetail", h.document_type.type_detail)
    w.leaf("TypeName", h.document_type.type_name)
    w.close()
    w.leaf("Subject", h.subject, keep_empty=True)
    w.leaf("Content", h.content)
    if h.signer_info is not None:
        w.open("SignerInfo")
        w.leaf("Competence", h.signer_info.competence)
        w.leaf("Position", h.signer_info.position)
        w.leaf("FullName", h.signer_info.full_name)
        w.close()
    w.leaf("DueDate", fmt_date(h.due_date))
    if h.other_info is not None:
        o = h.other_info
        w.open("OtherInfo")
        w.leaf("Priority", o.priority)
        w.leaf("SphereOfPromulgation", o.sphere_of_promulgation)
        w.leaf("TyperNotation", o.typer_notation)
        w.leaf("PromulgationAmount", o.promulgation_amount)
        w.leaf("PageAmount", o.page_amount)
        w.leaf("Direction", o.direction)
        if o.appendixes:
            w.open("Appendixes")
            for appendix in o.appendixes:
                w.leaf("Appendix", appendix, keep_empty=True)
            w.close()
        w.close()
    for rf in h.response_for:
        _response_for(w, rf)
    w.leaf("SteeringType", h.steering_type)
    if h.to_places:
        w.open("ToPlaces")
        for place in h.to_places:
            w.leaf("Place", place, keep_empty=True)
        w.close()
    if ours:
        w.leaf("lt:Classification", h.classification)
    w.close()


def _status_header(w: XmlWriter, h: StatusHeader) -> None:
    w.open("MessageHeader")
    _organization(w, "From", h.from_)
    _response_for(w, h.response_for)
    _staff(w, h.staff_info)
    w.leaf("StatusCode", h.status_code, keep_empty=True)
    w.leaf("Description", h.description)
    w.leaf("Timestamp", None if h.timestamp is None else fmt_timestamp(h.timestamp))
    w.close()


def _bussiness(w: XmlWriter, b: Bussiness) -> None:
    w.open("Bussiness")
    w.leaf("DocumentId", b.document_id)
    w.leaf("BussinessDocType", b.bussiness_doc_type)
    w.leaf("BussinessDocReason", b.bussiness_doc_reason)
    w.leaf("Paper", b.paper)
    _staff(w, b.staff_info)
    if b.document_info is not None:
        d = b.document_info
        w.open("BussinessDocumentInfo")
        w.leaf("DocumentInfo", d.document_info)
        w.leaf("DocumentReceiver", d.document_receiver)
        if d.receivers:
            w.open("ReceiverList")
            for r in d.receivers:
                w.open("Receiver")
                w.leaf("OrganId", r.organ_id)
                w.leaf("ReceiverType", r.receiver_type)
                w.close()
            w.close()
        w.close()
    if b.replacements:
        w.open("ReplacementInfoList")
        for rep in b.replacements:
            w.open("ReplacementInfo")
            w.leaf("DocumentId", rep.document_id)
            if rep.organ_ids:
                w.open("OrganIdList")
                for organ_id in rep.organ_ids:
                    w.leaf("OrganId", organ_id, keep_empty=True)
                w.close()
            w.close()
        w.close()
    w.close()


def _trace(w: XmlWriter, trace: TraceHeaderList | None) -> None:
    if trace is None:
        return
    w.open("TraceHeaderList")
    for th in trace.trace_headers:
        w.open("TraceHeader")
        w.leaf("OrganId", th.organ_id, keep_empty=True)
        w.leaf("Timestamp", fmt_timestamp(th.timestamp))
        w.close()
    if trace.bussiness is not None:
        _bussiness(w, trace.bussiness)
    w.close()


def write_header(w: XmlWriter, meta: Metadata, *, ours: bool) -> None:
    """``edXML:edXMLHeader``; ``ours`` adds the ``lt:`` elements (left out of files for the hubs)."""
    w.open("edXMLHeader")
    if isinstance(meta.header, DocumentHeader):
        _document_header(w, meta.header, ours=ours)
    else:
        _status_header(w, meta.header)
    _trace(w, meta.trace)
    w.close()


def write_reference(w: XmlWriter, entry: ManifestEntry, *, ours: bool) -> None:
    w.open("Reference")
    w.leaf("ContentId", f"cid:{entry.content_id}", keep_empty=True)
    w.leaf("ContentType", entry.media_type, keep_empty=True)
    w.leaf("Description", entry.description)
    w.leaf("AttachmentName", entry.file_name, keep_empty=True)
    if ours:
        w.leaf("lt:Size", entry.size)
        w.leaf("lt:Sha256", entry.sha256)
    w.close()


def write_metadata(meta: Metadata) -> bytes:
    """The metadata part of a MIME envelope: header, trace and the full manifest with sizes and digests."""
    w = XmlWriter()
    w.open("edXMLEnvelope", ROOT_ATTRS)
    write_header(w, meta, ours=True)
    w.open("edXMLBody")
    w.open("edXMLManifest", ' version="1.0"')
    for entry in meta.manifest:
        write_reference(w, entry, ours=True)
    w.close()
    w.close()
    w.close()
    return w.to_bytes()
