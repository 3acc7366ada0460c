"""``lienthong envelope build|check|show`` and ``lienthong edxml export|import``: the envelope for agency developers."""

from __future__ import annotations

import json
import mimetypes
import sys
import tomllib
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any

import click

from gateway.cli.output import emit_json, emit_mapping, emit_rows, json_option
from gateway.envelope.build import build_document
from gateway.envelope.edxml_file import export_edxml, import_edxml
from gateway.envelope.errors import EnvelopeError
from gateway.envelope.mapping import datetime_value, from_mapping, to_mapping
from gateway.envelope.model import VIETNAM, Attachment, DocumentHeader, TraceHeaderList
from gateway.envelope.parse import Envelope, parse
from gateway.errors import InputError
from gateway.home import Home

_FILE = click.Path(exists=True, dir_okay=False, path_type=Path)


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise InputError(f"{path}: {exc.strerror}") from None


def _write(data: bytes, output: Path | None) -> None:
    if output is None or str(output) == "-":
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
        return
    output.write_bytes(data)
    click.echo(f"wrote {output} ({len(data)} bytes)", err=True)


def _load_metadata(path: Path | None) -> dict[str, Any]:
    if path is None:
        return {}
    text = _read(path).decode("utf-8", "replace")
    try:
        data = tomllib.loads(text) if path.suffix.lower() == ".toml" else json.loads(text)
    except (ValueError, tomllib.TOMLDecodeError) as exc:
        raise InputError(f"{path}: not valid {'TOML' if path.suffix.lower() == '.toml' else 'JSON'}: {exc}") from None
    if not isinstance(data, dict):
        raise InputError(f"{path}: expected a mapping of metadata fields")
    return data


def _set(data: dict[str, Any], dotted: str, value: Any) -> None:
    if value is None or value == ():
        return
    *parents, leaf = dotted.split(".")
    node = data
    for key in parents:
        node = node.setdefault(key, {})
    node[leaf] = value


def _recipient(text: str) -> dict[str, str]:
    organ_id, sep, rest = text.partition("=")
    email, _, name = rest.partition("=")
    if not sep or not organ_id or not email:
        raise InputError(f"--to {text!r}: expected ORGAN_ID=MAILBOX[=NAME]")
    return {"organ_id": organ_id, "email": email, **({"organ_name": name} if name else {})}


@click.group("envelope")
def envelope_group() -> None:
    """Build, check and show document envelopes (docs/envelope.md)."""


@envelope_group.command("build")
@click.option("--metadata", "metadata_file", type=_FILE, help="Metadata as JSON or TOML (keys as in 'show --json').")
@click.option("--from-id", help="Sender OrganId.")
@click.option("--from-name", help="Sender OrganName.")
@click.option("--from-email", help="Sender records-office mailbox.")
@click.option("--to", "recipients", multiple=True, help="Recipient ORGAN_ID=MAILBOX[=NAME]; repeat for each.")
@click.option("--number", help="CodeNumber (số).")
@click.option("--notation", help="CodeNotation (ký hiệu).")
@click.option("--date", "issued", help="PromulgationDate yyyy/MM/dd.")
@click.option("--place", help="Place of issue.")
@click.option("--type-name", help="TypeName, e.g. 'Quyết định'.")
@click.option("--subject", help="Subject (trích yếu).")
@click.option("--content", help="Short content summary.")
@click.option("--competence", help="SignerInfo/Competence, e.g. 'KT. CHỦ TỊCH'.")
@click.option("--position", help="SignerInfo/Position.")
@click.option("--signer", help="SignerInfo/FullName.")
@click.option("--priority", type=click.IntRange(0, 4), help="0 normal .. 4 flash timed.")
@click.option("--page-amount", type=int, help="Number of pages of the PDF.")
@click.option("--due-date", help="DueDate yyyy/MM/dd.")
@click.option("--steering-type", type=click.IntRange(0, 2), help="0 none, 1 directive, 2 report on a directive.")
@click.option("--sent-at", help="Sending time yyyy/MM/dd HH:mm:ss (Vietnam time); default now.")
@click.option("--pdf", "pdf_path", type=_FILE, required=True, help="The main document (PDF).")
@click.option("--attach", "attachments", type=_FILE, multiple=True, help="A further attachment; repeatable.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="Output .eml (default stdout).")
def build_command(
    metadata_file: Path | None,
    recipients: tuple[str, ...],
    sent_at: str | None,
    pdf_path: Path,
    attachments: tuple[Path, ...],
    output: Path | None,
    **flags: Any,
) -> None:
    """Build an unsigned document envelope from metadata, a PDF and attachments."""
    data = _load_metadata(metadata_file)
    trace_data = data.pop("trace", None)
    for flag, dotted in (
        ("from_id", "from.organ_id"),
        ("from_name", "from.organ_name"),
        ("from_email", "from.email"),
        ("number", "code.number"),
        ("notation", "code.notation"),
        ("issued", "promulgation_info.date"),
        ("place", "promulgation_info.place"),
        ("type_name", "document_type.type_name"),
        ("subject", "subject"),
        ("content", "content"),
        ("competence", "signer_info.competence"),
        ("position", "signer_info.position"),
        ("signer", "signer_info.full_name"),
        ("priority", "other_info.priority"),
        ("page_amount", "other_info.page_amount"),
        ("due_date", "due_date"),
        ("steering_type", "steering_type"),
    ):
        _set(data, dotted, flags.get(flag))
    if recipients:
        data["to"] = [_recipient(r) for r in recipients]
    if "document_id" not in data:
        data["document_id"] = ""
    header = from_mapping(DocumentHeader, data)
    if not header.document_id and header.promulgation_info.date is not None:
        header = _with_document_id(header)
    trace = from_mapping(TraceHeaderList, trace_data, "trace.") if trace_data is not None else None
    when = datetime_value(sent_at, "--sent-at") if sent_at else datetime.now(VIETNAM)
    files = [
        Attachment(p.name, mimetypes.guess_type(p.name)[0] or "application/octet-stream", _read(p)) for p in attachments
    ]
    raw = build_document(header, _read(pdf_path), files, trace=trace, sent_at=when, pdf_name=pdf_path.name)
    _write(raw, output)


def _with_document_id(header: DocumentHeader) -> DocumentHeader:
    """DocumentId from sender, date and number/notation, when the metadata did not give one."""
    assert header.promulgation_info.date is not None
    issued = header.promulgation_info.date
    return replace(header, document_id=DocumentHeader.make_document_id(header.from_.organ_id, issued, header.code))


def _problems(error: EnvelopeError) -> list[dict[str, Any]]:
    return [
        {
            "code": p.code,
            "field": p.field,
            "detail": p.detail,
            "suggestion": p.suggestion,
            "smtp": f"{p.reason.smtp_code} {p.reason.enhanced}",
            "en": p.reason.en,
            "vi": p.reason.vi,
        }
        for p in error.problems
    ]


@envelope_group.command("check")
@click.argument("path", type=_FILE)
@click.option("--no-registry", is_flag=True, help="Skip the sender and recipient look-ups in the registry.")
@click.option("--now", "now_text", help="Validate as of this time yyyy/MM/dd HH:mm:ss (default now).")
@json_option
@click.pass_obj
def check_command(home: Home, path: Path, no_registry: bool, now_text: str | None, as_json: bool) -> None:
    """Validate an envelope: exit 0 when valid, 3 when refused (every problem is listed)."""
    # Inspecting the PDF needs pypdf (and fontTools and PIL behind it): 'show', 'build' and 'edxml' do not pay for it
    from gateway.envelope.validate import validate

    raw = _read(path)
    directory = None
    if not no_registry:
        from gateway.envelope.registry_directory import open_directory

        directory = open_directory(home)
    now = datetime_value(now_text, "--now") if now_text else None
    convert = home.settings.envelope.convert_legacy if home.exists() else ()
    try:
        env = validate(parse(raw), now=now, directory=directory, convert_legacy=convert)
    except EnvelopeError as exc:
        if as_json:
            emit_json({"valid": False, "codes": [p.code for p in exc.problems], "problems": _problems(exc)})
        else:
            for problem in exc.problems:
                click.echo(f"refused: {problem.describe()}")
        sys.exit(exc.exit_code)
    conversions = [
        {"field": c.field, "encoding": c.encoding, "original": c.original, "converted": c.converted}
        for c in env.conversions
    ]
    if as_json:
        emit_json(
            {
                "valid": True,
                "codes": [],
                "kind": env.kind.value,
                "document_id": env.document_id_header,
                "conversions": conversions,
            }
        )
        return
    click.echo(f"valid {env.kind.value}: {env.document_id_header}")
    for c in conversions:
        click.echo(f"converted: {c['field']} ({c['encoding']}): {c['original']!r} -> {c['converted']!r}")


@envelope_group.command("from-mail")
@click.argument("path", type=_FILE)
@click.option("--sent-at", help="Sending time yyyy/MM/dd HH:mm:ss (Vietnam time); default now.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="Output .eml (default stdout).")
@json_option
@click.pass_obj
def from_mail_command(home: Home, path: Path, sent_at: str | None, output: Path | None, as_json: bool) -> None:
    """Build a document envelope from a clerk's plain e-mail: exit 3 with one line per field that is missing."""
    from gateway.envelope.clerk import clerk_document  # reads the PDF's heading with pypdf, as 'check' does

    if as_json and (output is None or str(output) == "-"):
        raise InputError("--json prints the result on standard output: write the envelope to a file with -o FILE")
    raw = _read(path)
    from gateway.envelope.registry_directory import open_directory

    directory = open_directory(home)
    when = datetime_value(sent_at, "--sent-at") if sent_at else datetime.now(VIETNAM)
    try:
        document = clerk_document(raw, directory)
    except EnvelopeError as exc:
        if as_json:
            emit_json({"built": False, "codes": [p.code for p in exc.problems], "problems": _problems(exc)})
        else:
            for problem in exc.problems:
                click.echo(f"cannot build: {problem.describe()}")
        sys.exit(exc.exit_code)
    header = document.header
    data = build_document(header, document.pdf, document.attachments, sent_at=when, pdf_name=document.pdf_name)
    _write(data, output)
    if as_json:
        emit_json(
            {
                "built": True,
                "document_id": header.document_id,
                "from": header.from_.organ_id,
                "to": [t.organ_id for t in header.to],
                "sources": document.draft.sources,
                "output": str(output),
                "size": len(data),
            }
        )


def _summary(env: Envelope) -> dict[str, Any]:
    return {
        "kind": env.kind.value,
        "from": env.from_addr,
        "to": list(env.to_addrs),
        "date": env.date.isoformat(),
        "message_id": env.message_id,
        "subject": env.subject,
        "document_id": env.document_id_header,
        "signed": env.signed,
        "sha256": env.raw_sha256,
    }


@envelope_group.command("show")
@click.argument("path", type=_FILE)
@json_option
def show_command(path: Path, as_json: bool) -> None:
    """Show an envelope's headers, metadata and parts (parsed, not validated)."""
    env = parse(_read(path))
    parts = [
        {"part": p.index, "media_type": p.media_type, "file_name": p.file_name, "size": p.size, "sha256": p.sha256}
        for p in env.parts
    ]
    metadata = to_mapping(env.metadata) if env.metadata else None
    if as_json:
        emit_json({**_summary(env), "metadata": metadata, "parts": parts})
        return
    emit_mapping(_summary(env), as_json=False)
    if metadata:
        click.echo(json.dumps(metadata["header"], ensure_ascii=False, indent=2))
    emit_rows(
        parts,
        [("part", "#"), ("media_type", "type"), ("file_name", "file"), ("size", "bytes"), ("sha256", "sha256")],
        as_json=False,
    )


@click.group("edxml")
def edxml_group() -> None:
    """Convert between envelopes and the hubs' all-in-one .edxml files."""


@edxml_group.command("export")
@click.argument("path", type=_FILE)
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="Output .edxml (default stdout).")
def export_command(path: Path, output: Path | None) -> None:
    """Export an envelope to an .edxml file (files base64 inside the XML)."""
    _write(export_edxml(parse(_read(path))), output)


@edxml_group.command("import")
@click.argument("path", type=_FILE)
@click.option("--to", "to_mailboxes", multiple=True, help="Recipient mailbox of a status package; repeatable.")
@click.option("--sent-at", help="Sending time when the file has no trace entry of the sender (default now).")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="Output .eml (default stdout).")
def import_command(path: Path, to_mailboxes: tuple[str, ...], sent_at: str | None, output: Path | None) -> None:
    """Import an .edxml file as an envelope."""
    when = datetime_value(sent_at, "--sent-at") if sent_at else None
    _write(import_edxml(_read(path), sent_at=when, to_mailboxes=to_mailboxes or None), output)


def register(group: click.Group) -> None:
    """Attach this module's commands to the top-level group."""
    group.add_command(envelope_group)
    group.add_command(edxml_group)
