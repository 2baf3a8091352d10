"""A run: read both exports, one work item per request (reference = bestilling_id), then the kit's
item loop hands each to `handle`: a letter, or a case for HR. A re-run issues nothing twice; HR's
«Utsted likevel» issues on the next run."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from flows.kit import MANUAL, BusinessCase, Done, Outcome, RunContext, RunSummary, add_items, run_items
from flows.kit.decisions import apply_decisions
from flows.tjenestebevis import process as tb
from flows.tjenestebevis.actions import ACTIONS
from flows.tjenestebevis.rules import Rules
from flows.tjenestebevis.shadow import ARCHIVE
from workqueue.models import ItemStatus, WorkItem


def run(ctx: RunContext, params: SimpleNamespace, step) -> RunSummary:
    rules: Rules = ctx.rules if isinstance(ctx.rules, Rules) else Rules.model_validate(ctx.definition.rules)
    as_of = params.as_of or date.today()
    req_spec, emp_spec = ctx.definition.input("requests"), ctx.definition.input("employment")
    requests = tb.read_requests(Path(params.requests or ctx.data_path(req_spec.path or "")), req_spec)
    positions = tb.read_positions(Path(params.employment or ctx.data_path(emp_spec.path or "")), emp_spec)
    add_items(ctx, requests)

    applied = step("beslutninger", lambda: apply_decisions(ctx.store, ctx.definition, ACTIONS, run_id=ctx.run_id,
                                                           requeue=[tb.ISSUE_ANYWAY]))
    issued: dict[str, list[dict[str, Any]]] = {}
    for done in ctx.store.items(ctx.process_id, status=ItemStatus.done.value):
        if (done.result or {}).get("letter"):
            issued.setdefault((done.payload or {}).get("fnr", ""), []).append({**done.payload, "ref": done.reference})
    forced = {c.item_id for c in ctx.store.cases(ctx.process_id, status="resolved")
              if (c.decision or {}).get("action") == tb.ISSUE_ANYWAY}
    outcomes: dict[str, dict[str, Any]] = {}

    def handle(ctx: RunContext, item: WorkItem) -> Done | BusinessCase:
        p = dict(item.payload or {})
        mine = positions.get(p.get("fnr", ""), [])
        window = (date.fromisoformat(p["ordered"]) - timedelta(days=rules.duplicate_window_days)).isoformat()
        earlier = [e for e in issued.get(p["fnr"], []) if e["ref"] != item.reference and e["ordered"] >= window]
        finding = tb.assess(p, mine, rules, as_of, earlier, forced=item.id in forced)
        if finding is not None:
            outcomes[item.reference] = {"utfall": finding.category, "fnr": p["fnr"]}
            ctx.effects.would_hand_over([Outcome(ARCHIVE, MANUAL, item.reference, finding.category)])
            return BusinessCase(ctx.new_case(finding.category, finding.message, evidence=tb.evidence(p, mine, finding),
                                             org_unit=next((x.unit for x in mine if x.unit), None),
                                             search_text=item.reference))
        if earlier and item.id not in forced:  # the same request again: the letter already sent stands
            outcomes[item.reference] = {"utfall": "SAMME_BESTILLING", "fnr": p["fnr"], "fil": earlier[0]["ref"]}
            return Done({"duplicate_of": earlier[0]["ref"], "letter": None})
        path = ctx.effects.call(ARCHIVE, "issue", item.reference, lambda: tb.issue(
            p, item.reference, mine, ctx.settings.municipality, ctx.definition.owner.org_unit, as_of, ctx.out_dir),
            f"Tjenestebevis {item.reference}", Outcome(ARCHIVE, "issue", item.reference, value=str(tb.service(mine, as_of))))
        issued.setdefault(p["fnr"], []).append({**p, "ref": item.reference})
        outcomes[item.reference] = {"utfall": "UTSTEDT", "fnr": p["fnr"], "fil": path.name if path else ""}
        return Done({"letter": path.name if path else None})

    counts = step("tjenestebevis", run_items, ctx, handle, retry=False)
    issued_now = sum(o["utfall"] == "UTSTEDT" for o in outcomes.values())
    # Automated: answered without a person (a letter, or the same request again: the letter sent stands).
    automated = sum(o["utfall"] in ("UTSTEDT", "SAMME_BESTILLING") for o in outcomes.values())
    summary = RunSummary(ctx.process_id, ctx.run_id, cases_total=len(outcomes), automated=automated,
                         exceptions=dict(counts.categories),
                         figures={"requests": len(requests), "issued": issued_now, **applied.summary()})
    if sheet := ctx.effects.write_file(ARCHIVE, ctx.out_dir / "tjenestebevis.xlsx", lambda path: tb.write_summary(
            path, outcomes, ctx.definition), [], "Oversikten over bestillingene (tjenestebevis.xlsx)"):
        summary.outputs["tjenestebevis"] = str(sheet)
    return summary
