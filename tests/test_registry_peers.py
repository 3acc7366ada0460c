"""Peer gateways: addressing now, trust-material columns empty until the trust issue fills them."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session, sessionmaker

from gateway.errors import InputError, NotFoundError
from registry import peers


def test_add_and_find(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        peers.add(session, "hanoi", "MX.Hanoi.lienthong.test", "HaNoi.lienthong.test", 2525)
    with sessions() as session:
        peer = peers.get(session, "hanoi")
        assert (peer.smtp_host, peer.smtp_port, peer.domain) == (
            "mx.hanoi.lienthong.test",
            2525,
            "hanoi.lienthong.test",
        )
        assert (peer.tls_fingerprint, peer.dkim_selector, peer.dkim_public_key) == (None, None, None)
        found = peers.by_domain(session, "HANOI.lienthong.test")
        assert found is not None
        assert found.name == "hanoi"
        assert [p.name for p in peers.listing(session)] == ["hanoi"]
        with pytest.raises(NotFoundError, match="peer gateway 'hue'"):
            peers.get(session, "hue")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("Ha Noi", "mx.test", "hn.test", 25), "name 'Ha Noi': expected a gateway name"),
        (("hue", "mx..test", "hue.test", 25), "smtp host 'mx..test'"),
        (("hue", "mx.test", "localhost", 25), "domain 'localhost': expected a mail domain"),
        (("hue", "mx.test", "hue.test", 70000), "smtp port 70000: expected 1-65535"),
        (("hanoi", "mx.test", "other.test", 25), "name 'hanoi': a peer gateway with this name already exists"),
        (("hue", "mx.test", "hanoi.lienthong.test", 25), "domain 'hanoi.lienthong.test': another peer gateway"),
    ],
)
def test_refusals(sessions: sessionmaker[Session], args: tuple[str, str, str, int], message: str) -> None:
    with sessions.begin() as session:
        peers.add(session, "hanoi", "mx.hanoi.lienthong.test", "hanoi.lienthong.test")
    with pytest.raises(InputError) as caught, sessions.begin() as session:
        peers.add(session, *args)
    assert message in caught.value.message
