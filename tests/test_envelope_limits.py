"""Each EnvelopeLimits field is enforced with its documented reason code, before the work it protects."""

from __future__ import annotations

import pytest

from gateway.envelope.errors import EnvelopeError
from gateway.envelope.limits import EnvelopeLimits
from gateway.envelope.parse import parse
from gateway.envelope.validate import refusal_trace


@pytest.mark.parametrize(
    ("limits", "code"),
    [
        (EnvelopeLimits(max_message_bytes=1000), "MESSAGE_TOO_BIG"),
        (EnvelopeLimits(max_header_bytes=200), "MIME_TOO_COMPLEX"),
        (EnvelopeLimits(max_header_count=5), "MIME_TOO_COMPLEX"),
        (EnvelopeLimits(max_line_length=60), "MIME_TOO_COMPLEX"),
        (EnvelopeLimits(max_depth=0), "MIME_TOO_COMPLEX"),
        (EnvelopeLimits(max_parts=2), "MIME_TOO_COMPLEX"),
        (EnvelopeLimits(max_decoded_bytes=500), "MIME_TOO_COMPLEX"),
        (EnvelopeLimits(max_metadata_bytes=100), "METADATA_XML"),
    ],
)
def test_each_limit_is_enforced(valid_envelope, limits, code):
    parse(valid_envelope)  # within the default limits
    with pytest.raises(EnvelopeError) as info:
        parse(valid_envelope, limits)
    assert info.value.primary.code == code


def test_refusal_trace_of_unreadable_bytes_keeps_only_the_hash():
    raw = b"\x00\xff garbage"
    with pytest.raises(EnvelopeError) as info:
        parse(raw)
    trace = refusal_trace(raw, info.value)
    assert trace["from"] is None
    assert trace["to"] == []
    assert trace["size"] == len(raw)
    assert len(trace["sha256"]) == 64
