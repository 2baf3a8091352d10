"""What confirming a REVERSAL writes: the reversal rows of the offset journal (rule 3).

A negative line in a later report that reverses a line offset earlier opens a REVERSAL case
whose evidence["data"]["reversal"] names the earlier offset (claim, report, line, amount offset)
and the proposed reversal. When HR confirms it (`confirm_reversal`, optionally with another
amount in kroner), the next run writes one REVERSERING row to utligningsbilag.csv: the claim
account is debited and the bank credited by the amount (NAV kept it back from this report's
credit), so the claim stands open again by that amount. The amount must be above zero and at most
the earlier offset; otherwise nothing is written and the reason is kept with the decision.
"""

from __future__ import annotations

from typing import Any

from flows.nav_refund_offsetting.explain import ore_kr

ACTION = "confirm_reversal"


def reversal_rows(case: Any, amount: int | None, data: dict, base: dict[str, Any]) -> tuple[list[dict[str, Any]], str]:
    """(journal rows, note): one REVERSERING row, or none and a Norwegian note saying why. `amount`:
    HR's amount in øre (None: the proposed one); `base`: the journal columns every row shares."""
    rv = data.get("reversal") or {}
    if not rv.get("claim_id"):
        return [], "Saken mangler opplysninger om utligningen som skal reverseres; ingenting er bokført."
    offset = int(rv.get("offset_amount_ore", 0) or 0)
    if amount is None:
        amount = int(rv.get("proposed_amount_ore", 0) or 0)
    amount = abs(amount)
    if amount <= 0 or amount > offset:
        return [], (f"Reverseringsbeløpet {ore_kr(amount)} må være over 0 og høyst det som ble utlignet "
                    f"({ore_kr(offset)}); ingenting er bokført.")
    earlier = f"{rv.get('report_id', '')}:{rv.get('line_no', '')}"
    return [{**base, "bilagstype": "REVERSERING", "krav_id": rv["claim_id"],
             "linjer": f"{data.get('linjer', '')} (reverserer {earlier})", "org_enhet": case.org_unit or "",
             "ytelse": data.get("code", ""), "periode_fra": data.get("fra", ""), "periode_til": data.get("til", ""),
             "krav_belop": -amount / 100, "utbetalt_belop": -amount / 100, "differanse": 0.0, "differansekonto": "",
             "begrunnelse": f"Reversering av utligning {earlier} bekreftet av HR ({case.category})"}], ""
