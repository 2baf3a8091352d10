"""HR's decision on a tjenestebevis case, besides the kit's defaults."""

from workqueue.actions import ActionSpec, Precondition

ACTIONS = {"issue_anyway": ActionSpec(
    "issue_anyway", "Utsted likevel", "Brevet lages ved neste kjøring med arbeidsforholdene slik de er registrert "
    "da. Rett registreringen i HR-systemet først om noe er feil.",
    precondition=Precondition(needs_item=True, text="Saken har ingen bestilling å utstede."))}
