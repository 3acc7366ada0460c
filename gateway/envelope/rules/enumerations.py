"""Enumerated and counted fields: Priority, SteeringType, BussinessDocType, Paper, StatusCode, amounts."""

from __future__ import annotations

from gateway.envelope.errors import Problem
from gateway.envelope.model import STATUS_CODES
from gateway.envelope.rules.base import Context


def _range(field: str, value: int | None, low: int, high: int) -> list[Problem]:
    if value is None or low <= value <= high:
        return []
    return [Problem("FIELD_INVALID", field, f"{value} is not in {low}..{high}")]


class EnumerationsRule:
    codes = ("FIELD_INVALID",)

    def check(self, ctx: Context) -> list[Problem]:
        problems: list[Problem] = []
        doc, status, meta = ctx.document, ctx.status, ctx.metadata
        if doc is not None:
            problems += _range("SteeringType", doc.steering_type, 0, 2)
            if doc.other_info is not None:
                problems += _range("OtherInfo/Priority", doc.other_info.priority, 0, 4)
                problems += _range("OtherInfo/PageAmount", doc.other_info.page_amount, 1, 999)
                problems += _range("OtherInfo/PromulgationAmount", doc.other_info.promulgation_amount, 1, 999)
        if status is not None and status.status_code and status.status_code not in STATUS_CODES:
            problems.append(
                Problem("FIELD_INVALID", "StatusCode", f"{status.status_code!r} is not one of {sorted(STATUS_CODES)}")
            )
        bussiness = meta.trace.bussiness if meta is not None and meta.trace is not None else None
        if bussiness is not None:
            problems += _range("Bussiness/BussinessDocType", bussiness.bussiness_doc_type, 0, 3)
            problems += _range("Bussiness/Paper", bussiness.paper, 0, 1)
        return problems
