"""Intake and validation without any system: what the drop folder becomes (documents with a target
and a verdict), decided from the content and the process definition's rules."""

from __future__ import annotations

import unicodedata
from pathlib import Path

import pytest

from flows.invoice_attachment_upload.intake import intake
from flows.invoice_attachment_upload.manifest import ManifestError, read_manifest
from flows.invoice_attachment_upload.model import Target
from flows.invoice_attachment_upload.rules import FileNameConvention, Rules
from flows.invoice_attachment_upload.validation import validate_document
from flows.invoice_attachment_upload.workspace import Workspace
from flows.registry import load_definition
from sandbox.finance import documents as docs

PDF = docs.pdf(["Kvittering", "Test"])
HEADER = "bilagsnummer;leverandor_orgnr;fakturanummer;filnavn;dokumenttype;kommentar\r\n"


@pytest.fixture
def definition_and_rules():
    definition, rules = load_definition("invoice-attachment-upload")
    assert isinstance(rules, Rules)
    return definition, rules


@pytest.fixture
def folder(tmp_path):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    return inbox


def _intake(inbox: Path, definition_and_rules, tmp_path: Path):
    definition, rules = definition_and_rules
    ws = Workspace(tmp_path / "arkiv", tmp_path / "karantene", tmp_path / "work")
    return intake(inbox, definition, rules, ws)


def _by_source(result):
    return {d.source: d for d in result.documents}


def test_manifest_rows_conventions_and_leftovers(folder, definition_and_rules, tmp_path):
    (folder / "manifest.csv").write_text(
        HEADER + "26000101;;;kvittering.pdf;kvittering;Mottatt på e-post\r\n"
                 ";974 760 673;F-17;faktura-kopi.pdf;Kontrakt;\r\n"
                 "26000102;;;mangler.pdf;Underbilag;\r\n", encoding="utf-8")
    for name in ("kvittering.pdf", "faktura-kopi.pdf", "26000103_reise.pdf", "974760673_F-18_vedlegg.pdf",
                 "Skannet 0042.pdf"):
        (folder / name).write_bytes(PDF + name.encode())
    docs_ = _by_source(_intake(folder, definition_and_rules, tmp_path))
    assert docs_["kvittering.pdf"].target == Target(voucher_number="26000101")
    assert docs_["kvittering.pdf"].document_type == "Kvittering"  # spelled as the finance system lists it
    assert docs_["kvittering.pdf"].manifest["row"] == 2
    assert docs_["faktura-kopi.pdf"].target == Target(supplier_org_no="974760673", invoice_number="F-17")
    assert docs_["26000103_reise.pdf"].target == Target(voucher_number="26000103")
    assert docs_["26000103_reise.pdf"].origin == "convention"
    assert docs_["974760673_F-18_vedlegg.pdf"].target == Target(supplier_org_no="974760673", invoice_number="F-18")
    assert docs_["mangler.pdf"].problem["category"] == "MANIFEST_ROW_WITHOUT_FILE"
    assert "rad 4" in docs_["mangler.pdf"].problem["message"]
    assert docs_["Skannet 0042.pdf"].problem["category"] == "FILE_WITHOUT_MANIFEST_ROW"
    refs = [d.reference for d in docs_.values()]
    assert len(refs) == len(set(refs))
    assert docs_["kvittering.pdf"].reference.startswith(f"{docs_['kvittering.pdf'].sha256}:V26000101|f")


def test_manifest_matches_names_like_a_windows_share(folder, definition_and_rules, tmp_path):
    decomposed = unicodedata.normalize("NFD", "Kvittering-Ærfugl.PDF")  # as macOS writes it
    (folder / decomposed).write_bytes(PDF)
    (folder / "manifest.csv").write_text(HEADER + "26000101;;;kvittering-ærfugl.pdf;;\r\n", encoding="utf-8")
    result = _intake(folder, definition_and_rules, tmp_path)
    assert not result.missing_rows
    assert result.files[0].documents[0].target.voucher_number == "26000101"


def test_an_orgnr_with_a_wrong_check_digit_is_not_a_convention_match(definition_and_rules):
    _, rules = definition_and_rules
    orgnr_convention = rules.file_name_conventions[0]
    assert orgnr_convention.match("974760673_F-18_a.pdf") == {"supplier_org_no": "974760673",
                                                              "invoice_number": "F-18"}
    assert orgnr_convention.match("974760674_F-18_a.pdf") is None


def test_a_convention_needs_a_target_group():
    with pytest.raises(ValueError, match="voucher_number"):
        FileNameConvention(name="x", pattern=r"^(?P<foo>\d+)_.*$")
    with pytest.raises(ValueError, match="regular expression"):
        FileNameConvention(name="x", pattern=r"^(?P<voucher_number>\d+")


def test_path_in_a_manifest_row_is_never_followed(folder, definition_and_rules, tmp_path):
    outside = folder.parent / "lønn"
    outside.mkdir()
    (outside / "lønnsliste.pdf").write_bytes(PDF)
    (folder / "manifest.csv").write_text(HEADER + "26000101;;;../lønn/lønnsliste.pdf;;\r\n", encoding="utf-8")
    result = _intake(folder, definition_and_rules, tmp_path)
    assert [d.problem["category"] for d in result.missing_rows] == ["UNSAFE_FILE_NAME"]
    assert result.missing_rows[0].container is None and result.missing_rows[0].sha256 is None


def test_ehf_attachments_become_documents_for_the_invoice(folder, definition_and_rules, tmp_path):
    ehf = docs.ehf_invoice(invoice_number="INV-9", issue_date="2026-10-01", supplier_orgnr="974760673",
                           supplier_name="Leverandør AS", buyer_orgnr="974600013", buyer_name="Oslo",
                           amount=100.0, attachments=[("a.pdf", "application/pdf", "Timeliste", PDF),
                                                      ("b.pdf", "application/pdf", "Zip", docs.zip_archive({"x": b"y"}))])
    (folder / "EHF-INV-9.xml").write_bytes(ehf)
    docs_ = _by_source(_intake(folder, definition_and_rules, tmp_path))
    assert set(docs_) == {"EHF-INV-9.xml#a.pdf", "EHF-INV-9.xml#b.pdf"}
    a, b = docs_["EHF-INV-9.xml#a.pdf"], docs_["EHF-INV-9.xml#b.pdf"]
    assert a.target == Target(supplier_org_no="974760673", invoice_number="INV-9") and a.problem is None
    assert a.embedded_position == 1 and a.file_name == "a.pdf" and a.comment == "Timeliste"
    assert b.problem["category"] == "FILE_TYPE_NOT_ALLOWED"  # declared application/pdf, content is a zip


def test_unreadable_manifest_is_a_refused_file_naming_the_column(folder, definition_and_rules, tmp_path):
    (folder / "manifest.csv").write_text("bilag;fil\r\n1;a.pdf\r\n", encoding="utf-8")
    result = _intake(folder, definition_and_rules, tmp_path)
    problem = result.manifests[0].documents[0].problem
    assert problem["category"] == "CORRUPT_FILE" and "filnavn" in problem["message"]


def test_manifest_errors_name_file_row_and_column(tmp_path):
    path = tmp_path / "manifest.csv"
    with pytest.raises(ManifestError, match=r"manifest.csv, rad 1: mangler kolonne\(r\) filnavn"):
        read_manifest(path, b"bilagsnummer;navn\r\n1;x\r\n", {"filnavn": "filnavn", "bilagsnummer": "bilagsnummer"},
                      ["filnavn"])
    with pytest.raises(ManifestError, match="rad 2"):
        read_manifest(path, b"filnavn\r\n\xff\xfe\x00bad\r\n", {"filnavn": "filnavn"}, ["filnavn"])


def test_excel_manifest(tmp_path):
    data = docs.xlsx("Manifest", ["bilagsnummer", "filnavn", "dokumenttype"], [[26000101, "a.pdf", "Kvittering"]])
    rows = read_manifest(tmp_path / "manifest.xlsx", data, {"bilagsnummer": "bilagsnummer", "filnavn": "filnavn"},
                         ["filnavn"])
    assert [(r.number, r.get("bilagsnummer"), r.get("filnavn")) for r in rows] == [(2, "26000101", "a.pdf")]


@pytest.mark.parametrize("content, category", [
    (docs.truncated_pdf(["a"]), "CORRUPT_FILE"),
    (docs.garbage_pdf(3), "CORRUPT_FILE"),
    (docs.encrypted_pdf(["a"]), "CORRUPT_FILE"),
    (b"", "CORRUPT_FILE"),
    (docs.windows_exe(2), "FILE_TYPE_NOT_ALLOWED"),
    (PDF + b"\0" * 2048, None),
])
def test_validation_verdicts(content, category, definition_and_rules):
    _, rules = definition_and_rules
    _, problem = validate_document("dokument.pdf", content, rules)
    assert (problem["category"] if problem else None) == category


def test_size_limit_comes_from_the_definition(definition_and_rules):
    _, rules = definition_and_rules
    small = rules.model_copy(update={"max_file_bytes": 1000})
    _, problem = validate_document("a.pdf", PDF + b" " * 1000, small)
    assert problem["category"] == "FILE_TOO_LARGE" and "1 000 byte" in problem["message"]
