"""Warm inspection workers give the fresh-process answers: same results, hard timeout, memory cap, recovery."""

from __future__ import annotations

import contextlib
import os
import resource
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest

from gateway.envelope.errors import EnvelopeError, PdfInspectionUnavailable
from gateway.envelope.pdf import PdfLimits, inspect_pdf
from gateway.envelope.pdf_pool import PdfInspectionPool
from tests import pdfs

REFUSED = pdfs.refused_pdfs()


@pytest.fixture
def pool() -> Iterator[PdfInspectionPool]:
    inspector = PdfInspectionPool(PdfLimits(max_memory_bytes=300 << 20), workers=2, max_tasks=5)
    try:
        yield inspector
    finally:
        inspector.close()


def _pids(pool: PdfInspectionPool) -> set[int]:
    running = pool._pool
    assert running is not None
    return {worker.pid for worker in running._pool_manager.worker_manager.workers.values()}  # pebble internals


def test_same_answers_as_in_process_and_workers_are_reused(pool: PdfInspectionPool) -> None:
    data = pdfs.make_decision_pdf()
    assert pool(data) == inspect_pdf(data)
    first = _pids(pool)
    assert pool(data) == inspect_pdf(data)
    assert _pids(pool) == first  # no new process for the second PDF


def test_workers_are_replaced_after_max_tasks(pool: PdfInspectionPool) -> None:
    data = pdfs.make_decision_pdf()
    pool(data)
    first = _pids(pool)
    for _ in range(12):  # 5 tasks per worker, 2 workers
        pool(data)
    assert _pids(pool) - first


@pytest.mark.parametrize(("data", "code"), list(REFUSED.values()), ids=list(REFUSED))
def test_errors_cross_the_process_boundary(pool: PdfInspectionPool, data: bytes, code: str) -> None:
    with pytest.raises(EnvelopeError) as caught:
        pool(data)
    assert caught.value.primary.code == code
    assert caught.value.primary.field == "pdf"


def test_timeout_kills_the_worker_and_the_pool_goes_on(pool: PdfInspectionPool) -> None:
    slow = PdfLimits(max_memory_bytes=300 << 20, timeout_seconds=0.001)
    with pytest.raises(EnvelopeError) as caught:
        pool(pdfs.make_many_pages_pdf(1500), slow)
    assert caught.value.primary.code == "PDF_TOO_COMPLEX"
    assert "longer than" in caught.value.primary.detail
    assert pool(pdfs.make_decision_pdf()).page_count == 1


def test_memory_cap_stops_a_bomb_that_passes_pypdf_limits(pool: PdfInspectionPool) -> None:
    limits = PdfLimits(max_stream_bytes=3 << 30, max_memory_bytes=300 << 20, timeout_seconds=60)
    with pytest.raises(EnvelopeError) as caught:
        pool(pdfs.make_bomb_pdf(), limits)
    assert caught.value.primary.code == "PDF_TOO_COMPLEX"
    assert "memory" in caught.value.primary.detail
    assert pool(pdfs.make_decision_pdf(), limits).page_count == 1  # the same worker size still reads documents


def test_a_killed_worker_is_a_refusal_of_that_pdf_only(pool: PdfInspectionPool) -> None:
    data = pdfs.make_decision_pdf()
    pool(data)
    for pid in _pids(pool):
        os.kill(pid, 9)  # as the kernel would when a worker dies mid-way
    # The next calls start new workers and answer normally.
    assert pool(data) == inspect_pdf(data)


def test_threads_share_the_pool(pool: PdfInspectionPool) -> None:
    data = pdfs.make_decision_pdf()
    with ThreadPoolExecutor(4) as threads:
        results = list(threads.map(lambda _: pool(data), range(16)))
    assert all(result == inspect_pdf(data) for result in results)


@contextlib.contextmanager
def _no_free_file_descriptor() -> Iterator[None]:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    probe = os.open(os.devnull, os.O_RDONLY)
    os.close(probe)
    resource.setrlimit(resource.RLIMIT_NOFILE, (probe, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def test_a_pool_that_cannot_start_is_a_temporary_failure() -> None:
    pool = PdfInspectionPool(PdfLimits(max_memory_bytes=300 << 20))
    data = pdfs.make_decision_pdf()
    try:
        with _no_free_file_descriptor(), pytest.raises(PdfInspectionUnavailable) as caught:
            pool(data)
        assert caught.value.reason.code == "TEMP_PDF_INSPECTION"
        assert pool(data).page_count == 1  # and it recovers
    finally:
        pool.close()
