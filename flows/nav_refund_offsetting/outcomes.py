"""The outcomes a report line can end in: an offset with a reason, or one exception category."""

from __future__ import annotations

OFFSET_REASONS = ("EXACT", "ROUNDING", "WEEKDAYS", "CAP_6G")
LINE_CATEGORIES = (
    "GRADE", "PARTIAL_REFUND", "SEVERAL_EMPLOYERS", "SPLIT_POSITIONS", "PERIOD_SHIFT", "PAYMENT_WITHOUT_CLAIM",
    "HOLIDAY_PAY", "NEGATIVE_LINE", "DUPLICATE", "UNKNOWN_EMPLOYEE", "WRONG_BENEFIT_CODE", "BANK_TOTAL_MISMATCH",
    "MAKSDATO_CHANGED", "MAKSDATO_REACHED", "REVERSAL", "CLAIM_ROW_INVALID", "INVALID_LINE", "AMOUNT_DIFFERENCE",
)
CLAIM_CATEGORIES = ("CLAIM_UNPAID_PENDING", "CLAIM_UNPAID_FINAL")
OUTCOMES = OFFSET_REASONS + LINE_CATEGORIES
CODE = {name: i for i, name in enumerate(OUTCOMES)}
UNSET = -1

OFFSET_LABELS = {
    "EXACT": "Eksakt",
    "ROUNDING": "Avrunding",
    "WEEKDAYS": "Virkedager",
    "CAP_6G": "6G-tak",
}
CATEGORY_LABELS = {
    "GRADE": "Gradering/søknad",
    "PARTIAL_REFUND": "Delvis refusjon",
    "SEVERAL_EMPLOYERS": "Flere arbeidsgivere (6G)",
    "SPLIT_POSITIONS": "Flere stillinger",
    "PERIOD_SHIFT": "Periodeavvik",
    "CLAIM_UNPAID_PENDING": "Krav ikke betalt ennå",
    "CLAIM_UNPAID_FINAL": "Krav ikke betalt (endelig)",
    "PAYMENT_WITHOUT_CLAIM": "Utbetaling uten krav",
    "HOLIDAY_PAY": "Feriepenger",
    "NEGATIVE_LINE": "Negativ linje",
    "DUPLICATE": "Duplikat",
    "UNKNOWN_EMPLOYEE": "Ukjent ansatt",
    "WRONG_BENEFIT_CODE": "Feil ytelseskode",
    "BANK_TOTAL_MISMATCH": "Banksum avviker",
    "MAKSDATO_CHANGED": "Maksdato endret",
    "MAKSDATO_REACHED": "Maksdato nådd i perioden",
    "REVERSAL": "Reversering av tidligere utligning",
    "CLAIM_ROW_INVALID": "Kravrad kan ikke leses",
    "INVALID_LINE": "Ugyldig linje",
    "AMOUNT_DIFFERENCE": "Beløpsavvik",
    "REPORT_REFUSED": "Rapport avvist",
}


def label(outcome: str) -> str:
    return OFFSET_LABELS.get(outcome) or CATEGORY_LABELS.get(outcome, outcome)
