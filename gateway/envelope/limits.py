"""Limits that make a MIME bomb cheap to refuse: every one is checked before the work it protects."""

from __future__ import annotations

from dataclasses import dataclass

MIB = 1 << 20


@dataclass(frozen=True, slots=True)
class EnvelopeLimits:
    max_message_bytes: int = 25 * MIB  # MESSAGE_TOO_BIG
    max_header_bytes: int = 64 * 1024  # per header block; MIME_TOO_COMPLEX
    max_header_count: int = 100  # header fields per block; MIME_TOO_COMPLEX
    max_line_length: int = 998  # octets without CRLF (RFC 5322 2.1.1); MIME_TOO_COMPLEX
    max_depth: int = 4  # multipart nesting; MIME_TOO_COMPLEX
    max_parts: int = 100  # entities in the whole tree; MIME_TOO_COMPLEX
    max_decoded_bytes: int = 25 * MIB  # sum of decoded part sizes; MIME_TOO_COMPLEX
    max_metadata_bytes: int = MIB  # the edXML part; METADATA_XML
