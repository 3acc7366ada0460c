"""What every mailbox back-end offers the delivery workers.

Delivery must be idempotent: a worker that crashes after delivering and before recording the fact will deliver
again on restart, so each delivery carries a key (derived by the caller from DocumentId and recipient) and a second
delivery with the same key returns the first one's location instead of writing a copy.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Protocol

from gateway.errors import InputError

# Deliberately narrower than RFC 5321: records-office mailboxes are plain ASCII addresses, and the local part and
# domain become folder names, so nothing that could climb out of the mailbox root is allowed.
_LOCAL = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9._+-]{0,62}[A-Za-z0-9])?$")
_DOMAIN = re.compile(
    r"^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$"
)
_KEY = re.compile(r"^[A-Za-z0-9_-]{8,128}$")


@dataclass(frozen=True, slots=True)
class Address:
    local: str
    domain: str

    @classmethod
    def parse(cls, text: str) -> Address:
        local, sep, domain = text.rpartition("@")
        if not sep or not _LOCAL.match(local) or ".." in local or not _DOMAIN.match(domain):
            raise InputError(f"mailbox address {text!r}: expected a plain address such as vanthu@stc.camau.gov.vn")
        return cls(local.lower(), domain.lower())

    def __str__(self) -> str:
        return f"{self.local}@{self.domain}"


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
