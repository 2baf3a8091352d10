"""The people's own outcome for the seeded period, for shadow mode (docs/shadow.md): the ledger
postings HR made by hand (claim id, amount offset, date), as the ledger exports them, with a few
human mistakes in it, listed in their own ground truth.

    <data_dir>/input/nav-refund-offsetting/hovedbok-posteringer.csv        the export (';', decimal comma)
    <data_dir>/ground_truth/nav-refund-offsetting-menneskelige-feil.csv   the mistakes (UTF-8, ',')

The correct postings are the seed's ground truth (every line whose correct outcome is an offset,
per claim and report, dated the report's value date); the mistakes are:

    feil_belop        a posting with two digits of the kroner swapped
    glemt             a claim that should have been offset, never posted
    dobbeltfort       a claim posted twice
    utlignet_ubetalt  a claim NAV never paid, posted as offset with the claimed amount
"""

from __future__ import annotations

import csv
import random
from collections import defaultdict
from datetime import date
from pathlib import Path

from connectors.nav.k27 import K27Line

PROCESS_ID = "nav-refund-offsetting"
OFFSETS = {"EXACT", "ROUNDING", "WEEKDAYS", "CAP_6G"}
POSTINGS = f"input/{PROCESS_ID}/hovedbok-posteringer.csv"
MISTAKES = f"ground_truth/{PROCESS_ID}-menneskelige-feil.csv"


def _nok(ore: int) -> str:
    return ("-" if ore < 0 else "") + f"{abs(ore) // 100},{abs(ore) % 100:02d}"


def _swap(ore: int) -> int:
    """Two digits of the kroner swapped (1234,50 -> 1243,50); the same amount if they are equal."""
    kr, rest = divmod(ore, 100)
    text = str(kr)
    if len(text) < 2:
        return ore
    return int(text[:-2] + text[-1] + text[-2]) * 100 + rest


def write_human_postings(data_dir: Path, built, value_dates: dict[str, date], seed: int = 42) -> dict[str, Path]:
    rng = random.Random(seed * 7 + 17)
    paid: dict[tuple[str, str], int] = defaultdict(int)
    plain: set[str] = set()  # claims paid by one ordinary line of a monthly report: where the mistakes go
    for report_id, lines in built.reports.items():
        for ln in lines:
            if ln.outcome in OFFSETS and ln.claim_id and isinstance(ln.k27, K27Line):
                paid[(ln.claim_id, report_id)] += ln.k27.amount_ore
                if ln.scenario == "exact" and report_id in ("1001", "1002"):
                    plain.add(ln.claim_id)
    postings = [[claim, report_id, ore] for (claim, report_id), ore in sorted(paid.items())]
    once = {c for c in plain if sum(1 for p in postings if p[0] == c) == 1}
    wrong, forgotten, doubled = rng.sample([p for p in postings if p[0] in once and _swap(p[2]) != p[2]], 3)
    claims = {c["krav_id"]: c for c in built.claims}
    unpaid_claim = rng.choice(sorted(k for k, outcome, _ in built.unpaid if outcome == "CLAIM_UNPAID_FINAL"))
    unpaid_ore = round(claims[unpaid_claim]["krav_belop"] * 100)

    mistakes = [[wrong[0], "feil_belop", _nok(wrong[2]), _nok(_swap(wrong[2]))],
                [forgotten[0], "glemt", _nok(forgotten[2]), ""],
                [doubled[0], "dobbeltfort", _nok(doubled[2]), _nok(2 * doubled[2])],
                [unpaid_claim, "utlignet_ubetalt", "", _nok(unpaid_ore)]]
    rows = []
    last_day = max(value_dates.values())
    for claim, report_id, ore in postings:
        if claim == forgotten[0]:
            continue
        day = value_dates[report_id].strftime("%d.%m.%Y")
        rows.append([claim, _nok(_swap(ore) if claim == wrong[0] else ore), day])
        if claim == doubled[0]:
            rows.append([claim, _nok(ore), day])
    rows.append([unpaid_claim, _nok(unpaid_ore), last_day.strftime("%d.%m.%Y")])

    postings_path = Path(data_dir) / POSTINGS
    postings_path.parent.mkdir(parents=True, exist_ok=True)
    with postings_path.open("w", newline="", encoding="utf-8") as f:
        csv.writer(f, delimiter=";").writerows([["krav_id", "belop", "bilagsdato"], *rows])
    mistakes_path = Path(data_dir) / MISTAKES
    mistakes_path.parent.mkdir(parents=True, exist_ok=True)
    with mistakes_path.open("w", newline="", encoding="utf-8") as f:
        csv.writer(f).writerows([["krav_id", "feil", "riktig_belop", "menneskets_belop"], *mistakes])
    return {"human_postings": postings_path, "human_mistakes": mistakes_path}
