"""The flow's own vocabulary: where a document goes (Target), one document (Document), one
file in the drop folder (SourceFile), and the work-item reference that makes uploads idempotent.
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, field
from typing import Any

from connectors.dropfolder import name_key


@dataclass(frozen=True)
class Target:
    """Where a document goes: a voucher number, or a supplier (orgnr) + invoice number."""

    voucher_number: str = ""
    supplier_org_no: str = ""
    invoice_number: str = ""

    @property
    def known(self) -> bool:
        return bool(self.voucher_number or (self.supplier_org_no and self.invoice_number))

    @property
    def key(self) -> str:
        """Short, stable text for the work-item reference."""
        if self.voucher_number:
            return f"V{self.voucher_number}"
        if self.supplier_org_no and self.invoice_number:
            return f"S{self.supplier_org_no}/{self.invoice_number}"
        return "-"

    def describe(self) -> str:
        """Norwegian, for staff."""
        if self.voucher_number:
            return f"bilag {self.voucher_number}"
        if self.supplier_org_no and self.invoice_number:
            return f"faktura {self.invoice_number} fra orgnr {self.supplier_org_no}"
        return "ukjent bilag"

    def to_dict(self) -> dict[str, str]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> Target:
        data = data or {}
        return cls(str(data.get("voucher_number") or ""), str(data.get("supplier_org_no") or ""),
                   str(data.get("invoice_number") or ""))


def make_reference(sha256: str, target_key: str) -> str:
    """Work-item reference: content hash + target (≤ 128 characters, unique per process)."""
    ref = f"{sha256}:{target_key}"
    if len(ref) > 128:  # a very long invoice number: keep it unique, keep it short
        ref = f"{sha256}:#{hashlib.sha256(target_key.encode()).hexdigest()[:40]}"
    return ref


def _file_key(name: str) -> str:
    """A short, stable identity of a drop-folder file name (compared as a Windows share does)."""
    return "|f" + hashlib.sha256(name_key(name).encode()).hexdigest()[:12]


@dataclass
class Document:
    """One document to attach (a file, or an attachment embedded in an EHF invoice), or a manifest
    row whose file is missing. `source` is how the ground truth and the receipts name it."""

    source: str
    file_name: str  # the name it is uploaded under
    target: Target
    document_type: str
    comment: str = ""
    origin: str = "manifest"  # manifest | convention | ehf | plan | decision | none
    container: str | None = None  # the drop-folder file holding the bytes (None: no file)
    container_path: str | None = None  # absolute path at intake
    embedded_position: int | None = None  # 1-based position inside an EHF invoice
    sha256: str | None = None
    size: int | None = None
    media_type: str | None = None
    problem: dict[str, str] | None = None  # {"category", "message"}: refused before sending
    manifest: dict[str, Any] | None = None  # {"name", "sha256", "row"}
    resolves: str | None = None  # decision items: the reference of the case's original item
    case_id: int | None = None  # decision items: the case whose decision made this item
    content_path: str | None = None  # decision items: where the bytes are now (the quarantine)
    reference: str = ""

    def __post_init__(self) -> None:
        if not self.reference:
            self.reference = self.compute_reference()

    def compute_reference(self) -> str:
        if self.case_id is not None:  # a reviewer's choice: a new attempt, still keyed by content
            return make_reference(self.sha256 or "", f"{self.target.key}@sak{self.case_id}")
        if self.sha256 is None:  # a manifest row without its file: the row is the identity
            m = self.manifest or {}
            return f"row:{str(m.get('sha256', ''))[:32]}:{m.get('row', 0)}:{self.target.key}"[:128]
        if self.problem or not self.target.known:
            # A document refused at intake goes to a person: one item per (file, target), so
            # identical bytes under two names are two items, each with its own reason, decision
            # and receipt. (These depend on the name too: the same bytes delivered again with a
            # good name or a manifest row are a new case, not this one.)
            return make_reference(self.sha256, f"!{self.problem['category'] if self.problem else '-'}"
                                               f"{_file_key(self.source)}")
        # A document to upload: one item per (content, target, drop-folder file), so two files
        # with the same bytes never share an item, a case or a decision; each gets its own
        # receipt. The worker pool handles two such items one after the other (content_key), so
        # the second finds the first's attachment and is "already attached", its receipt naming
        # the attachment there.
        return make_reference(self.sha256, f"{self.target.key}{_file_key(self.container or self.source)}")

    @property
    def content_key(self) -> str:
        """The upload itself: this content to this target, whichever file brought it."""
        return f"{self.sha256 or ''}:{self.target.key}"

    def payload(self) -> dict[str, Any]:
        return asdict(self)  # the target too, as a dict

    @classmethod
    def from_payload(cls, data: dict[str, Any]) -> Document:
        data = dict(data)
        data["target"] = Target.from_dict(data.get("target"))
        known = set(cls.__dataclass_fields__)
        return cls(**{k: v for k, v in data.items() if k in known})


@dataclass
class SourceFile:
    """A file in the drop folder; settled (archived or quarantined) once all its documents are."""

    name: str
    path: str
    sha256: str
    size: int
    kind: str  # document | ehf | manifest
    documents: list[Document] = field(default_factory=list)
    arrived: float = 0.0  # when the file appeared in the folder (max of mtime and ctime, epoch seconds)


@dataclass
class Intake:
    inbox: str
    files: list[SourceFile] = field(default_factory=list)
    manifests: list[SourceFile] = field(default_factory=list)
    missing_rows: list[Document] = field(default_factory=list)  # manifest rows naming absent files
    skipped: list[str] = field(default_factory=list)  # too young / ignored names

    @property
    def documents(self) -> list[Document]:
        docs = [d for f in self.files for d in f.documents]
        docs += [d for m in self.manifests for d in m.documents]
        return docs + self.missing_rows
