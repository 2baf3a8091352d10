"""The retention run: per process definition, what is past `personal_data.retention_days`, then
remove it. Plain functions, so the CLI, tests (with a clock moved forward) and the Prefect flow
share them.

Per process, with cutoff = as_of - retention_days:
- files (every classification: `retention_days` is the days outputs are kept): run folders under
  output/ and downloads/, files under archive/ and quarantine/, and the places the flow package
  adds (flows/<pkg>/retention.py); a file an open case still needs stays;
- the store (processes whose classification is personal or sensitive): closed cases' evidence,
  messages, search text, comments and attachments, finished items' payloads and results, and
  the personal details of their audit events, cleared (workqueue.retention). Processes without
  personal data (none, internal) keep their cases readable: there is nothing personal to clear.
Open cases are never touched. Data of a process id that is not in the catalogue is kept (its
retention is unknown) and reported once as an UNKNOWN_PROCESS case.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from config.process_definition import Classification, ProcessDefinition
from config.settings import Settings
from connectors.norwegian import fmt_byte_count, fmt_date
from flows.kit.cases import open_once
from flows.retention import files as stored
from flows.retention.rules import Rules
from flows.runtime import RunContext, RunSummary, finish_run, get_logger, open_run
from workqueue import retention as db
from workqueue.store import WorkQueueStore

PROCESS_ID = "retention"
UNKNOWN_PROCESS = "UNKNOWN_PROCESS"
DELETE_FAILED = "DELETE_FAILED"
PERSONAL = (Classification.personal, Classification.sensitive)


@dataclass
class ProcessPlan:
    process_id: str
    retention_days: int
    cutoff: datetime
    classification: str
    units: list[stored.Unit] = field(default_factory=list)
    roots: dict[Path, Path] = field(default_factory=dict)  # unit path -> the folder root it lies in
    kept_in_use: int = 0
    due: db.Due | None = None  # None: no personal data in the store to clear
    keep: db.KeepKeys = field(default_factory=db.KeepKeys)

    def counts(self) -> dict[str, Any]:
        due = self.due or db.Due()
        return {"process": self.process_id, "retention_days": self.retention_days,
                "cutoff": self.cutoff.date().isoformat(), "classification": self.classification,
                "folders": sum(1 for u in self.units if u.is_dir), "files": sum(u.files for u in self.units),
                "bytes": sum(u.bytes for u in self.units), "cases": len(due.case_ids), "items": len(due.item_ids),
                "attachments": due.attachments, "kept_in_use": self.kept_in_use,
                "waiting_for_apply": due.waiting_for_apply}


@dataclass
class Plan:
    as_of: datetime
    processes: list[ProcessPlan]
    unknown: list[str]
    data_dir: Path

    def to_dict(self, with_paths: bool = True) -> dict[str, Any]:
        rows = []
        for p in self.processes:
            row = p.counts()
            if with_paths:
                row["paths"] = [stored.shown(u.path, self.data_dir) for u in p.units]
            rows.append(row)
        return {"as_of": self.as_of.isoformat(), "processes": rows, "unknown_processes": self.unknown}


@dataclass
class RetentionResult:
    summary: RunSummary
    plan: Plan
    rows: list[dict[str, Any]]
    failures: list[str]


def parse_as_of(text: str | None) -> datetime | None:
    """`2027-12-31`, `31.12.2027` or an ISO time; a date means that day's end (Europe/Oslo)."""
    if not text:
        return None
    from zoneinfo import ZoneInfo

    text = text.strip()
    for fmt in ("%Y-%m-%d", "%d.%m.%Y"):
        try:
            day = datetime.strptime(text, fmt)
        except ValueError:
            continue
        return (day.replace(tzinfo=ZoneInfo("Europe/Oslo")) + timedelta(days=1, microseconds=-1)).astimezone(UTC)
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"--as-of: {text!r} er ikke en dato; skriv for eksempel 2027-12-31 eller 31.12.2027") \
            from None
    return value if value.tzinfo else value.replace(tzinfo=ZoneInfo("Europe/Oslo"))


def refuse_future(as_of: datetime | None) -> None:
    """Deleting by a date in the future would remove data before its retention has passed."""
    if as_of is not None and as_of > datetime.now(UTC) + timedelta(days=1):
        raise ValueError(f"--as-of {fmt_date(as_of)} ligger fram i tid: det ville slette data før "
                         "oppbevaringstiden er ute. Bruk --dry-run for å se hva som slettes da.")


def build_plan(settings: Settings, store: WorkQueueStore, as_of: datetime | None = None,
               skip: set[Path] = frozenset()) -> Plan:
    """What the run would remove at `as_of` (default: now). Reads only."""
    from flows.registry import catalogue, validate_rules

    as_of = as_of or datetime.now(UTC)
    data_dir = settings.paths.data_dir
    definitions = catalogue(settings)
    running = {data_dir / root / r.process_id / r.run_id for r in store.runs() if r.status == "running"
               for root in ("output", "downloads")}
    skip_resolved = {p.resolve() for p in (set(skip) | running)}
    plans = []
    for d in definitions.values():
        rules = validate_rules(d, settings.paths.processes_dir / f"{d.id}.yaml")
        plan = ProcessPlan(d.id, d.personal_data.retention_days,
                           as_of - timedelta(days=d.personal_data.retention_days), d.personal_data.classification.value)
        references = db.open_references(store, d.id)
        keep_files = stored.in_use(settings, d, rules, references)
        for folder in stored.folders_for(settings, d, rules):
            units, kept = stored.due_units(folder, plan.cutoff, data_dir, keep_files, skip_resolved)
            plan.units += units
            plan.kept_in_use += kept
            plan.roots.update({u.path: folder.path for u in units})
        if d.personal_data.classification in PERSONAL:
            plan.keep = keep_keys(d)
            plan.due = db.find_due(store, d.id, plan.cutoff)
        plans.append(plan)
    unknown = sorted((stored.unknown_ids(settings, set(definitions)) | db.process_ids(store)) - set(definitions))
    return Plan(as_of, plans, unknown, data_dir)


def keep_keys(definition: ProcessDefinition) -> db.KeepKeys:
    hooks = stored.process_hooks(definition)
    keep = getattr(hooks, "KEEP", None) if hooks is not None else None
    return keep if isinstance(keep, db.KeepKeys) else db.KeepKeys()


def execute(ctx: RunContext, plan: Plan) -> tuple[dict[str, int], list[str], list[dict[str, Any]]]:
    """Remove what the plan lists; -> (totals, failures, one row per process for the artifact)."""
    rules: Rules = ctx.rules or Rules()
    totals = {"folders_deleted": 0, "files_deleted": 0, "bytes_freed": 0, "cases_cleared": 0, "items_cleared": 0,
              "attachments_deleted": 0, "audit_events_cleared": 0}
    failures: list[str] = []
    rows = []
    log = get_logger()
    for p in plan.processes:
        deleted = [0, 0, 0]
        for unit in p.units:
            try:
                stored.remove(unit, p.roots[unit.path])
            except OSError as exc:
                failures.append(f"{p.process_id}: {stored.shown(unit.path, plan.data_dir)}: {exc.strerror or exc}")
                continue
            deleted[0] += 1 if unit.is_dir else 0
            deleted[1] += unit.files
            deleted[2] += unit.bytes
        purged = db.Purged()
        if p.due is not None and not p.due.empty:
            purged = db.purge(ctx.store, p.process_id, p.cutoff, plan.as_of, keep=p.keep, batch=rules.batch_size,
                              run_id=ctx.run_id)
        for key, n in zip(("folders_deleted", "files_deleted", "bytes_freed"), deleted, strict=True):
            totals[key] += n
        totals["cases_cleared"] += purged.cases
        totals["items_cleared"] += purged.items
        totals["attachments_deleted"] += purged.attachments
        totals["audit_events_cleared"] += purged.audit_events
        rows.append({"prosess": p.process_id, "oppbevaringstid_dager": p.retention_days,
                     "grense": fmt_date(p.cutoff), "mapper_slettet": deleted[0],
                     "filer_slettet": deleted[1], "saker_renset": purged.cases, "elementer_renset": purged.items,
                     "vedlegg_slettet": purged.attachments, "beholdt_i_bruk": p.kept_in_use,
                     "venter_paa_beslutning": (p.due.waiting_for_apply if p.due else 0)})
        if deleted[1] or purged.cases or purged.items:
            log.info("retention %s (kept %d days): %d files, %d cases and %d items cleared",
                     p.process_id, p.retention_days, deleted[1], purged.cases, purged.items)
    return totals, failures, rows


def run_retention(ctx: RunContext, as_of: datetime | None = None, allow_future: bool = False) -> RetentionResult:
    """Remove what is past retention at `as_of` (default: now). A future `as_of` would delete data
    before its time: refused unless `allow_future` (tests moving the clock)."""
    rules: Rules = ctx.rules or Rules()
    as_of = as_of or datetime.now(UTC)
    if not allow_future:
        refuse_future(as_of)
    plan = build_plan(ctx.settings, ctx.store, as_of, skip={ctx.out_dir})
    totals, failures, rows = execute(ctx, plan)
    exceptions: dict[str, int] = {}
    if failures:
        exceptions[DELETE_FAILED] = len(failures)
        _open_once(ctx, f"sletting:{plan.as_of.date().isoformat()}", DELETE_FAILED,
                   f"{len(failures)} filer eller mapper kunne ikke slettes; de prøves igjen neste natt.",
                   {"sections": [{"title": "Kunne ikke slettes", "text": "\n".join(failures[:50])}]})
    if plan.unknown and rules.flag_unknown_processes:
        exceptions[UNKNOWN_PROCESS] = len(plan.unknown)
        for pid in plan.unknown:
            _open_once(ctx, f"ukjent:{pid}", UNKNOWN_PROCESS,
                       f"Prosessen «{pid}» har data i datamappen eller arbeidskøen, men ingen definisjon i "
                       "katalogen. Oppbevaringstiden er ukjent, så ingenting av den er slettet. Legg til "
                       "definisjonen eller rydd dataene for hånd.",
                       {"data": {"process": pid}})
    report = ctx.out_dir / "sletting.md"
    report.write_text(_markdown(plan, rows, totals), encoding="utf-8")
    summary = RunSummary(
        process_id=ctx.process_id, run_id=ctx.run_id, cases_total=len(plan.processes),
        automated=len(plan.processes) - len({f.split(":", 1)[0] for f in failures}),
        exceptions=exceptions, outputs={"slettelogg (Markdown)": str(report)},
        figures={"as_of": plan.as_of.isoformat(), **totals, "unknown_processes": plan.unknown,
                 "per_process": {r["prosess"]: r for r in rows}})
    return RetentionResult(summary, plan, rows, failures)


def _open_once(ctx: RunContext, reference: str, category: str, message: str, evidence: dict[str, Any]) -> None:
    open_once(ctx, reference, category, message, evidence=evidence, org_unit=ctx.definition.owner.org_unit)


def _markdown(plan: Plan, rows: list[dict[str, Any]], totals: dict[str, int]) -> str:
    lines = ["# Sletting etter oppbevaringstid", "",
             f"Kjørt med dato {fmt_date(plan.as_of)}. Bare antall: ingen personopplysninger.", "",
             "| Prosess | Oppbevaringstid (dager) | Slettet før | Mapper | Filer | Saker renset | "
             "Elementer renset | Vedlegg | Beholdt (i bruk) | Venter på beslutning |",
             "|---|---:|---|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        lines.append(f"| {r['prosess']} | {r['oppbevaringstid_dager']} | {r['grense']} | {r['mapper_slettet']} | "
                     f"{r['filer_slettet']} | {r['saker_renset']} | {r['elementer_renset']} | "
                     f"{r['vedlegg_slettet']} | {r['beholdt_i_bruk']} | {r['venter_paa_beslutning']} |")
    lines += ["", f"Frigjort: {fmt_byte_count(totals['bytes_freed'])}"]
    if plan.unknown:
        lines += ["", "Ukjente prosesser (ikke slettet): " + ", ".join(plan.unknown)]
    return "\n".join(lines) + "\n"


def dry_run(settings: Settings | None = None, as_of: datetime | None = None,
            store: WorkQueueStore | None = None) -> Plan:
    """What a run would remove; changes nothing and records no run."""
    from config.settings import get_settings
    from flows.registry import load_definition

    settings = settings or get_settings()
    load_definition(PROCESS_ID, settings)  # refuse on an invalid definition, like a run
    own = store is None
    store = store or WorkQueueStore.from_settings(settings)
    try:
        return build_plan(settings, store, as_of)
    finally:
        if own:
            store.close()


def run_and_finish(as_of: datetime | None = None, settings: Settings | None = None,
                   store: WorkQueueStore | None = None, allow_future: bool = False) -> RetentionResult:
    """The whole run without Prefect (the CLI's default path). `allow_future`: tests move the clock."""
    ctx = open_run(PROCESS_ID, settings=settings, store=store)
    try:
        result = run_retention(ctx, as_of, allow_future=allow_future)
    except Exception:
        ctx.store.finish_run(ctx.run_id, "failed", 0, 0, {})
        raise
    finish_run(ctx, result.summary)
    return result
