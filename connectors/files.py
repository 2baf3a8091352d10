"""Files written so that a crash at any point leaves either the old or the new content, never
half a file, and moved so that an input is never removed before it is in place elsewhere.

Every write goes to a temporary name beside the target, then os.replace (atomic on one file
system). A move is os.replace as well, with copy + fsync + rename across file systems.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import os
import shutil
import threading
from pathlib import Path
from typing import Any


def _temp_beside(path: Path) -> Path:
    """A name of this process and thread only: writers in several threads never share one."""
    return path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")


def atomic_write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = _temp_beside(path)
    with open(tmp, "wb") as fh:
        fh.write(data)
    os.replace(tmp, path)


def write_json(path: Path, data: Any) -> None:
    """Sorted keys and a final newline: the same data always gives the same bytes."""
    text = json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True, default=str) + "\n"
    atomic_write(path, text.encode("utf-8"))


def read_json(path: Path) -> Any | None:
    """The file's data; None when it is missing or not JSON (a note never written in full)."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (FileNotFoundError, json.JSONDecodeError):
        return None


def remove(path: Path) -> None:
    """Remove the file if it is there (another worker may have removed it first)."""
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)


def file_sha256(path: Path) -> str | None:
    """SHA-256 of the file's content, read in chunks; None when it is gone."""
    h = hashlib.sha256()
    try:
        with open(path, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                h.update(chunk)
    except FileNotFoundError:
        return None
    return h.hexdigest()


def move_file(src: Path, dest: Path) -> bool:
    """Move atomically; False when `src` is gone (another worker moved it). Across file systems:
    copy to a temp name beside `dest`, fsync, rename, then remove `src` (never remove before the
    copy is in place)."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.replace(src, dest)
        return True
    except FileNotFoundError:
        return False
    except OSError as exc:
        if exc.errno != errno.EXDEV:  # anything but "different file systems"
            raise
    tmp = _temp_beside(dest)
    try:
        shutil.copy2(src, tmp)
    except FileNotFoundError:
        return False
    with open(tmp, "rb") as fh:
        os.fsync(fh.fileno())
    os.replace(tmp, dest)
    remove(src)
    return True
