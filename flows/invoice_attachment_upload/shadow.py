"""Invoice attachment upload's outcomes for shadow mode (docs/shadow.md): per document, the upload
the run would make (the document, by SHA-256 of its content, on the voucher it would attach it to)
and the documents it would hand to a person (quarantine, with the category). The boundary that
decides whether a write happens or is recorded is the kit's (flows.kit.shadow); the people's
outcome is the finance system's own attachment list (input `finance-attachments`), compared by
the same key and value.
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
