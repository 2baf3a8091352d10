"""Synthetic HR exports for the demo and tests: requests, employment records and the ground truth.

Every person is synthetic (NAV's month + 40 range, one D-number, one Tenor month + 80). The traps
of real exports are planted on purpose: an fnr stored as a number (leading zero lost), dates as
Excel dates and as dd.mm.åååå text, overlapping positions, an end before its start, 120 % on one
day, a request with a bad check digit, a person with no records, and repeated requests.
"""

from __future__ import annotations

import csv
import random
from datetime import date, timedelta
from pathlib import Path

from openpyxl import Workbook

from connectors.identifiers import fnr_check_digits
from sandbox.hr.human import write_hr_list

FIRST = ["Kari", "Ola", "Ingrid", "Per", "Sofie", "Ahmed", "Mona", "Lars", "Fatima", "Jonas", "Nora", "Emil"]
LAST = ["Nordmann", "Hansen", "Johansen", "Olsen", "Larsen", "Andersen", "Pedersen", "Nilsen", "Berg", "Haugen"]
TITLES = [("Sykepleier", "Pleie og omsorg i hjemmetjenesten"), ("Lærer", "Undervisning på mellomtrinnet"),
          ("Konsulent", "Saksbehandling og arkiv"), ("Renholder", ""), ("Barnehagelærer", "Pedagogisk arbeid")]
UNITS = ["Bydel Frogner", "Bydel Grorud", "Utdanningsetaten", "Sykehjemsetaten", "Bydel Sagene"]


def _fnr(rng: random.Random, born: date, day_add: int = 0, month_add: int = 40) -> str:
    while True:
        first9 = f"{born.day + day_add:02d}{born.month + month_add:02d}{born.year % 100:02d}{rng.randint(0, 499):03d}"
        digits = fnr_check_digits(first9)
        if digits:
            return first9 + digits


def seed(data_dir: Path, seed: int = 1, scale: float = 1.0) -> dict[str, Path]:
    rng = random.Random(seed)
    folder = Path(data_dir) / "input" / "tjenestebevis"
    folder.mkdir(parents=True, exist_ok=True)
    people, positions, requests, truth = [], [], [], []
    n = max(12, round(40 * scale))
    for i in range(n):
        born = date(1960, 1, 1) + timedelta(days=rng.randint(0, 14000))
        kind = "D" if i == 1 else "tenor" if i == 2 else "zero" if i == 3 else "plain"
        if kind == "zero":
            born = born.replace(day=rng.randint(1, 9))
        number = _fnr(rng, born, day_add=40 if kind == "D" else 0, month_add=80 if kind == "tenor" else 40)
        name = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
        people.append((number, name, kind))
        start = date(2005, 1, 1) + timedelta(days=rng.randint(0, 5000))
        for _ in range(rng.choice([1, 1, 2, 3])):  # one after the other, never overlapping
            title, duties = rng.choice(TITLES)
            end = None if rng.random() < 0.4 else start + timedelta(days=rng.randint(200, 2000))
            positions.append([number, name, title, rng.choice(UNITS), start, end, rng.choice([100, 80, 50]), duties])
            start = (end or start) + timedelta(days=rng.randint(1, 400))
            if end is None:
                break
    ordered = date(2026, 11, 2)

    def request(number: str | int, expected: str, purpose: str = "Søknad om ny stilling") -> None:
        rid = f"TB-{2026}{len(requests) + 1:04d}"
        requests.append([rid, number, ordered + timedelta(days=len(requests) % 20), purpose])
        truth.append([rid, expected])

    for number, _name, _kind in people[4:]:
        request(number, "ISSUED")
    request(people[1][0], "ISSUED")                                        # D-number
    request(people[2][0], "ISSUED")                                        # Tenor synthetic
    request(int(people[3][0]), "ISSUED")                                   # stored as a number: 10 digits
    request(people[0][0], "ISSUED")
    bad = people[5][0][:10] + str((int(people[5][0][10]) + 1) % 10)
    request(bad, "INVALID_FNR")
    request(_fnr(rng, date(1990, 6, 15)), "NO_EMPLOYMENT")
    # An end before its start, and 120 % on one day.
    positions.append([people[6][0], people[6][1], "Vikar", UNITS[0], date(2021, 5, 1), date(2020, 4, 30), 20, ""])
    truth[[r[1] for r in requests].index(people[6][0])][1] = "INCONSISTENT_RECORDS"
    first = next(p for p in positions if p[0] == people[7][0])
    positions.append([people[7][0], people[7][1], "Ekstravakt", UNITS[1], first[4], None, 40, ""])
    first[6] = 80 if first[6] < 80 else first[6]
    truth[[r[1] for r in requests].index(people[7][0])][1] = "INCONSISTENT_RECORDS"
    request(people[8][0], "DUPLICATE_SAME")                                # the same request twice: one letter
    request(people[9][0], "DUPLICATE_REQUEST", purpose="Lønnsplassering (ansiennitet)")  # differs: a case

    req_path, emp_path = folder / "bestillinger.xlsx", folder / "arbeidsforhold.xlsx"
    _write(req_path, "Bestillinger", ["bestilling_id", "fnr", "bestilt_dato", "formal"], requests, text_dates=False)
    _write(emp_path, "Arbeidsforhold", ["fnr", "navn", "stillingstittel", "virksomhet", "fra_dato", "til_dato",
                                        "stillingsprosent", "arbeidsoppgaver"], positions, text_dates=True)
    truth_path = Path(data_dir) / "ground_truth" / "tjenestebevis.csv"
    truth_path.parent.mkdir(parents=True, exist_ok=True)
    with truth_path.open("w", newline="", encoding="utf-8") as f:
        csv.writer(f, delimiter=";").writerows([["bestilling_id", "utfall"], *truth])
    return {"requests": req_path, "employment": emp_path, "ground_truth": truth_path,
            **write_hr_list(data_dir, requests, truth, positions, seed)}


def _write(path: Path, sheet: str, header: list[str], rows: list[list], text_dates: bool) -> None:
    """Dates as Excel dates, or every other one as dd.mm.åååå text (both occur in real exports)."""
    wb = Workbook()
    ws = wb.active
    ws.title = sheet
    ws.append(header)
    for n, row in enumerate(rows):
        ws.append([f"{v:%d.%m.%Y}" if isinstance(v, date) and text_dates and n % 2 else v for v in row])
    wb.save(path)
