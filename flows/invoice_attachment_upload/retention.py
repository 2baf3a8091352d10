"""Where this process keeps files, for the retention process (found by convention:
flows/<pkg>/retention.py): the archive and quarantine roots and the robot's notes from the rules
(dated folders below them; each file aged on its own). A quarantined file, its reason and the
notes that name a reference whose case is still open (or whose decision is not applied yet)
stay, whatever their age: the reviewer's decision still needs them. Work items keep their
reference (content hash + target) and the content facts, so a file delivered again after
retention is still recognised as already attached; file names and comments go."""

from __future__ import annotations

import glob
from pathlib import Path

from connectors.files import read_json
from flows.invoice_attachment_upload.workspace import NOTES, QUARANTINE_INDEX, Workspace
from workqueue.retention import KeepKeys

KEEP = KeepKeys(payload=frozenset({"sha256", "size", "media_type", "origin", "document_type", "embedded_position"}),
                result=frozenset({"outcome"}))


def folders(settings, rules) -> list[tuple[Path, str]]:
    """(folder, label): every file below it is aged on its own."""
    ws = Workspace.from_rules(settings, rules)
    return [(ws.archive_root, "arkiv"), (ws.quarantine_root, "karantene"), (ws.work_root, "robotens notater")]


def in_use(settings, rules, references: set[str]) -> set[Path]:
    ws = Workspace.from_rules(settings, rules)
    keep: set[Path] = set()
    for folder in NOTES:
        for note in (ws.work_root / folder).glob("*.json"):
            data = read_json(note)
            if isinstance(data, dict) and data.get("reference") in references:
                keep.add(note)
    for entry in ws.notes(QUARANTINE_INDEX):
        if entry.get("reference") not in references:
            continue
        for key in ("file", "grunn"):
            if entry.get(key):
                stored = Path(entry[key])
                keep |= {stored, *stored.parent.glob(glob.escape(stored.name) + ".*")}
    return keep
