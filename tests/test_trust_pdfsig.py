"""PAdES: a PDF signed with pyHanko's signer using a certificate from our CA is reported valid, by whom."""

from __future__ import annotations

import io

import pytest
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import signers
from pypdf import PdfWriter

from certs.errors import PdfSignatureInvalid
from certs.pdfsig import inspect_pdf_sync, require_valid
from tests.fixtures.trust import SENDER_ID, Pki


def _pdf() -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def _sign(pki: Pki, data: bytes, issuer: Pki | None = None) -> bytes:
    authority = issuer or pki
    issued = authority.issue()
    signer = signers.SimpleSigner.load(
        str(issued.key_path), str(issued.cert_path), ca_chain_files=(str(authority.files.issuing_cert),)
    )
    assert signer is not None
    out = signers.sign_pdf(
        IncrementalPdfFileWriter(io.BytesIO(data), strict=False),
        signers.PdfSignatureMetadata(field_name="ChuKySo"),
        signer=signer,
    )
    return out.getvalue()


def test_unsigned_pdf_reports_no_signature(pki: Pki) -> None:
    report = inspect_pdf_sync(_pdf(), pki.trust())
    assert not report.signed
    require_valid(report, require_trusted=True)


def test_signed_pdf_is_valid_and_names_the_signer(pki: Pki) -> None:
    report = inspect_pdf_sync(_sign(pki, _pdf()), pki.trust())
    [signature] = report.signatures
    assert signature.field == "ChuKySo"
    assert signature.organ_id == SENDER_ID
    assert signature.ok
    assert signature.trusted
    assert signature.covers_whole_file
    require_valid(report, require_trusted=True)


def test_tampered_signed_pdf_is_refused(pki: Pki) -> None:
    signed = bytearray(_sign(pki, _pdf()))
    offset = signed.index(b"/MediaBox")
    signed[offset + 1 : offset + 9] = b"Mediabox"  # a change inside the signed byte range
    report = inspect_pdf_sync(bytes(signed), pki.trust())
    assert report.signed
    assert not report.signatures[0].ok
    with pytest.raises(PdfSignatureInvalid) as caught:
        require_valid(report)
    assert caught.value.reason.code == "PDF_SIGNATURE_INVALID"


def test_untrusted_signer_is_reported_and_refused_only_on_request(pki: Pki, other_pki: Pki) -> None:
    report = inspect_pdf_sync(_sign(pki, _pdf(), issuer=other_pki), pki.trust())
    [signature] = report.signatures
    assert signature.ok
    assert not signature.trusted
    require_valid(report)
    with pytest.raises(PdfSignatureInvalid, match="not trusted"):
        require_valid(report, require_trusted=True)
