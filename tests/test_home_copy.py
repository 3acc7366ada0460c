"""A home copied or moved elsewhere (a restored backup, a new server) uses its own key files, not the original's.

Certificate records name their files relative to the home's keys folder; records written before that, with absolute
paths, keep working. Against a demo home on SQLite (the copy carries the database) and on PostgreSQL (the copy
shares the server's database, as a moved gateway would).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from sqlalchemy import select, update

from certs import lifecycle
from certs.context import chain
from certs.smime import sign_entity
from certs.store import CertificateRecord, CertKind
from gateway.cli.init import registry_sessions
from gateway.home import Home
from gateway.smtp.tls import gateway_certificate
from registry import db
from tests.fixtures.trust import ENTITY
from tests.fixtures.workers import cli
from tests.test_trust_cli import STC, STC_MAIL, run


def _issued(home: Home) -> None:
    cli(home, "ca", "init")
    cli(home, "cert", "issue", "smime", "--agency", STC, "--mail", STC_MAIL)
    cli(home, "cert", "issue", "tls", "--host", home.settings.gateway.domain)  # the host `serve` looks for


def _moved(home: Home, tmp_path: Path) -> Home:
    """The home moved to a new folder; the old folder is gone, so nothing can still be read from it."""
    target = tmp_path / "moved-home"
    shutil.move(home.root, target)
    return Home(target)


def test_records_name_their_files_inside_the_keys_folder(demo_home: Home) -> None:
    _issued(demo_home)
    with registry_sessions(demo_home)() as session:
        records = list(session.scalars(select(CertificateRecord)))
    assert records
    for record in records:
        for stored in (record.cert_path, record.key_path):
            assert stored is not None
            assert not Path(stored).is_absolute()
            assert (demo_home.keys_dir / stored).is_file()


def test_a_moved_home_signs_and_serves_with_its_own_files(demo_home: Home, tmp_path: Path) -> None:
    _issued(demo_home)
    moved = _moved(demo_home, tmp_path)

    with registry_sessions(moved)() as session:
        signer = lifecycle.active_signer(session, moved.keys_dir, STC, chain(moved))
    assert sign_entity(ENTITY, signer.certificate, signer.key, signer.chain).entity

    certificate = gateway_certificate(moved, db.open_registry(moved.database_url))
    assert certificate.key.is_relative_to(moved.root)

    rows = json.loads(run(moved, "cert", "list", "--json").output)
    assert rows
    for row in rows:
        assert Path(row["cert_path"]).is_relative_to(moved.root)
        assert Path(row["key_path"]).is_file()


def test_records_with_absolute_paths_still_work(demo_home: Home) -> None:
    """As written before paths were made relative: the absolute path is used as it stands."""
    _issued(demo_home)
    sessions = registry_sessions(demo_home)
    with sessions.begin() as session:
        for record in session.scalars(select(CertificateRecord)):
            assert record.cert_path is not None
            assert record.key_path is not None
            session.execute(
                update(CertificateRecord)
                .where(CertificateRecord.serial == record.serial)
                .values(
                    cert_path=str(demo_home.keys_dir / record.cert_path),
                    key_path=str(demo_home.keys_dir / record.key_path),
                )
            )
    with sessions() as session:
        kinds = {record.kind for record in session.scalars(select(CertificateRecord))}
        assert CertKind.SMIME.value in kinds
        signer = lifecycle.active_signer(session, demo_home.keys_dir / "elsewhere", STC, chain(demo_home))
    assert signer.certificate.serial_number
