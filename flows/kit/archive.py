"""Received files kept byte for byte before anything reads them: a bad file is never lost, and a
re-run reads exactly what was received. One place per process (`<data>/archive/<process>/<folder>`),
the place the retention process clears when `retention_days` have passed."""

from __future__ import annotations

import re
from pathlib import Path

from config.settings import Settings
from connectors.files import atomic_write

__all__ = ["archive_path", "keep"]


def archive_path(settings: Settings, process_id: str, folder: str, name: str) -> Path:
    """Where `name` is kept; characters a file name should not carry become '_'."""
    return settings.paths.data_dir / "archive" / process_id / folder / re.sub(r"[^A-Za-z0-9_.-]", "_", name)


def keep(settings: Settings, process_id: str, folder: str, name: str, data: bytes) -> Path:
    """Write `data` once (a name already kept is left as it is; written whole or not at all)."""
    path = archive_path(settings, process_id, folder, name)
    if not path.exists():
        atomic_write(path, data)
    return path
