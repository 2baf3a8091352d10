"""A drop folder that people (or another system) copy files into: which files to take in now,
and file names compared the way a Windows share compares them.

Sub-folders and links are not the folder's files (a link could point anywhere); partial copies
(by name: `*.part`, `~$*`, …) and files younger than a minimum age (still being copied) wait
for the next run.
"""

from __future__ import annotations

import fnmatch
import os
import time
import unicodedata
from collections.abc import Iterable
from pathlib import Path


def name_key(name: str) -> str:
    """Names compared the way a Windows share does: Unicode-normalised, case-insensitive
    (macOS writes decomposed å; Excel users type whatever case)."""
    return unicodedata.normalize("NFC", name).casefold()


def matches_any(name: str, patterns: Iterable[str]) -> bool:
    """Whether the name matches one of the glob patterns, without regard to case."""
    low = name.lower()
    return any(fnmatch.fnmatchcase(low, p.lower()) for p in patterns)


def scan(folder: Path, *, min_age_seconds: float = 0, ignore: Iterable[str] = (),
         now: float | None = None) -> tuple[list[str], list[str]]:
    """(names of files to take in, names skipped: too young or ignored), sorted by name; a
    missing folder has none."""
    now = time.time() if now is None else now
    take, skipped = [], []
    try:
        entries = list(os.scandir(folder))
    except FileNotFoundError:
        return [], []
    for entry in sorted(entries, key=lambda e: e.name):
        try:
            if not entry.is_file(follow_symlinks=False):
                continue
            too_young = min_age_seconds and now - entry.stat().st_mtime < min_age_seconds
            if too_young or matches_any(entry.name, ignore):
                skipped.append(entry.name)
                continue
        except FileNotFoundError:
            continue
        take.append(entry.name)
    return take, skipped


def arrived(path: Path) -> float:
    """When the file came into the folder (epoch seconds; 0.0 when it is gone): a copy or a move
    sets ctime on Linux even when the copy tool keeps the original mtime."""
    try:
        st = path.stat()
    except FileNotFoundError:
        return 0.0
    return max(st.st_mtime, st.st_ctime)
