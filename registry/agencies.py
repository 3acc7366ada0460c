"""Agencies: validation of what describes one, and the operations the CLI and the gateway perform on them.

The same ``AgencySpec`` checks serve ``lienthong agency add`` and the bulk import, so a row refused by one is refused
by the other with the same words; only the field labels differ (command-line options or file columns).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from gateway.addresses import Address
from gateway.errors import InputError, NotFoundError
from registry.models import Agency, AgencyMailbox, AgencyStatus, utcnow
from registry.organ_id import organ_id_problem

_SHORT_NAME = re.compile(r"^[\w.\-]{1,32}$")
_GATEWAY = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")
_PHONE = re.compile(r"^[0-9+() .\-]{3,32}$")
NAME_LENGTH = 200

#: Field labels as the bulk import/export files name them.
FILE_LABELS = {
    "organ_id": "code",
    "parent_id": "parent_code",
    "name": "name",
    "mailboxes": "mail",
    "phone": "phone",
    "fax": "fax",
    "short_name": "short_name",
    "gateway": "gateway",
    "status": "status",
    "suspended_since": "suspended_since",
}


@dataclass(frozen=True)
class AgencySpec:
    """Everything that describes an agency, as given by a person or a file; ``None`` gateway means this one."""

    organ_id: str
    name: str
    short_name: str | None = None
    parent_id: str | None = None
    mailboxes: tuple[str, ...] = ()
    gateway: str | None = None
    phone: str | None = None
    fax: str | None = None
    status: str = AgencyStatus.ACTIVE.value
    suspended_since: date | None = None
    labels: Mapping[str, str] = field(default_factory=lambda: FILE_LABELS, compare=False, repr=False)

    def problems(self) -> list[str]:
        """Every problem with this description, each naming the field, the value and what is expected."""
        label = self.labels
        found: list[str] = []
        problem = organ_id_problem(self.organ_id)
        if problem:
            found.append(f"{label['organ_id']} {self.organ_id!r}: {problem}")
        if not self.name.strip():
            found.append(f"{label['name']}: required, the agency's full name")
        elif len(self.name) > NAME_LENGTH:
            found.append(f"{label['name']}: {len(self.name)} characters, at most {NAME_LENGTH} allowed")
        if self.short_name is not None and not _SHORT_NAME.match(self.short_name):
            found.append(
                f"{label['short_name']} {self.short_name!r}: expected 1-32 letters, digits, '.' or '-' (e.g. STC)"
            )
        if self.parent_id is not None:
            problem = organ_id_problem(self.parent_id)
            if problem:
                found.append(f"{label['parent_id']} {self.parent_id!r}: {problem}")
            elif self.parent_id == self.organ_id:
                found.append(f"{label['parent_id']} {self.parent_id!r}: an agency cannot be its own parent")
        seen: set[str] = set()
        for address in self.mailboxes:
            try:
                normal = str(Address.parse(address))
            except InputError:
                found.append(
                    f"{label['mailboxes']} {address!r}: expected a plain address such as vanthu@stc.camau.gov.vn"
                )
                continue
            if normal in seen:
                found.append(f"{label['mailboxes']} {address!r}: listed twice")
            seen.add(normal)
        if self.gateway is not None and not _GATEWAY.match(self.gateway):
            found.append(f"{label['gateway']} {self.gateway!r}: expected a gateway name (a-z, 0-9, '-')")
        for key, value in (("phone", self.phone), ("fax", self.fax)):
            if value is not None and not _PHONE.match(value):
                found.append(f"{label[key]} {value!r}: expected 3-32 digits, spaces, '+', '-', '.', '(' or ')'")
        if self.status not in {s.value for s in AgencyStatus}:
            found.append(f"{label['status']} {self.status!r}: expected 'active' or 'suspended'")
        return found

    def normalised_mailboxes(self) -> tuple[str, ...]:
        return tuple(str(Address.parse(a)) for a in self.mailboxes)


def find_cycle(organ_id: str, parent_id: str | None, parent_of: Callable[[str], str | None]) -> list[str] | None:
    """The loop that making ``parent_id`` the parent of ``organ_id`` would close, or None."""
    chain = [organ_id]
    current = parent_id
    seen = {organ_id}
    while current is not None:
        chain.append(current)
        if current in seen:
            return chain
        seen.add(current)
        current = parent_of(current)
    return None


def describe_cycle(chain: list[str]) -> str:
    return " -> ".join(chain)


def get(session: Session, organ_id: str) -> Agency:
    agency = session.get(Agency, organ_id)
    if agency is None:
        raise NotFoundError(f"agency {organ_id!r} is not in the registry ('lienthong agency list --all' lists them)")
    return agency


def listing(session: Session, *, include_suspended: bool = True) -> list[Agency]:
    query = select(Agency).options(selectinload(Agency.mailboxes)).order_by(Agency.organ_id)
    if not include_suspended:
        query = query.where(Agency.status == AgencyStatus.ACTIVE.value)
    return list(session.scalars(query))


def by_mailbox(session: Session, address: str) -> Agency | None:
    """The agency whose records office owns ``address``, the question every routing decision starts from."""
    mailbox = session.scalar(select(AgencyMailbox).where(AgencyMailbox.address == str(Address.parse(address))))
    return mailbox.agency if mailbox else None


def _parent_in_db(session: Session) -> Callable[[str], str | None]:
    def parent_of(organ_id: str) -> str | None:
        agency = session.get(Agency, organ_id)
        return agency.parent_id if agency else None

    return parent_of


def _check_mailboxes_free(session: Session, spec: AgencySpec, addresses: tuple[str, ...]) -> None:
    if not addresses:
        return
    taken = session.scalars(
        select(AgencyMailbox).where(AgencyMailbox.address.in_(addresses), AgencyMailbox.organ_id != spec.organ_id)
    ).first()
    if taken is not None:
        raise InputError(
            f"{spec.labels['mailboxes']} {taken.address!r}: already the mailbox of agency {taken.organ_id}"
        )


def add(session: Session, spec: AgencySpec, local_gateway: str) -> Agency:
    """Create one agency; the caller commits. Refuses duplicates, unknown parents and taken mailboxes."""
    problems = spec.problems()
    if problems:
        raise InputError(problems[0] if len(problems) == 1 else "; ".join(problems))
    if session.get(Agency, spec.organ_id) is not None:
        raise InputError(f"{spec.labels['organ_id']} {spec.organ_id!r}: this agency already exists")
    if spec.parent_id is not None and session.get(Agency, spec.parent_id) is None:
        raise InputError(f"{spec.labels['parent_id']} {spec.parent_id!r}: no such agency; add the parent first")
    addresses = spec.normalised_mailboxes()
    _check_mailboxes_free(session, spec, addresses)
    agency = Agency(
        organ_id=spec.organ_id,
        name=spec.name.strip(),
        short_name=spec.short_name,
        parent_id=spec.parent_id,
        gateway=spec.gateway or local_gateway,
        phone=spec.phone,
        fax=spec.fax,
        status=spec.status,
        suspended_since=spec.suspended_since if spec.status == AgencyStatus.SUSPENDED.value else None,
    )
    agency.mailboxes = [AgencyMailbox(address=a, is_primary=i == 0) for i, a in enumerate(addresses)]
    session.add(agency)
    session.flush()
    return agency


def set_parent(session: Session, organ_id: str, parent_id: str | None) -> Agency:
    """Move an agency under another; refuses a change that would make the parent chain loop."""
    agency = get(session, organ_id)
    if parent_id is not None:
        get(session, parent_id)
        cycle = find_cycle(organ_id, parent_id, _parent_in_db(session))
        if cycle:
            raise InputError(f"parent {parent_id!r}: would make a loop in the parent chain ({describe_cycle(cycle)})")
    if agency.parent_id != parent_id:
        agency.parent_id = parent_id
        agency.updated_at = utcnow()
    session.flush()
    return agency


def update(session: Session, organ_id: str, changes: Mapping[str, str | None], labels: Mapping[str, str]) -> Agency:
    """Change the descriptive fields named in ``changes`` (name, short_name, parent_id, gateway, phone, fax).

    Each new value is checked as ``add`` checks it, every problem reported at once under the caller's ``labels``; a
    new parent is refused when it would make the parent chain loop. Moving an agency to another gateway changes
    where documents for it are delivered from the next delivery on; its mailboxes stay as they are."""
    allowed = {"name", "short_name", "parent_id", "gateway", "phone", "fax"}
    unknown = set(changes) - allowed
    if unknown:
        raise InputError(f"cannot change {', '.join(sorted(unknown))} this way")
    agency = get(session, organ_id)
    current = {
        "name": agency.name,
        "short_name": agency.short_name,
        "parent_id": agency.parent_id,
        "gateway": agency.gateway,
        "phone": agency.phone,
        "fax": agency.fax,
    }
    merged = {**current, **changes}
    spec = AgencySpec(
        organ_id,
        merged["name"] or "",
        merged["short_name"],
        merged["parent_id"],
        (),
        merged["gateway"],
        merged["phone"],
        merged["fax"],
        labels=labels,
    )
    problems = [p for p in spec.problems() if not p.startswith(labels["organ_id"])]
    if problems:
        raise InputError("; ".join(problems))
    if "parent_id" in changes:
        set_parent(session, organ_id, changes["parent_id"])
    changed = False
    for key in ("name", "short_name", "gateway", "phone", "fax"):
        if key not in changes:
            continue
        value = merged[key]
        if key == "name" and value is not None:
            value = value.strip()
        if getattr(agency, key) != value:
            setattr(agency, key, value)
            changed = True
    if changed:
        agency.updated_at = utcnow()
    session.flush()
    return agency


def suspend(session: Session, organ_id: str, since: date) -> Agency:
    """Suspended agencies stay in the registry so documents that name them keep resolving."""
    agency = get(session, organ_id)
    if agency.status != AgencyStatus.SUSPENDED.value or agency.suspended_since != since:
        agency.status = AgencyStatus.SUSPENDED.value
        agency.suspended_since = since
        agency.updated_at = utcnow()
    session.flush()
    return agency


def activate(session: Session, organ_id: str) -> Agency:
    agency = get(session, organ_id)
    if agency.status != AgencyStatus.ACTIVE.value:
        agency.status = AgencyStatus.ACTIVE.value
        agency.suspended_since = None
        agency.updated_at = utcnow()
    session.flush()
    return agency


def is_local(agency: Agency, gateway_name: str) -> bool:
    """Whether this gateway hosts the agency's records office (and so delivers to it itself)."""
    return agency.gateway == gateway_name


def record(agency: Agency) -> dict[str, Any]:
    """One agency as plain data, for listings, ``--json`` and export."""
    return {
        "organ_id": agency.organ_id,
        "name": agency.name,
        "short_name": agency.short_name,
        "parent_id": agency.parent_id,
        "mail": [m.address for m in agency.mailboxes],
        "gateway": agency.gateway,
        "phone": agency.phone,
        "fax": agency.fax,
        "status": agency.status,
        "suspended_since": agency.suspended_since.isoformat() if agency.suspended_since else None,
        "created_at": agency.created_at.isoformat(),
        "updated_at": agency.updated_at.isoformat(),
    }
