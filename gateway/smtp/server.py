"""Listening sockets for submission: STARTTLS on one port, implicit TLS on another; AUTH only under TLS.

Binding is explicit (host, port) so that tests and operators choose their own; a port already in use fails at
start-up with a message naming it.
"""

from __future__ import annotations

import asyncio
import ssl
import warnings
from dataclasses import dataclass

from gateway.errors import LienthongError
from gateway.smtp.handler import SubmissionHandler
from gateway.smtp.protocol import ConnectionCounter, CredentialCheck, HardenedSMTP
from gateway.smtp.relay import RelayHandler


@dataclass(frozen=True, slots=True)
class ListenerOptions:
    host: str
    port: int
    implicit_tls: bool = False
    hostname: str = "lienthong.localhost"
    max_connections: int = 100
    timeout_seconds: float = 300.0
    max_errors: int = 20  # refusals in one session before it is closed with 421


async def start_submission(
    handler: SubmissionHandler,
    tls: ssl.SSLContext,
    check_credentials: CredentialCheck,
    options: ListenerOptions,
    counter: ConnectionCounter | None = None,
) -> asyncio.Server:
    """Start one submission listener; the caller closes the returned server (and may end idle sessions through
    ``counter``)."""
    loop = asyncio.get_running_loop()
    counter = counter or ConnectionCounter(options.max_connections)

    def factory() -> HardenedSMTP:
        with warnings.catch_warnings():
            # aiosmtpd warns about AUTH without required TLS; on the implicit-TLS port the socket already is TLS.
            warnings.filterwarnings("ignore", message="Requiring AUTH while not requiring TLS")
            return _make()

    def _make() -> HardenedSMTP:
        return HardenedSMTP(
            handler,
            counter=counter,
            check_credentials=check_credentials,
            max_errors=options.max_errors,
            hostname=options.hostname,
            data_size_limit=handler.limits.max_message_bytes,
            # STARTTLS port: TLS before anything else; implicit-TLS port: the connection already is TLS, and
            # aiosmtpd would otherwise not advertise AUTH there.
            tls_context=None if options.implicit_tls else tls,
            require_starttls=not options.implicit_tls,
            auth_required=True,
            auth_require_tls=not options.implicit_tls,
            timeout=options.timeout_seconds,
            loop=loop,
        )

    try:
        return await loop.create_server(
            factory, options.host, options.port, ssl=tls if options.implicit_tls else None, reuse_address=True
        )
    except OSError as exc:
        raise LienthongError(f"cannot listen on {options.host}:{options.port}: {exc.strerror}") from None


async def start_relay(
    handler: RelayHandler, tls: ssl.SSLContext, options: ListenerOptions, counter: ConnectionCounter | None = None
) -> asyncio.Server:
    """The listener for peer gateways: STARTTLS before anything, a client certificate, no AUTH."""
    loop = asyncio.get_running_loop()
    counter = counter or ConnectionCounter(options.max_connections)

    def factory() -> HardenedSMTP:
        return HardenedSMTP(
            handler,
            counter=counter,
            max_errors=options.max_errors,
            hostname=options.hostname,
            data_size_limit=handler.max_message_bytes,
            tls_context=tls,
            require_starttls=True,
            auth_required=False,
            timeout=options.timeout_seconds,
            loop=loop,
        )

    try:
        return await loop.create_server(factory, options.host, options.port, reuse_address=True)
    except OSError as exc:
        raise LienthongError(f"cannot listen on {options.host}:{options.port}: {exc.strerror}") from None
