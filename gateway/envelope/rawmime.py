"""Locating MIME entities in the received bytes by boundary, without re-serialising anything.

The stdlib parser rebuilds a message tree and can be made to spend a lot of time and memory on hostile input; here
the tree is only a list of offsets into the original bytes, found with one regular-expression scan per multipart,
and every limit (size, header block, line length, depth, part count) is checked before any part is decoded. Header
blocks, which are small once capped, are handed to ``email`` (``compat32``: several times faster than
``policy.default``, whose header objects were most of the parse time) to read their values.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import Message
from email.parser import BytesHeaderParser
from email.policy import compat32
from email.utils import collapse_rfc2231_value

from gateway.envelope.errors import EnvelopeError
from gateway.envelope.limits import EnvelopeLimits

_HEADER_END = re.compile(rb"\r?\n\r?\n")
_FIELD_START = re.compile(rb"(?:\A|\n)[^ \t\r\n]")
_CHUNK = 1 << 20
_CR, _LF, _WSP = 13, 10, (32, 9)
_PARSER = BytesHeaderParser(policy=compat32)


@dataclass(slots=True)
class Entity:
    """One MIME entity as offsets into the raw message: [start, body_start) headers, [body_start, end) body."""

    start: int
    body_start: int
    end: int
    headers: Message
    children: list[Entity] | None = field(default=None)

    @property
    def content_type(self) -> str:
        return self.headers.get_content_type()


def longest_line(raw: bytes) -> int:
    """The longest line in octets (CR included), scanned in chunks so memory stays bounded."""
    longest = carry = 0
    for i in range(0, len(raw), _CHUNK):
        lines = raw[i : i + _CHUNK].split(b"\n")
        if len(lines) == 1:
            carry += len(lines[0])
            continue
        longest = max(longest, carry + len(lines[0]), max(map(len, lines[1:-1]), default=0))
        carry = len(lines[-1])
    return max(longest, carry)


def check_size(raw: bytes, limits: EnvelopeLimits) -> None:
    if len(raw) > limits.max_message_bytes:
        raise EnvelopeError.of("MESSAGE_TOO_BIG", None, f"{len(raw)} bytes, limit {limits.max_message_bytes}")
    longest = longest_line(raw)
    if longest > limits.max_line_length + 1:
        raise EnvelopeError.of("MIME_TOO_COMPLEX", None, f"a line of {longest} octets, limit {limits.max_line_length}")


def read_headers(raw: memoryview, start: int, end: int, limits: EnvelopeLimits, where: str) -> tuple[Message, int]:
    """The header block at ``start`` and the offset where the body begins."""
    first = bytes(raw[start : start + 2])
    if first == b"\r\n" or first[:1] == b"\n":
        body_start = start + (2 if first[:1] == b"\r" else 1)
        return Message(policy=compat32), body_start
    window_end = min(end, start + limits.max_header_bytes + 4)
    m = _HEADER_END.search(raw[start:window_end])
    if m is None:
        if window_end < end:
            raise EnvelopeError.of("MIME_TOO_COMPLEX", where, f"header block over {limits.max_header_bytes} bytes")
        header_end, body_start = end, end
    else:
        header_end, body_start = start + m.start(), start + m.end()
    block = bytes(raw[start:header_end])
    if len(block) > limits.max_header_bytes:
        raise EnvelopeError.of("MIME_TOO_COMPLEX", where, f"header block over {limits.max_header_bytes} bytes")
    if b"\x00" in block:
        raise EnvelopeError.of("HEADER_INVALID", where, "NUL byte in a header")
    count = len(_FIELD_START.findall(block))
    if count > limits.max_header_count:
        raise EnvelopeError.of("MIME_TOO_COMPLEX", where, f"{count} header fields, limit {limits.max_header_count}")
    return _PARSER.parsebytes(block + b"\r\n\r\n"), body_start


class _Walker:
    def __init__(self, raw: bytes, limits: EnvelopeLimits) -> None:
        self.bytes = raw
        self.raw = memoryview(raw)
        self.limits = limits
        self.parts = 0

    def entity(self, start: int, end: int, depth: int, where: str) -> Entity:
        headers, body_start = read_headers(self.raw, start, end, self.limits, where)
        node = Entity(start, body_start, end, headers)
        if headers.get_content_maintype() == "multipart":
            if depth >= self.limits.max_depth:
                raise EnvelopeError.of(
                    "MIME_TOO_COMPLEX", where, f"multipart nesting deeper than {self.limits.max_depth}"
                )
            node.children = self.split(node, depth, where)
        return node

    def split(self, node: Entity, depth: int, where: str) -> list[Entity]:
        param = node.headers.get_param("boundary")
        boundary = collapse_rfc2231_value(param).strip() if param else ""
        if not 0 < len(boundary) <= 70 or not boundary.isascii():
            raise EnvelopeError.of("MIME_MALFORMED", f"{where} Content-Type", "multipart without a valid boundary")
        children: list[Entity] = []
        part_start: int | None = None
        for delimiter_start, after, closing in self._delimiters(boundary.encode("ascii"), node.body_start, node.end):
            if part_start is not None:
                self.parts += 1
                if self.parts > self.limits.max_parts:
                    raise EnvelopeError.of("MIME_TOO_COMPLEX", where, f"more than {self.limits.max_parts} parts")
                label = f"{where}.{len(children) + 1}"
                children.append(self.entity(part_start, delimiter_start, depth + 1, label))
            if closing:
                if not children:
                    raise EnvelopeError.of("MIME_MALFORMED", where, "multipart without parts")
                return children
            part_start = after
        raise EnvelopeError.of("MIME_MALFORMED", where, "closing boundary missing (truncated message?)")

    def _delimiters(self, boundary: bytes, start: int, end: int) -> Iterator[tuple[int, int, bool]]:
        """(start of the delimiter incl. the line break before it, start of the next part, is-closing) in order.

        ``bytes.find`` instead of a regular expression: a pattern anchored on a line start is tried at every byte,
        which made the scan of a 10 MB body cost more than decoding it.
        """
        raw, needle = self.bytes, b"--" + boundary
        pos = start
        while (hit := raw.find(needle, pos, end)) >= 0:
            pos = hit + 1
            if hit != start and raw[hit - 1] != _LF:
                continue  # not at the start of a line
            cursor = hit + len(needle)
            closing = raw.startswith(b"--", cursor)
            if closing:
                cursor += 2
            while cursor < end and raw[cursor] in _WSP:
                cursor += 1  # transport padding
            if cursor < end and raw[cursor] == _CR and cursor + 1 < end and raw[cursor + 1] == _LF:
                cursor += 2
            elif cursor < end and raw[cursor] == _LF:
                cursor += 1
            elif cursor != end:
                continue  # the boundary string followed by other text: not a delimiter
            line_start = hit
            if hit != start:
                line_start = hit - 2 if hit - 2 >= start and raw[hit - 2] == _CR else hit - 1
            yield line_start, cursor, closing


def walk(raw: bytes, limits: EnvelopeLimits) -> Entity:
    """The entity tree of ``raw`` (limits checked first)."""
    check_size(raw, limits)
    return _Walker(raw, limits).entity(0, len(raw), 0, "message")
