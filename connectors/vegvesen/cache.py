"""A lookup cache with a max age: don't spend quota on a vehicle looked up yesterday.

Kept in a small SQLite file under the data folder (`<data_dir>/cache/vegvesen.sqlite`), not in
the work-item store: it holds raw registry answers (a connector concern, bounded, disposable:
deleting the file only costs quota), it needs no schema migration in the shared store, and reads
are cheap local lookups from many threads. Only found vehicles are cached: a "not found" answer
may be a plate typed wrong today and registered tomorrow, and a reviewer's "try again" must
really ask the registry again.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

_SCHEMA = """
CREATE TABLE IF NOT EXISTS entries (
    kind TEXT NOT NULL,          -- 'api' (raw JSON answer), 'web' (page fields), 'odometer'
    key TEXT NOT NULL,           -- normalized plate or VIN
    fetched_at REAL NOT NULL,    -- unix time
    body TEXT NOT NULL,
    PRIMARY KEY (kind, key)
)
"""


class LookupCache:
    def __init__(self, path: Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._conn = sqlite3.connect(self.path, check_same_thread=False, timeout=30, isolation_level=None)
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA synchronous=NORMAL")
        self._conn.execute(_SCHEMA)
        self.hits = 0
        self.misses = 0

    @classmethod
    def from_settings(cls, settings=None) -> LookupCache:
        from config.settings import get_settings

        s = settings or get_settings()
        return cls(s.paths.data_dir / "cache" / "vegvesen.sqlite")

    def get(self, kind: str, key: str, max_age_seconds: float) -> Any | None:
        """The cached value if younger than `max_age_seconds`, else None (0 disables the cache)."""
        if max_age_seconds <= 0:
            return None
        with self._lock:
            row = self._conn.execute("SELECT fetched_at, body FROM entries WHERE kind = ? AND key = ?",
                                     (kind, key)).fetchone()
        if row is None or time.time() - row[0] > max_age_seconds:
            self.misses += 1
            return None
        self.hits += 1
        return json.loads(row[1])

    def put(self, kind: str, key: str, value: Any, fetched_at: float | None = None) -> None:
        body = json.dumps(value, ensure_ascii=False, default=str)
        with self._lock:
            self._conn.execute("INSERT OR REPLACE INTO entries (kind, key, fetched_at, body) VALUES (?, ?, ?, ?)",
                               (kind, key, fetched_at or time.time(), body))

    def purge(self, older_than_seconds: float) -> int:
        with self._lock:
            cur = self._conn.execute("DELETE FROM entries WHERE fetched_at < ?", (time.time() - older_than_seconds,))
            return cur.rowcount or 0

    def close(self) -> None:
        with self._lock:
            self._conn.close()
