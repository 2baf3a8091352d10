"""Synthetic data for the finance stand-in and the invoice-attachment-upload process.

`seed(data_dir, seed, scale)` writes, deterministically from the seed:
  <data_dir>/sandbox/finance/vouchers.json        ~200 vouchers at scale 1 (open, posted, locked;
                                                  closed periods; pairs sharing supplier + invoice no.)
  <data_dir>/sandbox/finance/attachments.db+files attachments already in the system (some on purpose)
  <inbox> (from config/processes/invoice-attachment-upload.yaml, input `drop-folder`):
      manifest.csv (semicolon, UTF-8) and ~55 files: real PDF/PNG/JPEG/CSV/XLSX/ODS documents, files
      named by convention, EHF invoices with embedded attachments, and every kind of bad case
  <data_dir>/ground_truth/invoice-attachment-upload.csv   the correct outcome of every file

Ground-truth rules (see docs/finance-sandbox.md):
  * One row per inbox file, per manifest row that names no existing inbox file, and per document
    embedded in an EHF invoice ("<ehf file>#<embedded filename>"). manifest.csv and the EHF XML
    files themselves are inputs, not attachments: archived, not in the ground truth.
  * Checks apply in this order, the first failing one is the category: file name safe, file found
    / manifest row found / name convention matched, target voucher found and unique, voucher not
    locked, size, type by content, PDF readable (not corrupt, not encrypted), already attached.
  * Files with identical bytes and the same target: the first in sorted name order is `uploaded`,
    the others `already_attached` (the `sha256` column lets a checker group them either way).
  * A document already attached to the same voucher is `already_attached`; to another voucher,
    `quarantined` ATTACHED_ELSEWHERE.
"""

from __future__ import annotations

import csv
import io
import json
import random
import shutil
from dataclasses import dataclass
from hashlib import sha256
from pathlib import Path

from connectors.identifiers import orgnr_check_digit
from sandbox.finance import documents as docs
from sandbox.finance.filetypes import XLSX
from sandbox.finance.human import write_human_attachments
from sandbox.finance.store import AttachmentStore, finance_dir

PROCESS_ID = "invoice-attachment-upload"
DEFAULT_INBOX = "input/invoice-attachment-upload/inbox"
DEFAULT_MANIFEST = "manifest.csv"
DEFAULT_MAX_BYTES = 10 * 1024 * 1024
MANIFEST_COLUMNS = ["bilagsnummer", "leverandor_orgnr", "fakturanummer", "filnavn", "dokumenttype", "kommentar"]
GROUND_TRUTH_COLUMNS = ["source_file", "expected_outcome", "category", "voucher_number", "sha256", "detail"]
BUYER_ORGNR = "974600013"
BUYER_NAME = "Oslo kommune (sandkasse)"

PERIODS = ["2026-05", "2026-06", "2026-07", "2026-08", "2026-09", "2026-10", "2026-11"]
CLOSED_PERIODS = ["2026-05", "2026-06", "2026-07", "2026-08"]
PERIOD_WEIGHTS = [1, 1, 1, 1, 2, 3, 4]  # most vouchers are recent

SUPPLIERS = [
    "Bærum Rørleggerservice AS", "Østlandske Kontorrekvisita AS", "Trøndelag Transport AS",
    "Nordre Aker Elektro AS", "Grønland Catering AS", "Lillehammer Snekkeri AS",
    "Sagene Blomster og Anlegg AS", "Hålogaland IT-drift AS", "Tøyen Renhold AS", "Skøyen Byggvarer AS",
    "Årvoll Maskin AS", "Frogner Konsulent AS", "Kjelsås Trykkeri AS", "Ullevål Medisinsk Utstyr AS",
    "Furuset Bilverksted AS", "Haugerud Hage og Park AS", "Majorstuen Møbler AS",
    "Torshov Tolk og Oversettelse AS", "Grorud Låsesmed AS", "Bjørvika Arkitekter AS",
]
INVOICE_FORMATS = ["F{n}", "{n}", "INV-{n}", "2026-{n}", "FAK{n}"]
STAFF = ["kari.nordmann", "ola.hansen", "fatima.ali", "per.johansen"]


@dataclass
class Supplier:
    orgnr: str
    name: str
    invoice_format: str


@dataclass
class Row:
    """One ground-truth line (and, where `content` is set, one file to write)."""

    source_file: str
    outcome: str
    category: str = ""
    voucher_number: str = ""
    content: bytes | None = None
    detail: str = ""
    write_to: Path | None = None  # where the file goes when not straight into the inbox
    sha256: str = ""

    def __post_init__(self) -> None:
        if self.content is not None and not self.sha256:
            self.sha256 = sha256(self.content).hexdigest()


def _definition_paths(data_dir: Path) -> tuple[Path, Path, int]:
    """Inbox, manifest and size limit from the process definition (defaults if it is unreadable)."""
    inbox_rel, manifest_rel, max_bytes = DEFAULT_INBOX, f"{DEFAULT_INBOX}/{DEFAULT_MANIFEST}", DEFAULT_MAX_BYTES
    try:
        from config.catalogue import DefinitionError, parse_definition
        from config.settings import get_settings

        definition = parse_definition(get_settings().paths.processes_dir / f"{PROCESS_ID}.yaml")
        inbox_rel = definition.input("drop-folder").path or inbox_rel
        manifest_rel = definition.input("manifest").path or manifest_rel
        max_bytes = int(definition.rules.get("max_file_bytes", max_bytes))
    except (DefinitionError, KeyError, OSError):
        pass
    return Path(data_dir) / inbox_rel, Path(data_dir) / manifest_rel, max_bytes


def _orgnr(rng: random.Random, taken: set[str]) -> str:
    while True:
        first8 = str(rng.choice((8, 9))) + "".join(str(rng.randrange(10)) for _ in range(7))
        check = orgnr_check_digit(first8)
        if check is not None and first8 + str(check) not in taken:
            taken.add(first8 + str(check))
            return first8 + str(check)


def _suppliers(rng: random.Random) -> list[Supplier]:
    taken = {BUYER_ORGNR}
    return [Supplier(_orgnr(rng, taken), name, rng.choice(INVOICE_FORMATS)) for name in SUPPLIERS]


def _voucher(number: str, supplier: Supplier, invoice: str, amount: float, day: int, period: str,
             status: str) -> dict:
    return {"voucherNumber": number, "supplierOrgNo": supplier.orgnr, "supplierName": supplier.name,
            "invoiceNumber": invoice, "amount": amount, "currency": "NOK",
            "voucherDate": f"{period}-{day:02d}", "period": period, "status": status}


def _vouchers(rng: random.Random, suppliers: list[Supplier], n: int) -> list[dict]:
    vouchers: list[dict] = []
    number = 26000100
    used_invoices: set[tuple[str, str]] = set()
    for _ in range(n):
        number += rng.randrange(1, 8)
        supplier = rng.choice(suppliers)
        while True:
            invoice = supplier.invoice_format.format(n=rng.randrange(10000, 99999))
            if (supplier.orgnr, invoice) not in used_invoices:
                used_invoices.add((supplier.orgnr, invoice))
                break
        period = rng.choices(PERIODS, weights=PERIOD_WEIGHTS)[0]
        if period in CLOSED_PERIODS:
            status = rng.choice(("locked", "posted"))
        else:
            status = rng.choices(("open", "posted", "locked"), weights=(70, 25, 5))[0]
        amount = round(rng.lognormvariate(8.5, 1.2), 2)
        vouchers.append(_voucher(str(number), supplier, invoice, amount, rng.randrange(1, 29), period, status))
    _ensure_every_state(vouchers)
    # Ambiguity: the same supplier + invoice number posted twice (a re-posting after a credit note).
    singles = [v for v in vouchers if v["status"] == "open"]
    for original in rng.sample(singles, 3):
        number += rng.randrange(1, 8)
        supplier = next(s for s in suppliers if s.orgnr == original["supplierOrgNo"])
        vouchers.append(_voucher(str(number), supplier, original["invoiceNumber"], original["amount"],
                                 rng.randrange(1, 29), original["period"], "open"))
    return vouchers


def _ensure_every_state(vouchers: list[dict], minimum: int = 4) -> None:
    """Small data sets still get a few vouchers in each state the cases need (deterministically)."""
    closed = set(CLOSED_PERIODS)

    def fill(wanted, source, change) -> None:
        have = [v for v in vouchers if wanted(v)]
        for v in [v for v in vouchers if source(v)][: max(0, minimum - len(have))]:
            v.update(change)

    fill(lambda v: v["status"] == "posted" and v["period"] not in closed,
         lambda v: v["status"] == "open", {"status": "posted"})
    fill(lambda v: v["status"] == "posted" and v["period"] in closed,
         lambda v: v["status"] == "locked" and v["period"] in closed, {"status": "posted"})
    fill(lambda v: v["status"] == "locked",
         lambda v: v["status"] == "posted" and v["period"] in closed, {"status": "locked"})
    fill(lambda v: v["status"] == "open",
         lambda v: v["status"] == "posted" and v["period"] not in closed, {"status": "open"})


class _Targets:
    """Draws target vouchers for the cases, without reuse where the pool allows it."""

    def __init__(self, rng: random.Random, vouchers: list[dict]):
        self.rng = rng
        closed = set(CLOSED_PERIODS)
        counts: dict[tuple[str, str], int] = {}
        for v in vouchers:
            counts[(v["supplierOrgNo"], v["invoiceNumber"])] = counts.get((v["supplierOrgNo"], v["invoiceNumber"]), 0) + 1
        unique = [v for v in vouchers if counts[(v["supplierOrgNo"], v["invoiceNumber"])] == 1]
        self.pools = {
            "open": [v for v in unique if v["status"] == "open"],
            "posted_open_period": [v for v in unique if v["status"] == "posted" and v["period"] not in closed],
            "locked": [v for v in unique if v["status"] == "locked"],
            "posted_closed_period": [v for v in unique if v["status"] == "posted" and v["period"] in closed],
        }
        self.ambiguous = sorted({(o, i) for (o, i), c in counts.items() if c > 1})
        self.used: set[str] = set()

    def take(self, pool: str, exclude: tuple[dict, ...] = ()) -> dict:
        """A voucher from `pool`, unused so far if any is left (never one of `exclude`)."""
        banned = {v["voucherNumber"] for v in exclude}
        allowed = [v for v in self.pools[pool] if v["voucherNumber"] not in banned]
        candidates = [v for v in allowed if v["voucherNumber"] not in self.used] or allowed
        chosen = self.rng.choice(candidates)
        self.used.add(chosen["voucherNumber"])
        return chosen


def _lines(kind: str, v: dict, n: int) -> list[str]:
    return [kind, v["supplierName"], f"Org.nr. {v['supplierOrgNo']}", f"Faktura {v['invoiceNumber']}",
            f"Bilag {v['voucherNumber']}", f"Beløp kr {v['amount']:.2f}".replace(".", ","), f"Dokument nr. {n}"]


def _document(rng: random.Random, v: dict, n: int) -> tuple[str, str, bytes]:
    """(file-name stem and extension, document type, bytes) of an ordinary, valid underbilag."""
    kind = rng.choice(["pdf", "pdf", "pdf", "png", "jpg", "csv", "xlsx", "ods"])
    if kind == "pdf":
        title = rng.choice(["kvittering", "kontrakt", "følgeseddel", "reiseregning", "tilbud"])
        doc_type = {"kvittering": "Kvittering", "kontrakt": "Kontrakt", "følgeseddel": "Følgeseddel"}.get(
            title, "Dokumentasjon")
        return f"{title}-{n:04d}.pdf", doc_type, docs.pdf(_lines(title.capitalize(), v, n), title=title)
    if kind == "png":
        return f"Skjermbilde {n:04d}.png", "Dokumentasjon", docs.png(_lines("Skjermbilde", v, n), seed=n)
    if kind == "jpg":
        return f"kvittering-foto-{n:04d}.jpg", "Kvittering", docs.jpeg(_lines("Kvittering", v, n), seed=n)
    if kind == "csv":
        rows = [["Dato", "Ansatt", "Timer", "Merknad"]] + [
            [f"{d:02d}.{v['period'][5:]}.{v['period'][:4]}", rng.choice(STAFF), f"{rng.randrange(2, 9)},5",
             f"bilag {v['voucherNumber']}"] for d in range(1, 6)]
        return f"timeliste-{n:04d}.csv", "Timeliste", docs.csv_text(rows)
    if kind == "xlsx":
        rows = [[f"Vare {i}", rng.randrange(1, 20), round(rng.uniform(10, 900), 2)] for i in range(1, 8)]
        rows.append([f"Bilag {v['voucherNumber']} / dokument {n}", None, None])
        return f"spesifikasjon-{n:04d}.xlsx", "Dokumentasjon", docs.xlsx("Spesifikasjon", ["Vare", "Antall", "Pris"], rows)
    rows = [["Post", "Beløp"], ["Materiell", "1200"], ["Arbeid", "3400"], [f"Bilag {v['voucherNumber']}", str(n)]]
    return f"kalkyle-{n:04d}.ods", "Dokumentasjon", docs.ods(rows)


def _manifest_row(voucher: dict | None = None, *, by_orgnr: bool = False, file_name: str, doc_type: str,
                  comment: str = "", voucher_number: str = "", orgnr: str = "", invoice: str = "") -> dict:
    if voucher is not None and by_orgnr:
        orgnr, invoice = voucher["supplierOrgNo"], voucher["invoiceNumber"]
    elif voucher is not None:
        voucher_number = voucher["voucherNumber"]
    return {"bilagsnummer": voucher_number, "leverandor_orgnr": orgnr, "fakturanummer": invoice,
            "filnavn": file_name, "dokumenttype": doc_type, "kommentar": comment}


def _absent_number(rng: random.Random, vouchers: list[dict]) -> str:
    taken = {v["voucherNumber"] for v in vouchers}
    while True:
        candidate = str(rng.randrange(29000000, 29999999))
        if candidate not in taken:
            return candidate


def _clear_folder(folder: Path) -> None:
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)


def _write_csv(path: Path, columns: list[str], rows: list[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns, delimiter=";", lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows)
    path.write_text(out.getvalue(), encoding="utf-8", newline="")


def _write_ground_truth(path: Path, rows: list[Row]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(GROUND_TRUTH_COLUMNS)
        for r in sorted(rows, key=lambda r: r.source_file):
            writer.writerow([r.source_file, r.outcome, r.category, r.voucher_number, r.sha256, r.detail])


def _reset_server_side(data_dir: Path, vouchers: list[dict], closed_periods: list[str]) -> tuple[Path, AttachmentStore]:
    root = finance_dir(data_dir)
    root.mkdir(parents=True, exist_ok=True)
    path = root / "vouchers.json"
    payload = {"closedPeriods": closed_periods, "vouchers": vouchers}
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(payload, ensure_ascii=False, indent=1), encoding="utf-8")
    tmp.replace(path)
    store = AttachmentStore(root)
    store.reset()
    return path, store


def seed(data_dir: Path, seed: int = 42, scale: float = 1.0) -> dict[str, Path]:
    """Write the finance system's vouchers and attachments, the drop folder and its ground truth."""
    data_dir = Path(data_dir)
    rng = random.Random(seed)
    inbox, manifest_path, max_bytes = _definition_paths(data_dir)
    suppliers = _suppliers(rng)
    vouchers = _vouchers(rng, suppliers, max(80, round(200 * scale)))
    targets = _Targets(rng, vouchers)
    rows: list[Row] = []
    manifest: list[dict] = []
    counter = iter(range(1, 100_000))

    def count(base: int, minimum: int) -> int:
        return max(minimum, round(base * scale))

    # --- ordinary documents that must be uploaded -----------------------------------------------
    for _ in range(count(12, 3)):  # manifest, by voucher number
        v, n = targets.take("open"), next(counter)
        name, doc_type, content = _document(rng, v, n)
        manifest.append(_manifest_row(v, file_name=name, doc_type=doc_type,
                                      comment=rng.choice(["", "", "Mottatt på e-post", "Skannet i resepsjonen"])))
        rows.append(Row(name, "uploaded", voucher_number=v["voucherNumber"], content=content,
                        detail="manifest: voucher number"))
    for i in range(count(6, 2)):  # manifest, by supplier orgnr + invoice number
        v, n = targets.take("open"), next(counter)
        name, doc_type, content = _document(rng, v, n)
        row = _manifest_row(v, by_orgnr=True, file_name=name, doc_type=doc_type)
        if i == 0:  # written the way people type it
            o = row["leverandor_orgnr"]
            row["leverandor_orgnr"] = f"{o[:3]} {o[3:6]} {o[6:]}"
            row["kommentar"] = "Gjelder levering; se også følgeseddel"  # a semicolon inside a quoted field
        manifest.append(row)
        rows.append(Row(name, "uploaded", voucher_number=v["voucherNumber"], content=content,
                        detail="manifest: supplier orgnr + invoice number"))
    for _ in range(2):  # posted vouchers in an open period still take attachments
        v, n = targets.take("posted_open_period"), next(counter)
        name, doc_type, content = _document(rng, v, n)
        manifest.append(_manifest_row(v, file_name=name, doc_type=doc_type))
        rows.append(Row(name, "uploaded", voucher_number=v["voucherNumber"], content=content,
                        detail="manifest: posted voucher, open period"))
    for _ in range(count(8, 2)):  # file-name convention <bilagsnummer>_<anything>.<ext>
        v, n = targets.take("open"), next(counter)
        name, _, content = _document(rng, v, n)
        name = f"{v['voucherNumber']}_{name.replace(' ', '-')}"
        rows.append(Row(name, "uploaded", voucher_number=v["voucherNumber"], content=content,
                        detail="convention: voucher number"))
    for _ in range(count(4, 1)):  # file-name convention <orgnr>_<fakturanummer>_<anything>.<ext>
        v, n = targets.take("open"), next(counter)
        name, _, content = _document(rng, v, n)
        name = f"{v['supplierOrgNo']}_{v['invoiceNumber']}_{name.replace(' ', '-')}"
        rows.append(Row(name, "uploaded", voucher_number=v["voucherNumber"], content=content,
                        detail="convention: orgnr + invoice number"))

    # --- targets that cannot take the document ----------------------------------------------------
    def manifest_case(name: str, voucher: dict | None, category: str, detail: str, *, content: bytes | None = None,
                      by_orgnr: bool = False, doc_type: str = "Kvittering", **ids: str) -> None:
        n = next(counter)
        if content is None:
            lines = _lines("Kvittering", voucher, n) if voucher else ["Kvittering", name, f"Dokument nr. {n}"]
            content = docs.pdf(lines)
        manifest.append(_manifest_row(voucher, by_orgnr=by_orgnr, file_name=name, doc_type=doc_type, **ids))
        rows.append(Row(name, "quarantined", category, content=content, detail=detail))

    ghost = _absent_number(rng, vouchers)
    manifest_case("kvittering-hotell-2231.pdf", None, "VOUCHER_NOT_FOUND", f"no voucher {ghost}",
                  voucher_number=ghost)
    some = targets.take("open")
    manifest_case("faktura-kopi-7710.pdf", None, "VOUCHER_NOT_FOUND", "supplier has no such invoice number",
                  orgnr=some["supplierOrgNo"], invoice="X-00001")
    orgnr, invoice = targets.ambiguous[0]
    manifest_case("timeliste-uke-44.pdf", None, "SEVERAL_CANDIDATES", "two vouchers share orgnr + invoice number",
                  orgnr=orgnr, invoice=invoice)
    manifest_case("kvittering-bompenger-0815.pdf", targets.take("locked"), "VOUCHER_LOCKED", "voucher status locked")
    manifest_case("reiseregning-juni.pdf", targets.take("posted_closed_period"), "VOUCHER_LOCKED",
                  "posted into a closed period")
    locked = targets.take("locked")
    n = next(counter)
    rows.append(Row(f"{locked['voucherNumber']}_kvittering-parkering.pdf", "quarantined", "VOUCHER_LOCKED",
                    content=docs.pdf(_lines("Kvittering", locked, n)), detail="convention; voucher locked"))
    ghost2 = _absent_number(rng, vouchers + [{"voucherNumber": ghost}])
    n = next(counter)
    rows.append(Row(f"{ghost2}_reiseregning.pdf", "quarantined", "VOUCHER_NOT_FOUND",
                    content=docs.pdf(["Reiseregning", f"Bilag {ghost2}", f"Dokument nr. {n}"]),
                    detail="convention; no such voucher"))

    # --- files that must not be sent ---------------------------------------------------------------
    v = targets.take("open")
    lines = _lines("Kvittering", v, next(counter))
    manifest_case("kvittering-taxi-0412.pdf", v, "CORRUPT_FILE", "PDF cut off in the middle",
                  content=docs.truncated_pdf(lines))
    manifest_case("skannet-faktura-0413.pdf", targets.take("open"), "CORRUPT_FILE", "PDF header, then noise",
                  content=docs.garbage_pdf(seed))
    v = targets.take("open")
    manifest_case("lonnsavtale-passordbeskyttet.pdf", v, "CORRUPT_FILE", "encrypted PDF (password)",
                  content=docs.encrypted_pdf(_lines("Avtale", v, next(counter))), doc_type="Kontrakt")
    manifest_case("faktura-vedlegg.exe", targets.take("open"), "FILE_TYPE_NOT_ALLOWED", "Windows program",
                  content=docs.windows_exe(seed), doc_type="Dokumentasjon")
    v = targets.take("open")
    zipped = docs.zip_archive({"kontrakt.docx": docs.pdf(_lines("Kontrakt", v, next(counter)))})
    manifest_case("kontrakt-signert.pdf", v, "FILE_TYPE_NOT_ALLOWED", "zip archive named .pdf",
                  content=zipped, doc_type="Kontrakt")
    v = targets.take("open")
    big = docs.pdf_of_size(_lines("Skannet arkiv", v, next(counter)), max_bytes + 512 * 1024, seed=seed)
    manifest_case("skannet-arkiv-2026.pdf", v, "FILE_TOO_LARGE", f"{len(big)} bytes > {max_bytes}",
                  content=big, doc_type="Dokumentasjon")
    v = targets.take("open")
    n = next(counter)
    rows.append(Row(f"{v['voucherNumber']}_parkering\x07.pdf", "quarantined", "UNSAFE_FILE_NAME",
                    content=docs.pdf(_lines("Kvittering", v, n)), detail="control character (BEL) in the name"))
    v = targets.take("open")
    outside = inbox.parent / "lønn" / "lønnsliste-oktober.pdf"
    secret = docs.pdf(["Lønnsliste oktober", "Fortrolig: skal ikke lastes opp", f"Dokument nr. {next(counter)}"])
    manifest.append(_manifest_row(v, file_name="../lønn/lønnsliste-oktober.pdf", doc_type="Dokumentasjon"))
    rows.append(Row("../lønn/lønnsliste-oktober.pdf", "quarantined", "UNSAFE_FILE_NAME", content=secret,
                    detail="path outside the drop folder (the file exists there: must not be followed)",
                    write_to=outside))
    v = targets.take("open")
    manifest.append(_manifest_row(v, file_name="timeliste-uke-41.csv", doc_type="Timeliste"))
    rows.append(Row("timeliste-uke-41.csv", "quarantined", "MANIFEST_ROW_WITHOUT_FILE",
                    detail="manifest names a file that is not in the folder"))
    rows.append(Row("Skannet dokument 0042.pdf", "quarantined", "FILE_WITHOUT_MANIFEST_ROW",
                    content=docs.pdf(["Skannet dokument", "Uten bilagsnummer", f"Dokument nr. {next(counter)}"]),
                    detail="no manifest row, name follows no convention"))

    # --- the same document twice, and documents already in the system ------------------------------
    v = targets.take("open")
    twice = docs.pdf(_lines("Kvittering middag", v, next(counter)))
    pair = sorted(["kvittering-middag-0917.pdf", "kvittering-middag-0917 - Kopi.pdf"])
    for i, name in enumerate(pair):
        manifest.append(_manifest_row(v, file_name=name, doc_type="Kvittering"))
        rows.append(Row(name, "uploaded" if i == 0 else "already_attached", voucher_number=v["voucherNumber"],
                        content=twice, detail="same bytes twice, same voucher" + ("" if i == 0 else f": copy of {pair[0]}")))
    elsewhere_owner = targets.take("open")
    elsewhere_target = targets.take("open", exclude=(elsewhere_owner,))
    elsewhere = docs.pdf(_lines("Kontrakt", elsewhere_owner, next(counter)))
    manifest.append(_manifest_row(elsewhere_target, file_name="rammeavtale-2026.pdf", doc_type="Kontrakt"))
    rows.append(Row("rammeavtale-2026.pdf", "quarantined", "ATTACHED_ELSEWHERE", content=elsewhere,
                    detail=f"already attached to voucher {elsewhere_owner['voucherNumber']}"))
    here = targets.take("open")
    already = docs.jpeg(_lines("Kvittering", here, next(counter)), seed=seed)
    manifest.append(_manifest_row(here, file_name="kvittering-kantine.jpg", doc_type="Kvittering"))
    rows.append(Row("kvittering-kantine.jpg", "already_attached", voucher_number=here["voucherNumber"],
                    content=already, detail="attached to this voucher before the run (by hand)"))

    # --- EHF invoices with embedded attachments ----------------------------------------------------
    ehf_files: dict[str, bytes] = {}
    ehf_targets: list[dict] = []
    for number, spec in enumerate(("good", "mixed"), start=1):
        v = targets.take("open", exclude=tuple(ehf_targets))
        ehf_targets.append(v)
        supplier_name = v["supplierName"]
        ehf_name = f"EHF-faktura-{v['invoiceNumber']}.xml"
        embedded: list[tuple[str, str, str, bytes, str, str]] = []  # + outcome, category
        if spec == "good":
            embedded.append(("timeliste-oktober.pdf", "application/pdf", "Timeliste",
                             docs.pdf(_lines("Timeliste", v, next(counter))), "uploaded", ""))
            embedded.append(("bilde-av-levert-utstyr.png", "image/png", "Bilde av levert utstyr",
                             docs.png(_lines("Levert utstyr", v, next(counter)), seed=seed + number), "uploaded", ""))
        else:
            rows_x = [[f"Linje {i}", i, 100.0 * i] for i in range(1, 6)] + [[f"Bilag {v['voucherNumber']}", None, None]]
            embedded.append(("spesifikasjon.xlsx", XLSX, "Spesifikasjon",
                             docs.xlsx("Spesifikasjon", ["Linje", "Antall", "Beløp"], rows_x), "uploaded", ""))
            embedded.append(("vedlegg.pdf", "application/pdf", "Vedlegg",
                             docs.zip_archive({"vedlegg.txt": f"Bilag {v['voucherNumber']}".encode()}),
                             "quarantined", "FILE_TYPE_NOT_ALLOWED"))
        ehf_files[ehf_name] = docs.ehf_invoice(
            invoice_number=v["invoiceNumber"], issue_date=v["voucherDate"], supplier_orgnr=v["supplierOrgNo"],
            supplier_name=supplier_name, buyer_orgnr=BUYER_ORGNR, buyer_name=BUYER_NAME, amount=v["amount"],
            attachments=[(f, m, d, c) for f, m, d, c, _, _ in embedded])
        for filename, _mime, _desc, content, outcome, category in embedded:
            rows.append(Row(f"{ehf_name}#{filename}", outcome, category,
                            voucher_number=v["voucherNumber"] if outcome == "uploaded" else "",
                            content=content, detail="embedded in EHF invoice" + (
                                "; zip content declared as application/pdf" if category else ""),
                            write_to=Path("#embedded")))

    # --- write the server side ---------------------------------------------------------------------
    vouchers_path, store = _reset_server_side(data_dir, vouchers, CLOSED_PERIODS)
    try:
        for i, v in enumerate(rng.sample(vouchers, max(5, len(vouchers) // 7))):
            if v["voucherNumber"] in targets.used:
                continue  # keep the cases' voucher lists exactly as the ground truth expects
            content = docs.pdf(_lines("Faktura (skannet)", v, 90000 + i), title="Faktura")
            store.add_bytes(v["voucherNumber"], f"faktura-{v['invoiceNumber']}.pdf", content,
                            media_type="application/pdf", document_type="Faktura",
                            uploaded_by=rng.choice(STAFF), uploaded_at=f"{v['voucherDate']}T09:{i % 60:02d}:00+02:00")
        store.add_bytes(elsewhere_owner["voucherNumber"], "rammeavtale-2026.pdf", elsewhere, media_type="application/pdf",
                        document_type="Kontrakt", comment="Lagt inn manuelt", uploaded_by="kari.nordmann",
                        uploaded_at=f"{elsewhere_owner['voucherDate']}T10:15:00+02:00")
        store.add_bytes(here["voucherNumber"], "IMG_2211.jpg", already, media_type="image/jpeg",
                        document_type="Kvittering", uploaded_by="ola.hansen",
                        uploaded_at=f"{here['voucherDate']}T13:40:00+02:00")
        attachments_db = store.root / "attachments.db"
    finally:
        store.close()

    # --- write the drop folder and the ground truth ------------------------------------------------
    _clear_folder(inbox)
    for r in rows:
        if r.content is None or r.write_to == Path("#embedded"):
            continue
        target = r.write_to or inbox / r.source_file
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(r.content)
    for name, content in ehf_files.items():
        (inbox / name).write_bytes(content)
    rng.shuffle(manifest)  # people do not sort their manifests
    _write_csv(manifest_path, MANIFEST_COLUMNS, manifest)
    ground_truth = data_dir / "ground_truth" / f"{PROCESS_ID}.csv"
    _write_ground_truth(ground_truth, rows)
    return {"vouchers": vouchers_path, "attachments": attachments_db, "inbox": inbox, "manifest": manifest_path,
            "ground_truth": ground_truth, **write_human_attachments(data_dir, ground_truth, seed)}


def seed_bulk(data_dir: Path, n: int = 1000, size: int = 200_000, seed: int = 7) -> dict[str, Path]:
    """A clean benchmark set: `n` open vouchers and `n` valid PDFs of `size` bytes, one per voucher,
    listed in the manifest by voucher number. Replaces vouchers, attachments, inbox and ground truth."""
    data_dir = Path(data_dir)
    rng = random.Random(seed)
    inbox, manifest_path, _ = _definition_paths(data_dir)
    supplier = _suppliers(rng)[0]
    vouchers = [_voucher(str(70000001 + i), supplier, f"B{seed}-{i:06d}", round(rng.uniform(100, 50000), 2),
                         1 + i % 28, PERIODS[-1], "open") for i in range(n)]
    vouchers_path, store = _reset_server_side(data_dir, vouchers, [])
    store.close()
    _clear_folder(inbox)
    manifest, rows = [], []
    for i, v in enumerate(vouchers):
        name = f"bulk-{i + 1:05d}.pdf"
        content = docs.pdf_of_size(_lines("Underbilag", v, i), size, seed=seed * 1_000_003 + i)
        (inbox / name).write_bytes(content)
        manifest.append(_manifest_row(v, file_name=name, doc_type="Underbilag"))
        rows.append(Row(name, "uploaded", voucher_number=v["voucherNumber"], detail="bulk",
                        sha256=sha256(content).hexdigest()))
    _write_csv(manifest_path, MANIFEST_COLUMNS, manifest)
    ground_truth = data_dir / "ground_truth" / f"{PROCESS_ID}.csv"
    _write_ground_truth(ground_truth, rows)
    return {"vouchers": vouchers_path, "attachments": store.root / "attachments.db", "inbox": inbox,
            "manifest": manifest_path, "ground_truth": ground_truth}
