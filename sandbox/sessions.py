"""In-memory log-in sessions behind a cookie token, shared by the stand-ins' web doors
(the finance system's UI, the Altinn inbox). Not the review app's: those are database rows."""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable
from typing import Generic, Protocol, TypeVar


class _Touched(Protocol):
    last_seen: float


S = TypeVar("S", bound=_Touched)


class SessionTable(Generic[S]):
    """`make(user)` builds a system's own session record (it carries `last_seen`).
    `unknown_is_expired`: whether a token the server does not know (forgotten, or from before a
    restart) reads as "expired" (the page says so) or simply as "not logged in"."""

    def __init__(self, make: Callable[[str], S], *, unknown_is_expired: bool, token_bytes: int = 32):
        self._make = make
        self._unknown_is_expired = unknown_is_expired
        self._token_bytes = token_bytes
        self._lock = threading.Lock()
        self._by_token: dict[str, S] = {}

    def new(self, user: str) -> str:
        token = secrets.token_urlsafe(self._token_bytes)
        with self._lock:
            self._by_token[token] = self._make(user)
        return token

    def get(self, token: str | None, idle_seconds: float | None) -> tuple[S | None, bool]:
        """(session, expired): touches a live session; forgets one idle longer than
        `idle_seconds` (no limit when that is empty or 0)."""
        if not token:
            return None, False
        with self._lock:
            session = self._by_token.get(token)
            if session is None:
                return None, self._unknown_is_expired
            now = time.monotonic()
            if idle_seconds and now - session.last_seen > idle_seconds:
                del self._by_token[token]
                return None, True
            session.last_seen = now
            return session, False

    def drop(self, token: str | None) -> None:
        with self._lock:
            self._by_token.pop(token or "", None)
