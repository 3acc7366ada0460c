"""The blob store: content-addressed, durable, detects corruption."""

from __future__ import annotations

import errno
import hashlib
import subprocess
import sys
from pathlib import Path

import pytest

from gateway.blobs import BlobStore
from gateway.errors import InputError, NotFoundError


def test_put_get_round_trip_and_dedup(tmp_path: Path) -> None:
    store = BlobStore(tmp_path)
    data = b"%PDF-1.7\r\n" + bytes(range(256)) * 100
    digest = store.put(data)
    assert digest == hashlib.sha256(data).hexdigest()
    assert store.put(data) == digest
    assert store.get(digest) == data
    assert digest in store
    files = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert len(files) == 1
    assert oct(files[0].stat().st_mode & 0o777) == "0o600"


def test_corruption_is_detected(tmp_path: Path) -> None:
    store = BlobStore(tmp_path)
    digest = store.put(b"accepted bytes")
    store.path(digest).write_bytes(b"accepted bytez")
    with pytest.raises(NotFoundError, match="corrupt"):
        store.get(digest)


def test_unknown_and_malformed_digests(tmp_path: Path) -> None:
    store = BlobStore(tmp_path)
    with pytest.raises(NotFoundError, match="not in the store"):
        store.get("0" * 64)
    with pytest.raises(InputError, match="64 lower-case hex"):
        store.get("../../etc/passwd")


def test_a_write_the_disk_refuses_leaves_nothing_behind(tmp_path: Path) -> None:
    """A real write failure (the process's file-size limit, as a full disk would): the error reaches the caller,
    no temporary file keeps the space, and the same bytes go in once the limit is lifted."""
    probe = (
        "import resource, signal, sys\n"
        "from pathlib import Path\n"
        "from gateway.blobs import BlobStore\n"
        "signal.signal(signal.SIGXFSZ, signal.SIG_IGN)\n"
        "resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))\n"
        "try:\n"
        "    BlobStore(Path(sys.argv[1])).put(b'x' * 100_000)\n"
        "except OSError as exc:\n"
        "    print(type(exc).__name__, exc.errno)\n"
    )
    root = tmp_path / "blobs"
    result = subprocess.run([sys.executable, "-c", probe, str(root)], capture_output=True, text=True, timeout=60)
    assert result.stdout.split() == ["OSError", str(errno.EFBIG)], result.stdout + result.stderr
    assert [p for p in root.rglob("*") if p.is_file()] == []
    digest = BlobStore(root).put(b"x" * 100_000)
    assert BlobStore(root).get(digest) == b"x" * 100_000
    assert [p.name for p in root.rglob("*") if p.is_file()] == [digest]
