"""End-to-end exchange between two real gateways on loopback, against the cost floor of the same documents.

Two `lienthong serve` processes (a province and a national axis gateway, each with its own CA; SQLite) exchange
documents with 200 KB PDFs, a different one in each document: submitted over SMTP/TLS at the province, processed,
signed, relayed over mutual TLS with DKIM, delivered, receipted, and the receipt relayed back and recorded. It
prints:

- documents/s end to end (first submission to the last receipt recorded at the sender), several clients at once;
- acceptance latency p50/p99 (SMTP DATA to 250) at about half that rate;
- the cost floor: S/MIME signing + verification, SHA-256 and an fsync'd write of the same documents in one process
  with no SMTP and no parsing, and the ratio between the two;
- CPU time per document in each gateway (with its PDF inspection workers), which, unlike the rates, does not
  depend on what else the machine is doing, and the rate those figures allow on this machine's cores;
- the library floor of a whole exchange (bench/exchange_floor.py): the CPU the signatures, verifications, PDF
  inspections and fsync'd writes of one exchange cost with no gateway around them, and the rate that bounds.

Targets (issue 5, 2-core machine): >= 100 documents/s end to end; acceptance p99 <= 100 ms at half that load.
Run: .venv/bin/python bench/exchange.py [DOCUMENTS]
"""

from __future__ import annotations

import hashlib
import os
import signal
import smtplib
import ssl
import statistics
import sys
import tempfile
import threading
import time
from dataclasses import replace
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import func, select

from bench.envelope import make_pdf
from bench.exchange_floor import describe, exchange_floor
from certs import context
from certs.lifecycle import active_signer
from certs.verify import Sender
from gateway.documents import OutgoingRecipient
from gateway.envelope.build import build_document
from gateway.envelope.model import VIETNAM, Code, Organization
from gateway.workers.signing import sign_outgoing
from registry import db
from tests.fixtures.envelope import make_header
from tests.gateways import STC, STC_MAIL, VPCP, VPCP_MAIL, Gateway, make_pair, start
from tests.test_serve import credentials


def documents(count: int, first: int) -> list[bytes]:
    """Each with a PDF of its own, as in real traffic: the gateways' inspection caches (by the PDF's SHA-256) never
    answer for a document they have not seen."""
    today = datetime.now(VIETNAM).date()
    out = []
    for n in range(first, first + count):
        pdf = make_pdf(200 * 1024)
        header = make_header(
            from_=Organization(STC, organ_name="Sở Tài chính tỉnh Cà Mau", email=STC_MAIL),
            code=Code(str(n), "STC-BENCH"),
            issued=today,
        )
        header = replace(header, to=(Organization(VPCP, organ_name="Văn phòng Chính phủ", email=VPCP_MAIL),))
        out.append(build_document(header, pdf, sent_at=datetime.now(VIETNAM)))
    return out


def tree_cpu(pid: int) -> float:
    """CPU seconds used by a process and everything below it (reaped children included), from /proc."""
    ticks = os.sysconf("SC_CLK_TCK")
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        children = [
            int(child)
            for task in Path(f"/proc/{pid}/task").iterdir()
            for child in (task / "children").read_text().split()
        ]
    except (FileNotFoundError, ProcessLookupError):
        return 0.0
    own = sum(int(value) for value in fields[11:15]) / ticks  # utime, stime, cutime, cstime
    return own + sum(tree_cpu(child) for child in children)


def sender_receipts(province: Gateway) -> int:
    sessions = db.session_factory(db.make_engine(province.home.database_url))
    with sessions() as session:
        return int(session.scalar(select(func.count()).select_from(OutgoingRecipient)) or 0)


def client(province: Gateway) -> smtplib.SMTP:
    login, password = credentials(province.home, "system")
    tls = ssl.create_default_context(cafile=str(province.home.keys_dir / "ca" / "root.pem"))
    tls.check_hostname = False  # chain verified; the demo domain does not resolve here
    smtp = smtplib.SMTP("127.0.0.1", province.submission, timeout=120)
    smtp.starttls(context=tls)
    smtp.login(login, password)
    return smtp


def submit_all(province: Gateway, batch: list[bytes], clients: int) -> list[float]:
    latencies: list[float] = []
    lock = threading.Lock()

    def work(share: list[bytes]) -> None:
        smtp = client(province)
        for data in share:
            started = time.perf_counter()
            smtp.sendmail(STC_MAIL, [VPCP_MAIL], data)
            with lock:
                latencies.append(time.perf_counter() - started)
        smtp.quit()

    threads = [threading.Thread(target=work, args=(batch[i::clients],)) for i in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return latencies


def wait_for(province: Gateway, expected: int, limit: float = 900) -> None:
    deadline = time.monotonic() + limit
    while sender_receipts(province) < expected:
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out: {sender_receipts(province)} of {expected} receipts recorded")
        time.sleep(0.2)


def cost_floor(province: Gateway, batch: list[bytes], folder: Path) -> float:
    sessions = db.open_registry(province.home.database_url)
    with sessions() as session:
        signer = active_signer(session, province.home.keys_dir, STC, context.chain(province.home))
    verifier = context.verifier(province.home)
    keys = context.dkim_signing_keys(province.home)
    sender = Sender(STC, frozenset({STC_MAIL}))
    started = time.perf_counter()
    for n, data in enumerate(batch):
        outgoing = sign_outgoing(data, signer, province.home.settings.gateway.domain, keys)
        verifier.verify_sync(outgoing.message, sender)
        digest = hashlib.sha256(outgoing.message).hexdigest()
        fd = os.open(folder / f"{n}-{digest[:8]}", os.O_WRONLY | os.O_CREAT, 0o600)
        os.write(fd, outgoing.message)
        os.fsync(fd)
        os.close(fd)
    return len(batch) / (time.perf_counter() - started)


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cpus, {count} documents, 200 KB PDFs, SQLite")
    folder = Path(tempfile.mkdtemp(prefix="lienthong-bench-"))
    province, national = make_pair(folder)
    for gateway in (province, national):
        start(gateway)
    try:
        warm = 10  # worker processes, PDF inspection workers and relay sessions start before the clock does
        submit_all(province, documents(warm, 1), clients=2)
        wait_for(province, warm)
        batch = documents(count, warm + 1)
        print(f"message size {len(batch[0]) / 1024:.0f} KiB")
        pids = [g.process.pid for g in (province, national) if g.process is not None]
        cpu0 = [tree_cpu(pid) for pid in pids]
        t0 = time.perf_counter()
        submit_all(province, batch, clients=4)
        accepted = time.perf_counter() - t0
        wait_for(province, warm + count)
        elapsed = time.perf_counter() - t0
        cpu = [(tree_cpu(pid) - before) / count * 1000 for pid, before in zip(pids, cpu0, strict=True)]
        rate = count / elapsed
        print(f"end to end: {rate:.1f} documents/s ({count} in {elapsed:.1f} s; all accepted after {accepted:.1f} s)")
        cores = os.cpu_count() or 1
        print(
            f"CPU per document: sending gateway {cpu[0]:.1f} ms, receiving gateway {cpu[1]:.1f} ms; "
            f"{cores} cores allow at most {cores * 1000 / sum(cpu):.0f} documents/s"
        )

        # Latency at about half that rate: one client, paced.
        paced = documents(max(200, count), warm + count + 1)  # enough samples for a p99 that is not just the maximum
        interval = 2.0 / rate
        smtp = client(province)
        latencies = []
        for data in paced:
            started = time.perf_counter()
            smtp.sendmail(STC_MAIL, [VPCP_MAIL], data)
            took = time.perf_counter() - started
            latencies.append(took)
            time.sleep(max(0.0, interval - took))
        smtp.quit()
        wait_for(province, warm + count + len(paced))
        p50 = statistics.median(latencies) * 1000
        p99 = statistics.quantiles(latencies, n=100)[98] * 1000
        print(f"acceptance latency at {1 / interval:.1f} submissions/s: p50 {p50:.1f} ms, p99 {p99:.1f} ms")

        floor = cost_floor(province, batch[: min(count, 100)], folder)
        print(f"cost floor (sign + verify + SHA-256 + fsync, one process): {floor:.1f} documents/s")
        print(f"end to end / cost floor: {rate / floor:.2f}")
        print(describe(exchange_floor(province.home, min(count, 50)), cores))
    finally:
        for gateway in (province, national):
            if gateway.process is not None and gateway.process.poll() is None:
                gateway.process.send_signal(signal.SIGTERM)
                gateway.process.wait(60)


if __name__ == "__main__":
    main()
