"""Classified documents and denunciations (regulation Art. 4.1): declared fields, marker words, the first page.

Runs first and alone (see ``validate``): a hit makes ``EnvelopeError.primary.code`` CLASSIFIED or DENUNCIATION, the
caller's signal to store nothing of the content.
"""

from __future__ import annotations

from gateway.envelope.errors import EnvelopeError, Problem
from gateway.envelope.markers import ForbiddenMarker, find_declared_classification, find_forbidden
from gateway.envelope.rules.base import Context
from gateway.envelope.rules.fields import text_fields

# Fields written in natural language, where a stamp or a "Đơn tố cáo" title can appear; codes and addresses are not.
_PROSE = ("Subject", "Content", "DocumentType/", "Description", "Appendix", "ToPlaces", "BussinessDocReason")


class PolicyRule:
    codes = ("CLASSIFIED", "DENUNCIATION")

    def check(self, ctx: Context) -> list[Problem]:
        found = self._metadata(ctx) or find_forbidden(ctx.envelope.subject, field="Subject header")
        if found is None:
            info = ctx.pdf()
            if info is not None and not isinstance(info, EnvelopeError):
                found = find_forbidden(info.first_page_text, field="PDF first page")
        return [found.problem()] if found else []

    @staticmethod
    def _metadata(ctx: Context) -> ForbiddenMarker | None:
        doc = ctx.document
        if doc is not None:
            declared = find_declared_classification(doc.classification, field="lt:Classification")
            if doc.classification and declared:
                return declared
            secret = doc.other_info.secret if doc.other_info else ""
            declared = find_declared_classification(secret, field="OtherInfo/Secret")
            if secret and declared:
                return declared
        meta = ctx.metadata
        if meta is None:
            return None
        for path, value in text_fields(meta.header):
            if value and any(key in path for key in _PROSE):
                found = find_forbidden(value, field=path)
                if found:
                    return found
        return None
