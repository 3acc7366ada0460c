"""The top-level headers agree with the metadata, so no one can route or classify by a header that lies."""

from __future__ import annotations

from gateway.envelope.errors import Problem
from gateway.envelope.rules.base import Context


class HeadersRule:
    codes = ("HEADER_INVALID",)

    def check(self, ctx: Context) -> list[Problem]:
        env, meta = ctx.envelope, ctx.metadata
        if meta is None:
            return []
        problems: list[Problem] = []
        if env.kind != meta.kind:
            problems.append(
                Problem("HEADER_INVALID", "Lienthong-Kind", f"{env.kind} but the metadata is a {meta.kind}")
            )
        doc, status = ctx.document, ctx.status
        expected_id = doc.document_id if doc else status.response_for.document_id if status else ""
        if env.document_id_header != expected_id:
            problems.append(Problem("HEADER_INVALID", "Lienthong-Document-Id", "differs from the metadata DocumentId"))
        sender = meta.sender.email.strip().lower()
        if sender and env.from_addr != sender:
            problems.append(Problem("HEADER_INVALID", "From", f"{env.from_addr} is not From/Email {sender}"))
        if doc is not None:
            listed = {t.email.strip().lower() for t in doc.to if t.email.strip()}
            if listed and set(env.to_addrs) != listed:
                problems.append(
                    Problem("HEADER_INVALID", "To", "the To header differs from the To/Email of the metadata")
                )
        return problems
