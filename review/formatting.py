"""Labels in bokmål and what staff type (amounts, ages). The formats (dates dd.mm.åååå in Oslo
time, amounts «1 234,50 kr», sizes, percent) are connectors.norwegian's, named here as the
templates and routes have always imported them."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation

from connectors.norwegian import (  # noqa: F401 - the names review/ imports from here
    OSLO,
    fmt_amount,
    fmt_bytes,
    fmt_date,
    fmt_datetime,
    fmt_hours,
    fmt_int,
    fmt_kr,
    fmt_number,
    fmt_ore,
    fmt_percent,
    to_oslo,
)

STATUS_LABELS = {
    "open": "Åpen",
    "in_review": "Under behandling",
    "resolved": "Løst",
    "dismissed": "Avvist",
    "pending_approval": "Venter på godkjenning",
}

KIND_LABELS = {"business": "Forretningsavvik", "system": "Teknisk feil"}

ROLE_LABELS = {"reviewer": "Saksbehandler", "attestant": "Attestant", "owner": "Prosesseier",
               "admin": "Administrator"}

# Audit actions, as staff read them in the history and the audit trail.
AUDIT_LABELS = {
    "case.opened": "Sak opprettet",
    "case.assigned": "Tildelt",
    "case.claimed": "Tatt av saksbehandler",
    "case.released": "Lagt tilbake i køen",
    "case.decided": "Beslutning",
    "case.approved": "Beslutning godkjent (attestert)",
    "case.rejected": "Beslutning avvist av attestant",
    "case.decision_refused": "Beslutning stoppet av kontrollen ved kjøring",
    "case.reopened": "Gjenåpnet",
    "case.decision_applied": "Beslutningen er utført av roboten",
    "case.viewed": "Sak vist",
    "fnr.revealed": "Fødselsnummer vist",
    "attachment.downloaded": "Vedlegg åpnet",
    "cases.exported": "Eksport til Excel",
    "item.requeued": "Sendt tilbake for ny kjøring",
    "item.business_exception": "Forretningsavvik",
    "item.failed": "Teknisk feil (alle forsøk brukt)",
    "item.retry_scheduled": "Nytt forsøk planlagt",
    "item.abandoned": "Avbrutt (arbeider stoppet)",
    "user.login": "Innlogget",
    "user.login_failed": "Mislykket innlogging",
    "user.locked": "Konto låst",
    "user.unlocked": "Konto låst opp",
    "user.logout": "Logget ut",
    "user.created": "Bruker opprettet",
    "user.updated": "Bruker endret",
    "user.password_set": "Nytt passord satt",
    "schedule.paused": "Plan satt på pause",
    "schedule.resumed": "Plan startet igjen",
    "run.requested": "Kjøring bestilt («Kjør nå»)",
}


_AMOUNT = re.compile(r"^-?\d+(?:[.,]\d{1,2})?$")


def parse_amount(text: str | None) -> Decimal | None:
    """What staff type: '1 234,50', '1234.50', '1.234,50', 'kr 1234', '-50'. None if not an amount."""
    if text is None:
        return None
    t = text.strip().lower().removeprefix("kr").removesuffix("kr").strip()
    t = t.replace("\u00a0", "").replace(" ", "").replace("\u2212", "-")
    if "," in t and "." in t:  # 1.234,50: dots group thousands
        t = t.replace(".", "")
    if t.count(".") > 1:
        t = t.replace(".", "")
    if not _AMOUNT.match(t):
        return None
    try:
        return Decimal(t.replace(",", "."))
    except InvalidOperation:  # pragma: no cover - the pattern rules it out
        return None


def age_days(created: datetime | None, now: datetime) -> int:
    if created is None:
        return 0
    if created.tzinfo is None:
        created = created.replace(tzinfo=UTC)
    return max((now - created).days, 0)


def age_text(days: int) -> str:
    if days == 0:
        return "i dag"
    return "1 dag" if days == 1 else f"{days} dager"
