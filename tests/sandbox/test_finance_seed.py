"""The finance seed: deterministic, the right size, real file content, and a ground truth that a
rule-by-rule reference reading of the drop folder agrees with, row for row.

`reference_outcomes` below is a small, independent statement of the rules in docs/finance-sandbox.md
(checks in order; duplicates: first name in sorted order uploads). The last test plays the ground
truth against the running stand-in over HTTP and counts the finance system's own record.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import json
import re
from collections import Counter
from pathlib import Path

import pytest
import requests
from defusedxml import ElementTree

from sandbox.finance import filetypes
from sandbox.finance.seed import GROUND_TRUTH_COLUMNS, MANIFEST_COLUMNS, seed, seed_bulk
from sandbox.finance.store import AttachmentStore, finance_dir
from sandbox.finance.upload import unsafe_name_reason

CATEGORIES = {"VOUCHER_NOT_FOUND", "SEVERAL_CANDIDATES", "VOUCHER_LOCKED", "FILE_TYPE_NOT_ALLOWED", "FILE_TOO_LARGE",
              "CORRUPT_FILE", "UNSAFE_FILE_NAME", "MANIFEST_ROW_WITHOUT_FILE", "FILE_WITHOUT_MANIFEST_ROW",
              "ATTACHED_ELSEWHERE"}
NS = {"cac": "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2",
      "cbc": "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"}
MAX_BYTES = 10 * 1024 * 1024


@pytest.fixture(scope="module")
def seeded(tmp_path_factory) -> dict[str, Path]:
    data_dir = tmp_path_factory.mktemp("finance-seed")
    files = seed(data_dir)
    files["data_dir"] = data_dir
    return files


def _truth(files) -> list[dict[str, str]]:
    with files["ground_truth"].open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def _manifest(files) -> list[dict[str, str]]:
    with files["manifest"].open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f, delimiter=";"))


def _vouchers(files) -> tuple[list[dict], set[str]]:
    data = json.loads(files["vouchers"].read_text(encoding="utf-8"))
    return data["vouchers"], set(data["closedPeriods"])


def _ehf_documents(path: Path) -> tuple[str, str, list[tuple[str, str, bytes]]]:
    root = ElementTree.fromstring(path.read_bytes())
    invoice = root.find("cbc:ID", NS).text
    orgnr = root.find("cac:AccountingSupplierParty/cac:Party/cac:PartyLegalEntity/cbc:CompanyID", NS).text
    docs = [(obj.get("filename"), obj.get("mimeCode"), base64.b64decode(obj.text))
            for obj in root.findall("cac:AdditionalDocumentReference/cac:Attachment/cbc:EmbeddedDocumentBinaryObject", NS)]
    return orgnr, invoice, docs


def _pdf_readable(content: bytes) -> bool:
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    try:
        reader = PdfReader(io.BytesIO(content))
        return not reader.is_encrypted and len(reader.pages) > 0
    except (PyPdfError, ValueError, KeyError, TypeError, OSError):
        return False


def reference_outcomes(files) -> dict[str, tuple[str, str, str]]:
    """source_file -> (outcome, category, voucher_number), from the rules alone."""
    vouchers, closed = _vouchers(files)
    by_number = {v["voucherNumber"]: v for v in vouchers}
    inbox: Path = files["inbox"]
    present = {p.name for p in inbox.iterdir() if p.name != files["manifest"].name}
    attached: dict[str, set[str]] = {}  # sha256 -> vouchers (the system before the run, then our uploads)
    store = AttachmentStore(finance_dir(files["data_dir"]))
    for a in store.all():
        attached.setdefault(a.sha256, set()).add(a.voucher_number)
    store.close()

    items: list[tuple[str, dict, bytes | None]] = []  # (source_file, target, content)
    out: dict[str, tuple[str, str, str]] = {}
    manifest = {row["filnavn"]: row for row in _manifest(files)}
    for name, row in manifest.items():
        if unsafe_name_reason(name):
            out[name] = ("quarantined", "UNSAFE_FILE_NAME", "")
        elif name not in present:
            out[name] = ("quarantined", "MANIFEST_ROW_WITHOUT_FILE", "")
        else:
            target = {"nr": row["bilagsnummer"]} if row["bilagsnummer"] else {
                "org": "".join(row["leverandor_orgnr"].split()), "inv": row["fakturanummer"]}
            items.append((name, target, (inbox / name).read_bytes()))
    for name in sorted(present - set(manifest)):
        if name.endswith(".xml"):
            orgnr, invoice, embedded = _ehf_documents(inbox / name)
            items += [(f"{name}#{fn}", {"org": orgnr, "inv": invoice}, content) for fn, _, content in embedded]
        elif unsafe_name_reason(name):
            out[name] = ("quarantined", "UNSAFE_FILE_NAME", "")
        elif m := re.fullmatch(r"(\d{8})_.+\.\w+", name):
            items.append((name, {"nr": m[1]}, (inbox / name).read_bytes()))
        elif m := re.fullmatch(r"(\d{9})_([^_]+)_.+\.\w+", name):
            items.append((name, {"org": m[1], "inv": m[2]}, (inbox / name).read_bytes()))
        else:
            out[name] = ("quarantined", "FILE_WITHOUT_MANIFEST_ROW", "")

    for name, target, content in sorted(items, key=lambda i: i[0]):
        if "nr" in target:
            candidates = [by_number[target["nr"]]] if target["nr"] in by_number else []
        else:
            candidates = [v for v in vouchers if (v["supplierOrgNo"], v["invoiceNumber"]) == (target["org"], target["inv"])]
        file_name = name.split("#")[-1]
        sha = hashlib.sha256(content).hexdigest()
        if not candidates:
            out[name] = ("quarantined", "VOUCHER_NOT_FOUND", "")
        elif len(candidates) > 1:
            out[name] = ("quarantined", "SEVERAL_CANDIDATES", "")
        elif candidates[0]["status"] == "locked" or candidates[0]["period"] in closed:
            out[name] = ("quarantined", "VOUCHER_LOCKED", "")
        elif len(content) > MAX_BYTES:
            out[name] = ("quarantined", "FILE_TOO_LARGE", "")
        elif (kind := filetypes.sniff(content[:filetypes.HEAD_BYTES], _as_path(content), file_name)) is None:
            out[name] = ("quarantined", "FILE_TYPE_NOT_ALLOWED", "")
        elif kind == filetypes.PDF and not _pdf_readable(content):
            out[name] = ("quarantined", "CORRUPT_FILE", "")
        elif candidates[0]["voucherNumber"] in attached.get(sha, set()):
            out[name] = ("already_attached", "", candidates[0]["voucherNumber"])
        elif attached.get(sha):
            out[name] = ("quarantined", "ATTACHED_ELSEWHERE", "")
        else:
            out[name] = ("uploaded", "", candidates[0]["voucherNumber"])
            attached.setdefault(sha, set()).add(candidates[0]["voucherNumber"])
    return out


_TMP: list[Path] = []


def _as_path(content: bytes) -> Path | None:
    """sniff() needs a file for zip containers."""
    if not content.startswith(b"PK"):
        return None
    import tempfile

    with tempfile.NamedTemporaryFile(delete=False, suffix=".zip") as f:
        f.write(content)
    _TMP.append(Path(f.name))
    return Path(f.name)


# -- shape and determinism --------------------------------------------------------------------------
def test_seed_is_deterministic(seeded, tmp_path):
    again = seed(tmp_path)
    for name in ("vouchers", "manifest", "ground_truth"):
        assert again[name].read_bytes() == seeded[name].read_bytes(), name
    assert sorted(p.name for p in again["inbox"].iterdir()) == sorted(p.name for p in seeded["inbox"].iterdir())
    for path in seeded["inbox"].iterdir():
        assert (again["inbox"] / path.name).read_bytes() == path.read_bytes(), path.name
    other = seed(tmp_path / "other", seed=7)
    assert other["ground_truth"].read_bytes() != seeded["ground_truth"].read_bytes()


def test_sizes_and_states(seeded):
    vouchers, closed = _vouchers(seeded)
    assert 100 <= len(vouchers) <= 300
    assert len({v["voucherNumber"] for v in vouchers}) == len(vouchers)
    statuses = Counter(v["status"] for v in vouchers)
    assert statuses["open"] >= 30 and statuses["posted"] >= 10 and statuses["locked"] >= 5
    assert any(v["status"] == "posted" and v["period"] in closed for v in vouchers)
    keys = Counter((v["supplierOrgNo"], v["invoiceNumber"]) for v in vouchers)
    assert sum(1 for c in keys.values() if c == 2) >= 2  # ambiguous pairs
    from connectors.identifiers import valid_orgnr

    assert all(valid_orgnr(v["supplierOrgNo"]) for v in vouchers)
    assert all(re.fullmatch(r"\d{4}-\d{2}-\d{2}", v["voucherDate"]) and v["voucherDate"].startswith(v["period"])
               for v in vouchers)
    inbox_files = list(seeded["inbox"].iterdir())
    assert 40 <= len(inbox_files) <= 80


def test_manifest_format(seeded):
    raw = seeded["manifest"].read_bytes()
    assert not raw.startswith(b"\xef\xbb\xbf")  # UTF-8 without BOM
    header = raw.decode("utf-8").splitlines()[0]
    assert header == ";".join(MANIFEST_COLUMNS)
    rows = _manifest(seeded)
    assert any(";" in r["kommentar"] for r in rows)  # quoted field with the separator inside
    assert any(" " in r["leverandor_orgnr"] for r in rows)  # orgnr typed with spaces
    assert all(bool(r["bilagsnummer"]) != bool(r["leverandor_orgnr"] and r["fakturanummer"]) for r in rows)


def test_ground_truth_format_and_coverage(seeded):
    truth = _truth(seeded)
    assert list(truth[0]) == GROUND_TRUTH_COLUMNS
    assert len({r["source_file"] for r in truth}) == len(truth)
    assert {r["expected_outcome"] for r in truth} == {"uploaded", "already_attached", "quarantined"}
    assert {r["category"] for r in truth if r["category"]} == CATEGORIES
    for r in truth:
        assert (r["expected_outcome"] == "quarantined") == bool(r["category"]), r
        assert (r["expected_outcome"] != "quarantined") == bool(r["voucher_number"]), r
    # every inbox file but the manifest and the EHF containers has its row; EHF documents have theirs
    names = {r["source_file"] for r in truth}
    for path in seeded["inbox"].iterdir():
        if path.name == seeded["manifest"].name:
            assert path.name not in names
        elif path.suffix == ".xml":
            assert path.name not in names
            _, _, embedded = _ehf_documents(path)
            assert {f"{path.name}#{fn}" for fn, _, _ in embedded} <= names
        else:
            assert path.name in names, path.name
    assert sum(1 for r in truth if "#" in r["source_file"]) >= 3


def test_ground_truth_agrees_with_a_reference_reading(seeded):
    expected = {r["source_file"]: (r["expected_outcome"], r["category"], r["voucher_number"]) for r in _truth(seeded)}
    try:
        assert reference_outcomes(seeded) == expected
    finally:
        for path in _TMP:
            path.unlink(missing_ok=True)


def test_file_contents_are_what_they_claim(seeded):
    truth = {r["source_file"]: r for r in _truth(seeded)}
    inbox = seeded["inbox"]
    from openpyxl import load_workbook
    from PIL import Image

    kinds = Counter()
    for name, row in truth.items():
        path = inbox / name
        if not path.exists():
            continue
        content = path.read_bytes()
        assert hashlib.sha256(content).hexdigest() == row["sha256"], name
        if row["expected_outcome"] != "uploaded":
            continue
        suffix = path.suffix.lower()
        kinds[suffix] += 1
        if suffix == ".pdf":
            assert _pdf_readable(content), name
        elif suffix in (".png", ".jpg"):
            Image.open(io.BytesIO(content)).verify()
        elif suffix == ".xlsx":
            assert load_workbook(io.BytesIO(content)).active.max_row > 1
        elif suffix == ".csv":
            assert content.decode("utf-8").count(";") > 3
    assert {".pdf", ".png", ".jpg", ".csv", ".xlsx"} <= set(kinds)
    big = (inbox / "skannet-arkiv-2026.pdf").read_bytes()
    assert len(big) > MAX_BYTES and _pdf_readable(big)  # a real PDF, refused only for its size
    from pypdf import PdfReader

    assert PdfReader(io.BytesIO((inbox / "lonnsavtale-passordbeskyttet.pdf").read_bytes())).is_encrypted
    assert (inbox / "faktura-vedlegg.exe").read_bytes()[:2] == b"MZ"
    assert (inbox / "kontrakt-signert.pdf").read_bytes()[:4] == b"PK\x03\x04"
    outside = seeded["inbox"].parent / "lønn" / "lønnsliste-oktober.pdf"
    assert outside.exists()  # the trap an unsafe manifest path points at


def test_ehf_invoices_are_peppol_bis3(seeded):
    vouchers, _ = _vouchers(seeded)
    ehfs = sorted(seeded["inbox"].glob("*.xml"))
    assert 1 <= len(ehfs) <= 2
    for path in ehfs:
        root = ElementTree.fromstring(path.read_bytes())
        assert root.tag == "{urn:oasis:names:specification:ubl:schema:xsd:Invoice-2}Invoice"
        assert "peppol.eu:2017:poacc:billing:3.0" in root.find("cbc:CustomizationID", NS).text
        orgnr, invoice, embedded = _ehf_documents(path)
        assert [v for v in vouchers if (v["supplierOrgNo"], v["invoiceNumber"]) == (orgnr, invoice)]
        for filename, mime, content in embedded:
            assert filename and mime in ("application/pdf", "image/png", "image/jpeg", "text/csv",
                                         filetypes.XLSX, filetypes.ODS)
            assert content


def test_scale_changes_the_size(tmp_path):
    small = seed(tmp_path / "small", scale=0.3)
    large = seed(tmp_path / "large", scale=1.5)
    count = lambda files: len(json.loads(files["vouchers"].read_text(encoding="utf-8"))["vouchers"])  # noqa: E731
    assert count(small) < count(large)
    assert len(list(small["inbox"].iterdir())) < len(list(large["inbox"].iterdir()))
    for files in (small, large):
        assert reference_outcomes({**files, "data_dir": files["inbox"].parents[2]}) == {
            r["source_file"]: (r["expected_outcome"], r["category"], r["voucher_number"]) for r in _truth(files)}


def test_seed_bulk(tmp_path):
    files = seed_bulk(tmp_path, n=25, size=50_000)
    vouchers, closed = _vouchers(files)
    assert len(vouchers) == 25 and {v["status"] for v in vouchers} == {"open"} and not closed
    pdfs = sorted(files["inbox"].glob("*.pdf"))
    assert len(pdfs) == 25 and all(p.stat().st_size == 50_000 for p in pdfs)
    assert _pdf_readable(pdfs[0].read_bytes())
    assert len({hashlib.sha256(p.read_bytes()).digest() for p in pdfs}) == 25
    rows = _manifest(files)
    assert [r["filnavn"] for r in rows] == [p.name for p in pdfs]
    assert {r["expected_outcome"] for r in _truth(files)} == {"uploaded"}
    store = AttachmentStore(finance_dir(tmp_path))
    assert store.all() == []
    store.close()


# -- the ground truth played against the running system ------------------------------------------------
def test_ground_truth_against_the_running_system(finance_sandbox):
    truth = finance_sandbox.ground_truth()
    inbox = finance_sandbox.inbox
    auth = finance_sandbox.auth()
    contents: dict[str, bytes] = {}
    for path in inbox.glob("*.xml"):
        _, _, embedded = _ehf_documents(path)
        contents.update({f"{path.name}#{fn}": c for fn, _, c in embedded})
    for path in inbox.iterdir():
        contents.setdefault(path.name, path.read_bytes())
    open_voucher = next(r["voucher_number"] for r in truth if r["expected_outcome"] == "uploaded")
    manifest = {m["filnavn"]: m for m in finance_sandbox.manifest()}

    def post(nr: str, name: str) -> int:
        file_name = name.split("#")[-1]
        return requests.post(f"{finance_sandbox.api_url}/vouchers/{nr}/attachments", headers=auth, timeout=60,
                             files={"file": (file_name, contents[name])}).status_code

    for r in truth:
        if r["expected_outcome"] == "uploaded":
            assert post(r["voucher_number"], r["source_file"]) == 201, r
        elif r["category"] == "FILE_TYPE_NOT_ALLOWED":
            assert post(open_voucher, r["source_file"]) == 415, r
        elif r["category"] == "FILE_TOO_LARGE":
            assert post(open_voucher, r["source_file"]) == 413, r
        elif r["category"] == "VOUCHER_LOCKED":
            nr = manifest[r["source_file"]]["bilagsnummer"] if r["source_file"] in manifest else r["source_file"][:8]
            assert post(nr, r["source_file"]) == 409, r

    record = Counter((a["voucherNumber"], a["sha256"]) for a in finance_sandbox.attachments())
    for r in truth:
        if r["expected_outcome"] in ("uploaded", "already_attached"):
            assert record[(r["voucher_number"], r["sha256"])] == 1, r  # exactly once, nothing lost
        elif r["sha256"] and r["category"] != "ATTACHED_ELSEWHERE":
            assert not any(sha == r["sha256"] for _, sha in record), r
