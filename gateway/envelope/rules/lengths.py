"""Maximum lengths from QCVN 102:2016 (as amended 2022: OrganId 35) and Decree 30/2020 Annex VI, in characters."""

from __future__ import annotations

import re

from gateway.envelope.errors import Problem
from gateway.envelope.rules.base import Context
from gateway.envelope.rules.fields import text_fields

# (pattern over the field path, limit); the first matching pattern applies.
LIMITS: tuple[tuple[re.Pattern[str], int], ...] = tuple(
    (re.compile(pattern), limit)
    for pattern, limit in (
        (r"(^|/)OrganId$|OrganIdList/OrganId\[\d+\]$", 35),
        (r"(^|/)OrganName$", 200),
        (r"Code/CodeNumber$", 11),
        (r"Code/CodeNotation$", 30),
        (r"DocumentType/TypeName$", 100),
        (r"^Subject$", 500),
        (r"^Content$", 500),
        (r"SignerInfo/Position$", 100),
        (r"SignerInfo/FullName$", 50),
        (r"^ToPlaces/Place\[\d+\]$", 150),
        (r"^Description$", 500),
        (r"BussinessDocReason$", 500),
        (r"^DocumentId$|/DocumentId$", 200),
    )
)


class LengthsRule:
    codes = ("FIELD_TOO_LONG",)

    def check(self, ctx: Context) -> list[Problem]:
        meta = ctx.metadata
        if meta is None:
            return []
        problems = []
        for root in (meta.header, meta.trace):
            for path, value in text_fields(root):
                for pattern, limit in LIMITS:
                    if pattern.search(path):
                        if len(value) > limit:
                            problems.append(
                                Problem("FIELD_TOO_LONG", path, f"{len(value)} characters, at most {limit}")
                            )
                        break
        return problems
