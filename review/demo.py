"""Synthetic exception cases shaped like the flows' (for the screenshots, the benchmark and tests).

Evidence follows the flows' convention: `sections` (side-by-side tables or explanations, already
formatted in Norwegian and masked), the clear fnr only in `evidence["fnr"]`, machine-readable
`data`. Fnr are synthetic (month + 40, valid mod-11 check digits), never a real person's.
"""

from __future__ import annotations

import random
import struct
import zlib
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import insert

from connectors.identifiers import fnr_check_digits, mask_fnr
from review.formatting import fmt_amount, fmt_kr
from workqueue.models import CaseAttachment, ExceptionCase
from workqueue.store import NewCase, WorkQueueStore, utcnow

NAV = "nav-refund-offsetting"
VEHICLES = "vehicle-data-collection"
ATTACHMENTS = "invoice-attachment-upload"

NAV_UNITS = ["Bydel Alna", "Bydel Frogner", "Bydel Grorud", "Sykehjemsetaten", "Utdanningsetaten"]
FLEET_UNITS = ["Bymiljøetaten", "Renovasjonsetaten"]
FINANCE_UNITS = ["Økonomiseksjonen"]

FIRST = ["Kari", "Ola", "Ingrid", "Per", "Åse", "Bjørn", "Sølvi", "Øystein", "Marit", "Lars", "Hanne", "Jørgen",
         "Ragnhild", "Emil", "Tone", "Håkon", "Live", "Sigurd", "Aisha", "Mohammed", "Ewa", "Tomasz"]
LAST = ["Hansen", "Johansen", "Olsen", "Larsen", "Andersen", "Pedersen", "Nilsen", "Kristiansen", "Jensen",
        "Karlsen", "Ødegård", "Bråthen", "Sæther", "Lie", "Dahl", "Haugen", "Ali", "Nowak", "Berg", "Strøm"]

NAV_CATEGORIES = ["GRADE", "PARTIAL_REFUND", "SEVERAL_EMPLOYERS", "PERIOD_SHIFT", "CLAIM_UNPAID_PENDING",
                  "PAYMENT_WITHOUT_CLAIM", "AMOUNT_DIFFERENCE", "HOLIDAY_PAY", "NEGATIVE_LINE", "DUPLICATE"]
VEHICLE_CATEGORIES = ["NOT_FOUND", "DEREGISTERED", "EU_CONTROL_OVERDUE", "PLATE_MALFORMED"]
SLA_HOURS = {NAV: 120, VEHICLES: 240, ATTACHMENTS: 48}
ATTACHMENT_CATEGORIES = ["VOUCHER_NOT_FOUND", "SEVERAL_CANDIDATES", "FILE_TYPE_NOT_ALLOWED", "VOUCHER_LOCKED"]


def synthetic_fnr(rng: random.Random) -> str:
    while True:
        day = rng.randint(1, 28)
        month = rng.randint(1, 12) + 40
        year = rng.randint(55, 99)
        individ = rng.randint(100, 499)
        first9 = f"{day:02d}{month:02d}{year:02d}{individ:03d}"
        check = fnr_check_digits(first9)
        if check:
            return first9 + check


def _period(rng: random.Random) -> tuple[str, str, int]:
    month = rng.randint(1, 10)
    return f"01.{month:02d}.2026", f"{[31, 28, 31, 30, 31, 30, 31, 31, 30, 31][month - 1]}.{month:02d}.2026", month


def nav_case(rng: random.Random, category: str, n: int) -> tuple[str, NewCase]:
    first, last = rng.choice(FIRST), rng.choice(LAST)
    fnr = synthetic_fnr(rng)
    monthly = rng.choice([38_000, 42_500, 47_000, 50_000, 55_000, 61_000, 80_000])
    day_rate = min(round(monthly * 12 / 260), 3151)
    weekdays = rng.choice([20, 21, 22, 23])
    grade = {"GRADE": rng.choice([40, 50, 60, 80])}.get(category, 100)
    expected = day_rate * weekdays * grade / 100
    claim = day_rate * weekdays
    nav = {"GRADE": expected, "PARTIAL_REFUND": expected * 0.7, "SEVERAL_EMPLOYERS": expected * 0.55,
           "AMOUNT_DIFFERENCE": expected - rng.randint(60, 2400), "NEGATIVE_LINE": -rng.randint(800, 9000),
           "CLAIM_UNPAID_PENDING": 0.0, "PAYMENT_WITHOUT_CLAIM": expected}.get(category, expected)
    nav = round(nav, 2)
    start, end, month = _period(rng)
    bedrift = rng.choice(["933001547", "973861778", "974589656"])
    claim_id = f"RK-2026-{n:05d}"
    masked = mask_fnr(fnr)
    name_k27 = f"{last.upper()} {first.upper()}"
    explanation = {
        "GRADE": f"NAV har betalt {grade} % av kravet. Sykmeldingen er gradert, men kravet er registrert som 100 %.",
        "PARTIAL_REFUND": "Arbeidsgiveren har bedt om mindre refusjon enn full lønn; resten er utbetalt direkte "
                          "til den ansatte.",
        "SEVERAL_EMPLOYERS": "Den ansatte har flere arbeidsgivere. Samlet inntekt er over 6G, så NAV har avkortet "
                             "refusjonen forholdsmessig.",
        "AMOUNT_DIFFERENCE": "Ingen regel forklarer differansen (dagsats, virkedager, 6G og grad er kontrollert).",
        "CLAIM_UNPAID_PENDING": "Kravet er ikke betalt ennå. Det følges opp ved neste oppgjørsrapport.",
        "PAYMENT_WITHOUT_CLAIM": "NAV har utbetalt refusjon uten at det finnes et registrert krav for perioden.",
        "NEGATIVE_LINE": "Linjen er et trekk (tilbakebetaling) som ikke kunne motregnes mot en tidligere utbetaling.",
        "PERIOD_SHIFT": "Perioden i rapporten er forskjøvet i forhold til kravet.",
        "HOLIDAY_PAY": "Feriepenger av sykepenger for mai. Kontroller mot opptjeningen.",
        "DUPLICATE": "Samme linje er lest inn tidligere (samme rapport mottatt via Altinn 2 og Altinn 3).",
    }.get(category, "Se bevisene.")
    diff = claim - nav
    sections = [
        {"title": "Rapportlinjen og kravet side om side",
         "columns": ["", "NAVs oppgjørsrapport (K27)", "Refusjonskravet (HR)"],
         "rows": [["Ansatt", name_k27, f"{first} {last}"],
                  ["Fødselsnummer", masked, masked],
                  ["Bedriftsnummer", bedrift, bedrift],
                  ["Ytelse", "4 Sykepenger", "Sykepenger"],
                  ["Periode", f"{start}–{end}", f"{start}–{end}"],
                  ["Beløp", fmt_amount(nav), fmt_amount(claim)]]},
        {"title": "Robotens beregning",
         "columns": ["", "Verdi"],
         "rows": [["Månedsinntekt", fmt_amount(monthly)],
                  ["Dagsats (inntekt × 12 / 260, maks 6G)", fmt_amount(day_rate)],
                  ["Virkedager i perioden", str(weekdays)],
                  ["Grad", f"{grade} %"],
                  [f"Robotens beregning ({grade} %)", fmt_amount(expected)],
                  ["Differanse: kravet mot utbetalt", fmt_amount(diff)]]},
        {"title": "Forklaring", "text": explanation},
    ]
    case = NewCase(
        category=category,
        message=f"{name_k27.title()}: NAV har betalt {fmt_kr(nav)}, kravet er {fmt_kr(claim)} "
                f"(differanse {fmt_kr(diff)}) for {start}–{end}.",
        evidence={"sections": sections, "fnr": fnr,
                  "data": {"nav_amount": nav, "claim_amount": claim, "expected_amount": expected,
                           "claim_id": claim_id, "bedriftsnummer": bedrift, "month": month}},
        org_unit=rng.choice(NAV_UNITS), amount=nav, sla_hours=SLA_HOURS[NAV],
        search_text=f"{first} {last} {claim_id} {fmt_amount(nav)} {fmt_amount(claim)}")
    return f"K27-2026-{month:02d}-{n:05d}", case


def vehicle_case(rng: random.Random, category: str, n: int) -> tuple[str, NewCase]:
    letters = rng.choice(["EL", "EK", "EB", "DN", "BS", "ZT"])
    plate = f"{letters} {rng.randint(10000, 99999)}"
    unit = rng.choice(FLEET_UNITS)
    registry = {
        "NOT_FOUND": [["Status", "Finnes ikke i registeret"]],
        "DEREGISTERED": [["Status", "Avregistrert 12.03.2026"], ["Årsak", "Vraket"]],
        "EU_CONTROL_OVERDUE": [["Status", "Registrert"], ["Neste EU-kontroll", "31.08.2026"],
                               ["Sist godkjent", "14.08.2024"]],
        "PLATE_MALFORMED": [["Status", "Ikke slått opp (ugyldig kjennemerke)"]],
    }[category]
    message = {
        "NOT_FOUND": f"{plate} finnes ikke i kjøretøyregisteret.",
        "DEREGISTERED": f"{plate} er avregistrert (vraket 12.03.2026), men står fortsatt i kjøretøylisten.",
        "EU_CONTROL_OVERDUE": f"{plate}: fristen for EU-kontroll gikk ut 31.08.2026 (bruksforbud).",
        "PLATE_MALFORMED": f"«{plate.replace(' ', '')}O» har ugyldig format for et kjennemerke.",
    }[category]
    rows = [["Kjennemerke", plate, plate if category != "PLATE_MALFORMED" else ""],
            ["Virksomhet", unit, ""]] + [[k, "", v] for k, v in registry]
    case = NewCase(category=category, message=message,
                   evidence={"sections": [{"title": "Kjøretøylisten og registeret side om side",
                                           "columns": ["", "Kjøretøylisten", "Statens vegvesen"], "rows": rows}],
                             "data": {"plate": plate}},
                   org_unit=unit, search_text=f"{plate} {plate.replace(' ', '')} {unit}",
                   sla_hours=SLA_HOURS[VEHICLES])
    return f"{plate.replace(' ', '')}", case


def attachment_case(rng: random.Random, category: str, n: int) -> tuple[str, NewCase]:
    supplier = rng.choice(["Kontorrekvisita AS", "Bygg og Anlegg Øst AS", "Renhold Partner AS", "Skolemat Norge AS"])
    invoice = str(rng.randint(10000, 99999))
    amount = round(rng.uniform(900, 250_000), 2)
    filename = f"faktura-{invoice}.pdf" if category != "FILE_TYPE_NOT_ALLOWED" else f"kvittering-{invoice}.heic"
    candidates = [{"voucher_number": str(400000 + rng.randint(0, 99999)), "supplier": supplier,
                   "invoice_number": invoice, "amount": amount} for _ in range(2 if category == "SEVERAL_CANDIDATES" else 0)]
    message = {
        "VOUCHER_NOT_FOUND": f"Fant ikke faktura {invoice} fra {supplier} i økonomisystemet.",
        "SEVERAL_CANDIDATES": f"To bilag passer faktura {invoice} fra {supplier}: velg riktig bilag.",
        "FILE_TYPE_NOT_ALLOWED": f"{filename}: filtypen HEIC er ikke tillatt (bruk PDF, PNG eller JPG).",
        "VOUCHER_LOCKED": f"Bilaget for faktura {invoice} er i en lukket periode.",
    }[category]
    rows = [["Fil", filename, ""], ["Leverandør", supplier, supplier if category != "VOUCHER_NOT_FOUND" else ""],
            ["Fakturanummer", invoice, invoice if category != "VOUCHER_NOT_FOUND" else "Ikke funnet"],
            ["Beløp", fmt_amount(amount), fmt_amount(amount) if category != "VOUCHER_NOT_FOUND" else ""]]
    case = NewCase(category=category, message=message,
                   evidence={"sections": [{"title": "Manifestet og økonomisystemet side om side",
                                           "columns": ["", "Manifest og fil", "Økonomisystemet"], "rows": rows}],
                             "data": {"filename": filename, "candidates": candidates, "invoice_number": invoice}},
                   org_unit=FINANCE_UNITS[0], amount=amount, search_text=f"{supplier} {invoice} {filename}",
                   sla_hours=SLA_HOURS[ATTACHMENTS])
    return f"{filename}", case


def generate(n: int, seed: int = 7) -> Iterator[tuple[str, str, NewCase]]:
    """(process id, reference, case), mostly NAV cases as in real life."""
    rng = random.Random(seed)
    for i in range(n):
        roll = rng.random()
        if roll < 0.7:
            ref, case = nav_case(rng, rng.choice(NAV_CATEGORIES), i)
            yield NAV, ref, case
        elif roll < 0.85:
            ref, case = vehicle_case(rng, rng.choice(VEHICLE_CATEGORIES), i)
            yield VEHICLES, f"{ref}-{i}", case
        else:
            ref, case = attachment_case(rng, rng.choice(ATTACHMENT_CATEGORIES), i)
            yield ATTACHMENTS, f"{i}-{ref}", case


def bulk_insert(store: WorkQueueStore, n: int, seed: int = 7, now: datetime | None = None,
                max_age_days: int = 60, chunk: int = 5000) -> int:
    """Insert n open cases fast (Core executemany), created over the last `max_age_days`."""
    now = now or utcnow()
    rng = random.Random(seed + 1)
    rows: list[dict[str, Any]] = []
    done = 0
    for process_id, reference, case in generate(n, seed):
        created = now - timedelta(minutes=rng.randint(0, max_age_days * 24 * 60))
        rows.append(dict(process_id=process_id, reference=reference, kind="business", category=case.category,
                         message=case.message, evidence=case.evidence, search_text=case.search_text,
                         amount=case.amount, org_unit=case.org_unit, status="open", created_at=created,
                         updated_at=created, due_at=created + timedelta(hours=SLA_HOURS[process_id])))
        if len(rows) >= chunk:
            done += _flush(store, rows)
    done += _flush(store, rows)
    return done


def _flush(store: WorkQueueStore, rows: list[dict[str, Any]]) -> int:
    if not rows:
        return 0
    with store.session() as s:
        s.execute(insert(ExceptionCase), rows)
    n = len(rows)
    rows.clear()
    return n


def png(width: int = 480, height: int = 270, text_rows: int = 6, seed: int = 1) -> bytes:
    """A small, valid PNG (a mock browser screenshot: a header bar and grey text lines)."""
    rng = random.Random(seed)
    lines = {rng.randint(60, height - 20) // 4 * 4 for _ in range(text_rows)}
    raw = bytearray()
    for y in range(height):
        raw.append(0)
        for x in range(width):
            if y < 36:
                px = (18, 53, 91)
            elif any(ly <= y < ly + 8 for ly in lines) and 24 <= x < width - rng.randint(60, 200):
                px = (150, 155, 160)
            elif 200 <= y < 240 and 24 <= x < 300:
                px = (200, 40, 40)
            else:
                px = (250, 250, 250)
            raw.extend(px)

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(bytes(raw), 9)) + chunk(b"IEND", b""))


def seed_showcase(store: WorkQueueStore, n: int = 240, seed: int = 11,
                  screenshot: bytes | None = None) -> dict[str, int]:
    """A realistic queue for the screenshots and the demo: cases of every process, some
    claimed or decided, a bot failure with its screenshot, a refused document. Returns ids of
    a few cases worth showing."""
    now = utcnow()
    bulk_insert(store, n, seed=seed, now=now, max_age_days=12)
    rng = random.Random(seed)
    picked: dict[str, int] = {}
    # A NAV grade case, opened 3 days ago, for the case-page screenshot.
    ref, case = nav_case(rng, "GRADE", 9001)
    c = store.open_case(NAV, ref, case)
    picked["nav"] = c.id
    # A bot failure with a screenshot and a trace.
    sys_case = NewCase(category="SYSTEM_ERROR", message="Teknisk feil etter 4 forsøk: økonomisystemet svarte 503 "
                       "(Tjenesten er midlertidig utilgjengelig) ved opplasting.",
                       evidence={"sections": [{"title": "Hva roboten gjorde", "text":
                                               "Roboten logget inn, åpnet bilaget og fikk feilside ved opplasting."}],
                                 "data": {"url": "http://127.0.0.1:8703/bilag/412233", "status": 503}},
                       org_unit=FINANCE_UNITS[0], sla_hours=24,
                       attachments=[("skjermbilde.png", "image/png", screenshot or png()),
                                    ("trace.zip", "application/zip", b"PK\x05\x06" + b"\x00" * 18)])
    picked["system"] = store.open_case(ATTACHMENTS, "underbilag-412233.pdf", sys_case, kind="system").id
    # A refused document with two candidate vouchers.
    ref, att_case = attachment_case(rng, "SEVERAL_CANDIDATES", 9002)
    att_case.attachments.append((att_case.evidence["data"]["filename"], "application/pdf",
                                 b"%PDF-1.4\n% syntetisk faktura\n%%EOF\n"))
    picked["attachment"] = store.open_case(ATTACHMENTS, ref, att_case).id
    return picked


def add_attachment(store: WorkQueueStore, case_id: int, filename: str, media_type: str, content: bytes) -> None:
    with store.session() as s:
        s.add(CaseAttachment(case_id=case_id, filename=filename, media_type=media_type, size=len(content),
                             content=content, created_at=utcnow()))
