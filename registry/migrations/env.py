"""Alembic environment: every package's models on the one shared metadata, run on a connection we are handed."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

import registry.models
from registry.db import load_model_modules

# Every module with tables (certs.store, the ledger, the queue, ...) is imported, where it exists, before the
# metadata is read: registry.db.MODEL_MODULES lists them.
load_model_modules()
target_metadata = registry.models.Base.metadata


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = context.config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    from registry.db import make_engine

    url = context.config.get_main_option("sqlalchemy.url")
    if not url:
        raise SystemExit("set sqlalchemy.url, or call registry.db.upgrade(url)")
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            _run(conn)
    finally:
        engine.dispose()


if context.is_offline_mode():
    raise SystemExit("offline (SQL script) migrations are not supported; run registry.db.upgrade(url)")
run_migrations_online()
