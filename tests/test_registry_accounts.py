"""Accounts: argon2id credentials, who may belong to an agency, and what each role may do."""

from __future__ import annotations

import pytest
from argon2 import PasswordHasher
from sqlalchemy.orm import Session, sessionmaker

from gateway.errors import InputError, NotFoundError
from registry import accounts
from registry.accounts import PERMISSIONS, Permission, may
from registry.demo import Credential
from registry.models import Role

STC = "000.00.15.H12"
CLERK = "vanthu@stc.camau.lienthong.test"
PASSWORD = "a long enough password"


def test_hashes_are_argon2id_and_verify(sessions: sessionmaker[Session], demo_credentials: list[Credential]) -> None:
    with sessions.begin() as session:
        account = accounts.add(session, "tester@camau.lienthong.test", Role.AUDITOR, PASSWORD)
        assert account.password_hash.startswith("$argon2id$")
        assert PASSWORD not in account.password_hash
    with sessions() as session:
        assert accounts.authenticate(session, "Tester@Camau.Lienthong.Test", PASSWORD) is not None
        assert accounts.authenticate(session, "tester@camau.lienthong.test", PASSWORD + "x") is None
        assert accounts.authenticate(session, "nobody@camau.lienthong.test", PASSWORD) is None
        assert accounts.authenticate(session, "not a login", PASSWORD) is None
        for credential in demo_credentials:  # the generated demo passwords work
            found = accounts.authenticate(session, credential.login, credential.password)
            assert found is not None
            assert found.role == credential.role


def test_weak_hash_parameters_are_upgraded_on_login(sessions: sessionmaker[Session], demo_credentials: object) -> None:
    weak = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1).hash(PASSWORD)
    with sessions.begin() as session:
        accounts.get(session, CLERK).password_hash = weak
    with sessions.begin() as session:
        assert accounts.authenticate(session, CLERK, PASSWORD) is not None
    with sessions() as session:
        upgraded = accounts.get(session, CLERK).password_hash
    assert upgraded != weak
    assert upgraded.startswith("$argon2id$")
    assert not PasswordHasher().check_needs_rehash(upgraded)


def test_set_password(sessions: sessionmaker[Session], demo_credentials: object) -> None:
    with sessions.begin() as session:
        accounts.set_password(session, CLERK, PASSWORD)
    with sessions() as session:
        assert accounts.authenticate(session, CLERK, PASSWORD) is not None
    with pytest.raises(InputError, match="password: 5 characters, at least 12 required"), sessions.begin() as session:
        accounts.set_password(session, CLERK, "short")
    with pytest.raises(NotFoundError, match=r"account 'x@y\.test' does not exist"), sessions.begin() as session:
        accounts.set_password(session, "x@y.test", PASSWORD)


RULES = [
    ("qlvb2@stc.camau.lienthong.test", Role.SYSTEM, None, "agency: a system account acts for one agency"),
    ("boss@camau.lienthong.test", Role.ADMIN, STC, "agency: a admin account acts for the whole gateway"),
    ("other@stc.camau.lienthong.test", Role.CLERK, STC, "a clerk logs in with a records-office mailbox of agency"),
    ("vanthu@syt.camau.lienthong.test", Role.CLERK, STC, "a clerk logs in with a records-office mailbox of agency"),
    (CLERK, Role.CLERK, STC, f"login '{CLERK}': an account with this login already exists"),
    ("vanthu@huyennamcan.camau.lienthong.test", Role.CLERK, "000.00.37.H12", "suspended since 2025-07-01"),
    ("x@y.test", Role.CLERK, "000.00.99.H12", "agency '000.00.99.H12' is not in the registry"),
    ("not-an-address", Role.AUDITOR, None, "login 'not-an-address': expected a mailbox address"),
]


def test_account_rules(sessions: sessionmaker[Session], demo_credentials: object) -> None:
    for login, role, organ_id, message in RULES:
        with pytest.raises((InputError, NotFoundError)) as caught, sessions.begin() as session:
            accounts.add(session, login, role, PASSWORD, organ_id)
        assert message in str(caught.value), login
    with sessions.begin() as session:  # and the rules let the legitimate cases through
        accounts.add(session, "vanthu@syt.camau.lienthong.test", Role.CLERK, PASSWORD, "000.00.22.H12")
        accounts.add(session, "qlvb@syt.camau.lienthong.test", Role.SYSTEM, PASSWORD, "000.00.22.H12")


def test_roles_decide_permissions(sessions: sessionmaker[Session], demo_credentials: object) -> None:
    with sessions.begin() as session:
        by_role = {a.role: a for a in accounts.listing(session)}
        clerk, system, auditor, admin = (by_role[r.value] for r in Role)
        assert may(clerk, Permission.SUBMIT_DOCUMENTS)
        assert may(clerk, Permission.READ_OWN_MAILBOX)
        assert may(system, Permission.SUBMIT_DOCUMENTS)
        assert not may(clerk, Permission.READ_LEDGER)
        assert not may(clerk, Permission.ADMINISTER_REGISTRY)
        assert may(auditor, Permission.READ_LEDGER)
        assert not may(auditor, Permission.ADMINISTER_REGISTRY)
        assert not may(auditor, Permission.SUBMIT_DOCUMENTS)
        assert may(admin, Permission.ADMINISTER_REGISTRY)
        assert not may(admin, Permission.SUBMIT_DOCUMENTS)
        admin.active = False
        assert not may(admin, Permission.READ_REGISTRY)
    assert set(PERMISSIONS) == set(Role)


def test_generated_passwords_survive_a_command_line() -> None:
    """Operators paste them into swaks, curl and mail clients: no leading "-" that reads as an option, no shell or
    URL metacharacters, long enough for the policy, never the same twice (one in 64 of the former token_urlsafe
    passwords began with "-", and swaks refused it as an unknown option)."""
    generated = [accounts.generate_password() for _ in range(2000)]
    assert len(set(generated)) == len(generated)
    for password in generated:
        assert password.isascii(), password
        assert password.isalnum(), password
        assert accounts.check_password(password) == password
    assert {p[0] for p in generated} > set("aZ9")  # the whole alphabet is used, first characters included
