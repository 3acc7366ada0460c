"""A document's timeline: its own ledger entries, and the submission entries they name.

The ``submitted`` entry is appended before the 250, when nobody has parsed the bytes yet, so it carries no
DocumentId; and entries are never changed, so it cannot be given one later. The entry that first knows the
DocumentId — ``accepted``, or ``refused`` when the envelope could be read — names the submission's entry instead, by
sequence number and hash (``details.submitted_entry``), and the timeline follows that link: one indexed query by
DocumentId and one by primary key, whatever the size of the ledger. The hash makes the link part of what the chain
covers; a link whose hash is not the entry's at that place is not followed (``store.verify`` names such an entry).

Entries appended before the link was recorded name no submission entry; their timelines start at ``accepted``.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.ledger.events import EventKind
from gateway.ledger.store import Appended, LedgerEntry, entries_for

SUBMITTED_ENTRY = "submitted_entry"  # the key in an entry's details, and in a ``process`` item's payload


def submitted_entry(appended: Appended) -> dict[str, Any]:
    """The link to a ``submitted`` entry, as the worker's event records it."""
    return {"seq": appended.seq, "entry_hash": appended.entry_hash}


def timeline(session: Session, document_id: str) -> list[LedgerEntry]:
    """Every entry of ``document_id``, with the submissions it came from, oldest first."""
    own = entries_for(session, document_id)
    links: dict[int, str] = {}
    for entry in own:
        link = entry.data().get("details", {}).get(SUBMITTED_ENTRY)
        if isinstance(link, dict) and isinstance(link.get("seq"), int) and isinstance(link.get("entry_hash"), str):
            links[link["seq"]] = link["entry_hash"]
    wanted = links.keys() - {entry.seq for entry in own}
    if not wanted:
        return own
    linked = session.scalars(select(LedgerEntry).where(LedgerEntry.seq.in_(sorted(wanted))))
    found = [e for e in linked if e.kind == EventKind.SUBMITTED.value and e.entry_hash == links[e.seq]]
    return sorted([*own, *found], key=lambda entry: entry.seq)
