"""An envelope the agency signed itself, submitted over SMTP and relayed to the national axis gateway.

The Sở Tài chính's own tooling signs with ``openssl cms -sign`` and the key file its province issued to it; its
system submits over STARTTLS with AUTH. The national gateway must receive the agency's signed bytes untouched (only
the province gateway's DKIM in front) and the receipt must come back and match.
"""

from __future__ import annotations

import re
import smtplib
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from certs.multipart import split_signed
from certs.store import CertificateRecord
from gateway.workers.signing import split_unsigned
from registry import db
from tests.gateways import STC, STC_MAIL, VPCP_MAIL, Gateway, make_pair, running
from tests.mailboxes import maildir_messages
from tests.test_federation import check_exchange, client_tls, document
from tests.test_serve import credentials


@pytest.fixture
def gateways(tmp_path: Path) -> Iterator[tuple[Gateway, Gateway]]:
    province, national = make_pair(tmp_path)
    with running(province, national):
        yield province, national


def agency_signed(province: Gateway, raw: bytes, workdir: Path) -> bytes:
    """``raw`` signed as the agency's own tooling would: openssl, its key file, the issuing CA's certificate."""
    with db.session_factory(db.make_engine(province.home.database_url))() as session:
        record = session.scalars(
            select(CertificateRecord).where(CertificateRecord.organ_id == STC, CertificateRecord.is_active)
        ).first()
    assert record is not None
    cert_file, key_file = record.cert_file(province.home.keys_dir), record.key_file(province.home.keys_dir)
    assert cert_file is not None
    assert key_file is not None
    outer, inner = split_unsigned(raw)
    (workdir / "inner.eml").write_bytes(inner)
    issuing = province.home.keys_dir / "ca" / "issuing.pem"
    command = ["openssl", "cms", "-sign", "-binary", "-crlfeol", "-md", "sha256", "-in", str(workdir / "inner.eml"),
               "-signer", str(cert_file), "-inkey", str(key_file), "-certfile", str(issuing),
               "-out", str(workdir / "signed.eml")]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    # openssl ends its base64 signature lines with LF alone; on the wire SMTP wants CRLF, as any mail library sends
    # (the signed part is CRLF already, and base64 does not care): the gateway refuses bare LF outright.
    return outer + re.sub(rb"(?<!\r)\n", b"\r\n", (workdir / "signed.eml").read_bytes())


def test_agency_signed_envelope_crosses_gateways_untouched(gateways: tuple[Gateway, Gateway], tmp_path: Path) -> None:
    province, national = gateways
    built = document("9")
    submitted = agency_signed(province, built, tmp_path)
    login, password = credentials(province.home, "system")
    with smtplib.SMTP("127.0.0.1", province.submission, timeout=30) as client:
        client.starttls(context=client_tls(province.home))
        client.login(login, password)
        assert client.sendmail(STC_MAIL, [VPCP_MAIL], submitted) == {}
    check_exchange(province, national, tmp_path)
    [delivered] = maildir_messages(national.home, VPCP_MAIL)
    # What the agency signed, and its signature, arrive byte for byte.
    assert split_signed(delivered).content == split_unsigned(built)[1]
    assert split_signed(delivered).signature == split_signed(submitted).signature
    assert delivered.endswith(submitted.split(b"\r\n\r\n", 1)[1])
