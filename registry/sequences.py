"""Register numbers (số đến / số đi): one counter per agency, year and direction, never handing out a number twice.

A single ``INSERT ... SELECT ... ON CONFLICT DO UPDATE ... RETURNING`` does the whole allocation: PostgreSQL takes
the row lock for the update, SQLite takes its one write lock for the statement, so concurrent callers queue instead
of reading the same value. Selecting from ``agencies`` makes an unknown agency insert nothing (rather than fail a
foreign key and spoil the caller's transaction). On SQLite it should be the first statement of its transaction, so
the write lock is taken before any read snapshot; the number belongs to the caller once the transaction commits.
"""

from __future__ import annotations

from sqlalchemy import Insert, Integer, String, bindparam, literal, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from gateway.errors import InputError, NotFoundError
from registry.models import Agency, NumberSequence, SequenceKind


def _statement(dialect: str) -> Insert:
    """Built once per dialect with bound parameters: every arrival and every numbering allocates."""
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    year, kind = bindparam("year", type_=Integer()), bindparam("kind", type_=String())
    source = select(Agency.organ_id, year, kind, literal(1)).where(Agency.organ_id == bindparam("organ_id"))
    statement = insert(NumberSequence).from_select(["organ_id", "year", "kind", "last_value"], source)
    statement = statement.on_conflict_do_update(
        index_elements=["organ_id", "year", "kind"],
        set_={"last_value": NumberSequence.last_value + 1},
    )
    return statement.returning(NumberSequence.last_value)


_ALLOCATE = {"postgresql": _statement("postgresql"), "sqlite": _statement("sqlite")}


def allocate(session: Session, organ_id: str, year: int, kind: SequenceKind | str) -> int:
    """The next number (1, 2, ...) in the agency's register for ``year`` and ``kind``."""
    try:
        kind = SequenceKind(kind)
    except ValueError:
        raise InputError(f"kind {kind!r}: expected outgoing or incoming") from None
    if not 1900 <= year <= 9999:
        raise InputError(f"year {year}: expected a four-digit year")
    session.flush()  # as the ORM statement this was would have
    connection = session.connection()
    parameters = {"organ_id": organ_id, "year": year, "kind": kind.value}
    value = connection.execute(_ALLOCATE[connection.dialect.name], parameters).scalar_one_or_none()
    if value is None:
        raise NotFoundError(f"agency {organ_id!r} is not in the registry; cannot number its documents")
    return int(value)
