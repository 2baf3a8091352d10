"""A cron schedule in Norwegian words: the one wording for every place a person reads a schedule
(the Prefect schedule label, the catalogue page): "0 7 3 * *" -> "kl. 07:00 den 3. hver måned".
Shapes it does not know fall back to "cron <expression>": never a wrong sentence."""

from __future__ import annotations

_DAYS = ["søndag", "mandag", "tirsdag", "onsdag", "torsdag", "fredag", "lørdag", "søndag"]
_MONTHS = ["januar", "februar", "mars", "april", "mai", "juni", "juli", "august", "september", "oktober",
           "november", "desember"]
_DAY_ABBR = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"]
_MONTH_ABBR = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]


def _join(words: list[str]) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " og " + words[-1]


def _name(value: str, names: list[str], abbr: list[str], first: int) -> str | None:
    text = value.lower()
    if text in abbr:
        return names[abbr.index(text)]
    if text.isdigit() and first <= int(text) < first + len(names):
        return names[int(text) - first]
    return None


def _names(field: str, names: list[str], abbr: list[str], first: int) -> str | None:
    """A weekday or month field in words: "1-5" -> "mandag–fredag", "jan,may" -> "januar og mai"."""
    parts = []
    for part in field.split(","):
        ends = [_name(p, names, abbr, first) for p in part.split("-")]
        if len(ends) > 2 or None in ends:
            return None
        parts.append("–".join(ends))  # type: ignore[arg-type]
    return _join(parts)


def _weekdays(field: str) -> str | None:
    if field == "*":
        return ""
    words = _names(field, _DAYS, _DAY_ABBR, 0)
    if words is None:
        return None
    return words if "-" in field else f"hver {words}"


def _hours(field: str) -> str | None:
    if field == "*":
        return "hele døgnet"
    if "-" in field and all(p.isdigit() for p in field.split("-")):
        a, b = field.split("-")
        return f"kl. {int(a):02d}–{int(b):02d}"
    return None


def _fixed(field: str) -> list[int] | None:
    parts = field.split(",")
    return [int(p) for p in parts] if all(p.isdigit() for p in parts) else None


def schedule_words(cron: str) -> str:
    fields = cron.split()
    if len(fields) != 5:
        return f"cron {cron}"
    minute, hour, day, month, weekday = fields
    days = _weekdays(weekday)
    months = "" if month == "*" else _names(month, _MONTHS, _MONTH_ABBR, 1)
    minutes, hours, dates = _fixed(minute), _fixed(hour), _fixed(day)
    if days is None or months is None:
        return f"cron {cron}"
    if minutes and hours:
        at = "kl. " + _join([f"{h:02d}:{m:02d}" for h in hours for m in minutes])
        if day == "*":
            return " ".join(p for p in (at, days or ("hver dag" if not months else ""),
                                        f"i {months}" if months else "") if p)
        if dates and weekday == "*":
            on = "den " + _join([f"{d}." for d in dates])
            return f"{at} {on} " + (f"i {months}" if months else "hver måned")
    if day == "*" and not months and (minute.startswith("*/") and minute[2:].isdigit() or minute == "0"):
        span = _hours(hour)
        if span is not None:
            every = ("hver hele time" if minute == "0" else
                     {"15": "hvert kvarter", "30": "hver halvtime"}.get(minute[2:], f"hvert {minute[2:]}. minutt"))
            return " ".join(p for p in (every, span, days) if p)
    return f"cron {cron}"
