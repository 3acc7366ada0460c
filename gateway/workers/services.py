"""Everything the workers need, assembled once from a home (or by tests from their own parts)."""

from __future__ import annotations

import hashlib
import ssl
import threading
from collections import OrderedDict
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from cryptography import x509
from sqlalchemy.orm import Session, sessionmaker

from certs import context, dkim
from certs.verify import Verifier
from gateway.blobs import BlobStore
from gateway.calendar import Calendar
from gateway.envelope.pdf import PdfInfo, PdfLimits, inspect_pdf_isolated
from gateway.envelope.pdf_pool import PdfInspectionPool
from gateway.envelope.registry_directory import RegistryDirectory
from gateway.envelope.rules.base import PdfInspector
from gateway.errors import ConfigError
from gateway.home import Home
from gateway.queue import RetryPolicy
from gateway.smtp.tls import client_context, gateway_certificate
from gateway.workers.relay_connections import RelayConnections
from gateway.workers.routes import Routes
from gateway.workers.signers import Signers
from mailbox_adapter.maildir import MaildirDelivery
from registry import db


def _now() -> datetime:
    return datetime.now(UTC)


class CachedInspector:
    """Remembers what a PDF inspection found, by the PDF's SHA-256.

    Inspecting untrusted PDFs happens in a separate worker process (memory cap, hard timeout), which costs tens of
    milliseconds per call; the same PDF is looked at again when a document accepted here is delivered to a records
    office hosted here. Only successful inspections are kept: a refusal is always recomputed.
    """

    def __init__(self, inner: PdfInspector, size: int = 256) -> None:
        self._inner = inner
        self._size = size
        self._seen: OrderedDict[tuple[str, PdfLimits | None], PdfInfo] = OrderedDict()
        self._lock = threading.Lock()

    def __call__(self, data: bytes, limits: PdfLimits | None) -> PdfInfo:
        key = (hashlib.sha256(data).hexdigest(), limits)
        with self._lock:
            if key in self._seen:
                self._seen.move_to_end(key)
                return self._seen[key]
        info = self._inner(data, limits)
        with self._lock:
            self._seen[key] = info
            while len(self._seen) > self._size:
                self._seen.popitem(last=False)
        return info

    def close(self) -> None:
        close = getattr(self._inner, "close", None)
        if close is not None:
            close()


@dataclass(frozen=True)
class Services:
    sessions: sessionmaker[Session]
    blobs: BlobStore
    calendar: Calendar
    directory: RegistryDirectory  # by OrganId (validation) and by mailbox (receipts)
    gateway_name: str
    domain: str
    dkim_keys: Sequence[dkim.DkimKey]
    chain: tuple[x509.Certificate, ...]
    verifier: Verifier
    mailboxes: MaildirDelivery
    signers: Signers  # agency signers from the home's keys folder, remembered (docs/workers.md "Remembered answers")
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    lease: timedelta = timedelta(minutes=5)
    client_tls: ssl.SSLContext | None = None
    operator: str = ""  # OrganId whose certificate signs the gateway's notices
    warning_office_hours: float = 4.0
    non_delivery_office_hours: float = 16.0  # for relaying to peer gateways; None when we hold no TLS certificate
    convert_legacy: Collection[str] = ()
    inspector: PdfInspector = inspect_pdf_isolated
    relay_connections: RelayConnections = field(default_factory=RelayConnections)
    clock: Callable[[], datetime] = field(default=_now)
    # Remembered registry answers (docs/workers.md "Remembered answers"); nothing by default.
    routes: Routes = field(default_factory=Routes)

    @classmethod
    def from_home(cls, home: Home) -> Services:
        sessions = db.open_registry(home.database_url, echo=home.settings.database.echo)
        remember = home.settings.gateway.registry_cache_seconds
        return cls(
            sessions=sessions,
            blobs=BlobStore(home.blobs_dir),
            calendar=Calendar.for_home(home),
            directory=RegistryDirectory(sessions, ttl_seconds=remember),
            gateway_name=home.settings.gateway.name,
            domain=home.settings.gateway.domain,
            dkim_keys=context.dkim_signing_keys(home),
            chain=context.chain(home),
            verifier=context.verifier(home),
            mailboxes=MaildirDelivery(home.mailboxes_dir),
            retry=RetryPolicy(
                base=timedelta(seconds=home.settings.queue.retry_base_seconds),
                cap=timedelta(seconds=home.settings.queue.retry_cap_seconds),
                max_attempts=home.settings.queue.max_attempts,
            ),
            lease=timedelta(seconds=home.settings.queue.lease_seconds),
            client_tls=_client_tls(home, sessions),
            operator=home.settings.notices.operator,
            warning_office_hours=home.settings.notices.warning_office_hours,
            non_delivery_office_hours=home.settings.notices.non_delivery_office_hours,
            convert_legacy=home.settings.envelope.convert_legacy,
            inspector=CachedInspector(
                PdfInspectionPool(
                    workers=home.settings.envelope.pdf_workers, max_tasks=home.settings.envelope.pdf_worker_tasks
                )
            ),
            routes=Routes(ttl_seconds=remember),
            signers=Signers(home.keys_dir, ttl_seconds=remember),
        )

    def close(self) -> None:
        """Stop what runs beside the workers: the PDF inspection processes and the kept relay sessions."""
        close = getattr(self.inspector, "close", None)
        if close is not None:
            close()
        self.relay_connections.close()


def _client_tls(home: Home, sessions: sessionmaker[Session]) -> ssl.SSLContext | None:
    try:
        return client_context(home, gateway_certificate(home, sessions))
    except ConfigError:
        return None  # the relay worker says what is missing when it first needs it
