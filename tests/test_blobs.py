"""The blob store: content-addressed, durable, detects corruption."""

from __future__ import annotations

import hashlib
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
