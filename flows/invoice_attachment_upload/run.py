"""One run of invoice-attachment-upload, as plain functions over a RunContext (no Prefect needed).

    recover    items held by dead workers go back to the queue (crash recovery)
    decisions  reviewers' decisions from the exception queue become work
    intake     the drop folder -> documents (manifest, EHF, plan, convention) -> work items;
               manifests are archived once their rows are work items
    process    every waiting item through the chosen door, exactly once
    settle     files whose items are all final: archive + receipt, or quarantine + reason
    release    quarantined files whose cases are resolved move to the archive
The Prefect flow (flow.py) calls the same steps as tasks; the CLI calls `run` directly.
"""

from __future__ import annotations

import csv
from collections import Counter
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from connectors.identifiers import mask_fnrs_in_text
from connectors.safe_cells import safe_row
from flows.invoice_attachment_upload import shadow
from flows.invoice_attachment_upload.decisions import (
    DecisionStats,
    apply_decisions,
    release_resolved_quarantine,
)
from flows.invoice_attachment_upload.doors import DOORS, open_door
from flows.invoice_attachment_upload.intake import intake
from flows.invoice_attachment_upload.model import Intake
from flows.invoice_attachment_upload.process import ProcessStats, process_items, release_dead_local_claims
from flows.invoice_attachment_upload.rules import Rules
from flows.invoice_attachment_upload.settle import SettleStats, archive_manifest, settle_files
from flows.invoice_attachment_upload.texts import logger
from flows.invoice_attachment_upload.workspace import Workspace
from flows.kit import Progress, RunContext, RunSummary, fail, finish, recover_abandoned
from workqueue.store import NewItem

DROP_FOLDER_INPUT = "drop-folder"
OUTCOMES_FILE = "utfall.csv"


@dataclass
class Setup:
    rules: Rules
    workspace: Workspace
    inbox: Path
    door: str


def setup(ctx: RunContext, inbox: Path | None = None, via: str | None = None) -> Setup:
    rules = ctx.rules if isinstance(ctx.rules, Rules) else Rules.model_validate(ctx.definition.rules)
    door = via or ctx.definition.source
    if door not in DOORS:
        raise ValueError(f"unknown door {door!r}: use one of {', '.join(DOORS)} (`source` in "
                         f"config/processes/{ctx.process_id}.yaml or --via)")
    if door not in ctx.definition.sources:
        raise ValueError(f"door {door!r} is not one of the definition's sources {ctx.definition.sources}")
    folder = inbox or ctx.data_path(ctx.definition.input(DROP_FOLDER_INPUT).path or "")
    return Setup(rules, Workspace.from_rules(ctx.settings, rules), Path(folder), door)


def recover(ctx: RunContext) -> dict[str, int]:
    """Crash recovery before anything else: claims of dead local workers and expired leases."""
    return {"released_dead_claims": release_dead_local_claims(ctx),
            "requeued_abandoned": recover_abandoned(ctx),
            "requeued_after_shadow": shadow.requeue_would_do(ctx)}  # live after a pilot: not uploaded yet


def register(ctx: RunContext, s: Setup, snapshot: Intake) -> int:
    """Every document becomes a work item (reference = SHA-256 + target); then plans for the
    files a manifest named, then the manifest goes to the archive."""
    seen: set[str] = set()
    items = []
    for doc in snapshot.documents:
        if doc.reference not in seen:
            seen.add(doc.reference)
            items.append(NewItem(doc.reference, doc.payload()))
    added = ctx.store.add_many(ctx.process_id, items)
    for manifest in snapshot.manifests:
        if manifest.documents:  # unreadable: settled like any refused file
            continue
        rows = [d for d in snapshot.documents if d.manifest and d.manifest.get("sha256") == manifest.sha256]
        for source in snapshot.files:
            mine = [d for d in source.documents if d.manifest and d.manifest.get("sha256") == manifest.sha256]
            if mine:
                s.workspace.write_plan(source.sha256, source.name, [d.payload() for d in source.documents])
        ctx.effects.call("dropfolder", "archive", manifest.sha256, partial(archive_manifest, ctx, s.workspace, manifest,
                         rows), "Arkivering av manifest", outcome=shadow.move("archive", manifest.name, manifest.sha256))
    return added


def write_outcomes(ctx: RunContext, outcomes: list[dict[str, Any]]) -> Path:
    """utfall.csv in the run's output folder: one row per document settled in this run."""
    path = ctx.out_dir / OUTCOMES_FILE
    columns = ["source_file", "outcome", "category", "voucher_number", "door", "run_id", "sha256", "reference",
               "message"]
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, delimiter=";")
        writer.writerow(columns)
        for o in sorted(outcomes, key=lambda o: o["source"]):
            writer.writerow(safe_row([mask_fnrs_in_text(o["source"]), o["outcome"], o.get("category", ""),
                                      o.get("voucher_number") or "", o.get("door") or "", o.get("run_id") or "",
                                      o.get("sha256") or "", o["reference"], mask_fnrs_in_text(o.get("message", ""))]))
    return path


@dataclass
class RunResult:
    summary: RunSummary
    intake: Intake
    process: ProcessStats
    settle: SettleStats
    decisions: DecisionStats
    released: DecisionStats
    recovered: dict[str, int] = field(default_factory=dict)


def summarize(ctx: RunContext, s: Setup, snapshot: Intake, pstats: ProcessStats, sstats: SettleStats,
              dstats: DecisionStats, rstats: DecisionStats, recovered: dict[str, int],
              outcomes_path: Path) -> RunSummary:
    outcomes = sstats.outcomes + rstats.outcomes
    counts = Counter(o["outcome"] for o in outcomes)
    categories = Counter(o["category"] for o in outcomes if o["outcome"] == "quarantined" and o.get("category"))
    automated = counts["uploaded"] + counts["already_attached"] + counts[shadow.WOULD_UPLOAD]
    figures = {
        "door": s.door, "inbox": str(s.inbox),
        "files": len(outcomes),
        "uploaded": counts["uploaded"], "already_attached": counts["already_attached"],
        **({"would_upload": counts[shadow.WOULD_UPLOAD]} if ctx.shadow else {}),
        "quarantined": counts["quarantined"],
        "handled_manually": counts["handled_manually"], "dismissed": counts["dismissed"],
        "archived_files": sstats.archived_files + rstats.released_files,
        "quarantined_files": sstats.quarantined_files, "pending_files": sstats.pending_files,
        "manifests": len(snapshot.manifests), "skipped": len(snapshot.skipped),
        "items_processed": pstats.handled, "system_retries": pstats.system_retry,
        "escalated_to_operators": pstats.escalated, "decisions_applied": dstats.applied,
        "decisions_refused": dstats.refused,
        "stopped": pstats.stopped, **recovered,
    }
    return RunSummary(process_id=ctx.process_id, run_id=ctx.run_id, cases_total=len(outcomes),
                      automated=automated, exceptions=dict(sorted(categories.items())),
                      stopped_reason=pstats.stopped, decisions_applied=dstats.applied,
                      outputs={"utfall": str(outcomes_path), "arkiv": str(s.workspace.archive_root),
                               "karantene": str(s.workspace.quarantine_root)},
                      figures=figures)


def take_in(ctx: RunContext, s: Setup) -> Intake:
    snapshot = intake(s.inbox, ctx.definition, s.rules, s.workspace)
    register(ctx, s, snapshot)
    logger(__name__).info("Innlesing: %d filer, %d dokumenter, %d manifester", len(snapshot.files),
                          len(snapshot.documents), len(snapshot.manifests))
    return snapshot


def upload(ctx: RunContext, s: Setup, total: int, progress=None) -> ProcessStats:
    door = open_door(s.door, ctx.settings, concurrency=_concurrency(ctx, s), requests_per_second=_rate(ctx),
                     evidence_dir=ctx.out_dir / "bevis")
    try:
        return process_items(ctx, s.rules, s.workspace, door, progress=progress or Progress(
            "Opplasting av underbilag"), total_hint=total)
    finally:
        door.close()


def settle(ctx: RunContext, s: Setup, snapshot: Intake) -> tuple[SettleStats, DecisionStats]:
    return settle_files(ctx, snapshot, s.workspace), release_resolved_quarantine(ctx, s.workspace)


def steps(ctx: RunContext, params, step, progress=None) -> RunResult:
    """The run's steps in order (`step` runs each directly, or as a Prefect task in the flow)."""
    s = setup(ctx, params.inbox, params.via)
    log = logger(__name__)
    recovered = step("gjenoppretting", recover, ctx)
    log.info("Gjenoppretting: %d avbrutte elementer lagt tilbake", sum(recovered.values()))
    dstats = step("avgjorelser", apply_decisions, ctx, s.workspace)
    log.info("Avgjørelser fra avvikskøen: %d utført", dstats.applied)
    snapshot = step("innlesing", take_in, ctx, s)
    pstats = step("opplasting", upload, ctx, s, len(snapshot.documents), progress, retry=False)
    log.info("Opplasting: %d behandlet, %d lastet opp, %d lå allerede på bilaget, %d avvik, %d til nytt forsøk",
             pstats.handled, pstats.uploaded, pstats.already_attached, pstats.business, pstats.system_retry)
    sstats, rstats = step("arkivering", settle, ctx, s, snapshot)
    log.info("Arkivering: %d filer arkivert, %d i karantene, %d venter", sstats.archived_files + rstats.released_files,
             sstats.quarantined_files, sstats.pending_files)
    path = write_outcomes(ctx, sstats.outcomes + rstats.outcomes)
    summary = summarize(ctx, s, snapshot, pstats, sstats, dstats, rstats, recovered, path)
    return RunResult(summary, snapshot, pstats, sstats, dstats, rstats, recovered)


def run_summary(ctx: RunContext, params, step) -> RunSummary:
    """What the kit's declaration runs (flow.py): the summary; the kit finishes the run."""
    return steps(ctx, params, step).summary


def run(ctx: RunContext, inbox: Path | None = None, via: str | None = None, progress=None) -> RunResult:
    """The whole run without Prefect (tests, benchmarks); finishes the run record (`stopped` when
    the system was down)."""
    try:
        result = steps(ctx, SimpleNamespace(inbox=inbox, via=via), lambda _name, fn, *a, retry=True: fn(*a),
                       progress)
    except Exception as exc:
        fail(ctx, exc)
        raise
    finish(ctx, result.summary)
    return result


def _concurrency(ctx: RunContext, s: Setup) -> int:
    limit = ctx.definition.rate_limit("finance")
    if s.door == "web":
        return s.rules.web_contexts
    wanted = s.rules.api_concurrency
    return min(wanted, limit.concurrency) if limit else wanted


def _rate(ctx: RunContext) -> float | None:
    limit = ctx.definition.rate_limit("finance")
    return limit.requests_per_second if limit else None
