"""The address in a MAIL FROM or RCPT TO argument, for the common form, without email's header parser.

aiosmtpd parses every path with ``email._header_value_parser`` (and defines a ``typing.Protocol`` class on every
call): about a millisecond per command, several per document. Nearly every path an agency system or a peer
gateway sends is ``<dot-atom@domain>`` with optional ESMTP parameters; for exactly that form the answer is
read off with one regular expression. Anything else — quoted local parts, source routes, the null path, odd
spacing — returns None and goes to aiosmtpd's parser, so its outcomes are unchanged
(tests/test_smtp_mail_args.py compares the two).
"""

from __future__ import annotations

import re

_ATEXT = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
# After the ">", aiosmtpd's parser skips whitespace and comments; a comment ("(") is left to it.
_SIMPLE = re.compile(rf"<({_ATEXT}(?:\.{_ATEXT})*@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*)>(?:[ \t]+([^( \t].*))?", re.DOTALL)


def simple_path(arg: str) -> tuple[str, str] | None:
    """``(address, rest)`` for ``<local@domain>[ params]``, or None when the argument needs the full parser."""
    match = _SIMPLE.fullmatch(arg)
    if match is None:
        return None
    return match.group(1), match.group(2) or ""
