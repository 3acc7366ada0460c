"""``lienthong queue list|retry|drop`` (operators) and ``lienthong document show`` (a document's timeline)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import click

from gateway import queue
from gateway.cli.init import registry_sessions
from gateway.cli.output import emit_rows, json_option
from gateway.errors import NotFoundError
from gateway.home import Home
from gateway.ledger.timeline import timeline

_QUEUE_COLUMNS = (
    ("id", "ID"),
    ("task", "Task"),
    ("key", "Key"),
    ("state", "State"),
    ("attempts", "Attempts"),
    ("next_attempt_at", "Next attempt (UTC)"),
    ("last_error", "Last error"),
)
_TIMELINE_COLUMNS = (("seq", "#"), ("kind", "Event"), ("at", "At"), ("effective_at", "Effective"), ("hash", "Hash"))


@click.group("queue")
def queue_group() -> None:
    """The durable work queue: deliveries, relays and receipts still to be done."""


@queue_group.command("list")
@click.option("--state", "states", multiple=True, type=click.Choice([s.value for s in queue.State]))
@click.option("--limit", default=200, show_default=True, type=click.IntRange(1, 100_000))
@json_option
@click.pass_obj
def list_command(home: Home, states: tuple[str, ...], limit: int, as_json: bool) -> None:
    """List queue items, most overdue first."""
    with registry_sessions(home)() as session:
        rows = [
            {
                "id": item.id,
                "task": item.task,
                "key": item.dedup_key,
                "state": item.state,
                "attempts": item.attempts,
                "next_attempt_at": item.next_attempt_at,
                "last_error": item.last_error,
            }
            for item in queue.listing(session, states, limit)
        ]
    emit_rows(rows, _QUEUE_COLUMNS, as_json=as_json, title=None if as_json else f"{len(rows)} queue items")


@queue_group.command("retry")
@click.argument("item_id", type=int)
@click.pass_obj
def retry_command(home: Home, item_id: int) -> None:
    """Make a failed, dropped or waiting item due now (or a claimed one whose lease has expired)."""
    with registry_sessions(home).begin() as session:
        queue.retry(session, item_id, datetime.now(UTC))
    click.echo(f"queue item {item_id}: due now")


@queue_group.command("drop")
@click.argument("item_id", type=int)
@click.pass_obj
def drop_command(home: Home, item_id: int) -> None:
    """Give up on an item (it stays listed as dropped); not one a worker holds under a live lease."""
    with registry_sessions(home).begin() as session:
        queue.drop(session, item_id, datetime.now(UTC))
    click.echo(f"queue item {item_id}: dropped")


@click.group("document")
def document_group() -> None:
    """Documents known to this gateway."""


@document_group.command("show")
@click.argument("document_id", metavar="DOCUMENT-ID")
@json_option
@click.pass_obj
def show_command(home: Home, document_id: str, as_json: bool) -> None:
    """The document's timeline from the ledger: every event with its technical and effective time, from the
    submission (refused ones included) on."""
    with registry_sessions(home)() as session:
        entries = timeline(session, document_id)
        if not entries:
            raise NotFoundError(f"document {document_id!r}: no ledger events (check the DocumentId)")
        rows: list[dict[str, Any]] = []
        for entry in entries:
            data = entry.data()
            rows.append(
                {
                    "seq": entry.seq,
                    "kind": entry.kind,
                    "at": data.get("at"),
                    "effective_at": data.get("effective_at"),
                    "hash": entry.entry_hash if as_json else entry.entry_hash[:16],
                    "content_sha256": data.get("content_sha256"),
                    "reason_code": data.get("reason_code"),
                    "submission": data.get("details", {}).get("submission"),
                }
            )
    emit_rows(rows, _TIMELINE_COLUMNS, as_json=as_json, title=None if as_json else document_id)


def register(group: click.Group) -> None:
    group.add_command(queue_group)
    group.add_command(document_group)
