"""``lienthong peer``: add, list, show, set, remove, export and import peer gateways; every bad value is one line
naming its option."""

from __future__ import annotations

import json
import subprocess
import tomllib
from pathlib import Path

import pytest

from certs import dkim
from gateway.home import Home
from registry import db, peers
from tests.fixtures.registry import invoke, one_line_error

FP_A = "a1" * 32
FP_B = "b2" * 32


@pytest.fixture
def peer_key(tmp_path: Path) -> dkim.DkimKey:
    return dkim.generate(tmp_path / "peer-dkim", "q1", dkim.DkimAlgorithm.ED25519)


def ok(home: Home, *args: str) -> str:
    result = invoke(home, *args)
    assert result.exit_code == 0, result.output + result.stderr
    return result.output


def add_hanoi(home: Home, *extra: str) -> str:
    return ok(
        home, "peer", "add", "hanoi", "--host", "mx.hanoi.test", "--port", "2525", "--domain", "hanoi.test", *extra
    )


def shown(home: Home, name: str) -> dict[str, object]:
    data: dict[str, object] = json.loads(ok(home, "peer", "show", name, "--json"))
    return data


def test_add_list_show_with_dkim_and_pin(demo_home: Home, peer_key: dkim.DkimKey) -> None:
    out = add_hanoi(
        demo_home, "--dkim-selector", "q1", "--dkim-key", peer_key.txt_value, "--tls-fingerprint", FP_A.upper()
    )
    assert "added peer hanoi" in out
    assert "1 TLS pin" in out
    assert shown(demo_home, "hanoi") == {
        "name": "hanoi",
        "host": "mx.hanoi.test",
        "port": 2525,
        "domain": "hanoi.test",
        "dkim_selector": "q1",
        "dkim_key": peer_key.txt_value,
        "tls_fingerprints": [FP_A],
        "agencies": [],
    }
    [row] = json.loads(ok(demo_home, "peer", "list", "--json"))
    assert (row["name"], row["tls_fingerprints"]) == ("hanoi", [FP_A])
    table = ok(demo_home, "peer", "list")
    assert "hanoi" in table
    assert "1 peer gateways" in table
    # the key the relay listener will look DKIM signatures up with
    sessions = db.open_registry(demo_home.database_url)
    assert dkim.RegistryLookup(sessions)(b"q1._domainkey.hanoi.test.") == peer_key.txt_value.encode()


def test_pins_from_colon_fingerprints_and_pem_files_for_a_rollover(demo_home: Home, tmp_path: Path) -> None:
    root = demo_home.keys_dir / "ca" / "root.pem"
    ok(demo_home, "ca", "init")
    openssl = subprocess.run(
        ["openssl", "x509", "-in", str(root), "-noout", "-fingerprint", "-sha256"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout  # "sha256 Fingerprint=AB:CD:..."
    colon_form = openssl.strip().split("=", 1)[1]
    expected = colon_form.replace(":", "").lower()
    add_hanoi(demo_home, "--tls-fingerprint", colon_form)
    assert shown(demo_home, "hanoi")["tls_fingerprints"] == [expected]
    # rollover: the old pin and the new certificate together, then the old one dropped
    ok(demo_home, "peer", "set", "hanoi", "--tls-fingerprint", FP_A, "--tls-cert", str(root))
    assert shown(demo_home, "hanoi")["tls_fingerprints"] == [FP_A, expected]
    ok(demo_home, "peer", "set", "hanoi", "--tls-fingerprint", f"{FP_B}, {FP_A}")
    assert shown(demo_home, "hanoi")["tls_fingerprints"] == [FP_B, FP_A]
    ok(demo_home, "peer", "set", "hanoi", "--no-pin")
    assert shown(demo_home, "hanoi")["tls_fingerprints"] == []


def test_set_changes_only_what_is_given(demo_home: Home, peer_key: dkim.DkimKey, tmp_path: Path) -> None:
    add_hanoi(demo_home, "--tls-fingerprint", FP_A)
    out = ok(demo_home, "peer", "set", "hanoi", "--host", "127.0.0.1", "--port", "10025")
    assert "--host" in out
    assert "--port" in out
    # a key file as 'dkim dns' prints it (zone line, quoted chunks) gives the selector too
    zone = tmp_path / "dns.txt"
    zone.write_text(peer_key.dns_record("hanoi.test") + "\n", encoding="utf-8")
    ok(demo_home, "peer", "set", "hanoi", "--dkim-key", str(zone), "--domain", "HaNoi2.test")
    data = shown(demo_home, "hanoi")
    assert (data["host"], data["port"], data["domain"]) == ("127.0.0.1", 10025, "hanoi2.test")
    assert (data["dkim_selector"], data["dkim_key"]) == ("q1", peer_key.txt_value)
    assert data["tls_fingerprints"] == [FP_A]  # untouched


def test_remove_refuses_while_agencies_are_hosted(demo_home: Home) -> None:
    add_hanoi(demo_home)
    ok(demo_home, "agency", "add", "000.00.99.H12", "--name", "Sở X", "--short", "SX",
       "--mail", "vanthu@sx.hanoi.test", "--gateway", "hanoi")  # fmt: skip
    message = one_line_error(invoke(demo_home, "peer", "remove", "hanoi"))
    assert message == "peer gateway 'hanoi' still hosts agencies: 000.00.99.H12; mail to them would have no route"
    add_hanoi_other = ("peer", "add", "hue", "--host", "mx.hue.test", "--port", "25", "--domain", "hue.test")
    ok(demo_home, *add_hanoi_other)
    assert "removed peer hue" in ok(demo_home, "peer", "remove", "hue")
    assert [p["name"] for p in json.loads(ok(demo_home, "peer", "list", "--json"))] == ["hanoi"]
    assert one_line_error(invoke(demo_home, "peer", "remove", "hue")) == "peer gateway 'hue' is not in the registry"


def test_export_then_import_federates(demo_home: Home, tmp_path: Path) -> None:
    ok(demo_home, "ca", "init")
    ok(demo_home, "cert", "issue", "tls", "--host", "camau.lienthong.test")
    ok(demo_home, "dkim", "keygen")
    text = ok(demo_home, "peer", "export")
    values = tomllib.loads(text)["peer"]
    as_json = json.loads(ok(demo_home, "peer", "export", "--json"))
    assert values == as_json
    assert (values["name"], values["domain"], values["port"]) == ("camau", "camau.lienthong.test", 10025)
    [dns] = json.loads(ok(demo_home, "dkim", "dns", "--json"))
    assert (values["dkim_selector"], values["dkim_key"]) == (dns["selector"], dns["txt"])
    served = Path(demo_home.keys_dir / "tls-served-chain.pem")
    openssl = subprocess.run(
        ["openssl", "x509", "-in", str(served), "-noout", "-fingerprint", "-sha256"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    assert values["tls_fingerprint"] == openssl.strip().split("=", 1)[1].replace(":", "").lower()
    # the other operator imports it (a second home), correcting the host; NAME and options override the file
    other = Home(tmp_path / "other")
    ok(other, "init")
    exported = tmp_path / "camau.toml"
    exported.write_text(text, encoding="utf-8")
    assert "1 TLS pin" in ok(other, "peer", "add", "--from", str(exported), "--host", "127.0.0.1")
    data = shown(other, "camau")
    assert (data["host"], data["port"], data["domain"]) == ("127.0.0.1", 10025, "camau.lienthong.test")
    assert data["tls_fingerprints"] == [values["tls_fingerprint"]]
    as_file = tmp_path / "camau.json"
    as_file.write_text(json.dumps(as_json), encoding="utf-8")
    ok(other, "peer", "add", "camau2", "--from", str(as_file), "--domain", "camau2.lienthong.test")
    sessions = db.open_registry(other.database_url)
    with sessions() as session:
        assert peers.get(session, "camau2").dkim_public_key == values["dkim_key"]


def test_export_without_a_tls_certificate_says_what_to_run(demo_home: Home) -> None:
    ok(demo_home, "dkim", "keygen")
    message = one_line_error(invoke(demo_home, "peer", "export"))
    assert "no valid TLS certificate" in message
    assert "lienthong cert issue tls" in message


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        (("--tls-fingerprint", "abc"), "--tls-fingerprint 'abc': expected a SHA-256 fingerprint (64 hex digits"),
        (("--tls-fingerprint", "zz" * 32), "--tls-fingerprint"),
        (("--tls-fingerprint", ",".join([FP_A, FP_B, "c3" * 32, "d4" * 32, "e5" * 32])), "at most 4 fingerprints"),
        (("--tls-cert", "/nonexistent/peer.pem"), "--tls-cert /nonexistent/peer.pem: cannot read"),
        (("--tls-cert", "/etc/hostname"), "--tls-cert /etc/hostname: not a PEM certificate"),
        (("--dkim-selector", "q1", "--dkim-key", "v=DKIM1; p="), "--dkim-key 'v=DKIM1; p=': expected a DKIM TXT"),
        (("--dkim-selector", "q1", "--dkim-key", "v=DKIM1; k=dsa; p=AAAA"), "--dkim-key 'v=DKIM1; k=dsa; p=AAAA'"),
        (("--dkim-selector", "q1", "--dkim-key", "v=DKIM1; k=ed25519; p=AAAA"), "--dkim-key: p= must be a 32-byte"),
        (("--dkim-selector", "q1", "--dkim-key", "v=DKIM1; k=rsa; p=AAAA"), "--dkim-key: p= is not an RSA public"),
        (("--dkim-selector", "q1", "--dkim-key", "/nonexistent/key"), "--dkim-key '/nonexistent/key': neither a"),
        (("--dkim-selector", "q1"), "--dkim-selector and --dkim-key go together"),
        (("--dkim-selector", "bad selector", "--dkim-key", "v=DKIM1; k=ed25519; p=" + "A" * 43 + "="), "--dkim-sel"),
    ],
)
def test_bad_values_are_one_line_naming_the_option(demo_home: Home, extra: tuple[str, ...], expected: str) -> None:
    result = invoke(
        demo_home, "peer", "add", "hanoi", "--host", "mx.test", "--port", "25", "--domain", "h.test", *extra
    )
    assert expected in one_line_error(result)
    assert json.loads(ok(demo_home, "peer", "list", "--json")) == []


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("peer", "add", "Ha Noi", "--host", "mx.test", "--port", "25", "--domain", "h.test"), "NAME 'Ha Noi'"),
        (("peer", "add", "hanoi", "--host", "mx..test", "--port", "25", "--domain", "h.test"), "--host 'mx..test'"),
        (("peer", "add", "hanoi", "--host", "mx.test", "--port", "0", "--domain", "h.test"), "--port 0: expected"),
        (("peer", "add", "hanoi", "--host", "mx.test", "--port", "x", "--domain", "h.test"), "'--port'"),
        (("peer", "add", "hanoi", "--host", "mx.test", "--port", "25", "--domain", "localhost"), "--domain 'localh"),
        (("peer", "add", "hanoi", "--host", "mx.test", "--domain", "h.test"), "--port is required"),
        (("peer", "set", "nowhere", "--port", "25"), "peer gateway 'nowhere' is not in the registry"),
        (("peer", "set", "nowhere"), "nothing to change"),
        (("peer", "set", "nowhere", "--no-pin", "--tls-fingerprint", FP_A), "--no-pin: not together"),
        (("peer", "add", "--from", "/nonexistent.toml"), "--from /nonexistent.toml: cannot read"),
    ],
)
def test_command_errors(demo_home: Home, args: tuple[str, ...], expected: str) -> None:
    assert expected in one_line_error(invoke(demo_home, *args))


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("[peer\nname=", "not a peer file (TOML or JSON)"),
        ('[peer]\nname = "x"\ncolour = "red"\n', "unknown key 'colour'"),
        ('[peer]\nname = "x"\nport = "25"\n', "port must be an integer"),
        ('[peer]\nname = "x"\nhost = "mx.test"\nport = 25\n', "--domain is required (or give --from FILE"),
        (
            '{"name": "x", "host": "mx.test", "port": 25, "domain": "x.test", "tls_fingerprint": "nope"}',
            ": tls_fingerp",
        ),
        ('[peer]\nname = "x"\nhost = "mx.test"\nport = 99999\ndomain = "x.test"\n', ": port 99999: expected 1-65535"),
    ],
)
def test_bad_peer_files_name_the_file_and_key(demo_home: Home, tmp_path: Path, content: str, expected: str) -> None:
    path = tmp_path / "peer.toml"
    path.write_text(content, encoding="utf-8")
    message = one_line_error(invoke(demo_home, "peer", "add", "--from", str(path)))
    assert expected in message
    if expected.startswith(":"):
        assert message.startswith(str(path))


def test_duplicate_name_or_domain_is_refused(demo_home: Home) -> None:
    add_hanoi(demo_home)
    result = invoke(demo_home, "peer", "add", "hanoi", "--host", "mx.test", "--port", "25", "--domain", "x.test")
    assert one_line_error(result) == "NAME 'hanoi': a peer gateway with this name already exists"
    result = invoke(demo_home, "peer", "add", "hue", "--host", "mx.test", "--port", "25", "--domain", "HANOI.test")
    assert one_line_error(result) == "--domain 'hanoi.test': another peer gateway already serves this domain"
