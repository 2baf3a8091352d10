"""Where settlement reports come from: NAV's API, the Altinn inbox (bot), a folder, or files.

The process definition chooses (`source: api | portal | folder`); the CLI's --report files
bypass it. Every report is kept byte for byte in the archive before anything is parsed, so a
bad file is never lost and a re-run reads exactly what was received.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from config.settings import Settings
from connectors.files import read_json
from flows.kit import archive

# NAV names a report file <orgnr>_<type>_<datoValutert>; the bot and the seed prefix the id.
NAV_FILENAME = re.compile(r"^(?:(?P<id>[^_]+)_)?(?P<orgnr>\d{9})_(?P<type>ref-arbg|K27)_(?P<date>\d{4}-\d{2}-\d{2})")


@dataclass
class FetchedReport:
    report_id: str
    data: bytes
    file_name: str
    source: str                                   # api | portal | folder | file
    meta: dict[str, Any] = field(default_factory=dict)  # datoValutert, bankkonto, orgnr, orgNavn, ...

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()

    @property
    def value_date(self) -> date | None:
        value = self.meta.get("datoValutert") or self.meta.get("dato_valutert")
        return date.fromisoformat(value) if value else None


def meta_from_name(path: Path) -> tuple[str | None, dict[str, Any]]:
    """(report id, metadata) from a sidecar <stem>.json or NAV's file-name pattern."""
    raw = read_json(path.with_suffix(".json"))
    if isinstance(raw, dict):
        return (str(raw["id"]) if raw.get("id") is not None else None), raw
    m = NAV_FILENAME.match(path.name)
    if m:
        return m["id"], {"orgnr": m["orgnr"], "type": "ref-arbg", "datoValutert": m["date"]}
    return None, {}


def from_files(paths: Iterable[Path], source: str = "file") -> list[FetchedReport]:
    """Reports given as files (CLI --report, the folder source). Unreadable -> OSError naming the file."""
    out = []
    for path in paths:
        path = Path(path)
        report_id, meta = meta_from_name(path)
        out.append(FetchedReport(report_id or path.stem, path.read_bytes(), path.name, source, meta))
    return out


def from_folder(folder: Path, pattern: str = "*.csv") -> list[FetchedReport]:
    if not folder.exists():
        raise FileNotFoundError(f"rapportmappen finnes ikke: {folder}")
    return from_files(sorted(p for p in folder.glob(pattern) if p.is_file()), source="folder")


def from_api(settings: Settings, etter_id: int, *, max_attempts: int = 4, requests_per_second: float | None = None,
             first_from: date | None = None, client=None) -> list[FetchedReport]:
    """New reports since `etter_id` (NAV's incremental polling), each with its CSV."""
    from connectors.nav.api import NavReportClient

    client = client or NavReportClient.from_settings(settings, max_attempts=max_attempts,
                                                     requests_per_second=requests_per_second)
    metas = client.poll_new(settings.nav.orgnr, etter_id)
    out = []
    for meta in metas:
        if meta.type not in ("ref-arbg", "K27"):
            continue
        if first_from and meta.dato_valutert and meta.dato_valutert < first_from:
            continue
        data = client.fetch_csv(meta.id)
        payload = {"id": meta.id, "orgnr": meta.orgnr, "orgNavn": meta.org_navn, "type": meta.type,
                   "datoValutert": meta.dato_valutert.isoformat() if meta.dato_valutert else None,
                   "bankkonto": meta.bankkonto, "opprettet": meta.opprettet}
        name = f"{meta.id}_{meta.orgnr}_{meta.type}_{payload['datoValutert'] or 'ukjent'}.csv"
        out.append(FetchedReport(meta.id, data, name, "api", payload))
    return out


def from_portal(settings: Settings, target_dir: Path, seen_ids: Iterable[str],
                evidence_dir: Path | None = None) -> list[FetchedReport]:
    """The Altinn inbox through the bot; AltinnBotError (with screenshot and trace) propagates."""
    from bots.altinn_inbox import fetch_new_reports

    fetched = fetch_new_reports(settings, target_dir, seen_ids, evidence_dir=evidence_dir)
    out = []
    for report_id, path in fetched:
        _, meta = meta_from_name(Path(path))
        meta.setdefault("id", report_id)
        out.append(FetchedReport(str(report_id), Path(path).read_bytes(), Path(path).name, "portal", meta))
    return out


def keep(settings: Settings, process_id: str, report: FetchedReport) -> Path:
    """The received bytes in the archive (idempotent) -> their path."""
    return archive.keep(settings, process_id, "rapporter", f"{report.report_id}_{report.sha256[:16]}.csv", report.data)
