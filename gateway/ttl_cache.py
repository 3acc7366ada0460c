"""A small bounded map whose answers expire: what the worker steps and the relay listener remember between items.

Every worker step asks the same few questions per document (the agency's signer, where a recipient is hosted), and
the relay listener per message (which peer a certificate names, whether a mailbox is hosted here, a peer's DKIM key);
asking the database each time costs more CPU than the step's own work. An answer is kept ``ttl_seconds`` (the
gateway's ``[gateway] registry_cache_seconds``), so a change in the registry or a certificate rollover reaches a
running gateway within that time; ``ttl_seconds = 0`` keeps nothing. Failures are never remembered: the caller's
loader raises and the next call asks again.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class TtlCache(Generic[K, V]):
    """Thread-safe (steps run in threads), at most ``size`` entries (the oldest-used go first)."""

    def __init__(self, ttl_seconds: float, size: int = 1024, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl_seconds = ttl_seconds
        self._size = size
        self._clock = clock
        self._seen: OrderedDict[K, tuple[float, V]] = OrderedDict()
        self._lock = threading.Lock()

    def peek(self, key: K) -> V | None:
        """The remembered answer while fresh, else None: for an event loop, which must not block to load."""
        if self.ttl_seconds <= 0:
            return None
        with self._lock:
            hit = self._seen.get(key)
            if hit is not None and hit[0] > self._clock():
                self._seen.move_to_end(key)
                return hit[1]
        return None

    def get(self, key: K, load: Callable[[], V], keep: Callable[[V], bool] | None = None) -> V:
        """The remembered answer for ``key`` while fresh, else ``load()`` (outside the lock: it may be slow).

        ``keep`` says which answers may be remembered at all: "no such agency" is not, for instance, so that an agency
        added a moment ago is not refused for the whole TTL."""
        if self.ttl_seconds <= 0:
            return load()
        now = self._clock()
        with self._lock:
            hit = self._seen.get(key)
            if hit is not None and hit[0] > now:
                self._seen.move_to_end(key)
                return hit[1]
        value = load()
        if keep is not None and not keep(value):
            return value
        with self._lock:
            self._seen[key] = (now + self.ttl_seconds, value)
            self._seen.move_to_end(key)
            while len(self._seen) > self._size:
                self._seen.popitem(last=False)
        return value
