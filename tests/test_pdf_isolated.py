"""Inspection in a worker process: same answers, plus a hard timeout and a memory cap that kill the worker."""

from __future__ import annotations

import contextlib
import os
import resource
from collections.abc import Iterator

import pytest

from gateway.envelope.errors import EnvelopeError, PdfInspectionUnavailable
from gateway.envelope.parse import parse
from gateway.envelope.pdf import PdfLimits, inspect_pdf, inspect_pdf_isolated
from gateway.envelope.validate import validate
from gateway.errors import LienthongError
from gateway.reasons import Severity
from tests import pdfs
from tests.fixtures.envelope import NOW, build_valid

REFUSED = pdfs.refused_pdfs()


def test_same_answer_as_in_process() -> None:
    data = pdfs.make_decision_pdf()
    assert inspect_pdf_isolated(data) == inspect_pdf(data)


@pytest.mark.parametrize(("data", "code"), list(REFUSED.values()), ids=list(REFUSED))
def test_errors_cross_the_process_boundary(data: bytes, code: str) -> None:
    with pytest.raises(EnvelopeError) as caught:
        inspect_pdf_isolated(data)
    assert caught.value.primary.code == code
    assert caught.value.primary.field == "pdf"


def test_timeout_kills_the_worker() -> None:
    # A PDF with many pages takes more than a millisecond to read: the limit, not the file, decides here.
    with pytest.raises(EnvelopeError) as caught:
        inspect_pdf_isolated(pdfs.make_many_pages_pdf(1500), PdfLimits(timeout_seconds=0.001))
    assert caught.value.primary.code == "PDF_TOO_COMPLEX"
    assert "longer than" in caught.value.primary.detail


def test_memory_cap_stops_a_bomb_that_passes_pypdf_limits() -> None:
    # pypdf may inflate 3 GB here, the worker may map 300 MB: the cap, not pypdf, must stop the 400 MB bomb ...
    limits = PdfLimits(max_stream_bytes=3 << 30, max_memory_bytes=300 << 20, timeout_seconds=60)
    with pytest.raises(EnvelopeError) as caught:
        inspect_pdf_isolated(pdfs.make_bomb_pdf(), limits)
    assert caught.value.primary.code == "PDF_TOO_COMPLEX"
    assert "memory" in caught.value.primary.detail
    # ... while an ordinary document fits in the same cap.
    assert inspect_pdf_isolated(pdfs.make_decision_pdf(), limits).page_count == 1


@contextlib.contextmanager
def _no_free_file_descriptor() -> Iterator[None]:
    """Every new descriptor fails with EMFILE (a real exhausted process, as under a descriptor leak or a flood)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    probe = os.open(os.devnull, os.O_RDONLY)
    os.close(probe)  # ``probe`` was the lowest free number: allow none at or above it
    resource.setrlimit(resource.RLIMIT_NOFILE, (probe, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


@pytest.mark.parametrize("forkserver_running", [False, True], ids=["cold", "warm"])
def test_a_worker_that_cannot_start_is_a_temporary_failure_not_a_refusal(forkserver_running: bool) -> None:
    data = pdfs.make_decision_pdf()
    if forkserver_running:
        inspect_pdf_isolated(data)
    env = parse(build_valid(pdf=data))
    with _no_free_file_descriptor():
        with pytest.raises(PdfInspectionUnavailable) as direct:
            inspect_pdf_isolated(data)
        with pytest.raises(PdfInspectionUnavailable) as through_validate:
            validate(env, now=NOW, inspector=inspect_pdf_isolated)
    for caught in (direct, through_validate):
        error = caught.value
        assert isinstance(error, LienthongError)
        assert not isinstance(error, EnvelopeError)
        assert error.reason.code == "TEMP_PDF_INSPECTION"
        assert error.reason.severity is Severity.TEMPORARY
        assert error.reason.smtp_code // 100 == 4
        assert isinstance(error.cause, OSError)
        assert "try again later" in str(error)
    assert inspect_pdf_isolated(data) == inspect_pdf(data)  # and the next call works again
