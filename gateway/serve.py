"""Wires the running gateway together: registry, calendar, blob store, intake and the SMTP listeners.

What runs today: submission (STARTTLS and implicit TLS) with AUTH against the registry, the intake that makes a 250
durable, and the workers (processing, delivery to records offices hosted here, receipts). The relay listener and
client for peer gateways join here as issue 5 lands them. SIGTERM or SIGINT stops accepting, lets sessions in DATA
finish (bounded), lets each worker finish its item, and exits 0.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import ssl
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from certs.ca import TrustFiles
from certs.store import CertificateRecord, CertKind, CertStatus
from gateway.errors import ConfigError
from gateway.home import Home
from gateway.intake import SubmissionIntake
from gateway.smtp.handler import Principal, SubmissionHandler, SubmissionLimits
from gateway.smtp.protocol import CredentialCheck
from gateway.smtp.server import ListenerOptions, start_submission
from gateway.workers.runner import run_workers
from gateway.workers.services import Services
from registry import accounts

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Running:
    servers: tuple[asyncio.Server, ...]
    addresses: tuple[tuple[str, int], ...]


def tls_context(home: Home, sessions: sessionmaker[Session]) -> ssl.SSLContext:
    """The server TLS context: explicit PEM files, or the active TLS certificate issued for the host."""
    smtp = home.settings.smtp
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    if smtp.tls_cert:
        cert, key = home.path(smtp.tls_cert), home.path(smtp.tls_key)
    else:
        host = smtp.tls_host or smtp.hostname or home.settings.gateway.domain
        with sessions() as session:
            # The newest valid certificate for the host: renewing one and restarting switches over.
            record = session.scalar(
                select(CertificateRecord)
                .where(
                    CertificateRecord.kind == CertKind.TLS.value,
                    CertificateRecord.host == host,
                    CertificateRecord.status == CertStatus.VALID.value,
                    CertificateRecord.not_after > datetime.now(UTC),
                )
                .order_by(CertificateRecord.not_before.desc())
                .limit(1)
            )
        if record is None or not record.cert_path or not record.key_path:
            raise ConfigError(
                f"no valid TLS certificate for host {host!r}: run 'lienthong ca init' and "
                f"'lienthong cert issue tls --host {host}', or set [smtp] tls_cert and tls_key"
            )
        cert, key = _served_chain(home, Path(record.cert_path)), Path(record.key_path)
    try:
        context.load_cert_chain(cert, key)
    except (OSError, ssl.SSLError) as exc:
        raise ConfigError(f"cannot load the TLS certificate {cert} with key {key}: {exc}") from None
    return context


def _served_chain(home: Home, cert: Path) -> Path:
    """Certificate followed by our issuing CA, so that clients trusting only the root can build the path."""
    issuing = TrustFiles(home.keys_dir).issuing_cert
    if not issuing.exists():
        return cert
    chain = home.keys_dir / "tls-served-chain.pem"
    chain.write_bytes(cert.read_bytes() + issuing.read_bytes())
    return chain


def credential_check(sessions: sessionmaker[Session]) -> CredentialCheck:
    def check(login: str, password: str) -> Principal | None:
        with sessions() as session:
            account = accounts.authenticate(session, login, password)
            if account is None or not accounts.may(account, accounts.Permission.SUBMIT_DOCUMENTS):
                return None
            return Principal(account.login, account.login, account.organ_id, account.role)

    return check


async def start(home: Home, services: Services) -> Running:
    """Open the listeners the configuration asks for; the caller closes the returned servers."""
    settings = home.settings
    sessions = services.sessions
    intake = SubmissionIntake(sessions, services.blobs, services.calendar)
    smtp = settings.smtp
    handler = SubmissionHandler(intake, SubmissionLimits(smtp.max_message_bytes, smtp.max_recipients))
    context = tls_context(home, sessions)
    check = credential_check(sessions)
    servers: list[asyncio.Server] = []
    hostname = smtp.hostname or settings.gateway.domain
    for port, implicit in ((smtp.submission_port, False), (smtp.submission_tls_port, True)):
        if port == 0:
            continue
        options = ListenerOptions(smtp.listen, port, implicit, hostname, smtp.max_connections, smtp.timeout_seconds)
        try:
            servers.append(await start_submission(handler, context, check, options))
        except Exception:
            for server in servers:
                server.close()
            raise
    addresses = tuple(s.sockets[0].getsockname()[:2] for s in servers)
    return Running(tuple(servers), addresses)


async def serve(home: Home, ready: asyncio.Event | None = None) -> None:
    """Run until SIGTERM or SIGINT."""
    services = Services.from_home(home)
    running = await start(home, services)
    for host, port in running.addresses:
        log.info("listening on %s:%s", host, port)
        print(f"lienthong: submission listening on {host}:{port}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    workers = asyncio.create_task(run_workers(services, stop))
    if ready is not None:
        ready.set()
    await stop.wait()
    print("lienthong: stopping", flush=True)
    for server in running.servers:
        server.close()
    await asyncio.gather(*(s.wait_closed() for s in running.servers))
    await workers  # each worker loop finishes the item it holds, then stops
    pending = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
    if pending:
        # Sessions still open get a bounded grace period to finish a DATA transaction, then are cancelled.
        _, still = await asyncio.wait(pending, timeout=10)
        for task in still:
            task.cancel()
