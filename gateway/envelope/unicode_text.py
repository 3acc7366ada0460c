"""Metadata text made NFC Unicode: decomposed text for everyone, legacy encodings for the senders allowed.

Runs before the rules, so that every rule (the policy rule first: a classified stamp typed in TCVN3 is still a
classified stamp) judges the text as it will be stored. Only the extracted metadata is converted; the received bytes,
which digests and signatures cover, are never touched. Legacy text of a sender not listed in
``[envelope] convert_legacy`` is converted for the rules' sake but reported as unconverted, and the text rule refuses
it with the converted text as the suggestion.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, replace

from gateway.envelope.model import TextConversion
from gateway.envelope.parse import Envelope
from gateway.envelope.rules.fields import map_text
from gateway.vntext import detect_legacy, nfc

NFD = "NFD"


@dataclass(frozen=True, slots=True)
class NormalisedText:
    envelope: Envelope  # with every metadata text NFC Unicode and ``conversions`` set
    unconverted: tuple[TextConversion, ...]  # legacy text the sender's configuration does not allow to convert


def normalise_text(envelope: Envelope, convert_legacy: Collection[str] = ()) -> NormalisedText:
    meta = envelope.metadata
    if meta is None:
        return NormalisedText(envelope, ())
    allowed = meta.header.from_.organ_id in convert_legacy
    done: list[TextConversion] = []
    refused: list[TextConversion] = []

    def change(path: str, value: str) -> str:
        if not value:
            return value
        legacy = detect_legacy(value)
        if legacy is not None:
            conversion = TextConversion(path, legacy.encoding, value, legacy.suggestion)
            (done if allowed else refused).append(conversion)
            return legacy.suggestion
        normal = nfc(value)
        if normal != value:
            done.append(TextConversion(path, NFD, value, normal))
        return normal

    header = map_text(meta.header, change)
    trace = map_text(meta.trace, change, "TraceHeaderList")
    subject = change("Subject header", envelope.subject)
    for c in (*done, *refused):  # "15/QĐ-UBND: <Subject>": the real "Đ" hides a legacy summary from detection
        summary = " ".join(c.original.split())
        if c.field == "Subject" and c.encoding != NFD and summary in subject:
            fixed = subject.replace(summary, " ".join(c.converted.split()))
            (done if allowed else refused).append(TextConversion("Subject header", c.encoding, subject, fixed))
            subject = fixed
            break
    if not done and not refused:
        return NormalisedText(envelope, ())
    converted = replace(
        envelope,
        subject=subject,
        metadata=replace(meta, header=header, trace=trace),
        conversions=tuple(done),
    )
    return NormalisedText(converted, tuple(refused))
