"""Two real gateways on loopback — a province and a national axis — each with its own CA, registry and ports, set up
to trust each other: shared by the federation tests and bench/exchange.py."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from click.testing import CliRunner

from certs import context
from gateway.cli import main
from gateway.home import Home
from registry import db, peers
from tests.fixtures.smtp import free_port

STC, STC_MAIL = "000.00.15.H12", "vanthu@stc.camau.lienthong.test"
VPCP, VPCP_MAIL = "000.00.00.G22", "vanthu@vpcp.quocgia.lienthong.test"


@dataclass
class Gateway:
    home: Home
    submission: int
    relay: int
    process: subprocess.Popen[str] | None = None


def cli(home: Home, *args: str) -> None:
    result = CliRunner().invoke(main, ["--home", str(home.root), *args])
    assert result.exit_code == 0, result.output + result.stderr


def set_config(home: Home, submission: int, relay: int, extra: str = "") -> None:
    text = home.config_path.read_text(encoding="utf-8")
    text = re.sub(r"(?m)^submission_port = \d+$", f"submission_port = {submission}", text)
    text = re.sub(r"(?m)^submission_tls_port = \d+$", "submission_tls_port = 0", text)
    text = re.sub(r"(?m)^relay_port = \d+$", f"relay_port = {relay}", text)
    home.config_path.write_text(text + extra, encoding="utf-8")


def register_peer(home: Home, name: str, other: Gateway) -> None:
    """Tell ``home`` about the other gateway: its relay address, domain and DKIM key (as DNS would publish it)."""
    key = context.dkim_signing_keys(other.home)[0]
    sessions = db.open_registry(home.database_url)
    with sessions.begin() as session:
        peer = peers.add(session, name, "127.0.0.1", other.home.settings.gateway.domain, other.relay)
        peer.dkim_selector, peer.dkim_public_key = key.selector, key.txt_value


def trust_other(home: Home, other: Home) -> str:
    root = other.keys_dir / "ca" / "root.pem"
    crl = other.keys_dir / "crl" / "issuing.crl"
    # Retries start after one second here (a minute by default), so that the outage test stays short.
    return f'\n[trust]\nanchors = ["{root}"]\ncrls = ["{crl}"]\n'


def make_pair(tmp_path: Path, retry_base_seconds: float = 1.0) -> tuple[Gateway, Gateway]:
    """A province gateway (the demo, with its CA) and a national axis gateway, each trusting the other."""
    # Province gateway: the demo, with its own CA.
    province = Gateway(Home(tmp_path / "camau"), free_port(), free_port())
    cli(province.home, "init", "--demo", "--with-pki")
    # National axis gateway: a second home with its own CA and one agency, the Government Office.
    national = Gateway(Home(tmp_path / "quocgia"), free_port(), free_port())
    cli(national.home, "init")
    text = national.home.config_path.read_text(encoding="utf-8")
    text = text.replace('name = "lienthong"', 'name = "quocgia"').replace(
        'domain = "lienthong.localhost"', 'domain = "quocgia.lienthong.test"'
    )
    national.home.config_path.write_text(text, encoding="utf-8")
    national.home = Home(national.home.root)
    cli(national.home, "ca", "init")
    cli(national.home, "agency", "add", VPCP, "--name", "Văn phòng Chính phủ", "--short", "VPCP", "--mail", VPCP_MAIL)
    cli(national.home, "cert", "issue", "smime", "--agency", VPCP, "--mail", VPCP_MAIL)
    cli(national.home, "cert", "issue", "tls", "--host", "quocgia.lienthong.test")
    cli(national.home, "dkim", "keygen")
    # Each registry learns the other's agency and gateway; each trusts the other's root and CRL.
    cli(province.home, "agency", "add", VPCP, "--name", "Văn phòng Chính phủ", "--short", "VPCP",
        "--mail", VPCP_MAIL, "--gateway", "quocgia")  # fmt: skip
    cli(national.home, "agency", "add", STC, "--name", "Sở Tài chính tỉnh Cà Mau", "--short", "STC",
        "--mail", STC_MAIL, "--gateway", "camau")  # fmt: skip
    retry = f"\n[queue]\nretry_base_seconds = {retry_base_seconds}\n"
    set_config(province.home, province.submission, province.relay, trust_other(province.home, national.home) + retry)
    set_config(national.home, national.submission, national.relay, trust_other(national.home, province.home) + retry)
    province.home, national.home = Home(province.home.root), Home(national.home.root)
    register_peer(province.home, "quocgia", national)
    register_peer(national.home, "camau", province)
    return province, national


def start(gateway: Gateway) -> None:
    gateway.process = subprocess.Popen(
        [sys.executable, "-m", "gateway.cli", "--home", str(gateway.home.root), "serve"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert gateway.process.stdout is not None
    lines = [gateway.process.stdout.readline() for _ in range(2)]
    assert all("listening on 127.0.0.1:" in line for line in lines), lines


def stop(gateway: Gateway) -> None:
    assert gateway.process is not None
    gateway.process.send_signal(signal.SIGTERM)
    assert gateway.process.wait(30) == 0
