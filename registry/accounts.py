"""Accounts, their argon2id credentials, and the table of what each role may do.

One credential per mailbox: the login is a mailbox address and is unique. Clerks log in with a records-office mailbox
of their agency (the one they read); agency systems act for one agency with a login of their own; auditors and
administrators act for the gateway as a whole and belong to no agency.
"""

from __future__ import annotations

import secrets
import string
from enum import StrEnum

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.addresses import Address
from gateway.errors import InputError, NotFoundError
from registry import agencies
from registry.models import Account, AgencyMailbox, Role, utcnow

MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 1024

# argon2-cffi's defaults are argon2id with the RFC 9106 low-memory profile; keeping one hasher lets
# ``needs_rehash`` notice when those defaults move on.
_HASHER = PasswordHasher()


class Permission(StrEnum):
    SUBMIT_DOCUMENTS = "submit documents for own agency"
    READ_OWN_MAILBOX = "read own agency's mailbox"
    READ_REGISTRY = "read the registry"
    READ_LEDGER = "read the ledger"
    ADMINISTER_REGISTRY = "administer the registry"


PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.CLERK: frozenset({Permission.SUBMIT_DOCUMENTS, Permission.READ_OWN_MAILBOX, Permission.READ_REGISTRY}),
    Role.SYSTEM: frozenset({Permission.SUBMIT_DOCUMENTS, Permission.READ_OWN_MAILBOX, Permission.READ_REGISTRY}),
    Role.AUDITOR: frozenset({Permission.READ_REGISTRY, Permission.READ_LEDGER}),
    Role.ADMIN: frozenset({Permission.READ_REGISTRY, Permission.READ_LEDGER, Permission.ADMINISTER_REGISTRY}),
}


def may(account: Account, permission: Permission) -> bool:
    """Whether ``account`` holds ``permission``; a disabled account may do nothing."""
    return account.active and permission in PERMISSIONS[Role(account.role)]


def parse_role(text: str) -> Role:
    try:
        return Role(text)
    except ValueError:
        raise InputError(f"role {text!r}: expected one of {', '.join(r.value for r in Role)}") from None


#: Letters and digits only: a generated password is pasted into mail clients and command lines (swaks, curl), where
#: a leading "-" reads as an option and "_" or "-" are easily mistyped; 24 of 62 symbols is about 143 bits.
_PASSWORD_ALPHABET = string.ascii_letters + string.digits
_PASSWORD_LENGTH = 24


def generate_password() -> str:
    return "".join(secrets.choice(_PASSWORD_ALPHABET) for _ in range(_PASSWORD_LENGTH))


def check_password(password: str) -> str:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InputError(f"password: {len(password)} characters, at least {MIN_PASSWORD_LENGTH} required")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise InputError(f"password: longer than {MAX_PASSWORD_LENGTH} characters")
    if any(ch in password for ch in "\r\n\x00"):
        raise InputError("password: must not contain line breaks or NUL")
    return password


def hash_password(password: str) -> str:
    return _HASHER.hash(check_password(password))


def get(session: Session, login: str) -> Account:
    account = session.scalar(select(Account).where(Account.login == _normal_login(login)))
    if account is None:
        raise NotFoundError(f"account {login!r} does not exist ('lienthong account list' lists them)")
    return account


def _normal_login(login: str) -> str:
    try:
        return str(Address.parse(login))
    except InputError:
        raise InputError(f"login {login!r}: expected a mailbox address such as vanthu@stc.camau.gov.vn") from None


def add(session: Session, login: str, role: Role, password: str, organ_id: str | None = None) -> Account:
    """Create an account (the caller commits); the rules of who belongs to an agency are checked here."""
    normal = _normal_login(login)
    check_password(password)
    if role in (Role.CLERK, Role.SYSTEM):
        if organ_id is None:
            raise InputError(f"agency: a {role.value} account acts for one agency; give its OrganId (--agency)")
        agency = agencies.get(session, organ_id)
        if not agency.active:
            raise InputError(f"agency {organ_id!r}: suspended since {agency.suspended_since}; activate it first")
        if role is Role.CLERK:
            owner = session.scalar(select(AgencyMailbox).where(AgencyMailbox.address == normal))
            if owner is None or owner.organ_id != organ_id:
                known = ", ".join(m.address for m in agency.mailboxes) or "none yet"
                raise InputError(
                    f"login {normal!r}: a clerk logs in with a records-office mailbox of agency {organ_id} ({known})"
                )
    elif organ_id is not None:
        raise InputError(f"agency: a {role.value} account acts for the whole gateway; leave --agency out")
    if session.scalar(select(Account.id).where(Account.login == normal)) is not None:
        raise InputError(f"login {normal!r}: an account with this login already exists")
    account = Account(login=normal, role=role.value, organ_id=organ_id, password_hash=hash_password(password))
    session.add(account)
    session.flush()
    return account


def set_password(session: Session, login: str, password: str) -> Account:
    account = get(session, login)
    account.password_hash = hash_password(password)
    account.password_changed_at = account.updated_at = utcnow()
    session.flush()
    return account


def verify(account: Account, password: str) -> bool:
    """Check a password; a hash made with older parameters is replaced on success (the caller commits)."""
    try:
        _HASHER.verify(account.password_hash, password)
    except (VerificationError, InvalidHashError):
        return False
    if _HASHER.check_needs_rehash(account.password_hash):
        account.password_hash = _HASHER.hash(password)
        account.updated_at = utcnow()
    return True


def authenticate(session: Session, login: str, password: str) -> Account | None:
    """The active account with this login and password, or None; the same answer for every kind of failure."""
    try:
        normal = _normal_login(login)
    except InputError:
        return None
    account = session.scalar(select(Account).where(Account.login == normal))
    if account is None:
        _HASHER.hash(password or "x")  # spend the same time as a real check, so logins cannot be probed by timing
        return None
    if not verify(account, password) or not account.active:
        return None
    return account


def listing(session: Session) -> list[Account]:
    return list(session.scalars(select(Account).order_by(Account.role, Account.login)))


def record(account: Account) -> dict[str, object]:
    return {
        "login": account.login,
        "role": account.role,
        "agency": account.organ_id,
        "active": account.active,
        "created_at": account.created_at.isoformat(),
        "password_changed_at": account.password_changed_at.isoformat(),
    }
