"""Making a new or removed directory entry survive a crash: POSIX only promises that once the directory is fsync'd.

The blob store and the Maildir adapter both rename a written file into place and then need this; a file whose
folder entry was lost is as lost as its bytes.
"""

from __future__ import annotations

import os
from pathlib import Path


def fsync_directory(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
