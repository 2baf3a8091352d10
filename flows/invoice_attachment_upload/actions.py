"""The decisions finance may take on an attachment case, besides the kit's defaults."""

from __future__ import annotations

from workqueue.actions import ActionSpec, FieldSpec, Precondition

ACTIONS: dict[str, ActionSpec] = {a.code: a for a in (
    ActionSpec(
        "choose_voucher", "Velg riktig bilag", "Dokumentet lastes opp til bilaget du velger.",
        fields=(FieldSpec("voucher_number", "choice", "Bilag", choices_from="candidates,voucher",
                          choice_key="voucher_number"),),
        precondition=Precondition(any_nonempty=("candidates", "voucher"),
                                  text="«Velg riktig bilag» krever bilag å velge mellom."),
        bulk=False),
)}
