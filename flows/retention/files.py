"""Where each process keeps files under the data folder, and which of them are past retention.

Every process gets the same four places by convention (relative to the data folder):
  output/<id>/<run>/      one folder per run (reports, evidence):  a run folder is one unit
  downloads/<id>/<run>/   what a bot downloaded in a run:          a run folder is one unit
  archive/<id>/…          archived inputs (e.g. NAV's K27 reports): each file on its own
  quarantine/<id>/…       refused inputs waiting for a person:      each file on its own
A flow package may add its own places in an optional `retention.py` (see `process_hooks`):
`folders(settings, rules) -> list[(path, label)]` (each file aged on its own), and `in_use(settings, rules, references) -> set[Path]`
for files an open case still needs (they stay, whatever their age).

A unit's age is the newest modification time of anything in it; it is due when that is before
the cutoff. Symbolic links are never followed (a link is removed as itself), and nothing
outside the data folder is touched.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import Any

from config.process_definition import ProcessDefinition
from config.settings import Settings
from connectors.identifiers import mask_fnrs_in_text

ROOTS = (("output", "utdata", "run"), ("downloads", "nedlastinger", "run"),
         ("archive", "arkiv", "file"), ("quarantine", "karantene", "file"))


@dataclass(frozen=True)
class Folder:
    """A place a process writes to. `unit`: "run" (each direct sub-folder is one run, deleted
    whole) or "file" (each file on its own, empty folders removed after)."""

    path: Path
    label: str
    unit: str = "file"


@dataclass
class Unit:
    path: Path
    label: str
    files: int
    bytes: int
    newest: datetime
    is_dir: bool


def default_folders(settings: Settings, process_id: str) -> list[Folder]:
    return [Folder(settings.paths.data_dir / root / process_id, label, unit) for root, label, unit in ROOTS]


def process_hooks(definition: ProcessDefinition) -> ModuleType | None:
    from flows.registry import flow_module

    return flow_module(definition, "retention")


def folders_for(settings: Settings, definition: ProcessDefinition, rules: Any) -> list[Folder]:
    """The default places plus the process's own, each path once."""
    found = default_folders(settings, definition.id)
    hooks = process_hooks(definition)
    if hooks is not None and hasattr(hooks, "folders"):
        found += [f if isinstance(f, Folder) else Folder(Path(f[0]), *f[1:]) for f in hooks.folders(settings, rules)]
    seen: set[Path] = set()
    unique = []
    for f in found:
        key = f.path.resolve()
        if key not in seen:
            seen.add(key)
            unique.append(f)
    return unique


def in_use(settings: Settings, definition: ProcessDefinition, rules: Any, references: set[str]) -> set[Path]:
    hooks = process_hooks(definition)
    if hooks is None or not hasattr(hooks, "in_use") or not references:
        return set()
    return {p.resolve() for p in hooks.in_use(settings, rules, references)}


def _mtime(path: Path) -> datetime:
    return datetime.fromtimestamp(path.lstat().st_mtime, UTC)


def _walk_files(root: Path) -> Iterable[Path]:
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        base = Path(dirpath)
        for name in filenames:
            yield base / name
        for name in dirnames:  # a link to a folder is listed as a dir and not walked: a unit of its own
            if (base / name).is_symlink():
                yield base / name


def _unit(path: Path, label: str, keep: set[Path]) -> Unit | None:
    """A run folder (or a single file) with its size and newest time; None if it holds a file in use."""
    if path.is_symlink() or path.is_file():
        if path.resolve() in keep:
            return None
        st = path.lstat()
        return Unit(path, label, 1, st.st_size, _mtime(path), False)
    files = list(_walk_files(path))
    if any(f.resolve() in keep for f in files):
        return None
    newest = max([_mtime(f) for f in files] + [_mtime(path)])
    return Unit(path, label, len(files), sum(f.lstat().st_size for f in files), newest, True)


def due_units(folder: Folder, cutoff: datetime, data_dir: Path, keep: set[Path] = frozenset(),
              skip: set[Path] = frozenset()) -> tuple[list[Unit], int]:
    """Units of `folder` last changed before `cutoff` -> (due, kept because in use)."""
    root = folder.path
    if not root.is_dir() or root.is_symlink() or not _inside(root, data_dir):
        return [], 0
    candidates: list[Path]
    if folder.unit == "run":
        candidates = sorted(p for p in root.iterdir() if p.resolve() not in skip)
    else:
        candidates = sorted(_walk_files(root))
    due, kept = [], 0
    for path in candidates:
        unit = _unit(path, folder.label, keep)
        if unit is None:
            kept += 1
        elif unit.newest < cutoff:
            due.append(unit)
    return due, kept


def _inside(path: Path, data_dir: Path) -> bool:
    try:
        path.resolve().relative_to(data_dir.resolve())
        return True
    except ValueError:
        return False


def remove(unit: Unit, stop_at: Path) -> None:
    """Delete the unit, then the folders it leaves empty up to (not including) `stop_at`."""
    if unit.is_dir and not unit.path.is_symlink():
        with contextlib.suppress(FileNotFoundError):  # gone since the plan: nothing left to delete
            shutil.rmtree(unit.path)
    else:
        unit.path.unlink(missing_ok=True)
    parent = unit.path.parent
    while parent != stop_at and _inside(parent, stop_at):
        with contextlib.suppress(OSError):  # not empty (or gone): stop climbing
            parent.rmdir()
            parent = parent.parent
            continue
        break


def shown(path: Path, data_dir: Path) -> str:
    """A path as listed to operators: relative to the data folder, fnr masked."""
    try:
        text = str(path.relative_to(data_dir))
    except ValueError:
        text = str(path)
    return mask_fnrs_in_text(text)


def unknown_ids(settings: Settings, known: set[str]) -> set[str]:
    """Process ids that have a folder under one of the default roots but no definition."""
    found = set()
    for root, _, _ in ROOTS:
        base = settings.paths.data_dir / root
        if base.is_dir():
            found |= {p.name for p in base.iterdir() if p.is_dir() and p.name not in known}
    return found
