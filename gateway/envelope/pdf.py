"""Inspection of the main document: is it a PDF we accept, and what does its first page say?

Two entry points. ``inspect_pdf`` runs in the calling process: pypdf's own limits bound decompression, page-tree
and form-field work, but nothing bounds its CPU time, so use it only on trusted bytes (our own builder, tests, the
CLI on a file the user chose). ``inspect_pdf_isolated`` runs the same inspection in a fresh worker process with a
hard wall-clock timeout and an address-space limit, and kills the worker when either is hit: the gateway's workers
use it on everything that arrives from outside. An empty ``first_page_text`` proves nothing (scanned documents,
fonts without a text map): callers must treat it as "unknown", never as "clean".
"""

from __future__ import annotations

import io
import multiprocessing
import re
import resource
import unicodedata
from dataclasses import dataclass
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from typing import Any

from pypdf import PasswordType, PdfReader, apply_configuration
from pypdf.errors import LimitReachedError

from gateway.envelope.errors import EnvelopeError, PdfInspectionUnavailable, Problem

FIELD = "pdf"

_MB = 1 << 20


@dataclass(frozen=True, slots=True)
class PdfLimits:
    max_bytes: int = 50 * _MB
    max_pages: int = 2000
    max_objects: int = 200_000
    max_stream_bytes: int = 64 * _MB  # decompressed size of any one stream we decode
    timeout_seconds: float = 20.0  # isolated inspection only
    max_memory_bytes: int = 1536 * _MB  # isolated inspection only: the worker's RLIMIT_AS
    allow_empty_user_password: bool = False  # accept "owner password only" PDFs (anyone can open them)


@dataclass(frozen=True, slots=True)
class PdfInfo:
    version: str
    page_count: int
    first_page_text: str
    encrypted: bool
    object_count: int
    has_signatures: bool


def _fail(code: str, detail: str) -> EnvelopeError:
    return EnvelopeError(Problem(code, FIELD, detail))


_HEADER = re.compile(rb"%PDF-(\d)\.(\d)")
_HEADER_WINDOW = 1024  # readers accept a header anywhere in the first KB


def _header_version(data: bytes) -> tuple[int, int]:
    match = _HEADER.search(data, 0, _HEADER_WINDOW + 8)
    if match is None or match.start() > _HEADER_WINDOW:
        raise _fail("PDF_UNREADABLE", "no %PDF- header: not a PDF file")
    return int(match.group(1)), int(match.group(2))


def _configuration(limits: PdfLimits) -> dict[str, Any]:
    stream = limits.max_stream_bytes
    return {
        "maximum_declared_stream_length": max(stream, limits.max_bytes),
        "array_based_stream_maximum_output_length": stream,
        "jbig2_maximum_output_length": stream,
        "lzw_maximum_output_length": stream,
        "run_length_maximum_output_length": stream,
        "zlib_maximum_output_length": stream,
        "brotli_maximum_output_length": stream,
        "image_maximum_buffer_size": stream,
        "stream_decoding_work_maximum_length": 4 * stream,
        "page_tree_maximum_entries": 2 * limits.max_pages + 100,
        "page_tree_maximum_page_entries": 100 * limits.max_pages + 10_000,
        "form_fields_maximum_entries": 10_000,
        "disable_legacy_handling": True,
    }


def inspect_pdf(data: bytes, limits: PdfLimits | None = None) -> PdfInfo:
    """Open, check and read the first page of a PDF; any failure is an ``EnvelopeError`` naming the reason."""
    limits = limits or PdfLimits()
    if len(data) > limits.max_bytes:
        raise _fail("PDF_TOO_COMPLEX", f"{len(data)} bytes, limit {limits.max_bytes}")
    header = _header_version(data)
    try:
        with apply_configuration(**_configuration(limits)):
            return _inspect(data, header, limits)
    except EnvelopeError:
        raise
    except MemoryError:
        raise _fail("PDF_TOO_COMPLEX", "memory limit reached") from None
    except RecursionError:
        raise _fail("PDF_TOO_COMPLEX", "structure nested too deeply") from None
    except LimitReachedError as exc:
        raise _fail("PDF_TOO_COMPLEX", str(exc)[:200]) from None
    except Exception as exc:  # pypdf raises many types on hostile input; none may escape
        raise _fail("PDF_UNREADABLE", f"{type(exc).__name__}: {str(exc)[:200]}") from None


def _inspect(data: bytes, header: tuple[int, int], limits: PdfLimits) -> PdfInfo:
    reader = PdfReader(io.BytesIO(data), strict=False)
    object_count = sum(len(entries) for entries in reader.xref.values()) + len(reader.xref_objStm)
    if object_count > limits.max_objects:
        raise _fail("PDF_TOO_COMPLEX", f"{object_count} objects, limit {limits.max_objects}")
    encrypted = reader.is_encrypted
    if encrypted:
        opened = limits.allow_empty_user_password and _opens_without_password(reader)
        if not opened:
            raise _fail("PDF_ENCRYPTED", "the file is encrypted; send it without a password")
    version = max(header, _catalog_version(reader))
    if version < (1, 4):
        raise _fail("PDF_VERSION", f"version {version[0]}.{version[1]}; save it as PDF 1.4 or later (PDF/A)")
    declared = _declared_page_count(reader)
    if declared > limits.max_pages:
        raise _fail("PDF_TOO_COMPLEX", f"{declared} pages, limit {limits.max_pages}")
    page_count = len(reader.pages)
    if page_count > limits.max_pages:
        raise _fail("PDF_TOO_COMPLEX", f"{page_count} pages, limit {limits.max_pages}")
    if page_count == 0:
        raise _fail("PDF_UNREADABLE", "the document has no pages")
    has_signatures = _has_signature_fields(reader)
    text = reader.pages[0].extract_text()
    return PdfInfo(
        version=f"{version[0]}.{version[1]}",
        page_count=page_count,
        first_page_text=unicodedata.normalize("NFC", text),
        encrypted=encrypted,
        object_count=object_count,
        has_signatures=has_signatures,
    )


def _opens_without_password(reader: Any) -> bool:
    return bool(reader.decrypt("") != PasswordType.NOT_DECRYPTED)


def _catalog_version(reader: Any) -> tuple[int, int]:
    """A PDF 1.4+ catalog may raise the header's version with /Version (incremental updates do this)."""
    value = reader.root_object.get("/Version")
    match = re.fullmatch(r"/?(\d)\.(\d)", str(value)) if value is not None else None
    return (int(match.group(1)), int(match.group(2))) if match else (0, 0)


def _declared_page_count(reader: Any) -> int:
    """The page tree's /Count, read before flattening the tree so a page bomb is refused cheaply."""
    pages = reader.root_object.get("/Pages")
    count = pages.get_object().get("/Count") if pages is not None else None
    return int(count) if isinstance(count, int) else 0


def _has_signature_fields(reader: Any) -> bool:
    fields = reader.get_fields() or {}
    return any(field.get("/FT") == "/Sig" for field in fields.values())


# -- isolation -------------------------------------------------------------------------------------------------


def precheck(data: bytes, limits: PdfLimits) -> None:
    """What is refused before the bytes are copied to a worker: too many bytes, or not a PDF at all."""
    if len(data) > limits.max_bytes:
        raise _fail("PDF_TOO_COMPLEX", f"{len(data)} bytes, limit {limits.max_bytes}")
    _header_version(data)


def too_complex(detail: str) -> EnvelopeError:
    return _fail("PDF_TOO_COMPLEX", detail)


def inspect_pdf_isolated(data: bytes, limits: PdfLimits | None = None) -> PdfInfo:
    """``inspect_pdf`` in a fresh worker process, killed after ``timeout_seconds`` (then PDF_TOO_COMPLEX).

    The worker is forked from a forkserver that has pypdf already imported, so a call costs a fork rather than an
    interpreter start. The worker's address space is capped with RLIMIT_AS, so a bomb that escapes pypdf's limits
    ends in MemoryError inside the worker, not in the gateway. Blocking: call it from a thread in async code.
    """
    limits = limits or PdfLimits()
    precheck(data, limits)
    receiver, worker = _start_worker(data, limits)
    try:
        if not receiver.poll(limits.timeout_seconds):
            raise _fail("PDF_TOO_COMPLEX", f"inspection took longer than {limits.timeout_seconds:g} s")
        try:
            kind, payload = receiver.recv()
        except EOFError:
            raise _fail("PDF_TOO_COMPLEX", "the inspection worker died (memory or crash)") from None
    finally:
        receiver.close()
        if worker.is_alive():
            worker.kill()
        worker.join()
        worker.close()
    if kind == "ok":
        assert isinstance(payload, PdfInfo)
        return payload
    raise EnvelopeError(payload)


def _start_worker(data: bytes, limits: PdfLimits) -> tuple[Connection, BaseProcess]:
    """A running worker and the end of the pipe its answer comes on; ``PdfInspectionUnavailable`` if none starts."""
    receiver: Connection | None = None
    sender: Connection | None = None
    try:
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload([__name__])
        receiver, sender = context.Pipe(duplex=False)
        worker = context.Process(target=_worker, args=(data, limits, sender), daemon=True)
        worker.start()
    except OSError as exc:  # EMFILE, EAGAIN, ENOMEM, a forkserver that cannot start or be reached
        if receiver is not None:
            receiver.close()
        raise PdfInspectionUnavailable(exc) from exc
    finally:
        if sender is not None:
            sender.close()
    return receiver, worker


def inspection_outcome(data: bytes, limits: PdfLimits) -> tuple[str, Any]:
    """``inspect_pdf`` as plain data for another process: ("ok", PdfInfo) or ("error", problems) — problems rather
    than exception objects, so nothing fails to unpickle on the way back."""
    try:
        return "ok", inspect_pdf(data, limits)
    except EnvelopeError as exc:
        return "error", exc.problems
    except MemoryError:
        return "error", [Problem("PDF_TOO_COMPLEX", FIELD, "memory limit reached")]


def _worker(data: bytes, limits: PdfLimits, sender: Connection) -> None:
    try:
        resource.setrlimit(resource.RLIMIT_AS, (limits.max_memory_bytes, limits.max_memory_bytes))
        sender.send(inspection_outcome(data, limits))
    except MemoryError:  # the send itself, or setting the limit, ran out
        sender.send(("error", [Problem("PDF_TOO_COMPLEX", FIELD, "memory limit reached")]))
    finally:
        sender.close()
