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

Every write is write-to-temp + os.replace (atomic on one file system); files are moved with
os.replace as well, with a copy + rename fallback across file systems. Receipts are written
before the file is moved, and their content depends only on the work items, so writing one
twice gives the same bytes.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import threading
from pathlib import Path
from typing import Any

from flows.invoice_attachment_upload.validation import safe_display_name


def _hash(text: str, n: int = 40) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:n]


def atomic_write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")  # per thread: settle runs in threads
    with open(tmp, "wb") as fh:
        fh.write(data)
    os.replace(tmp, path)


def write_json(path: Path, data: Any) -> None:
    atomic_write(path, (json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True, default=str) + "\n")
                 .encode("utf-8"))


def read_json(path: Path) -> Any | None:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (FileNotFoundError, json.JSONDecodeError):
        return None


def file_sha256(path: Path) -> str | None:
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
    copy to a temp name beside `dest`, rename, then remove `src` (never remove before the copy
    is in place)."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.replace(src, dest)
        return True
    except FileNotFoundError:
        return False
    except OSError as exc:
        if exc.errno != 18:  # EXDEV: different file systems
            raise
    tmp = dest.with_name(f".{dest.name}.{os.getpid()}.part")
    try:
        shutil.copy2(src, tmp)
    except FileNotFoundError:
        return False
    with open(tmp, "rb") as fh:
        os.fsync(fh.fileno())
    os.replace(tmp, dest)
    with contextlib.suppress(FileNotFoundError):
        os.unlink(src)
    return True


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

    # ------------------------------------------------------------------ journal

    def _journal(self, reference: str) -> Path:
        return self.work_root / "journal" / f"{_hash(reference)}.json"

    def journal_intent(self, reference: str, data: dict[str, Any]) -> None:
        write_json(self._journal(reference), {"reference": reference, **data})

    def journal_get(self, reference: str) -> dict[str, Any] | None:
        return read_json(self._journal(reference))

    def journal_clear(self, reference: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self._journal(reference))

    # ------------------------------------------------------------------ plans

    def _plan(self, sha256: str, name: str) -> Path:
        return self.work_root / "plans" / f"{sha256}__{_hash(name, 16)}.json"

    def write_plan(self, sha256: str, name: str, documents: list[dict[str, Any]]) -> None:
        write_json(self._plan(sha256, name), {"name": name, "documents": documents})

    def read_plan(self, sha256: str, name: str) -> list[dict[str, Any]] | None:
        data = read_json(self._plan(sha256, name))
        if not data or data.get("name") != name:
            return None
        return data["documents"]

    def clear_plan(self, sha256: str, name: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self._plan(sha256, name))

    # ------------------------------------------------------------------ quarantine index, resolutions

    def _qindex(self, reference: str) -> Path:
        return self.work_root / "quarantine-index" / f"{_hash(reference)}.json"

    def index_quarantine(self, reference: str, grunn_json: Path, stored: Path) -> None:
        write_json(self._qindex(reference), {"reference": reference, "grunn": str(grunn_json),
                                             "file": str(stored)})

    def quarantine_entry(self, reference: str) -> dict[str, Any] | None:
        return read_json(self._qindex(reference))

    def quarantine_entries(self) -> list[dict[str, Any]]:
        folder = self.work_root / "quarantine-index"
        if not folder.exists():
            return []
        return [e for p in sorted(folder.glob("*.json")) if (e := read_json(p))]

    def clear_quarantine_entry(self, reference: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self._qindex(reference))

    def _resolution(self, reference: str) -> Path:
        return self.work_root / "resolutions" / f"{_hash(reference)}.json"

    def write_resolution(self, reference: str, data: dict[str, Any]) -> None:
        write_json(self._resolution(reference), {"reference": reference, **data})

    def resolution(self, reference: str) -> dict[str, Any] | None:
        return read_json(self._resolution(reference))

    def clear_resolution(self, reference: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self._resolution(reference))

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
        candidates = [folder / safe, folder / f"{stem}__{sha256[:8]}{suffix}"]
        candidates += [folder / f"{stem}__{sha256[:8]}-{n}{suffix}" for n in range(2, 50)]
        for path in candidates:
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
