"""Byte-exact MIME pieces for the builder: part headers, base64 bodies, RFC 2047/2231 encodings, the boundary.

Everything here is a pure function of its input, which is what makes ``build_inner`` reproducible bytes.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Sequence
from email.header import Header
from urllib.parse import quote

from gateway.envelope.errors import EnvelopeError

CRLF = b"\r\n"
BOUNDARY_PREFIX = "=_lt1_"
_MEDIA_TYPE = re.compile(r"[a-z0-9][a-z0-9!#$&^_.+-]{0,126}/[a-z0-9][a-z0-9!#$&^_.+-]{0,126}")
_PRINTABLE_ASCII = re.compile(r"[\x20-\x7e]*")
_NAME_CHUNK = 60


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def text_digest_bytes(data: bytes) -> bytes:
    """What is hashed for a text/* part: every line ending as CRLF (docs/envelope.md §3.2)."""
    return data.replace(b"\r\n", b"\n").replace(b"\r", b"\n").replace(b"\n", b"\r\n")


def b64_body(data: bytes) -> bytes:
    """Base64 in 76-character lines, each ending in CRLF (RFC 2045)."""
    encoded = base64.b64encode(data)
    return b"".join(encoded[i : i + 76] + CRLF for i in range(0, len(encoded), 76))


def check_media_type(media_type: str, field: str) -> str:
    if not _MEDIA_TYPE.fullmatch(media_type):
        raise EnvelopeError.of("FIELD_INVALID", field, f"{media_type!r} is not a lower-case media type type/subtype")
    return media_type


def encode_header_value(name: str, value: str) -> str:
    """The value as it goes after ``name: ``: plain when printable ASCII and short, else RFC 2047 UTF-8 B words."""
    if _PRINTABLE_ASCII.fullmatch(value) and "=?" not in value and len(name) + len(value) < 76:
        return value
    return Header(value, "utf-8", header_name=name).encode(linesep="\r\n")


def filename_params(file_name: str) -> str:
    """RFC 2231 ``filename*`` (continued in short pieces so no line nears the 998-octet limit)."""
    quoted = quote(file_name, safe="!#$&+-.^_`|~")
    if len(quoted) <= _NAME_CHUNK:
        return f"filename*=utf-8''{quoted}"
    pieces = []
    index, start = 0, 0
    while start < len(quoted):
        end = min(start + _NAME_CHUNK, len(quoted))
        while end < len(quoted) and "%" in quoted[end - 2 : end]:
            end -= 1  # never split a %XX escape
        prefix = "utf-8''" if index == 0 else ""
        pieces.append(f"filename*{index}*={prefix}{quoted[start:end]}")
        index, start = index + 1, end
    return ";\r\n ".join(pieces)


def part_bytes(content_type: str, content_id: str, disposition: str, data: bytes) -> bytes:
    headers = (
        f"Content-Type: {content_type}\r\n"
        "Content-Transfer-Encoding: base64\r\n"
        f"Content-ID: <{content_id}>\r\n"
        f"Content-Disposition: {disposition}\r\n"
        "\r\n"
    )
    return headers.encode("ascii") + b64_body(data)


def multipart(parts: Sequence[bytes]) -> bytes:
    """The inner entity: the multipart/mixed Content-Type header, a blank line and the body, boundary from content."""
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part)
    boundary = BOUNDARY_PREFIX + digest.hexdigest()[:32]
    delimiter = b"--" + boundary.encode() + CRLF
    body = b"".join(delimiter + part for part in parts) + b"--" + boundary.encode() + b"--" + CRLF
    head = f'Content-Type: multipart/mixed; boundary="{boundary}"\r\n\r\n'.encode()
    return head + body
