"""``lienthong document show`` after real submissions: the timeline starts at ``submitted``, refusals included.

A clerk submits over SMTP to the listener ``lienthong serve`` opens (the ``listener`` fixture of
tests/test_submission_recipients.py: a demo home with its PKI, SQLite and PostgreSQL); the processing worker runs
in-process; the timeline is read with the real command group, as an operator runs it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime

import pytest
from click.testing import CliRunner

from gateway.cli import main
from gateway.envelope.model import VIETNAM, Code, DocumentHeader, Organization
from gateway.envelope.pdf import inspect_pdf
from gateway.ledger.store import verify
from gateway.workers.process import process_one
from gateway.workers.services import Services
from tests.fixtures.envelope import build_valid, make_header
from tests.test_submission_recipients import Listener, listener  # noqa: F401 - the running listener fixture

STC, STC_MAIL = "000.00.15.H12", "vanthu@stc.camau.lienthong.test"
SYT = Organization("000.00.22.H12", organ_name="Sở Y tế tỉnh Cà Mau", email="vanthu@syt.camau.lienthong.test")
SKHCN = Organization("000.00.11.H12", organ_name="Sở Khoa học và Công nghệ", email="vanthu@skhcn.camau.lienthong.test")
NAMCAN = Organization(  # suspended since the 2025 reform: the validator refuses it as a recipient
    "000.00.37.H12", organ_name="Ủy ban nhân dân huyện Năm Căn", email="vanthu@huyennamcan.camau.lienthong.test"
)


@pytest.fixture
def services(listener: Listener) -> Iterator[Services]:  # noqa: F811 - the fixture imported above
    """The processing worker's services on the listener's home (the in-process PDF inspector keeps it quick)."""
    services = replace(Services.from_home(listener.home), inspector=inspect_pdf)
    try:
        yield services
    finally:
        services.close()


def header(*recipients: Organization, sender: str = STC) -> DocumentHeader:
    today = datetime.now(VIETNAM).date()
    from_ = Organization(sender, organ_name="Sở Tài chính tỉnh Cà Mau", email=STC_MAIL)
    return replace(make_header(from_=from_, code=Code("15", "STC-VP"), issued=today), to=recipients)


def submit(gateway: Listener, document: DocumentHeader) -> None:
    with gateway.client() as client:
        assert client.sendmail(STC_MAIL, [to.email for to in document.to], build_valid(document)) == {}


def show(gateway: Listener, document_id: str) -> list[dict[str, object]]:
    result = CliRunner().invoke(main, ["--home", str(gateway.home.root), "document", "show", document_id, "--json"])
    assert result.exit_code == 0, result.output + result.stderr
    rows: list[dict[str, object]] = json.loads(result.stdout)
    return rows


def test_the_timeline_starts_at_submitted_and_keeps_a_refused_submission(
    listener: Listener,  # noqa: F811 - the fixture imported above
    services: Services,
) -> None:
    refused = header(SYT, NAMCAN)
    submit(listener, refused)
    assert process_one(services, "w1")
    fixed = header(SYT, SKHCN)  # the same document, sent again to recipients that may receive it
    assert fixed.document_id == refused.document_id
    submit(listener, fixed)
    assert process_one(services, "w1")

    timeline = show(listener, fixed.document_id)
    assert [(row["kind"], row["submission"]) for row in timeline] == [
        ("submitted", 1),
        ("refused", 1),
        ("submitted", 2),
        ("accepted", 2),
    ]
    assert timeline[1]["reason_code"] == "RECIPIENT_UNKNOWN"
    first, second = listener.submissions()
    assert timeline[0]["content_sha256"] == timeline[1]["content_sha256"] == first.content_sha256
    assert timeline[2]["content_sha256"] == second.content_sha256
    assert all(row["effective_at"] for row in timeline[::2])  # the submission's legal time is in the timeline
    with listener.sessions() as session:
        assert verify(session).intact


def test_a_refusal_is_not_filed_under_another_agencys_document_id(
    listener: Listener,  # noqa: F811 - the fixture imported above
    services: Services,
) -> None:
    """The Sở Tài chính's clerk names the Sở Y tế as sender: refused, and nothing lands in the Sở Y tế's timeline."""
    foreign = header(SKHCN, sender=SYT.organ_id)
    submit(listener, foreign)
    assert process_one(services, "w1")
    result = CliRunner().invoke(main, ["--home", str(listener.home.root), "document", "show", foreign.document_id])
    assert result.exit_code != 0
    assert "no ledger events" in result.stderr
