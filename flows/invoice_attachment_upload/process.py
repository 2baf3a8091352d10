"""Processing the work items: one document to one voucher, exactly once, through either door.

Per item (door-agnostic):
  1. refused at intake?            -> business exception (the file is the evidence)
  2. find the voucher              -> none: VOUCHER_NOT_FOUND; several: SEVERAL_CANDIDATES
  3. is the document already on it? (by SHA-256)  -> done: already_attached, or uploaded when our
                                     own journal says an earlier attempt sent it (crash recovery)
  4. voucher locked / period closed -> VOUCHER_LOCKED
  5. same document on another voucher -> ATTACHED_ELSEWHERE (unless a reviewer chose this voucher)
  6. journal "about to upload", upload (API: Idempotency-Key = the item reference), read back the
     voucher's attachments (API: with the uploads of other threads that wait at the same time,
     connectors.finance.readback): the document must be there (same SHA-256), else a system
     exception.
Business exceptions never retry; system exceptions (5xx after the client's own retries,
timeouts, an expired session that would not come back, a page that changed) retry with the
definition's backoff and then go to operators.

The kit's item loop (flows.kit.run_items) runs the handler in the door's worker threads, each
holding one door session; it claims, records the outcomes (completions in one transaction per
batch) and stops when the finance system looks down or refuses the login.
"""

from __future__ import annotations

import contextlib
import hashlib
import threading
import traceback
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from connectors.ehf import EhfError, parse_ehf
from connectors.filecheck import media_type_name, safe_display_name
from connectors.finance import (
    Attachment,
    FileTooLarge,
    FileTypeNotAllowed,
    FinanceAuthError,
    FinanceBusinessError,
    FinanceError,
    Upload,
    Voucher,
    VoucherLocked,
    VoucherNotFound,
)
from connectors.norwegian import fmt_amount, fmt_bytes, fmt_date, fmt_kr
from flows.invoice_attachment_upload import shadow
from flows.invoice_attachment_upload.doors import Door, DoorSession
from flows.invoice_attachment_upload.model import Document
from flows.invoice_attachment_upload.rules import Rules
from flows.invoice_attachment_upload.texts import WHAT_TO_DO
from flows.invoice_attachment_upload.workspace import JOURNAL, QUARANTINE_INDEX, Workspace
from flows.kit import BusinessCase, Done, LoopCounts, RunContext, SystemFailure, run_items
from flows.kit.items import Outcome
from workqueue.models import ItemStatus, WorkItem
from workqueue.store import NewCase

MAX_CASE_ATTACHMENT_BYTES = 25 * 1024 * 1024


class ContentMissing(Exception):
    """The document's bytes are no longer where the item says (moved, removed, or changed)."""


# ---------------------------------------------------------------------------- content


def load_content(doc: Document, workspace: Workspace) -> bytes:
    """The document's bytes from the drop folder, or from the quarantine (a reviewer's decision
    or a retry after the file was quarantined), checked against the recorded SHA-256."""
    places: list[str] = []
    for p in (doc.content_path, doc.container_path):
        if p and p not in places:
            places.append(p)
    for ref in (doc.resolves, doc.reference):
        entry = workspace.note(QUARANTINE_INDEX, ref) if ref else None
        if entry and entry.get("file") not in places:
            places.append(entry["file"])
    for place in places:
        try:
            data = Path(place).read_bytes()
        except (FileNotFoundError, IsADirectoryError):
            continue
        if doc.embedded_position is not None:
            try:
                invoice = parse_ehf(data, source=Path(place).name)
            except EhfError:
                continue
            match = [a for a in invoice.attachments if a.position == doc.embedded_position]
            data = match[0].content if match else b""
        if doc.sha256 is None or hashlib.sha256(data).hexdigest() == doc.sha256:
            return data
    raise ContentMissing(f"{doc.source}: filen finnes ikke lenger med samme innhold "
                         f"(lett i: {', '.join(places) or 'ingen steder'})")


# ---------------------------------------------------------------------------- evidence


def _document_section(doc: Document) -> dict[str, Any]:
    rows = [["Filnavn", safe_display_name(doc.file_name or doc.source)],
            ["Kilde", safe_display_name(doc.source)]]
    if doc.size is not None:
        rows.append(["Størrelse", fmt_bytes(doc.size)])
    if doc.media_type:
        rows.append(["Filtype (etter innhold)", media_type_name(doc.media_type)])
    if doc.sha256:
        rows.append(["SHA-256", doc.sha256])
    rows.append(["Dokumenttype", doc.document_type or ""])
    if doc.comment:
        rows.append(["Kommentar", doc.comment])
    if doc.manifest:
        rows.append(["Manifest", f"{doc.manifest.get('name')}, rad {doc.manifest.get('row')}"])
    rows.append(["Mål", doc.target.describe()])
    return {"title": "Dokument", "columns": ["Felt", "Verdi"], "rows": rows}


VOUCHER_STATUS = {"open": "Åpent", "posted": "Bokført", "locked": "Låst"}


def _money(v: Voucher) -> str:
    """«1 234,50 kr», as the review app writes amounts (another currency keeps its code)."""
    return fmt_kr(v.amount) if v.currency in ("", "NOK", None) else f"{fmt_amount(v.amount)} {v.currency}"


def _voucher_rows(v: Voucher) -> list[list[str]]:
    status = VOUCHER_STATUS.get(v.status, v.status)
    if v.period_closed:
        status += f" (periode {v.period} stengt)"
    return [["Bilagsnummer", v.voucher_number], ["Leverandør", v.supplier_name],
            ["Orgnr", v.supplier_org_no], ["Fakturanummer", v.invoice_number],
            ["Beløp", _money(v)], ["Bilagsdato", fmt_date(v.voucher_date)],
            ["Periode", v.period], ["Status", status]]


def build_case(ctx: RunContext, doc: Document, category: str, message: str, *, voucher: Voucher | None = None,
               candidates: list[Voucher] | None = None, elsewhere: list[Attachment] | None = None,
               content: bytes | None = None) -> NewCase:
    sections: list[dict[str, Any]] = [_document_section(doc)]
    data: dict[str, Any] = {"reference": doc.reference, "source": doc.source, "file_name": doc.file_name,
                            "sha256": doc.sha256, "size": doc.size, "media_type": doc.media_type,
                            "target": doc.target.to_dict(), "document_type": doc.document_type,
                            "comment": doc.comment, "origin": doc.origin, "manifest": doc.manifest}
    if voucher is not None:
        sections.append({"title": "Bilag", "columns": ["Felt", "Verdi"], "rows": _voucher_rows(voucher)})
        data["voucher_number"] = voucher.voucher_number
        data["voucher"] = voucher.to_dict()
    if candidates:
        sections.append({"title": "Bilag som passer",
                         "columns": ["Bilagsnummer", "Leverandør", "Fakturanummer", "Beløp", "Bilagsdato", "Status"],
                         "rows": [[v.voucher_number, v.supplier_name, v.invoice_number, _money(v),
                                   fmt_date(v.voucher_date), VOUCHER_STATUS.get(v.status, v.status)]
                                  for v in candidates]})
        data["candidates"] = [v.to_dict() for v in candidates]
    if elsewhere:
        sections.append({"title": "Dokumentet ligger allerede på",
                         "columns": ["Bilagsnummer", "Filnavn", "Lastet opp", "Av"],
                         "rows": [[a.voucher_number, a.file_name, fmt_date(a.uploaded_at), a.uploaded_by]
                                  for a in elsewhere]})
        data["attached_to"] = sorted({a.voucher_number for a in elsewhere})
    sections.append({"title": "Forklaring", "text": f"{message}\n\nHva du gjør: {WHAT_TO_DO.get(category, '')}"})
    attachments = []
    if content and len(content) <= MAX_CASE_ATTACHMENT_BYTES:
        attachments.append((safe_display_name(doc.file_name or doc.source), doc.media_type or
                            "application/octet-stream", content))
    amount = voucher.amount if voucher is not None else None
    words = [doc.file_name, doc.source, doc.target.voucher_number, doc.target.supplier_org_no,
             doc.target.invoice_number, voucher.supplier_name if voucher else "", doc.sha256 or ""]
    return ctx.new_case(category, message, evidence={"sections": sections, "data": data},
                        org_unit=ctx.definition.owner.org_unit, amount=amount,
                        search_text=" ".join(w for w in words if w), attachments=attachments)


# ---------------------------------------------------------------------------- one item


# Refusals decided before the target is looked up (the file or the row itself is the problem).
PRE_TARGET_PROBLEMS = {"UNSAFE_FILE_NAME", "MANIFEST_ROW_WITHOUT_FILE", "FILE_WITHOUT_MANIFEST_ROW",
                       "VOUCHER_NOT_FOUND"}

_CODE_TO_CATEGORY = {VoucherNotFound: "VOUCHER_NOT_FOUND", VoucherLocked: "VOUCHER_LOCKED",
                     FileTooLarge: "FILE_TOO_LARGE", FileTypeNotAllowed: "FILE_TYPE_NOT_ALLOWED"}


class DocumentHandler:
    """The kit's handler: one door session per worker thread, opened on first use and again after
    a system failure (a fresh login / browser context next time)."""

    def __init__(self, ctx: RunContext, rules: Rules, workspace: Workspace, door: Door):
        self.ctx, self.rules, self.workspace, self.door = ctx, rules, workspace, door
        self.local = threading.local()
        self._locks: dict[str, threading.Lock] = {}
        self._locks_guard = threading.Lock()
        self._would_upload: set[tuple[str, str]] = set()  # shadow: (voucher, sha256) "uploaded" this run
        self._uploaded_by: dict[str, str] = {}  # attachment id -> the item that reported it "uploaded" (this run)

    def content_lock(self, item: WorkItem) -> threading.Lock:
        """Two files with the same bytes for the same target are two items: handled one after the
        other, so the second sees the first's attachment (already attached, never uploaded twice)."""
        key = Document.from_payload(item.payload).content_key
        with self._locks_guard:
            return self._locks.setdefault(key, threading.Lock())

    def _done(self, doc: Document, outcome: str, voucher: Voucher, attachment: Attachment,
              journal: dict[str, Any] | None = None) -> Done:
        journal = journal or {}
        if outcome == "uploaded":
            self._uploaded_by.setdefault(attachment.id, doc.reference or "")
        return Done({
            "outcome": outcome, "source": doc.source, "file_name": doc.file_name, "sha256": doc.sha256,
            "size": doc.size, "voucher_number": voucher.voucher_number, "supplier_name": voucher.supplier_name,
            "supplier_org_no": voucher.supplier_org_no, "invoice_number": voucher.invoice_number,
            "attachment_id": attachment.id, "attachment_file_name": attachment.file_name,
            "attachment_uploaded_at": attachment.uploaded_at,
            "attachment_uploaded_by": attachment.uploaded_by, "document_type": doc.document_type,
            "comment": doc.comment,
            "run_id": journal.get("run_id", self.ctx.run_id), "door": journal.get("door", self.door.name),
            "at": journal.get("at") or datetime.now(UTC).isoformat(timespec="seconds"),
        })

    def _a_twin_uploaded(self, doc: Document, attachment_id: str) -> bool:
        """Did another file with the same bytes for the same voucher already report this attachment
        as its own upload? Then a journal of ours means only that our upload was about to start (killed
        before it went through): the document is there through the twin, ours is "already
        attached", never a second "uploaded". In this run (completions are written in batches) or
        an earlier one (twins' references share the prefix `<sha256>:<target>|f`)."""
        if attachment_id in self._uploaded_by:
            return self._uploaded_by[attachment_id] != doc.reference
        from sqlalchemy import select

        with self.ctx.store.session() as s:
            twins = s.scalars(select(WorkItem).where(
                WorkItem.process_id == self.ctx.process_id, WorkItem.status == ItemStatus.done,
                WorkItem.reference.startswith(f"{doc.content_key}|f", autoescape=True),
                WorkItem.reference != doc.reference))
            return any((t.result or {}).get("attachment_id") == attachment_id
                       and (t.result or {}).get("outcome") == "uploaded" for t in twins)

    def _business(self, doc: Document, category: str, message: str, content: bytes | None = None,
                  answered: bool = True, **kwargs: Any) -> BusinessCase:
        if content is None and doc.sha256:
            with contextlib.suppress(ContentMissing):  # the case without the file, then
                content = load_content(doc, self.workspace)
        return BusinessCase(build_case(self.ctx, doc, category, message, content=content, **kwargs), answered)

    def handle(self, item: WorkItem, session: DoorSession) -> Outcome:
        """The checks in the order the process definition's categories are meant: name, source,
        target (found, unique, open), content (size, type, readable), then already attached."""
        doc = Document.from_payload(item.payload)
        doc.reference = item.reference
        problem = doc.problem
        if problem and (problem["category"] in PRE_TARGET_PROBLEMS or not doc.target.known):
            return self._business(doc, problem["category"], problem["message"], answered=False)
        journal = self.workspace.note(JOURNAL, item.reference)
        vouchers = session.find_vouchers(doc.target)
        if not vouchers:
            return self._business(doc, "VOUCHER_NOT_FOUND",
                                  f"Fant ikke {doc.target.describe()} i økonomisystemet.")
        if len(vouchers) > 1:
            numbers = ", ".join(v.voucher_number for v in vouchers)
            return self._business(doc, "SEVERAL_CANDIDATES",
                                  f"{len(vouchers)} bilag passer til {doc.target.describe()}: {numbers}. "
                                  "Velg riktig bilag.", candidates=vouchers)
        voucher = vouchers[0]
        here: list[Attachment] = []
        elsewhere: list[Attachment] = []

        def look() -> None:
            by_sha = session.attachments_by_sha256(doc.sha256 or "")
            if by_sha is None:  # this door cannot search by content: read the voucher's own list
                here[:] = [a for a in session.attachments(voucher.voucher_number) if a.sha256 == doc.sha256]
            else:
                here[:] = [a for a in by_sha if a.voucher_number == voucher.voucher_number]
                elsewhere[:] = [a for a in by_sha if a.voucher_number != voucher.voucher_number]

        if journal:
            # An earlier attempt of ours sent it (or was about to): whatever changed since, if the
            # document is on the voucher, the upload happened and is ours.
            look()
            ours = [a for a in here if not self._a_twin_uploaded(doc, a.id)]
            if ours:
                return self._done(doc, "uploaded", voucher, ours[0], journal)
        if voucher.locked:
            why = (f"Perioden {voucher.period} er stengt" if voucher.period_closed and voucher.status != "locked"
                   else "Bilaget er låst")
            return self._business(doc, "VOUCHER_LOCKED",
                                  f"{why}: vedlegg kan ikke legges til bilag {voucher.voucher_number}.",
                                  voucher=voucher)
        if problem:
            return self._business(doc, problem["category"], problem["message"], voucher=voucher)
        if not journal:
            look()
        if here:  # (with a journal: a twin file's upload; ours was killed before it went through)
            return self._done(doc, "already_attached", voucher, here[0])
        if not journal and (voucher.voucher_number, doc.sha256) in self._would_upload:
            return self._done(doc, "already_attached", voucher, shadow.would_upload(doc, voucher))  # shadow
        if elsewhere and self.rules.check_attached_elsewhere and doc.case_id is None:
            others = ", ".join(sorted({a.voucher_number for a in elsewhere}))
            return self._business(doc, "ATTACHED_ELSEWHERE",
                                  f"Samme dokument (samme innhold) ligger allerede på bilag {others}, ikke på "
                                  f"bilag {voucher.voucher_number}.", voucher=voucher, elsewhere=elsewhere)
        content = load_content(doc, self.workspace)
        journal = {"run_id": self.ctx.run_id, "door": self.door.name,
                   "at": datetime.now(UTC).isoformat(timespec="seconds"), "voucher_number": voucher.voucher_number}
        self.workspace.write_note(JOURNAL, item.reference, journal)
        upload = Upload(file_name=doc.file_name, content=content, media_type=doc.media_type or "application/pdf",
                        document_type=doc.document_type, comment=doc.comment)
        try:
            listed = self.ctx.effects.call(
                "finance", "upload", doc.sha256 or item.reference,
                lambda: session.upload(voucher.voucher_number, upload, idempotency_key=item.reference),
                "Opplasting av underbilag", outcome=shadow.upload(doc, voucher))
        except FinanceBusinessError as exc:
            category = next((c for cls, c in _CODE_TO_CATEGORY.items() if isinstance(exc, cls)), None)
            if category is None:
                raise
            return self._business(doc, category, f"Økonomisystemet avviste filen: {exc.message}", content,
                                  voucher=voucher)
        if listed is None:  # shadow mode: not uploaded, recorded as what it would do (shadow.py)
            self._would_upload.add((voucher.voucher_number, doc.sha256))  # under content_lock (same key)
            return self._done(doc, shadow.WOULD_UPLOAD, voucher, shadow.would_upload(doc, voucher), journal)
        found = [a for a in listed if a.sha256 == doc.sha256]
        if not found:
            return SystemFailure(f"Vedlegget ble ikke funnet i vedleggslisten til bilag "
                                 f"{voucher.voucher_number} etter opplasting (kontroll feilet).")
        return self._done(doc, "uploaded", voucher, found[-1], journal)

    def __call__(self, ctx: RunContext, item: WorkItem) -> Outcome:
        """handle() in this thread's session, with every failure turned into an outcome (never
        raises); after a system failure the session is closed, the next item opens a new one."""
        outcome = self._safe_handle(item)
        if isinstance(outcome, SystemFailure):
            self.close()
        return outcome

    def _safe_handle(self, item: WorkItem) -> Outcome:
        try:
            session = self.local.session = getattr(self.local, "session", None) or self.door.open_session()
        except FinanceAuthError as exc:
            return SystemFailure(f"Innlogging avvist: {exc}", stop=True)
        except Exception as exc:  # noqa: BLE001 - cannot reach the system: retry the item later
            return SystemFailure(f"Kunne ikke åpne økt mot økonomisystemet: {exc}"[:1500])
        try:
            session.begin_item()
            with self.content_lock(item):
                outcome = self.handle(item, session)
            session.end_item()
            return outcome
        except FinanceAuthError as exc:
            return SystemFailure(f"Innlogging avvist: {exc}", stop=True)
        except FinanceBusinessError as exc:
            # A refusal we did not expect (e.g. 400 INVALID_REQUEST): our request is wrong, not the
            # data; operators look at it.
            return self._system(item, session, f"Uventet avvisning fra økonomisystemet: {exc}")
        except (FinanceError, ContentMissing) as exc:
            return self._system(item, session, str(exc))
        except Exception as exc:  # noqa: BLE001 - a bot failure (timeout, changed page) is a system exception
            text = "".join(traceback.format_exception_only(type(exc), exc)).strip()
            return self._system(item, session, f"{type(exc).__name__}: {text}")

    def _system(self, item: WorkItem, session: DoorSession, error: str) -> SystemFailure:
        try:
            files = session.evidence()
        except Exception:  # noqa: BLE001 - evidence is best effort
            files = []
        return SystemFailure(error[:1500], {"sections": [{"title": "Feil", "text": error[:4000]}],
                                            "data": {"reference": item.reference, "door": self.door.name}}, files)

    def close(self) -> None:
        session, self.local.session = getattr(self.local, "session", None), None
        if session is not None:
            with contextlib.suppress(Exception):  # closing a broken browser must not hide the real error
                session.close()


def process_items(ctx: RunContext, rules: Rules, workspace: Workspace, door: Door, progress=None,
                  total_hint: int = 0) -> LoopCounts:
    handler = DocumentHandler(ctx, rules, workspace, door)

    def done(batch: list[tuple[WorkItem, dict]]) -> None:  # stored as done: the journal did its job
        for item, _result in batch:
            workspace.clear_note(JOURNAL, item.reference)

    return run_items(ctx, handler, batch=rules.batch_size, lease_seconds=ctx.definition.retry.lease_seconds,
                     workers=door.concurrency, system_name="økonomisystemet",
                     stop_after=ctx.definition.retry.stop_after_consecutive_system_errors,
                     wait_for_retries=rules.wait_for_retries_seconds, on_thread_exit=handler.close, on_done=done,
                     progress=progress, total_hint=total_hint)
