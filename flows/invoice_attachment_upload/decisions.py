"""Reviewers' decisions, applied by the next run, and files leaving the quarantine.

Actions (the definition's `exception_categories[].actions`):
  choose_voucher  {"voucher_number": "…"}: a new work item sends the document to that voucher
                  (keyed by content + chosen voucher + case, so it is still exactly once; the
                  "attached elsewhere" check is skipped: a person chose this voucher knowingly)
  retry           the case's item goes back to the queue (after a locked period was opened, the
                  voucher was registered, or a system error was fixed)
  handled_manually / dismiss   nothing is sent; the file leaves the quarantine with a receipt
Applying is idempotent: a crash before `mark_decision_applied` re-applies the same decision
(the new item's reference exists already; a retried item is only re-queued when it is final).

A quarantined file moves to the archive once every refused document in it is resolved (its item
or the chosen voucher's item is done, or a person handled or dismissed it).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

from connectors.files import read_json
from flows.invoice_attachment_upload.actions import ACTIONS
from flows.invoice_attachment_upload.model import Document, SourceFile, Target
from flows.invoice_attachment_upload.settle import REASON, SUCCESS, archive_file, day_folder, document_outcome
from flows.invoice_attachment_upload.workspace import QUARANTINE_INDEX, RESOLUTIONS, Workspace
from flows.kit import RunContext
from flows.kit.decisions import AppliedDecisions
from flows.kit.decisions import apply_decisions as apply_checked
from workqueue.models import ItemStatus
from workqueue.store import NewItem

ROBOT = "robot"


@dataclass
class Released:
    """Files that left the quarantine in this run, and their documents' outcomes."""

    files: int = 0
    outcomes: list[dict[str, Any]] = field(default_factory=list)


def apply_decisions(ctx: RunContext, workspace: Workspace) -> AppliedDecisions:
    """Each pending decision, checked again by the kit (declared, allowed, among the candidates,
    case unchanged), then applied once through the handlers below."""

    def apply(case, decision: dict[str, Any]) -> dict[str, Any]:
        item = ctx.store.get_item(case.item_id) if case.item_id else None
        if item is None:
            return {"note": "no work item"}
        action = decision["action"]
        resolution = {"action": action, "case_id": case.id, "decided_by": case.decided_by or "",
                      "comment": decision.get("comment", ""), "at": datetime.now(UTC).isoformat(timespec="seconds")}
        if action == "choose_voucher":
            resolution["new_reference"] = _choose_voucher(ctx, workspace, item, case.id, decision)
        elif action == "retry":
            if item.status in (ItemStatus.business_exception, ItemStatus.failed):
                ctx.store.retry_item_of_case(case.id, ROBOT, decision.get("comment", "") or "retry")
            resolution["new_reference"] = item.reference
        workspace.write_note(RESOLUTIONS, item.reference, resolution)
        return {"new_reference": resolution["new_reference"]} if action == "choose_voucher" else {}

    return apply_checked(ctx.store, ctx.definition, ACTIONS, dict.fromkeys(
        ("choose_voucher", "retry", "handled_manually", "dismiss"), apply), ctx.run_id)


def _choose_voucher(ctx: RunContext, workspace: Workspace, item, case_id: int, decision: dict[str, Any]) -> str:
    """A new item sends the document to the chosen voucher; its reference."""
    number = "".join(str(decision.get("voucher_number") or "").split())  # the kit's check: not empty
    doc = Document.from_payload(item.payload)
    entry = workspace.note(QUARANTINE_INDEX, item.reference)
    # The same document (its intake refusal dropped), keyed anew by content + chosen voucher + case.
    new = replace(doc, target=Target(voucher_number=number), origin="decision", problem=None, reference="",
                  resolves=item.reference, case_id=case_id, content_path=(entry or {}).get("file") or doc.content_path)
    ctx.store.add(ctx.process_id, NewItem(new.reference, new.payload()))
    if entry:  # the new item's own refusal, if any, points at the same quarantined file
        workspace.write_note(QUARANTINE_INDEX, new.reference, {"grunn": entry["grunn"], "file": entry["file"]})
    return new.reference


def _follow(ctx: RunContext, workspace: Workspace, reference: str, hops: int = 5) -> tuple[str, Any, dict | None]:
    """Where a refused document stands now: ('done', item, resolution) | ('closed', None, resolution)
    | ('open', None, resolution)."""
    resolution = None
    for _ in range(hops):
        item = ctx.store.find_item(ctx.process_id, reference)
        if item is not None and item.status == ItemStatus.done:
            return "done", item, resolution
        current = workspace.note(RESOLUTIONS, reference)
        if current is None:
            return "open", None, resolution
        resolution = current
        if current["action"] not in ("choose_voucher", "retry"):
            return "closed", None, resolution
        if current.get("new_reference") in (None, "", reference):  # retry: the same item, not done yet
            return "open", None, resolution
        reference = current["new_reference"]
    return "open", None, resolution


def release_resolved_quarantine(ctx: RunContext, workspace: Workspace) -> Released:
    """Quarantined files whose refused documents are all resolved move to the archive."""
    released = Released()
    by_reason: dict[str, dict[str, Any]] = {}
    for entry in workspace.notes(QUARANTINE_INDEX):
        by_reason.setdefault(entry["grunn"], entry)
    for reason_path, entry in by_reason.items():
        reason = read_json(Path(reason_path))
        stored = Path(entry["file"])
        if reason is None or not stored.exists():
            continue
        outcomes: list[dict[str, Any]] = []
        stamps: list[datetime | None] = []
        resolved = True
        for o in reason["documents"]:
            if o["outcome"] in SUCCESS:
                outcomes.append(o)
                continue
            state, item, resolution = _follow(ctx, workspace, o["reference"])
            if state == "open":
                resolved = False
                break
            if state == "done":
                doc = Document.from_payload(item.payload)
                doc.source = o["source"]  # report under the quarantined document's own name
                doc.reference = item.reference
                new = document_outcome(doc, item)
                new["outcome"] = (item.result or {}).get("outcome", "uploaded")
                stamps.append(item.finished_at)
            else:
                new = {**o, "outcome": "handled_manually" if resolution["action"] == "handled_manually"
                       else "dismissed"}
            if resolution:
                new["decided_by"] = resolution.get("decided_by", "")
                new["decision_comment"] = resolution.get("comment", "")
                new["first_category"] = o.get("category")
                if resolution.get("at"):
                    stamps.append(datetime.fromisoformat(resolution["at"]))
            outcomes.append(new)
        if not resolved:
            continue
        day = day_folder(stamps)
        source = SourceFile(name=reason["source_file"], path=str(stored), sha256=reason["sha256"],
                            size=reason["size"], kind=reason.get("file_kind", "document"))
        dest = ctx.effects.call("dropfolder", "archive", source.sha256, partial(
            archive_file, ctx, workspace, source, outcomes, day, src=stored), "Arkivering fra karantene")
        if dest is None:
            continue
        for suffix in (REASON, REASON.removesuffix(".json") + ".txt"):
            Path(f"{stored}{suffix}").unlink(missing_ok=True)
        for o in reason["documents"]:
            ref = o["reference"]
            for _ in range(5):
                workspace.clear_note(QUARANTINE_INDEX, ref)
                res = workspace.note(RESOLUTIONS, ref)
                workspace.clear_note(RESOLUTIONS, ref)
                if not res or not res.get("new_reference") or res["new_reference"] == ref:
                    break
                ref = res["new_reference"]
        released.files += 1
        released.outcomes += [o for o in outcomes if o["outcome"] not in SUCCESS or o.get("decided_by")]
    return released
