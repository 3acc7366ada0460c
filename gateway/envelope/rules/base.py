"""What a rule sees (``Context``) and what it is (``Rule``)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from typing import Protocol

from gateway.envelope.directory import AgencyDirectory
from gateway.envelope.errors import EnvelopeError, Problem
from gateway.envelope.model import DocumentHeader, Metadata, StatusHeader, TextConversion
from gateway.envelope.parse import Envelope
from gateway.envelope.pdf import PdfInfo, PdfLimits

PdfInspector = Callable[[bytes, PdfLimits | None], PdfInfo]


@dataclass(slots=True)
class Context:
    envelope: Envelope
    now: datetime
    tz: tzinfo
    directory: AgencyDirectory | None
    inspector: PdfInspector
    pdf_limits: PdfLimits | None = None
    unconverted: tuple[TextConversion, ...] = ()  # legacy text the sender may not have converted (``unicode_text``)
    allow_unnumbered: bool = False  # at submission only: an empty CodeNumber is the gateway's to fill
    _pdf: PdfInfo | EnvelopeError | None = field(default=None, init=False)

    @property
    def metadata(self) -> Metadata | None:
        return self.envelope.metadata

    @property
    def document(self) -> DocumentHeader | None:
        meta = self.envelope.metadata
        return meta.header if meta is not None and isinstance(meta.header, DocumentHeader) else None

    @property
    def status(self) -> StatusHeader | None:
        meta = self.envelope.metadata
        return meta.header if meta is not None and isinstance(meta.header, StatusHeader) else None

    def pdf(self) -> PdfInfo | EnvelopeError | None:
        """The main PDF inspected once and shared by the rules; None when there is no PDF part."""
        part = self.envelope.main_pdf
        if part is None:
            return None
        if self._pdf is None:
            try:
                self._pdf = self.inspector(part.data, self.pdf_limits)
            except EnvelopeError as exc:
                self._pdf = exc
        return self._pdf


class Rule(Protocol):
    @property
    def codes(self) -> tuple[str, ...]:
        """The reason codes this rule may report."""
        ...

    def check(self, ctx: Context) -> list[Problem]: ...
