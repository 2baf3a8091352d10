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

from flows.nav_refund_offsetting.explain import nok
from flows.nav_refund_offsetting.state import parse_decision_amount

ACTION = "confirm_reversal"
VOUCHER_TYPE = "REVERSERING"


def reversal_rows(case: Any, decision: dict, data: dict, booking: str, ledger: Any, run_id: str
                  ) -> tuple[list[dict[str, Any]], str]:
    """(journal rows, note): one REVERSERING row, or none and a Norwegian note saying why."""
    rv = data.get("reversal") or {}
    if not rv.get("claim_id"):
        return [], "Saken mangler opplysninger om utligningen som skal reverseres; ingenting er bokført."
    offset = int(rv.get("offset_amount_ore", 0) or 0)
    amount = parse_decision_amount(decision.get("amount"))
    if amount is None:
        amount = int(rv.get("proposed_amount_ore", 0) or 0)
    amount = abs(amount)
    if amount <= 0 or amount > offset:
        return [], (f"Reverseringsbeløpet {nok(amount)} kr må være over 0 og høyst det som ble utlignet "
                    f"({nok(offset)} kr); ingenting er bokført.")
    earlier = f"{rv.get('report_id', '')}:{rv.get('line_no', '')}"
    row = {
        "bilagsdato": booking, "bilagstype": VOUCHER_TYPE, "krav_id": rv["claim_id"],
        "rapport_id": data.get("report_id", ""), "linjer": f"{data.get('linjer', '')} (reverserer {earlier})",
        "org_enhet": case.org_unit or "", "ytelse": data.get("code", ""), "periode_fra": data.get("fra", ""),
        "periode_til": data.get("til", ""), "krav_belop": -amount / 100, "utbetalt_belop": -amount / 100,
        "differanse": 0.0, "kravkonto": ledger.claim_account, "bankkonto": ledger.bank_account,
        "differansekonto": "", "begrunnelse": f"Reversering av utligning {earlier} bekreftet av HR ({case.category})",
        "kjoring": run_id,
    }
    return [row], ""
