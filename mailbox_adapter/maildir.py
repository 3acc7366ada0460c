"""Local Maildir delivery, the embedded default (Dovecot reads the same layout: ``ROOT/DOMAIN/LOCAL/Maildir``).

The file is written to ``tmp/``, fsync'd, renamed into ``new/`` and the directory fsync'd, so that a delivery
reported as done survives a crash. Idempotency costs one ``stat``, not a scan of the folder: after the rename a
marker named by the delivery key is written beside the Maildir (``ROOT/DOMAIN/LOCAL/delivered/KEY``, outside it so
Dovecot does not see a folder). A crash between the rename and the marker leaves the message in ``new/`` under a
name derived from the key alone, which the next attempt finds; the only miss is a client moving that very message
to ``cur/`` inside the crash window, which would give one duplicate, never a loss.
"""

from __future__ import annotations

import socket
from pathlib import Path

from gateway.durable import temporary_name, write_then_rename
from mailbox_adapter.base import Address, Delivered, check_key

_SUBDIRS = ("tmp", "new", "cur")


class MaildirDelivery:
    """Implements ``MailboxDelivery`` over a tree of Maildirs."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._host = socket.gethostname().replace("/", "\\057").replace(":", "\\072") or "localhost"

    def maildir(self, mailbox: str) -> Path:
        address = Address.parse(mailbox)
        return self.root / address.domain / address.local / "Maildir"

    def ensure(self, mailbox: str) -> Path:
        """Create the mailbox's Maildir (mode 0700) if it does not exist yet."""
        base = self.maildir(mailbox)
        for sub in _SUBDIRS:
            (base / sub).mkdir(mode=0o700, parents=True, exist_ok=True)
        return base

    def _marker(self, mailbox: str, key: str) -> Path:
        return self.maildir(mailbox).parent / "delivered" / check_key(key)

    def _name(self, key: str) -> str:
        return f"{key}.{self._host}"

    def find(self, mailbox: str, key: str) -> str | None:
        """Where an earlier delivery with ``key`` went, or None."""
        marker = self._marker(mailbox, key)
        try:
            return marker.read_text(encoding="ascii")
        except FileNotFoundError:
            pass
        candidate = self.maildir(mailbox) / "new" / self._name(key)
        return f"new/{candidate.name}" if candidate.exists() else None

    def deliver(self, mailbox: str, data: bytes, key: str) -> Delivered:
        existing = self.find(mailbox, key)
        if existing is not None:
            return Delivered(mailbox, existing, duplicate=True)
        base = self.ensure(mailbox)
        name = self._name(key)
        write_then_rename(data, base / "tmp" / temporary_name(name), base / "new" / name)
        marker = self._marker(mailbox, key)
        marker.parent.mkdir(mode=0o700, exist_ok=True)
        marker.write_text(f"new/{name}", encoding="ascii")
        return Delivered(mailbox, f"new/{name}", duplicate=False)
