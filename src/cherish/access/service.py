"""Keys, users and the audit trail: who may do what, checked the same way for the API and the dashboard."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from cherish.access.models import KEY_ROLES, ROLES, ApiKey, AuditRecord, InstanceSetting, User
from cherish.db.base import utcnow
from cherish.db.dialects import raw_rows
from cherish.errors import Conflict, InvalidInput, NotFound

_hasher = PasswordHasher()
RANK = {"viewer": 1, "agent": 2, "manager": 3, "admin": 4}


@dataclass(frozen=True)
class Principal:
    """Who is calling: a key or a dashboard user, with one role."""

    kind: str  # key or user
    name: str
    role: str

    def can(self, role: str) -> bool:
        if role == "write":
            return self.role == "write"
        return RANK.get(self.role, 0) >= RANK[role]

    @property
    def label(self) -> str:
        return f"{self.kind}:{self.name}"


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def create_key(session: Session, *, role: str, name: str | None = None) -> tuple[ApiKey, str]:
    """A new key; the secret is returned once and only its SHA-256 is kept."""
    if role not in KEY_ROLES:
        raise InvalidInput(f"unknown role {role!r}; choose one of {', '.join(KEY_ROLES)}")
    secret = ("wk_" if role == "write" else "ck_") + secrets.token_urlsafe(32)
    key = ApiKey(name=name or f"{role} key", role=role, key_hash=hash_key(secret), prefix=secret[:10],
                 created_at=utcnow())
    session.add(key)
    session.flush()
    return key, secret


def list_keys(session: Session) -> list[ApiKey]:
    return list(session.scalars(select(ApiKey).order_by(ApiKey.id)))


def revoke_key(session: Session, *, key_id: int) -> ApiKey:
    """Revoke a key; never the last admin credential, which would leave the instance with nobody to manage keys."""
    key = session.get(ApiKey, key_id)
    if key is None:
        raise NotFound(f"no key with id {key_id}")
    if key.revoked_at is None:
        if key.role == "admin" and admin_credentials(session) <= 1:
            raise Conflict("this is the last admin key and there is no admin user: create another admin key "
                           "(`cherish keys create --role admin`) or user before revoking it")
        key.revoked_at = utcnow()
    return key


def admin_credentials(session: Session) -> int:
    """How many live credentials can administer the instance: admin keys not revoked, admin users not disabled."""
    keys = session.scalar(select(func.count()).select_from(ApiKey).where(ApiKey.role == "admin",
                                                                         ApiKey.revoked_at.is_(None)))
    users = session.scalar(select(func.count()).select_from(User).where(User.role == "admin",
                                                                        User.disabled_at.is_(None)))
    return (keys or 0) + (users or 0)


def principal_for_key(session: Session, secret: str) -> Principal | None:
    """Who holds this key (None when it is unknown or revoked); asked of every API call and intake request, so
    straight through the driver."""
    rows = raw_rows(session, "SELECT name, role FROM api_keys WHERE key_hash = ? AND revoked_at IS NULL",
                    [hash_key(secret)])
    return Principal("key", rows[0][0], rows[0][1]) if rows else None


def _check_password(password: str) -> None:
    if len(password) < 8:
        raise InvalidInput("a password needs at least 8 characters")


def create_user(session: Session, *, username: str, password: str, role: str) -> User:
    if role not in ROLES:
        raise InvalidInput(f"unknown role {role!r}; choose one of {', '.join(ROLES)}")
    username = username.strip()
    if not username:
        raise InvalidInput("a user needs a name")
    _check_password(password)
    if session.scalar(select(User).where(User.username == username)) is not None:
        raise Conflict(f"user {username!r} already exists")
    user = User(username=username, password_hash=_hasher.hash(password), role=role, created_at=utcnow())
    session.add(user)
    session.flush()
    return user


def user_exists(session: Session, username: str) -> bool:
    """Whether a dashboard user of this name exists."""
    return session.scalar(select(User.id).where(User.username == username)) is not None


def set_password(session: Session, *, username: str, password: str) -> User:
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise NotFound(f"no user named {username!r}")
    _check_password(password)
    user.password_hash = _hasher.hash(password)
    user.session_epoch += 1  # whoever logged in with the old password is logged out
    return user


def authenticate(session: Session, *, username: str, password: str) -> tuple[Principal, int] | None:
    """The user and their session epoch when the password is right; None otherwise."""
    user = session.scalar(select(User).where(User.username == username, User.disabled_at.is_(None)))
    if user is None:
        _hasher.hash(password)  # same cost whether or not the user exists
        return None
    try:
        _hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return None
    return Principal("user", user.username, user.role), user.session_epoch


def principal_for_user(session: Session, username: str, epoch: int) -> Principal | None:
    """Who holds a dashboard session begun in ``epoch``; None once the user logged out or changed password."""
    user = session.scalar(select(User).where(User.username == username, User.disabled_at.is_(None),
                                             User.session_epoch == epoch))
    return Principal("user", user.username, user.role) if user else None


def end_sessions(session: Session, *, username: str) -> None:
    """End every dashboard session of the user (logging out: a copied cookie stops working too)."""
    session.execute(update(User).where(User.username == username).values(session_epoch=User.session_epoch + 1))


def audit(session: Session, *, actor: str, action: str, subject: str | None = None,
          details: dict[str, Any] | None = None) -> None:
    """Record an action; ``details`` must never hold personal data."""
    session.add(AuditRecord(actor=actor, action=action, subject=subject, details=details or {}, at=utcnow()))


def instance_secret(session: Session) -> str:
    """The key that signs dashboard sessions, generated on first use and kept in the store."""
    key = instance_key(session, "secret_key")
    assert key is not None
    return key


def instance_key(session: Session, name: str, *, create: bool = True) -> str | None:
    """A signing key of this installation, by name, generated on first use and kept in the store: each purpose its
    own, so that rotating one (the sessions') leaves the others (unsubscribe links already mailed) working. None
    when it was never made and ``create`` is false (a reader checking a signature nothing could have made)."""
    row = session.get(InstanceSetting, name)
    if row is None and not create:
        return None
    if row is None:
        row = InstanceSetting(name=name, value=secrets.token_urlsafe(48))
        session.add(row)
        session.flush()
    return row.value


def instance_value(session: Session, name: str) -> str | None:
    """A setting of this installation kept in the store (set from the dashboard or the API), if it was set."""
    row = session.get(InstanceSetting, name)
    return None if row is None else row.value


def set_instance_value(session: Session, name: str, value: str | None) -> None:
    """Keep (or, with None, forget) a setting of this installation in the store."""
    row = session.get(InstanceSetting, name)
    if value is None:
        if row is not None:
            session.delete(row)
    elif row is None:
        session.add(InstanceSetting(name=name, value=value))
    else:
        row.value = value
    session.flush()
