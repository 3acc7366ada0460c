"""``lienthong init`` and ``lienthong status`` on a real home, with SQLite inside it or a real PostgreSQL."""

from __future__ import annotations

import json
import stat
from pathlib import Path

from gateway.home import Home
from registry.db import redact
from tests.fixtures.registry import invoke, one_line_error


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _credentials(home: Home) -> dict[str, str]:
    lines = home.credentials_path.read_text(encoding="utf-8").splitlines()
    return {line.split("\t")[1]: line.split("\t")[3] for line in lines if not line.startswith("#")}


def test_init_demo_builds_the_home(tmp_path: Path, db_url: str) -> None:
    root = tmp_path / "home"
    args = ["init", "--demo"]
    if db_url.startswith("postgresql"):
        db_url = db_url.replace("postgres@", "postgres:s3cret@")  # trust auth ignores it; status must hide it
        args += ["--database-url", db_url]
    result = invoke(root, *args)
    assert result.exit_code == 0, result.stderr
    home = Home(root)
    assert home.settings.gateway.name == "camau"
    assert home.settings.gateway.domain == "camau.lienthong.test"
    assert _mode(home.credentials_path) == 0o600
    assert _mode(home.keys_dir) == 0o700
    assert home.mailboxes_dir.is_dir()
    assert home.blobs_dir.is_dir()
    credentials = _credentials(home)
    assert len(credentials) == 7
    for login, password in credentials.items():  # printed once, matching the file
        assert f"{login}" in result.output
        assert password in result.output
    assert "lienthong.toml" in result.output

    status = invoke(root, "status", "--json")
    assert status.exit_code == 0, status.stderr
    data = json.loads(status.output)
    assert data["gateway"] == {"name": "camau", "domain": "camau.lienthong.test"}
    assert data["counts"] == {"agencies": 10, "accounts": 7, "peers": 0}
    assert data["schema_revision"] == data["schema_head"]
    assert data["database"] == redact(home.database_url)
    assert "s3cret" not in status.output
    assert {a["organ_id"] for a in data["agencies"]} >= {"000.00.00.H12", "000.00.37.H12"}

    text = invoke(root, "status")
    assert text.exit_code == 0, text.stderr
    assert "camau (camau.lienthong.test)" in text.output
    assert "000.00.37.H12  Ủy ban nhân dân huyện Năm Căn (UBND) [suspended since 2025-07-01]" in text.output
    assert "10 agencies, 7 accounts, 0 peer gateways" in text.output


def test_init_refuses_an_existing_home_unless_forced(demo_home: Home) -> None:
    before = _credentials(demo_home)
    message = one_line_error(invoke(demo_home, "init", "--demo"))
    assert "already initialised" in message
    assert "--force" in message
    assert _credentials(demo_home) == before
    demo_home.credentials_path.chmod(0o644)
    args = ["init", "--demo", "--force"]
    if demo_home.settings.database.url:
        args += ["--database-url", demo_home.settings.database.url]
    forced = invoke(demo_home, *args)
    assert forced.exit_code == 0, forced.stderr
    after = _credentials(demo_home)
    assert after.keys() == before.keys()
    assert after != before
    assert _mode(demo_home.credentials_path) == 0o600  # recreated with its mode, not left as it was
    data = json.loads(invoke(demo_home, "status", "--json").output)
    assert data["counts"] == {"agencies": 10, "accounts": 7, "peers": 0}


def test_init_without_demo_uses_the_defaults(tmp_path: Path) -> None:
    result = invoke(tmp_path / "h", "init")
    assert result.exit_code == 0, result.stderr
    assert not (tmp_path / "h" / "credentials.txt").exists()
    data = json.loads(invoke(tmp_path / "h", "status", "--json").output)
    assert data["gateway"] == {"name": "lienthong", "domain": "lienthong.localhost"}
    assert data["counts"] == {"agencies": 0, "accounts": 0, "peers": 0}


def test_init_and_status_errors_are_one_line(tmp_path: Path) -> None:
    message = one_line_error(invoke(tmp_path / "absent", "status"))
    assert "no configuration file; run 'lienthong init'" in message
    message = one_line_error(invoke(tmp_path / "h", "init", "--database-url", "mysql://x@y/z"))
    assert "database.url = 'mysql://x@y/z': expected a sqlite:/// or postgresql+psycopg:// URL" in message
    assert not (tmp_path / "h" / "lienthong.toml").exists()
    message = one_line_error(invoke(tmp_path / "h", "init", "--database-url", "postgresql+psycopg://u@127.0.0.1:1/x"))
    assert message.startswith("database postgresql+psycopg://u@127.0.0.1:1/x: cannot connect")
