"""Worker processes beside the listener process, so that signing and validating never delay an SMTP answer.

In one process the worker threads and the SMTP sessions share one interpreter lock: a session waiting to answer 250
queues behind whatever thread is signing or parsing, and a gateway can use only one core for Python code. Here
``lienthong serve`` keeps the listeners and the intake (accept, persist, acknowledge) and starts
``[queue] worker_processes`` processes that run the worker loops of ``runner.py``; the queue's claims and leases
already make several workers on one database safe. The parent restarts a worker process that dies, and stops them
all on SIGTERM (each finishes the item it holds). A worker process whose parent vanished (SIGKILL, out of memory)
exits at once, as if killed with it: the leases of what it held bring those items back to the next run.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import multiprocessing
import os
import signal
from multiprocessing.process import BaseProcess
from pathlib import Path

from gateway.home import Home
from gateway.workers.runner import run_workers
from gateway.workers.services import Services

log = logging.getLogger(__name__)

ORPHAN_CHECK_SECONDS = 0.2
RESTART_DELAY_SECONDS = 1.0


def _main(root: str, log_level: int, parent: int) -> None:
    """Entry point of a worker process (spawned: nothing of the parent's loop, threads or sockets comes along)."""
    logging.basicConfig(level=log_level, format="%(asctime)s %(name)s [worker] %(message)s")
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the whole group: the parent decides, then SIGTERMs
    asyncio.run(_work(Home(Path(root)), parent))


async def _work(home: Home, parent: int) -> None:
    """``parent`` comes from the parent itself: it may already be gone by the time this process starts."""
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    if os.getppid() != parent:
        os._exit(70)
    services = Services.from_home(home)

    async def orphan_watch() -> None:
        while not stop.is_set():
            if os.getppid() != parent:
                os._exit(70)  # the listener process is gone without a word: die with it (EX_SOFTWARE)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), ORPHAN_CHECK_SECONDS)

    try:
        await asyncio.gather(run_workers(services, stop), orphan_watch())
    finally:
        await asyncio.to_thread(services.close)


class WorkerProcesses:
    def __init__(self, home: Home, count: int, log_level: int = logging.WARNING) -> None:
        self.home = home
        self.count = count
        self.log_level = log_level
        self.restarts = 0
        self._context = multiprocessing.get_context("spawn")
        self._processes: list[BaseProcess] = []

    def _spawn(self) -> BaseProcess:
        process = self._context.Process(
            target=_main, args=(str(self.home.root), self.log_level, os.getpid()), name="lienthong-worker", daemon=False
        )
        process.start()
        return process

    def start(self) -> None:
        self._processes = [self._spawn() for _ in range(self.count)]

    @property
    def pids(self) -> list[int]:
        return [p.pid for p in self._processes if p.pid is not None]

    async def supervise(self, stop: asyncio.Event, grace_seconds: float = 60.0) -> None:
        """Keep ``count`` processes running until ``stop``; then SIGTERM them and wait (SIGKILL after the grace)."""
        while not stop.is_set():
            for index, process in enumerate(self._processes):
                if not process.is_alive():
                    log.error("worker process %s ended (exit code %s); starting another", process.pid, process.exitcode)
                    process.close()
                    self.restarts += 1
                    self._processes[index] = self._spawn()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), RESTART_DELAY_SECONDS)
        await asyncio.to_thread(self.stop, grace_seconds)

    def stop(self, grace_seconds: float = 60.0) -> None:
        for process in self._processes:
            if process.is_alive():
                process.terminate()
        for process in self._processes:
            process.join(grace_seconds)
            if process.is_alive():
                log.error("worker process %s did not stop within %s s; killing it", process.pid, grace_seconds)
                process.kill()
                process.join(5)
