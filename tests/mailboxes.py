"""Reading what the gateway put into records offices' Maildirs, as a mail client would."""

from __future__ import annotations

import mailbox
import re

from gateway.home import Home
from mailbox_adapter.maildir import MaildirDelivery

_KIND = re.compile(rb"(?mi)^Lienthong-Kind:[ \t]*([a-z]+)[ \t]*\r?$")


def kind_of(raw: bytes) -> str:
    """The top-level Lienthong-Kind header (only the header block is looked at)."""
    match = _KIND.search(raw.split(b"\r\n\r\n", 1)[0])
    return match.group(1).decode() if match else ""


def maildir_messages(home: Home, address: str, kind: str | None = None) -> list[bytes]:
    folder = MaildirDelivery(home.mailboxes_dir).maildir(address)
    if not folder.exists():
        return []
    box = mailbox.Maildir(folder, create=False)
    found = [box.get_bytes(key) for key in box.keys()]  # noqa: SIM118
    return [raw for raw in found if kind is None or kind_of(raw) == kind]


def document_ids(raws: list[bytes]) -> list[str]:
    """The Lienthong-Document-Id of each message, in order (repeats kept: the crash tests count them)."""
    found = [re.search(rb"(?m)^Lienthong-Document-Id: (.+?)\r$", raw) for raw in raws]
    assert all(found), "a message without Lienthong-Document-Id"
    return [match.group(1).decode() for match in found if match]
