"""Fields without which a document cannot be registered (Decree 30/2020 Annex VI, QCVN 102:2016)."""

from __future__ import annotations

from gateway.envelope.errors import Problem
from gateway.envelope.rules.base import Context


class RequiredRule:
    codes = ("FIELD_MISSING",)

    def check(self, ctx: Context) -> list[Problem]:
        doc, status = ctx.document, ctx.status
        values: list[tuple[str, object]] = []
        if doc is not None:
            trace = ctx.metadata.trace if ctx.metadata else None
            values = [
                ("From/OrganId", doc.from_.organ_id),
                ("From/OrganName", doc.from_.organ_name),
                ("To", doc.to),
                *((f"To[{i}]/OrganId", t.organ_id) for i, t in enumerate(doc.to)),
                ("DocumentId", doc.document_id),
                ("Code/CodeNumber", doc.code.number),
                ("Code/CodeNotation", doc.code.notation),
                ("PromulgationInfo/PromulgationDate", doc.promulgation_info.date),
                ("DocumentType/TypeName", doc.document_type.type_name),
                ("Subject", doc.subject),
                ("TraceHeaderList/TraceHeader", trace.trace_headers if trace else ()),
            ]
        elif status is not None:
            values = [
                ("From/OrganId", status.from_.organ_id),
                ("ResponseFor/DocumentId", status.response_for.document_id),
                ("StatusCode", status.status_code),
                ("Timestamp", status.timestamp),
            ]
        if ctx.allow_unnumbered and doc is not None and doc.code.number == "":
            # Not yet numbered (docs/envelope.md): the gateway assigns the number. The DocumentId and header rules
            # still check the DocumentId computed with the empty number; a number of blanks is still refused here.
            values = [(name, value) for name, value in values if name != "Code/CodeNumber"]
        return [Problem("FIELD_MISSING", name) for name, value in values if _empty(value)]


def _empty(value: object) -> bool:
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    return isinstance(value, tuple) and not value
