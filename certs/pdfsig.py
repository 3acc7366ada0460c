"""Digital signatures inside a PDF (PAdES, as Decree 30/2020 documents carry them): present, valid, by whom.

pyHanko validates each embedded signature with the same trust anchors as S/MIME. A signature that is broken (bytes
changed after signing, a bad signature value, or later modifications pyHanko does not accept) is a refusal reason,
PDF_SIGNATURE_INVALID. A signature that is intact but whose signer does not chain to an anchor configured here is
*reported* (``trusted`` false), and refused only when ``require_trusted`` is set: documents are signed by people with
certificates from CAs (e.g. the national government CA) whose anchors and CRLs a province may not have configured.
Revocation is checked where a CRL is at hand (soft-fail), for the same reason.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import io
import logging
from dataclasses import dataclass

from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from pyhanko.pdf_utils.misc import PdfReadError
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import async_validate_pdf_signature
from pyhanko.sign.validation.settings import KeyUsageConstraints
from pyhanko_certvalidator import ValidationContext

from certs.errors import PdfSignatureInvalid
from certs.issue import organ_id_of
from certs.verify import TrustMaterial

logging.getLogger("pyhanko").setLevel(logging.ERROR)

_USAGE = KeyUsageConstraints(key_usage={"digital_signature", "non_repudiation"}, match_all_key_usages=False)


@dataclass(frozen=True)
class PdfSignature:
    field: str
    signer: str  # subject of the signer's certificate
    organ_id: str | None
    signing_time: dt.datetime | None
    intact: bool
    valid: bool
    trusted: bool
    covers_whole_file: bool
    summary: str

    @property
    def ok(self) -> bool:
        return self.intact and self.valid


@dataclass(frozen=True)
class PdfSignatureReport:
    signatures: tuple[PdfSignature, ...]

    @property
    def signed(self) -> bool:
        return bool(self.signatures)

    def as_dict(self) -> dict[str, object]:
        return {"signed": self.signed, "signatures": [s.__dict__ for s in self.signatures]}


def _asn1(cert: x509.Certificate) -> asn1_x509.Certificate:
    return asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))


def _context(trust: TrustMaterial) -> ValidationContext:
    return ValidationContext(
        trust_roots=[_asn1(c) for c in trust.anchors],
        other_certs=[_asn1(c) for c in trust.intermediates],
        crls=list(trust.crls),
        allow_fetching=False,
        revocation_mode="soft-fail",
    )


async def inspect_pdf(data: bytes, trust: TrustMaterial) -> PdfSignatureReport:
    """Every signature in the PDF and its status; a PDF without signatures gives an empty report."""
    try:
        reader = PdfFileReader(io.BytesIO(data), strict=False)
        embedded = list(reader.embedded_signatures)
    except (PdfReadError, ValueError, KeyError) as exc:
        raise PdfSignatureInvalid(f"the PDF's signature dictionary cannot be read: {exc}") from None
    found = []
    for signature in embedded:
        try:
            status = await async_validate_pdf_signature(
                signature, signer_validation_context=_context(trust), key_usage_settings=_USAGE
            )
        except (PdfReadError, ValueError, KeyError) as exc:
            raise PdfSignatureInvalid(f"signature {signature.field_name}: cannot be validated: {exc}") from None
        cert = x509.load_der_x509_certificate(status.signing_cert.dump())
        coverage = status.coverage
        found.append(
            PdfSignature(
                field=str(signature.field_name),
                signer=cert.subject.rfc4514_string(),
                organ_id=organ_id_of(cert),
                signing_time=signature.self_reported_timestamp,
                intact=bool(status.intact),
                valid=bool(status.valid),
                trusted=bool(status.trusted),
                covers_whole_file=coverage is not None and coverage.name == "ENTIRE_FILE",
                summary=status.summary(),
            )
        )
    return PdfSignatureReport(tuple(found))


def inspect_pdf_sync(data: bytes, trust: TrustMaterial) -> PdfSignatureReport:
    return asyncio.run(inspect_pdf(data, trust))


def require_valid(report: PdfSignatureReport, *, require_trusted: bool = False) -> None:
    """Refuse a PDF whose signatures are broken (or, if asked, untrusted); unsigned PDFs pass."""
    for signature in report.signatures:
        if not signature.ok:
            raise PdfSignatureInvalid(f"PDF signature {signature.field} by {signature.signer} is broken")
        if require_trusted and not signature.trusted:
            raise PdfSignatureInvalid(f"PDF signature {signature.field} by {signature.signer} is not trusted")
