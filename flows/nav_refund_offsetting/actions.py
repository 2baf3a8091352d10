"""The decisions HR may take on a NAV case, with their bounds and preconditions.

Amounts in evidence.data are øre (`nav_ore`, `claims[].claim_ore`); a decision's amount is kroner.
An offset can never exceed the money NAV paid on the case's line(s); a write-off never exceeds the
claim's remainder; a negative line (a deduction) has its own action; a reversal of an earlier
offset never exceeds that offset. The kit adds retry, handled_manually and dismiss.
"""

from __future__ import annotations

from workqueue.actions import ActionSpec, FieldSpec, Precondition, Ref

ORE = 0.01
PAID = Ref(key="nav_ore", scale=ORE, label="det NAV har betalt")
REMAINDER = Ref(key="claim_ore", sum_of="claims", minus="nav_ore", scale=ORE, label="kravets restbeløp")
DEDUCTION = Ref(key="nav_ore", scale=ORE, label="trekket i rapporten")
# evidence["data"]["reversal"] as the REVERSAL rule writes it (branch h/navrules, issue #21).
EARLIER = Ref(key="reversal.offset_amount_ore", scale=ORE, absolute=True, label="den tidligere utligningen")
PROPOSED = Ref(key="reversal.proposed_amount_ore", scale=ORE, absolute=True)

ACTIONS: dict[str, ActionSpec] = {a.code: a for a in (
    ActionSpec(
        "approve_nav_amount", "Godkjenn NAVs beløp og utlign",
        "Kravet utlignes mot beløpet NAV har betalt. Du kan endre beløpet, men aldri over det NAV har betalt.",
        fields=(FieldSpec("amount", "amount", "Beløp som utlignes (kr)", positive=True, max=PAID, default=PAID,
                          help="Forhåndsutfylt med beløpet NAV har betalt."),),
        precondition=Precondition(nonempty=("claims",), positive=("nav_ore",),
                                  text="«Godkjenn NAVs beløp» krever både et krav og en utbetaling fra NAV."),
        posts_money=True, preview="Kravet utlignes mot innbetalingen fra NAV."),
    ActionSpec(
        "write_off", "Avskriv differansen",
        "Differansen mellom krav og utbetaling avskrives; kravet lukkes.",
        fields=(FieldSpec("amount", "amount", "Beløp som avskrives (kr)", positive=True, max=REMAINDER,
                          default=REMAINDER, help="Forhåndsutfylt med kravets restbeløp."),),
        precondition=Precondition(nonempty=("claims",), text="«Avskriv differansen» krever et krav."),
        posts_money=True, preview="Restbeløpet på kravet avskrives."),
    ActionSpec(
        "approve_negative_line", "Godkjenn trekket",
        "NAV har trukket penger (negativ linje). Trekket bokføres mot kravkontoen.",
        fields=(FieldSpec("amount", "amount", "Trekk som bokføres (kr)", negative=True, min=DEDUCTION,
                          default=DEDUCTION, help="Forhåndsutfylt med trekket i rapporten (negativt beløp)."),),
        precondition=Precondition(negative=("nav_ore",), text="«Godkjenn trekket» gjelder bare negative linjer."),
        posts_money=True, bulk=False, preview="Trekket fra NAV bokføres."),
    ActionSpec(
        "confirm_reversal", "Bekreft tilbakeføring",
        "Linjen tilbakefører en tidligere utligning. Beløpet tilbakeføres, aldri mer enn det som ble utlignet.",
        fields=(FieldSpec("amount", "amount", "Beløp som tilbakeføres (kr)", positive=True, max=EARLIER,
                          default=PROPOSED),),
        precondition=Precondition(nonempty=("reversal",),
                                  text="«Bekreft tilbakeføring» krever en tidligere utligning å tilbakeføre."),
        posts_money=True, bulk=False, preview="Den tidligere utligningen tilbakeføres."),
)}
