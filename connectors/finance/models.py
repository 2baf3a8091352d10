"""What the finance system knows, as the connector and the web bot both return it.

Both doors (REST API and web UI) produce these same objects, so the flow above them does not
care which door it came through.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class Voucher:
    """A voucher (bilag) or registered supplier invoice."""

    voucher_number: str
    supplier_org_no: str = ""
    supplier_name: str = ""
    invoice_number: str = ""
    amount: float | None = None
    currency: str = "NOK"
    voucher_date: str = ""  # ISO date
    period: str = ""
    status: str = "open"  # open | posted | locked
    period_closed: bool = False  # posted in a closed accounting period: no attachments either

    @property
    def locked(self) -> bool:
        """Attachments cannot be added: the voucher is locked or its period is closed."""
        return self.status == "locked" or self.period_closed

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> Voucher:
        amount = data.get("amount")
        return cls(
            voucher_number=str(data["voucherNumber"]),
            supplier_org_no=str(data.get("supplierOrgNo") or ""),
            supplier_name=str(data.get("supplierName") or ""),
            invoice_number=str(data.get("invoiceNumber") or ""),
            amount=float(amount) if amount is not None else None,
            currency=str(data.get("currency") or "NOK"),
            voucher_date=str(data.get("voucherDate") or ""),
            period=str(data.get("period") or ""),
            status=str(data.get("status") or "open"),
            period_closed=bool(data.get("periodClosed") or False),
        )

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Attachment:
    """An attachment (underbilag) listed on a voucher."""

    id: str
    file_name: str
    size: int
    sha256: str
    media_type: str = ""
    document_type: str = ""
    comment: str = ""
    uploaded_at: str = ""
    uploaded_by: str = ""
    voucher_number: str = ""  # filled when listed across vouchers (search by content)

    @classmethod
    def from_api(cls, data: dict[str, Any], voucher_number: str = "") -> Attachment:
        return cls(
            id=str(data.get("id") or ""),
            file_name=str(data.get("fileName") or ""),
            size=int(data.get("size") or 0),
            sha256=str(data.get("sha256") or "").lower(),
            media_type=str(data.get("mediaType") or ""),
            document_type=str(data.get("documentType") or ""),
            comment=str(data.get("comment") or ""),
            uploaded_at=str(data.get("uploadedAt") or ""),
            uploaded_by=str(data.get("uploadedBy") or ""),
            voucher_number=str(data.get("voucherNumber") or voucher_number or ""),
        )

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Upload:
    """A document to attach: the bytes plus how it is filed."""

    file_name: str
    content: bytes
    media_type: str
    document_type: str
    comment: str = ""

    @property
    def size(self) -> int:
        return len(self.content)
