"""Mailbox addresses as lienthong accepts them: plain ASCII, lower-cased, safe to use as folder names.

Every address that reaches an SMTP command, a header or a path goes through ``Address.parse`` first, so a CR, LF,
NUL or path separator can never be smuggled through one (the client-side injection class of bugs).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from gateway.errors import InputError

# Deliberately narrower than RFC 5321: records-office mailboxes are plain ASCII addresses, and the local part and
# domain become folder names, so nothing that could climb out of the mailbox root is allowed.
_LOCAL = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9._+-]{0,62}[A-Za-z0-9])?$")
_DOMAIN = re.compile(
    r"^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$"
)


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
