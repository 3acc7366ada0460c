"""Text is Unicode (TCVN 6909) in NFC: legacy TCVN3/VNI/VIQR/cp1258 is refused with the converted text suggested."""

from __future__ import annotations

from gateway.envelope.errors import Problem
from gateway.envelope.rules.base import Context
from gateway.envelope.rules.fields import text_fields
from gateway.vntext import detect_legacy, nfc


class TextRule:
    codes = ("TEXT_NOT_UNICODE", "TEXT_NOT_NFC")

    def check(self, ctx: Context) -> list[Problem]:
        meta = ctx.metadata
        if meta is None:
            return []
        values = [("Subject header", ctx.envelope.subject), *text_fields(meta.header)]
        if meta.trace is not None:
            values += list(text_fields(meta.trace, "TraceHeaderList"))
        problems = []
        for path, value in values:
            if not value:
                continue
            legacy = detect_legacy(value)
            if legacy is not None:
                problems.append(Problem("TEXT_NOT_UNICODE", path, f"looks like {legacy.encoding}", legacy.suggestion))
            elif nfc(value) != value:
                problems.append(Problem("TEXT_NOT_NFC", path, "not in Unicode normal form C", nfc(value)))
        return problems
