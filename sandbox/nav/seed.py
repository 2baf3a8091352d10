"""Synthetic NAV settlement reports, HR's refund claims and the ground truth of every line.

Deterministic from the seed. Writes
  <data_dir>/sandbox/nav/reports/index.json + <id>.csv    what NAV's API and Altinn serve
  <data_dir>/input/nav-refund-offsetting/refusjonskrav.xlsx       HR's claims export
  <data_dir>/input/nav-refund-offsetting/ansatte.csv              HR's employee register
  <data_dir>/input/nav-refund-offsetting/bankinnbetalinger.csv    NAV's credits on the bank statement
  <data_dir>/input/nav-refund-offsetting/rapporter/*.csv          the same reports, for source=folder
  <data_dir>/ground_truth/nav-refund-offsetting.csv               the correct outcome of every line
  <data_dir>/input/nav-refund-offsetting/hovedbok-posteringer.csv  HR's own postings (shadow mode; sandbox.nav.human)

The data set is spring 2026 for one municipality (orgnr 974600013):
  1001  valued 04.05.2026  April sick pay
  1002  valued 01.06.2026  May sick pay + holiday pay (feriepenger, code H, period 01.05-31.05)
  1003  valued 15.06.2026  extra settlement: late lines, G back-payments, the rest of split claims
  1004  same content as 1003 (the Altinn 2 and Altinn 3 channels both delivered it)
  1005  valued 22.06.2026  extra settlement whose bank credit differs from the report total
with a realistic mix of every discrepancy category in docs/nav.md. NAV's computation here is an
independent implementation (Decimal, per line), so the seed is an oracle for the matcher, not
a copy of it.

Ground truth (UTF-8 CSV): kind (line|claim), report_id, line_no, outcome, claim_id, scenario.
Line rows: one per report line, outcome an offset reason (EXACT, ROUNDING, WEEKDAYS, CAP_6G)
or an exception category; claim_id for offsets. Claim rows: claims that no line pays and that
must end as CLAIM_UNPAID_PENDING / CLAIM_UNPAID_FINAL.
"""

from __future__ import annotations

import csv
import json
import random
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import numpy as np

from connectors.identifiers import fnr_check_digits, orgnr_check_digit
from connectors.nav.k27 import K27Line, format_line, to_bytes

PROCESS_ID = "nav-refund-offsetting"
ORGNR = "974600013"
ORG_NAME = "EKSEMPEL KOMMUNE"
NAV_UNIT = "8020"
G = [(date(2024, 5, 1), 124_028), (date(2025, 5, 1), 130_160), (date(2026, 5, 1), 136_549)]

SUB_UNITS = [  # (bedriftsnummer prefix, name, org unit)
    ("97310", "Nordby skole", "Oppvekst og utdanning"),
    ("97311", "Sørli barnehage", "Oppvekst og utdanning"),
    ("97312", "Åsen sykehjem", "Helse og velferd"),
    ("97313", "Hjemmetjenesten øst", "Helse og velferd"),
    ("97314", "Bygg og eiendom", "Teknisk og miljø"),
    ("97315", "Kulturhuset", "Kultur og fritid"),
    ("97316", "Rådhuset", "Sentraladministrasjonen"),
    ("97317", "Legevakten", "Helse og velferd"),
]
SURNAMES = ["HANSEN", "JOHANSEN", "OLSEN", "LARSEN", "ANDERSEN", "PEDERSEN", "NILSEN", "KRISTIANSEN", "JENSEN",
            "KARLSEN", "JOHNSEN", "PETTERSEN", "ERIKSEN", "BERG", "HAUGEN", "HAGEN", "SØRENSEN", "BRÅTEN",
            "ØDEGÅRD", "SÆTHER", "LØKEN", "STRØM", "DAHL", "LUND", "MOEN", "AASEN", "BAKKE", "SOLBERG",
            "MARTINSEN-KVÅLE", "FJELLHEIMSTRØMSLI"]
GIVEN = ["KARI", "OLA", "ÅSE", "KNUT", "INGRID", "BJØRN", "SIGRID", "PÅL", "MARIT", "ØYVIND", "ANNE", "JON",
         "LIV", "TORE", "HEGE", "ERLEND", "SOLVEIG", "GRO", "ASBJØRN", "TRINE", "MARIA KRISTINE"]

# Share of each scenario among the lines of a monthly report (the rest is EXACT).
SCENARIO_WEIGHTS = {
    "rounding": 0.07, "weekdays": 0.09, "weekdays_no_income": 0.03, "cap_6g": 0.025, "wrong_g": 0.01,
    "multi_line": 0.015, "netted": 0.01,
    "grade_inferred": 0.01, "grade_registered": 0.006, "grade_fewer_days": 0.006, "partial_refund": 0.008,
    "several_employers": 0.005, "split_positions": 0.006, "period_half": 0.006, "period_shift": 0.006,
    "payment_without_claim": 0.008, "agp_code_6": 0.005, "negative_line": 0.005, "unknown_person": 0.006,
    "wrong_bnr": 0.005, "wrong_code": 0.005, "amount_difference": 0.01, "invalid_line": 0.006,
}


def _round_kr(value: Decimal) -> int:
    return int(value.quantize(Decimal(1), ROUND_HALF_UP))


def g_at(day: date) -> int:
    return [g for start, g in G if start <= day][-1]


def nav_day_rate(basis_ore: int, g: int, grade: float = 100) -> int:
    """NAV's rule, independently: min(basis x 12, 6G) / 260 x grade, whole kroner, half up."""
    annual = min(Decimal(basis_ore) * 12, Decimal(g) * 6 * 100) / 100
    return _round_kr(annual / 260 * Decimal(str(grade)) / 100)


def weekdays(fra: date, til: date) -> int:
    return int(np.busday_count(fra, til + timedelta(days=1)))


def month_end(d: date) -> date:
    nxt = d.replace(day=28) + timedelta(days=4)
    return nxt - timedelta(days=nxt.day)


@dataclass
class Person:
    fnr: str
    name: str
    bnr: str
    org_unit: str
    income_ore: int
    first_day: date
    maksdato: date


@dataclass
class Line:
    k27: K27Line | str  # a str is a deliberately broken line
    outcome: str
    claim_id: str
    scenario: str


@dataclass
class Built:
    claims: list[dict] = field(default_factory=list)
    employees: list[dict] = field(default_factory=list)
    reports: dict[str, list[Line]] = field(default_factory=dict)
    unpaid: list[tuple[str, str, str]] = field(default_factory=list)  # claim_id, outcome, scenario


class Generator:
    def __init__(self, seed: int, scale: float):
        self.rng = random.Random(seed)
        self.scale = scale
        self.used_fnr: set[str] = set()
        self.claim_no = 0
        self.out = Built()
        self.bnrs = []
        for prefix, name, unit in SUB_UNITS:
            for tail in range(1000):
                first8 = f"{prefix}{tail:03d}"
                check = orgnr_check_digit(first8)
                if check is not None:
                    self.bnrs.append((first8 + str(check), name, unit))
                    break
        self.account = self._account()
        self.continuing: list[tuple[Person, int]] = []  # (person, grade) paid in April, still sick in May

    # -- identities ----------------------------------------------------------------------------
    def _account(self) -> str:
        while True:
            first10 = "1503" + "".join(str(self.rng.randint(0, 9)) for _ in range(6))
            rest = 11 - sum(int(d) * w for d, w in zip(first10, (5, 4, 3, 2, 7, 6, 5, 4, 3, 2), strict=True)) % 11
            if rest != 10:
                return first10 + str(0 if rest == 11 else rest)

    def fnr(self) -> str:
        while True:
            born = date(1962, 1, 1) + timedelta(days=self.rng.randint(0, 365 * 38))
            individ = self.rng.randint(0, 499) if born.year < 2000 else self.rng.randint(500, 999)
            first9 = f"{born.day:02d}{born.month + 40:02d}{born.year % 100:02d}{individ:03d}"
            check = fnr_check_digits(first9)
            if check and first9 + check not in self.used_fnr:
                self.used_fnr.add(first9 + check)
                return first9 + check

    def name(self) -> str:
        return f"{self.rng.choice(SURNAMES)} {self.rng.choice(GIVEN)}"

    def person(self, month: date, *, income: tuple[int, int] = (35_000, 62_000), new_in_month: bool = False,
               register: bool = True, bnr: tuple[str, str, str] | None = None) -> Person:
        bnr_, _, unit = bnr or self.rng.choice(self.bnrs)
        if new_in_month:  # first absence day early in the month: NAV pays from day 17
            first = month + timedelta(days=self.rng.randint(0, 8))
        else:
            first = month - timedelta(days=self.rng.randint(20, 120))
        income_ore = self.rng.randint(*income) * 100
        p = Person(self.fnr(), self.name(), bnr_, unit, income_ore, first,
                   maksdato=first + timedelta(days=self.rng.randint(330, 370)))
        if register:
            self.out.employees.append({"fnr": p.fnr, "bedriftsnummer": p.bnr, "org_enhet": p.org_unit,
                                       "stillingsprosent": "100"})
        return p

    # -- claims and lines ----------------------------------------------------------------------
    def claim(self, p: Person, fra: date, til: date, amount_ore: int, *, code: str = "4", income: bool = True,
              refund_ore: int | None = None, grade: float | None = None, bnr: str | None = None,
              org_unit: str | None = None, income_ore: int | None = None) -> str:
        self.claim_no += 1
        krav_id = f"K{fra:%y%m}-{self.claim_no:05d}"
        self.out.claims.append({
            "krav_id": krav_id, "fnr": p.fnr, "bedriftsnummer": bnr or p.bnr, "ytelse": code, "fra_dato": fra,
            "til_dato": til, "krav_belop": amount_ore / 100, "org_enhet": org_unit or p.org_unit,
            "manedsinntekt": (income_ore or p.income_ore) / 100 if income else None,
            "refusjon_per_mnd": (refund_ore if refund_ore is not None else (income_ore or p.income_ore)) / 100
            if income else None,
            "grad": grade if grade is not None else (100 if income else None),
            "forste_fravaersdag": p.first_day if income else None,
        })
        return krav_id

    def k27(self, p: Person, fra: date | None, til: date | None, amount_ore: int, *, code: str = "4",
            bnr: str | None = None, maksdato: date | None = None) -> K27Line:
        return K27Line(orgnr=ORGNR, bnr=bnr or p.bnr, code=code, fnr=p.fnr, fra=fra, konto=self.account,
                       navn=p.name, til=til, amount_ore=amount_ore, maksdato=maksdato or p.maksdato,
                       nav_unit=NAV_UNIT)

    def add(self, report: str, line: K27Line | str, outcome: str, claim_id: str, scenario: str) -> None:
        self.out.reports.setdefault(report, []).append(Line(line, outcome, claim_id, scenario))

    # -- one monthly report --------------------------------------------------------------------
    def monthly(self, report: str, month: date, n_lines: int) -> None:
        end = month_end(month)
        kinds = list(SCENARIO_WEIGHTS)
        weights = [SCENARIO_WEIGHTS[k] for k in kinds]
        exact_weight = 1.0 - sum(weights)
        plan: list[str] = []
        for kind, weight in zip(kinds, weights, strict=True):
            plan += [kind] * max(1, round(weight * n_lines))
        plan += ["exact"] * max(0, round(exact_weight * n_lines))
        if month.month == 5:
            plan += ["continuing"] * min(len(self.continuing) // 2, round(0.25 * n_lines))
            plan += ["maksdato_changed"] * max(1, round(0.006 * n_lines))
            plan += ["holiday_claimed"] * max(1, round(0.03 * n_lines))
            plan += ["holiday_unclaimed"] * max(1, round(0.015 * n_lines))
            plan += ["holiday_amount"] * 1
            plan += ["new_g_2026"] * max(1, round(0.02 * n_lines))
            plan += ["split_across_reports"] * max(1, round(0.005 * n_lines))
            plan += ["late_line"] * max(1, round(0.02 * n_lines))
            plan += ["late_line_bank"] * max(1, round(0.012 * n_lines))
            plan += ["g_backpay"] * max(1, round(0.01 * n_lines))
        if month.month == 4:
            plan += ["past_maksdato"] * 1
        self.rng.shuffle(plan)
        for kind in plan:
            getattr(self, f"_s_{kind}")(report, month, end)

    def _pay(self, p: Person, fra: date, til: date, grade: float = 100, basis: int | None = None) -> int:
        return nav_day_rate(basis if basis is not None else p.income_ore, g_at(p.first_day), grade) * \
            weekdays(fra, til) * 100

    # Offsets ----------------------------------------------------------------------------------
    def _s_exact(self, report, month, end, income=None):
        p = self.person(month)
        amount = self._pay(p, month, end)
        krav = self.claim(p, month, end, amount, income=self.rng.random() < 0.75 if income is None else income)
        self.add(report, self.k27(p, month, end, amount), "EXACT", krav, "exact")
        if month.month == 4:
            self.continuing.append((p, 100))

    def _s_continuing(self, report, month, end):
        p, _ = self.continuing.pop(self.rng.randrange(len(self.continuing)))
        amount = self._pay(p, month, end)
        krav = self.claim(p, month, end, amount)
        self.add(report, self.k27(p, month, end, amount), "EXACT", krav, "continuing")

    def _s_maksdato_changed(self, report, month, end):
        p, _ = self.continuing.pop(self.rng.randrange(len(self.continuing)))
        amount = self._pay(p, month, end)
        self.claim(p, month, end, amount)
        moved = p.maksdato - timedelta(days=self.rng.randint(14, 60))
        self.add(report, self.k27(p, month, end, amount, maksdato=moved), "MAKSDATO_CHANGED", "", "maksdato_changed")

    def _s_rounding(self, report, month, end):
        p = self.person(month)
        amount = self._pay(p, month, end)
        # HR multiplied an unrounded day rate by the weekdays: a few kroner off.
        exact = Decimal(min(p.income_ore * 12, g_at(p.first_day) * 600)) / 100 / 260 * weekdays(month, end)
        claim = int((exact * 100).quantize(Decimal(1), ROUND_HALF_UP))
        if claim == amount:
            claim += 1_000
        krav = self.claim(p, month, end, claim)
        self.add(report, self.k27(p, month, end, amount), "ROUNDING", krav, "rounding")

    def _s_weekdays(self, report, month, end, income=True, scenario="weekdays"):
        p = self.person(month)
        amount = self._pay(p, month, end)
        krav = self.claim(p, month, end, p.income_ore, income=income)  # the monthly salary
        self.add(report, self.k27(p, month, end, amount), "WEEKDAYS", krav, scenario)

    def _s_weekdays_no_income(self, report, month, end):
        self._s_weekdays(report, month, end, income=False, scenario="weekdays_no_income")

    def _s_cap_6g(self, report, month, end):
        p = self.person(month, income=(70_000, 110_000))
        amount = self._pay(p, month, end)
        krav = self.claim(p, month, end, p.income_ore)
        self.add(report, self.k27(p, month, end, amount), "CAP_6G", krav, "cap_6g")

    def _s_wrong_g(self, report, month, end):
        """HR capped at last year's G (old day cap); NAV used the G in force on the first day."""
        p = self.person(month, income=(70_000, 110_000))
        amount = self._pay(p, month, end)
        old_cap = nav_day_rate(p.income_ore, [g for s, g in G if s <= p.first_day][-2])
        krav = self.claim(p, month, end, old_cap * weekdays(month, end) * 100)
        if abs(old_cap * weekdays(month, end) * 100 - amount) <= 5_000:
            self.add(report, self.k27(p, month, end, amount), "ROUNDING", krav, "wrong_g_small")
        else:
            self.add(report, self.k27(p, month, end, amount), "CAP_6G", krav, "wrong_g")

    def _s_new_g_2026(self, report, month, end):
        """Sick from early May 2026: the 2026 G applies (day cap 3 151)."""
        p = self.person(month, new_in_month=True, income=(40_000, 100_000))
        fra = p.first_day + timedelta(days=16)
        amount = self._pay(p, fra, end)
        capped = p.income_ore * 12 > g_at(p.first_day) * 600
        if capped:
            krav = self.claim(p, fra, end, nav_day_rate(p.income_ore, G[-2][1]) * weekdays(fra, end) * 100)
            self.add(report, self.k27(p, fra, end, amount), "CAP_6G", krav, "new_g_2026_capped")
        else:
            krav = self.claim(p, fra, end, amount)
            self.add(report, self.k27(p, fra, end, amount), "EXACT", krav, "new_g_2026")

    def _s_multi_line(self, report, month, end):
        p = self.person(month)
        mid = month + timedelta(days=14)
        a, b = self._pay(p, month, mid), self._pay(p, mid + timedelta(days=1), end)
        krav = self.claim(p, month, end, a + b)
        self.add(report, self.k27(p, month, mid, a), "EXACT", krav, "multi_line")
        self.add(report, self.k27(p, mid + timedelta(days=1), end, b), "EXACT", krav, "multi_line")

    def _s_split_across_reports(self, report, month, end):
        p = self.person(month)
        mid = month + timedelta(days=14)
        a, b = self._pay(p, month, mid), self._pay(p, mid + timedelta(days=1), end)
        krav = self.claim(p, month, end, a + b)
        self.add(report, self.k27(p, month, mid, a), "EXACT", krav, "split_across_reports")
        self.add("1003", self.k27(p, mid + timedelta(days=1), end, b), "EXACT", krav, "split_across_reports")

    def _s_netted(self, report, month, end):
        p = self.person(month)
        amount = self._pay(p, month, end)
        recovered = self.rng.randint(5, 40) * 10_000
        krav = self.claim(p, month, end, amount)
        self.add(report, self.k27(p, month, end, amount + recovered), "EXACT", krav, "netted")
        self.add(report, self.k27(p, None, None, -recovered, code="A"), "EXACT", krav, "netted")

    def _s_late_line(self, report, month, end, target="1003", outcome="EXACT", scenario="late_line"):
        p = self.person(month)
        amount = self._pay(p, month, end)
        krav = self.claim(p, month, end, amount)
        self.add(target, self.k27(p, month, end, amount), outcome, krav if outcome == "EXACT" else "", scenario)

    def _s_late_line_bank(self, report, month, end):
        self._s_late_line(report, month, end, target="1005", outcome="BANK_TOTAL_MISMATCH", scenario="late_line_bank")

    # Exceptions --------------------------------------------------------------------------------
    def _s_grade_inferred(self, report, month, end):
        p = self.person(month)
        grade = self.rng.choice([40, 50, 60, 70, 80])
        self.claim(p, month, end, self._pay(p, month, end))
        self.add(report, self.k27(p, month, end, self._pay(p, month, end, grade)), "GRADE", "", "grade_inferred")

    def _s_grade_registered(self, report, month, end):
        p = self.person(month)
        grade = self.rng.choice([30, 50, 60])
        self.claim(p, month, end, self._pay(p, month, end), grade=grade)  # HR must not reduce the claim
        self.add(report, self.k27(p, month, end, self._pay(p, month, end, grade)), "GRADE", "", "grade_registered")

    def _s_grade_fewer_days(self, report, month, end):
        p = self.person(month)
        rate = nav_day_rate(p.income_ore, g_at(p.first_day))
        days = weekdays(month, end) - self.rng.randint(2, 6)
        self.claim(p, month, end, self._pay(p, month, end))
        self.add(report, self.k27(p, month, end, rate * days * 100), "GRADE", "", "grade_fewer_days")

    def _s_partial_refund(self, report, month, end):
        p = self.person(month, income=(45_000, 62_000))
        refund = p.income_ore - self.rng.randint(5_000, 15_000) * 100
        self.claim(p, month, end, p.income_ore, refund_ore=refund)  # HR claimed the whole salary
        self.add(report, self.k27(p, month, end, self._pay(p, month, end, basis=refund)), "PARTIAL_REFUND", "",
                 "partial_refund")

    def _s_several_employers(self, report, month, end):
        a = self.person(month, income=(40_000, 50_000))
        b_unit = self.rng.choice([u for u in self.bnrs if u[0] != a.bnr])
        income_b = self.rng.randint(27_000, 35_000) * 100
        self.out.employees.append({"fnr": a.fnr, "bedriftsnummer": b_unit[0], "org_enhet": b_unit[2],
                                   "stillingsprosent": "40"})
        total = a.income_ore + income_b
        g = g_at(a.first_day)
        days = weekdays(month, end)
        for bnr, unit, income in ((a.bnr, a.org_unit, a.income_ore), (b_unit[0], b_unit[2], income_b)):
            self.claim(a, month, end, income, bnr=bnr, org_unit=unit, income_ore=income)
            share = min(Decimal(total) * 12, Decimal(g) * 600) * Decimal(income) / Decimal(total) / 100 / 260
            self.add(report, self.k27(a, month, end, _round_kr(share) * days * 100, bnr=bnr), "SEVERAL_EMPLOYERS", "",
                     "several_employers")

    def _s_split_positions(self, report, month, end):
        p = self.person(month, income=(45_000, 60_000))
        first_share = self.rng.choice([0.4, 0.5, 0.6])
        incomes = [round(p.income_ore * first_share), p.income_ore - round(p.income_ore * first_share)]
        self.out.employees.append({"fnr": p.fnr, "bedriftsnummer": p.bnr, "org_enhet": p.org_unit,
                                   "stillingsprosent": "40"})
        for income in incomes:
            self.claim(p, month, end, self._pay(p, month, end, basis=income), income_ore=income)
        self.add(report, self.k27(p, month, end, self._pay(p, month, end)), "SPLIT_POSITIONS", "", "split_positions")

    def _s_period_half(self, report, month, end):
        p = self.person(month)
        self.claim(p, month, end, self._pay(p, month, end))
        til = month + timedelta(days=14)
        self.add(report, self.k27(p, month, til, self._pay(p, month, til)), "PERIOD_SHIFT", "", "period_half")

    def _s_period_shift(self, report, month, end):
        p = self.person(month)
        self.claim(p, month, end, self._pay(p, month, end))
        fra = month + timedelta(days=self.rng.randint(5, 9))
        self.add(report, self.k27(p, fra, end, self._pay(p, fra, end)), "PERIOD_SHIFT", "", "period_shift")

    def _s_payment_without_claim(self, report, month, end):
        p = self.person(month)  # known employee, absence never registered in HR
        self.add(report, self.k27(p, month, end, self._pay(p, month, end)), "PAYMENT_WITHOUT_CLAIM", "",
                 "payment_without_claim")

    def _s_agp_code_6(self, report, month, end):
        p = self.person(month)  # chronic illness: NAV refunds the employer period, HR never claims it
        fra = month + timedelta(days=self.rng.randint(0, 10))
        til = fra + timedelta(days=15)
        self.add(report, self.k27(p, fra, til, self._pay(p, fra, til), code="6"), "PAYMENT_WITHOUT_CLAIM", "",
                 "agp_code_6")

    def _s_g_backpay(self, report, month, end):
        """After the G regulation NAV re-computes capped cases: a back-payment with no claim."""
        p = self.person(month, income=(80_000, 110_000))
        amount = self._pay(p, month, end)
        krav = self.claim(p, month, end, amount)
        self.add(report, self.k27(p, month, end, amount), "EXACT", krav, "g_backpay_original")
        extra = (nav_day_rate(p.income_ore, G[-1][1]) - nav_day_rate(p.income_ore, g_at(p.first_day))) \
            * weekdays(month, end) * 100
        self.add("1003", self.k27(p, month, end, extra), "PAYMENT_WITHOUT_CLAIM", "", "g_backpay")

    def _s_negative_line(self, report, month, end):
        p = self.person(month)
        self.add(report, self.k27(p, None, None, -self.rng.randint(50, 600) * 1_000, code="A"), "NEGATIVE_LINE", "",
                 "negative_line")

    def _s_unknown_person(self, report, month, end):
        p = self.person(month, register=False)
        self.add(report, self.k27(p, month, end, self._pay(p, month, end)), "UNKNOWN_EMPLOYEE", "", "unknown_person")

    def _s_wrong_bnr(self, report, month, end):
        p = self.person(month)
        other = self.rng.choice([u for u in self.bnrs if u[0] != p.bnr])
        amount = self._pay(p, month, end)
        self.claim(p, month, end, amount)
        self.add(report, self.k27(p, month, end, amount, bnr=other[0]), "UNKNOWN_EMPLOYEE", "", "wrong_bnr")

    def _s_wrong_code(self, report, month, end):
        p = self.person(month)
        amount = self._pay(p, month, end)
        self.claim(p, month, end, amount)
        self.add(report, self.k27(p, month, end, amount, code=self.rng.choice(["7", "5"])), "WRONG_BENEFIT_CODE", "",
                 "wrong_code")

    def _s_amount_difference(self, report, month, end):
        p = self.person(month)
        amount = self._pay(p, month, end)
        income = self.rng.random() < 0.6
        self.claim(p, month, end, amount, income=income)
        # Without income data a whole-month claim reads as a monthly amount; keep clear of what
        # that would explain, or the difference would be explained after all.
        implied = nav_day_rate(amount, g_at(p.first_day)) * weekdays(month, end) * 100
        while True:
            off = self.rng.choice([-1, 1]) * (self.rng.randint(200, 3_000) * 100 + self.rng.randint(1, 99))
            if income or abs(amount + off - implied) > 20_000:
                break
        self.add(report, self.k27(p, month, end, amount + off), "AMOUNT_DIFFERENCE", "", "amount_difference")

    def _s_invalid_line(self, report, month, end):
        p = self.person(month)
        amount = self._pay(p, month, end)
        krav = self.claim(p, month, end, amount)
        text = format_line(self.k27(p, month, end, amount))
        how = self.rng.choice(["fnr", "date", "amount"])
        if how == "fnr":
            fnr_bad = p.fnr[:10] + str((int(p.fnr[10]) + 1) % 10)
            text = text.replace(p.fnr, fnr_bad, 1)
        elif how == "date":
            text = text.replace(f";{month:%Y%m}01;", f";{month:%Y%m}{month_end(month).day + 1:02d};", 1)
        else:
            text = text.replace(f";{amount:010d} ;", f";{amount:010d}".replace("0", "O", 1) + " ;", 1)
        self.add(report, text, "INVALID_LINE", "", f"invalid_{how}")
        self.out.unpaid.append((krav, "CLAIM_UNPAID_PENDING", "invalid_line_claim"))

    def _s_holiday_claimed(self, report, month, end, outcome="EXACT", scenario="holiday_claimed", claimed=True,
                           claim_off=0):
        p = self.person(month)
        fra, til = date(month.year, 5, 1), date(month.year, 5, 31)
        amount = round(nav_day_rate(p.income_ore, g_at(p.first_day)) * self.rng.randint(10, 48) * 10.2) // 100 * 100
        krav = ""
        if claimed:
            krav = self.claim(p, fra, til, amount + claim_off, code="H", income=False)
        self.add(report, self.k27(p, fra, til, amount, code="H"), outcome, krav if outcome == "EXACT" else "",
                 scenario)

    def _s_holiday_unclaimed(self, report, month, end):
        self._s_holiday_claimed(report, month, end, "HOLIDAY_PAY", "holiday_unclaimed", claimed=False)

    def _s_holiday_amount(self, report, month, end):
        self._s_holiday_claimed(report, month, end, "HOLIDAY_PAY", "holiday_amount", claim_off=-73_000)

    def _s_past_maksdato(self, report, month, end):
        """Paid in April with maksdato 10 May; HR's May claim after maksdato is final."""
        p = self.person(month)
        p.maksdato = date(month.year, 5, 10)
        amount = self._pay(p, month, end)
        krav = self.claim(p, month, end, amount)
        self.add(report, self.k27(p, month, end, amount), "EXACT", krav, "past_maksdato_paid")
        may_fra, may_til = date(month.year, 5, 11), date(month.year, 5, 31)
        late = self.claim(p, may_fra, may_til, self._pay(p, may_fra, may_til))
        self.out.unpaid.append((late, "CLAIM_UNPAID_FINAL", "past_maksdato"))

    # Claims without any line -------------------------------------------------------------------
    def unpaid_claims(self, n: int) -> None:
        for i in range(n):
            kind = ("final_old", "pending_april", "pending_may", "not_due_june")[i % 4]
            month = {"final_old": date(2026, 2, 1), "pending_april": date(2026, 4, 1),
                     "pending_may": date(2026, 5, 1), "not_due_june": date(2026, 6, 1)}[kind]
            p = self.person(month)
            end = month_end(month)
            krav = self.claim(p, month, end, self._pay(p, month, end))
            if kind != "not_due_june":
                outcome = "CLAIM_UNPAID_FINAL" if kind == "final_old" else "CLAIM_UNPAID_PENDING"
                self.out.unpaid.append((krav, outcome, kind))


def build(seed: int = 42, scale: float = 1.0) -> Built:
    gen = Generator(seed, scale)
    n = max(60, round(300 * scale))
    gen.out.reports = {"1001": [], "1002": [], "1003": [], "1005": []}
    gen.monthly("1001", date(2026, 4, 1), n)
    gen.monthly("1002", date(2026, 5, 1), n)
    # 1003 also repeats one line of 1002 (NAV sent it twice).
    repeat = next(ln for ln in gen.out.reports["1002"] if ln.scenario == "exact")
    gen.add("1003", repeat.k27, "DUPLICATE", "", "duplicate_line")
    gen.unpaid_claims(max(8, round(16 * scale)))
    return gen.out


def _write_claims_xlsx(path: Path, claims: list[dict]) -> None:
    import xlsxwriter

    columns = ["krav_id", "fnr", "bedriftsnummer", "ytelse", "fra_dato", "til_dato", "krav_belop", "org_enhet",
               "manedsinntekt", "refusjon_per_mnd", "grad", "forste_fravaersdag"]
    path.parent.mkdir(parents=True, exist_ok=True)
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet("Refusjonskrav")
    bold = book.add_format({"bold": True})
    as_date = book.add_format({"num_format": "dd.mm.yyyy"})
    money = book.add_format({"num_format": "#,##0.00"})
    sheet.write_row(0, 0, columns, bold)
    for r, claim in enumerate(claims, start=1):
        for c, name in enumerate(columns):
            value = claim[name]
            if value is None:
                continue
            if isinstance(value, date):
                sheet.write_datetime(r, c, datetime(value.year, value.month, value.day), as_date)
            elif name in ("krav_belop", "manedsinntekt", "refusjon_per_mnd"):
                sheet.write_number(r, c, value, money)
            elif name == "grad":
                sheet.write_number(r, c, value)
            else:
                sheet.write_string(r, c, str(value))
    sheet.set_column(0, len(columns) - 1, 16)
    book.close()


def _write_csv(path: Path, header: list[str], rows: list[list], delimiter: str = ";") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f, delimiter=delimiter)
        writer.writerow(header)
        writer.writerows(rows)


def _nok(ore: int) -> str:
    kroner, rest = divmod(abs(ore), 100)
    return f"{'-' if ore < 0 else ''}{kroner},{rest:02d}"


def seed(data_dir: Path, seed: int = 42, scale: float = 1.0) -> dict[str, Path]:
    """Write the NAV data set, HR's inputs and the ground truth; returns what was written."""
    data_dir = Path(data_dir)
    built = build(seed, scale)
    gen_account = None
    reports_dir = data_dir / "sandbox" / "nav" / "reports"
    inputs = data_dir / "input" / PROCESS_ID
    folder = inputs / "rapporter"
    for d in (reports_dir, folder):
        d.mkdir(parents=True, exist_ok=True)
        for old in d.glob("*.csv"):
            old.unlink()
    value_dates = {"1001": date(2026, 5, 4), "1002": date(2026, 6, 1), "1003": date(2026, 6, 15),
                   "1004": date(2026, 6, 15), "1005": date(2026, 6, 22)}
    content: dict[str, bytes] = {}
    for report_id, lines in built.reports.items():
        content[report_id] = to_bytes(ln.k27 for ln in lines)
        gen_account = gen_account or next(ln.k27.konto for ln in lines if isinstance(ln.k27, K27Line))
    content["1004"] = content["1003"]
    index = []
    for report_id in sorted(content, key=int):
        (reports_dir / f"{report_id}.csv").write_bytes(content[report_id])
        day = value_dates[report_id]
        created = datetime(day.year, day.month, day.day, 6, 0) + timedelta(days=1, minutes=int(report_id) % 7)
        index.append({"id": report_id, "orgnr": ORGNR, "orgNavn": ORG_NAME, "type": "ref-arbg",
                      "datoValutert": day.isoformat(), "bankkonto": gen_account,
                      "opprettet": created.strftime("%Y-%m-%dT%H:%M:%SZ"), "arkivert": False,
                      "file": f"{report_id}.csv"})
        (folder / f"{report_id}_{ORGNR}_ref-arbg_{day.isoformat()}.csv").write_bytes(content[report_id])
    index_path = reports_dir / "index.json"
    tmp = index_path.with_suffix(".tmp")
    tmp.write_text(json.dumps(index, indent=2, ensure_ascii=False), encoding="utf-8")
    tmp.replace(index_path)

    claims_path = inputs / "refusjonskrav.xlsx"
    _write_claims_xlsx(claims_path, built.claims)
    employees_path = inputs / "ansatte.csv"
    _write_csv(employees_path, ["fnr", "bedriftsnummer", "org_enhet", "stillingsprosent"],
               [[e["fnr"], e["bedriftsnummer"], e["org_enhet"], e["stillingsprosent"]] for e in built.employees])

    # The bank: one credit per settlement; 1004 is a copy of 1003 (no money of its own); the
    # credit of 1005 is short (NAV set off a debt against it).
    bank_rows = []
    for report_id in ("1001", "1002", "1003", "1005"):
        total = sum(ln.k27.amount_ore if isinstance(ln.k27, K27Line) else _amount_of(ln.k27)
                    for ln in built.reports[report_id])
        if report_id == "1005":
            total -= 123_450
        bank_rows.append([value_dates[report_id].strftime("%d.%m.%Y"), gen_account, ORGNR, _nok(total),
                          f"NAV {NAV_UNIT} OPPGJØR REFUSJON"])
    bank_path = inputs / "bankinnbetalinger.csv"
    _write_csv(bank_path, ["valutadato", "bankkonto", "orgnr", "belop", "tekst"], bank_rows)

    truth_path = data_dir / "ground_truth" / f"{PROCESS_ID}.csv"
    rows = []
    for report_id in sorted(content, key=int):
        source = built.reports.get(report_id) or built.reports["1003"]
        for n, ln in enumerate(source, start=1):
            if report_id == "1004":
                rows.append(["line", report_id, n, "DUPLICATE", "", "duplicate_report"])
            else:
                rows.append(["line", report_id, n, ln.outcome, ln.claim_id, ln.scenario])
    for krav, outcome, scenario in built.unpaid:
        rows.append(["claim", "", "", outcome, krav, scenario])
    _write_csv(truth_path, ["kind", "report_id", "line_no", "outcome", "claim_id", "scenario"], rows, delimiter=",")
    from sandbox.nav.human import write_human_postings

    human = write_human_postings(data_dir, built, {k: v for k, v in value_dates.items() if k != "1004"}, seed)
    return {"reports": reports_dir, "index": index_path, "claims": claims_path, "employees": employees_path,
            "bank": bank_path, "folder": folder, "ground_truth": truth_path, **human}


def _amount_of(text: str) -> int:
    fields = text.split(";")
    raw = fields[9] if len(fields) > 9 else ""
    digits = raw[:10]
    if digits.isdigit():
        return -int(digits) if raw[10:11] == "-" else int(digits)
    # The broken amount (a letter O for a zero) still moved money: NAV paid the real amount.
    fixed = digits.replace("O", "0")
    return int(fixed) if fixed.isdigit() else 0
