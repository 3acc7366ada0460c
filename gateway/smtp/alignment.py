"""Identity alignment: the checks a certified-mail provider makes before it accepts anything.

The authenticated mailbox, the envelope sender and the header From must name the same mailbox; the SMTP recipients
must be exactly the To and Cc addresses; there is no Bcc; From, Date and Message-ID appear exactly once; no header
value carries a NUL. Only the header block is read, so the check is cheap enough for the SMTP handler.
"""

from __future__ import annotations

from collections.abc import Iterable
from email import policy
from email.parser import BytesHeaderParser
from email.utils import getaddresses

from gateway.addresses import Address
from gateway.envelope.errors import Problem
from gateway.envelope.limits import EnvelopeLimits
from gateway.errors import InputError

_PARSER = BytesHeaderParser(policy=policy.compat32)
_SINGLE = ("From", "Date", "Message-ID")


#: The envelope's own limit on a header block (docs/envelope.md), applied before anything is parsed.
_LIMITS = EnvelopeLimits()


def header_block(raw: bytes) -> bytes:
    end = raw.find(b"\r\n\r\n")
    return raw if end < 0 else raw[: end + 4]


def _addresses(values: Iterable[str], field: str) -> tuple[set[str], list[Problem]]:
    found: set[str] = set()
    problems: list[Problem] = []
    for _, address in getaddresses(list(values)):
        try:
            found.add(str(Address.parse(address)))
        except InputError:
            problems.append(Problem("HEADER_INVALID", field, f"{address!r} is not a plain mailbox address"))
    return found, problems


def check_alignment(raw: bytes, mail_from: str, rcpt_tos: Iterable[str], mailbox: str | None) -> list[Problem]:
    """Problems found, in order of importance; ``mailbox`` is the authenticated one (None between gateways)."""
    headers = header_block(raw)
    if len(headers) > _LIMITS.max_header_bytes:
        # Parsed here on the event loop: megabytes of To: lines would stall every other session for seconds.
        detail = f"a header block of {len(headers)} octets, limit {_LIMITS.max_header_bytes}"
        return [Problem("MIME_TOO_COMPLEX", None, detail)]
    if b"\x00" in headers:
        return [Problem("HEADER_INVALID", None, "a header contains a NUL byte")]
    message = _PARSER.parsebytes(headers)
    problems: list[Problem] = []
    for name in _SINGLE:
        count = len(message.get_all(name) or [])
        if count != 1:
            problems.append(Problem("HEADER_INVALID", name, f"must appear exactly once, found {count}"))
    if message.get_all("Bcc") is not None:
        problems.append(Problem("HEADER_INVALID", "Bcc", "blind copies are not allowed: every recipient is visible"))
    if problems:
        return problems

    senders, sender_problems = _addresses(message.get_all("From") or [], "From")
    if sender_problems or len(senders) != 1:
        return sender_problems or [Problem("HEADER_INVALID", "From", "must name exactly one mailbox")]
    header_from = next(iter(senders))
    envelope_from = mail_from.lower()
    if header_from != envelope_from:
        problems.append(
            Problem("SENDER_MISMATCH", "From", f"header From {header_from} differs from MAIL FROM {envelope_from}")
        )
    if mailbox is not None and envelope_from != mailbox.lower():
        problems.append(
            Problem("SENDER_MISMATCH", "MAIL FROM", f"{envelope_from} is not the authenticated mailbox {mailbox}")
        )

    visible, visible_problems = _addresses([*(message.get_all("To") or []), *(message.get_all("Cc") or [])], "To")
    problems.extend(visible_problems)
    envelope_rcpts = {r.lower() for r in rcpt_tos}
    if not visible_problems and visible != envelope_rcpts:
        missing = sorted(envelope_rcpts - visible)
        extra = sorted(visible - envelope_rcpts)
        detail = "; ".join(
            part
            for part in (
                f"RCPT TO not in To/Cc: {', '.join(missing)}" if missing else "",
                f"To/Cc not in RCPT TO: {', '.join(extra)}" if extra else "",
            )
            if part
        )
        problems.append(Problem("HEADER_INVALID", "To", detail))
    return problems
