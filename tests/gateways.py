"""Two real gateways on loopback — a province and a national axis — each with its own CA, registry and ports, set up
to trust each other: shared by the federation tests, the crash tests (tests/crashes.py) and bench/exchange.py."""

from __future__ import annotations

import re
import signal
import subprocess
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from gateway.envelope.model import VIETNAM
from gateway.home import Home
from registry import db, peers
from tests.fixtures.smtp import free_port
from tests.fixtures.workers import cli, spawn_serve
from tests.fixtures.workers import halt as stop_serve

STC, STC_MAIL = "000.00.15.H12", "vanthu@stc.camau.lienthong.test"
VPCP, VPCP_MAIL = "000.00.00.G22", "vanthu@vpcp.quocgia.lienthong.test"


@dataclass
class Gateway:
    home: Home
    submission: int
    relay: int
    process: subprocess.Popen[str] | None = None


def set_config(home: Home, submission: int, relay: int, extra: str = "") -> None:
    text = home.config_path.read_text(encoding="utf-8")
    text = re.sub(r"(?m)^submission_port = \d+$", f"submission_port = {submission}", text)
    text = re.sub(r"(?m)^submission_tls_port = \d+$", "submission_tls_port = 0", text)
    text = re.sub(r"(?m)^relay_port = \d+$", f"relay_port = {relay}", text)
    home.config_path.write_text(text + extra, encoding="utf-8")


def register_peer(home: Home, name: str, other: Gateway) -> None:
    """Tell ``home`` about the other gateway as operators do: the other's ``peer export`` file (relay address, domain,
    DKIM key, TLS fingerprint), imported with ``peer add --from`` — so that the two gateways run pinned."""
    peer_file = home.root / f"peer-{name}.toml"
    peer_file.write_text(cli(other.home, "peer", "export", "--host", "127.0.0.1"), encoding="utf-8")
    cli(home, "peer", "add", name, "--from", str(peer_file))
    sessions = db.open_registry(home.database_url)
    with sessions() as session:
        assert peers.get(session, name).tls_fingerprint, "the imported peer is pinned"


def trust_other(home: Home, other: Home) -> str:
    root = other.keys_dir / "ca" / "root.pem"
    crl = other.keys_dir / "crl" / "issuing.crl"
    return f'\n[trust]\nanchors = ["{root}"]\ncrls = ["{crl}"]\n'


def make_pair(
    tmp_path: Path, retry_base_seconds: float = 1.0, queue: Mapping[str, float] | None = None
) -> tuple[Gateway, Gateway]:
    """A province gateway (the demo, with its CA) and a national axis gateway, each trusting the other. ``queue``:
    more ``[queue]`` settings for both (the crash test shortens the lease, so that a killed worker's items return
    within seconds)."""
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
    # Retries start after one second here (a minute by default), so that the outage test stays short.
    settings = {"retry_base_seconds": retry_base_seconds, **(queue or {})}
    retry = "\n[queue]\n" + "".join(f"{key} = {value}\n" for key, value in settings.items())
    set_config(province.home, province.submission, province.relay, trust_other(province.home, national.home) + retry)
    set_config(national.home, national.submission, national.relay, trust_other(national.home, province.home) + retry)
    province.home, national.home = Home(province.home.root), Home(national.home.root)
    register_peer(province.home, "quocgia", national)
    register_peer(national.home, "camau", province)
    return province, national


def start(gateway: Gateway) -> None:
    """Start ``lienthong serve``; its log goes to ``serve.log`` in the home (an unread pipe would fill and block it).
    Returns once every listener is up: submission, and relay unless its port is 0 (a gateway without peers)."""
    log = gateway.home.root / "serve.log"
    with log.open("ab") as sink:
        gateway.process = spawn_serve(gateway.home, sink)
    assert gateway.process.stdout is not None
    lines = [gateway.process.stdout.readline() for _ in range(2 if gateway.relay else 1)]
    assert all("listening on 127.0.0.1:" in line for line in lines), [*lines, log.read_text(errors="replace")[-2000:]]


def stop(gateway: Gateway) -> None:
    assert gateway.process is not None
    gateway.process.send_signal(signal.SIGTERM)
    assert gateway.process.wait(30) == 0


def halt(gateway: Gateway) -> None:
    """Stop a gateway that may already have stopped (for ``finally`` blocks): SIGTERM, then SIGKILL if it hangs."""
    stop_serve(gateway.process, grace_seconds=30)


@contextmanager
def running(*gateways: Gateway) -> Iterator[tuple[Gateway, ...]]:
    """Start the gateways and stop every one of them afterwards, whatever the test did."""
    try:
        for gateway in gateways:
            start(gateway)
        yield gateways
    finally:
        for gateway in gateways:
            halt(gateway)


def always_office_hours(home: Home, warning_office_hours: float, non_delivery_office_hours: float) -> Home:
    """Make every hour office time at ``home``, so that office-hour deadlines run on the wall clock.

    Configuration only, no fake clock: a profile open 00:00-24:00 seven days a week, and the override file marks the
    days around now as working days, which cancels any public holiday the run happens to fall on.
    """
    text = home.config_path.read_text(encoding="utf-8")
    text = re.sub(r"(?m)^warning_office_hours = .*$", f"warning_office_hours = {warning_office_hours}", text)
    text = re.sub(
        r"(?m)^non_delivery_office_hours = .*$", f"non_delivery_office_hours = {non_delivery_office_hours}", text
    )
    weekdays = '["mon", "tue", "wed", "thu", "fri", "sat", "sun"]'
    text += f'\n[calendar.profiles.always]\nhours = ["00:00-24:00"]\nweekdays = {weekdays}\n'
    text += '\n[calendar.default]\nprofile = "always"\n'
    home.config_path.write_text(text, encoding="utf-8")
    today = datetime.now(VIETNAM).date()
    days = [today + timedelta(days=n) for n in (-1, 0, 1)]
    overrides = "".join(
        f'[[working_day]]\ndate = "{day}"\nname = "Thử nghiệm: cả ngày là giờ hành chính"\n\n' for day in days
    )
    Home(home.root).calendar_overrides_path.write_text(overrides, encoding="utf-8")
    return Home(home.root)


def wait_for(condition: Callable[[], bool], seconds: float, step: float = 0.3) -> bool:
    """Poll ``condition`` until it holds or ``seconds`` pass; the caller asserts on the result."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(step)
    return True


def openssl_verify(raw: bytes, root: Path, workdir: Path) -> subprocess.CompletedProcess[str]:
    """``openssl cms -verify`` of a signed message against one root, as anyone holding the message could run it."""
    path = workdir / "to-verify.eml"
    path.write_bytes(raw)
    return subprocess.run(
        ["openssl", "cms", "-verify", "-in", str(path), "-CAfile", str(root), "-purpose", "smimesign",
         "-out", "/dev/null"],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
