"""One run of vehicle data collection, as plain functions taking a RunContext (no Prefect needed).

    prepare      apply reviewers' decisions, recover abandoned items, read the fleet list, enqueue one
                 work item per vehicle (reference "<tertial>:<plate>"), open cases for malformed and
                 duplicate plates at once
    look_up      the concurrent lookup loop (lookup.py)
    read_odometers  optional: odometer history from the web page (bot) where the list has none
    conclude     gather every row's state from the store; when nothing waits any more, write
                 kjoretoy.xlsx (Kjøretøy + Klimarapport + chart); summary; finish the run

Work-item references carry the tertial ("2026-T1:EK39085"): within a tertial a re-run is idempotent
(done vehicles are not looked up again, deferred ones resume), and the next tertial is a new set of
items. A reference of the plate alone would make every vehicle a one-off for ever.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from connectors.vegvesen.cache import LookupCache
from connectors.vegvesen.client import VegvesenClient
from connectors.vegvesen.parser import Vehicle, parse_date
from flows.kit import Progress, RunContext, RunSummary, fail, finish, get_logger
from flows.kit import decisions as kit_decisions
from flows.vehicle_data_collection import PROCESS_ID, shadow
from flows.vehicle_data_collection import outcomes as oc
from flows.vehicle_data_collection.actions import ACTIONS
from flows.vehicle_data_collection.climate import compute, previous_figures
from flows.vehicle_data_collection.fleet import FleetList, FleetListError, read_fleet_list
from flows.vehicle_data_collection.lookup import DEREGISTERED_STATUSES, LookupLoop, LoopStats, make_fetcher
from flows.vehicle_data_collection.periods import Tertial
from flows.vehicle_data_collection.report import ReportRow, write_report
from flows.vehicle_data_collection.rules import Rules
from workqueue.models import CaseKind, CaseStatus, ExceptionCase, ItemStatus, WorkItem
from workqueue.store import NewItem, default_worker_id

ROBOT = "robot:vehicle-data-collection"
REPORT_NAME = "kjoretoy.xlsx"


@dataclass
class Prepared:
    period: Tertial
    source: str                      # api | web
    fleet: FleetList
    references: list[str]            # per fleet row, in order
    added: int = 0
    decisions: Counter = field(default_factory=Counter)
    recovered: int = 0


@dataclass
class OdometerStats:
    read: int = 0
    cached: int = 0
    failed: int = 0
    skipped: int = 0


@dataclass
class CollectionResult:
    status: str                      # completed | paused | stopped
    summary: RunSummary
    message: str | None = None
    resume_at: datetime | None = None
    report: Path | None = None


def rules_of(ctx: RunContext) -> Rules:
    return ctx.rules if isinstance(ctx.rules, Rules) else Rules.model_validate(ctx.definition.rules)


def reference(period: Tertial, key: str) -> str:
    return f"{period.code}:{key}"


# -- prepare ------------------------------------------------------------------------------------

def apply_decisions(ctx: RunContext) -> Counter:
    """Reviewers' decisions since the last run, checked again and applied once by the kit: `retry`
    puts the case's vehicle back in the queue (it is looked up again, past the cache for found
    vehicles it never had); the others only close the loop."""
    applied = kit_decisions.apply_decisions(ctx.store, ctx.definition, ACTIONS, run_id=ctx.run_id)
    counts = Counter(applied.by_action)
    if applied.refused:
        counts["refused"] = len(applied.refused)
    return counts


def prepare(ctx: RunContext, fleet_path: Path | None = None, period: Tertial | None = None,
            source: str | None = None, today: date | None = None) -> Prepared:
    rules = rules_of(ctx)
    d = ctx.definition
    source = source or d.source
    if source not in d.sources:
        raise ValueError(f"ukjent kilde {source!r}; definisjonen tillater {', '.join(d.sources)}")
    period = period or Tertial.for_run(today)
    spec = d.input(rules.fleet_input)
    path = Path(fleet_path) if fleet_path else ctx.data_path(spec.path or "")
    decisions = apply_decisions(ctx)
    recovered = ctx.store.requeue_abandoned(ctx.backoff, process_id=ctx.process_id)
    fleet = read_fleet_list(path, spec, allow_personalized=rules.allow_personalized_plates)
    log = get_logger("rpa.vehicles")
    for warning in fleet.warnings:
        log.warning(warning)

    first_row: dict[str, int] = {}
    items: list[NewItem] = []
    references: list[str] = []
    listed: list[tuple[str, dict[str, Any]]] = []
    repeats: dict[str, list[int]] = {}  # plate -> the rows after its first: one case per plate, not per row
    seen: set[str] = set()
    for row in fleet.rows:
        if row.key is not None and row.key in seen:
            repeats.setdefault(row.key, []).append(row.row)
        elif row.key is not None:
            seen.add(row.key)
    duplicate_ref: dict[str, str] = {}
    for row in fleet.rows:
        if row.identifier is None:
            ref, payload = reference(period, f"rad{row.row}"), oc.payload_for(row, period.code, path.name, "malformed")
            listed.append((ref, payload))
        elif row.key in first_row:
            if row.key in duplicate_ref:  # the plate's case is already listed with every repeated row
                references.append(duplicate_ref[row.key])
                continue
            ref = reference(period, f"{row.key}:rad{row.row}")
            duplicate_ref[row.key] = ref
            payload = oc.payload_for(row, period.code, path.name, "duplicate", first_row=first_row[row.key])
            payload["rows"] = repeats[row.key]
            listed.append((ref, payload))
        else:
            first_row[row.key] = row.row
            ref, payload = reference(period, row.key), oc.payload_for(row, period.code, path.name, "lookup")
        references.append(ref)
        items.append(NewItem(ref, payload))
    added = ctx.store.add_many(ctx.process_id, items)
    for ref, payload in listed:  # no lookup needed: a case at once (once per tertial: the item is final after)
        item = ctx.store.find_item(ctx.process_id, ref)
        if item is not None and item.status == ItemStatus.new:
            case = (oc.malformed_case(ctx, payload, payload["problem"] or "ugyldig kjennemerke")
                    if payload["kind"] == "malformed" else oc.duplicate_case(ctx, payload))
            ctx.store.business_exception(item.id, case, actor=ROBOT)
    return Prepared(period, source, fleet, references, added, decisions, recovered)


# -- look up ------------------------------------------------------------------------------------

def look_up(ctx: RunContext, prepared: Prepared, *, client: VegvesenClient | None = None,
            today: date | None = None, progress: Progress | None = None) -> LoopStats:
    cache = LookupCache.from_settings(ctx.settings)
    try:
        fetcher, limiter = make_fetcher(ctx, prepared.source, cache, client=client)
        loop = LookupLoop(ctx, fetcher, limiter, today=today or date.today(), worker=f"{default_worker_id()}:{ctx.run_id}",
                          progress=progress, total_hint=len(prepared.fleet.rows))
        return loop.run()
    finally:
        cache.close()


# -- odometer from the web page -----------------------------------------------------------------

def _period_items(ctx: RunContext, period: Tertial) -> dict[str, WorkItem]:
    prefix = f"{period.code}:"
    return {i.reference: i for i in ctx.store.items(ctx.process_id) if i.reference.startswith(prefix)}


def read_odometers(ctx: RunContext, prepared: Prepared) -> OdometerStats:
    """Odometer history from 'Sjekk kjøretøyopplysninger' for found vehicles the list has no
    kilometerstand for (rules.odometer_from_web). Politely slow; a failure opens an operator case
    with the screenshot and trace and never fails the vehicle (its registry data is complete)."""
    rules = rules_of(ctx)
    stats = OdometerStats()
    if not rules.odometer_from_web or prepared.source == "web":
        return stats
    items = _period_items(ctx, prepared.period)
    cache = LookupCache.from_settings(ctx.settings)
    max_age = rules.odometer_max_age_days * 86400
    todo: list[tuple[WorkItem, str]] = []
    for row, ref in zip(prepared.fleet.rows, prepared.references, strict=True):
        item = items.get(ref)
        if row.own_km is not None or item is None or item.status != ItemStatus.done:
            stats.skipped += 1
            continue
        plate = (item.result or {}).get("vehicle", {}).get("plate")
        if not plate:
            stats.skipped += 1
        elif cache.get("odometer", plate, max_age) is not None:
            stats.cached += 1
        else:
            todo.append((item, plate))
    if not todo:
        cache.close()
        return stats
    from bots.vegvesen_web import VegvesenWeb, VegvesenWebError, WebVehicleNotFound

    log = get_logger("rpa.vehicles")
    open_system = {c.reference for c in ctx.store.cases(ctx.process_id, status=[CaseStatus.open, CaseStatus.in_review],
                                                        category=oc.SYSTEM_ERROR)}
    in_a_row = 0
    try:
        with VegvesenWeb(ctx.settings, evidence_dir=ctx.out_dir / "bevis",
                         min_interval_seconds=rules.web_min_interval_seconds) as web:
            for item, plate in todo:
                try:
                    readings = web.odometer_history(plate)
                except WebVehicleNotFound:
                    readings = []
                except VegvesenWebError as exc:
                    stats.failed += 1
                    in_a_row += 1
                    log.warning("kilometerstand for %s: %s", plate, exc)
                    if item.reference not in open_system:
                        case = ctx.new_case(oc.SYSTEM_ERROR, f"Kunne ikke lese kilometerstand for {oc.shown(item.payload)} "
                                            f"fra nettsiden til Statens vegvesen: {exc.message}",
                                            org_unit=item.payload.get("org_unit"), attachments=exc.attachments(),
                                            evidence=oc.system_evidence(item.payload, exc.message),
                                            search_text=plate)
                        ctx.store.open_case(ctx.process_id, item.reference, case, kind=CaseKind.system, item_id=item.id)
                        open_system.add(item.reference)
                    if in_a_row >= 3:  # the page is down or changed: stop, keep the evidence
                        log.error("nettsiden feilet tre ganger på rad; hopper over resten av kilometerstandene")
                        break
                    continue
                in_a_row = 0
                cache.put("odometer", plate, [[d.isoformat() if d else None, km] for d, km in readings])
                stats.read += 1
    finally:
        cache.close()
    return stats


# -- conclude -----------------------------------------------------------------------------------

def _odometer(row_km: int | None, web: list | None, v: Vehicle | None) -> tuple[int | None, str]:
    if row_km is not None:
        return row_km, "Egne data (kjøretøylisten)"
    if web:
        day, km = max(((parse_date(d), km) for d, km in web), key=lambda r: r[0] or date.min)
        return km, f"Statens vegvesen nettside (EU-kontroll {oc.no_date(day)})" if day else "Statens vegvesen nettside"
    if v and v.odometer:
        label = {"bruktimport": "Bruktimport", "nettside": "Statens vegvesen nettside"}.get(v.odometer.source,
                                                                                         v.odometer.source)
        when = f" ({oc.no_date(v.odometer.date)})" if v.odometer.date else ""
        return v.odometer.km, f"{label}{when}"
    return None, ""


def _remark(ctx: RunContext, category: str | None, item: WorkItem | None, v: Vehicle | None) -> str:
    if category is None:
        return ""
    try:
        meaning = ctx.definition.category(category).meaning
    except KeyError:
        meaning = category
    p = item.payload if item else {}
    if category == oc.DUPLICATE_PLATE:
        return f"{meaning} (tatt med fra rad {p.get('first_row')})"
    if category == oc.EU_CONTROL_OVERDUE and v:
        return f"{meaning}: frist {oc.no_date(v.eu_control_deadline)}"
    if category == oc.DEREGISTERED and v:
        return f"{meaning}: {v.status_name.lower()}"
    if category == oc.PLATE_MALFORMED:
        return f"{meaning}: {p.get('problem') or ''}".rstrip(": ")
    if category == oc.SYSTEM_ERROR and item is not None:
        return f"{meaning}: {(item.last_error or '')[:120]}"
    return meaning


def _baseline(ctx: RunContext) -> dict[str, Any] | None:
    """The figures reported by hand before the robot (rules.baseline_file), if the file is there."""
    import json

    name = rules_of(ctx).baseline_file
    path = ctx.data_path(name) if name else None
    if path is None or not path.exists():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        Tertial.parse(str(data["period"]))
        return data
    except (ValueError, KeyError, TypeError) as exc:
        get_logger("rpa.vehicles").warning("%s: ikke brukt som forrige tall (%s)", path.name, exc)
        return None


def conclude(ctx: RunContext, prepared: Prepared, stats: LoopStats, odometer: OdometerStats | None = None,
             *, today: date | None = None, close_run: bool = True) -> CollectionResult:
    """The report and the summary; `close_run=False` when the kit's flow finishes the run."""
    period = prepared.period
    items = _period_items(ctx, period)
    cases_by_item: dict[int, list[ExceptionCase]] = {}
    for case in ctx.store.cases(ctx.process_id):
        if case.item_id is not None and case.reference.startswith(f"{period.code}:"):
            cases_by_item.setdefault(case.item_id, []).append(case)
    cache = LookupCache.from_settings(ctx.settings)
    rows: list[ReportRow] = []
    counted: list[tuple[str, Vehicle]] = []
    exceptions: Counter = Counter()  # per work item (a case): many rows of one plate are one
    excluded_rows: Counter = Counter()  # per fleet row: what the report leaves out
    seen_refs: set[str] = set()
    pending = automated = found = 0
    try:
        for row, ref in zip(prepared.fleet.rows, prepared.references, strict=True):
            item = items.get(ref)
            status = item.status if item else ItemStatus.new
            v: Vehicle | None = None
            category: str | None = None
            source = ""
            item_cases = cases_by_item.get(item.id, []) if item else []
            if status == ItemStatus.done:
                result = item.result or {}
                v = Vehicle.from_dict(result["vehicle"])
                source = {"api": "API", "web": "Nettside"}.get(result.get("source", "api"), "API")
                if result.get("cached"):
                    source += " (mellomlager)"
                if any(c.category == oc.EU_CONTROL_OVERDUE for c in item_cases):
                    category = oc.EU_CONTROL_OVERDUE
                if v.registration_status not in DEREGISTERED_STATUSES:
                    counted.append((row.org_unit, v))
            elif status == ItemStatus.business_exception:
                case = next((c for c in item_cases if c.kind == "business"), None)
                category = case.category if case else (item.last_error or "").split(":")[0] or "UKJENT"
                data = ((case.evidence or {}).get("data") or {}) if case else {}
                if data.get("vehicle"):
                    v = Vehicle.from_dict(data["vehicle"])
                    source = "API" if v.source == "api" else "Nettside"
            elif status == ItemStatus.failed:
                category = oc.SYSTEM_ERROR
            else:
                pending += 1
            if v is not None:
                found += 1
            if category:
                excluded_rows[category] += 1
                if ref not in seen_refs:
                    exceptions[category] += 1
            elif status == ItemStatus.done:
                automated += 1
            web = cache.get("odometer", v.plate, 10 * 365 * 86400) if v and v.plate else None
            km, km_source = _odometer(row.own_km, web, v)
            remark = _remark(ctx, category, item, v) if status not in (ItemStatus.new, ItemStatus.in_progress) \
                else "Venter på oppslag (kvote eller nytt forsøk)"
            seen_refs.add(ref)
            rows.append(ReportRow(row.row, row.raw, row.org_unit, v, category, remark, km, km_source, source))
    finally:
        cache.close()

    previous, previous_run = previous_figures(ctx.store, ctx.process_id, period, _baseline(ctx))
    climate = compute(counted, period, previous, previous_run)
    meanings = {c.code: c.meaning for c in ctx.definition.exception_categories}
    outputs: dict[str, str] = {}
    status, message = "completed", None
    if stats.stopped in ("auth", "system_down"):
        status = "stopped"
        err = stats.error
        if stats.stopped == "auth":
            message = (f"{getattr(err, 'message_no', err)}\n{err}" if err else "API-nøkkelen ble avvist")
        else:
            message = (f"Statens vegvesen svarer ikke ({ctx.definition.retry.stop_after_consecutive_system_errors} "
                       f"feil på rad); kjøringen er stoppet og {stats.released} kjøretøy er lagt tilbake i køen. "
                       f"/ Statens vegvesen is not answering; the run stopped. Last error: {err}")
    elif pending:
        status = "paused"
        when = stats.resume_at.astimezone() if stats.resume_at else None
        message = (f"{pending} kjøretøy venter på oppslag"
                   + (f" til {when:%d.%m.%Y kl. %H:%M} (kvoten hos Statens vegvesen er brukt opp)" if when else "")
                   + "; de tas med i neste kjøring. Rapporten lages når alle er slått opp. / "
                   f"{pending} vehicles wait for lookup"
                   + (f" until {when:%Y-%m-%d %H:%M} (daily quota spent)" if when else "")
                   + "; the next run picks them up and then writes the report.")
    if status == "completed":
        written = ctx.effects.write_file("fleet", ctx.out_dir / REPORT_NAME, lambda path: write_report(
            path, rows, climate, run_id=ctx.run_id, rules_version=ctx.version_label, meanings=meanings,
            excluded={k: v for k, v in excluded_rows.items() if k != oc.EU_CONTROL_OVERDUE}),
            lambda: shadow.report_outcomes(rows), "Kjøretøyrapporten til klimarapporten (kjoretoy.xlsx)")
        outputs = {"kjoretoy": str(written[0]), "klimarapport_png": str(written[1])} if written else {}

    share = climate.total.share
    figures: dict[str, Any] = {
        "status": status,
        "period": period.code,
        "source": prepared.source,
        "vehicles": len(prepared.fleet.rows),
        "found": found,
        "zero_emission_share": None if share is None else round(share, 4),
        "zero_emission_share_previous": climate.total.previous,
        "zero_emission_change_pp": climate.total.change_pp,
        "pending": pending,
        "lookups": stats.requests,
        "cache_hits": stats.cache_hits,
        "short_waits": stats.short_waits,
        "rate_limited": stats.rate_limited,
        "deferred": stats.deferred,
        "resume_at": stats.resume_at.isoformat() if stats.resume_at else None,
        "lookup_rate_per_second": round(stats.rate, 2),
        "decisions_applied": dict(prepared.decisions),
        "warnings": prepared.fleet.warnings,
        "odometer_from_web": vars(odometer) if odometer else None,
        "message": message,
        "climate": climate.to_summary(),
    }
    summary = RunSummary(PROCESS_ID, ctx.run_id, cases_total=len(prepared.fleet.rows), automated=automated,
                         exceptions=dict(exceptions), outputs=outputs, figures=figures)
    if status == "stopped":
        summary.stopped_reason = message or "kjøringen stoppet"
    elif status == "paused":
        summary.paused_reason = (message or "").split(" / ")[0]
    if close_run:
        finish(ctx, summary)
    return CollectionResult(status, summary, message, stats.resume_at, Path(outputs["kjoretoy"]) if outputs else None)


def run_collection(ctx: RunContext, fleet_path: Path | None = None, period: Tertial | None = None, *,
                   source: str | None = None, today: date | None = None,
                   client: VegvesenClient | None = None) -> CollectionResult:
    """The whole run without Prefect (CLI, tests, benchmarks)."""
    try:
        prepared = prepare(ctx, fleet_path, period, source, today)
        stats = look_up(ctx, prepared, client=client, today=today)
        odometer = read_odometers(ctx, prepared) if stats.stopped is None else None
        return conclude(ctx, prepared, stats, odometer, today=today)
    except (FleetListError, ValueError) as exc:
        fail(ctx, exc)
        raise


__all__ = ["CollectionResult", "Prepared", "apply_decisions", "conclude", "look_up", "prepare",
           "read_odometers", "run_collection"]
