"""The people's own outcome for the seeded period, for shadow mode (docs/shadow.md): the finance
system's attachment list after the accounts staff attached the drop folder's documents by hand,
as the finance system exports it, with a few human mistakes in it, listed in their own ground
truth.

    <data_dir>/input/invoice-attachment-upload/vedleggsliste.csv                 the export (';')
    <data_dir>/ground_truth/invoice-attachment-upload-menneskelige-feil.csv     the mistakes (UTF-8, ',')

The correct list is the seed's ground truth: every document whose correct outcome is `uploaded`,
on its voucher (bilagsnummer, file name, SHA-256 of the content, the voucher's date, who attached
it). The mistakes are:

    feil_bilag       a document attached to another open voucher than the right one
    glemt            a document that should have been attached, never attached
    to_bilag         a document attached to its voucher and to another one as well
    lagt_ved_avvik   a document the robot must hand to a person (several vouchers fit, or none),
                     attached by a person to a voucher anyway (when the seed has one)

The export holds only what the people attached in the period: what was on the vouchers before
(the seed's own attachments) is not in it.

`attach_by_hand` then makes the people do that work in the stand-in itself: every row of the list
becomes an attachment in its store, uploaded by that person through the web door, today. So the
finance system's own attachment list (GET /api/attachments?uploadedFrom=…&uploadedTo=…) holds
the people's outcome, mistakes included. It is a separate step, not part of the seed: the robot's
runs on the seed must not find the people's work already done.
"""

from __future__ import annotations

import csv
import json
import random
from datetime import date
from pathlib import Path

from sandbox.finance.store import FinanceStore, finance_dir

PROCESS_ID = "invoice-attachment-upload"
ATTACHMENTS = f"input/{PROCESS_ID}/vedleggsliste.csv"
MISTAKES = f"ground_truth/{PROCESS_ID}-menneskelige-feil.csv"
COLUMNS = ["bilagsnummer", "filnavn", "sha256", "bilagsdato", "lagt_ved_av"]
HANDED_OVER = ("SEVERAL_CANDIDATES", "VOUCHER_NOT_FOUND")


def _day(iso: str) -> str:
    return date.fromisoformat(iso).strftime("%d.%m.%Y") if iso else ""


def write_human_attachments(data_dir: Path, ground_truth: Path, seed: int = 42) -> dict[str, Path]:
    data_dir = Path(data_dir)
    rng = random.Random(seed * 11 + 5)
    vouchers = json.loads((finance_dir(data_dir) / "vouchers.json").read_text(encoding="utf-8"))["vouchers"]
    dates = {v["voucherNumber"]: v["voucherDate"] for v in vouchers}
    open_numbers = sorted(v["voucherNumber"] for v in vouchers if v["status"] == "open")
    with ground_truth.open(encoding="utf-8", newline="") as f:
        truth = list(csv.DictReader(f))
    uploaded: dict[str, dict[str, str]] = {}  # sha256 -> the first row (identical bytes, same target: once)
    for row in truth:
        if row["expected_outcome"] == "uploaded" and row["sha256"]:
            uploaded.setdefault(row["sha256"], row)
    handed = sorted({r["sha256"]: r for r in truth if r["expected_outcome"] == "quarantined"
                     and r["category"] in HANDED_OVER and r["sha256"] and r["sha256"] not in uploaded}.values(),
                    key=lambda r: r["source_file"])
    wrong, forgotten, twice = rng.sample(sorted(uploaded.values(), key=lambda r: r["source_file"]), 3)
    attached_anyway = rng.choice(handed) if handed else None  # a very small seed may have none

    def other(number: str) -> str:
        return rng.choice([n for n in open_numbers if n != number])

    wrong_voucher, second_voucher, anyway_voucher = (other(wrong["voucher_number"]),
                                                     other(twice["voucher_number"]), other(""))
    staff = ["kari.nordmann", "ola.hansen", "fatima.ali", "per.johansen"]
    rows: list[list[str]] = []

    def attach(number: str, r: dict[str, str]) -> None:
        name = r["source_file"].rsplit("#", 1)[-1]
        rows.append([number, name, r["sha256"], _day(dates.get(number, "")), rng.choice(staff)])

    for r in sorted(uploaded.values(), key=lambda r: r["source_file"]):
        if r is forgotten:
            continue
        attach(wrong_voucher if r is wrong else r["voucher_number"], r)
        if r is twice:
            attach(second_voucher, r)
    if attached_anyway:
        attach(anyway_voucher, attached_anyway)
    mistakes = [[wrong["sha256"], wrong["source_file"], "feil_bilag", wrong["voucher_number"], wrong_voucher],
                [forgotten["sha256"], forgotten["source_file"], "glemt", forgotten["voucher_number"], ""],
                [twice["sha256"], twice["source_file"], "to_bilag", twice["voucher_number"],
                 f"{twice['voucher_number']}, {second_voucher}"]]
    if attached_anyway:
        mistakes.append([attached_anyway["sha256"], attached_anyway["source_file"], "lagt_ved_avvik", "",
                         anyway_voucher])

    path = data_dir / ATTACHMENTS
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as f:
        csv.writer(f, delimiter=";").writerows([COLUMNS, *rows])
    mistakes_path = data_dir / MISTAKES
    mistakes_path.parent.mkdir(parents=True, exist_ok=True)
    with mistakes_path.open("w", newline="", encoding="utf-8") as f:
        csv.writer(f).writerows([["sha256", "fil", "feil", "riktig_bilag", "menneskets_bilag"], *mistakes])
    return {"human_attachments": path, "human_mistakes": mistakes_path}


def _documents(inbox: Path) -> dict[str, tuple[bytes, str]]:
    """sha256 -> (bytes, media type) of every document in the drop folder, EHF attachments included."""
    import hashlib

    from connectors.ehf import EhfError, looks_like_ehf, parse_ehf

    found: dict[str, tuple[bytes, str]] = {}
    for path in sorted(p for p in inbox.rglob("*") if p.is_file()):
        content = path.read_bytes()
        found.setdefault(hashlib.sha256(content).hexdigest(), (content, "application/octet-stream"))
        if looks_like_ehf(content):
            try:
                for a in parse_ehf(content, path.name).attachments:
                    found.setdefault(hashlib.sha256(a.content).hexdigest(), (a.content, a.mime_code))
            except EhfError:
                continue
    return found


def attach_by_hand(data_dir: Path) -> int:
    """The people attach the documents of their list (the seeded export) in the finance stand-in,
    as themselves, through the web door, today. -> how many attachments were made."""
    data_dir = Path(data_dir)
    documents = _documents(data_dir / "input" / PROCESS_ID / "inbox")
    with (data_dir / ATTACHMENTS).open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f, delimiter=";"))
    store = FinanceStore(data_dir)
    try:
        for row in rows:
            content, media_type = documents[row["sha256"]]
            store.attachments.add_bytes(row["bilagsnummer"], row["filnavn"], content, media_type=media_type,
                                        document_type="Vedlegg", uploaded_by=row["lagt_ved_av"], channel="web")
    finally:
        store.close()
    return len(rows)
