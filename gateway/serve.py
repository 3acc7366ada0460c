"""Wires the running gateway together: registry, calendar, blob store, intake and the SMTP listeners.

What runs: submission (STARTTLS and implicit TLS) with AUTH against the registry, the relay listener for peer
gateways, the intake that makes a 250 durable, and the workers — in ``[queue] worker_processes`` processes of their
own (gateway/workers/processes.py), or as threads of this process when that is 0. SIGTERM or SIGINT stops
accepting, lets sessions in DATA finish (bounded), lets each worker finish its item, and exits 0.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from dataclasses import dataclass

from sqlalchemy.orm import Session, sessionmaker

from gateway.home import Home
from gateway.intake import SubmissionIntake
from gateway.smtp.handler import Principal, SubmissionHandler, SubmissionLimits
from gateway.smtp.mailboxes import MailboxOwners, any_agency
from gateway.smtp.protocol import ConnectionCounter, CredentialCheck
from gateway.smtp.relay import RelayHandler
from gateway.smtp.server import ListenerOptions, start_relay, start_submission
from gateway.smtp.tls import gateway_certificate, server_context
from gateway.workers.processes import WorkerProcesses
from gateway.workers.runner import run_workers
from gateway.workers.services import Services
from registry import accounts

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Running:
    servers: tuple[asyncio.Server, ...]
    addresses: tuple[tuple[str, str, int], ...]  # (what, host, port)
    counters: tuple[ConnectionCounter, ...] = ()  # the live sessions of each listener


def credential_check(sessions: sessionmaker[Session]) -> CredentialCheck:
    def check(login: str, password: str) -> Principal | None:
        with sessions() as session:
            account = accounts.authenticate(session, login, password)
            if account is None or not accounts.may(account, accounts.Permission.SUBMIT_DOCUMENTS):
                return None
            # A clerk logs in as a records-office mailbox; an agency system acts for its agency's records office.
            mailbox = account.login
            if account.agency is not None and account.login not in {m.address for m in account.agency.mailboxes}:
                mailbox = account.agency.primary_mailbox or account.login
            return Principal(account.login, mailbox, account.organ_id, account.role)

    return check


async def start(home: Home, services: Services) -> Running:
    """Open the listeners the configuration asks for; the caller closes the returned servers."""
    settings = home.settings
    sessions = services.sessions
    intake = SubmissionIntake(sessions, services.blobs, services.calendar)
    smtp = settings.smtp
    limits = SubmissionLimits(smtp.max_message_bytes, smtp.max_recipients)
    known = MailboxOwners(sessions, any_agency, settings.gateway.registry_cache_seconds)
    handler = SubmissionHandler(intake, limits, known)
    certificate = gateway_certificate(home, sessions)
    context = server_context(home, certificate)
    check = credential_check(sessions)
    servers: list[asyncio.Server] = []
    counters: list[ConnectionCounter] = []
    kinds: list[str] = []
    hostname = smtp.hostname or settings.gateway.domain
    for port, implicit in ((smtp.submission_port, False), (smtp.submission_tls_port, True)):
        if port == 0:
            continue
        options = ListenerOptions(
            smtp.listen, port, implicit, hostname, smtp.max_connections, smtp.timeout_seconds, smtp.max_errors
        )
        try:
            counters.append(ConnectionCounter(options.max_connections))
            servers.append(await start_submission(handler, context, check, options, counters[-1]))
            kinds.append("submission (implicit TLS)" if implicit else "submission (STARTTLS)")
        except Exception:
            for server in servers:
                server.close()
            raise
    if smtp.relay_port:
        relay = RelayHandler(
            sessions,
            services.blobs,
            settings.gateway.name,
            smtp.max_recipients,
            smtp.max_message_bytes,
            ttl_seconds=settings.gateway.registry_cache_seconds,
        )
        options = ListenerOptions(
            smtp.listen, smtp.relay_port, False, hostname, smtp.max_connections, smtp.timeout_seconds, smtp.max_errors
        )
        try:
            counters.append(ConnectionCounter(options.max_connections))
            relay_tls = server_context(home, certificate, require_client=True)
            servers.append(await start_relay(relay, relay_tls, options, counters[-1]))
            kinds.append("relay")
        except Exception:
            for server in servers:
                server.close()
            raise
    addresses = tuple((kind, *s.sockets[0].getsockname()[:2]) for kind, s in zip(kinds, servers, strict=True))
    return Running(tuple(servers), addresses, tuple(counters))


async def serve(home: Home, ready: asyncio.Event | None = None) -> None:
    """Run until SIGTERM or SIGINT."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    # Handlers first: a supervisor may send SIGTERM as soon as it reads that we are listening.
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    services = Services.from_home(home)
    running = await start(home, services)
    for kind, host, port in running.addresses:
        log.info("%s listening on %s:%s", kind, host, port)
        print(f"lienthong: {kind} listening on {host}:{port}", flush=True)
    count = home.settings.queue.worker_processes
    if count:
        processes = WorkerProcesses(home, count, logging.getLogger().getEffectiveLevel())
        processes.start()
        workers = asyncio.create_task(processes.supervise(stop))
    else:
        workers = asyncio.create_task(run_workers(services, stop))
    if ready is not None:
        ready.set()
    await stop.wait()
    print("lienthong: stopping", flush=True)
    await stop_listening(running, home.settings.smtp.shutdown_grace_seconds)
    await workers  # each worker loop (or worker process) finishes the item it holds, then stops
    await asyncio.to_thread(services.close)
    pending = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
    if pending:
        _, still = await asyncio.wait(pending, timeout=_SETTLE_SECONDS)
        for task in still:
            task.cancel()


_POLL_SECONDS = 0.05
_SETTLE_SECONDS = 2.0  # for what the aborted sessions leave behind (handlers unwinding), after the grace period


async def stop_listening(running: Running, grace_seconds: float) -> None:
    """Stop accepting; end idle sessions now, sessions in a transaction when it ends or the grace period does.

    The grace period is ours, not the event loop's: since Python 3.12 ``Server.wait_closed()`` waits for every
    connection, so awaiting it first would let one stalled client hold shutdown for its whole SMTP timeout.
    Workers run meanwhile (the stop event is already set), finishing the items they hold.
    """
    loop = asyncio.get_running_loop()
    for server in running.servers:
        server.close()
    deadline = loop.time() + grace_seconds
    while True:
        for counter in running.counters:
            counter.close_idle()  # also a session whose transaction just ended with its 250
        if not any(counter.sessions for counter in running.counters) or loop.time() >= deadline:
            break
        await asyncio.sleep(_POLL_SECONDS)
    ended = sum(counter.close_all() for counter in running.counters)
    if ended:
        log.warning("shutdown: %d session(s) still in a transaction after %g s were cut off", ended, grace_seconds)
    waiting = asyncio.gather(*(server.wait_closed() for server in running.servers))
    try:
        await asyncio.wait_for(waiting, timeout=_SETTLE_SECONDS)
    except TimeoutError:
        log.warning("shutdown: listeners did not report closed within %g s", _SETTLE_SECONDS)
