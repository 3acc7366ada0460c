"""S/MIME and DKIM signing and verification rates for a 200 KB message, per key type.

Run: .venv/bin/python bench/signatures.py   (figures are per second, single process; a shared machine is noisy)
"""

from __future__ import annotations

import base64
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from certs import dkim
from certs.ca import TrustFiles, init_ca, load_issuing, trust_anchors
from certs.errors import TrustError
from certs.issue import SmimeSubject, build_smime
from certs.keys import KeyAlgorithm, generate_key
from certs.revocation import build_crl, load_crl_der, publish_crl
from certs.smime import sign_entity
from certs.verify import Sender, Verifier, material, verify_message_sync
from gateway.errors import InputError

SECONDS = float(os.environ.get("BENCH_SECONDS", "2"))
ORGAN_ID = "000.00.15.H12"
MAIL = "vanthu@stc.camau.lienthong.test"
DOMAIN = "camau.lienthong.test"


def _body(size: int = 200 * 1024) -> bytes:
    payload = base64.encodebytes(os.urandom(size * 3 // 4)).replace(b"\n", b"\r\n")
    return (b"Content-Type: application/pdf; name=vanban.pdf\r\nContent-Transfer-Encoding: base64\r\n\r\n" + payload)[
        :size
    ]


def rate(action: Callable[[], object]) -> float:
    action()
    count, start = 0, time.perf_counter()
    while time.perf_counter() - start < SECONDS:
        action()
        count += 1
    return count / (time.perf_counter() - start)


def smime(root: Path, entity: bytes) -> None:
    files = TrustFiles(root / "keys")
    init_ca(files, name="Bench CA", algorithm=KeyAlgorithm.EC_P256)
    ca = load_issuing(files)
    publish_crl(files, build_crl(ca, [], days=1, number=1))
    trust = material(trust_anchors(files), [ca.certificate], [load_crl_der(files.issuing_crl)])
    sender = Sender(ORGAN_ID)
    for algorithm in (KeyAlgorithm.RSA_2048, KeyAlgorithm.EC_P256, KeyAlgorithm.ED25519):
        key = generate_key(algorithm)
        cert = build_smime(ca, SmimeSubject(ORGAN_ID, "Bench", MAIL), key.public_key(), days=30)
        try:
            signed = sign_entity(entity, cert, key, ca.chain).entity
        except InputError as exc:
            print(f"S/MIME {algorithm.value:9}  not supported: {exc}")
            continue
        try:
            verify_message_sync(signed, trust, sender)
        except TrustError as exc:
            print(f"S/MIME {algorithm.value:9}  verification failed: {exc}")
            continue
        signs = rate(lambda k=key, c=cert: sign_entity(entity, c, k, ca.chain))  # type: ignore[misc]
        one_off = rate(lambda s=signed: verify_message_sync(s, trust, sender))  # type: ignore[misc]
        with Verifier(trust) as verifier:
            reused = rate(lambda s=signed, v=verifier: v.verify_sync(s, sender))  # type: ignore[misc]
        print(
            f"S/MIME {algorithm.value:9}  sign {signs:8.1f}/s   verify {reused:8.1f}/s (Verifier reused)"
            f"   {one_off:8.1f}/s (one-off verify_message_sync)"
        )
    print("S/MIME ecdsa issuing CA; verify = split + pyHanko CMS + path validation + CRL")


def dkim_rates(root: Path, entity: bytes) -> None:
    message = (
        f"From: {MAIL}\r\nTo: vanthu@syt.{DOMAIN}\r\nSubject: bench\r\nDate: Wed, 25 Nov 2026 08:00:00 +0700\r\n"
        f"Message-ID: <bench@{DOMAIN}>\r\nMIME-Version: 1.0\r\n"
    ).encode() + entity
    for algorithm in (dkim.DkimAlgorithm.RSA, dkim.DkimAlgorithm.ED25519):
        key = dkim.generate(root / "dkim", f"b-{algorithm.value}", algorithm)
        records = {f"{key.selector}._domainkey.{DOMAIN}": key.txt_value.encode()}

        def lookup(name: bytes, timeout: int = 5, records: dict[str, bytes] = records) -> bytes | None:
            return records.get(name.decode().rstrip("."))  # an in-memory table standing in for DNS

        signed = dkim.sign(message, DOMAIN, [key]) + message
        assert dkim.verify(signed, lookup)[0].passed
        signs = rate(lambda k=key: dkim.sign(message, DOMAIN, [k]))  # type: ignore[misc]
        verifies = rate(lambda s=signed, f=lookup: dkim.verify(s, f))  # type: ignore[misc]
        label = "rsa-2048" if algorithm is dkim.DkimAlgorithm.RSA else "ed25519"
        print(f"DKIM   {label:9}  sign {signs:8.1f}/s   verify {verifies:8.1f}/s")
    print("DKIM   ecdsa-p256 not applicable (DKIM defines rsa-sha256 and ed25519-sha256 only)")


def main() -> None:
    entity = _body()
    print(f"message: {len(entity)} bytes; {SECONDS:.0f} s per figure")
    with tempfile.TemporaryDirectory() as tmp:
        smime(Path(tmp), entity)
        dkim_rates(Path(tmp), entity)


if __name__ == "__main__":
    main()
