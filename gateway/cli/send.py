"""``lienthong send``: submit a document as an agency system would — build the envelope, AUTH, hand it over.

Names and records-office mailboxes come from the home's registry, so a system names agencies by OrganId only. The
TLS session is verified against the home's trust anchors and the gateway's name; the answer printed is the
gateway's own (acceptance with the submission number, or the refusal with its reason code).

Without ``--number`` the document goes "not yet numbered" (docs/envelope.md): the gateway assigns the agency's next
outgoing number when it processes it and says which in the acceptance notice. Such a message carries a Message-ID of
its own (the builder's is derived from the DocumentId, which has no number yet): the gateway recognises a retry of
the same submission by it.
"""

from __future__ import annotations

import email.utils
import mimetypes
import smtplib
import ssl
from datetime import datetime
from pathlib import Path

import click

from certs.ca import TrustFiles, trust_anchor_files
from certs.context import configured_anchors
from gateway.cli.init import registry_sessions
from gateway.envelope.build import build_document
from gateway.envelope.model import (
    VIETNAM,
    Attachment,
    Code,
    DocumentHeader,
    DocumentType,
    Organization,
    OtherInfo,
    PromulgationInfo,
    SignerInfo,
)
from gateway.errors import InputError, LienthongError
from gateway.home import Home
from gateway.smtp.tls import peer_names
from registry import agencies

_FILE = click.Path(exists=True, dir_okay=False, path_type=Path)


def _organization(home: Home, organ_id: str, option: str) -> Organization:
    with registry_sessions(home)() as session:
        try:
            agency = agencies.get(session, organ_id)
        except LienthongError as exc:
            raise InputError(f"{option} {organ_id}: {exc}") from None
        if not agency.primary_mailbox:
            raise InputError(f"{option} {organ_id}: the agency has no records-office mailbox in the registry")
        return Organization(organ_id=organ_id, organ_name=agency.name, email=agency.primary_mailbox)


def _context(home: Home, tls_name: str) -> ssl.SSLContext:
    context = ssl.create_default_context()
    context.check_hostname = False  # checked below against --tls-name: the gateway is often reached by address
    paths = trust_anchor_files(TrustFiles(home.keys_dir), configured_anchors(home))
    if not paths:
        raise InputError("no trust anchors in this home to verify the gateway with (run 'lienthong ca init')")
    for path in paths:
        context.load_verify_locations(cafile=str(path))
    return context


@click.command("send")
@click.option("--from", "sender", required=True, metavar="ORGID", help="Sending agency.")
@click.option("--to", "recipients", required=True, multiple=True, metavar="ORGID", help="Recipient; repeatable.")
@click.option("--pdf", "pdf_path", type=_FILE, required=True, help="The signed main document.")
@click.option("--attach", "attachments", type=_FILE, multiple=True, help="A further attachment; repeatable.")
@click.option("--number", default="", help="CodeNumber (số); omit it to have the gateway assign the next one.")
@click.option("--notation", required=True, help="CodeNotation (ký hiệu), e.g. STC-VP.")
@click.option("--date", "issued", help="Issue date YYYY-MM-DD (default today, Vietnam time).")
@click.option("--place", default="", help="Place of issue.")
@click.option("--type-name", default="Công văn", show_default=True, help="TypeName.")
@click.option("--subject", required=True, help="Subject (trích yếu).")
@click.option("--content", default="", help="Short content summary.")
@click.option("--competence", default="", help="SignerInfo/Competence.")
@click.option("--position", default="", help="SignerInfo/Position.")
@click.option("--signer", default="", help="SignerInfo/FullName.")
@click.option("--priority", type=click.IntRange(0, 4), default=0, show_default=True)
@click.option("--page-amount", type=int, help="Pages of the PDF.")
@click.option("--login", required=True, help="Account (the sender's records-office mailbox).")
@click.option("--password-file", type=_FILE, required=True, help="File holding the password (first line).")
@click.option("--server", default="127.0.0.1", show_default=True, help="Gateway host.")
@click.option("--port", type=int, help="Submission port (default [smtp] submission_port).")
@click.option("--tls-name", help="Name the gateway's certificate must carry (default [gateway] domain).")
@click.pass_obj
def send_command(
    home: Home,
    sender: str,
    recipients: tuple[str, ...],
    pdf_path: Path,
    attachments: tuple[Path, ...],
    number: str,
    notation: str,
    issued: str | None,
    place: str,
    type_name: str,
    subject: str,
    content: str,
    competence: str,
    position: str,
    signer: str,
    priority: int,
    page_amount: int | None,
    login: str,
    password_file: Path,
    server: str,
    port: int | None,
    tls_name: str | None,
) -> None:
    """Submit a document through a gateway's submission port and print the gateway's answer."""
    try:
        day = datetime.strptime(issued, "%Y-%m-%d").date() if issued else datetime.now(VIETNAM).date()
    except ValueError:
        raise InputError(f"--date {issued!r}: expected YYYY-MM-DD") from None
    code = Code(number, notation)
    origin = _organization(home, sender, "--from")
    header = DocumentHeader(
        from_=origin,
        to=tuple(_organization(home, r, "--to") for r in recipients),
        document_id=DocumentHeader.make_document_id(sender, day, code),
        code=code,
        promulgation_info=PromulgationInfo(place, day),
        document_type=DocumentType("", "", type_name),
        subject=subject,
        content=content,
        signer_info=SignerInfo(competence, position, signer),
        other_info=OtherInfo(priority=priority, page_amount=page_amount),
        steering_type=0,
    )
    files = [
        Attachment(p.name, mimetypes.guess_type(p.name)[0] or "application/octet-stream", p.read_bytes())
        for p in attachments
    ]
    data = build_document(header, pdf_path.read_bytes(), files, sent_at=datetime.now(VIETNAM), pdf_name=pdf_path.name)
    if not number:
        data = _with_message_id(data, email.utils.make_msgid(domain=origin.email.rpartition("@")[2]))
    try:
        lines = password_file.read_text(encoding="utf-8").splitlines()
    except UnicodeDecodeError:
        raise InputError(f"--password-file {password_file}: not UTF-8 text") from None
    password = lines[0] if lines else ""
    name = (tls_name or home.settings.gateway.domain).lower()
    target = port or home.settings.smtp.submission_port
    try:
        with smtplib.SMTP(server, target, timeout=60) as client:
            client.starttls(context=_context(home, name))
            presented = peer_names(client.sock if isinstance(client.sock, ssl.SSLSocket) else None)
            if name not in presented:
                raise InputError(f"the gateway at {server}:{target} presented {sorted(presented)}, not {name!r}")
            client.login(login, password)
            code_, reply = client.mail(origin.email)
            if code_ >= 400:
                raise LienthongError(f"sender {origin.email}: {code_} {reply.decode(errors='replace')}")
            for r in header.to:
                code_, reply = client.rcpt(r.email)
                if code_ >= 400:
                    raise LienthongError(f"recipient {r.email}: {code_} {reply.decode(errors='replace')}")
            code_, reply = client.data(data)
    except smtplib.SMTPResponseException as exc:
        error = exc.smtp_error.decode(errors="replace") if isinstance(exc.smtp_error, bytes) else str(exc.smtp_error)
        raise LienthongError(f"{exc.smtp_code} {error}") from None
    except (OSError, smtplib.SMTPException) as exc:
        raise LienthongError(f"cannot submit to {server}:{target}: {exc}") from None
    click.echo(f"{header.document_id}: {code_} {reply.decode(errors='replace')}")
    if not number:
        click.echo(f"the gateway assigns the number: see the acceptance notice sent to {origin.email}")


def _with_message_id(data: bytes, message_id: str) -> bytes:
    """The envelope with its Message-ID (an outer header, outside what the agency signs) replaced."""
    head, sep, body = data.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    index = next(i for i, line in enumerate(lines) if line.lower().startswith(b"message-id:"))
    lines[index] = b"Message-ID: " + message_id.encode("ascii")
    return b"\r\n".join(lines) + sep + body


def register(group: click.Group) -> None:
    group.add_command(send_command)
