"""Text is Unicode (TCVN 6909): legacy TCVN3/VNI/VIQR/cp1258 is refused with the converted text suggested.

The finding and the converting happen once, before the rules, in ``gateway.envelope.unicode_text``; this rule only
turns the legacy text of a sender not allowed to have it converted into refusals. Decomposed (NFD) Unicode is no
longer refused: it is the same text, and it is converted for everyone (docs/content-checks.md says why).
"""

from __future__ import annotations

from gateway.envelope.errors import Problem
from gateway.envelope.rules.base import Context

_HOW = "save it as Unicode (TCVN 6909), or have the gateway list the agency under [envelope] convert_legacy"


class TextRule:
    codes = ("TEXT_NOT_UNICODE",)

    def check(self, ctx: Context) -> list[Problem]:
        return [
            Problem("TEXT_NOT_UNICODE", c.field, f"looks like {c.encoding}; {_HOW}", c.converted)
            for c in ctx.unconverted
        ]
