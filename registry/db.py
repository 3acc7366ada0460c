"""Database engines and schema migrations for both supported back-ends.

SQLite is the default (one file in the home) and needs per-connection settings: WAL so readers never block the one
writer, ``synchronous=FULL`` so that a commit is on disk when it returns (under WAL, NORMAL may lose the last
commits to a power cut or an OS crash, and the gateway answers 250 only for what is on disk), foreign keys (off
by default in SQLite), and a busy timeout so a second writer waits instead of failing at once. PostgreSQL is used
through psycopg 3. Migrations run programmatically so ``lienthong init`` and the tests need no alembic.ini.
"""

from __future__ import annotations

import importlib
import importlib.util
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event, make_url
from sqlalchemy.engine import URL
from sqlalchemy.exc import ArgumentError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from gateway.errors import ConfigError

MIGRATIONS_DIR = Path(__file__).with_name("migrations")

#: Modules that put tables on ``registry.models.Base``; each is imported only if it exists, so the one migration
#: history works at every stage of the project. A package adding tables adds its module here and a revision.
MODEL_MODULES = (
    "registry.models",
    "certs.store",
    "gateway.ledger.store",
    "gateway.queue",
    "gateway.intake",
    "gateway.documents",
)
BUSY_TIMEOUT_MS = 30_000


def parse_url(url: str) -> URL:
    """A SQLAlchemy URL for a supported back-end; plain ``postgresql://`` means psycopg 3."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise ConfigError(
            f"database url {redact(url)!r}: expected sqlite:///PATH or postgresql+psycopg://..."
        ) from None
    if parsed.get_backend_name() == "postgresql":
        return parsed.set(drivername="postgresql+psycopg")
    if parsed.drivername in ("sqlite", "sqlite+pysqlite"):
        return parsed
    raise ConfigError(f"database url {redact(url)!r}: expected sqlite:///PATH or postgresql+psycopg://...")


def redact(url: str) -> str:
    """The URL with any password replaced by ***, fit to print."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "<unparsable url>"


def load_model_modules() -> None:
    """Import every module that defines tables, so ``Base.metadata`` describes the whole schema."""
    for name in MODEL_MODULES:
        parent = name.rpartition(".")[0]
        if importlib.util.find_spec(parent) is not None and importlib.util.find_spec(name) is not None:
            importlib.import_module(name)


def _sqlite_on_connect(dbapi_connection: Any, connection_record: Any) -> None:
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
    finally:
        cursor.close()


def make_engine(url: str, *, echo: bool = False) -> Engine:
    """An engine for ``url`` with the per-back-end settings lienthong relies on."""
    parsed = parse_url(url)
    if parsed.get_backend_name() == "sqlite":
        engine = create_engine(parsed, echo=echo, connect_args={"timeout": BUSY_TIMEOUT_MS / 1000})
        event.listen(engine, "connect", _sqlite_on_connect)
        return engine
    return create_engine(parsed, echo=echo, pool_pre_ping=True)


def session_factory(engine: Engine) -> sessionmaker[Session]:
    # expire_on_commit=False: objects stay readable after commit, which CLI output and services rely on.
    return sessionmaker(engine, expire_on_commit=False)


def _config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


def _run(url: str, action: str, revision: str) -> None:
    engine = make_engine(url)
    try:
        with engine.begin() as connection:
            config = _config()
            config.attributes["connection"] = connection
            getattr(command, action)(config, revision)
    except OperationalError as exc:
        raise ConfigError(f"database {redact(url)}: cannot migrate: {str(exc.orig).strip().splitlines()[0]}") from None
    finally:
        engine.dispose()


def upgrade(url: str, revision: str = "head") -> None:
    """Bring the schema at ``url`` up to ``revision`` (all of lienthong's tables, every package)."""
    _run(url, "upgrade", revision)


def downgrade(url: str, revision: str = "base") -> None:
    """Take the schema back to ``revision``; ``base`` drops every lienthong table."""
    _run(url, "downgrade", revision)


def head_revision() -> str | None:
    return ScriptDirectory.from_config(_config()).get_current_head()


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def open_registry(url: str, *, echo: bool = False) -> sessionmaker[Session]:
    """Sessions on a schema brought to the current head first, so every command sees the tables it expects."""
    upgrade(url)
    return session_factory(make_engine(url, echo=echo))
