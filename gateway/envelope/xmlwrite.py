"""A tiny deterministic XML writer: the exact prefixes, order and escaping edXML hubs expect.

ElementTree would pick its own prefixes (and registering one is process-global), so the few dozen elements of an edXML
header are written by hand. Values that XML 1.0 cannot carry are refused here, naming the field, rather than
producing a file no reader accepts.
"""

from __future__ import annotations

import re

from gateway.envelope.errors import EnvelopeError

EDXML_NS = "http://www.mic.gov.vn/TBT/QCVN_102_2016"
LT_NS = "urn:lienthong:envelope:1"

_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", "\r": "&#13;", '"': "&quot;"})


def escape(value: str, field: str) -> str:
    bad = _NOT_XML.search(value)
    if bad:
        raise EnvelopeError.of("FIELD_INVALID", field, f"character U+{ord(bad.group()):04X} cannot appear in XML")
    return value.translate(_ESCAPES)


class XmlWriter:
    def __init__(self) -> None:
        self._lines: list[str] = ['<?xml version="1.0" encoding="UTF-8"?>']
        self._path: list[str] = []

    @staticmethod
    def _qname(name: str) -> str:
        return name if ":" in name else f"edXML:{name}"

    def open(self, name: str, attrs: str = "") -> None:
        self._lines.append(f"{'  ' * len(self._path)}<{self._qname(name)}{attrs}>")
        self._path.append(name)

    def close(self) -> None:
        name = self._path.pop()
        self._lines.append(f"{'  ' * len(self._path)}</{self._qname(name)}>")

    def leaf(self, name: str, value: str | int | None, *, keep_empty: bool = False) -> None:
        """One text element; skipped when it has no value unless the standard requires its presence."""
        if value is None or (value == "" and not keep_empty):
            return
        field = "/".join([*self._path[2:], name])
        text = escape(str(value), field)
        qname = self._qname(name)
        self._lines.append(f"{'  ' * len(self._path)}<{qname}>{text}</{qname}>")

    def to_bytes(self) -> bytes:
        assert not self._path, f"unclosed elements {self._path}"
        return ("\r\n".join(self._lines) + "\r\n").encode("utf-8")


ROOT_ATTRS = f' xmlns:edXML="{EDXML_NS}" xmlns:lt="{LT_NS}"'
