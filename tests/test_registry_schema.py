"""The migrations build exactly the schema the models describe, on SQLite and PostgreSQL, and take it down again."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, Table, inspect, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from gateway.errors import ConfigError
from registry import db
from registry.models import REGISTRY_TABLES, Account, Agency, AgencyMailbox, Base

db.load_model_modules()  # other packages' tables share the metadata the migrations are compared with


def _table_of(diff: object) -> str | None:
    item = diff[0] if isinstance(diff, list) else diff
    assert isinstance(item, tuple)
    for part in item[1:]:
        if isinstance(part, Table):
            return part.name
        table = getattr(part, "table", None)
        if isinstance(table, Table):
            return table.name
    return item[2] if len(item) > 2 and isinstance(item[2], str) else None


def test_migrated_schema_matches_the_models(registry_engine: Engine) -> None:
    with registry_engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        diffs = compare_metadata(context, Base.metadata)
    # Every package's tables, not only the registry's: one history, one schema, no drift anywhere.
    assert diffs == [], sorted({str(_table_of(d)) for d in diffs})
    assert set(REGISTRY_TABLES) <= set(inspect(registry_engine).get_table_names())
    assert db.current_revision(registry_engine) == db.head_revision()


def test_downgrade_to_base_drops_every_table_and_upgrade_is_repeatable(
    registry_url: str, sessions: sessionmaker[Session], demo_credentials: object
) -> None:
    db.upgrade(registry_url)  # already at head: a no-op, not an error
    db.downgrade(registry_url, "base")  # with data in it, parents before children
    engine = db.make_engine(registry_url)
    try:
        assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
        assert db.current_revision(engine) is None
    finally:
        engine.dispose()
    db.upgrade(registry_url)
    with sessions() as session:
        assert session.query(Agency).count() == 0


def test_sqlite_connections_use_wal_durable_commits_foreign_keys_and_a_busy_timeout(tmp_path: object) -> None:
    engine = db.make_engine(f"sqlite:///{tmp_path}/x.sqlite3")
    try:
        with engine.connect() as connection:
            assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
            assert connection.execute(text("PRAGMA synchronous")).scalar() == 2  # FULL: the WAL is synced at commit
            assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1
            assert connection.execute(text("PRAGMA busy_timeout")).scalar() == db.BUSY_TIMEOUT_MS
    finally:
        engine.dispose()


def test_plain_postgresql_urls_get_psycopg_and_other_backends_are_refused() -> None:
    assert db.parse_url("postgresql://u:p@h/d").drivername == "postgresql+psycopg"
    with pytest.raises(ConfigError, match="expected sqlite"):
        db.parse_url("mysql://u:p@h/d")
    assert db.redact("postgresql+psycopg://u:secret@h/d") == "postgresql+psycopg://u:***@h/d"


def test_database_constraints_hold_without_the_python_checks(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        session.add(Agency(organ_id="000.00.00.H12", name="UBND", gateway="camau"))
    # Two primary mailboxes for one agency: the partial unique index refuses.
    with pytest.raises(IntegrityError), sessions.begin() as session:
        session.add_all(
            [
                AgencyMailbox(organ_id="000.00.00.H12", address="a@x.test", is_primary=True),
                AgencyMailbox(organ_id="000.00.00.H12", address="b@x.test", is_primary=True),
            ]
        )
    # A clerk without an agency: the check constraint refuses.
    with pytest.raises(IntegrityError), sessions.begin() as session:
        session.add(Account(login="c@x.test", role="clerk", password_hash="x"))
    # A parent that does not exist: the foreign key refuses (SQLite too: foreign_keys is on).
    with pytest.raises(IntegrityError), sessions.begin() as session:
        session.add(Agency(organ_id="000.00.01.H12", name="VP", gateway="camau", parent_id="000.00.99.H12"))
