"""Refuse bare CR and bare LF anywhere in an SMTP session (the SMTP smuggling family).

aiosmtpd ends DATA only at CRLF.CRLF but accepts a bare LF inside data and at the end of command lines, and a
peer that disagrees with us about line endings can smuggle a second message past filters. A line ending here is
CRLF and nothing else; the check runs on the bytes as they arrive, across chunk boundaries, before the protocol
parser sees them.
"""

from __future__ import annotations


def crlf_only(data: bytes) -> bool:
    """The guard's rule for bytes held whole: no bare CR and no bare LF. Counted, never copied (it sees every byte
    of every document signed or relayed)."""
    pairs = data.count(b"\r\n")
    return data.count(b"\n") == pairs and data.count(b"\r") == pairs


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
        # Every LF must follow a CR and every CR precede an LF: so as many LFs, and as many CRs (a CR at the very end
        # is decided by the next chunk), as CRLF pairs. Three counts in C, no copy: this sees every byte received.
        end = len(chunk) - 1 if chunk.endswith(b"\r") else len(chunk)
        pairs = chunk.count(b"\r\n", start)
        if chunk.count(b"\n", start) != pairs or chunk.count(b"\r", start, end) != pairs:
            self.violation = True
            return True
        self._previous_cr = chunk.endswith(b"\r")
        return False
