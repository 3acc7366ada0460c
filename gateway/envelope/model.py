"""The envelope's data: the edXML header of a document or a status package, the trace, and the manifest.

Frozen dataclasses so that a parsed envelope can be handed between components (validator, ledger, receipts) without
anyone changing what was received. Field names follow edXML in snake case; text fields hold exactly what the XML said
(no trimming, no normalisation) so that validation can see, and refuse, what the sender really wrote.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from enum import StrEnum

VIETNAM = timezone(timedelta(hours=7), "ICT")

STATUS_CODES = frozenset({"01", "02", "03", "04", "05", "06", "13", "15", "16"})


class Kind(StrEnum):
    DOCUMENT = "document"
    STATUS = "status"
    RECEIPT = "receipt"  # content defined by the gateway issue
    NOTICE = "notice"  # content defined by the gateway issue


@dataclass(frozen=True, slots=True)
class Organization:
    organ_id: str = ""
    organization_in_charge: str = ""
    organ_name: str = ""
    organ_add: str = ""
    email: str = ""
    telephone: str = ""
    fax: str = ""
    website: str = ""


@dataclass(frozen=True, slots=True)
class Code:
    number: str = ""
    notation: str = ""

    def __str__(self) -> str:
        return f"{self.number}/{self.notation}"


@dataclass(frozen=True, slots=True)
class PromulgationInfo:
    place: str = ""
    date: date | None = None


@dataclass(frozen=True, slots=True)
class DocumentType:
    type: str = ""
    type_detail: str = ""
    type_name: str = ""


@dataclass(frozen=True, slots=True)
class SignerInfo:
    competence: str = ""
    position: str = ""
    full_name: str = ""


@dataclass(frozen=True, slots=True)
class OtherInfo:
    priority: int | None = None
    sphere_of_promulgation: str = ""
    typer_notation: str = ""
    promulgation_amount: int | None = None
    page_amount: int | None = None
    direction: str = ""
    appendixes: tuple[str, ...] = ()
    secret: str = ""  # the older edXML ``Secret`` element: read (to refuse), never written


@dataclass(frozen=True, slots=True)
class ResponseFor:
    organ_id: str = ""
    code: str = ""
    promulgation_date: date | None = None
    document_id: str = ""


@dataclass(frozen=True, slots=True)
class StaffInfo:
    department: str = ""
    staff: str = ""
    email: str = ""
    mobile: str = ""


@dataclass(frozen=True, slots=True)
class TraceHeader:
    organ_id: str
    timestamp: datetime  # aware; written in Vietnam time


@dataclass(frozen=True, slots=True)
class Receiver:
    organ_id: str = ""
    receiver_type: str = ""


@dataclass(frozen=True, slots=True)
class BussinessDocumentInfo:
    document_info: str = ""
    document_receiver: str = ""
    receivers: tuple[Receiver, ...] = ()


@dataclass(frozen=True, slots=True)
class ReplacementInfo:
    document_id: str = ""
    organ_ids: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Bussiness:
    document_id: str = ""
    bussiness_doc_type: int | None = None
    bussiness_doc_reason: str = ""
    paper: int | None = None
    staff_info: StaffInfo | None = None
    document_info: BussinessDocumentInfo | None = None
    replacements: tuple[ReplacementInfo, ...] = ()


@dataclass(frozen=True, slots=True)
class TraceHeaderList:
    trace_headers: tuple[TraceHeader, ...] = ()
    bussiness: Bussiness | None = None


@dataclass(frozen=True, slots=True)
class DocumentHeader:
    """The MessageHeader of an edoc, plus ``classification`` (ours) to catch a declared secrecy level."""

    from_: Organization
    to: tuple[Organization, ...]
    document_id: str
    code: Code
    promulgation_info: PromulgationInfo
    document_type: DocumentType
    subject: str
    content: str = ""
    signer_info: SignerInfo | None = None
    due_date: date | None = None
    other_info: OtherInfo | None = None
    response_for: tuple[ResponseFor, ...] = ()
    steering_type: int | None = None
    to_places: tuple[str, ...] = ()
    classification: str = ""

    @staticmethod
    def make_document_id(organ_id: str, issued: date, code: Code) -> str:
        return f"{organ_id},{issued:%Y/%m/%d},{code}"


@dataclass(frozen=True, slots=True)
class StatusHeader:
    """The MessageHeader of a status package (business receipt)."""

    from_: Organization
    response_for: ResponseFor
    status_code: str
    timestamp: datetime | None
    staff_info: StaffInfo | None = None
    description: str = ""

    @property
    def key(self) -> str:
        """The status key: what Message-ID and Content-IDs of a status package derive from."""
        stamp = "" if self.timestamp is None else self.timestamp.astimezone(VIETNAM).strftime("%Y/%m/%d %H:%M:%S")
        return f"{self.from_.organ_id},{self.response_for.document_id},{self.status_code},{stamp}"


@dataclass(frozen=True, slots=True)
class ManifestEntry:
    content_id: str  # without "cid:" and angle brackets
    media_type: str
    file_name: str
    size: int
    sha256: str
    description: str = ""


@dataclass(frozen=True, slots=True)
class Metadata:
    """The content of the metadata part."""

    kind: Kind
    header: DocumentHeader | StatusHeader
    trace: TraceHeaderList | None
    manifest: tuple[ManifestEntry, ...]

    @property
    def key(self) -> str:
        """DocumentId for a document, the status key for a status."""
        return self.header.document_id if isinstance(self.header, DocumentHeader) else self.header.key

    @property
    def sender(self) -> Organization:
        return self.header.from_


@dataclass(frozen=True, slots=True)
class TextConversion:
    """One metadata text the validator changed: legacy-encoded text converted, or decomposed Unicode made NFC."""

    field: str  # the edXML path, e.g. "Subject" or "To[1]/OrganName", or "Subject header"
    encoding: str  # "TCVN3", "VNI", "VIQR", "cp1258" or "NFD" (Unicode, but not in normal form C)
    original: str
    converted: str


@dataclass(frozen=True, slots=True)
class Attachment:
    """A file to put into an envelope: the main PDF or a further attachment."""

    file_name: str
    media_type: str
    data: bytes
    description: str = ""
