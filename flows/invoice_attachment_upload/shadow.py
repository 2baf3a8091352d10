"""Invoice attachment upload's outcomes for shadow mode (docs/shadow.md): per document, the upload
the run would make (the document, by SHA-256 of its content, on the voucher it would attach it to)
and the documents it would hand to a person (quarantine, with the category). The boundary that
decides whether a write happens or is recorded is the kit's (flows.kit.shadow); the people's
outcome is the finance system's own attachment list, read through its API (`read_human_outcome`:
the attachments people uploaded since the pilot began), or an export of it (input
`finance-attachments`, `rpa shadow report --file`), compared by the same key and value.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from connectors.finance import Attachment, Voucher
from flows.invoice_attachment_upload.model import Document
from flows.kit.shadow import MANUAL, Outcome

FINANCE = "finance"      # the compared system: the finance system's attachment lists
FOLDERS = "dropfolder"   # archive and quarantine moves of the drop folder's files
WOULD_UPLOAD = "would_upload"  # an item's outcome in shadow: the upload was not made
HUMAN_SOURCE = "økonomisystemets API"  # the people's outcome read from the system: each read replaces the last


def upload(doc: Document, voucher: Voucher) -> Outcome:
    """The document on the voucher: key = SHA-256 of the content, value = the voucher number."""
    return Outcome(system=FINANCE, action="upload", key=doc.sha256 or doc.reference or "", value=voucher.voucher_number,
                   day=voucher.voucher_date or None,
                   details={"file_name": doc.file_name, "source": doc.source, "reference": doc.reference or ""})


def would_upload(doc: Document, voucher: Voucher) -> Attachment:
    """What the item records in place of the attachment the upload would have made (no id)."""
    return Attachment(id="", file_name=doc.file_name, size=doc.size or 0, sha256=doc.sha256 or "",
                      voucher_number=voucher.voucher_number)


def handed_over(outcomes: Iterable[dict[str, Any]]) -> Iterator[Outcome]:
    """The documents of a file going to quarantine that the robot leaves to a person."""
    for o in outcomes:
        if o.get("outcome") == "quarantined" and o.get("sha256"):
            yield Outcome(system=FINANCE, action=MANUAL, key=o["sha256"], category=o.get("category") or "",
                          details={"file_name": o.get("file_name") or "", "source": o.get("source") or ""})


def move(kind: str, name: str, sha256: str) -> Outcome:
    """An archive or quarantine move of a drop-folder file (not compared: the people keep no record)."""
    return Outcome(system=FOLDERS, action=kind, key=sha256, details={"file": name})


def read_human_outcome(definition: Any, settings: Any, period: str | None,
                       since: str | None) -> tuple[str, list[Outcome]]:
    """The people's outcome from the finance system's own attachment list, through its API: every
    attachment uploaded from `since` (the pilot's first day, ISO; default today) to today by
    someone other than the robot's own client, as the document (SHA-256) on its voucher, on the
    voucher's date.
    `period` (2026-06, 2026) keeps the vouchers dated in it. -> (source, outcomes)."""
    from datetime import datetime

    from connectors.finance import FinanceClient
    from connectors.norwegian import OSLO

    today = datetime.now(OSLO).date().isoformat()  # the finance system's own days
    since = since or today
    outcomes: list[Outcome] = []
    with FinanceClient(settings.finance) as client:
        robot = client.tokens.client_id
        dates: dict[str, str] = {}
        for a in client.attachments_uploaded(since, today):
            if a.uploaded_by == robot or not a.sha256:
                continue
            if a.voucher_number not in dates:
                dates[a.voucher_number] = client.get_voucher(a.voucher_number).voucher_date
            day = dates[a.voucher_number] or None
            if period and not (day or "").startswith(period):
                continue
            outcomes.append(Outcome(system=FINANCE, action="done", key=a.sha256, value=a.voucher_number, day=day,
                                    details={"file_name": a.file_name, "uploaded_by": a.uploaded_by,
                                             "uploaded_at": a.uploaded_at}))
    return HUMAN_SOURCE, outcomes


def requeue_would_do(ctx: Any) -> int:
    """A live run after a pilot on the same store: the items a shadow run finished as `would_upload`
    were never uploaded, so they go back to the queue (their files are still in the drop folder).
    Found through the pilot's recorded uploads; nothing to do in shadow or without a pilot."""
    if ctx.shadow:
        return 0
    from datetime import UTC, datetime

    from sqlalchemy import update

    from flows.kit import items_by_reference
    from workqueue.models import ItemStatus, WorkItem
    from workqueue.shadow import SHADOW, outcome_rows

    refs = {r.details.get("reference") for r in outcome_rows(ctx.store, ctx.process_id, SHADOW, system=FINANCE)
            if r.action == "upload" and r.details.get("reference")}
    requeued = [item.id for item in items_by_reference(ctx, refs).values()
                if item.status == ItemStatus.done and (item.result or {}).get("outcome") == WOULD_UPLOAD]
    for start in range(0, len(requeued), 500):
        with ctx.store.session() as s:
            s.execute(update(WorkItem).where(WorkItem.id.in_(requeued[start:start + 500])).values(
                status=ItemStatus.new, result=None, finished_at=None, attempts=0, updated_at=datetime.now(UTC)))
    if requeued:
        ctx.store.audit("system", "shadow_items_requeued", ctx.process_id,
                        details={"run_id": ctx.run_id, "items": len(requeued)})
    return len(requeued)
