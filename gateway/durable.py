"""Files that survive a crash: written under a temporary name, fsync'd, renamed into place, the folder fsync'd.

POSIX promises a new or removed directory entry only once its directory is fsync'd, and a file whose folder entry
was lost is as lost as its bytes. The blob store and the Maildir adapter both store this way.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from pathlib import Path


def fsync_directory(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def temporary_name(stem: str) -> str:
    """Unique per attempt: a retry never meets what a crashed or failed attempt left, whatever its process id."""
    return f"{stem}.{os.getpid()}.{secrets.token_hex(4)}"


def write_then_rename(data: bytes, tmp: Path, final: Path) -> None:
    """``data`` at ``final`` whole or not at all. A failed attempt (disk full, I/O error) removes its temporary
    file, so the space comes back and the folder does not fill with partial copies."""
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, final)
    except BaseException:
        with contextlib.suppress(OSError):  # the error worth reporting is the first one
            tmp.unlink()
        raise
    fsync_directory(final.parent)
