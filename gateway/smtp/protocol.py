"""aiosmtpd's SMTP protocol with the hardening aiosmtpd leaves to its users.

- bare CR / LF anywhere (commands or data) is answered with a 5.6.11 error and the connection is closed;
- a cap on simultaneous connections per server answers 421 beyond it;
- credentials are checked off the event loop (argon2id costs tens of milliseconds of CPU by design, and aiosmtpd
  calls its authenticator synchronously);
- exceptions never leak their text to the client (``handle_exception`` answers a temporary 451);
- DATA is read in bulk (gateway/smtp/data.py) instead of line by line, with the same outcomes.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Callable
from typing import Any, cast

from aiosmtpd.smtp import MISSING, SMTP, AuthResult, LoginPassword

from gateway.reasons import reason
from gateway.smtp.data import DataOutcome, read_data
from gateway.smtp.guard import LineEndingGuard
from gateway.smtp.mail_args import simple_path

log = logging.getLogger(__name__)
#: aiosmtpd log lines that say nothing here: it sets the deprecated Session.login_data on every AUTH and then warns
#: about it, and it warns on every connection when the TLS context requires a client certificate — which the relay
#: listener does on purpose (mutual TLS between gateways), so that warning would flood the log.
_NOISE = ("login_data is deprecated", "tls_context.verify_mode not in")
logging.getLogger("mail.log").addFilter(lambda record: not any(n in record.getMessage() for n in _NOISE))

#: Checks a login and password, returning the principal (whatever the caller's registry uses) or None.
CredentialCheck = Callable[[str, str], Any | None]


class ConnectionCounter:
    """Shared by every protocol instance of one listening socket: the cap, and the live sessions for shutdown."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.active = 0
        self.sessions: set[HardenedSMTP] = set()

    def close_idle(self) -> int:
        """End every session not inside a mail transaction (421, RFC 5321 3.8); those in one may finish it.

        A peer gateway keeps its relay session open between messages: without this, stopping would wait out the
        grace period for sessions that have nothing left to say."""
        closed = 0
        for session in list(self.sessions):
            if session.in_transaction:
                continue
            transport = cast("asyncio.Transport | None", session.transport)
            if transport is not None and not transport.is_closing():
                transport.write(b"421 4.3.2 Service shutting down\r\n")
                transport.close()
                closed += 1
        return closed

    def close_all(self) -> int:
        """End every session, transaction or not, once the shutdown grace period is over.

        A client stalled inside a transaction (MAIL sent, DATA never finished) must not hold the gateway: its
        message was never answered 250, so nothing accepted is lost, and it will retry elsewhere or later. The
        transport is aborted rather than closed, because a client that does not read could hold a close() forever
        on its unsent buffer."""
        ended = 0
        for session in list(self.sessions):
            transport = cast("asyncio.Transport | None", session.transport)
            if transport is not None:
                transport.abort()
                ended += 1
        return ended


def _library_replies() -> dict[str, str]:
    too_big = reason("MESSAGE_TOO_BIG").smtp_reply()
    return {
        "530 Must issue a STARTTLS command first": "530 5.7.0 Must issue a STARTTLS command first",
        "552 Error: message size exceeds fixed maximum message size": too_big,
        "552 Error: Too much mail data": too_big,
        "500 Command line too long": "500 5.5.2 Command line too long",
        "500 Line too long (see RFC5321 4.5.3.1.6)": "500 5.6.0 Line too long (see RFC 5321 4.5.3.1.6)",
    }


#: aiosmtpd's own replies that lack an enhanced status code, rewritten so every refusal carries one.
LIBRARY_REPLIES = _library_replies()

#: For any other refusal of aiosmtpd's without one (command unknown, bad sequence, syntax), RFC 3463's code for
#: the reply code's meaning in RFC 5321; otherwise the class alone (X.0.0).
_ENHANCED_BY_CODE = {"500": "5.5.2", "501": "5.5.4", "502": "5.5.1", "503": "5.5.1", "504": "5.5.4", "554": "5.0.0"}
_HAS_ENHANCED = re.compile(r"[245]\.\d{1,3}\.\d{1,3}(?: |$)")


def with_enhanced_code(reply: str) -> str:
    """A 4xx/5xx reply line as sent, with an enhanced status code when it has none."""
    mapped = LIBRARY_REPLIES.get(reply)
    if mapped is not None:
        return mapped
    code, separator, text = reply[:3], reply[3:4], reply[4:]
    if not (code.isdigit() and code[0] in "45" and separator in (" ", "-")) or _HAS_ENHANCED.match(text):
        return reply
    enhanced = _ENHANCED_BY_CODE.get(code, f"{code[0]}.0.0")
    return f"{code}{separator}{enhanced} {text}" if text else f"{code}{separator}{enhanced}"


class HardenedSMTP(SMTP):
    def __init__(
        self,
        handler: Any,
        *,
        counter: ConnectionCounter,
        check_credentials: CredentialCheck | None = None,
        max_errors: int = 20,
        **kwargs: Any,
    ) -> None:
        super().__init__(handler, **kwargs)
        self._guard = LineEndingGuard()
        self._counter = counter
        self._counted = False
        self._check_credentials = check_credentials
        self._errors = 0
        self._max_errors = max_errors

    # -- connection cap ------------------------------------------------------------------------------------------
    def connection_made(self, transport: Any) -> None:
        first = self.transport is None
        super().connection_made(transport)
        if not first:
            return  # the STARTTLS upgrade calls this again for the same connection
        if self._counter.active >= self._counter.limit:
            transport.write(b"421 4.7.0 Too many connections, try again later\r\n")
            transport.close()
            return
        self._counter.active += 1
        self._counter.sessions.add(self)
        self._counted = True

    def connection_lost(self, error: Exception | None) -> None:
        if self._counted:
            self._counter.active -= 1
            self._counter.sessions.discard(self)
            self._counted = False
        super().connection_lost(error)

    @property
    def in_transaction(self) -> bool:
        """Between MAIL FROM and the end of DATA: what a shutdown lets finish."""
        return self.envelope is not None and self.envelope.mail_from is not None

    # -- paths in MAIL and RCPT ---------------------------------------------------------------------------------
    def _getaddr(self, arg: str) -> tuple[str | None, str | None]:
        simple = simple_path(arg)
        if simple is None:
            return super()._getaddr(arg)
        address, rest = simple
        if self.local_part_limit and len(address.rpartition("@")[0]) > self.local_part_limit:
            return None, None
        return address, rest

    # -- bare CR / LF --------------------------------------------------------------------------------------------
    def data_received(self, data: bytes) -> None:
        if self._guard.feed(data):
            transport = cast("asyncio.Transport | None", self.transport)
            if transport is not None and not transport.is_closing():
                transport.write(reason("BARE_LINE_ENDING").smtp_reply().encode("ascii") + b"\r\n")
                transport.close()
            return
        super().data_received(data)

    # -- credentials off the event loop --------------------------------------------------------------------------
    def _authenticate(self, mechanism: str, auth_data: Any) -> AuthResult:
        if self._check_credentials is None:
            return AuthResult(success=False, handled=False)
        # Deferred: the async auth_* wrappers below run the check in a thread.
        return AuthResult(success=False, handled=False, auth_data=_Deferred(auth_data))

    async def _finish(self, result: AuthResult) -> AuthResult:
        pending = result.auth_data
        if not isinstance(pending, _Deferred) or self._check_credentials is None:
            return result
        credentials: LoginPassword = pending.credentials
        try:
            login = credentials.login.decode("utf-8")
            password = credentials.password.decode("utf-8")
        except UnicodeDecodeError:
            return AuthResult(success=False, handled=False, message=reason("AUTH_FAILED").smtp_reply())
        principal = await asyncio.to_thread(self._check_credentials, login, password)
        if principal is None:
            return AuthResult(success=False, handled=False, message=reason("AUTH_FAILED").smtp_reply())
        return AuthResult(success=True, auth_data=principal)

    async def auth_PLAIN(self, _: Any, args: list[str]) -> AuthResult:
        return await self._finish(await super().auth_PLAIN(_, args))

    async def auth_LOGIN(self, _: Any, args: list[str]) -> AuthResult:
        return await self._finish(await super().auth_LOGIN(_, args))

    async def push(self, status: Any) -> None:
        if isinstance(status, str):
            status = with_enhanced_code(status)
            if status[:1] in ("4", "5") and not status.startswith("421"):
                self._errors += 1
        await super().push(status)
        if self._errors >= self._max_errors:
            # As an MTA's hard error limit: a client that keeps getting refusals (guessing passwords, probing
            # mailboxes, a broken agency system in a loop) is told to go away rather than served forever.
            self._errors = -1_000_000  # once: the 421 below is the session's last reply
            await super().push("421 4.7.0 Too many errors in this session, closing the connection")
            transport = cast("asyncio.Transport | None", self.transport)
            if transport is not None and not transport.is_closing():
                transport.close()

    # -- DATA in bulk --------------------------------------------------------------------------------------------
    async def smtp_DATA(self, arg: str) -> None:
        if self._decode_data:
            await super().smtp_DATA(arg)  # text mode is aiosmtpd's; the gateway always takes bytes
            return
        if await self.check_helo_needed() or await self.check_auth_needed("DATA"):
            return
        assert self.envelope is not None
        if not self.envelope.rcpt_tos:
            await self.push("503 5.5.1 Error: need RCPT command")
            return
        if arg:
            await self.push("501 5.5.4 Syntax: DATA")
            return
        await self.push("354 End data with <CR><LF>.<CR><LF>")
        data = await read_data(self._reader, self.data_size_limit)
        if data.outcome is DataOutcome.CLOSED:
            return
        if data.outcome is not DataOutcome.OK:
            self._set_post_data_state()  # type: ignore[no-untyped-call]
            await self.push(
                "500 5.6.0 Line too long (see RFC 5321 4.5.3.1.6)"
                if data.outcome is DataOutcome.TOO_LONG
                else reason("MESSAGE_TOO_BIG").smtp_reply()
            )
            return
        self.envelope.content = self.envelope.original_content = data.content
        status = await self._call_handler_hook("DATA") if "DATA" in self._handle_hooks else MISSING
        self._set_post_data_state()  # type: ignore[no-untyped-call]
        await self.push("250 2.0.0 OK" if status is MISSING else status)

    # -- no leaks ------------------------------------------------------------------------------------------------
    async def handle_exception(self, error: Exception) -> str:
        log.exception("SMTP session error from %r", getattr(self.session, "peer", None), exc_info=error)
        return reason("TEMP_DATABASE").smtp_reply()


class _Deferred:
    __slots__ = ("credentials",)

    def __init__(self, credentials: LoginPassword) -> None:
        self.credentials = credentials
