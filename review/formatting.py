"""Norwegian formats for what staff read: dates dd.mm.åååå, amounts `1 234,50`, labels in bokmål.

Times are stored in UTC (naive on SQLite, aware on PostgreSQL) and shown in Europe/Oslo.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo

from workqueue.actions import kr

OSLO = ZoneInfo("Europe/Oslo")

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


def to_oslo(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    if value.tzinfo is None:  # SQLite hands back naive UTC
        value = value.replace(tzinfo=UTC)
    return value.astimezone(OSLO)


def fmt_date(value: datetime | date | None) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = to_oslo(value)
    return f"{value:%d.%m.%Y}"


def fmt_datetime(value: datetime | None) -> str:
    local = to_oslo(value)
    return "" if local is None else f"{local:%d.%m.%Y kl. %H:%M}"


def fmt_amount(value: float | Decimal | int | None) -> str:
    """1234.5 -> '1 234,50'; -1234.5 -> '−1 234,50'; None -> ''. The digits come from
    workqueue.actions.kr, the function the decision checks' messages use too: one style."""
    if value is None:
        return ""
    return kr(value)


def fmt_number(value: float | Decimal | int | None, decimals: int = 1) -> str:
    """A quantity that is not money (minutes, hours): 1234.5 -> '1 234,5'; None -> ''."""
    if value is None:
        return ""
    text = f"{abs(value):,.{decimals}f}".replace(",", " ").replace(".", ",")
    return ("\u2212" if value < 0 and text.strip("0, ") else "") + text


def fmt_kr(value: float | Decimal | int | None) -> str:
    """The one currency style staff read: '1 234,50 kr' (no-break spaces keep it on one line)."""
    text = fmt_amount(value)
    return "" if not text else text.replace(" ", "\u00a0") + "\u00a0kr"


def fmt_ore(value: int | None) -> str:
    """Øre (how the flows store money) as kroner: 123450 -> '1 234,50 kr'."""
    return "" if value is None else fmt_kr(Decimal(int(value)) / 100)


def fmt_hours(hours: float | None) -> str:
    """A duration in days and hours: 720 -> '30 dager', 36 -> '1 dag og 12 timer', 5 -> '5 timer'."""
    if hours is None:
        return ""
    total = round(float(hours))
    days, rest = divmod(total, 24)
    parts = []
    if days:
        parts.append("1 dag" if days == 1 else f"{days} dager")
    if rest or not days:
        parts.append("1 time" if rest == 1 else f"{rest} timer")
    return " og ".join(parts)


def fmt_bytes(n: int | None) -> str:
    """File sizes in kB/MB (decimal: 1 kB = 1 000 byte); never a bare byte count."""
    if n is None:
        return ""
    if n < 1_000_000:
        kb = n / 1000
        return (f"{kb:.1f} kB" if kb < 10 else f"{kb:.0f} kB").replace(".", ",")
    return f"{n / 1_000_000:.1f} MB".replace(".", ",")


def fmt_int(value: int | None) -> str:
    return "" if value is None else f"{value:,}".replace(",", " ")


def fmt_percent(value: float | None, decimals: int = 1) -> str:
    return "" if value is None else f"{value * 100:.{decimals}f} %".replace(".", ",")


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
