"""The submission handler: authenticated clerks and agency systems hand in documents here.

It does only the hard checks (who you are, who you write to, line endings, identity alignment, size) and hands the
exact bytes to an ``Intake``, which persists them and a record in one transaction before the 250 goes out; parsing,
validation, signing and delivery happen later in workers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from gateway.addresses import Address
from gateway.errors import InputError
from gateway.reasons import reason
from gateway.smtp.alignment import check_alignment


@dataclass(frozen=True, slots=True)
class Principal:
    """Who authenticated: the registry's account, reduced to what the SMTP edge needs."""

    login: str
    mailbox: str
    organ_id: str | None
    role: str


@dataclass(frozen=True, slots=True)
class Submission:
    principal: Principal
    peer: str
    mail_from: str
    rcpt_tos: tuple[str, ...]
    data: bytes


class Recipients(Protocol):
    async def organ_of(self, mailbox: str) -> str | None:
        """The OrganId of the agency whose records office ``mailbox`` is; None when no agency of the registry has it."""
        ...


class Intake(Protocol):
    async def accept(self, submission: Submission) -> str:
        """Persist durably, then return the SMTP reply (``250 2.0.0 ...`` or a reason's reply)."""
        ...


@dataclass(frozen=True, slots=True)
class SubmissionLimits:
    max_message_bytes: int = 30 * 1024 * 1024
    max_recipients: int = 100
    max_fanout_bytes: int = 300 * 1024 * 1024  # message size x recipients: what one submission may cost us


class SubmissionHandler:
    """aiosmtpd handler hooks (``handle_MAIL``, ``handle_RCPT``, ``handle_DATA``)."""

    def __init__(
        self, intake: Intake, limits: SubmissionLimits | None = None, recipients: Recipients | None = None
    ) -> None:
        """``recipients`` None takes every well-formed address: for listener tests that run without a registry;
        ``lienthong serve`` always passes the registry's (``gateway.smtp.mailboxes``)."""
        self.intake = intake
        self.limits = limits or SubmissionLimits()
        self.recipients = recipients

    @staticmethod
    def _principal(session: Any) -> Principal | None:
        data = getattr(session, "auth_data", None)
        return data if isinstance(data, Principal) and session.authenticated else None

    async def handle_MAIL(self, server: Any, session: Any, envelope: Any, address: str, options: list[str]) -> str:
        principal = self._principal(session)
        if principal is None:
            return reason("AUTH_REQUIRED").smtp_reply()
        try:
            sender = str(Address.parse(address))
        except InputError as exc:
            return f"553 5.1.7 {exc.message}"
        if sender != principal.mailbox.lower():
            return reason("SENDER_MISMATCH").smtp_reply(f"{sender} is not {principal.mailbox}")
        for option in options:
            name, _, value = option.partition("=")
            if name.upper() == "SIZE" and value.isdigit() and int(value) > self.limits.max_message_bytes:
                return reason("MESSAGE_TOO_BIG").smtp_reply(f"limit {self.limits.max_message_bytes} bytes")
        envelope.mail_from = sender
        envelope.mail_options.extend(options)
        return "250 2.1.0 Sender OK"

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: list[str]) -> str:
        try:
            recipient = str(Address.parse(address))
        except InputError as exc:
            return f"553 5.1.3 {exc.message}"
        if len(envelope.rcpt_tos) >= self.limits.max_recipients:
            return f"452 4.5.3 Too many recipients (at most {self.limits.max_recipients} per message)"
        declared = _declared_size(envelope.mail_options)
        if declared is not None and declared * (len(envelope.rcpt_tos) + 1) > self.limits.max_fanout_bytes:
            return reason("MESSAGE_TOO_BIG").smtp_reply("message size times recipients is over the limit")
        if recipient in envelope.rcpt_tos:
            return "250 2.1.5 Recipient OK"
        # Last, after the checks that cost nothing: the sender hears of a mistyped or unknown records office now,
        # not from a non-acceptance notice later; the recipients already taken stay in the transaction.
        if self.recipients is not None and await self.recipients.organ_of(recipient) is None:
            envelope.unknown_recipients = [*getattr(envelope, "unknown_recipients", ()), recipient]
            return reason("RECIPIENT_UNKNOWN").smtp_reply(f"{recipient} is not a records office in the registry")
        envelope.rcpt_tos.append(recipient)
        return "250 2.1.5 Recipient OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        principal = self._principal(session)
        if principal is None:
            return reason("AUTH_REQUIRED").smtp_reply()
        raw: bytes = envelope.original_content or b""
        if len(raw) * len(envelope.rcpt_tos) > self.limits.max_fanout_bytes:
            return reason("MESSAGE_TOO_BIG").smtp_reply("message size times recipients is over the limit")
        problems = check_alignment(raw, envelope.mail_from, envelope.rcpt_tos, principal.mailbox)
        if problems:
            unknown: list[str] = getattr(envelope, "unknown_recipients", [])
            named = [*envelope.rcpt_tos, *unknown]
            if unknown and not check_alignment(raw, envelope.mail_from, named, principal.mailbox):
                # The headers still name a recipient refused at RCPT: a document goes to all its recipients or to
                # none, so say which address to correct rather than that the headers disagree.
                detail = f"{', '.join(unknown)}: not a records office in the registry; nothing was accepted"
                return reason("RECIPIENT_UNKNOWN").smtp_reply(detail)
            first = problems[0]
            return first.reason.smtp_reply(f"{first.field}: {first.detail}" if first.field else first.detail)
        submission = Submission(
            principal=principal,
            peer=str(session.peer[0]) if session.peer else "",
            mail_from=envelope.mail_from,
            rcpt_tos=tuple(envelope.rcpt_tos),
            data=raw,
        )
        return await self.intake.accept(submission)


def _declared_size(options: list[str]) -> int | None:
    for option in options:
        name, _, value = option.partition("=")
        if name.upper() == "SIZE" and value.isdigit():
            return int(value)
    return None
