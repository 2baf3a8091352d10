"""The report store behind the NAV stand-in: the seed's index.json plus the app's own state.

Layout under ``<data_dir>/sandbox/nav/reports/`` (written by sandbox/nav/seed.py or a test):
  index.json   JSON list of report metadata (id, orgnr, orgNavn, type, datoValutert, bankkonto,
               opprettet, arkivert, file)
  <id>.csv     the K27 CSV, served byte for byte
What the app itself changes (archived reports, messages read in the inbox) lives in
``state.json`` next to index.json, so a re-seed never loses it and the seed never has to know it.
The index is re-read whenever its modification time or size changes: the seed may run while
the app is up.
"""

from __future__ import annotations

import json
import os
import threading
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

REPORT_TYPES = ("ref-arbg", "trekk-hend", "trekk-kred")


@dataclass(frozen=True)
class Report:
    id: int
    orgnr: str
    org_navn: str
    type: str
    dato_valutert: date
    bankkonto: str
    opprettet: datetime
    file: str
    archived_in_index: bool

    @property
    def filename(self) -> str:
        """NAV's own file name for a report variant: <orgnr>_<type>_<datoValutert>.<ext>."""
        return f"{self.orgnr}_{self.type}_{self.dato_valutert.isoformat()}"


def _parse_datetime(value: str) -> datetime:
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _parse_report(raw: dict[str, Any]) -> Report:
    return Report(
        id=int(raw["id"]),
        orgnr=str(raw["orgnr"]),
        org_navn=str(raw.get("orgNavn") or ""),
        type=str(raw.get("type") or "ref-arbg"),
        dato_valutert=date.fromisoformat(raw["datoValutert"]),
        bankkonto=str(raw.get("bankkonto") or ""),
        opprettet=_parse_datetime(raw["opprettet"]),
        file=str(raw.get("file") or f"{raw['id']}.csv"),
        archived_in_index=bool(raw.get("arkivert")),
    )


class ReportStore:
    """Thread-safe view of the reports and the app's state (archived, read)."""

    def __init__(self, data_dir: Path):
        self.dir = Path(data_dir) / "sandbox" / "nav" / "reports"
        self.index_path = self.dir / "index.json"
        self.state_path = self.dir / "state.json"
        self._lock = threading.RLock()
        self._stamp: tuple[int, int] | None = None
        self._reports: dict[int, Report] = {}
        self._state: dict[str, dict[str, str]] = self._load_state()

    # -- index -----------------------------------------------------------------------------
    def _refresh(self) -> None:
        try:
            st = self.index_path.stat()
        except FileNotFoundError:
            self._stamp, self._reports = None, {}
            return
        stamp = (st.st_mtime_ns, st.st_size)
        if stamp == self._stamp:
            return
        try:
            raw = json.loads(self.index_path.read_text(encoding="utf-8"))
            reports = {r.id: r for r in map(_parse_report, raw)}
        except (json.JSONDecodeError, KeyError, ValueError, TypeError):
            return  # half-written by a running seed: keep the last good index, retry next request
        self._stamp, self._reports = stamp, reports

    def all(self) -> list[Report]:
        """Every report, ascending id."""
        with self._lock:
            self._refresh()
            return [self._reports[k] for k in sorted(self._reports)]

    def get(self, report_id: int | str) -> Report | None:
        try:
            key = int(report_id)
        except (TypeError, ValueError):
            return None
        with self._lock:
            self._refresh()
            return self._reports.get(key)

    def content(self, report: Report) -> bytes:
        return (self.dir / report.file).read_bytes()

    # -- state -----------------------------------------------------------------------------
    def _load_state(self) -> dict[str, dict[str, str]]:
        try:
            state = json.loads(self.state_path.read_text(encoding="utf-8"))
        except (FileNotFoundError, json.JSONDecodeError):
            state = {}
        return {"arkivert": dict(state.get("arkivert", {})), "lest": dict(state.get("lest", {}))}

    def _save_state(self) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        tmp = self.state_path.with_suffix(".tmp")
        tmp.write_text(json.dumps(self._state, indent=2, sort_keys=True), encoding="utf-8")
        os.replace(tmp, self.state_path)  # atomic: a reader never sees half a file

    def archived_at(self, report: Report) -> str | None:
        """ISO timestamp when archived (NAV answers a timestamp or null), else None."""
        with self._lock:
            value = self._state["arkivert"].get(str(report.id))
        if value == "":  # explicitly un-archived through the API
            return None
        if value is None and report.archived_in_index:
            return report.opprettet.isoformat()
        return value

    def set_archived(self, report: Report, archived: bool) -> None:
        with self._lock:
            stamp = datetime.now(UTC).isoformat(timespec="seconds") if archived else ""
            self._state["arkivert"][str(report.id)] = stamp
            self._save_state()
            self._log_write("arkiver" if archived else "gjenopprett", report)

    @property
    def write_log(self) -> Path:
        """Every change a client made (one JSON line each): what shadow mode's tests read."""
        return self.dir / "writes.jsonl"

    def _log_write(self, action: str, report: Report) -> None:
        with self.write_log.open("a", encoding="utf-8") as f:
            f.write(json.dumps({"at": datetime.now(UTC).isoformat(timespec="seconds"), "action": action,
                                "report_id": str(report.id)}) + "\n")

    def is_read(self, report: Report) -> bool:
        with self._lock:
            return str(report.id) in self._state["lest"]

    def mark_read(self, report: Report) -> None:
        with self._lock:
            if str(report.id) not in self._state["lest"]:
                self._state["lest"][str(report.id)] = datetime.now(UTC).isoformat(timespec="seconds")
                self._save_state()
