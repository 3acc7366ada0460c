"""The sender is an active agency of the registry, writing from one of its records-office mailboxes."""

from __future__ import annotations

from gateway.envelope.errors import Problem
from gateway.envelope.rules.base import Context


class SenderRule:
    codes = ("SENDER_UNKNOWN", "SENDER_MISMATCH")

    def check(self, ctx: Context) -> list[Problem]:
        meta = ctx.metadata
        if meta is None or ctx.directory is None or not meta.sender.organ_id:
            return []
        organ_id = meta.sender.organ_id
        info = ctx.directory.lookup(organ_id)
        if info is None:
            return [Problem("SENDER_UNKNOWN", "From/OrganId", organ_id)]
        if not info.active:
            return [Problem("SENDER_UNKNOWN", "From/OrganId", f"{organ_id} is suspended")]
        if info.mailboxes and ctx.envelope.from_addr not in info.mailboxes:
            detail = f"{ctx.envelope.from_addr} is not a mailbox of {organ_id}"
            return [Problem("SENDER_MISMATCH", "From", detail)]
        return []
