"""The robot's folders and its small durable notes, all written so that a crash at any point
leaves something the next run can finish.

- archive/<dato>/<file> + <file>.kvittering.json/.txt   a settled file and its receipt
- quarantine/<dato>/<file> + <file>.grunn.json/.txt      a refused file and why (for a person)
- work/journal/<ref>.json      "about to upload reference R": written before every upload, so a
                               run that finds the document on the voucher after a crash knows the
                               upload was its own (outcome `uploaded`, not `already_attached`)
- work/plans/<sha>__<name>.json  a file's documents from a manifest that is already archived
- work/quarantine-index/<ref>.json  where the quarantined file of reference R lies
- work/resolutions/<ref>.json  a reviewer's decision on R (chosen voucher, handled manually)

Every write and move is connectors.files' (atomic: a crash leaves the old or the new file, and
an input is never removed before it is in place elsewhere). Receipts are written
before the file is moved, and their content depends only on the work items, so writing one
twice gives the same bytes.
"""

from __future__ import annotations

import hashlib
import json
from itertools import chain
from pathlib import Path
from typing import Any

from connectors.filecheck import safe_display_name
from connectors.files import file_sha256, read_json, remove, write_json

JOURNAL, QUARANTINE_INDEX, RESOLUTIONS = "journal", "quarantine-index", "resolutions"
NOTES = (JOURNAL, "plans", QUARANTINE_INDEX, RESOLUTIONS)  # each note names its `reference`


def _hash(text: str, n: int = 40) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:n]


class Workspace:
    """Archive, quarantine and the robot's notes under the data folder."""

    def __init__(self, archive_root: Path, quarantine_root: Path, work_root: Path):
        self.archive_root = archive_root
        self.quarantine_root = quarantine_root
        self.work_root = work_root

    @classmethod
    def from_rules(cls, settings, rules) -> Workspace:
        return cls(settings.paths.resolve(rules.archive_dir), settings.paths.resolve(rules.quarantine_dir),
                   settings.paths.resolve(rules.work_dir))

    # ------------------------------------------------------------------ notes per reference

    def _note(self, kind: str, reference: str) -> Path:
        return self.work_root / kind / f"{_hash(reference)}.json"

    def write_note(self, kind: str, reference: str, data: dict[str, Any]) -> None:
        write_json(self._note(kind, reference), {"reference": reference, **data})

    def note(self, kind: str, reference: str) -> dict[str, Any] | None:
        return read_json(self._note(kind, reference))

    def clear_note(self, kind: str, reference: str) -> None:
        remove(self._note(kind, reference))

    def notes(self, kind: str) -> list[dict[str, Any]]:
        return [n for p in sorted((self.work_root / kind).glob("*.json")) if (n := read_json(p))]

    # ------------------------------------------------------------------ plans

    def _plan(self, sha256: str, name: str) -> Path:
        return self.work_root / "plans" / f"{sha256}__{_hash(name, 16)}.json"

    def write_plan(self, sha256: str, name: str, documents: list[dict[str, Any]]) -> None:
        write_json(self._plan(sha256, name), {"name": name, "documents": documents})

    def read_plan(self, sha256: str, name: str) -> list[dict[str, Any]] | None:
        data = read_json(self._plan(sha256, name))
        return data["documents"] if data and data.get("name") == name else None

    def clear_plan(self, sha256: str, name: str) -> None:
        remove(self._plan(sha256, name))

    # ------------------------------------------------------------------ settling files

    def destination(self, root: Path, day: str, name: str, sha256: str, marker: str,
                    note: dict[str, Any] | None = None) -> tuple[Path, bool]:
        """Where a file goes: (path, already_there). The plain name unless another file holds it;
        already_there when the same content with the same receipt/reason (`note`, without its
        `stored_as`) is in place: a run that crashed after a cross-file-system copy. The same
        file delivered again gets a name of its own, so its first receipt is never overwritten."""
        safe = safe_display_name(name)
        folder = root / day
        stem, dot, ext = safe.rpartition(".")
        if not dot or not stem:
            stem, ext = safe, ""
        suffix = f".{ext}" if ext else ""
        names = chain((safe, f"{stem}__{sha256[:8]}{suffix}"), (f"{stem}__{sha256[:8]}-{n}{suffix}" for n in range(2, 50)))
        for path in (folder / n for n in names):  # built as needed: nearly always the first is free
            if not path.exists():
                return path, False
            if file_sha256(path) == sha256 and _same_note(read_json(Path(f"{path}{marker}")), note):
                return path, True
        raise FileExistsError(f"{folder}: no free name for {safe}")


def _same_note(existing: Any, note: dict[str, Any] | None) -> bool:
    if not isinstance(existing, dict) or note is None:
        return False
    strip = {"stored_as"}
    a = {k: v for k, v in existing.items() if k not in strip}
    b = json.loads(json.dumps({k: v for k, v in note.items() if k not in strip}, default=str))
    return a == b
