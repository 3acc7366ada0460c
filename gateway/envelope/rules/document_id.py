"""DocumentId = "{sender OrganId},{yyyy/MM/dd issue date},{number}/{notation}": the de-duplication key must not lie."""

from __future__ import annotations

from gateway.envelope.errors import Problem
from gateway.envelope.model import DocumentHeader
from gateway.envelope.rules.base import Context


class DocumentIdRule:
    codes = ("DOCUMENT_ID_MISMATCH",)

    def check(self, ctx: Context) -> list[Problem]:
        doc, meta = ctx.document, ctx.metadata
        if doc is None or meta is None or not doc.document_id or doc.promulgation_info.date is None:
            return []  # a missing part is the required rule's finding
        expected = DocumentHeader.make_document_id(doc.from_.organ_id, doc.promulgation_info.date, doc.code)
        problems = []
        if doc.document_id != expected:
            problems.append(
                Problem("DOCUMENT_ID_MISMATCH", "DocumentId", f"{doc.document_id!r}, expected {expected!r}")
            )
        bussiness = meta.trace.bussiness if meta.trace else None
        if bussiness is not None and bussiness.document_id and bussiness.document_id != doc.document_id:
            problems.append(Problem("DOCUMENT_ID_MISMATCH", "Bussiness/DocumentId", "differs from DocumentId"))
        return problems
