"""One run of vehicle data collection: the declared run function and its steps, plain functions of
a RunContext (the kit runs them, as Prefect tasks inside the flow).

    prepare         reviewers' decisions, read the fleet list, one work item per vehicle (reference
                    "<tertial>:<plate>"), cases for malformed and duplicate plates at once
    look_up         the concurrent lookups (lookup.py)
    read_odometers  optional: odometer history from the web page (bot) where the list has none
    conclude        every row's state from the store; when nothing waits any more, kjoretoy.xlsx
                    (Kjøretøy + Klimarapport + chart); the summary

Work-item references carry the tertial ("2026-T1:EK39085"): within a tertial a re-run is idempotent
(done vehicles are not looked up again, deferred ones resume), and the next tertial is a new set of
items. A reference of the plate alone would make every vehicle a one-off for ever.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from connectors.norwegian import fmt_date, fmt_datetime
from connectors.periods import Tertial
from connectors.vegvesen.cache import LookupCache
from connectors.vegvesen.odometer import cached_history, read_histories
from connectors.vegvesen.parser import Vehicle
from flows.kit import RunContext, RunSummary, evidence, get_logger
from flows.kit.cases import cases_of_items, open_once
from flows.kit.decisions import apply_decisions
from flows.kit.items import add_items, items_by_reference
from flows.kit.prefect import schedule_continuation
from flows.vehicle_data_collection import outcomes as oc
from flows.vehicle_data_collection import shadow
from flows.vehicle_data_collection.climate import compute, previous_figures
from flows.vehicle_data_collection.fleet import FleetRow, read_fleet_list
from flows.vehicle_data_collection.lookup import DEREGISTERED_STATUSES, LoopStats, look_up
from flows.vehicle_data_collection.report import ReportRow, write_report
from workqueue.models import ItemStatus, WorkItem
from workqueue.store import NewItem

ROBOT = "robot:vehicle-data-collection"
REPORT_NAME = "kjoretoy.xlsx"


@dataclass
class Prepared:
    period: Tertial
    source: str                      # api | web
    rows: list[FleetRow]
    warnings: list[str]
    references: list[str]            # per fleet row, in order
    decisions: Counter               # reviewers' decisions applied, per action (and refused)


def run(ctx: RunContext, p: SimpleNamespace, step) -> RunSummary:
    """prepare, look up, odometer from the web page, report; a run paused by the registry's quota
    schedules its continuation at the quota's reset when it runs from a deployment."""
    period = Tertial.parse(p.period) if p.period else Tertial.for_run()
    prepared = step("forberedelse", prepare, ctx, p.fleet, period, p.source)
    stats = step("oppslag", look_up, ctx, prepared.source, len(prepared.rows), retry=False)  # retries per vehicle
    odometer = step("kilometerstand", read_odometers, ctx, prepared) if stats.stopped is None else None
    summary = step("rapport", conclude, ctx, prepared, stats, odometer)
    if summary.paused_reason and stats.resume_at:
        summary.figures["continuation_flow_run"] = schedule_continuation(stats.resume_at, {
            "fleet": str(p.fleet) if p.fleet else None, "out": None, "period": period.code, "source": p.source})
    return summary


def prepare(ctx: RunContext, fleet_path: Path | None, period: Tertial, source: str | None) -> Prepared:
    """Reviewers' decisions since the last run, applied once by the kit (`retry` puts the case's
    vehicle back in the queue, looked up again past the cache); the fleet list as work items."""
    d = ctx.definition
    source = ctx.source(source)
    spec = d.input(ctx.rules.fleet_input)
    path = ctx.input_path(ctx.rules.fleet_input, fleet_path) or ctx.data_path("")
    applied = apply_decisions(ctx.store, d, {}, run_id=ctx.run_id)  # no own actions: only the kit's
    decisions = Counter(applied.by_action) + Counter({"refused": len(applied.refused)})
    rows, warnings = read_fleet_list(path, spec, allow_personalized=ctx.rules.allow_personalized_plates)
    for warning in warnings:
        get_logger("rpa.vehicles").warning(warning)

    rows_of: dict[str, list[int]] = {}  # plate -> its rows: the first is looked up, the others share one case
    for row in rows:
        if row.key is not None:
            rows_of.setdefault(row.key, []).append(row.row)
    items: dict[str, NewItem] = {}  # reference -> item; a repeated plate's rows share its one case
    references: list[str] = []
    for row in rows:
        if row.identifier is None:
            ref, payload = f"{period.code}:rad{row.row}", oc.payload_for(row, period.code, path.name, "malformed")
        elif row.row != rows_of[row.key][0]:
            first, repeats = rows_of[row.key][0], rows_of[row.key][1:]
            ref = f"{period.code}:{row.key}:rad{repeats[0]}"
            payload = oc.payload_for(row, period.code, path.name, "duplicate", first_row=first)
            payload["rows"] = repeats
        else:
            ref, payload = f"{period.code}:{row.key}", oc.payload_for(row, period.code, path.name, "lookup")
        references.append(ref)
        items.setdefault(ref, NewItem(ref, payload))
    add_items(ctx, items.values())
    settled = {ref: item for ref, item in items.items() if item.payload["kind"] != "lookup"}
    for ref, stored in items_by_reference(ctx, settled).items():  # a case at once (once per tertial: final after)
        if stored.status == ItemStatus.new:
            ctx.store.business_exception(stored.id, oc.settled_case(ctx, settled[ref].payload), actor=ROBOT)
    return Prepared(period, source, rows, warnings, references, decisions)


def read_odometers(ctx: RunContext, prepared: Prepared) -> dict[str, int]:
    """Odometer history from 'Sjekk kjøretøyopplysninger' for found vehicles the list has no
    kilometerstand for (rules.odometer_from_web). Politely slow; a failure opens an operator case
    with the screenshot and trace and never fails the vehicle (its registry data is complete)."""
    rules = ctx.rules
    stats = dict.fromkeys(("read", "cached", "failed", "skipped"), 0)
    if not rules.odometer_from_web or prepared.source == "web":
        return stats
    items = items_by_reference(ctx, prepared.references)
    cache = LookupCache.from_settings(ctx.settings)
    todo: list[tuple[WorkItem, str]] = []
    for row, ref in zip(prepared.rows, prepared.references, strict=True):
        item = items.get(ref)
        done = row.own_km is None and item is not None and item.status == ItemStatus.done
        plate = (item.result or {}).get("vehicle", {}).get("plate") if done else None
        if not plate:
            stats["skipped"] += 1
        elif cached_history(cache, plate, rules.odometer_max_age_days * 86400) is not None:
            stats["cached"] += 1
        else:
            todo.append((item, plate))

    def failed(item: WorkItem, plate: str, exc) -> None:  # one operator case per vehicle while it is open
        stats["failed"] += 1
        open_once(ctx, item.reference, oc.SYSTEM_ERROR, f"Kunne ikke lese kilometerstand for {oc.shown(item.payload)} "
                  f"fra nettsiden til Statens vegvesen: {exc.message}", item_id=item.id,
                  org_unit=item.payload.get("org_unit"), attachments=evidence.attachments(exc),
                  evidence=oc.system_evidence(item.payload, exc.message), search_text=plate)

    try:
        if todo:
            stats["read"] = read_histories(ctx.settings, todo, cache, evidence_dir=ctx.out_dir / "bevis",
                                           min_interval_seconds=rules.web_min_interval_seconds, on_error=failed,
                                           log=get_logger("rpa.vehicles"))
    finally:
        cache.close()
    return stats


# -- conclude -----------------------------------------------------------------------------------

def _odometer(row_km: int | None, web: list | None, v: Vehicle | None) -> tuple[int | None, str]:
    if row_km is not None:
        return row_km, "Egne data (kjøretøylisten)"
    if web:
        day, km = max(web, key=lambda r: r[0] or date.min)
        return km, f"Statens vegvesen nettside (EU-kontroll {fmt_date(day)})" if day else "Statens vegvesen nettside"
    if v and v.odometer:
        label = {"bruktimport": "Bruktimport", "nettside": "Statens vegvesen nettside"}.get(v.odometer.source,
                                                                                         v.odometer.source)
        when = f" ({fmt_date(v.odometer.date)})" if v.odometer.date else ""
        return v.odometer.km, f"{label}{when}"
    return None, ""


def _remark(meanings: dict[str, str], category: str | None, item: WorkItem | None, v: Vehicle | None) -> str:
    if category is None:
        return ""
    meaning = meanings.get(category, category)
    p = item.payload if item else {}
    if category == oc.DUPLICATE_PLATE:
        return f"{meaning} (tatt med fra rad {p.get('first_row')})"
    if category == oc.EU_CONTROL_OVERDUE and v:
        return f"{meaning}: frist {fmt_date(v.eu_control_deadline)}"
    if category == oc.DEREGISTERED and v:
        return f"{meaning}: {v.status_name.lower()}"
    if category == oc.PLATE_MALFORMED:
        return f"{meaning}: {p.get('problem') or ''}".rstrip(": ")
    if category == oc.SYSTEM_ERROR and item is not None:
        return f"{meaning}: {(item.last_error or '')[:120]}"
    return meaning


def _baseline(ctx: RunContext) -> dict[str, Any] | None:
    """The figures reported by hand before the robot (rules.baseline_file), if the file is there."""
    name = ctx.rules.baseline_file
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


def _ended_early(ctx: RunContext, stats: LoopStats, pending: int) -> tuple[str, str | None]:
    """(status, message): completed, stopped (the key refused, the registry down) or paused (vehicles wait)."""
    err = stats.error
    if stats.stopped == "auth":
        return "stopped", f"{getattr(err, 'message_no', err)}\n{err}" if err else "API-nøkkelen ble avvist"
    if stats.stopped == "system_down":
        return "stopped", (f"Statens vegvesen svarer ikke ({ctx.definition.retry.stop_after_consecutive_system_errors} "
                           f"feil på rad); kjøringen er stoppet og {stats.counts.released} kjøretøy er lagt tilbake i "
                           f"køen. / Statens vegvesen is not answering; the run stopped. Last error: {err}")
    if not pending:
        return "completed", None
    when = stats.resume_at.astimezone() if stats.resume_at else None
    return "paused", (f"{pending} kjøretøy venter på oppslag"
                      + (f" til {fmt_datetime(when)} (kvoten hos Statens vegvesen er brukt opp)" if when else "")
                      + "; de tas med i neste kjøring. Rapporten lages når alle er slått opp. / "
                      f"{pending} vehicles wait for lookup"
                      + (f" until {when:%Y-%m-%d %H:%M} (daily quota spent)" if when else "")
                      + "; the next run picks them up and then writes the report.")


def conclude(ctx: RunContext, prepared: Prepared, stats: LoopStats, odometer: dict[str, int] | None) -> RunSummary:
    """Every fleet row's state from the store; kjoretoy.xlsx when nothing waits any more (through
    the shadow-mode door); the summary."""
    items = items_by_reference(ctx, prepared.references)
    cases_by_item = cases_of_items(ctx, (item.id for item in items.values()))
    cache = LookupCache.from_settings(ctx.settings)
    meanings = {c.code: c.meaning for c in ctx.definition.exception_categories}
    rows: list[ReportRow] = []
    counted: list[tuple[str, Vehicle]] = []
    exceptions: Counter = Counter()  # per work item (a case): many rows of one plate are one
    excluded: Counter = Counter()  # per fleet row: what the report leaves out
    seen_refs: set[str] = set()
    pending = automated = found = 0
    try:
        for row, ref in zip(prepared.rows, prepared.references, strict=True):
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
            found += v is not None
            if category:
                excluded[category] += 1
                if ref not in seen_refs:
                    exceptions[category] += 1
            elif status == ItemStatus.done:
                automated += 1
            web = cached_history(cache, v.plate, 10 * 365 * 86400) if v and v.plate else None
            km, km_source = _odometer(row.own_km, web, v)
            remark = _remark(meanings, category, item, v) if status not in (ItemStatus.new, ItemStatus.in_progress) \
                else "Venter på oppslag (kvote eller nytt forsøk)"
            seen_refs.add(ref)
            rows.append(ReportRow(row.row, row.raw, row.org_unit, v, category, remark, km, km_source, source))
    finally:
        cache.close()
    previous, previous_run = previous_figures(ctx.store, ctx.process_id, prepared.period, _baseline(ctx))
    climate = compute(counted, prepared.period, previous, previous_run)
    status, message = _ended_early(ctx, stats, pending)
    outputs: dict[str, str] = {}
    if status == "completed":
        written = ctx.effects.write_file("fleet", ctx.out_dir / REPORT_NAME, lambda path: write_report(
            path, rows, climate, run_id=ctx.run_id, rules_version=ctx.version_label, meanings=meanings,
            excluded={k: v for k, v in excluded.items() if k != oc.EU_CONTROL_OVERDUE}),
            lambda: shadow.report_outcomes(rows), "Kjøretøyrapporten til klimarapporten (kjoretoy.xlsx)")
        outputs = {"kjoretoy": str(written[0]), "klimarapport_png": str(written[1])} if written else {}
    share = climate.total.share
    figures: dict[str, Any] = {
        "status": status,
        "period": prepared.period.code,
        "source": prepared.source,
        "vehicles": len(prepared.rows),
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
        "warnings": prepared.warnings,
        "odometer_from_web": odometer,
        "message": message,
        "climate": climate.to_summary(),
    }
    return RunSummary(ctx.process_id, ctx.run_id, cases_total=len(prepared.rows), automated=automated,
                      exceptions=dict(exceptions), outputs=outputs, figures=figures,
                      stopped_reason=message if status == "stopped" else "",
                      paused_reason=message.split(" / ")[0] if status == "paused" else "")
