"""What every mailbox back-end offers the delivery workers.

Delivery must be idempotent: a worker that crashes after delivering and before recording the fact will deliver
again on restart, so each delivery carries a key (derived by the caller from DocumentId and recipient) and a second
delivery with the same key returns the first one's location instead of writing a copy.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Protocol

from gateway.addresses import Address
from gateway.errors import InputError

__all__ = ["Address", "Delivered", "MailboxDelivery", "check_key"]

_KEY = re.compile(r"^[A-Za-z0-9_-]{8,128}$")


def check_key(key: str) -> str:
    if not _KEY.match(key):
        raise InputError(f"delivery key {key!r}: expected 8-128 characters of A-Z a-z 0-9 _ -")
    return key


@dataclass(frozen=True, slots=True)
class Delivered:
    mailbox: str
    location: str  # back-end specific: a Maildir file name, an IMAP UID
    duplicate: bool  # True when an earlier delivery with the same key was found


class MailboxDelivery(Protocol):
    def deliver(self, mailbox: str, data: bytes, key: str) -> Delivered:
        """Store ``data`` exactly as given in ``mailbox``, durably, once per ``key``."""
        ...
