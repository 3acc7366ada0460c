"""The one error type that leaves the envelope parser and validator.

Whatever the input, parsing and validation raise nothing but ``EnvelopeError``: the SMTP handler turns it into a
reply, the receipt builder into a signed non-acceptance notice, the CLI into a line naming the field. Each problem
carries a stable reason code from ``gateway.reasons``.
"""

from __future__ import annotations

from dataclasses import dataclass

from gateway.errors import LienthongError
from gateway.reasons import Reason, reason


@dataclass(frozen=True, slots=True)
class Problem:
    code: str
    field: str | None = None
    detail: str = ""
    suggestion: str | None = None  # e.g. the Unicode text suggested for a legacy-encoded field

    @property
    def reason(self) -> Reason:
        return reason(self.code)

    def describe(self) -> str:
        where = f"{self.field}: " if self.field else ""
        text = f"[{self.code}] {where}{self.reason.en}"
        if self.detail:
            text += f" ({self.detail})"
        if self.suggestion:
            text += f"; suggested Unicode text: {self.suggestion!r}"
        return text


class EnvelopeError(LienthongError):
    """One or more problems; the first is the one reported in the SMTP reply."""

    exit_code = 3

    def __init__(self, problems: list[Problem] | Problem) -> None:
        self.problems = [problems] if isinstance(problems, Problem) else list(problems)
        if not self.problems:
            raise ValueError("EnvelopeError needs at least one problem")
        super().__init__("; ".join(p.describe() for p in self.problems))

    @classmethod
    def of(cls, code: str, field: str | None = None, detail: str = "", suggestion: str | None = None) -> EnvelopeError:
        return cls(Problem(code, field, detail, suggestion))

    @property
    def primary(self) -> Problem:
        return self.problems[0]

    @property
    def reason(self) -> Reason:
        return self.primary.reason


class PdfInspectionUnavailable(LienthongError):
    """The isolated PDF inspector could not start a worker (no process, no file descriptor, no memory to fork).

    Our failure, not the sender's: not an ``EnvelopeError``, so nobody refuses the document for it. The SMTP handler
    answers ``reason`` (TEMP_PDF_INSPECTION, 451 4.3.0) and the sender retries.
    """

    exit_code = 75  # EX_TEMPFAIL

    def __init__(self, cause: OSError | RuntimeError) -> None:
        super().__init__(f"the PDF cannot be inspected now: no worker process could start ({cause}); try again later")
        self.cause = cause

    @property
    def reason(self) -> Reason:
        return reason("TEMP_PDF_INSPECTION")
