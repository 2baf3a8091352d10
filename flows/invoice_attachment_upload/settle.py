"""Settling files: every file in the drop folder ends archived with a receipt or quarantined with
a reason a person can act on, once all its documents' work items are final.

Order per file (each step safe to repeat after a crash):
  1. write the receipt / reason (.json + .txt) beside where the file will go
     (content depends only on the work items, so a rewrite gives the same bytes);
  2. quarantine only: record where the file lies, per document (for decisions and retries);
  3. move the file (os.replace; never delete an input that is not in place elsewhere);
  4. drop the plan the manifest left for it.
A crash before 3 leaves the file in the drop folder: the next run settles it again to the same
place. A crash after 3 leaves nothing to do. The dated folder comes from when the items finished,
not from the clock, so a re-run after midnight still writes to the same folder.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any

from connectors.filecheck import safe_display_name
from connectors.files import atomic_write, file_sha256, move_file, write_json
from connectors.norwegian import OSLO, fmt_bytes, fmt_datetime, to_oslo
from flows.invoice_attachment_upload import shadow
from flows.invoice_attachment_upload.model import Document, Intake, SourceFile
from flows.invoice_attachment_upload.texts import DOOR_NO, OUTCOME_NO, WHAT_TO_DO
from flows.invoice_attachment_upload.workspace import QUARANTINE_INDEX, Workspace
from flows.kit import RunContext, items_by_reference
from workqueue.models import FINAL_ITEM_STATUSES, ItemStatus, WorkItem

RECEIPT = ".kvittering.json"
REASON = ".grunn.json"  # each beside its text for people: .kvittering.txt, .grunn.txt
SUCCESS = ("uploaded", "already_attached", "would_upload")  # would_upload: shadow mode (shadow.py)


@dataclass
class SettleStats:
    archived_files: int = 0
    quarantined_files: int = 0
    pending_files: int = 0
    outcomes: list[dict[str, Any]] = field(default_factory=list)  # one per document settled in this run


def document_outcome(doc: Document, item: WorkItem, arrived: float = 0.0) -> dict[str, Any]:
    """What happened to one document, from its work item (the single source of truth).
    `arrived`: when the file came into the drop folder; a file that arrived after its item was
    done is the same document delivered again (already attached, not uploaded twice)."""
    base = {"source": doc.source, "file_name": doc.file_name, "sha256": doc.sha256, "size": doc.size,
            "reference": item.reference, "target": doc.target.describe()}
    if item.status == ItemStatus.done:
        result = dict(item.result or {})
        outcome = result.get("outcome", "uploaded")
        if (item.payload or {}).get("source") != doc.source:
            outcome = "already_attached"  # the same bytes to the same voucher came in another file
        elif arrived and item.finished_at is not None and arrived > to_oslo(item.finished_at).timestamp():
            outcome = "already_attached"  # delivered again after it was settled
        base.update({k: result.get(k) for k in ("voucher_number", "supplier_name", "invoice_number",
                                                "attachment_id", "attachment_file_name", "run_id", "door",
                                                "at", "document_type",
                                                "comment", "attachment_uploaded_at")})
        base.update({"outcome": outcome, "category": ""})
        return base
    code = (item.last_error or "").split(":", 1)[0].strip()  # a business exception's last_error: "CODE: message"
    category = code if item.status != ItemStatus.failed and code else "SYSTEM_ERROR"
    message = (item.last_error or "").split(":", 1)[-1].strip()
    if item.status == ItemStatus.failed:
        message = f"Teknisk feil etter {item.attempts} forsøk: {item.last_error or ''}"
    base.update({"outcome": "quarantined", "category": category, "message": message,
                 "what_to_do": WHAT_TO_DO.get(category, "")})
    return base


def day_folder(stamps: list[datetime | None]) -> str:
    """The dated folder (Oslo day) of the latest of the times; today when there is none."""
    return max([to_oslo(s) for s in stamps if s is not None] or [datetime.now(OSLO)]).strftime("%Y-%m-%d")


def _heading(title: str, source: SourceFile, stored: Path) -> list[str]:
    return [title, "", f"Fil:        {safe_display_name(source.name)}", f"Lagret som: {stored.name}",
            f"Størrelse:  {fmt_bytes(source.size)}", f"SHA-256:    {source.sha256}", ""]


def _receipt_text(source: SourceFile, stored: Path, outcomes: list[dict[str, Any]]) -> str:
    lines = _heading("KVITTERING - underbilag arkivert", source, stored)
    if not outcomes:
        lines.append("Filen inneholdt ingen vedlegg å laste opp.")
    for o in outcomes:
        lines += [f"Dokument:   {safe_display_name(o['source'])}",
                  f"  Resultat:   {OUTCOME_NO.get(o['outcome'], o['outcome'])}"]
        if o.get("voucher_number"):
            extra = ", ".join(x for x in (o.get("supplier_name"), o.get("invoice_number") and
                                          f"faktura {o['invoice_number']}") if x)
            lines.append(f"  Bilag:      {o['voucher_number']}" + (f" ({extra})" if extra else ""))
        if o.get("attachment_id"):
            lines.append(f"  Vedlegg-ID: {o['attachment_id']}")
        if o.get("attachment_file_name"):  # the name the finance system holds, whichever file sent it
            lines.append(f"  Navn der:   {safe_display_name(o['attachment_file_name'])}")
        if o["outcome"] == "uploaded":
            lines.append(f"  Lastet opp: {fmt_datetime(o.get('at'))}")
        elif o.get("attachment_uploaded_at"):
            lines.append(f"  Lå der fra: {fmt_datetime(o.get('attachment_uploaded_at'))}")
        if o.get("run_id"):
            lines.append(f"  Kjøring:    {o['run_id']}")
        if o.get("door"):
            lines.append(f"  Vei:        {DOOR_NO.get(o['door'], o['door'])}")
        if o.get("decided_by"):
            lines.append(f"  Avgjort av: {o['decided_by']}: {o.get('decision_comment', '')}")
        lines.append("")
    return "\n".join(lines) + "\n"


def _reason_text(source: SourceFile, stored: Path, outcomes: list[dict[str, Any]], queue_url: str) -> str:
    lines = _heading("FILEN ER SATT I KARANTENE - den er ikke lastet opp og må følges opp", source, stored)
    for o in outcomes:
        lines.append(f"Dokument:   {safe_display_name(o['source'])}")
        if o["outcome"] in SUCCESS:
            lines += [f"  Resultat:   {OUTCOME_NO[o['outcome']]} på bilag {o.get('voucher_number')} "
                      "(ingenting mer å gjøre for dette dokumentet)", ""]
            continue
        lines += [f"  Årsak:      {o.get('message', '')} ({o.get('category')})",
                  f"  Mål:        {o.get('target', '')}",
                  f"  Hva du gjør: {o.get('what_to_do', '')}", ""]
    lines += [f"Saken ligger i avvikskøen: {queue_url} (søk på filnavnet).",
              "Når saken er avgjort, flytter roboten filen til arkivet ved neste kjøring."]
    return "\n".join(lines) + "\n"


def _document_json(source: SourceFile, outcomes: list[dict[str, Any]], kind: str, process_id: str) -> dict[str, Any]:
    return {"kind": kind, "process_id": process_id, "source_file": source.name, "sha256": source.sha256,
            "size": source.size, "file_kind": source.kind, "references": [o["reference"] for o in outcomes],
            "documents": outcomes}


def archive_file(ctx: RunContext, workspace: Workspace, source: SourceFile, outcomes: list[dict[str, Any]],
                 day: str, src: Path | None = None) -> Path | None:
    note = _document_json(source, outcomes, "kvittering", ctx.process_id)
    return _place(workspace, source, src or Path(source.path), workspace.archive_root, day, RECEIPT, note,
                  lambda dest: _receipt_text(source, dest, outcomes))


def quarantine_file(ctx: RunContext, workspace: Workspace, source: SourceFile, outcomes: list[dict[str, Any]],
                    day: str) -> Path | None:
    note = _document_json(source, outcomes, "karantene", ctx.process_id)
    queue_url = f"{ctx.settings.review.public_url}/saker?prosess={ctx.process_id}"

    def index(dest: Path) -> None:  # where each refused document lies, for decisions and retries
        for o in outcomes:
            if o["outcome"] not in SUCCESS:
                workspace.write_note(QUARANTINE_INDEX, o["reference"], {"grunn": f"{dest}{REASON}", "file": str(dest)})

    return _place(workspace, source, Path(source.path), workspace.quarantine_root, day, REASON, note,
                  lambda dest: _reason_text(source, dest, outcomes, queue_url), before_move=index)


def _place(workspace: Workspace, source: SourceFile, src: Path, root: Path, day: str, marker: str,
           note: dict[str, Any], text: Callable[[Path], str],
           before_move: Callable[[Path], None] | None = None) -> Path | None:
    """The note (.json) and its text (.txt) beside where the file goes, then the file itself.
    None when the file is gone (another worker settled it) or replaced by a new file of that name."""
    if file_sha256(src) != source.sha256:
        return None
    dest, there = workspace.destination(root, day, source.name, source.sha256, marker, note)
    write_json(Path(f"{dest}{marker}"), {**note, "stored_as": dest.name})
    atomic_write(Path(f"{dest}{marker.removesuffix('.json')}.txt"), text(dest).encode("utf-8"))
    if before_move:
        before_move(dest)
    if not there:
        return dest if move_file(src, dest) else None
    # The same file with the same note is in place already (a copy across file systems that was
    # interrupted before the source was removed): remove the source, unless another worker did.
    try:
        src.unlink()
        return dest
    except FileNotFoundError:
        return None


# Files settled at once: each file's steps are a handful of small file-system writes and renames
# whose latency (not CPU) is the cost on a busy disk, so they overlap well in threads.
SETTLE_THREADS = 8


def _settle_one(ctx: RunContext, workspace: Workspace, source: SourceFile,
                known: dict[str, WorkItem]) -> tuple[str, list[dict[str, Any]]]:
    """One file: ('archived' | 'quarantined' | 'gone' | 'pending', its documents' outcomes)."""
    items: list[WorkItem] = []
    for doc in source.documents:
        item = known.get(doc.reference)
        if item is None or item.status not in FINAL_ITEM_STATUSES:
            return "pending", []
        items.append(item)
    outcomes = [document_outcome(d, i, source.arrived) for d, i in zip(source.documents, items, strict=True)]
    day = day_folder([i.finished_at for i in items])
    if all(o["outcome"] in SUCCESS for o in outcomes):
        kind = "archived"
        moved = ctx.effects.call("dropfolder", "archive", source.sha256,  # shadow mode: not moved
                                 partial(archive_file, ctx, workspace, source, outcomes, day), "Arkivering",
                                 outcome=shadow.move("archive", source.name, source.sha256))
    else:
        kind = "quarantined"
        ctx.effects.would_hand_over(shadow.handed_over(outcomes))
        moved = ctx.effects.call("dropfolder", "quarantine", source.sha256,
                                 partial(quarantine_file, ctx, workspace, source, outcomes, day), "Karantene",
                                 outcome=shadow.move("quarantine", source.name, source.sha256))
    if moved is None and not ctx.shadow:
        return "gone", []
    workspace.clear_plan(source.sha256, source.name)
    # shadow: left in the drop folder, reported all the same (but not counted as moved)
    return (kind if moved is not None else "shadow"), outcomes


def settle_files(ctx: RunContext, intake: Intake, workspace: Workspace) -> SettleStats:
    """Settle every file whose documents are all final. Files are settled in parallel threads,
    except files with the same display name (they may compete for the same name in the archive
    or quarantine folder): those are settled one after the other, in intake order, in one
    thread. Each file keeps its own crash-safe order of steps (see the module's docstring)."""
    stats = SettleStats()
    sources = list(intake.files) + [m for m in intake.manifests if m.documents]
    known = items_by_reference(ctx, [d.reference for f in sources for d in f.documents] +
                               [d.reference for d in intake.missing_rows])
    groups: dict[str, list[SourceFile]] = {}
    for source in sources:
        groups.setdefault(safe_display_name(source.name).casefold(), []).append(source)
    results: dict[int, tuple[str, list[dict[str, Any]]]] = {}
    threads = 1 if ctx.shadow else SETTLE_THREADS  # shadow records would-do rows; nothing to overlap
    with ThreadPoolExecutor(max_workers=min(threads, max(len(groups), 1)),
                            thread_name_prefix="invoice-settle") as pool:
        futures = [(group, pool.submit(lambda g: [_settle_one(ctx, workspace, f, known) for f in g], group))
                   for group in groups.values()]
        for group, future in futures:
            results.update({id(source): result for source, result in zip(group, future.result(), strict=True)})
    for source in sources:  # outcomes in intake order, as before
        kind, outcomes = results[id(source)]
        stats.archived_files += kind == "archived"
        stats.quarantined_files += kind == "quarantined"
        stats.pending_files += kind == "pending"
        stats.outcomes += outcomes
    for doc in intake.missing_rows:
        item = known.get(doc.reference)
        if item is not None and item.status in FINAL_ITEM_STATUSES:
            stats.outcomes.append(document_outcome(doc, item))
    return stats


def archive_manifest(ctx: RunContext, workspace: Workspace, manifest: SourceFile, documents: list[Document]) -> None:
    """A readable manifest is archived once its rows are work items (and plans are written for
    the files it names), with a receipt listing every row and where it went."""
    day = datetime.now(OSLO).strftime("%Y-%m-%d")
    rows = [{"row": (d.manifest or {}).get("row"), "source": d.source, "target": d.target.describe(),
             "reference": d.reference, "file_found": d.container is not None,
             "problem": (d.problem or {}).get("category", "")} for d in documents]
    rows.sort(key=lambda r: r["row"] or 0)
    note = {"kind": "manifest", "process_id": ctx.process_id, "source_file": manifest.name,
            "sha256": manifest.sha256, "size": manifest.size, "rows": rows}
    found = sum(r["file_found"] for r in rows)
    text = [f"KVITTERING - manifest lest inn av kjøring {ctx.run_id}", "",
            f"Fil: {manifest.name}", f"Rader: {len(rows)}, filer funnet: {found}, mangler: {len(rows) - found}", ""]
    text += [f"Rad {r['row']}: {r['source']} -> {r['target']}" + ("" if r["file_found"] else " (FILEN MANGLER)")
             for r in rows]
    _place(workspace, manifest, Path(manifest.path), workspace.archive_root, day, RECEIPT, note,
           lambda _dest: "\n".join(text) + "\n")
