"""Content-addressed storage for the exact bytes of accepted messages.

The SMTP handler answers 250 only once the bytes are here and fsync'd; the database then refers to them by SHA-256,
so a record can never point at bytes that differ from what was received, and storing the same bytes twice is free.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from gateway.durable import fsync_directory, temporary_name, write_then_rename
from gateway.errors import InputError, NotFoundError

_DIGEST = re.compile(r"^[0-9a-f]{64}$")


class BlobStore:
    def __init__(self, root: Path) -> None:
        self.root = root

    def path(self, digest: str) -> Path:
        if not _DIGEST.match(digest):
            raise InputError(f"blob digest {digest!r}: expected 64 lower-case hex digits (SHA-256)")
        return self.root / digest[:2] / digest[2:4] / digest

    def put(self, data: bytes) -> str:
        """Store ``data`` durably and return its SHA-256 hex digest."""
        digest = hashlib.sha256(data).hexdigest()
        final = self.path(digest)
        if final.exists():
            return digest
        self._directories(final.parent)
        write_then_rename(data, final.with_name(temporary_name(f".{digest}") + ".tmp"), final)
        return digest

    def _directories(self, folder: Path) -> None:
        """Create the two fan-out levels, each made durable in its parent: a blob whose folder entry was lost in a
        crash would be as lost as the blob."""
        for level in (folder.parent, folder):
            if not level.is_dir():
                level.mkdir(mode=0o700, parents=True, exist_ok=True)
                fsync_directory(level.parent)

    def get(self, digest: str) -> bytes:
        try:
            data = self.path(digest).read_bytes()
        except FileNotFoundError:
            raise NotFoundError(f"blob {digest}: not in the store") from None
        if hashlib.sha256(data).hexdigest() != digest:
            raise NotFoundError(f"blob {digest}: stored bytes are corrupt (digest mismatch)")
        return data

    def purge(self, digest: str) -> bool:
        """Remove bytes that must not be kept (regulation Art. 4.1); True when something was removed."""
        path = self.path(digest)
        try:
            path.unlink()
        except FileNotFoundError:
            return False
        fsync_directory(path.parent)
        return True

    def __contains__(self, digest: str) -> bool:
        return self.path(digest).is_file()
