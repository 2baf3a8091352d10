"""EHF invoices (PEPPOL BIS Billing 3.0, UBL 2.1 XML): the header fields and embedded attachments.

An EHF invoice may carry supporting documents inside itself:
``cac:AdditionalDocumentReference/cac:Attachment/cbc:EmbeddedDocumentBinaryObject`` with the
attributes ``mimeCode`` and ``filename`` and the content in base64. The invoice number is
``cbc:ID`` and the supplier's organisation number
``cac:AccountingSupplierParty/cac:Party/cac:PartyLegalEntity/cbc:CompanyID`` (falling back to
the party's ``cbc:EndpointID`` with scheme 0192, the Norwegian register).

Parsing goes through defusedxml: an EHF file comes from outside and must not be able to expand
entities or reach the network.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass, field
from xml.etree.ElementTree import Element

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import ParseError, fromstring

NS = {
    "inv": "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2",
    "cn": "urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2",
    "cac": "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2",
    "cbc": "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2",
}
ROOTS = {f"{{{NS['inv']}}}Invoice": "Invoice", f"{{{NS['cn']}}}CreditNote": "CreditNote"}
BIS3_CUSTOMIZATION = "urn:fdc:peppol.eu:2017:poacc:billing:3.0"


class EhfError(ValueError):
    """An EHF file that cannot be used; the message names the file and what is wrong."""


@dataclass(frozen=True)
class EhfAttachment:
    filename: str  # as given in the `filename` attribute (not trusted: validated by the caller)
    mime_code: str
    content: bytes
    document_id: str = ""  # cbc:ID of the AdditionalDocumentReference
    description: str = ""  # cbc:DocumentDescription
    position: int = 1  # 1-based among the embedded attachments


@dataclass
class EhfInvoice:
    kind: str  # Invoice | CreditNote
    invoice_number: str
    supplier_org_no: str
    supplier_name: str = ""
    issue_date: str = ""
    customization_id: str = ""
    attachments: list[EhfAttachment] = field(default_factory=list)
    external_references: list[str] = field(default_factory=list)  # URIs: not embedded, not fetched

    @property
    def is_bis3(self) -> bool:
        return BIS3_CUSTOMIZATION in self.customization_id


def looks_like_ehf(data: bytes) -> bool:
    """Cheap check before parsing: XML whose root element is a UBL Invoice or CreditNote."""
    head = data[:4096].lstrip(b"\xef\xbb\xbf \t\r\n")
    if not head.startswith(b"<"):
        return False
    return bool(re.search(rb"<(?:\w+:)?(?:Invoice|CreditNote)[\s>]", head)) and (
        NS["inv"].encode() in head or NS["cn"].encode() in head)


def _text(element: Element | None) -> str:
    return (element.text or "").strip() if element is not None else ""


def _org_no(value: str) -> str:
    """'NO 974 760 673 MVA', '974760673', '0192:974760673' -> '974760673' (else the value as is)."""
    digits = re.sub(r"\D", "", value.split(":")[-1])
    return digits if len(digits) == 9 else value.strip()


def parse_ehf(data: bytes, source: str = "EHF") -> EhfInvoice:
    """Header fields and embedded attachments; raises EhfError naming `source`."""
    try:
        root = fromstring(data, forbid_dtd=True)
    except (ParseError, DefusedXmlException, ValueError) as exc:
        raise EhfError(f"{source}: not well-formed XML ({exc})") from None
    kind = ROOTS.get(root.tag)
    if kind is None:
        raise EhfError(f"{source}: root element {root.tag!r} is not a UBL Invoice or CreditNote")
    invoice_number = _text(root.find("cbc:ID", NS))
    if not invoice_number:
        raise EhfError(f"{source}: the invoice number (cbc:ID) is missing")
    party = root.find("cac:AccountingSupplierParty/cac:Party", NS)
    if party is None:
        raise EhfError(f"{source}: cac:AccountingSupplierParty/cac:Party is missing")
    org_no = _text(party.find("cac:PartyLegalEntity/cbc:CompanyID", NS))
    if not org_no:
        endpoint = party.find("cbc:EndpointID", NS)
        if endpoint is not None and endpoint.get("schemeID") in ("0192", "NO:ORGNR"):
            org_no = _text(endpoint)
    if not org_no:
        raise EhfError(f"{source}: the supplier's organisation number "
                       "(cac:PartyLegalEntity/cbc:CompanyID) is missing")
    name = (_text(party.find("cac:PartyLegalEntity/cbc:RegistrationName", NS))
            or _text(party.find("cac:PartyName/cbc:Name", NS)))
    invoice = EhfInvoice(kind=kind, invoice_number=invoice_number, supplier_org_no=_org_no(org_no),
                         supplier_name=name, issue_date=_text(root.find("cbc:IssueDate", NS)),
                         customization_id=_text(root.find("cbc:CustomizationID", NS)))
    position = 0
    for ref in root.findall("cac:AdditionalDocumentReference", NS):
        attachment = ref.find("cac:Attachment", NS)
        if attachment is None:
            continue
        uri = _text(attachment.find("cac:ExternalReference/cbc:URI", NS))
        if uri:
            invoice.external_references.append(uri)
        blob = attachment.find("cbc:EmbeddedDocumentBinaryObject", NS)
        if blob is None:
            continue
        position += 1
        filename = blob.get("filename") or ""
        where = f"{source}: embedded attachment {position} ({filename or 'no filename'})"
        if not filename:
            raise EhfError(f"{where}: the filename attribute is missing")
        raw = re.sub(rb"\s+", b"", (blob.text or "").encode("ascii", errors="replace"))
        try:
            content = base64.b64decode(raw, validate=True)
        except (binascii.Error, ValueError):
            raise EhfError(f"{where}: the content is not valid base64") from None
        if not content:
            raise EhfError(f"{where}: the attachment is empty")
        invoice.attachments.append(EhfAttachment(
            filename=filename, mime_code=blob.get("mimeCode") or "", content=content,
            document_id=_text(ref.find("cbc:ID", NS)),
            description=_text(ref.find("cbc:DocumentDescription", NS)), position=position))
    return invoice


__all__ = ["EhfAttachment", "EhfError", "EhfInvoice", "looks_like_ehf", "parse_ehf"]
