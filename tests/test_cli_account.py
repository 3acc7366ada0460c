"""``lienthong account ...`` against a demo home, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from pathlib import Path

from gateway.home import Home
from registry import accounts, db
from tests.fixtures.registry import invoke, one_line_error

PASSWORD = "correct horse battery staple"


def _login_works(home: Home, login: str, password: str) -> bool:
    engine = db.make_engine(home.database_url)
    try:
        with db.session_factory(engine)() as session:
            return accounts.authenticate(session, login, password) is not None
    finally:
        engine.dispose()


def test_add_with_password_file_and_generated(demo_home: Home, tmp_path: Path) -> None:
    secret = tmp_path / "pw"
    secret.write_text(PASSWORD + "\n", encoding="utf-8")
    added = invoke(
        demo_home, "account", "add", "vanthu@syt.camau.lienthong.test", "--role", "clerk",
        "--agency", "000.00.22.H12", "--password-file", str(secret),
    )  # fmt: skip
    assert added.exit_code == 0, added.stderr
    assert PASSWORD not in added.output
    assert _login_works(demo_home, "vanthu@syt.camau.lienthong.test", PASSWORD)

    generated = invoke(demo_home, "account", "add", "auditor2@camau.lienthong.test", "--role", "auditor")
    assert generated.exit_code == 0, generated.stderr
    password = generated.output.split("password (shown once): ")[1].strip()
    assert len(password) >= accounts.MIN_PASSWORD_LENGTH
    assert _login_works(demo_home, "auditor2@camau.lienthong.test", password)

    from_stdin = invoke(
        demo_home, "account", "add", "qlvb@syt.camau.lienthong.test", "--role", "system",
        "--agency", "000.00.22.H12", "--password-file", "-", input=PASSWORD + "\n",
    )  # fmt: skip
    assert from_stdin.exit_code == 0, from_stdin.stderr
    assert _login_works(demo_home, "qlvb@syt.camau.lienthong.test", PASSWORD)


def test_passwd_and_list(demo_home: Home, tmp_path: Path) -> None:
    secret = tmp_path / "pw"
    secret.write_text(PASSWORD, encoding="utf-8")
    changed = invoke(demo_home, "account", "passwd", "vanthu@stc.camau.lienthong.test", "--password-file", str(secret))
    assert changed.exit_code == 0, changed.stderr
    assert _login_works(demo_home, "vanthu@stc.camau.lienthong.test", PASSWORD)
    regenerated = invoke(demo_home, "account", "passwd", "admin@camau.lienthong.test")
    password = regenerated.output.split("password (shown once): ")[1].strip()
    assert _login_works(demo_home, "admin@camau.lienthong.test", password)

    listed = invoke(demo_home, "account", "list", "--json")
    assert listed.exit_code == 0, listed.stderr
    rows = json.loads(listed.output)
    assert {r["role"] for r in rows} == {"admin", "auditor", "clerk", "system"}
    assert all("password" not in key for row in rows for key in row if key != "password_changed_at")
    assert "$argon2" not in listed.output
    table = invoke(demo_home, "account", "list")
    assert table.exit_code == 0
    assert "7 accounts" in table.output


def test_account_errors_name_the_field(demo_home: Home, tmp_path: Path) -> None:
    empty, short = tmp_path / "empty", tmp_path / "short"
    empty.write_text("\n", encoding="utf-8")
    short.write_text("abc\n", encoding="utf-8")
    cases = [
        (
            ("account", "add", "x@camau.lienthong.test", "--role", "clerk"),
            "agency: a clerk account acts for one agency",
        ),
        (
            ("account", "add", "x@camau.lienthong.test", "--role", "clerk", "--agency", "15.H12"),
            "--agency '15.H12': expected AAA.BB.CC.Xnn",
        ),
        (
            ("account", "add", "x@camau.lienthong.test", "--role", "admin", "--password-file", str(empty)),
            "the first line is empty",
        ),
        (
            ("account", "add", "x@camau.lienthong.test", "--role", "admin", "--password-file", str(short)),
            "password: 3 characters, at least 12 required",
        ),
        (
            ("account", "add", "x@camau.lienthong.test", "--role", "admin", "--password-file", str(tmp_path / "no")),
            "cannot read",
        ),
        (("account", "passwd", "nobody@camau.lienthong.test"), "account 'nobody@camau.lienthong.test' does not exist"),
        (
            ("account", "add", "admin@camau.lienthong.test", "--role", "admin"),
            "login 'admin@camau.lienthong.test': an account with this login already exists",
        ),
    ]
    for args, expected in cases:
        message = one_line_error(invoke(demo_home, *args))
        assert expected in message, (args, message)
    bad_role = invoke(demo_home, "account", "add", "x@camau.lienthong.test", "--role", "boss")
    assert bad_role.exit_code != 0
    assert "--role" in bad_role.stderr
