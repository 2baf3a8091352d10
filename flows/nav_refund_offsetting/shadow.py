"""NAV refund offsetting's outcomes for shadow mode (docs/shadow.md): the journal rows the run
would post to the ledger, per claim, and the claims it would hand to HR. The boundary that
decides whether they are written or recorded is the kit's (flows.kit.shadow)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

from flows.kit.shadow import MANUAL, Outcome
from flows.nav_refund_offsetting.outcomes import OFFSET_REASONS
from flows.nav_refund_offsetting.outputs import REASON_TEXT

LEDGER = "ledger"
_REASON_CODE = {text: code for code, text in REASON_TEXT.items() if code not in ("MAKSDATO_CHANGED",)}


def nok(text: str) -> float | None:
    """'1234,50' / '-12,00' (the journal's amounts) -> 1234.5."""
    text = (text or "").replace("\u00a0", "").replace(" ", "").replace(",", ".")
    return round(float(text), 2) if text else None


def journal_outcomes(journal, value_dates: dict[str, date | None]) -> Iterator[Outcome]:
    """One outcome per journal row: the claim, the amount offset (what NAV paid), the reason, and
    the value date of the report that paid it (the period the posting belongs to)."""
    for row in journal.select(["krav_id", "rapport_id", "utbetalt_belop", "begrunnelse", "bilagstype"]).to_pylist():
        day = value_dates.get(row["rapport_id"])
        yield Outcome(system=LEDGER, action="offset", key=row["krav_id"],
                      category=_REASON_CODE.get(row["begrunnelse"], row["bilagstype"]),
                      amount=nok(row["utbetalt_belop"]), day=day.isoformat() if day else None,
                      details={"rapport_id": row["rapport_id"]})


def handed_over(lines, value_dates: dict[str, date | None]) -> Iterator[Outcome]:
    """The claims the run leaves to HR (a line matched to a claim but not offset), with the
    category of the case, so the agreement report can name it where HR posted the claim."""
    claim = lines["krav_id"].fillna("").astype(str)
    keep = lines.assign(krav_id=claim)[(claim != "") & ~lines["utfall"].isin(OFFSET_REASONS)]
    for row in keep[["krav_id", "utfall", "rapport_id"]].drop_duplicates("krav_id").itertuples(index=False):
        day = value_dates.get(row.rapport_id)
        yield Outcome(system=LEDGER, action=MANUAL, key=row.krav_id, category=row.utfall,
                      day=day.isoformat() if day else None)
