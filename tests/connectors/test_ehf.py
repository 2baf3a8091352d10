"""EHF (PEPPOL BIS Billing 3.0) parsing: header fields and embedded attachments, bad files refused."""

from __future__ import annotations

import base64

import pytest

from connectors.ehf import EhfError, looks_like_ehf, parse_ehf
from sandbox.finance import documents as docs

PDF = docs.pdf(["Timeliste oktober", "Bærum Rørleggerservice AS"])
PNG = docs.png(["Levert utstyr"], seed=3)


def _invoice(attachments=None, **overrides) -> bytes:
    args = dict(invoice_number="INV-40711", issue_date="2026-10-01", supplier_orgnr="974760673",
                supplier_name="Bærum Rørleggerservice AS", buyer_orgnr="974600013", buyer_name="Oslo kommune",
                amount=12500.0,
                attachments=attachments if attachments is not None else [
                    ("timeliste-oktober.pdf", "application/pdf", "Timeliste", PDF),
                    ("bilde av utstyr.png", "image/png", "Bilde av levert utstyr", PNG)])
    args.update(overrides)
    return docs.ehf_invoice(**args)


def test_header_fields_and_attachments_come_out_byte_for_byte():
    data = _invoice()
    assert looks_like_ehf(data)
    invoice = parse_ehf(data, source="EHF-faktura.xml")
    assert invoice.kind == "Invoice" and invoice.is_bis3
    assert (invoice.invoice_number, invoice.supplier_org_no) == ("INV-40711", "974760673")
    assert invoice.supplier_name == "Bærum Rørleggerservice AS"
    assert invoice.issue_date == "2026-10-01"
    assert [(a.filename, a.mime_code, a.description, a.position) for a in invoice.attachments] == [
        ("timeliste-oktober.pdf", "application/pdf", "Timeliste", 1),
        ("bilde av utstyr.png", "image/png", "Bilde av levert utstyr", 2)]
    assert invoice.attachments[0].content == PDF and invoice.attachments[1].content == PNG


def test_invoice_without_attachments_is_fine():
    invoice = parse_ehf(_invoice(attachments=[]))
    assert invoice.attachments == []


def test_base64_with_line_breaks_is_accepted():
    wrapped = base64.encodebytes(PDF).decode()  # 76-character lines, as many EHF writers do
    data = _invoice().replace(base64.b64encode(PDF), wrapped.encode())
    assert parse_ehf(data).attachments[0].content == PDF


@pytest.mark.parametrize("mutate, message", [
    (lambda d: d[: len(d) // 2], "not well-formed"),
    (lambda d: d.replace(b"<cbc:ID>INV-40711</cbc:ID>", b""), "invoice number"),
    (lambda d: d.replace(b'filename="timeliste-oktober.pdf"', b""), "filename attribute is missing"),
    (lambda d: d.replace(base64.b64encode(PDF)[:40], b"!!!!" * 10), "not valid base64"),
    (lambda d: d.replace(b"urn:oasis:names:specification:ubl:schema:xsd:Invoice-2",
                         b"urn:example:not-ubl", 1), "not a UBL Invoice"),
])
def test_broken_files_are_refused_with_the_reason(mutate, message):
    with pytest.raises(EhfError) as err:
        parse_ehf(mutate(_invoice()), source="EHF-faktura-INV-40711.xml")
    assert message in str(err.value) and "EHF-faktura-INV-40711.xml" in str(err.value)


def test_entity_expansion_is_refused():
    bomb = (b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;">]>'
            b'<Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2">&lol2;</Invoice>')
    with pytest.raises(EhfError):
        parse_ehf(bomb)


def test_orgnr_from_endpoint_when_legal_entity_lacks_it():
    data = _invoice().replace(b'<cbc:CompanyID schemeID="0192">974760673</cbc:CompanyID>', b"", 1)
    assert parse_ehf(data).supplier_org_no == "974760673"


def test_other_xml_and_pdfs_are_not_ehf():
    assert not looks_like_ehf(PDF)
    assert not looks_like_ehf(b"<?xml version='1.0'?><Order xmlns='urn:x'/>")
