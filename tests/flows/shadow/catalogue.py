"""A copy of the process catalogue with one process switched to shadow (for the shadow tests)."""

from __future__ import annotations

import shutil
from pathlib import Path

CATALOGUE = Path(__file__).resolve().parents[3] / "config" / "processes"


def in_shadow(folder: Path, process_id: str) -> Path:
    """Copy the catalogue to `folder` with `mode: shadow` in `process_id`'s definition."""
    shutil.copytree(CATALOGUE, folder)
    path = folder / f"{process_id}.yaml"
    text = path.read_text(encoding="utf-8")
    assert "\nmode: live" in text
    path.write_text(text.replace("\nmode: live", "\nmode: shadow"), encoding="utf-8")
    return folder
