"""PDF inspection in warm worker processes: the isolation of ``inspect_pdf_isolated`` without a process per PDF.

Forking a worker for each PDF, handing it the bytes and reaping it costs tens of milliseconds of CPU, more than the
inspection itself, and a document is inspected once at the sending gateway and once at the receiving one. Here a
few workers stay up (pebble's process pool). Each has its address space capped when it starts, each call has a hard
timeout after which pebble kills that worker and starts another, and a worker is replaced after ``max_tasks``
inspections so nothing one PDF left behind lives long. A PDF that kills its worker (memory, a crash in a C
extension) is refused as too complex, exactly as with a fresh process; a pool that cannot start a worker is a
temporary failure, never a refusal.
"""

from __future__ import annotations

import multiprocessing
import resource
import threading
from concurrent.futures import TimeoutError as FutureTimeout
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from pebble import ProcessExpired, ProcessPool

from gateway.envelope.errors import EnvelopeError, PdfInspectionUnavailable
from gateway.envelope.pdf import PdfInfo, PdfLimits, inspect_pdf_isolated, inspection_outcome, precheck, too_complex


def _limit_memory(max_bytes: int) -> None:
    resource.setrlimit(resource.RLIMIT_AS, (max_bytes, max_bytes))


class PdfInspectionPool:
    """A ``PdfInspector``: call it with the PDF's bytes from any thread; ``close()`` stops the workers."""

    def __init__(self, limits: PdfLimits | None = None, workers: int = 2, max_tasks: int = 500) -> None:
        self.limits = limits or PdfLimits()
        self._workers = workers
        self._max_tasks = max_tasks
        self._pool: ProcessPool | None = None
        self._lock = threading.Lock()

    def _running(self) -> ProcessPool:
        with self._lock:
            if self._pool is None or not self._pool.active:
                context = multiprocessing.get_context("forkserver")
                context.set_forkserver_preload(["gateway.envelope.pdf_pool"])
                self._pool = ProcessPool(
                    max_workers=self._workers,
                    max_tasks=self._max_tasks,
                    initializer=_limit_memory,
                    initargs=(self.limits.max_memory_bytes,),
                    context=context,
                )
            return self._pool

    def __call__(self, data: bytes, limits: PdfLimits | None = None) -> PdfInfo:
        limits = limits or self.limits
        if limits.max_memory_bytes != self.limits.max_memory_bytes:
            return inspect_pdf_isolated(data, limits)  # the workers' memory cap is set once, when each starts
        precheck(data, limits)
        try:
            kind, payload = self._run(data, limits)
        except BrokenProcessPool:
            # Idle workers died (killed from outside, the machine out of memory): not this PDF's doing. Start over once.
            self.close()
            try:
                kind, payload = self._run(data, limits)
            except BrokenProcessPool as exc:
                self.close()
                raise PdfInspectionUnavailable(exc) from exc
        if kind == "ok":
            assert isinstance(payload, PdfInfo)
            return payload
        raise EnvelopeError(payload)

    def _run(self, data: bytes, limits: PdfLimits) -> tuple[str, Any]:
        try:
            future = self._running().schedule(inspection_outcome, args=(data, limits), timeout=limits.timeout_seconds)
        except OSError as exc:  # no process could start
            raise PdfInspectionUnavailable(exc) from exc
        try:
            result: tuple[str, Any] = future.result()
        except FutureTimeout:
            raise too_complex(f"inspection took longer than {limits.timeout_seconds:g} s") from None
        except ProcessExpired:
            raise too_complex("the inspection worker died (memory or crash)") from None
        except MemoryError:
            raise too_complex("memory limit reached") from None
        except OSError as exc:  # the worker could not be started or reached
            raise PdfInspectionUnavailable(exc) from exc
        return result

    def close(self) -> None:
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.stop()  # type: ignore[no-untyped-call]
            pool.join(timeout=10)
