"""One run of invoice-attachment-upload: the steps the kit's declaration runs (flow.py, `rpa run`;
the kit opens, finishes or fails the run):

    recover    items held by dead workers, and items a shadow pilot only recorded, back to the queue
    decisions  reviewers' decisions from the exception queue become work
    intake     the drop folder -> documents (manifest, EHF, plan, convention) -> work items;
               manifests are archived once their rows are work items
    upload     every waiting item through the chosen door, exactly once
    settle     files whose items are all final: archive + receipt, or quarantine + reason;
               quarantined files whose cases are resolved move to the archive
"""

from __future__ import annotations

import csv
from collections import Counter
from functools import partial
from pathlib import Path
from typing import Any

from connectors.identifiers import mask_fnrs_in_text
from connectors.safe_cells import safe_row
from flows.invoice_attachment_upload import shadow
from flows.invoice_attachment_upload.decisions import apply_decisions, release_resolved_quarantine
from flows.invoice_attachment_upload.doors import DOORS, open_door
from flows.invoice_attachment_upload.intake import intake
from flows.invoice_attachment_upload.model import Intake
from flows.invoice_attachment_upload.process import process_items
from flows.invoice_attachment_upload.rules import Rules
from flows.invoice_attachment_upload.settle import archive_manifest, settle_files
from flows.invoice_attachment_upload.workspace import Workspace
from flows.kit import Progress, RunContext, RunSummary, get_logger, recover_abandoned
from workqueue.store import NewItem

DROP_FOLDER_INPUT = "drop-folder"
OUTCOMES_FILE = "utfall.csv"
OUTCOME_COLUMNS = ["source_file", "outcome", "category", "voucher_number", "door", "run_id", "sha256", "reference",
                   "message"]


def recover(ctx: RunContext) -> dict[str, int]:
    """Crash recovery before anything else (the kit's), and a live run after a shadow pilot: what
    the pilot only recorded was not uploaded yet."""
    return {"requeued_abandoned": recover_abandoned(ctx), "requeued_after_shadow": shadow.requeue_would_do(ctx)}


def take_in(ctx: RunContext, workspace: Workspace, rules: Rules, inbox: Path) -> Intake:
    """Every document becomes a work item (reference = SHA-256 + target); then plans for the
    files a manifest named, then the manifest goes to the archive."""
    snapshot = intake(inbox, ctx.definition, rules, workspace)
    items: dict[str, NewItem] = {}
    for doc in snapshot.documents:
        items.setdefault(doc.reference, NewItem(doc.reference, doc.payload()))
    ctx.store.add_many(ctx.process_id, list(items.values()))
    for manifest in snapshot.manifests:
        if manifest.documents:  # unreadable: settled like any refused file
            continue
        rows = [d for d in snapshot.documents if (d.manifest or {}).get("sha256") == manifest.sha256]
        named = {id(d) for d in rows}
        for source in snapshot.files:
            if any(id(d) in named for d in source.documents):
                workspace.write_plan(source.sha256, source.name, [d.payload() for d in source.documents])
        ctx.effects.call("dropfolder", "archive", manifest.sha256, partial(archive_manifest, ctx, workspace, manifest,
                         rows), "Arkivering av manifest", outcome=shadow.move("archive", manifest.name, manifest.sha256))
    get_logger(__name__).info("Innlesing: %d filer, %d dokumenter, %d manifester", len(snapshot.files),
                              len(snapshot.documents), len(snapshot.manifests))
    return snapshot


def upload(ctx: RunContext, workspace: Workspace, rules: Rules, door_name: str, total: int):
    limit = ctx.definition.rate_limit("finance")
    concurrency = rules.web_contexts if door_name == "web" else min(
        rules.api_concurrency, limit.concurrency if limit else rules.api_concurrency)
    door = open_door(door_name, ctx.settings, concurrency=concurrency, evidence_dir=ctx.out_dir / "bevis",
                     requests_per_second=limit.requests_per_second if limit else None)
    try:
        return process_items(ctx, rules, workspace, door, Progress("Opplasting av underbilag"), total)
    finally:
        door.close()


def settle(ctx: RunContext, workspace: Workspace, snapshot: Intake):
    return settle_files(ctx, snapshot, workspace), release_resolved_quarantine(ctx, workspace)


def write_outcomes(ctx: RunContext, outcomes: list[dict[str, Any]]) -> Path:
    """utfall.csv in the run's output folder: one row per document settled in this run."""
    path = ctx.out_dir / OUTCOMES_FILE
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, delimiter=";")
        writer.writerow(OUTCOME_COLUMNS)
        for o in sorted(outcomes, key=lambda o: o["source"]):
            writer.writerow(safe_row([mask_fnrs_in_text(o["source"]), o["outcome"], o.get("category", ""),
                                      o.get("voucher_number") or "", o.get("door") or "", o.get("run_id") or "",
                                      o.get("sha256") or "", o["reference"], mask_fnrs_in_text(o.get("message", ""))]))
    return path


def run_summary(ctx: RunContext, params, step) -> RunSummary:
    """What the kit's declaration runs: the steps in order (`step` runs each directly, or as a
    Prefect task in the flow), then the summary; the kit finishes the run."""
    rules: Rules = ctx.rules
    door = params.via or ctx.definition.source
    if door not in DOORS or door not in ctx.definition.sources:
        raise ValueError(f"door {door!r} is not one of the definition's sources {ctx.definition.sources} "
                         f"(`source` in config/processes/{ctx.process_id}.yaml or --via)")
    inbox = Path(params.inbox or ctx.data_path(ctx.definition.input(DROP_FOLDER_INPUT).path or ""))
    workspace = Workspace.from_rules(ctx.settings, rules)
    log = get_logger(__name__)

    recovered = step("gjenoppretting", recover, ctx)
    applied = step("avgjorelser", apply_decisions, ctx, workspace)
    snapshot = step("innlesing", take_in, ctx, workspace, rules, inbox)
    counts = step("opplasting", upload, ctx, workspace, rules, door, len(snapshot.documents), retry=False)
    settled, released = step("arkivering", settle, ctx, workspace, snapshot)
    log.info("Arkivering: %d filer arkivert, %d i karantene, %d venter", settled.archived_files + released.files,
             settled.quarantined_files, settled.pending_files)

    outcomes = settled.outcomes + released.outcomes
    outcomes_path = write_outcomes(ctx, outcomes)
    n = Counter(o["outcome"] for o in outcomes)
    figures = {
        "door": door, "inbox": str(inbox), "files": len(outcomes),
        "uploaded": n["uploaded"], "already_attached": n["already_attached"],
        **({"would_upload": n[shadow.WOULD_UPLOAD]} if ctx.shadow else {}),
        "quarantined": n["quarantined"], "handled_manually": n["handled_manually"], "dismissed": n["dismissed"],
        "archived_files": settled.archived_files + released.files, "quarantined_files": settled.quarantined_files,
        "pending_files": settled.pending_files, "manifests": len(snapshot.manifests), "skipped": len(snapshot.skipped),
        "items_processed": counts.handled, "system_retries": counts.system_retry,
        "escalated_to_operators": counts.escalated, **applied.summary(), "stopped": counts.stopped, **recovered,
    }
    quarantined = Counter(o["category"] for o in outcomes if o["outcome"] == "quarantined" and o.get("category"))
    return RunSummary(process_id=ctx.process_id, run_id=ctx.run_id, cases_total=len(outcomes),
                      automated=n["uploaded"] + n["already_attached"] + n[shadow.WOULD_UPLOAD],
                      exceptions=dict(sorted(quarantined.items())), stopped_reason=counts.stopped,
                      decisions_applied=applied.applied, outputs={"utfall": str(outcomes_path),
                      "arkiv": str(workspace.archive_root), "karantene": str(workspace.quarantine_root)},
                      figures=figures)
