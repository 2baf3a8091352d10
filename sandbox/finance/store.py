"""The finance system's state: vouchers (read from the seed's vouchers.json) and attachments.

Layout under ``<data_dir>/sandbox/finance/``:
  vouchers.json      {"closedPeriods": ["YYYY-MM", ...], "vouchers": [voucher, ...]} (written by the seed)
  attachments.db     SQLite (WAL): one row per attachment + the Idempotency-Key register
  files/<id[:2]>/<id>  the attachment bytes; files/tmp/ holds uploads in progress
  writes.jsonl       every upload a client asked for and every attachment it created (one JSON
                     line each): the stand-in's own write log, what shadow mode's tests read

An upload is written to files/tmp while it streams in (hashed on the way), moved into place,
and only then recorded in one SQLite transaction: a row always has its file, and concurrent
uploads with the same Idempotency-Key end as one attachment. This record is the ground truth
the tests count duplicates and losses against, so it survives restarts.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import threading
import uuid
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, BinaryIO
from zoneinfo import ZoneInfo

OSLO = ZoneInfo("Europe/Oslo")
STATUSES = ("open", "posted", "locked")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS attachments (
    seq            INTEGER PRIMARY KEY AUTOINCREMENT,
    id             TEXT NOT NULL UNIQUE,
    voucher_number TEXT NOT NULL,
    file_name      TEXT NOT NULL,
    size           INTEGER NOT NULL,
    sha256         TEXT NOT NULL,
    media_type     TEXT NOT NULL,
    document_type  TEXT NOT NULL,
    comment        TEXT NOT NULL,
    uploaded_at    TEXT NOT NULL,
    uploaded_by    TEXT NOT NULL,
    channel        TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS ix_attachments_voucher ON attachments (voucher_number, seq);
CREATE INDEX IF NOT EXISTS ix_attachments_sha256 ON attachments (sha256);
CREATE TABLE IF NOT EXISTS idempotency_keys (
    voucher_number TEXT NOT NULL,
    key            TEXT NOT NULL,
    attachment_id  TEXT NOT NULL,
    created_at     TEXT NOT NULL,
    PRIMARY KEY (voucher_number, key)
);
"""


def finance_dir(data_dir: Path) -> Path:
    return Path(data_dir) / "sandbox" / "finance"


def now_iso() -> str:
    return datetime.now(OSLO).isoformat(timespec="seconds")


@dataclass(frozen=True)
class Voucher:
    voucher_number: str
    supplier_org_no: str
    supplier_name: str
    invoice_number: str
    amount: float
    currency: str
    voucher_date: str
    period: str
    status: str
    period_closed: bool

    @classmethod
    def from_json(cls, data: dict[str, Any], closed_periods: set[str]) -> Voucher:
        return cls(
            voucher_number=str(data["voucherNumber"]),
            supplier_org_no=str(data["supplierOrgNo"]),
            supplier_name=str(data["supplierName"]),
            invoice_number=str(data["invoiceNumber"]),
            amount=float(data["amount"]),
            currency=str(data.get("currency", "NOK")),
            voucher_date=str(data["voucherDate"]),
            period=str(data["period"]),
            status=str(data["status"]),
            period_closed=str(data["period"]) in closed_periods,
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "voucherNumber": self.voucher_number,
            "supplierOrgNo": self.supplier_org_no,
            "supplierName": self.supplier_name,
            "invoiceNumber": self.invoice_number,
            "amount": self.amount,
            "currency": self.currency,
            "voucherDate": self.voucher_date,
            "period": self.period,
            "status": self.status,
            "periodClosed": self.period_closed,
        }

    @property
    def locked_reason(self) -> str | None:
        """Why attachments cannot be added (Norwegian), or None when they can."""
        if self.status == "locked":
            return f"Bilag {self.voucher_number} er låst."
        if self.period_closed:
            return f"Bilag {self.voucher_number} er bokført i en stengt periode ({self.period})."
        return None


@dataclass(frozen=True)
class Attachment:
    id: str
    voucher_number: str
    file_name: str
    size: int
    sha256: str
    media_type: str
    document_type: str
    comment: str
    uploaded_at: str
    uploaded_by: str
    channel: str

    def to_json(self, *, admin: bool = False) -> dict[str, Any]:
        data = {
            "id": self.id,
            "fileName": self.file_name,
            "size": self.size,
            "sha256": self.sha256,
            "mediaType": self.media_type,
            "documentType": self.document_type,
            "comment": self.comment,
            "uploadedAt": self.uploaded_at,
            "uploadedBy": self.uploaded_by,
            "voucherNumber": self.voucher_number,
        }
        if admin:
            data["channel"] = self.channel
        return data


_COLUMNS = ("id, voucher_number, file_name, size, sha256, media_type, document_type, comment, "
            "uploaded_at, uploaded_by, channel")


class VoucherBook:
    """vouchers.json, re-read when the seed rewrites it (a running server follows a re-seed)."""

    def __init__(self, path: Path):
        self.path = path
        self._lock = threading.Lock()
        self._stamp: tuple[int, int] | None = None
        self._by_number: dict[str, Voucher] = {}
        self._by_supplier_invoice: dict[tuple[str, str], list[Voucher]] = {}
        self.closed_periods: set[str] = set()

    def _current(self) -> None:
        try:
            st = self.path.stat()
            stamp = (st.st_mtime_ns, st.st_size)
        except FileNotFoundError:
            stamp = None
        if stamp == self._stamp:
            return
        with self._lock:
            if stamp == self._stamp:
                return
            data = json.loads(self.path.read_text(encoding="utf-8")) if stamp else {"vouchers": []}
            closed = set(data.get("closedPeriods", []))
            vouchers = [Voucher.from_json(v, closed) for v in data["vouchers"]]
            by_key: dict[tuple[str, str], list[Voucher]] = {}
            for v in vouchers:
                by_key.setdefault((v.supplier_org_no, v.invoice_number), []).append(v)
            self._by_number = {v.voucher_number: v for v in vouchers}
            self._by_supplier_invoice = by_key
            self.closed_periods = closed
            self._stamp = stamp

    def get(self, voucher_number: str) -> Voucher | None:
        self._current()
        return self._by_number.get(voucher_number.strip())

    def by_supplier_invoice(self, org_no: str, invoice_number: str) -> list[Voucher]:
        self._current()
        key = ("".join(org_no.split()), invoice_number.strip())
        return list(self._by_supplier_invoice.get(key, []))

    def all(self) -> list[Voucher]:
        self._current()
        return list(self._by_number.values())


class AttachmentStore:
    """Attachment rows in SQLite and their bytes on disk; safe for concurrent use from threads."""

    def __init__(self, root: Path):
        self.root = root
        self.files = root / "files"
        self.tmp = self.files / "tmp"
        self.tmp.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(root / "attachments.db", check_same_thread=False, isolation_level=None,
                                   timeout=30)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")  # durable across a process crash; fsync per checkpoint
        self._db.executescript(_SCHEMA)
        self.write_log = root / "writes.jsonl"

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def log_write(self, action: str, **fields: Any) -> None:
        """One line in the write log (an upload asked for, an attachment created)."""
        line = json.dumps({"at": now_iso(), "action": action, **fields}, ensure_ascii=False)
        with self._lock, self.write_log.open("a", encoding="utf-8") as f:
            f.write(line + "\n")

    # --- reads ---

    def _rows(self, where: str = "", params: tuple = ()) -> list[Attachment]:
        with self._lock:
            rows = self._db.execute(f"SELECT {_COLUMNS} FROM attachments {where} ORDER BY seq", params).fetchall()
        return [Attachment(*row) for row in rows]

    def for_voucher(self, voucher_number: str) -> list[Attachment]:
        return self._rows("WHERE voucher_number = ?", (voucher_number,))

    def by_sha256(self, sha256: str) -> list[Attachment]:
        return self._rows("WHERE sha256 = ?", (sha256.lower(),))

    def uploaded_between(self, first_day: str, last_day: str) -> list[Attachment]:
        """Attachments uploaded from `first_day` to `last_day` (ISO dates, both included, local time)."""
        return self._rows("WHERE substr(uploaded_at, 1, 10) BETWEEN ? AND ?", (first_day, last_day))

    def get(self, attachment_id: str) -> Attachment | None:
        found = self._rows("WHERE id = ?", (attachment_id,))
        return found[0] if found else None

    def all(self) -> list[Attachment]:
        return self._rows()

    def replayed(self, voucher_number: str, key: str) -> Attachment | None:
        with self._lock:
            row = self._db.execute("SELECT attachment_id FROM idempotency_keys WHERE voucher_number = ? AND key = ?",
                                   (voucher_number, key)).fetchone()
        return self.get(row[0]) if row else None

    def content_path(self, attachment_id: str) -> Path:
        return self.files / attachment_id[:2] / attachment_id

    # --- writes ---

    def temp_path(self) -> Path:
        return self.tmp / f"{uuid.uuid4().hex}.part"

    def open_temp(self) -> tuple[Path, BinaryIO]:
        """A new part file for an upload in progress (the caller closes it)."""
        path = self.temp_path()
        try:
            return path, open(path, "wb")  # noqa: SIM115
        except FileNotFoundError:  # a re-seed in another process removed the folder
            self.tmp.mkdir(parents=True, exist_ok=True)
            return path, open(path, "wb")  # noqa: SIM115

    def commit(self, temp: Path, *, voucher_number: str, file_name: str, size: int, sha256: str,
               media_type: str, document_type: str, comment: str, uploaded_by: str, channel: str,
               idempotency_key: str | None = None) -> tuple[Attachment, bool]:
        """Move `temp` into place and record it; (attachment, created). With an Idempotency-Key
        seen before for this voucher the earlier attachment comes back and `temp` is discarded."""
        attachment = Attachment(str(uuid.uuid4()), voucher_number, file_name, size, sha256.lower(), media_type,
                                document_type, comment, now_iso(), uploaded_by, channel)
        final = self.content_path(attachment.id)
        try:
            os.replace(temp, final)
        except FileNotFoundError:  # first file in this folder (or a re-seed removed it meanwhile)
            final.parent.mkdir(parents=True, exist_ok=True)
            os.replace(temp, final)
        with self._lock:
            try:
                self._db.execute("BEGIN IMMEDIATE")
                if idempotency_key is not None:
                    row = self._db.execute(
                        "SELECT attachment_id FROM idempotency_keys WHERE voucher_number = ? AND key = ?",
                        (voucher_number, idempotency_key)).fetchone()
                    if row:
                        self._db.execute("ROLLBACK")
                        final.unlink(missing_ok=True)
                        existing = self._db.execute(f"SELECT {_COLUMNS} FROM attachments WHERE id = ?",
                                                    (row[0],)).fetchone()
                        return Attachment(*existing), False
                    self._db.execute("INSERT INTO idempotency_keys VALUES (?, ?, ?, ?)",
                                     (voucher_number, idempotency_key, attachment.id, attachment.uploaded_at))
                self._db.execute(f"INSERT INTO attachments ({_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                                 (attachment.id, attachment.voucher_number, attachment.file_name, attachment.size,
                                  attachment.sha256, attachment.media_type, attachment.document_type,
                                  attachment.comment, attachment.uploaded_at, attachment.uploaded_by,
                                  attachment.channel))
                self._db.execute("COMMIT")
            except BaseException:
                if self._db.in_transaction:
                    self._db.execute("ROLLBACK")
                final.unlink(missing_ok=True)
                raise
        return attachment, True

    def add_bytes(self, voucher_number: str, file_name: str, content: bytes, *, media_type: str,
                  document_type: str, comment: str = "", uploaded_by: str = "seed", channel: str = "seed",
                  uploaded_at: str | None = None) -> Attachment:
        """Record an attachment from bytes in memory (the seed's pre-existing attachments)."""
        import hashlib

        temp = self.temp_path()
        temp.write_bytes(content)
        attachment, _ = self.commit(temp, voucher_number=voucher_number, file_name=file_name, size=len(content),
                                    sha256=hashlib.sha256(content).hexdigest(), media_type=media_type,
                                    document_type=document_type, comment=comment, uploaded_by=uploaded_by,
                                    channel=channel)
        if uploaded_at:
            with self._lock:
                self._db.execute("UPDATE attachments SET uploaded_at = ? WHERE id = ?", (uploaded_at, attachment.id))
            attachment = self.get(attachment.id) or attachment
        return attachment

    def reset(self) -> None:
        """Forget every attachment (the seed starts from a clean system)."""
        with self._lock:
            self._db.execute("DELETE FROM attachments")
            self._db.execute("DELETE FROM idempotency_keys")
            self._db.execute("DELETE FROM sqlite_sequence WHERE name = 'attachments'")
            self.write_log.unlink(missing_ok=True)
        for child in self.files.iterdir():
            if child.is_dir():
                shutil.rmtree(child)
            else:
                child.unlink()
        self.tmp.mkdir(parents=True, exist_ok=True)


class FinanceStore:
    """Vouchers + attachments: what both doors (API and web UI) read and write."""

    def __init__(self, data_dir: Path):
        self.root = finance_dir(data_dir)
        self.root.mkdir(parents=True, exist_ok=True)
        self.vouchers = VoucherBook(self.root / "vouchers.json")
        self.attachments = AttachmentStore(self.root)

    def search(self, voucher_number: str | None = None, org_no: str | None = None,
               invoice_number: str | None = None) -> list[Voucher]:
        if voucher_number:
            found = self.vouchers.get(voucher_number)
            candidates = [found] if found else []
            if org_no:
                candidates = [v for v in candidates if v.supplier_org_no == "".join(org_no.split())]
            if invoice_number:
                candidates = [v for v in candidates if v.invoice_number == invoice_number.strip()]
            return candidates
        if org_no and invoice_number:
            return self.vouchers.by_supplier_invoice(org_no, invoice_number)
        return []

    def close(self) -> None:
        self.attachments.close()
