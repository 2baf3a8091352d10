"""A run: read both exports, one work item per request (reference = bestilling_id), then a letter
or a case for each. A re-run issues nothing twice; HR's «utsted likevel» issues on the next run."""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from flows.runtime import RunContext, RunSummary, finish_run, get_logger
from flows.tjenestebevis.process import (
    ISSUE_ANYWAY,
    assess,
    evidence,
    issue,
    payload,
    read_positions,
    read_requests,
)
from flows.tjenestebevis.rules import Rules
from workqueue.models import ItemStatus
from workqueue.store import NewItem

ROBOT = "robot:tjenestebevis"
SUMMARY_NAME = "tjenestebevis.xlsx"


def _forced_items(ctx: RunContext) -> dict[int, int]:
    """item id -> case id for «utsted likevel» decisions not applied yet; their items go back in the
    queue. The decision is marked applied only once the letter exists (a crash in between redoes it)."""
    forced: dict[int, int] = {}
    for case in ctx.store.pending_decisions(ctx.process_id):
        action = (case.decision or {}).get("action")
        if action == ISSUE_ANYWAY and case.item_id is not None:
            if ctx.store.get_item(case.item_id).status != ItemStatus.new:
                ctx.store.retry_item_of_case(case.id, ROBOT, "Utstedes likevel etter avgjørelse i avvikskøen")
            forced[case.item_id] = case.id
        elif action == "retry" and case.item_id is not None:
            if ctx.store.get_item(case.item_id).status != ItemStatus.new:
                ctx.store.retry_item_of_case(case.id, ROBOT, "Prøves igjen etter avgjørelse i avvikskøen")
            ctx.store.mark_decision_applied(case.id, ROBOT, {"action": action})
        else:
            ctx.store.mark_decision_applied(case.id, ROBOT, {"action": action})
    return forced


def run_tjenestebevis(ctx: RunContext, requests_path: Path | None = None, employment_path: Path | None = None,
                      as_of: date | None = None, municipality: str = "Kommunen") -> RunSummary:
    rules: Rules = ctx.rules if isinstance(ctx.rules, Rules) else Rules.model_validate(ctx.definition.rules)
    as_of = as_of or date.today()
    req_spec, emp_spec = ctx.definition.input(rules.requests_input), ctx.definition.input(rules.employment_input)
    requests_path = Path(requests_path or ctx.data_path(req_spec.path or ""))
    requests = read_requests(requests_path, req_spec)
    positions = read_positions(Path(employment_path or ctx.data_path(emp_spec.path or "")), emp_spec)
    forced = _forced_items(ctx)
    ctx.store.requeue_abandoned(ctx.backoff, process_id=ctx.process_id)
    ctx.store.add_many(ctx.process_id, [NewItem(r.id or f"rad-{r.row}", payload(r, requests_path.name))
                                        for r in requests])
    issued: dict[str, list[dict[str, Any]]] = {}
    for item in ctx.store.items(ctx.process_id, status=ItemStatus.done.value):
        if (item.result or {}).get("letter"):
            issued.setdefault((item.payload or {}).get("fnr", ""), []).append({**item.payload, "ref": item.reference})
    counts: Counter = Counter()
    while batch := ctx.store.claim(ctx.process_id, worker=ROBOT, limit=50, run_id=ctx.run_id,
                                   lease_seconds=ctx.definition.retry.lease_seconds):
        for item in sorted(batch, key=lambda i: ((i.payload or {}).get("ordered") or "", i.id)):
            p = dict(item.payload or {})
            mine = positions.get(p.get("fnr", ""), [])
            ordered = date.fromisoformat(p["ordered"]) if p.get("ordered") else as_of
            window = ordered - timedelta(days=rules.duplicate_window_days)
            earlier = [e for e in issued.get(p["fnr"], [])
                       if e["ref"] != item.reference and (e.get("ordered") or "") >= window.isoformat()]
            finding = assess(p, mine, rules, as_of, earlier, forced=item.id in forced)
            if finding is None and earlier and item.id not in forced:
                ctx.store.complete(item.id, {"duplicate_of": earlier[0]["ref"], "letter": None}, worker=ROBOT)
                counts["duplicates"] += 1
                continue
            if finding is not None:
                ctx.store.business_exception(item.id, ctx.new_case(
                    finding.category, finding.message, evidence=evidence(p, mine, finding),
                    org_unit=next((x.unit for x in mine if x.unit), None), search_text=item.reference), actor=ROBOT)
                continue
            path = issue(p, item.reference, mine, rules, as_of, rules.municipality or municipality, ctx.out_dir)
            ctx.store.complete(item.id, {"letter": str(path)}, worker=ROBOT)
            if item.id in forced:
                ctx.store.mark_decision_applied(forced[item.id], ROBOT, {"action": ISSUE_ANYWAY, "letter": path.name})
            issued.setdefault(p["fnr"], []).append({**p, "ref": item.reference})
            counts["issued"] += 1
    return _finish(ctx, requests, counts)


def _finish(ctx: RunContext, requests: list, counts: Counter) -> RunSummary:
    cases = ctx.store.cases(ctx.process_id)
    mine = [c for c in cases if c.reference in {r.id or f"rad-{r.row}" for r in requests}]
    exceptions = dict(Counter(c.category for c in mine if c.status in ("open", "in_review")))
    summary = RunSummary(ctx.process_id, ctx.run_id, cases_total=len(requests), automated=counts["issued"],
                         exceptions=exceptions, figures={"requests": len(requests), "issued": counts["issued"],
                                                         "duplicates": counts["duplicates"]})
    get_logger("rpa.tjenestebevis").info("%d bestillinger, %d tjenestebevis utstedt, %d avvik",
                                         len(requests), counts["issued"], sum(exceptions.values()))
    finish_run(ctx, summary)
    return summary


__all__ = ["run_tjenestebevis", "datetime"]
