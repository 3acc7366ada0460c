"""Refuse bare CR and bare LF anywhere in an SMTP session (the SMTP smuggling family).

aiosmtpd ends DATA only at CRLF.CRLF but accepts a bare LF inside data and at the end of command lines, and a
peer that disagrees with us about line endings can smuggle a second message past filters. A line ending here is
CRLF and nothing else; the check runs on the bytes as they arrive, across chunk boundaries, before the protocol
parser sees them.
"""

from __future__ import annotations


class LineEndingGuard:
    """Feed it every received chunk; it says whether the stream so far holds a bare CR or a bare LF."""

    __slots__ = ("_previous_cr", "violation")

    def __init__(self) -> None:
        self._previous_cr = False  # the last byte of the previous chunk was CR
        self.violation = False

    def feed(self, chunk: bytes) -> bool:
        """Return True when the stream so far contains a bare CR or LF."""
        if self.violation or not chunk:
            return self.violation
        if self._previous_cr and chunk[0:1] != b"\n":
            self.violation = True
            return True
        start = 1 if self._previous_cr else 0
        # Every LF must follow a CR; every CR must precede an LF (a CR at the very end is decided by the next chunk).
        if chunk.count(b"\n", start) != chunk.count(b"\r\n", start):
            self.violation = True
            return True
        body = chunk[:-1] if chunk.endswith(b"\r") else chunk
        if body.count(b"\r") != body.count(b"\r\n"):
            self.violation = True
            return True
        self._previous_cr = chunk.endswith(b"\r")
        return False
