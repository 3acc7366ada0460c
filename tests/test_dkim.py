"""DKIM: keys and DNS records, signing with dkimpy, verification through a key lookup, Authentication-Results."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from certs import dkim
from certs.context import dkim_signing_keys
from certs.errors import DkimFail
from gateway.cli import main
from gateway.cli.init import registry_sessions
from gateway.home import Home
from registry.models import PeerGateway
from tests.fixtures.registry import invoke, one_line_error

DOMAIN = "camau.lienthong.test"
MESSAGE = (
    b"From: vanthu@stc.camau.lienthong.test\r\n"
    b"To: vanthu@syt.camau.lienthong.test\r\n"
    b"Subject: =?utf-8?b?Q8O0bmcgdsSDbg==?=\r\n"
    b"Date: Wed, 25 Nov 2026 08:00:00 +0700\r\n"
    b"Message-ID: <1@camau.lienthong.test>\r\n"
    b"MIME-Version: 1.0\r\n"
    b"Content-Type: text/plain; charset=utf-8\r\n\r\n" + "Kính gửi Sở Y tế.\r\n".encode()
)


class FakeDns:
    """FAKE DNS (the outside world owns DNS): answers TXT queries from a dict, and records what was asked."""

    def __init__(self, records: dict[str, str]) -> None:
        self.records = records
        self.asked: list[str] = []

    def __call__(self, name: bytes, timeout: int = 5) -> bytes | None:
        text = name.decode().rstrip(".")
        self.asked.append(text)
        value = self.records.get(text)
        return value.encode() if value is not None else None


def _dns_for(*keys: dkim.DkimKey) -> FakeDns:
    return FakeDns({f"{k.selector}._domainkey.{DOMAIN}": k.txt_value for k in keys})


@pytest.fixture
def keys(tmp_path: Path) -> tuple[dkim.DkimKey, dkim.DkimKey]:
    directory = tmp_path / "dkim"
    return (
        dkim.generate(directory, "lt1-ed25519", dkim.DkimAlgorithm.ED25519),
        dkim.generate(directory, "lt1-rsa", dkim.DkimAlgorithm.RSA),
    )


def test_ed25519_and_rsa_signatures_verify(keys: tuple[dkim.DkimKey, dkim.DkimKey]) -> None:
    signed = dkim.sign(MESSAGE, DOMAIN, keys) + MESSAGE
    dns = _dns_for(*keys)
    checks = dkim.verify(signed, dns)
    assert [(c.algorithm, c.passed) for c in checks] == [("ed25519-sha256", True), ("rsa-sha256", True)]
    assert dns.asked == [f"lt1-ed25519._domainkey.{DOMAIN}", f"lt1-rsa._domainkey.{DOMAIN}"]
    assert dkim.require_pass(checks, DOMAIN).selector == "lt1-ed25519"
    header = dkim.authentication_results("syt.lienthong.test", checks)
    assert header.startswith("syt.lienthong.test;")
    assert f"dkim=pass header.d={DOMAIN} header.s=lt1-ed25519 header.a=ed25519-sha256" in header
    assert "header.a=rsa-sha256" in header


def test_tampered_body_fails(keys: tuple[dkim.DkimKey, dkim.DkimKey]) -> None:
    signed = dkim.sign(MESSAGE, DOMAIN, keys[:1]) + MESSAGE
    checks = dkim.verify(signed.replace("Sở Y tế".encode(), "Sở Y tê".encode()), _dns_for(*keys))
    assert [c.passed for c in checks] == [False]
    assert "dkim=fail" in dkim.authentication_results("x", checks)
    with pytest.raises(DkimFail) as caught:
        dkim.require_pass(checks, DOMAIN)
    assert caught.value.reason.code == "DKIM_FAIL"


def test_unknown_key_and_wrong_domain_fail(keys: tuple[dkim.DkimKey, dkim.DkimKey]) -> None:
    signed = dkim.sign(MESSAGE, DOMAIN, keys[:1]) + MESSAGE
    checks = dkim.verify(signed, FakeDns({}))
    assert [c.passed for c in checks] == [False]
    assert checks[0].detail
    good = dkim.verify(signed, _dns_for(*keys))
    with pytest.raises(DkimFail, match=r"from other\.lienthong\.test"):
        dkim.require_pass(good, "other.lienthong.test")


def test_unsigned_message_is_dkim_none() -> None:
    assert dkim.verify(MESSAGE, FakeDns({})) == []
    assert dkim.authentication_results("x.test", []) == "x.test; dkim=none"


def test_registry_lookup(keys: tuple[dkim.DkimKey, dkim.DkimKey], sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        session.add(
            PeerGateway(
                name="camau",
                smtp_host="127.0.0.1",
                smtp_port=2525,
                domain=DOMAIN,
                dkim_selector="lt1-ed25519",
                dkim_public_key=keys[0].txt_value,
            )
        )
    signed = dkim.sign(MESSAGE, DOMAIN, keys) + MESSAGE
    checks = dkim.verify(signed, dkim.RegistryLookup(sessions))
    # only the Ed25519 selector is registered: the RSA signature has no key and fails, the Ed25519 one passes
    assert [(c.selector, c.passed) for c in checks] == [("lt1-ed25519", True), ("lt1-rsa", False)]


def test_cli_keygen_and_dns(tmp_path: Path) -> None:
    root = tmp_path / "home"
    runner = CliRunner()
    assert runner.invoke(main, ["--home", str(root), "init", "--demo"]).exit_code == 0
    result = runner.invoke(main, ["--home", str(root), "dkim", "keygen"])
    assert result.exit_code == 0, result.output + result.stderr
    result = runner.invoke(main, ["--home", str(root), "dkim", "dns"])
    assert result.output.startswith(f'lt1-ed25519._domainkey.{DOMAIN}. IN TXT "v=DKIM1; k=ed25519; p=')
    again = runner.invoke(main, ["--home", str(root), "dkim", "keygen"])
    assert again.exit_code != 0
    assert "refusing to overwrite" in again.stderr
    runner.invoke(main, ["--home", str(root), "dkim", "keygen", "--algorithm", "rsa"])
    records = json.loads(runner.invoke(main, ["--home", str(root), "dkim", "dns", "--json"]).output)
    assert [r["algorithm"] for r in records] == ["ed25519", "rsa"]
    home = Home(root)
    assert [k.selector for k in dkim_signing_keys(home)] == ["lt1-ed25519"]  # rsa only with dkim_extra_rsa
    signing = dkim.signing_keys(home.keys_dir / "dkim", "lt1", extra_rsa=True)
    assert [k.selector for k in signing] == ["lt1-ed25519", "lt1-rsa"]
    message = tmp_path / "m.eml"
    message.write_bytes(dkim.sign(MESSAGE, DOMAIN, signing) + MESSAGE)
    verified = runner.invoke(main, ["--home", str(root), "dkim", "verify", str(message)])
    # the demo registry has no DKIM key registered for this domain yet, so both fail, with a reason
    assert verified.output.startswith("Authentication-Results: camau.lienthong.test;")
    assert verified.output.count("dkim=fail") == 2


def test_cli_verify_json_uses_the_registered_key(demo_home: Home, tmp_path: Path) -> None:
    """The peer registered only its Ed25519 key: that signature passes, the RSA one fails with a reason."""
    runner = CliRunner()
    home = ["--home", str(demo_home.root)]
    for algorithm in ("ed25519", "rsa"):
        assert runner.invoke(main, [*home, "dkim", "keygen", "--algorithm", algorithm]).exit_code == 0
    signing = dkim.signing_keys(demo_home.keys_dir / "dkim", "lt1", extra_rsa=True)
    with registry_sessions(demo_home).begin() as session:
        peer = session.scalars(select(PeerGateway).where(PeerGateway.domain == DOMAIN)).first()
        if peer is None:
            peer = PeerGateway(name="camau-peer", smtp_host="127.0.0.1", smtp_port=2525, domain=DOMAIN)
            session.add(peer)
        peer.dkim_selector, peer.dkim_public_key = "lt1-ed25519", signing[0].txt_value
    message = tmp_path / "m.eml"
    message.write_bytes(dkim.sign(MESSAGE, DOMAIN, signing) + MESSAGE)
    result = runner.invoke(main, [*home, "dkim", "verify", "--json", str(message)])
    assert result.exit_code == 0, result.output + result.stderr
    data = json.loads(result.output)
    assert [(s["selector"], s["algorithm"], s["passed"]) for s in data["signatures"]] == [
        ("lt1-ed25519", "ed25519-sha256", True),
        ("lt1-rsa", "rsa-sha256", False),
    ]
    assert data["signatures"][1]["detail"]
    assert data["signatures"][0]["domain"] == DOMAIN
    results = " ".join(data["authentication_results"].split())
    assert results.startswith(f"{DOMAIN}; dkim=pass header.d={DOMAIN} header.s=lt1-ed25519")
    assert "dkim=fail" in results

    tampered = tmp_path / "tampered.eml"
    tampered.write_bytes(message.read_bytes().replace("Sở Y tế".encode(), "Sở Y tê".encode()))
    failed = json.loads(runner.invoke(main, [*home, "dkim", "verify", "--json", str(tampered)]).output)
    assert [s["passed"] for s in failed["signatures"]] == [False, False]


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("dkim", "verify", "missing.eml"), "MESSAGE missing.eml: cannot read"),
        (("dkim", "verify", "garbage.eml"), "the message header cannot be parsed"),
        (("dkim", "dns"), "no DKIM key in this home"),
        (("dkim", "keygen", "--selector", "bad/selector"), "--selector 'bad/selector'"),
        (("cert", "show", "feed"), "certificate feed: not found"),
        (("cert", "activate", "feed"), "certificate feed: not found"),
        (("cert", "revoke", "feed", "--reason", "superseded"), "certificate feed: not found"),
        (("cert", "issue", "smime", "--agency", "000.00.15.H12", "--mail", "a@b.test"), "run 'lienthong ca init'"),
        (
            ("cert", "import", "--agency", "000.00.15.H12", "--cert", "garbage.eml", "--key", "garbage.eml"),
            "--cert garbage.eml: not a PEM certificate bundle",
        ),
        (("cert", "import", "--cert", "garbage.eml", "--key", "garbage.eml"), "--agency: required"),
        (("crl", "issue"), "run 'lienthong ca init'"),
    ],
)
def test_cli_errors_are_one_line(
    demo_home: Home, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, args: tuple[str, ...], expected: str
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "garbage.eml").write_bytes(b"\x00\xff not a message")
    assert expected in one_line_error(invoke(demo_home, *args))


@pytest.mark.parametrize(
    "body",
    [
        "Kính gửi Sở Y tế.\r\n".encode() * 2000,  # a large CRLF body: the gateway's fast path
        b"line\nwith bare LF\r\n",  # not CRLF throughout: dkimpy's own parsing
        b"",
    ],
    ids=["crlf", "bare-lf", "empty"],
)
def test_signatures_agree_with_dkimpy_both_ways(keys: tuple[dkim.DkimKey, dkim.DkimKey], body: bytes) -> None:
    import dkim as dkimpy  # the library itself, without the gateway's header-only parsing

    message = MESSAGE.split(b"\r\n\r\n", 1)[0] + b"\r\n\r\n" + body
    dns = _dns_for(*keys)
    ours = dkim.sign(message, DOMAIN, keys) + message
    for index in range(2):
        assert dkimpy.DKIM(ours).verify(idx=index, dnsfunc=dns)
    theirs = b"".join(
        dkimpy.sign(message, k.selector.encode(), DOMAIN.encode(), k.private, signature_algorithm=algorithm)
        for k in keys
        for algorithm in [k.algorithm.signature_algorithm]
    )
    checks = dkim.verify(theirs + message, dns)
    assert [c.passed for c in checks] == [True, True]
    assert not any(c.passed for c in dkim.verify(theirs + message + b"x", dns))
