"""Real file content for the synthetic drop folder: PDF, PNG, JPEG, CSV, XLSX, ODS, EHF, and bad files.

Every generator is deterministic (same arguments, same bytes), because the ground truth records
SHA-256 sums and the duplicate/already-attached cases depend on identical bytes. Office files get
fixed zip timestamps and document properties for the same reason.
"""

from __future__ import annotations

import base64
import io
import random
import zipfile
from datetime import datetime
from xml.sax.saxutils import escape as xml_escape

from sandbox.pdf import pdf  # noqa: F401 - re-exported: seeds and tests build documents here

FIXED_ZIP_TIME = (2026, 1, 2, 8, 0, 0)


# --- PDF -----------------------------------------------------------------------------------------

def pdf_of_size(lines: list[str], size: int, seed: int = 0) -> bytes:
    """A valid PDF of exactly `size` bytes (when `size` is larger than the bare page, ~1 KB)."""
    padding = max(1, size - len(pdf(lines, blob=b"\0")))
    for _ in range(3):  # the /Length and offset digits grow with the padding: settle in a step or two
        overshoot = len(pdf(lines, blob=bytes(padding))) - size
        if overshoot == 0:
            break
        padding = max(1, padding - overshoot)
    return pdf(lines, padding=padding, seed=seed)


def encrypted_pdf(lines: list[str], password: str = "hemmelig") -> bytes:
    """A password-protected PDF (RC4-128, made by pypdf): unreadable for the robot and the auditors.

    RC4 has no random salt, and the file identifier is fixed here, so the bytes are reproducible."""
    import hashlib

    from pypdf import PdfReader, PdfWriter
    from pypdf.generic import ArrayObject, ByteStringObject

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(pdf(lines))))
    file_id = ByteStringObject(hashlib.md5("\n".join(lines).encode()).digest())

    def fixed_identifiers() -> None:
        writer._ID = ArrayObject((file_id, file_id))

    writer.generate_file_identifiers = fixed_identifiers  # type: ignore[method-assign]
    writer.encrypt(user_password=password, owner_password=password, algorithm="RC4-128")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def truncated_pdf(lines: list[str]) -> bytes:
    """A PDF cut off in the middle of its page content (an interrupted scan upload)."""
    whole = pdf(lines)
    return whole[: whole.index(b"4 0 obj")]


def garbage_pdf(seed: int, size: int = 6000) -> bytes:
    """Starts like a PDF, then nothing but noise: no objects, no cross-reference table."""
    return b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n" + random.Random(seed).randbytes(size)


# --- images ----------------------------------------------------------------------------------------

def _receipt_image(lines: list[str], size: tuple[int, int], seed: int):
    from PIL import Image, ImageDraw

    rng = random.Random(seed)
    image = Image.new("RGB", size, (250, 248, 240))
    draw = ImageDraw.Draw(image)
    for _ in range(40):  # a little paper texture so the images differ
        x, y = rng.randrange(size[0]), rng.randrange(size[1])
        shade = rng.randrange(200, 240)
        draw.point((x, y), fill=(shade, shade, shade))
    for i, line in enumerate(lines):
        draw.text((12, 10 + 16 * i), line, fill=(20, 20, 20))
    return image


def png(lines: list[str], seed: int = 0, size: tuple[int, int] = (320, 200)) -> bytes:
    out = io.BytesIO()
    _receipt_image(lines, size, seed).save(out, format="PNG", optimize=False)
    return out.getvalue()


def jpeg(lines: list[str], seed: int = 0, size: tuple[int, int] = (360, 240)) -> bytes:
    out = io.BytesIO()
    _receipt_image(lines, size, seed).save(out, format="JPEG", quality=85)
    return out.getvalue()


# --- text and spreadsheets -------------------------------------------------------------------------

def csv_text(rows: list[list[str]]) -> bytes:
    """Semicolon-separated UTF-8, the way Norwegian Excel exports it."""
    return ("\r\n".join(";".join(cell for cell in row) for row in rows) + "\r\n").encode("utf-8")


def _normalise_zip(data: bytes) -> bytes:
    """Rewrite a zip with fixed timestamps (and fixed docProps dates) so the bytes are reproducible."""
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            body = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                import re

                body = re.sub(rb"(<dcterms:(created|modified)[^>]*>)[^<]*(</dcterms:\2>)",
                              rb"\g<1>2026-01-02T08:00:00Z\g<3>", body)
            fixed = zipfile.ZipInfo(info.filename, FIXED_ZIP_TIME)
            fixed.compress_type = info.compress_type
            fixed.external_attr = info.external_attr
            dst.writestr(fixed, body)
    return out.getvalue()


def xlsx(title: str, header: list[str], rows: list[list[object]]) -> bytes:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = title[:31]
    ws.append(header)
    for row in rows:
        ws.append(row)
    wb.properties.creator = "Økonomiseksjonen"
    wb.properties.created = datetime(2026, 1, 2, 8, 0, 0)
    out = io.BytesIO()
    wb.save(out)
    return _normalise_zip(out.getvalue())


def ods(rows: list[list[str]]) -> bytes:
    """A minimal OpenDocument spreadsheet (LibreOffice opens it): mimetype stored first, as required."""
    cells = "".join(
        "<table:table-row>" + "".join(
            f'<table:table-cell office:value-type="string"><text:p>{xml_escape(c)}</text:p></table:table-cell>'
            for c in row) + "</table:table-row>"
        for row in rows)
    content = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
        'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
        'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2">'
        f'<office:body><office:spreadsheet><table:table table:name="Ark1">{cells}</table:table>'
        '</office:spreadsheet></office:body></office:document-content>'
    )
    manifest = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" '
        'manifest:version="1.2">'
        '<manifest:file-entry manifest:full-path="/" manifest:version="1.2" '
        'manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/>'
        '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
        '</manifest:manifest>'
    )
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr(zipfile.ZipInfo("mimetype", FIXED_ZIP_TIME), "application/vnd.oasis.opendocument.spreadsheet",
                   compress_type=zipfile.ZIP_STORED)
        for name, body in (("content.xml", content), ("META-INF/manifest.xml", manifest)):
            z.writestr(zipfile.ZipInfo(name, FIXED_ZIP_TIME), body, compress_type=zipfile.ZIP_DEFLATED)
    return out.getvalue()


def zip_archive(members: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        for name, body in members.items():
            z.writestr(zipfile.ZipInfo(name, FIXED_ZIP_TIME), body, compress_type=zipfile.ZIP_DEFLATED)
    return out.getvalue()


def windows_exe(seed: int = 0) -> bytes:
    """Looks like a Windows program to anything that sniffs: MZ header, DOS stub, PE signature."""
    header = bytearray(b"MZ" + b"\x90\x00" + b"\x00" * 56)
    header[0x3C:0x40] = (0x80).to_bytes(4, "little")  # e_lfanew
    stub = b"This program cannot be run in DOS mode.\r\r\n$".ljust(0x80 - len(header), b"\x00")
    return bytes(header) + stub + b"PE\x00\x00" + random.Random(seed).randbytes(4000)


# --- EHF (PEPPOL BIS Billing 3.0, UBL 2.1) ---------------------------------------------------------

def ehf_invoice(*, invoice_number: str, issue_date: str, supplier_orgnr: str, supplier_name: str,
                buyer_orgnr: str, buyer_name: str, amount: float,
                attachments: list[tuple[str, str, str, bytes]]) -> bytes:
    """An EHF invoice whose `attachments` (filename, mimeCode, description, content) are embedded
    as base64 in cac:AdditionalDocumentReference/cac:Attachment/cbc:EmbeddedDocumentBinaryObject."""
    refs = []
    for n, (filename, mime, description, content) in enumerate(attachments, start=1):
        refs.append(
            "  <cac:AdditionalDocumentReference>\n"
            f"    <cbc:ID>Vedlegg-{n}</cbc:ID>\n"
            f"    <cbc:DocumentDescription>{xml_escape(description)}</cbc:DocumentDescription>\n"
            "    <cac:Attachment>\n"
            f'      <cbc:EmbeddedDocumentBinaryObject mimeCode="{xml_escape(mime)}" '
            f'filename="{xml_escape(filename)}">{base64.b64encode(content).decode()}'
            "</cbc:EmbeddedDocumentBinaryObject>\n"
            "    </cac:Attachment>\n"
            "  </cac:AdditionalDocumentReference>\n")
    net = round(amount / 1.25, 2)
    vat = round(amount - net, 2)
    xml = f"""<?xml version="1.0" encoding="UTF-8"?>
<Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"
         xmlns:cac="urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"
         xmlns:cbc="urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2">
  <cbc:CustomizationID>urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0</cbc:CustomizationID>
  <cbc:ProfileID>urn:fdc:peppol.eu:2017:poacc:billing:01:1.0</cbc:ProfileID>
  <cbc:ID>{xml_escape(invoice_number)}</cbc:ID>
  <cbc:IssueDate>{issue_date}</cbc:IssueDate>
  <cbc:DueDate>{issue_date}</cbc:DueDate>
  <cbc:InvoiceTypeCode>380</cbc:InvoiceTypeCode>
  <cbc:DocumentCurrencyCode>NOK</cbc:DocumentCurrencyCode>
  <cbc:BuyerReference>4410</cbc:BuyerReference>
{"".join(refs)}  <cac:AccountingSupplierParty>
    <cac:Party>
      <cbc:EndpointID schemeID="0192">{supplier_orgnr}</cbc:EndpointID>
      <cac:PartyName><cbc:Name>{xml_escape(supplier_name)}</cbc:Name></cac:PartyName>
      <cac:PostalAddress>
        <cbc:CityName>Oslo</cbc:CityName>
        <cac:Country><cbc:IdentificationCode>NO</cbc:IdentificationCode></cac:Country>
      </cac:PostalAddress>
      <cac:PartyTaxScheme>
        <cbc:CompanyID>NO{supplier_orgnr}MVA</cbc:CompanyID>
        <cac:TaxScheme><cbc:ID>VAT</cbc:ID></cac:TaxScheme>
      </cac:PartyTaxScheme>
      <cac:PartyLegalEntity>
        <cbc:RegistrationName>{xml_escape(supplier_name)}</cbc:RegistrationName>
        <cbc:CompanyID schemeID="0192">{supplier_orgnr}</cbc:CompanyID>
      </cac:PartyLegalEntity>
    </cac:Party>
  </cac:AccountingSupplierParty>
  <cac:AccountingCustomerParty>
    <cac:Party>
      <cbc:EndpointID schemeID="0192">{buyer_orgnr}</cbc:EndpointID>
      <cac:PostalAddress>
        <cbc:CityName>Oslo</cbc:CityName>
        <cac:Country><cbc:IdentificationCode>NO</cbc:IdentificationCode></cac:Country>
      </cac:PostalAddress>
      <cac:PartyLegalEntity>
        <cbc:RegistrationName>{xml_escape(buyer_name)}</cbc:RegistrationName>
        <cbc:CompanyID schemeID="0192">{buyer_orgnr}</cbc:CompanyID>
      </cac:PartyLegalEntity>
    </cac:Party>
  </cac:AccountingCustomerParty>
  <cac:TaxTotal>
    <cbc:TaxAmount currencyID="NOK">{vat:.2f}</cbc:TaxAmount>
    <cac:TaxSubtotal>
      <cbc:TaxableAmount currencyID="NOK">{net:.2f}</cbc:TaxableAmount>
      <cbc:TaxAmount currencyID="NOK">{vat:.2f}</cbc:TaxAmount>
      <cac:TaxCategory>
        <cbc:ID>S</cbc:ID>
        <cbc:Percent>25</cbc:Percent>
        <cac:TaxScheme><cbc:ID>VAT</cbc:ID></cac:TaxScheme>
      </cac:TaxCategory>
    </cac:TaxSubtotal>
  </cac:TaxTotal>
  <cac:LegalMonetaryTotal>
    <cbc:LineExtensionAmount currencyID="NOK">{net:.2f}</cbc:LineExtensionAmount>
    <cbc:TaxExclusiveAmount currencyID="NOK">{net:.2f}</cbc:TaxExclusiveAmount>
    <cbc:TaxInclusiveAmount currencyID="NOK">{amount:.2f}</cbc:TaxInclusiveAmount>
    <cbc:PayableAmount currencyID="NOK">{amount:.2f}</cbc:PayableAmount>
  </cac:LegalMonetaryTotal>
  <cac:InvoiceLine>
    <cbc:ID>1</cbc:ID>
    <cbc:InvoicedQuantity unitCode="EA">1</cbc:InvoicedQuantity>
    <cbc:LineExtensionAmount currencyID="NOK">{net:.2f}</cbc:LineExtensionAmount>
    <cac:Item>
      <cbc:Name>Tjenester etter avtale</cbc:Name>
      <cac:ClassifiedTaxCategory>
        <cbc:ID>S</cbc:ID>
        <cbc:Percent>25</cbc:Percent>
        <cac:TaxScheme><cbc:ID>VAT</cbc:ID></cac:TaxScheme>
      </cac:ClassifiedTaxCategory>
    </cac:Item>
    <cac:Price><cbc:PriceAmount currencyID="NOK">{net:.2f}</cbc:PriceAmount></cac:Price>
  </cac:InvoiceLine>
</Invoice>
"""
    return xml.encode("utf-8")
