"""Claim rows HR's export could not give us (rule 5): one case per row, the person held.

A row with a bad cell, or a krav_id found on several rows, is set aside by the claims reader
(`read_claims_rows`); the rest of the file is used. For each such row one CLAIM_ROW_INVALID
case names the file's row(s) and column(s); the person's other claims and report lines are held
in that case (no offset, no ageing) so nothing is offset against a claim set that is known to be
incomplete. HR fixes the row in the HR system and settles the held lines from the case
(`approve_nav_amount` books NAV's amount against the readable claims the held lines overlap:
`data.claim_ids`; the person's other claims, `data.held_claim_ids`, are only held for the run).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from connectors.identifiers import mask_fnr, mask_fnrs_in_text
from connectors.nav.hr_claims import ClaimRowIssue
from flows.kit.evidence import scrub
from flows.nav_refund_offsetting import explain as ex
from flows.nav_refund_offsetting.outcomes import label
from flows.nav_refund_offsetting.rules import Rules
from workqueue.models import CaseStatus
from workqueue.store import NewCase

CATEGORY = "CLAIM_ROW_INVALID"


def held_fnrs(issues: list[ClaimRowIssue]) -> np.ndarray:
    """The people whose lines and claims wait for HR (every readable fnr of an unusable row)."""
    return np.array(sorted({f for i in issues for f in i.fnrs}), dtype=np.int64)


def cases(ctx: Any, rules: Rules, issues: list[ClaimRowIssue], result: Any, views: Any, file_name: str
          ) -> tuple[list[tuple[str, NewCase]], list[dict[str, Any]]]:
    """One case per unusable row (or duplicated krav_id), with the person's held lines and claims.
    A row whose case is still open and that holds no new line is not opened again."""
    if not issues:
        return [], []
    open_refs = {c.reference for c in ctx.store.cases(ctx.process_id, status=[CaseStatus.open, CaseStatus.in_review],
                                                       category=CATEGORY)}
    lines, claims = result.lines, result.claims
    held_idx = np.flatnonzero(lines["outcome"].astype(str).to_numpy() == CATEGORY)
    line_fnr = lines["fnr"].to_numpy(np.int64)[held_idx]
    out_cases: list[tuple[str, NewCase]] = []
    rows_out: list[dict[str, Any]] = []
    taken: set[int] = set()
    for issue in issues:
        mine = [int(i) for i, f in zip(held_idx, line_fnr, strict=True) if f in issue.fnrs and int(i) not in taken]
        taken.update(mine)
        reference = f"kravrad:{issue.krav_id or '-'}:{'+'.join(map(str, issue.rows))}"
        if not mine and reference in open_refs:
            continue
        line_views = [views.line(i) for i in mine]
        claim_views = _person_claims(views, claims, issue)
        case, row = _case(ctx, rules, issue, line_views, claim_views, file_name)
        out_cases.append((reference, case))
        rows_out.append(row)
    return out_cases, rows_out


def _person_claims(views: Any, claims: pd.DataFrame, issue: ClaimRowIssue) -> list[dict[str, Any]]:
    if not issue.fnrs or not len(claims):
        return []
    idx = np.flatnonzero(np.isin(claims["fnr"].to_numpy(np.int64), issue.fnrs))
    return [views.claim(int(j)) for j in idx]


def _case(ctx: Any, rules: Rules, issue: ClaimRowIssue, lines: list[dict], claims: list[dict], file_name: str
          ) -> tuple[NewCase, dict[str, Any]]:
    rows_txt = ", ".join(map(str, issue.rows))
    what = (f"Krav-ID «{issue.krav_id}» finnes på radene {rows_txt} i {file_name}"
            if issue.duplicate else f"Rad {rows_txt} i {file_name} (krav {issue.krav_id or 'uten krav-ID'}) kan ikke leses")
    problems = "; ".join(issue.problems)
    nav_ore = sum(x["amount_ore"] for x in lines)
    # What a decision books against: the readable claims the held lines pay (same code, period
    # overlapping); the person's other claims are only held for this run.
    paid = [c for c in claims if any(x["code"] == c["code"] and x["fra"] and x["til"] and c["fra"] and c["til"]
                                     and x["fra"] <= c["til"] and x["til"] >= c["fra"] for x in lines)]
    if issue.fnrs:
        held = (f" Personens {len(lines)} linje(r) i rapporten ({ex.ore_kr(nav_ore)}) og {len(claims)} andre krav er "
                "holdt tilbake: ikke utlignet og ikke aldersberegnet." if lines or claims else
                " Personen har ingen andre linjer eller krav i denne kjøringen.")
    else:
        held = " Fødselsnummeret kan ikke leses, så ingen linjer kan holdes tilbake for personen."
    text = mask_fnrs_in_text(
        f"{what}: {problems}.{held} Rett raden i HR-systemet og eksporter kravene på nytt; de holdte linjene "
        "utlignes fra denne saken (godkjenn NAVs beløp) eller manuelt. Resten av filen er behandlet.")
    first = lines[0] if lines else {}
    table = [["Kravfil", "", file_name, ""], ["Rad", "", rows_txt, ""], ["Krav-ID", "", issue.krav_id, ""]]
    table += [["Feil", "", mask_fnrs_in_text(p), ""] for p in issue.problems]
    if issue.fnrs:
        table.append(["Fødselsnummer", "", ", ".join(mask_fnr(ex.fnr_text(f)) for f in issue.fnrs), ""])
    sections: list[dict[str, Any]] = [
        {"title": "Sammenligning", "columns": ["Felt", "NAV-rapport", "Refusjonskrav", "Beregnet"], "rows": table},
        {"title": "Forklaring", "text": text}]
    if lines:
        sections.append({"title": "Holdte linjer", "columns": ["Rapport/linje", "Ytelse", "Periode", "Beløp"],
                         "rows": ex.lines_rows(lines)})
    if claims:
        sections.append({"title": "Holdte krav", "columns": ["Krav-ID", "Periode", "Beløp", ""],
                         "rows": [[c["krav_id"], ex.periode(c["fra"], c["til"]), ex.nok(c["amount_ore"]), ""]
                                  for c in claims]})
    data = {
        "category": CATEGORY, "rows": issue.rows, "krav_id": issue.krav_id, "duplicate": issue.duplicate,
        "problems": [mask_fnrs_in_text(p) for p in issue.problems], "file": file_name,
        **ex.lines_data(lines), "nav_ore": nav_ore, "claim_ids": [c["krav_id"] for c in paid],
        "claims": [ex.claim_data(c, 0) for c in paid], "held_claim_ids": [c["krav_id"] for c in claims],
        "run_id": ctx.run_id,
    }
    org_unit = claims[0]["org_enhet"] if claims else rules.default_org_unit
    fnr = ex.fnr_text(issue.fnrs[0]) if issue.fnrs else ""
    case = ctx.new_case(CATEGORY, text, org_unit=org_unit, amount=nav_ore / 100,
                        search_text=mask_fnrs_in_text(" ".join(filter(None, [issue.krav_id, f"rad {rows_txt}",
                                                                             file_name, first.get("navn", "")]))),
                        evidence={"sections": scrub(sections), "fnr": fnr, "data": data})
    row = {"kategori": label(CATEGORY), "kode": CATEGORY, "forklaring": text,
           "fnr": mask_fnr(fnr) if fnr else "", "navn": first.get("navn", ""), "belop_nav": nav_ore,
           "linjer": data["linjer"] or f"{file_name} rad {rows_txt}", "krav_id": issue.krav_id, "org_enhet": org_unit}
    return case, row
