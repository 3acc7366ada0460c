"""The main document: a PDF that opens, unencrypted, version >= 1.4, within limits, with the declared page count."""

from __future__ import annotations

from gateway.envelope.errors import EnvelopeError, Problem
from gateway.envelope.rules.base import Context


class MainPdfRule:
    codes = ("PDF_MISSING", "PDF_UNREADABLE", "PDF_ENCRYPTED", "PDF_VERSION", "PDF_TOO_COMPLEX", "PDF_PAGE_COUNT")

    def check(self, ctx: Context) -> list[Problem]:
        doc = ctx.document
        if doc is None:
            return []
        info = ctx.pdf()
        if info is None:
            return [Problem("PDF_MISSING", "part 3", "the third part must be the main document, application/pdf")]
        if isinstance(info, EnvelopeError):
            return list(info.problems)
        declared = doc.other_info.page_amount if doc.other_info else None
        if declared is not None and declared != info.page_count:
            detail = f"the PDF has {info.page_count} pages, PageAmount says {declared}"
            return [Problem("PDF_PAGE_COUNT", "OtherInfo/PageAmount", detail)]
        return []
