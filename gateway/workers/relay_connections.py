"""Connections to peer gateways kept open between messages, as mail transfer agents cache theirs.

A new mutually authenticated TLS session per relayed message (a document out, its receipt back) costs both
gateways a handshake and a certificate-path check, several milliseconds of CPU each, for every document. Here a
connection that delivered a message successfully is kept for ``idle_seconds`` and used for the next message to the
same peer; a connection that failed in any way is closed, never reused. A kept connection the peer has meanwhile
closed is noticed on first use and replaced once by a fresh one. Everything runs on one private event loop thread;
the relay worker (synchronous, in its own thread) calls ``send``.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Awaitable, Callable, Hashable
from typing import TypeVar

import aiosmtplib

T = TypeVar("T")
Opener = Callable[[], Awaitable[aiosmtplib.SMTP]]
Use = Callable[[aiosmtplib.SMTP], Awaitable[T]]

#: What a kept connection the peer closed in the meantime looks like on first use.
_STALE = (aiosmtplib.SMTPServerDisconnected, ConnectionError, asyncio.IncompleteReadError)


class RelayConnections:
    def __init__(self, idle_seconds: float = 30.0) -> None:
        self.idle_seconds = idle_seconds
        self._idle: dict[Hashable, tuple[aiosmtplib.SMTP, asyncio.TimerHandle]] = {}
        self._closing: set[asyncio.Task[None]] = set()  # QUITs in flight (the loop holds tasks only weakly)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def _running_loop(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._loop is None:
                loop = asyncio.new_event_loop()
                thread = threading.Thread(target=loop.run_forever, name="relay-connections", daemon=True)
                thread.start()
                self._loop, self._thread = loop, thread
            return self._loop

    def send(self, key: Hashable, open_connection: Opener, use: Use[T], timeout: float = 300.0) -> T:
        """Run ``use`` on a connection to ``key`` (kept or opened with ``open_connection``); its errors propagate."""
        future = asyncio.run_coroutine_threadsafe(self._send(key, open_connection, use), self._running_loop())
        return future.result(timeout)

    async def _send(self, key: Hashable, open_connection: Opener, use: Use[T]) -> T:
        kept = self._take(key)
        if kept is not None:
            try:
                result = await use(kept)
            except _STALE:
                _close(kept)  # the peer dropped it while idle: one fresh connection, below
            except BaseException:
                _close(kept)
                raise
            else:
                self._keep(key, kept)
                return result
        client = await open_connection()
        try:
            result = await use(client)
        except BaseException:
            _close(client)
            raise
        self._keep(key, client)
        return result

    def _take(self, key: Hashable) -> aiosmtplib.SMTP | None:
        entry = self._idle.pop(key, None)
        if entry is None:
            return None
        client, timer = entry
        timer.cancel()
        return client if client.is_connected else None

    def _keep(self, key: Hashable, client: aiosmtplib.SMTP) -> None:
        if not client.is_connected:
            return
        previous = self._idle.pop(key, None)
        if previous is not None:  # two messages to one peer at once: keep one connection, end the other
            previous[1].cancel()
            self._quit_later(previous[0])
        timer = asyncio.get_running_loop().call_later(self.idle_seconds, self._expire, key, client)
        self._idle[key] = (client, timer)

    def _expire(self, key: Hashable, client: aiosmtplib.SMTP) -> None:
        entry = self._idle.get(key)
        if entry is not None and entry[0] is client:
            del self._idle[key]
            self._quit_later(client)

    def _quit_later(self, client: aiosmtplib.SMTP) -> None:
        task = asyncio.get_running_loop().create_task(_quit(client))
        self._closing.add(task)
        task.add_done_callback(self._closing.discard)

    def close(self) -> None:
        """Say QUIT on every kept connection and stop the loop thread."""
        with self._lock:
            loop, thread, self._loop, self._thread = self._loop, self._thread, None, None
        if loop is None or thread is None:
            return

        async def quit_all() -> None:
            entries, self._idle = list(self._idle.values()), {}
            for _, timer in entries:
                timer.cancel()
            await asyncio.gather(*(_quit(client) for client, _ in entries))

        with contextlib.suppress(Exception):
            asyncio.run_coroutine_threadsafe(quit_all(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()

    @property
    def kept(self) -> int:
        return len(self._idle)


async def _quit(client: aiosmtplib.SMTP) -> None:
    try:
        await asyncio.wait_for(client.quit(), 5)
    except (aiosmtplib.SMTPException, OSError, TimeoutError):
        _close(client)


def _close(client: aiosmtplib.SMTP) -> None:
    with contextlib.suppress(Exception):
        client.close()
