"""Who may do what in the review app: users, passwords, sessions, CSRF, lock-out, roles.

- Passwords: Argon2id (argon2-cffi defaults, RFC 9106's second recommended parameter set),
  rehashed on log-in when the parameters change.
- Sessions: server-side rows (workqueue.models.ReviewSession). The cookie carries a random
  token; the table stores only its SHA-256, so a database dump does not yield live sessions.
  Logging out, a lock or a new password deletes the rows: the session ends at once.
- CSRF: a random token per session, required in every POST form (hidden field `csrf_token`).
  The log-in form, which has no session yet, uses a signed token bound to a pre-session cookie.
- Lock-out: `max_failed_logins` wrong passwords in a row lock the account until an admin
  unlocks it (`rpa users unlock` or the Brukere page).

Roles (see docs/review.md for the reasoning):
  reviewer  cases whose org unit is one of theirs AND whose process is one of theirs (all
            processes when none are listed); may claim, decide and reveal fnr on those.
  owner     every case of their processes (listed, or else those their org units own); the
            benefits page and the audit trail of their processes; may decide; may NOT reveal
            fnr (an owner oversees the process and needs no single person's identity).
  admin     all cases, user management, the whole audit trail; may reveal fnr.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import delete, func, insert, select, update

from config.process_definition import ProcessDefinition
from workqueue.models import AuditEvent, ReviewSession, User
from workqueue.store import WorkQueueStore, utcnow

ROLES = ("reviewer", "attestant", "owner", "admin")
# An attestant is a reviewer who may also approve (attest) another person's decision above a limit.
REVEAL_FNR_ROLES = frozenset({"reviewer", "attestant", "admin"})
AUDIT_ROLES = frozenset({"owner", "admin"})
BENEFIT_ROLES = frozenset({"owner", "admin"})
MIN_PASSWORD_LENGTH = 10
USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")
SESSION_TOUCH_SECONDS = 60  # write last_seen_at at most once a minute per session

_hasher = PasswordHasher()
# Verified against when the user does not exist, so a wrong user name costs as much time as a
# wrong password (no user-name probing by timing).
_DUMMY_HASH = _hasher.hash("not-a-real-password-" + secrets.token_hex(8))


class UserError(ValueError):
    """A user-management request that cannot be done; the message is for staff (Norwegian)."""


@dataclass(frozen=True)
class Principal:
    """The logged-in user as one request sees it."""

    user_id: int
    username: str
    full_name: str
    role: str
    org_units: tuple[str, ...]
    processes: tuple[str, ...]
    session_id: str
    csrf_token: str

    @property
    def display_name(self) -> str:
        return self.full_name or self.username

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    @property
    def may_reveal_fnr(self) -> bool:
        return self.role in REVEAL_FNR_ROLES

    @property
    def may_read_audit(self) -> bool:
        return self.role in AUDIT_ROLES

    @property
    def may_read_benefits(self) -> bool:
        return self.role in BENEFIT_ROLES


@dataclass(frozen=True)
class Scope:
    """Which cases a principal may see. `None` means no limit on that axis."""

    processes: frozenset[str] | None
    org_units: frozenset[str] | None
    # Cases without an org unit (report-level cases, system errors) belong to the unit that owns
    # the process: these are the processes whose owner unit is one of the reviewer's units.
    unitless_processes: frozenset[str] = frozenset()

    @property
    def everything(self) -> bool:
        return self.processes is None and self.org_units is None

    def allows(self, process_id: str, org_unit: str | None) -> bool:
        if self.processes is not None and process_id not in self.processes:
            return False
        if self.org_units is None:
            return True
        if org_unit is None:
            return process_id in self.unitless_processes
        return org_unit in self.org_units


def scope_for(p: Principal, catalogue: dict[str, ProcessDefinition]) -> Scope:
    if p.role == "admin":
        return Scope(None, None)
    if p.role == "owner":
        owned = set(p.processes) or {pid for pid, d in catalogue.items() if d.owner.org_unit in p.org_units}
        return Scope(frozenset(owned), None)
    units = frozenset(p.org_units)
    processes = frozenset(p.processes) if p.processes else None
    unitless = frozenset(pid for pid, d in catalogue.items() if d.owner.org_unit in units)
    return Scope(processes, units, unitless)


# ---------------------------------------------------------------------------- passwords

def hash_password(password: str) -> str:
    return _hasher.hash(password)


def check_password_policy(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise UserError(f"Passordet må ha minst {MIN_PASSWORD_LENGTH} tegn.")
    if password.strip() != password:
        raise UserError("Passordet kan ikke begynne eller slutte med mellomrom.")


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


# ---------------------------------------------------------------------------- users

def _audit(s, actor: str, action: str, details: dict | None = None) -> None:
    s.execute(insert(AuditEvent).values(at=utcnow(), actor=actor, action=action, details=details or {}))


def _clean_list(values: Iterable[str] | None) -> list[str]:
    out: list[str] = []
    for v in values or []:
        for part in str(v).split(","):
            part = part.strip()
            if part and part not in out:
                out.append(part)
    return out


def _validate(role: str, org_units: list[str], processes: list[str], known_processes: Iterable[str] | None) -> None:
    if role not in ROLES:
        raise UserError(f"Ukjent rolle {role!r}; velg en av: {', '.join(ROLES)}.")
    if role in ("reviewer", "attestant") and not org_units:
        raise UserError("En saksbehandler må ha minst én organisasjonsenhet.")
    if role == "owner" and not (org_units or processes):
        raise UserError("En prosesseier må ha minst én prosess eller organisasjonsenhet.")
    if known_processes is not None:
        known = set(known_processes)
        unknown = [p for p in processes if p not in known]
        if unknown:
            raise UserError(f"Ukjent prosess: {', '.join(unknown)} (kjente: {', '.join(sorted(known))}).")


def add_user(store: WorkQueueStore, username: str, role: str, password: str, *, org_units: Iterable[str] = (),
             processes: Iterable[str] = (), full_name: str = "", actor: str = "system",
             known_processes: Iterable[str] | None = None) -> User:
    username = username.strip().lower()
    if not USERNAME.match(username):
        raise UserError("Brukernavnet må være 2–64 tegn: små bokstaver a–z, tall, punktum, bindestrek "
                        "eller understrek.")
    units, procs = _clean_list(org_units), _clean_list(processes)
    _validate(role, units, procs, known_processes)
    check_password_policy(password)
    pw_hash = hash_password(password)
    with store.session() as s:
        if s.scalar(select(User.id).where(User.username == username)) is not None:
            raise UserError(f"Brukeren {username!r} finnes allerede.")
        user = User(username=username, full_name=full_name.strip(), role=role, org_units=units, processes=procs,
                    password_hash=pw_hash, failed_logins=0, created_at=utcnow())
        s.add(user)
        s.flush()
        _audit(s, actor, "user.created", {"username": username, "role": role, "org_units": units,
                                          "processes": procs})
        return user


def update_user(store: WorkQueueStore, username: str, *, role: str, org_units: Iterable[str],
                processes: Iterable[str], full_name: str | None = None, actor: str,
                known_processes: Iterable[str] | None = None) -> User:
    units, procs = _clean_list(org_units), _clean_list(processes)
    _validate(role, units, procs, known_processes)
    with store.session() as s:
        user = _get_user(s, username)
        if user.role == "admin" and role != "admin" and _admin_count(s) <= 1:
            raise UserError("Den siste administratoren kan ikke miste administratorrollen.")
        user.role, user.org_units, user.processes = role, units, procs
        if full_name is not None:
            user.full_name = full_name.strip()
        # Rights changed: end the user's sessions so the new scope applies from the next log-in.
        s.execute(delete(ReviewSession).where(ReviewSession.user_id == user.id))
        _audit(s, actor, "user.updated", {"username": user.username, "role": role, "org_units": units,
                                          "processes": procs})
        return user


def set_password(store: WorkQueueStore, username: str, password: str, actor: str) -> None:
    check_password_policy(password)
    pw_hash = hash_password(password)
    with store.session() as s:
        user = _get_user(s, username)
        user.password_hash, user.failed_logins, user.locked_at = pw_hash, 0, None
        s.execute(delete(ReviewSession).where(ReviewSession.user_id == user.id))
        _audit(s, actor, "user.password_set", {"username": user.username})


def unlock_user(store: WorkQueueStore, username: str, actor: str) -> None:
    with store.session() as s:
        user = _get_user(s, username)
        user.failed_logins, user.locked_at = 0, None
        _audit(s, actor, "user.unlocked", {"username": user.username})


def list_users(store: WorkQueueStore) -> list[User]:
    with store.session() as s:
        return list(s.scalars(select(User).order_by(User.username)))


def get_user(store: WorkQueueStore, username: str) -> User:
    with store.session() as s:
        return _get_user(s, username)


def _get_user(s, username: str) -> User:
    user = s.scalar(select(User).where(User.username == username.strip().lower()))
    if user is None:
        raise UserError(f"Fant ingen bruker {username!r}.")
    return user


def _admin_count(s) -> int:
    return s.scalar(select(func.count()).select_from(User).where(User.role == "admin")) or 0


# ---------------------------------------------------------------------------- log-in

@dataclass(frozen=True)
class LoginResult:
    ok: bool
    user_id: int | None = None
    locked: bool = False


def authenticate(store: WorkQueueStore, username: str, password: str, max_failed: int) -> LoginResult:
    """Check a password; count failures; lock at `max_failed`. Every outcome is audited."""
    name = username.strip().lower()[:64]
    with store.session() as s:
        user = s.scalar(select(User).where(User.username == name))
        if user is None:
            _verify(_DUMMY_HASH, password)
            _audit(s, name or "?", "user.login_failed", {"reason": "unknown user"})
            return LoginResult(False)
        if user.locked_at is not None:
            _audit(s, name, "user.login_failed", {"reason": "locked"})
            return LoginResult(False, locked=True)
        if not _verify(user.password_hash, password):
            user.failed_logins += 1
            _audit(s, name, "user.login_failed", {"reason": "wrong password", "failed_logins": user.failed_logins})
            if user.failed_logins >= max_failed:
                user.locked_at = utcnow()
                s.execute(delete(ReviewSession).where(ReviewSession.user_id == user.id))
                _audit(s, name, "user.locked", {"failed_logins": user.failed_logins})
                return LoginResult(False, locked=True)
            return LoginResult(False)
        user.failed_logins = 0
        if _hasher.check_needs_rehash(user.password_hash):
            user.password_hash = hash_password(password)
        _audit(s, name, "user.login", {})
        return LoginResult(True, user_id=user.id)


# ---------------------------------------------------------------------------- sessions

def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_session(store: WorkQueueStore, user_id: int) -> str:
    """A new session (always a fresh token: no session fixation). Returns the cookie value."""
    token = secrets.token_urlsafe(32)
    now = utcnow()
    with store.session() as s:
        s.add(ReviewSession(id=_digest(token), user_id=user_id, csrf_token=secrets.token_urlsafe(32),
                            created_at=now, last_seen_at=now))
    return token


def load_session(store: WorkQueueStore, read_engine, token: str | None, idle_minutes: int) -> Principal | None:
    """The principal for a cookie token, or None (unknown, expired, or the account is locked)."""
    if not token or len(token) > 100:
        return None
    sid = _digest(token)
    with read_engine.connect() as conn:
        row = conn.execute(
            select(ReviewSession.last_seen_at, ReviewSession.csrf_token, User.id, User.username, User.full_name,
                   User.role, User.org_units, User.processes, User.locked_at)
            .join(User, User.id == ReviewSession.user_id).where(ReviewSession.id == sid)).first()
    if row is None or row.locked_at is not None:
        return None
    now = utcnow()
    last_seen = row.last_seen_at if row.last_seen_at.tzinfo else row.last_seen_at.replace(tzinfo=now.tzinfo)
    if now - last_seen > timedelta(minutes=idle_minutes):
        end_session(store, sid)
        return None
    if (now - last_seen).total_seconds() > SESSION_TOUCH_SECONDS:
        with store.session() as s:
            s.execute(update(ReviewSession).where(ReviewSession.id == sid).values(last_seen_at=now))
    return Principal(row.id, row.username, row.full_name, row.role, tuple(row.org_units or ()),
                     tuple(row.processes or ()), sid, row.csrf_token)


def end_session(store: WorkQueueStore, session_id: str) -> None:
    with store.session() as s:
        s.execute(delete(ReviewSession).where(ReviewSession.id == session_id))


def purge_expired_sessions(store: WorkQueueStore, idle_minutes: int, now: datetime | None = None) -> int:
    cutoff = (now or utcnow()) - timedelta(minutes=idle_minutes)
    with store.session() as s:
        return s.execute(delete(ReviewSession).where(ReviewSession.last_seen_at < cutoff)).rowcount or 0


# ---------------------------------------------------------------------------- CSRF

def csrf_ok(principal: Principal, submitted: str | None) -> bool:
    return bool(submitted) and hmac.compare_digest(principal.csrf_token.encode(), str(submitted).encode())


class LoginCsrf:
    """CSRF for the log-in form: a signed token bound to a random pre-session cookie, so another
    site cannot log a browser in to an account of its choosing (login CSRF)."""

    COOKIE = "rpa_login"
    MAX_AGE = 3600

    def __init__(self, secret: str):
        self._signer = URLSafeTimedSerializer(secret, salt="review-login-csrf")

    @staticmethod
    def new_nonce() -> str:
        return secrets.token_urlsafe(24)

    def token_for(self, nonce: str) -> str:
        return self._signer.dumps(nonce)

    def valid(self, nonce: str | None, token: str | None) -> bool:
        if not nonce or not token:
            return False
        try:
            signed = self._signer.loads(token, max_age=self.MAX_AGE)
        except BadSignature:
            return False
        return hmac.compare_digest(str(signed).encode(), nonce.encode())
