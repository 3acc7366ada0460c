"""Maildir delivery: exact bytes, durable layout, idempotent on the delivery key, no path escapes."""

from __future__ import annotations

import contextlib
import mailbox
import os
import resource
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

from gateway.errors import InputError
from mailbox_adapter.maildir import MaildirDelivery

MESSAGE = b"From: a@x.test\r\nTo: vanthu@stc.camau.lienthong.test\r\nSubject: t\r\n\r\nbody \xe1\r\n"


def test_delivers_exact_bytes_into_new(tmp_path: Path) -> None:
    store = MaildirDelivery(tmp_path)
    result = store.deliver("VanThu@STC.camau.lienthong.test", MESSAGE, "doc-0001-recipient-a")
    assert not result.duplicate
    path = tmp_path / "stc.camau.lienthong.test" / "vanthu" / "Maildir" / result.location
    assert path.read_bytes() == MESSAGE
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    assert list((path.parent.parent / "tmp").iterdir()) == []
    # The standard library's Maildir reader (as a mail client would) sees exactly one message.
    box = mailbox.Maildir(path.parent.parent, create=False)
    assert [box.get_bytes(k) for k in box.keys()] == [MESSAGE]  # noqa: SIM118


def test_same_key_delivers_once(tmp_path: Path) -> None:
    store = MaildirDelivery(tmp_path)
    first = store.deliver("vanthu@stc.camau.lienthong.test", MESSAGE, "doc-0001-recipient-a")
    second = store.deliver("vanthu@stc.camau.lienthong.test", MESSAGE, "doc-0001-recipient-a")
    assert second.duplicate
    assert second.location == first.location
    other = store.deliver("vanthu@stc.camau.lienthong.test", MESSAGE, "doc-0002-recipient-a")
    assert not other.duplicate
    assert len(os.listdir(store.maildir("vanthu@stc.camau.lienthong.test") / "new")) == 2


def test_duplicate_found_after_crash_before_marker(tmp_path: Path) -> None:
    store = MaildirDelivery(tmp_path)
    first = store.deliver("vanthu@stc.camau.lienthong.test", MESSAGE, "doc-0003-recipient-a")
    (tmp_path / "stc.camau.lienthong.test" / "vanthu" / "delivered" / "doc-0003-recipient-a").unlink()
    again = store.deliver("vanthu@stc.camau.lienthong.test", MESSAGE, "doc-0003-recipient-a")
    assert again.duplicate
    assert again.location == first.location


@contextlib.contextmanager
def files_limited_to(size: int) -> Iterator[None]:
    """Writes past ``size`` bytes fail with a real EFBIG, as a full disk fails them (root ignores permissions)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    previous = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # else the kernel stops the process instead
    resource.setrlimit(resource.RLIMIT_FSIZE, (size, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
        signal.signal(signal.SIGXFSZ, previous)


def test_a_failed_write_leaves_no_temporary_file_and_the_next_attempt_succeeds(tmp_path: Path) -> None:
    store = MaildirDelivery(tmp_path)
    address, big = "vanthu@stc.camau.lienthong.test", MESSAGE * 1000
    store.ensure(address)
    with files_limited_to(4096), pytest.raises(OSError, match="File too large"):
        store.deliver(address, big, "doc-0005-recipient-a")
    maildir = store.maildir(address)
    assert [list((maildir / sub).iterdir()) for sub in ("tmp", "new")] == [[], []]
    result = store.deliver(address, big, "doc-0005-recipient-a")  # same process: no leftover stands in the way
    assert not result.duplicate
    assert (maildir / result.location).read_bytes() == big
    assert list((maildir / "tmp").iterdir()) == []


def test_marker_survives_client_moving_to_cur(tmp_path: Path) -> None:
    store = MaildirDelivery(tmp_path)
    first = store.deliver("vanthu@stc.camau.lienthong.test", MESSAGE, "doc-0004-recipient-a")
    base = store.maildir("vanthu@stc.camau.lienthong.test")
    (base / first.location).rename(base / "cur" / (Path(first.location).name + ":2,S"))
    assert store.deliver("vanthu@stc.camau.lienthong.test", MESSAGE, "doc-0004-recipient-a").duplicate


@pytest.mark.parametrize(
    "address", ["../etc@x.test", "a/b@x.test", "vanthu@..", "vanthu@x", "no-at-sign", "a@b/../c.test"]
)
def test_addresses_that_could_escape_are_refused(tmp_path: Path, address: str) -> None:
    with pytest.raises(InputError, match="mailbox address"):
        MaildirDelivery(tmp_path).deliver(address, MESSAGE, "doc-0001-recipient-a")


@pytest.mark.parametrize("key", ["short", "../../etc/passwd", "a" * 129, "key with space"])
def test_bad_keys_are_refused(tmp_path: Path, key: str) -> None:
    with pytest.raises(InputError, match="delivery key"):
        MaildirDelivery(tmp_path).deliver("vanthu@stc.camau.lienthong.test", MESSAGE, key)
