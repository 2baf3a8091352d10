"""What staff read: Norwegian explanations of every outcome and the evidence side by side.

Evidence convention of the review app: {"sections": [{"title", "columns", "rows"} | {"title",
"text"}], "fnr": clear fnr (only here), "data": machine-readable facts the next run needs to
apply a decision}. Strings in sections are formatted Norwegian with the fnr masked.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd

from connectors.identifiers import mask_fnr
from connectors.nav.k27 import BENEFIT_CODES
from connectors.norwegian import fmt_amount, fmt_kr, fmt_ore, fmt_percent
from flows.kit.dates import dato, periode
from flows.kit.evidence import scrub
from flows.nav_refund_offsetting.outcomes import label
from flows.nav_refund_offsetting.rules import day_rate_kr
from flows.nav_refund_offsetting.state import fp_hex

ROBOT = "Robotens beregning"  # the robot's own computation: never called NAV's


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and np.isnan(value))


def nok(ore: float | int | None, blank: str = "") -> str:
    """Øre as a table cell in kroner, «1 234,50» / «−1 234,50» (the review app adds the « kr»);
    None or NaN (a missing value in a table) -> blank."""
    return blank if _missing(ore) else fmt_amount(Decimal(int(round(ore))) / 100)


def ore_kr(ore: float | int | None, blank: str = "") -> str:
    """Øre in a sentence: «1 234,50 kr», the staff's one money style; None or NaN -> blank."""
    return blank if _missing(ore) else fmt_ore(int(round(ore)))


def fnr_text(fnr: int | str) -> str:
    return f"{int(fnr):011d}"


def benefit(code: str) -> str:
    return f"{code} {BENEFIT_CODES.get(code, '')}".strip()


def grade_text(value: float | None) -> str:
    """A grade in percent as the claim holds it: 62.5 -> «62,5 %», 100 -> «100 %»."""
    return "" if _missing(value) else fmt_percent(float(value) / 100, decimals=None)


@dataclass
class UnitView:
    """Everything about one unit (a claim and its lines, or one line) in plain Python values."""

    outcome: str
    detail: str
    lines: list[dict]              # report_id, line_no, amount_ore, fra, til, code, bnr, navn, maksdato, fnr, ...
    claims: list[dict]             # krav_id, amount_ore, fra, til, code, bnr, org_enhet, inntekt_ore, ...
    nav_ore: int
    expected_ore: int
    weekdays: int
    day_rate_kr: int
    grade_used: float
    g: int
    days_paid: int
    other_basis_ore: float
    basis_ore: float
    cap_day_kr: int
    tolerance_nok: float
    tolerance_days: int
    maksdato_prev: Any = None
    duplicate_of: str = ""
    extra: dict[str, Any] = field(default_factory=dict)   # matching's facts for a few outcomes (rounding, maksdato,
                                                          # reversal); also merged into the case's data


def explanation(u: UnitView) -> str:
    """One or two Norwegian sentences saying why the unit ended as it did."""
    o, d = u.outcome, u.detail
    line = u.lines[0] if u.lines else {}
    claim = u.claims[0] if u.claims else {}
    claim_ore = sum(c["amount_ore"] for c in u.claims)
    diff = u.nav_ore - claim_ore if u.claims else None
    wd, rate = u.weekdays, u.day_rate_kr
    calc = f"{wd} virkedager × {fmt_kr(rate)} = {ore_kr(rate * wd * 100)}" if wd and rate else ""
    if o == "EXACT":
        if len(u.lines) > 1:
            return f"{len(u.lines)} linjer dekker til sammen kravets periode og beløp ({ore_kr(u.nav_ore)})."
        return "Beløp og periode stemmer med kravet."
    if o == "ROUNDING" and d == "per_weekday" and "rounding" in u.extra:
        rd = u.extra["rounding"]
        return (f"Differansen på {ore_kr(diff)} er innenfor avrundingen: {rd['weekdays']} virkedager × inntil "
                f"{fmt_kr(rd['per_weekday_nok'])} = {ore_kr(rd['tolerance_ore'])} (NAV runder dagsatsen til hele "
                "kroner).")
    if o == "ROUNDING":
        return (f"Differansen på {ore_kr(diff)} er innenfor toleransen på {ore_kr(u.tolerance_nok * 100)} "
                "(NAV runder dagsatsen til hele kroner).")
    if o == "WEEKDAYS":
        basis = "kravet er et månedsbeløp" if d == "implied_month" else "kravet er regnet per måned"
        return f"NAV betaler per virkedag: {calc}; {basis} ({ore_kr(claim_ore)}). Differanse {ore_kr(diff)}."
    if o == "CAP_6G":
        return (f"Inntekten er over 6G (G = {fmt_kr(u.g)} på første fraværsdag): dagsatsen er begrenset til "
                f"{fmt_kr(u.cap_day_kr)}. {calc}. Kravet var {ore_kr(claim_ore)}.")
    if o == "GRADE":
        if d == "fewer_days":
            return (f"NAV har betalt {u.days_paid} av {wd} virkedager à {fmt_kr(rate)} ({ore_kr(u.nav_ore)}): "
                    "ferie, permisjon eller arbeid i perioden. Kontroller søknaden.")
        if d in ("registered_grade", "implied_grade", "claim_grade"):
            return (f"Sykmeldingen er gradert {grade_text(u.grade_used)}, NAV har redusert refusjonen: forventet "
                    f"{ore_kr(u.expected_ore)}, utbetalt {ore_kr(u.nav_ore)}. Kravet på {ore_kr(claim_ore)} må "
                    "reduseres tilsvarende.")
        return (f"NAV har betalt {grade_text(u.grade_used)} gradert: {wd} virkedager × {fmt_kr(u.nav_ore // max(wd, 1) // 100)}"
                f" = {ore_kr(u.nav_ore)}, mot {ore_kr(claim_ore)} i kravet. Kontroller graden i sykmeldingen.")
    if o == "PARTIAL_REFUND":
        return (f"Refusjonen ({ore_kr(claim.get('refusjon_ore'))}/mnd) er lavere enn inntekten "
                f"({ore_kr(claim.get('inntekt_ore'))}/mnd): NAV har utbetalt resten direkte til den ansatte. "
                f"Forventet refusjon {ore_kr(u.expected_ore)}, kravet var {ore_kr(claim_ore)}.")
    if o == "SEVERAL_EMPLOYERS":
        return (f"Den ansatte har også krav under et annet bedriftsnummer (inntekt {ore_kr(u.other_basis_ore)}/mnd); "
                f"samlet inntekt er over 6G og NAV fordeler 6G forholdsmessig. Forventet {ore_kr(u.expected_ore)}, "
                f"utbetalt {ore_kr(u.nav_ore)}, krav {ore_kr(claim_ore)}.")
    if o == "SPLIT_POSITIONS":
        parts = "; ".join(f"{c['krav_id']} {ore_kr(c.get('share_ore'))}" for c in u.claims)
        return (f"Én linje på {ore_kr(u.nav_ore)} dekker {len(u.claims)} krav (stillinger) under samme "
                f"bedriftsnummer. Forslag til fordeling etter kravbeløp: {parts}.")
    if o == "MAKSDATO_REACHED" and "maksdato" in u.extra:
        m = u.extra["maksdato"]
        after = periode(date.fromisoformat(m["first_day_after"]), date.fromisoformat(m["claim_til"]))
        return (f"Sykepengene stanset ved maksdato {dato(date.fromisoformat(m['maksdato']))}: NAV har betalt til og med "
                f"maksdato ({ore_kr(u.nav_ore)}). De {m['days_after']} virkedagene etter maksdato ({after}) refunderes "
                f"ikke; kravet var {ore_kr(claim_ore)} (differanse {ore_kr(diff)}). Lønnen for disse dagene refunderes "
                "ikke: kontroller tellingen av 248 dager, varsle den ansatte og avskriv resten av kravet.")
    if d == "candidate" and o in ("HOLIDAY_PAY", "PERIOD_SHIFT"):
        ids = ", ".join(f"{c['krav_id']} ({periode(c['fra'], c['til'])})" for c in u.claims)
        what = "Feriepengelinjen" if o == "HOLIDAY_PAY" else "Linjen"
        differs = "perioden/opptjeningsåret" if o == "HOLIDAY_PAY" else "perioden"
        return (f"{what} ({ore_kr(u.nav_ore)}, {periode(line.get('fra'), line.get('til'))}) har samme person, ytelse og "
                f"beløp som krav {ids}, men {differs} er ulik. Trolig samme utbetaling: kontroller {differs} og "
                "godkjenn NAVs beløp mot kravet. Kravet er betalt og skal ikke avskrives.")
    if o == "REVERSAL" and "reversal" in u.extra:
        rv = u.extra["reversal"]
        post = rv["posting"]
        return (f"Negativ linje ({ore_kr(u.nav_ore)}) reverserer utligningen av krav {rv['claim_id']} (rapport "
                f"{rv['report_id']}, linje {rv['line_no']}, utlignet {ore_kr(rv['offset_amount_ore'])}). Forslag til "
                f"reversering: {ore_kr(rv['proposed_amount_ore'])} tilbake på kravet (konto {post[0]['konto']} debet, "
                f"konto {post[1]['konto']} kredit). Bekreft reverseringen; kravet står da åpent med beløpet.")
    if o == "PERIOD_SHIFT":
        if d == "several_claims":
            return (f"NAV-perioden {periode(line.get('fra'), line.get('til'))} strekker seg over "
                    f"{len(u.claims)} krav: {', '.join(c['krav_id'] for c in u.claims)}.")
        if d == "undated":
            return "Linjen har ingen periode og kan ikke knyttes sikkert til ett av kravene."
        first, last = min(x["fra"] for x in u.lines), max(x["til"] for x in u.lines)
        return (f"NAV har betalt for {periode(first, last)}, kravet gjelder {periode(claim.get('fra'), claim.get('til'))}"
                f" (avvik over {u.tolerance_days} dager). Resten kan komme i en senere rapport.")
    if o == "PAYMENT_WITHOUT_CLAIM":
        if d == "topup":
            return (f"Kravet {claim.get('krav_id', '')} er allerede dekket av en tidligere linje for samme periode; "
                    "dette er en tilleggsutbetaling (f.eks. etter G-regulering).")
        if d == "settled":
            return (f"Kravet {claim.get('krav_id', '')} er allerede utlignet; dette er en etterbetaling "
                    "(G-regulering eller korrigering).")
        if d == "agp_code":
            return (f"Refusjon av ytelse {benefit(line.get('code', ''))} uten registrert krav (f.eks. kronisk "
                    "sykdom eller graviditet i arbeidsgiverperioden).")
        if d == "old_period":
            return "Utbetaling for en eldre periode uten åpent krav (etterbetaling eller G-regulering)."
        return "Ingen registrert refusjonskrav for denne ansatte, ytelsen og perioden: fraværet er ikke registrert."
    if o == "HOLIDAY_PAY":
        if d == "amount":
            return (f"Feriepenger av sykepenger: utbetalt {ore_kr(u.nav_ore)}, kravet var {ore_kr(claim_ore)}. "
                    "Kontroller mot opptjeningen.")
        return "Feriepenger av sykepenger uten registrert krav. Kontroller mot opptjeningen (10,2 % av inntil 48 dager)."
    if o == "NEGATIVE_LINE":
        if d == "net_negative":
            return f"Linjene går netto i minus ({ore_kr(u.nav_ore)}): NAV krever tilbake mer enn utbetalt."
        return (f"Negativ linje ({ore_kr(u.nav_ore)}, ytelse {benefit(line.get('code', ''))}) som ikke kunne "
                "motregnes mot en utbetaling i samme rapport: trekk eller tilbakebetaling av tidligere utbetaling.")
    if o == "DUPLICATE":
        if d == "earlier_run":
            return "Linjen er identisk med en linje som allerede er utlignet i en tidligere kjøring."
        return "Linjen er identisk med en tidligere linje i denne kjøringen (sendt to ganger)."
    if o == "UNKNOWN_EMPLOYEE":
        if d == "wrong_bnr":
            others = ", ".join(sorted({str(c["bnr"]) for c in u.claims})) or "et annet bedriftsnummer"
            return (f"Den ansatte er ikke registrert under bedriftsnummer {line.get('bnr', '')}; har krav under "
                    f"{others}. Feil bedriftsnummer hos NAV eller i HR.")
        return "Fødselsnummeret finnes ikke i ansattregisteret eller blant refusjonskravene."
    if o == "WRONG_BENEFIT_CODE":
        return (f"NAV har betalt ytelse {benefit(line.get('code', ''))}, kravet er registrert som "
                f"{benefit(claim.get('code', ''))} for samme periode.")
    if o == "MAKSDATO_CHANGED":
        return (f"Maksdato er endret fra {dato(u.maksdato_prev)} til {dato(line.get('maksdato'))} siden forrige "
                f"rapport. Beløpet stemmer ellers ({label(d) if d else 'ok'}); oppdater maksdato i HR og godkjenn.")
    if o == "BANK_TOTAL_MISMATCH":
        return "Rapporten holdes tilbake: summen stemmer ikke med innbetalingen i banken."
    if o == "AMOUNT_DIFFERENCE":
        expected = f" Robotens beregning gir {ore_kr(u.expected_ore)}." if u.expected_ore >= 0 else ""
        hint = " Inntekten mangler i kravet, så 6G kan ikke kontrolleres." if d == "cap_unknown_income" else ""
        return (f"Differanse på {ore_kr(diff)} (utbetalt {ore_kr(u.nav_ore)}, krav {ore_kr(claim_ore)}) som verken "
                f"virkedager, 6G eller grad forklarer.{expected}{hint}")
    return label(o)


def comparison_rows(u: UnitView) -> list[list[str]]:
    """Felt | NAV-rapport | Refusjonskrav | Robotens beregning"""
    line = u.lines[0] if u.lines else {}
    claims = u.claims
    claim = claims[0] if claims else {}
    claim_ore = sum(c["amount_ore"] for c in claims) if claims else None
    lines_txt = ", ".join(f"{x['report_id']}/{x['line_no']}" for x in u.lines)
    rows = [
        ["Rapport/linje", lines_txt, ", ".join(c["krav_id"] for c in claims), ""],
        ["Navn", line.get("navn", ""), "", ""],
        ["Fødselsnummer", mask_fnr(fnr_text(line["fnr"])) if line.get("fnr") else "",
         mask_fnr(fnr_text(claim["fnr"])) if claim.get("fnr") else "", ""],
        ["Bedriftsnummer", str(line.get("bnr", "")), ", ".join(sorted({str(c["bnr"]) for c in claims})), ""],
        ["Ytelse", benefit(line.get("code", "")), ", ".join(sorted({benefit(c["code"]) for c in claims})), ""],
    ]
    if u.lines:
        dated = [x for x in u.lines if x.get("fra") is not None and not pd.isna(x.get("fra"))]
        nav_period = periode(min(x["fra"] for x in dated), max(x["til"] for x in dated)) if dated else "(ingen periode)"
    else:
        nav_period = ""
    rows.append(["Periode", nav_period, periode(claim.get("fra"), claim.get("til")) if claims else "", ""])
    if u.weekdays:
        rows.append(["Virkedager", "", "", str(u.weekdays)])
    if u.day_rate_kr:
        rows.append(["Dagsats", "", "", fmt_kr(u.day_rate_kr)])
    if len(claims) == 1 and claim.get("inntekt_ore") is not None and not np.isnan(claim.get("inntekt_ore")):
        rows.append(["Månedsinntekt", "", nok(claim["inntekt_ore"]), ""])
        if claim.get("refusjon_ore") is not None and not np.isnan(claim.get("refusjon_ore")):
            rows.append(["Refusjon per måned", "", nok(claim["refusjon_ore"]), ""])
    registered = grade_text(claim.get("grad")) if len(claims) == 1 else ""
    computed = computation_grade(u)
    paid_at = grade_text(u.grade_used) + " (utledet av beløpet)" if _paid_grade_differs(u) else ""
    if registered or paid_at or u.weekdays:
        rows.append(["Grad", paid_at, registered, grade_text(computed) if u.weekdays else ""])
    if u.g:
        rows.append(["G (første fraværsdag)", "", dato(claim.get("forste_fravaersdag")), fmt_kr(u.g)])
    rows.append(["Beløp", nok(u.nav_ore), nok(claim_ore), nok(u.expected_ore) if u.expected_ore >= 0 else ""])
    # One difference per row, each saying between what.
    if claim_ore is not None:
        rows.append(["Differanse: utbetalt mot kravet", nok(u.nav_ore - claim_ore), "", ""])
    if u.expected_ore >= 0:
        rows.append(["Differanse: utbetalt mot robotens beregning", "", "", nok(u.nav_ore - u.expected_ore)])
    maks = line.get("maksdato")
    if maks is not None and not pd.isna(maks):
        prev = dato(u.maksdato_prev) if u.maksdato_prev is not None and not pd.isna(u.maksdato_prev) else ""
        rows.append(["Maksdato", dato(maks), "", f"forrige rapport: {prev}" if prev else ""])
    return rows


def computation_grade(u: UnitView) -> float:
    """The grade the robot's computation («Robotens beregning») uses: the claim's, else 100 %."""
    grad = u.claims[0].get("grad") if u.claims else None
    return 100.0 if grad is None or (isinstance(grad, float) and np.isnan(grad)) else float(grad)


def _paid_grade_differs(u: UnitView) -> bool:
    return bool(u.weekdays) and not np.isnan(u.grade_used) and u.grade_used != computation_grade(u)


def grade_rows(u: UnitView) -> list[list[str]]:
    """The robot's computation per grade: the claim's grade and, when NAV paid at another grade
    (read from the amount), that grade too; each with its own day rate and amount (rules.day_rate_kr,
    the function the matching uses). Empty without income data, weekdays or G (nothing to compute),
    and for several employers (6G shared: the day rate is not the claim's alone)."""
    if not u.weekdays or not u.g or np.isnan(u.basis_ore) or u.other_basis_ore > 0:
        return []
    grades = [(computation_grade(u), "kravets grad")]
    if _paid_grade_differs(u):
        grades.append((float(u.grade_used), "graden NAV har betalt etter"))
    rates = day_rate_kr(np.array([int(u.basis_ore)] * len(grades), dtype=np.int64),
                        np.array([u.g] * len(grades), dtype=np.int64), np.array([g for g, _ in grades]))
    return [[f"{grade_text(g)} ({what})", str(u.weekdays), fmt_kr(int(rate)), nok(int(rate) * u.weekdays * 100)]
            for (g, what), rate in zip(grades, rates, strict=True)]


def where(lines: list[dict]) -> str:
    """'rapport 1001, linje 3' / 'rapport 1001, linje 3 og 4' / 'linje 1001:3 og 1002:7'."""
    reports = {x["report_id"] for x in lines}
    if len(reports) == 1:
        numbers = [str(x["line_no"]) for x in lines]
        return f"rapport {lines[0]['report_id']}, linje {' og '.join(numbers)}"
    return "linje " + " og ".join(f"{x['report_id']}:{x['line_no']}" for x in lines)


def lines_rows(lines: list[dict]) -> list[list[str]]:
    """Rapport/linje | Ytelse | Periode | Beløp: the lines a case holds."""
    return [[f"{x['report_id']}/{x['line_no']}", benefit(x.get("code", "")), periode(x.get("fra"), x.get("til")),
             nok(x["amount_ore"])] for x in lines]


def lines_data(lines: list[dict]) -> dict[str, Any]:
    """The lines as a case's data keeps them: what a decision settles, and their fingerprints so
    that a later run never offsets them again."""
    return {"report_id": lines[0]["report_id"] if lines else "", "line_nos": [x["line_no"] for x in lines],
            "linjer": "+".join(f"{x['report_id']}:{x['line_no']}" for x in lines),
            "lines": [{"report_id": x["report_id"], "line_no": x["line_no"], "amount_ore": x["amount_ore"]}
                      for x in lines],
            "fps": fp_hex(np.array([x["fp"] for x in lines], dtype=np.uint64))}


def claim_data(c: dict[str, Any], share_ore: int) -> dict[str, Any]:
    """A claim as a case's data keeps it: what a decision books against."""
    return {"krav_id": c["krav_id"], "claim_ore": c["amount_ore"], "share_ore": share_ore, "org_enhet": c["org_enhet"],
            "code": c["code"], "fra": dato(c["fra"]), "til": dato(c["til"])}


def evidence(u: UnitView, explanation_text: str, data: dict[str, Any]) -> dict[str, Any]:
    sections: list[dict[str, Any]] = [
        {"title": "Sammenligning", "columns": ["Felt", "NAV-rapport", "Refusjonskrav", ROBOT],
         "rows": comparison_rows(u)},
        {"title": "Forklaring", "text": explanation_text},
    ]
    per_grade = grade_rows(u)
    if per_grade:
        sections.insert(1, {"title": "Robotens beregning per grad",
                            "columns": ["Grad", "Virkedager", "Dagsats", "Beløp"], "rows": per_grade})
    if len(u.lines) > 1:
        sections.append({"title": "Linjer i rapporten", "columns": ["Rapport/linje", "Ytelse", "Periode", "Beløp"],
                         "rows": lines_rows(u.lines)})
    if u.outcome == "SPLIT_POSITIONS" or len(u.claims) > 1:
        sections.append({"title": "Krav", "columns": ["Krav-ID", "Periode", "Beløp", "Forslag til fordeling"],
                         "rows": [[c["krav_id"], periode(c["fra"], c["til"]), nok(c["amount_ore"]),
                                   nok(c.get("share_ore"))] for c in u.claims]})
    if "reversal" in u.extra:
        rv = u.extra["reversal"]
        sections.append({"title": "Foreslått reversering", "columns": ["Konto", "Debet", "Kredit", "Gjelder"],
                         "rows": [[p["konto"], fmt_amount(p["debet"]) if p.get("debet") else "",
                                   fmt_amount(p["kredit"]) if p.get("kredit") else "",
                                   f"krav {rv['claim_id']} (rapport {rv['report_id']}, linje {rv['line_no']})"]
                                  for p in rv["posting"]]})
    fnr = fnr_text(u.lines[0]["fnr"]) if u.lines and u.lines[0].get("fnr") else (
        fnr_text(u.claims[0]["fnr"]) if u.claims else "")
    return {"sections": scrub(sections), "fnr": fnr, "data": data}
