"""No document is issued in the future (in the validator's time zone: Vietnam unless told otherwise)."""

from __future__ import annotations

from gateway.envelope.edxml import fmt_date
from gateway.envelope.errors import Problem
from gateway.envelope.rules.base import Context


class IssueDateRule:
    codes = ("ISSUE_DATE_FUTURE",)

    def check(self, ctx: Context) -> list[Problem]:
        doc = ctx.document
        if doc is None or doc.promulgation_info.date is None:
            return []
        today = ctx.now.astimezone(ctx.tz).date()
        if doc.promulgation_info.date > today:
            detail = f"{fmt_date(doc.promulgation_info.date)} is after today {fmt_date(today)}"
            return [Problem("ISSUE_DATE_FUTURE", "PromulgationInfo/PromulgationDate", detail)]
        return []
