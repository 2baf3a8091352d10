"""Bad-input corpus, invoice attachments: one drop folder of hostile files, one run of
`rpa run invoice-attachment-upload --inbox … --via api --json`, then one assertion per file.

The file type comes from the magic bytes at offset 0 (a program with `%PDF-` further in is a
program); zip-based files are checked for their structure and for decompression bombs; names
with control or bidi characters are refused; identical bytes under two names are two work
items with a case each (refused), or one upload and one "already attached" (same voucher); `utfall.csv` holds no live formula and no fnr in clear."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from pathlib import Path

import pytest

from tests.inputs.corpus import assert_no_clear_fnr, invoke, sha

PROCESS = "invoice-attachment-upload"


def _pdf(text: str = "faktura") -> bytes:
    from pypdf import PdfWriter

    w = PdfWriter()
    w.add_blank_page(width=200, height=200)
    w.add_metadata({"/Title": text})
    buf = io.BytesIO()
    w.write(buf)
    return buf.getvalue()


def _zip(entries: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in entries.items():
            z.writestr(name, data)
    return buf.getvalue()


def _bomb(total: int) -> bytes:
    """A real-looking xlsx whose one sheet unpacks to `total` bytes of zeros."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("xl/workbook.xml", "<workbook/>")
        with z.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as f:
            chunk = b"\x00" * (1 << 20)
            for _ in range(total >> 20):
                f.write(chunk)
    return buf.getvalue()


def _fnr() -> str:
    from connectors.identifiers import fnr_check_digits

    return next(f"0141701{i:02d}" + fnr_check_digits(f"0141701{i:02d}") for i in range(100)
                if fnr_check_digits(f"0141701{i:02d}"))


FNR = _fnr()  # synthetic (month + 40), valid check digits
PDF = _pdf()
KOPI = _pdf("kopi")
TRUNCATED = PDF[: len(PDF) // 2]

# (file name, bytes, expected outcome, category, a piece of the reason)
FILES: list[tuple[str, bytes, str, str, str]] = [
    ("mz-med-pdf.pdf", b"MZ\x90\x00" + b"\x00" * 60 + b"%PDF-1.7\n" + b"\x00" * 100, "quarantined",
     "FILE_TYPE_NOT_ALLOWED", "Windows-program"),
    ("elf-med-pdf.pdf", b"\x7fELF\x02\x01\x01" + b"\x00" * 40 + b"%PDF-1.4\n", "quarantined",
     "FILE_TYPE_NOT_ALLOWED", "program"),
    ("html-med-pdf.pdf", b"<html><body>%PDF-1.4 se vedlegg</body></html>\n", "quarantined",
     "FILE_TYPE_NOT_ALLOWED", "HTML-side"),
    ("bombe-forhold.xlsx", _bomb(64 << 20), "quarantined", "CORRUPT_FILE", "dekomprimeringsbombe"),
    ("bombe-storrelse.xlsx", _bomb(128 << 20), "quarantined", "CORRUPT_FILE", "pakkes ut til"),
    ("falsk-xlsx.xlsx", _zip({"xl/sheet.xml": b"<x/>"}), "quarantined", "FILE_TYPE_NOT_ALLOWED", "ZIP-arkiv"),
    ("uten-arbeidsbok.xlsx", _zip({"[Content_Types].xml": b"<Types/>", "xl/styles.xml": b"<s/>"}), "quarantined",
     "FILE_TYPE_NOT_ALLOWED", "ZIP-arkiv"),
    ("passord.xlsx", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 1000, "quarantined", "FILE_TYPE_NOT_ALLOWED",
     "eldre Office-fil"),
    ("faktura\u202efdp.exe", PDF, "quarantined", "UNSAFE_FILE_NAME", "usynlige formateringstegn"),
    ("faktura\u200b.pdf", PDF, "quarantined", "UNSAFE_FILE_NAME", "usynlige formateringstegn"),
    ("faktura\x07.pdf", PDF, "quarantined", "UNSAFE_FILE_NAME", "kontrolltegn"),
    ("faktura\t.pdf", PDF, "quarantined", "UNSAFE_FILE_NAME", "kontrolltegn"),
    ("slutter-med-punktum.pdf.", PDF, "quarantined", "UNSAFE_FILE_NAME", "slutter med mellomrom eller punktum"),
    ("x" * 210 + ".pdf", PDF, "quarantined", "UNSAFE_FILE_NAME", "for langt"),
    ("tom.pdf", b"", "quarantined", "CORRUPT_FILE", "tom (0 byte)"),
    ("avkortet.pdf", TRUNCATED, "quarantined", "CORRUPT_FILE", "avkortet"),
    ("bilde.gif", b"GIF89a" + b"\x00" * 40, "quarantined", "FILE_TYPE_NOT_ALLOWED", "GIF-bilde"),
    ("=HYPERLINK(1+1).pdf", _pdf("formel"), "quarantined", "FILE_WITHOUT_MANIFEST_ROW", "står ikke i noe manifest"),
    ("@SUM(1+1).pdf", _pdf("sum"), "quarantined", "FILE_WITHOUT_MANIFEST_ROW", "står ikke i noe manifest"),
    (f"{FNR}-sykmelding.pdf", _pdf("fnr"), "quarantined", "FILE_WITHOUT_MANIFEST_ROW", "står ikke i noe manifest"),
    ("kopi-a.pdf", KOPI, "quarantined", "FILE_WITHOUT_MANIFEST_ROW", "står ikke i noe manifest"),
    ("kopi-b.pdf", KOPI, "quarantined", "FILE_WITHOUT_MANIFEST_ROW", "står ikke i noe manifest"),
]


@pytest.fixture(scope="module")
def finance(tmp_path_factory):
    from config.settings import get_settings
    from tests.fixtures.finance_sandbox import start_finance_sandbox
    from tests.fixtures.invoice_flow import InvoiceEnv

    sandbox = start_finance_sandbox(tmp_path_factory.mktemp("finans") / "finance-data")
    env = InvoiceEnv(sandbox)
    mp = pytest.MonkeyPatch()
    for key, value in env.cli_env().items():
        if key.startswith("RPA_"):
            mp.setenv(key, value)
    get_settings.cache_clear()
    yield env
    mp.undo()
    get_settings.cache_clear()
    sandbox.stop()


@pytest.fixture(scope="module")
def ran(finance, tmp_path_factory):
    """Every hostile file in one drop folder (plus a manifest row with a path, and a symlink), one run."""
    inbox = tmp_path_factory.mktemp("innboks")
    for name, data, *_ in FILES:
        (inbox / name).write_bytes(data)
    (inbox / "manifest.csv").write_text("bilagsnummer;leverandor_orgnr;fakturanummer;filnavn;dokumenttype;kommentar\r\n"
                                        "26000101;;;../../etc/passwd;;\r\n", encoding="utf-8")
    secret = tmp_path_factory.mktemp("utenfor") / "hemmelig.pdf"
    secret.write_bytes(PDF)
    (inbox / "lenke.pdf").symlink_to(secret)
    before = sha(secret)
    seen = invoke(["run", PROCESS, "--inbox", str(inbox), "--via", "api", "--json"])
    assert seen.exit_code == 0, seen.output
    data = json.loads(seen.output)
    utfall = Path(data["outputs"]["utfall"])
    text = utfall.read_text(encoding="utf-8")
    rows = {r["source_file"]: r for r in csv.DictReader(io.StringIO(text), delimiter=";")}
    return {"seen": seen, "rows": rows, "text": text, "inbox": inbox, "secret": secret, "secret_sha": before,
            "data": data}


def _row(ran, name: str) -> dict[str, str]:
    from connectors.identifiers import mask_fnrs_in_text
    from connectors.safe_cells import safe_cell

    return ran["rows"][safe_cell(mask_fnrs_in_text(name))]


@pytest.mark.parametrize(("name", "data", "outcome", "category", "reason"), FILES,
                         ids=[f[0].encode("unicode_escape").decode()[:40] for f in FILES])
def test_each_hostile_file_gets_its_own_outcome_and_reason(ran, finance, name, data, outcome, category, reason):
    row = _row(ran, name)
    assert (row["outcome"], row["category"]) == (outcome, category), row
    assert reason in row["message"], row["message"]
    store = finance.store()
    try:
        cases = [c for c in store.cases(PROCESS) if c.category == category and
                 (c.evidence or {}).get("data", {}).get("source") == name]
    finally:
        store.close()
    assert len(cases) == 1, f"one case for {name!r}"
    assert name not in [p.name for p in ran["inbox"].iterdir()], "settled files leave the drop folder"


def test_identical_bytes_under_two_names_are_two_items_and_two_cases(ran, finance):
    a, b = _row(ran, "kopi-a.pdf"), _row(ran, "kopi-b.pdf")
    assert a["sha256"] == b["sha256"] and a["reference"] != b["reference"]


def test_two_files_with_the_same_bytes_for_one_voucher_upload_once_and_each_receipt_says_what_is_there(
        finance, tmp_path):
    """Issue #13: two different files, identical bytes, the same voucher. They used to share one
    work item (and so one case and one decision: the decision for one archived the other with a
    receipt saying "Lastet opp" while the finance system held the other's name). Now each file
    is its own item; the two are handled one after the other, so the content is uploaded once
    and the other file is "already attached", its receipt naming the attachment there."""
    closed = finance.sandbox.closed_periods()
    voucher = next(v["voucherNumber"] for v in finance.sandbox.vouchers()
                   if v["status"] == "open" and v["period"] not in closed and not
                   finance.sandbox.attachments(v["voucherNumber"]))
    data = _pdf("to filer, samme innhold")
    inbox = tmp_path / "innboks"
    inbox.mkdir()
    names = [f"{voucher}_a.pdf", f"{voucher}_b.pdf"]
    for name in names:
        (inbox / name).write_bytes(data)

    seen = invoke(["run", PROCESS, "--inbox", str(inbox), "--via", "api", "--json"])
    assert seen.exit_code == 0, seen.output
    rows = {r["source_file"]: r for r in csv.DictReader(io.StringIO(
        Path(json.loads(seen.output)["outputs"]["utfall"]).read_text(encoding="utf-8")), delimiter=";")}
    assert sorted(rows[n]["outcome"] for n in names) == ["already_attached", "uploaded"], rows
    assert rows[names[0]]["reference"] != rows[names[1]]["reference"], "two files, two items"
    assert list(inbox.iterdir()) == []
    [uploaded] = [n for n in names if rows[n]["outcome"] == "uploaded"]
    [other] = [n for n in names if n != uploaded]

    held = [a for a in finance.sandbox.attachments(voucher) if a["sha256"] == sha_bytes(data)]
    assert [a["fileName"] for a in held] == [uploaded], "uploaded once, under the name its receipt says"
    receipts = {p.name: p.read_text(encoding="utf-8") for p in finance.archive.rglob("*.kvittering.txt")}
    theirs = next(t for n, t in receipts.items() if n.startswith(uploaded))
    mine = next(t for n, t in receipts.items() if n.startswith(other))
    assert "Lastet opp:" in theirs and f"Navn der:   {uploaded}" in theirs, theirs
    assert "Lå allerede på bilaget" in mine and f"Navn der:   {uploaded}" in mine and "Lastet opp:" not in mine, mine
    store = finance.store()
    try:
        assert not [c for c in store.cases(PROCESS) if (c.evidence or {}).get("data", {}).get("source")
                    in names], "nothing for a person to decide"
    finally:
        store.close()


def sha_bytes(data: bytes) -> str:
    import hashlib

    return hashlib.sha256(data).hexdigest()


def test_no_cell_of_utfall_csv_is_a_live_formula_and_no_fnr_in_clear(ran):
    from connectors.safe_cells import is_risky

    for row in ran["rows"].values():
        assert not any(is_risky(v) for v in row.values()), row
    assert "'=HYPERLINK(1+1).pdf" in ran["text"] and "'@SUM(1+1).pdf" in ran["text"]
    assert_no_clear_fnr(ran["text"] + ran["seen"].output + "\n".join(ran["seen"].logs), [FNR], "in utfall.csv")


def test_a_manifest_row_with_a_path_is_refused_and_a_symlink_is_never_followed(ran):
    row = next(r for k, r in ran["rows"].items() if "passwd" in k)
    assert row["category"] == "UNSAFE_FILE_NAME" and "inneholder en sti" in row["message"]
    assert "lenke.pdf" not in ran["rows"]  # a link is not a file of the drop folder: not taken, not followed
    assert (ran["inbox"] / "lenke.pdf").is_symlink() and sha(ran["secret"]) == ran["secret_sha"]


@pytest.mark.parametrize(("content", "expected"), [
    (b"", "manifestet er tomt"),
    (b"bilagsnummer;leverandor_orgnr;fakturanummer;filnavn;dokumenttype;kommentar\r\n", "har overskrifter, men ingen"),
    (b"\xef\xbb\xbffilnavn\r\n;\r\n\r\n", "har overskrifter, men ingen"),
], ids=["null-byte", "bare-overskrifter", "bom-og-tomme-rader"])
def test_an_empty_manifest_stops_the_run_and_moves_nothing(finance, tmp_path, content, expected):
    inbox = tmp_path / "innboks"
    inbox.mkdir()
    (inbox / "manifest.csv").write_bytes(content)
    (inbox / "26000101_faktura.pdf").write_bytes(PDF)
    seen = invoke(["run", PROCESS, "--inbox", str(inbox), "--via", "api"])
    assert seen.exit_code == 2, seen.output
    assert "manifest.csv" in seen.output and expected in seen.output and "Traceback" not in seen.output
    assert sorted(p.name for p in inbox.iterdir()) == ["26000101_faktura.pdf", "manifest.csv"]
    assert (inbox / "manifest.csv").read_bytes() == content
