"""Reading an edXML header and manifest from untrusted bytes.

defusedxml refuses DTDs, entity declarations and external references, so an entity bomb or an XXE costs nothing; the
size is capped before the parser sees the bytes. Reading is tolerant the way hubs are: unknown (vendor) elements are
ignored, ``Author`` stands for ``SignerInfo``, elements without a namespace are accepted. What cannot be typed (a
date that is not a date, a number that is not a number) is refused naming the field; what is merely missing is left
empty for the validator's ``required`` rule to report with every other problem.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from functools import lru_cache
from xml.etree.ElementTree import Element

import defusedxml.ElementTree as SafeET

from gateway.envelope.errors import EnvelopeError
from gateway.envelope.model import (
    VIETNAM,
    Bussiness,
    BussinessDocumentInfo,
    Code,
    DocumentHeader,
    DocumentType,
    Kind,
    ManifestEntry,
    Metadata,
    Organization,
    OtherInfo,
    PromulgationInfo,
    Receiver,
    ReplacementInfo,
    ResponseFor,
    SignerInfo,
    StaffInfo,
    StatusHeader,
    TraceHeader,
    TraceHeaderList,
)
from gateway.envelope.xmlwrite import EDXML_NS, LT_NS

MAX_METADATA_BYTES = 1 << 20

_ISO_DATE = re.compile(r"(\d{4})/(\d{1,2})/(\d{1,2})")
_VN_DATE = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})")
_TIME = re.compile(r"(\d{1,2}):(\d{2}):(\d{2})")
_INT = re.compile(r"[+-]?\d{1,9}")


@lru_cache(maxsize=4096)
def _split_tag(tag: str) -> tuple[str, str]:
    if tag.startswith("{"):
        ns, _, local = tag[1:].partition("}")
        return ns, local
    return "", tag


def local_name(tag: object) -> str:
    return _split(tag)[1]


def _split(tag: object) -> tuple[str, str]:
    if not isinstance(tag, str):
        return "#", ""  # comments and processing instructions
    return _split_tag(tag)


def kids(el: Element, name: str, ns: str = EDXML_NS) -> list[Element]:
    wanted = {(ns, name), ("", name)} if ns == EDXML_NS else {(ns, name)}
    return [c for c in el if _split(c.tag) in wanted]


def kid(el: Element | None, name: str, ns: str = EDXML_NS) -> Element | None:
    if el is None:
        return None
    found = kids(el, name, ns)
    return found[0] if found else None


def text(el: Element | None, name: str, ns: str = EDXML_NS) -> str:
    child = kid(el, name, ns)
    return "" if child is None or child.text is None else child.text


def parse_date(value: str, field: str) -> date | None:
    value = value.strip()
    if not value:
        return None
    if m := _ISO_DATE.fullmatch(value):
        y, mo, d = (int(g) for g in m.groups())
    elif m := _VN_DATE.fullmatch(value):
        d, mo, y = (int(g) for g in m.groups())
    else:
        raise EnvelopeError.of("FIELD_INVALID", field, f"{value!r} is not a date yyyy/MM/dd")
    try:
        return date(y, mo, d)
    except ValueError:
        raise EnvelopeError.of("FIELD_INVALID", field, f"{value!r} is not a calendar date") from None


def parse_timestamp(value: str, field: str) -> datetime | None:
    value = value.strip()
    if not value:
        return None
    day, _, clock = value.partition(" ")
    m = _TIME.fullmatch(clock.strip())
    when = parse_date(day, field)
    if m is None or when is None:
        raise EnvelopeError.of("FIELD_INVALID", field, f"{value!r} is not a timestamp yyyy/MM/dd HH:mm:ss")
    try:
        h, mi, s = (int(g) for g in m.groups())
        return datetime(when.year, when.month, when.day, h, mi, s, tzinfo=VIETNAM)
    except ValueError:
        raise EnvelopeError.of("FIELD_INVALID", field, f"{value!r} is not a valid time") from None


def parse_int(value: str, field: str) -> int | None:
    value = value.strip()
    if not value:
        return None
    if not _INT.fullmatch(value):
        raise EnvelopeError.of("FIELD_INVALID", field, f"{value!r} is not a whole number")
    return int(value)


def _kids_of(el: Element | None, name: str) -> list[Element]:
    return [] if el is None else kids(el, name)


def _organization(el: Element) -> Organization:
    return Organization(
        organ_id=text(el, "OrganId"),
        organization_in_charge=text(el, "OrganizationInCharge"),
        organ_name=text(el, "OrganName"),
        organ_add=text(el, "OrganAdd"),
        email=text(el, "Email"),
        telephone=text(el, "Telephone"),
        fax=text(el, "Fax"),
        website=text(el, "Website"),
    )


def _response_for(el: Element) -> ResponseFor:
    return ResponseFor(
        organ_id=text(el, "OrganId"),
        code=text(el, "Code"),
        promulgation_date=parse_date(text(el, "PromulgationDate"), "ResponseFor/PromulgationDate"),
        document_id=text(el, "DocumentId"),
    )


def _staff(el: Element | None) -> StaffInfo | None:
    if el is None:
        return None
    return StaffInfo(text(el, "Department"), text(el, "Staff"), text(el, "Email"), text(el, "Mobile"))


def _other_info(el: Element | None) -> OtherInfo | None:
    if el is None:
        return None
    appendixes = kid(el, "Appendixes")
    return OtherInfo(
        priority=parse_int(text(el, "Priority"), "OtherInfo/Priority"),
        sphere_of_promulgation=text(el, "SphereOfPromulgation"),
        typer_notation=text(el, "TyperNotation"),
        promulgation_amount=parse_int(text(el, "PromulgationAmount"), "OtherInfo/PromulgationAmount"),
        page_amount=parse_int(text(el, "PageAmount"), "OtherInfo/PageAmount"),
        direction=text(el, "Direction"),
        appendixes=tuple(a.text or "" for a in kids(appendixes, "Appendix")) if appendixes is not None else (),
        secret=text(el, "Secret"),
    )


def _document_header(mh: Element) -> DocumentHeader:
    from_el = kid(mh, "From")
    code = kid(mh, "Code")
    prom = kid(mh, "PromulgationInfo")
    dtype = kid(mh, "DocumentType")
    signer = kid(mh, "SignerInfo")
    if signer is None:  # an Element without children is falsy: never use "or" on elements
        signer = kid(mh, "Author")
    places = kid(mh, "ToPlaces")
    return DocumentHeader(
        from_=_organization(from_el) if from_el is not None else Organization(),
        to=tuple(_organization(t) for t in kids(mh, "To")),
        document_id=text(mh, "DocumentId"),
        code=Code(text(code, "CodeNumber"), text(code, "CodeNotation")),
        promulgation_info=PromulgationInfo(
            text(prom, "Place"), parse_date(text(prom, "PromulgationDate"), "PromulgationInfo/PromulgationDate")
        ),
        document_type=DocumentType(text(dtype, "Type"), text(dtype, "TypeDetail"), text(dtype, "TypeName")),
        subject=text(mh, "Subject"),
        content=text(mh, "Content"),
        signer_info=(
            SignerInfo(text(signer, "Competence"), text(signer, "Position"), text(signer, "FullName"))
            if signer is not None
            else None
        ),
        due_date=parse_date(text(mh, "DueDate"), "DueDate"),
        other_info=_other_info(kid(mh, "OtherInfo")),
        response_for=tuple(_response_for(r) for r in kids(mh, "ResponseFor")),
        steering_type=parse_int(text(mh, "SteeringType"), "SteeringType"),
        to_places=tuple(p.text or "" for p in kids(places, "Place")) if places is not None else (),
        classification=text(mh, "Classification", LT_NS),
    )


def _status_header(mh: Element) -> StatusHeader:
    from_el = kid(mh, "From")
    rf = kid(mh, "ResponseFor")
    timestamp = parse_timestamp(text(mh, "Timestamp"), "Timestamp")
    return StatusHeader(
        from_=_organization(from_el) if from_el is not None else Organization(),
        response_for=_response_for(rf) if rf is not None else ResponseFor(),
        status_code=text(mh, "StatusCode"),
        timestamp=timestamp,
        staff_info=_staff(kid(mh, "StaffInfo")),
        description=text(mh, "Description"),
    )


def _bussiness(el: Element | None) -> Bussiness | None:
    if el is None:
        return None
    info = kid(el, "BussinessDocumentInfo")
    receivers = kid(info, "ReceiverList")
    reps = kid(el, "ReplacementInfoList")
    return Bussiness(
        document_id=text(el, "DocumentId"),
        bussiness_doc_type=parse_int(text(el, "BussinessDocType"), "Bussiness/BussinessDocType"),
        bussiness_doc_reason=text(el, "BussinessDocReason"),
        paper=parse_int(text(el, "Paper"), "Bussiness/Paper"),
        staff_info=_staff(kid(el, "StaffInfo")),
        document_info=(
            BussinessDocumentInfo(
                text(info, "DocumentInfo"),
                text(info, "DocumentReceiver"),
                tuple(
                    Receiver(text(r, "OrganId"), text(r, "ReceiverType"))
                    for r in (kids(receivers, "Receiver") if receivers is not None else [])
                ),
            )
            if info is not None
            else None
        ),
        replacements=tuple(
            ReplacementInfo(
                text(r, "DocumentId"),
                tuple(o.text or "" for o in _kids_of(kid(r, "OrganIdList"), "OrganId")),
            )
            for r in (kids(reps, "ReplacementInfo") if reps is not None else [])
        ),
    )


def _trace(el: Element | None) -> TraceHeaderList | None:
    if el is None:
        return None
    headers = []
    for th in kids(el, "TraceHeader"):
        stamp = parse_timestamp(text(th, "Timestamp"), "TraceHeader/Timestamp")
        if stamp is None:
            raise EnvelopeError.of("FIELD_MISSING", "TraceHeader/Timestamp")
        headers.append(TraceHeader(text(th, "OrganId"), stamp))
    return TraceHeaderList(tuple(headers), _bussiness(kid(el, "Bussiness")))


def read_reference(ref: Element) -> ManifestEntry:
    cid = text(ref, "ContentId").strip()
    size = parse_int(text(ref, "Size", LT_NS), "Reference/Size")
    return ManifestEntry(
        content_id=cid.removeprefix("cid:").strip("<>"),
        media_type=text(ref, "ContentType").strip().lower(),
        file_name=text(ref, "AttachmentName"),
        size=-1 if size is None else size,
        sha256=text(ref, "Sha256", LT_NS).strip().lower(),
        description=text(ref, "Description"),
    )


def parse_xml(data: bytes, limit: int = MAX_METADATA_BYTES) -> Element:
    if len(data) > limit:
        raise EnvelopeError.of("METADATA_XML", "metadata", f"{len(data)} bytes, over the {limit}-byte limit")
    try:
        root = SafeET.fromstring(data, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except Exception as exc:  # ParseError, DTDForbidden, EntitiesForbidden, ... all mean the same to the sender
        raise EnvelopeError.of("METADATA_XML", "metadata", f"{type(exc).__name__}: {exc}"[:200]) from None
    assert isinstance(root, Element)
    return root


def read_header(envelope: Element) -> tuple[Kind, DocumentHeader | StatusHeader, TraceHeaderList | None]:
    header = kid(envelope, "edXMLHeader")
    mh = kid(header, "MessageHeader")
    if header is None or mh is None:
        raise EnvelopeError.of("METADATA_XML", "edXMLHeader/MessageHeader", "element missing")
    if kid(mh, "StatusCode") is not None:
        return Kind.STATUS, _status_header(mh), _trace(kid(header, "TraceHeaderList"))
    return Kind.DOCUMENT, _document_header(mh), _trace(kid(header, "TraceHeaderList"))


def read_metadata(data: bytes, limit: int = MAX_METADATA_BYTES) -> Metadata:
    """The metadata part of a MIME envelope."""
    root = parse_xml(data, limit)
    if _split(root.tag)[1] != "edXMLEnvelope":
        raise EnvelopeError.of("METADATA_XML", "edXMLEnvelope", f"root element is {_split(root.tag)[1]!r}")
    kind, header, trace = read_header(root)
    manifest = kid(kid(root, "edXMLBody"), "edXMLManifest")
    refs = tuple(read_reference(r) for r in kids(manifest, "Reference")) if manifest is not None else ()
    return Metadata(kind, header, trace, refs)
