"""The active S/MIME signer of each agency, remembered between documents.

``certs.lifecycle.active_signer`` queries the certificate record and reads and parses the certificate, its chain and
the private key from keys/ (1-2 ms of CPU) — for every document processed, every receipt and every notice. A
``Signers`` keeps each agency's answer ``[gateway] registry_cache_seconds`` (``TtlCache``; 0 keeps nothing): a
rollover (``cert activate``) or a revocation done meanwhile, from the CLI in another process, is honoured by every
running worker within that time; until then the previous certificate still signs, as it would have for a document
processed a moment earlier. "No active certificate" is never remembered: the item is retried and asks again.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from cryptography import x509
from sqlalchemy.orm import Session

from certs.lifecycle import Signer, active_signer
from gateway.ttl_cache import TtlCache


class Signers:
    """One per ``Services`` (one trust chain), shared by the worker threads."""

    def __init__(
        self, keys_dir: Path, ttl_seconds: float = 0.0, size: int = 256, clock: Callable[[], float] | None = None
    ) -> None:
        self._keys_dir = keys_dir
        self._cache: TtlCache[str, Signer] = (
            TtlCache(ttl_seconds, size) if clock is None else TtlCache(ttl_seconds, size, clock)
        )

    def active(self, session: Session, organ_id: str, chain: tuple[x509.Certificate, ...]) -> Signer:
        return self._cache.get(organ_id, lambda: _load(session, self._keys_dir, organ_id, chain))


def _load(session: Session, keys_dir: Path, organ_id: str, chain: tuple[x509.Certificate, ...]) -> Signer:
    signer = active_signer(session, keys_dir, organ_id, chain)
    # Detached with its columns loaded: the caller's commit would otherwise expire the record the cache still holds.
    session.expunge(signer.record)
    return signer
