"""The two-gateway exchange submitted by the clients the issue names: swaks as an agency system, smtplib as a clerk.

Each test starts its own pair of real gateways (tests/gateways.py) and runs the whole list of end-to-end checks
(``check_exchange`` in tests/test_federation.py) on the result.
"""

from __future__ import annotations

import os
import shutil
import smtplib
import subprocess
from collections.abc import Iterator
from datetime import datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path

import pytest

from gateway.envelope.clerk import clerk_document
from gateway.envelope.model import VIETNAM
from gateway.envelope.registry_directory import open_directory
from gateway.receipts.notice import read_notice
from tests.fixtures.envelope import clerk_mail
from tests.gateways import STC, STC_MAIL, VPCP, VPCP_MAIL, Gateway, make_pair, running, wait_for
from tests.mailboxes import maildir_messages
from tests.pdfs import make_decision_pdf
from tests.test_federation import check_exchange, client_tls, document, queue_state
from tests.test_serve import credentials


@pytest.fixture
def gateways(tmp_path: Path) -> Iterator[tuple[Gateway, Gateway]]:
    province, national = make_pair(tmp_path)
    with running(province, national):
        yield province, national


def test_swaks_as_an_agency_system(gateways: tuple[Gateway, Gateway], tmp_path: Path) -> None:
    """An agency system hands in a built envelope over STARTTLS with AUTH PLAIN, using swaks as the client."""
    swaks = shutil.which("swaks")
    if swaks is None:
        if os.environ.get("LIENTHONG_REQUIRE_SERVICES") == "1":
            pytest.fail("swaks is not installed (apt-get install swaks)")
        pytest.skip("swaks is not installed")
    province, national = gateways
    login, password = credentials(province.home, "system")  # the Sở Tài chính's document-management system
    eml = tmp_path / "document.eml"
    eml.write_bytes(document("8"))
    result = subprocess.run(
        [swaks, "--server", "127.0.0.1", "--port", str(province.submission), "--tls", "--auth", "PLAIN",
         "--auth-user", login, "--auth-password", password, "--from", STC_MAIL, "--to", VPCP_MAIL,
         "--data", str(eml)],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert "250 2.0.0 Accepted as submission" in result.stdout
    check_exchange(province, national, tmp_path)


def clerk_message(today: datetime) -> EmailMessage:
    """What a clerk's mail client sends: the signed PDF attached, the summary as Subject, a short form in the body."""
    form = f"Số: 9/STC-NS\nNgày ban hành: {today:%d/%m/%Y}\nĐộ khẩn: Khẩn\n"
    raw = clerk_mail(
        form,
        subject="Về việc báo cáo tình hình thực hiện dự toán ngân sách",
        pdf=make_decision_pdf(),
        sender=f"Văn thư Sở Tài chính <{STC_MAIL}>",
        to=f"Văn phòng Chính phủ <{VPCP_MAIL}>",
    )
    message = message_from_bytes(raw, _class=EmailMessage, policy=policy.SMTP)
    message["Date"] = format_datetime(today)
    message["Message-ID"] = make_msgid(domain="stc.camau.lienthong.test")
    return message


def test_smtplib_as_a_clerk(gateways: tuple[Gateway, Gateway], tmp_path: Path) -> None:
    province, national = gateways
    message = clerk_message(datetime.now(VIETNAM))
    # The mail itself is complete: the clerk conversion builds a document from the Sở Tài chính to the Government
    # Office out of it with the province's registry; the submission path makes the same envelope at processing.
    built = clerk_document(message.as_bytes(), open_directory(province.home))
    assert (built.header.from_.organ_id, [t.organ_id for t in built.header.to]) == (STC, [VPCP])

    login, password = credentials(province.home, "clerk")
    with smtplib.SMTP("127.0.0.1", province.submission, timeout=30) as client:
        client.starttls(context=client_tls(province.home))
        client.login(login, password)
        assert client.send_message(message, login, [VPCP_MAIL]) == {}
    assert wait_for(lambda: bool(maildir_messages(province.home, STC_MAIL, "notice")), 60), queue_state(province)
    [notice] = [read_notice(raw) for raw in maildir_messages(province.home, STC_MAIL, "notice")]
    assert notice["kind"] == "acceptance", notice
    check_exchange(province, national, tmp_path)
