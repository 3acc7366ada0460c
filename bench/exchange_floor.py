"""What the libraries alone cost for one whole exchange: the floor under any gateway built on them.

One document crossing two gateways and its receipt coming back takes, whatever the glue around them: three S/MIME
signatures (the document, the receipt, the acceptance notice) and two verifications (the document at the recipient,
the receipt at the sender); two DKIM signatures and two verifications (each relayed message); the PDF inspection at
both ends; SHA-256 and an fsync'd write of what each side must keep. This runs exactly that work for each document,
in one process with no SMTP, no MIME parsing and no database. It returns the CPU time per document, which bounds
the rate on this machine's cores (a gateway overlaps its fsync waits across sessions and workers, not its CPU), and
the rate of this one process, fsync waits included. A 5 KB document stands in for the receipt and the notice (a
receipt is 4-6 KB).

Used by bench/exchange.py; run alone: .venv/bin/python bench/exchange_floor.py HOME [DOCUMENTS]
"""

from __future__ import annotations

import hashlib
import os
import sys
import tempfile
import time
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.envelope import make_pdf
from certs import context, dkim
from certs.lifecycle import active_signer
from certs.smime import sign_entity
from certs.verify import Sender
from gateway.envelope.build import build_document
from gateway.envelope.model import VIETNAM, Code, Organization
from gateway.envelope.pdf import inspect_pdf
from gateway.home import Home
from gateway.workers.signing import sign_outgoing, split_unsigned
from registry import db
from tests.fixtures.envelope import make_header
from tests.gateways import STC, STC_MAIL, VPCP, VPCP_MAIL

_SMALL_PDF_BYTES = 3 * 1024


def _document(pdf: bytes, n: int) -> bytes:
    header = make_header(
        from_=Organization(STC, organ_name="Sở Tài chính tỉnh Cà Mau", email=STC_MAIL),
        code=Code(str(n), "STC-FLOOR"),
        issued=datetime.now(VIETNAM).date(),
    )
    header = replace(header, to=(Organization(VPCP, organ_name="Văn phòng Chính phủ", email=VPCP_MAIL),))
    return build_document(header, pdf, sent_at=datetime.now(VIETNAM))


def _keep(folder: Path, data: bytes) -> None:
    digest = hashlib.sha256(data).hexdigest()
    fd = os.open(folder / digest, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)


@dataclass(frozen=True)
class Floor:
    cpu_ms: float  # per document
    serial_rate: float  # documents/s of this one process, fsync waits included

    def bound(self, cores: int) -> float:
        """The most documents/s ``cores`` could give if the gateways added nothing to the libraries' work."""
        return cores * 1000 / self.cpu_ms


def exchange_floor(home: Home, count: int) -> Floor:
    """The library work of ``count`` whole exchanges, signed with ``home``'s agency and DKIM keys."""
    with db.open_registry(home.database_url)() as session:
        signer = active_signer(session, home.keys_dir, STC, context.chain(home))
    verifier = context.verifier(home)
    keys = context.dkim_signing_keys(home)
    domain = home.settings.gateway.domain
    txt = keys[0].txt_value.encode("ascii")

    def lookup(name: bytes, timeout: int = 5) -> bytes | None:
        return txt

    sender = Sender(STC, frozenset({STC_MAIL}))
    pdfs = [make_pdf(200 * 1024) for _ in range(count)]
    documents = [_document(pdf, n) for n, pdf in enumerate(pdfs)]
    small = _document(make_pdf(_SMALL_PDF_BYTES), 0)
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        started, cpu = time.perf_counter(), time.process_time()
        for pdf, document in zip(pdfs, documents, strict=True):
            _keep(folder, document)  # the submission, before its 250
            inspect_pdf(pdf)  # the sender's validation
            outgoing = sign_outgoing(document, signer, domain, keys)
            _keep(folder, outgoing.message)
            dkim.require_pass(dkim.verify(outgoing.message, lookup), domain)  # the recipient's gateway
            verifier.verify_sync(outgoing.message, sender)
            inspect_pdf(pdf)
            _keep(folder, outgoing.message)  # its blob, then the records office's Maildir
            _keep(folder, outgoing.message[::-1])
            receipt = sign_outgoing(small, signer, domain, keys)
            _keep(folder, receipt.message)
            dkim.require_pass(dkim.verify(receipt.message, lookup), domain)  # back at the sender
            verifier.verify_sync(receipt.message, sender)
            _keep(folder, receipt.message[::-1])
            notice = sign_entity(split_unsigned(small)[1], signer.certificate, signer.key, signer.chain)
            _keep(folder, notice.body)
        elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
        return Floor(cpu * 1000 / count, count / elapsed)


def describe(floor: Floor, cores: int) -> str:
    return (
        f"library floor of a whole exchange: {floor.cpu_ms:.1f} ms CPU per document, so at most "
        f"{floor.bound(cores):.0f} documents/s on {cores} cores with no gateway around the libraries "
        f"(one process, fsync waits included: {floor.serial_rate:.1f}/s)"
    )


if __name__ == "__main__":
    floor = exchange_floor(Home(Path(sys.argv[1])), int(sys.argv[2]) if len(sys.argv) > 2 else 50)
    print(describe(floor, os.cpu_count() or 1))
