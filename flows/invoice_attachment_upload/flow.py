"""Invoice attachment upload as a Prefect flow: a thin wrapper around run.py's steps.

Four tasks per run, not one per document (a task costs ~10 ms; per-item state lives in the
work-item store): recover + decisions, intake, upload (all items, through the chosen door),
settle (archive/quarantine + files released from quarantine).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from prefect import flow, task
from prefect.cache_policies import NO_CACHE

from flows.invoice_attachment_upload.decisions import (
    DecisionStats,
    apply_decisions,
    release_resolved_quarantine,
)
from flows.invoice_attachment_upload.doors import open_door
from flows.invoice_attachment_upload.intake import intake
from flows.invoice_attachment_upload.model import PROCESS_ID, Intake
from flows.invoice_attachment_upload.process import ProcessStats, process_items
from flows.invoice_attachment_upload.run import (
    Setup,
    _concurrency,
    _rate,
    recover,
    register,
    setup,
    summarize,
    write_outcomes,
)
from flows.invoice_attachment_upload.settle import SettleStats, settle_files
from flows.runtime import Progress, RunContext, finish_run, open_run, publish_artifacts, task_options


@task(name="gjenoppretting-og-avgjorelser", cache_policy=NO_CACHE)
def recover_and_decide(ctx: RunContext, s: Setup) -> tuple[dict[str, int], DecisionStats]:
    return recover(ctx), apply_decisions(ctx, s.workspace)


@task(name="innlesing", cache_policy=NO_CACHE)
def take_in(ctx: RunContext, s: Setup) -> Intake:
    snapshot = intake(s.inbox, ctx.definition, s.rules, s.workspace)
    register(ctx, s, snapshot)
    return snapshot


@task(name="opplasting", cache_policy=NO_CACHE)
def upload_all(ctx: RunContext, s: Setup, total: int) -> ProcessStats:
    door = open_door(s.door, ctx.settings, concurrency=_concurrency(ctx, s), requests_per_second=_rate(ctx),
                     evidence_dir=ctx.out_dir / "bevis")
    try:
        return process_items(ctx, s.rules, s.workspace, door, progress=Progress("Opplasting av underbilag"),
                             total_hint=total)
    finally:
        door.close()


@task(name="arkivering", cache_policy=NO_CACHE)
def settle_all(ctx: RunContext, s: Setup, snapshot: Intake) -> tuple[SettleStats, DecisionStats]:
    return settle_files(ctx, snapshot, s.workspace), release_resolved_quarantine(ctx, s.workspace)


@flow(name="invoice-attachment-upload",
      description="Opplasting av underbilag: hvert dokument til riktig bilag nøyaktig én gang; arkiv med "
                  "kvittering eller karantene med begrunnelse.")
def invoice_attachment_upload(inbox: str | None = None, via: str | None = None) -> dict[str, Any]:
    """`inbox`: drop folder (default: the definition's input `drop-folder`); `via`: api | web
    (default: the definition's `source`)."""
    ctx = open_run(PROCESS_ID)
    try:
        s = setup(ctx, Path(inbox) if inbox else None, via)
        opts = task_options(ctx)
        recovered, dstats = recover_and_decide.with_options(**opts)(ctx, s)
        snapshot = take_in.with_options(**opts)(ctx, s)
        pstats = upload_all(ctx, s, len(snapshot.documents))
        sstats, rstats = settle_all.with_options(**opts)(ctx, s, snapshot)
    except Exception:
        ctx.store.finish_run(ctx.run_id, "failed", 0, 0, {})
        raise
    path = write_outcomes(ctx, sstats.outcomes + rstats.outcomes)
    summary = summarize(ctx, s, snapshot, pstats, sstats, dstats, rstats, recovered, path)
    rows = [{"fil": o["source"], "utfall": o["outcome"], "kategori": o.get("category", ""),
             "bilag": o.get("voucher_number") or "", "melding": o.get("message", "")}
            for o in sstats.outcomes + rstats.outcomes if o["outcome"] not in ("uploaded", "already_attached")]
    publish_artifacts(ctx, summary, rows)
    finish_run(ctx, summary, status="stopped" if pstats.stopped else "completed")
    return summary.to_dict()
