"""The SMTP client the relay worker uses: aiosmtplib, with an envelope and DATA phase for canonical messages.

aiosmtplib prepares every message with regular expressions over all of it: one rewrites every line ending to CRLF
(run twice, once to compute the SIZE parameter of MAIL FROM and once for DATA) and one doubles each leading dot.
For a 280 KB document that is some 3,600 substitutions per pass, several milliseconds of CPU per relayed document.
What the gateway relays is canonical by construction (CRLF throughout: the listeners refuse bare CR and LF, and
the signers work on CRLF bytes), so after one check of three counts SIZE is the message's length and the dots are
doubled with one ``bytes.replace``; whatever is not canonical takes aiosmtplib's own path unchanged.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Sequence
from typing import Literal

import aiosmtplib
from aiosmtplib import (
    SMTPDataError,
    SMTPHeloError,
    SMTPRecipientRefused,
    SMTPRecipientsRefused,
    SMTPResponse,
    SMTPResponseException,
    SMTPServerDisconnected,
    SMTPStatus,
    SMTPTimeoutError,
)
from aiosmtplib.email import parse_address
from aiosmtplib.typing import Default

from gateway.smtp.guard import crlf_only

Timeout = float | Literal[Default.token] | None


def canonical(message: bytes) -> bool:
    """CRLF line endings only (no bare CR or LF), ending with CRLF."""
    return message.endswith(b"\r\n") and crlf_only(message)


def dot_stuffed(message: bytes) -> bytes:
    """RFC 5321 4.5.2 for a canonical message, with the end-of-data marker."""
    lead = b"." if message.startswith(b".") else b""
    return lead + message.replace(b"\r\n.", b"\r\n..") + b".\r\n"


class RelayClient(aiosmtplib.SMTP):
    """One message at a time per connection (the relay's connection cache lends each connection to one sender)."""

    async def sendmail(
        self,
        sender: str,
        recipients: str | Sequence[str],
        message: str | bytes,
        /,
        *,
        mail_options: Iterable[str] | None = None,
        rcpt_options: Iterable[str] | None = None,
        timeout: Timeout = Default.token,
    ) -> tuple[dict[str, SMTPResponse], str]:
        """aiosmtplib's ``sendmail`` contract (recipient errors returned, all refused raised, RSET after a failure),
        without its whole-message passes for a canonical message sent with no extra options."""
        if isinstance(message, str) or mail_options or rcpt_options or not canonical(message):
            return await super().sendmail(
                sender, recipients, message, mail_options=mail_options, rcpt_options=rcpt_options, timeout=timeout
            )
        rcpts = [recipients] if isinstance(recipients, str) else list(recipients)
        for address in (sender, *rcpts):
            parse_address(address)  # refuse a bad address before anything is sent
        if self.is_ehlo_or_helo_needed:
            try:
                await self.ehlo(timeout=timeout)
            except SMTPHeloError:
                await self.helo(timeout=timeout)  # as aiosmtplib does for servers without ESMTP
        size = [f"SIZE={len(message)}"] if self.supports_extension("size") else []
        try:
            await self.mail(sender, options=size, timeout=timeout)
            refused: list[SMTPRecipientRefused] = []
            for rcpt in rcpts:
                try:
                    await self.rcpt(rcpt, timeout=timeout)
                except SMTPRecipientRefused as exc:
                    refused.append(exc)
            if len(refused) == len(rcpts):
                raise SMTPRecipientsRefused(refused)
            response = await self._canonical_data(message, timeout)
        except (SMTPResponseException, SMTPRecipientsRefused):
            with contextlib.suppress(ConnectionError, SMTPResponseException):  # the first failure is the one to report
                await self.rset(timeout=timeout)
            raise
        return {exc.recipient: SMTPResponse(exc.code, exc.message) for exc in refused}, response.message

    async def data(self, message: str | bytes, /, *, timeout: Timeout = Default.token) -> SMTPResponse:
        if isinstance(message, str) or self.protocol is None or not canonical(message):
            return await super().data(message, timeout=timeout)
        return await self._canonical_data(message, timeout)

    async def _canonical_data(self, message: bytes, timeout: Timeout) -> SMTPResponse:
        wait = self.timeout if timeout is Default.token else timeout
        start = await self.execute_command(b"DATA", timeout=wait)
        if start.code != SMTPStatus.start_input:
            raise SMTPDataError(start.code, start.message)
        try:
            if self.protocol is None:
                raise SMTPServerDisconnected("Connection lost")
            self.protocol.write(dot_stuffed(message))
            response = await self.protocol.read_response(timeout=wait)
        except (SMTPServerDisconnected, SMTPTimeoutError):
            self.close()
            raise
        if response.code != SMTPStatus.completed:
            raise SMTPDataError(response.code, response.message)
        return response
