"""A run's figures and its definition version, read from the store: one computation that the
flows (--json, Prefect artifacts, Excel summary sheets), the benefits report and the review app
all call. Lives in workqueue/ because review/ and flows/ meet only here.

A run's record (`process_runs.summary`) carries the definition it ran with under the key
`definition`: {"hash": sha256 of the canonical definition, "version": n, "since": iso date}.
The version increments each time a process runs with a definition whose hash was not seen before.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import func, select

from connectors.norwegian import fmt_date
from workqueue.models import ExceptionCase, ItemStatus, ProcessRun, WorkItem
from workqueue.store import NotFound, WorkQueueStore

__all__ = ["RunCounts", "DefinitionVersion", "run_counts", "record_definition", "definition_versions",
           "run_definition", "version_label", "case_definition", "version_history"]


@dataclass(frozen=True)
class RunCounts:
    """What the store says a run did: the cases it opened (per category) and the items it finished."""

    cases_opened: int
    cases_by_category: dict[str, int] = field(default_factory=dict)
    items_done: int = 0
    items_business_exception: int = 0
    items_failed: int = 0


def _window(store: WorkQueueStore, run_id: str) -> tuple[ProcessRun, datetime, datetime]:
    with store.session() as s:
        run = s.scalar(select(ProcessRun).where(ProcessRun.run_id == run_id))
        if run is None:
            raise NotFound(f"run {run_id} not found")
        s.expunge(run)
    return run, run.started_at, run.finished_at or datetime.now(UTC)


def run_counts(store: WorkQueueStore, run_id: str) -> RunCounts:
    """Cases opened and items finished between the run's start and its finish (now while it runs).
    A process runs one at a time (every deployment has concurrency 1), so the window is the run's."""
    run, start, end = _window(store, run_id)
    with store.session() as s:
        cases = dict(s.execute(
            select(ExceptionCase.category, func.count()).where(
                ExceptionCase.process_id == run.process_id, ExceptionCase.created_at >= start,
                ExceptionCase.created_at <= end).group_by(ExceptionCase.category)).all())
        items = dict(s.execute(
            select(WorkItem.status, func.count()).where(
                WorkItem.process_id == run.process_id, WorkItem.finished_at >= start,
                WorkItem.finished_at <= end).group_by(WorkItem.status)).all())
    return RunCounts(cases_opened=sum(cases.values()), cases_by_category=dict(sorted(cases.items())),
                     items_done=items.get(ItemStatus.done, 0),
                     items_business_exception=items.get(ItemStatus.business_exception, 0),
                     items_failed=items.get(ItemStatus.failed, 0))


@dataclass(frozen=True)
class DefinitionVersion:
    version: int
    hash: str
    since: date
    runs: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        return version_label(self.version, self.since)


def version_label(version: int | None, since: date | str | None) -> str:
    """"Regler: versjon 7, 02.12.2026" (what the Excel reports and the case page show)."""
    if not version:
        return ""
    if isinstance(since, str):
        since = date.fromisoformat(since[:10])
    return f"Regler: versjon {version}" + (f", {fmt_date(since)}" if since else "")


def definition_versions(store: WorkQueueStore, process_id: str) -> list[DefinitionVersion]:
    """Every definition version a process ran with, oldest first, with the runs that used it."""
    found: dict[str, dict[str, Any]] = {}
    for run in store.runs(process_id):
        d = (run.summary or {}).get("definition") or {}
        if not d.get("hash"):
            continue
        entry = found.setdefault(d["hash"], {"version": d.get("version") or 0, "since": d.get("since"), "runs": []})
        entry["runs"].append(run.run_id)
    out = [DefinitionVersion(e["version"], h, date.fromisoformat(e["since"][:10]) if e["since"] else date.min,
                             tuple(e["runs"])) for h, e in found.items()]
    return sorted(out, key=lambda v: v.version)


def version_history(store: WorkQueueStore, process_id: str) -> list[tuple[DefinitionVersion, list[ProcessRun]]]:
    """Every definition version a process ran with (oldest first) and the run records that used
    it: what `rpa processes history` prints and the review app's definition page shows."""
    runs = {r.run_id: r for r in store.runs(process_id)}
    return [(v, [runs[r] for r in v.runs if r in runs]) for v in definition_versions(store, process_id)]


def record_definition(store: WorkQueueStore, run_id: str, content_hash: str,
                      today: date | None = None) -> DefinitionVersion:
    """Store the definition's hash and version on the run's record; -> that version."""
    run, _, _ = _window(store, run_id)
    known = {v.hash: v for v in definition_versions(store, run.process_id)}
    if content_hash in known:
        v = known[content_hash]
        version = DefinitionVersion(v.version, v.hash, v.since)
    else:
        version = DefinitionVersion(max((v.version for v in known.values()), default=0) + 1, content_hash,
                                    today or datetime.now(UTC).date())
    with store.session() as s:
        row = s.scalar(select(ProcessRun).where(ProcessRun.run_id == run_id))
        row.summary = {**(row.summary or {}), "definition": {
            "hash": version.hash, "version": version.version, "since": version.since.isoformat()}}
    return version


def run_definition(store: WorkQueueStore, run_id: str) -> DefinitionVersion | None:
    """The definition version a run recorded (None for runs from before versions were kept)."""
    try:
        run, _, _ = _window(store, run_id)
    except NotFound:
        return None
    d = (run.summary or {}).get("definition") or {}
    if not d.get("version"):
        return None
    return DefinitionVersion(d["version"], d["hash"], date.fromisoformat(d["since"][:10]))


def case_definition(store: WorkQueueStore, case: Any) -> DefinitionVersion | None:
    """The definition version of the run that opened `case`: the run of its process that was under
    way when the case was created (a process runs one at a time)."""
    with store.session() as s:
        run = s.scalar(select(ProcessRun).where(
            ProcessRun.process_id == case.process_id, ProcessRun.started_at <= case.created_at)
            .order_by(ProcessRun.started_at.desc()).limit(1))
        if run is None or (run.finished_at is not None and run.finished_at < case.created_at):
            return None
        run_id = run.run_id
    return run_definition(store, run_id)
