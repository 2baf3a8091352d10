"""Norwegian formats for what staff read, one style everywhere (the review app, cases, receipts,
letters, decision messages): dates dd.mm.åååå in Oslo time, kroner «1 234,50» and «1 234,50 kr»,
øre as kroner, percent «12,5 %», integers «1 234», sizes «1,2 MB», durations «1 dag og 12 timer».

Times are stored in UTC (naive on SQLite, aware on PostgreSQL) and shown in Europe/Oslo; an ISO
text (as a JSON note or an API holds a time) is read the same way. None is shown as "".
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

OSLO = ZoneInfo("Europe/Oslo")
NBSP = "\u00a0"
MINUS = "\u2212"


def to_oslo(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    if value.tzinfo is None:  # SQLite hands back naive UTC
        value = value.replace(tzinfo=UTC)
    return value.astimezone(OSLO)


def _as_time(value: str | date | datetime) -> date | datetime | str:
    """An ISO text as a date or datetime; a text that is neither is kept as it is."""
    if not isinstance(value, str):
        return value
    try:
        return date.fromisoformat(value) if len(value) == 10 else datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return value


def fmt_date(value: str | date | datetime | None) -> str:
    """dd.mm.åååå; a time as its day in Oslo."""
    value = _as_time(value) if value else None
    if isinstance(value, datetime):
        value = to_oslo(value)
    return "" if value is None else value if isinstance(value, str) else f"{value:%d.%m.%Y}"


def fmt_datetime(value: str | datetime | None) -> str:
    """dd.mm.åååå kl. tt:mm in Oslo time."""
    value = _as_time(value) if value else None
    if isinstance(value, str):
        return value
    if isinstance(value, date) and not isinstance(value, datetime):
        return f"{value:%d.%m.%Y}"
    local = to_oslo(value)
    return "" if local is None else f"{local:%d.%m.%Y kl. %H:%M}"


def fmt_amount(value: float | Decimal | int | None) -> str:
    """Kroner: 1234.5 -> '1 234,50'; -1234.5 -> '−1 234,50' (a minus sign); None -> ''. Decision
    messages write it with their own ' kr'; shown on its own, use fmt_kr."""
    if value is None:
        return ""
    d = Decimal(str(value)).quantize(Decimal("0.01"))
    whole, frac = f"{abs(d):.2f}".split(".")
    return f"{MINUS if d < 0 else ''}{fmt_int(int(whole))},{frac}"


def fmt_kr(value: float | Decimal | int | None) -> str:
    """The one currency style staff read: '1 234,50 kr' (no-break spaces keep it on one line)."""
    text = fmt_amount(value)
    return "" if not text else text.replace(" ", NBSP) + NBSP + "kr"


def fmt_ore(value: int | None) -> str:
    """Øre (how the flows store money) as kroner: 123450 -> '1 234,50 kr'."""
    return "" if value is None else fmt_kr(Decimal(int(value)) / 100)


def fmt_number(value: float | Decimal | int | None, decimals: int = 1) -> str:
    """A quantity that is not money (minutes, hours): 1234.5 -> '1 234,5'; None -> ''."""
    if value is None:
        return ""
    text = f"{abs(value):,.{decimals}f}".replace(",", " ").replace(".", ",")
    return (MINUS if value < 0 and text.strip("0, ") else "") + text


def fmt_int(value: int | None) -> str:
    """1234567 -> '1 234 567'."""
    return "" if value is None else f"{value:,}".replace(",", " ")


def fmt_percent(value: float | None, decimals: int | None = 1) -> str:
    """A share as percent: 0.125 -> '12,5 %'. decimals=None: as many as the value has
    (0.8 -> '80 %', 0.625 -> '62,5 %'), for a percent someone typed (a stillingsprosent)."""
    if value is None:
        return ""
    percent = value * 100
    return (f"{percent:g}" if decimals is None else f"{percent:.{decimals}f}").replace(".", ",") + " %"


def fmt_bytes(n: int | None) -> str:
    """File sizes in kB/MB (decimal: 1 kB = 1 000 byte); never a bare byte count."""
    if n is None:
        return ""
    if n < 1_000_000:
        kb = n / 1000
        return (f"{kb:.1f} kB" if kb < 10 else f"{kb:.0f} kB").replace(".", ",")
    return f"{n / 1_000_000:.1f} MB".replace(".", ",")


def fmt_byte_count(n: int | None) -> str:
    """The exact count, where one byte decides (a size limit): 10485761 -> '10 485 761 byte'."""
    return "" if n is None else f"{fmt_int(n)} byte"


def fmt_hours(hours: float | None) -> str:
    """A duration in days and hours: 720 -> '30 dager', 36 -> '1 dag og 12 timer', 5 -> '5 timer'."""
    if hours is None:
        return ""
    days, rest = divmod(round(float(hours)), 24)
    parts = []
    if days:
        parts.append("1 dag" if days == 1 else f"{days} dager")
    if rest or not days:
        parts.append("1 time" if rest == 1 else f"{rest} timer")
    return " og ".join(parts)
