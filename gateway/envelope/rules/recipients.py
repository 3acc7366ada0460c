"""Recipients: at least one, no duplicate OrganId, each an active agency of the registry."""

from __future__ import annotations

from gateway.envelope.errors import Problem
from gateway.envelope.rules.base import Context


class RecipientsRule:
    codes = ("FIELD_MISSING", "FIELD_INVALID", "RECIPIENT_UNKNOWN")

    def check(self, ctx: Context) -> list[Problem]:
        doc = ctx.document
        if doc is None:
            return []
        if not doc.to:
            return [Problem("FIELD_MISSING", "To", "at least one recipient is needed")]
        problems: list[Problem] = []
        seen: set[str] = set()
        for i, to in enumerate(doc.to):
            field = f"To[{i}]/OrganId"
            if not to.organ_id:
                continue  # the required rule reports it
            if to.organ_id in seen:
                problems.append(Problem("FIELD_INVALID", field, f"{to.organ_id} is listed twice"))
                continue
            seen.add(to.organ_id)
            if ctx.directory is None:
                continue
            info = ctx.directory.lookup(to.organ_id)
            if info is None:
                problems.append(Problem("RECIPIENT_UNKNOWN", field, to.organ_id))
            elif not info.active:
                problems.append(Problem("RECIPIENT_UNKNOWN", field, f"{to.organ_id} is suspended"))
        return problems
