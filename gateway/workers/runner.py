"""Run the workers inside the gateway process: one loop per task kind, each step in a thread.

The steps are synchronous (database, files, signatures, the PDF worker process), so each runs in a thread and the
event loop stays free for SMTP sessions. A loop that finds nothing to do waits a little; on shutdown each loop
finishes the item it holds and stops. Several gateway processes on one database can run these loops side by side:
claims are exclusive and leases expire.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
from collections.abc import Callable

from gateway import queue
from gateway.workers.deliver import arrive_one, deliver_one
from gateway.workers.notice_watch import watch_once
from gateway.workers.notices import notice_one
from gateway.workers.process import process_one
from gateway.workers.receipt import receipt_one
from gateway.workers.relay import relay_one
from gateway.workers.services import Services

log = logging.getLogger(__name__)

Step = Callable[[Services, str], bool]
STEPS: tuple[tuple[str, Step], ...] = (
    ("process", process_one),
    ("deliver", deliver_one),
    ("arrive", arrive_one),
    ("relay", relay_one),
    ("receipt", receipt_one),
    ("notice", notice_one),
)
WATCH_INTERVAL_SECONDS = 60.0


def run_step(services: Services, step: Step, worker: str) -> bool:
    """One step, with an ``OSError`` (disk full, permissions, I/O) taken as a failed attempt of the item it held.

    Such an error is ours and usually passes (the disk is freed, the mount comes back), so the item is retried with
    back-off and, like any failure of ours, given up after ``max_attempts`` — with the error in ``queue list`` for
    the operator. Left to the loop, it would keep the item claimed with no error shown, taken again at every lease.
    The steps commit their claim before the work that touches files, so the item is still held by ``worker``.
    """
    try:
        return step(services, worker)
    except OSError as exc:
        error = f"{type(exc).__name__}: {exc}"
        now = services.clock()
        with services.sessions.begin() as session:
            held = queue.held(session, worker)
            for item_id in held:
                queue.fail(session, item_id, worker, error, now, services.retry)
        log.error("%s: %s (queue items %s)", worker, error, held or "none")
        return bool(held)


async def run_workers(services: Services, stop: asyncio.Event, idle_seconds: float = 0.5) -> None:
    identity = f"{socket.gethostname()}:{os.getpid()}"

    async def loop(kind: str, step: Step) -> None:
        name = f"{identity}:{kind}"
        while not stop.is_set():
            try:
                worked = await asyncio.to_thread(run_step, services, step, name)
            except Exception:  # a bug in one item must not stop the gateway; the item's lease expires and it returns
                log.exception("%s worker failed", kind)
                worked = False
            if not worked:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), idle_seconds)

    async def watch() -> None:
        while not stop.is_set():
            try:
                await asyncio.to_thread(watch_once, services)
            except Exception:
                log.exception("notice watch failed")
            # At least ten looks per warning period, so that a short [notices] warning_office_hours is honoured.
            interval = min(WATCH_INTERVAL_SECONDS, max(1.0, services.warning_office_hours * 360))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), interval)

    await asyncio.gather(watch(), *(loop(kind, step) for kind, step in STEPS))
