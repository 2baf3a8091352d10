"""A cron schedule in Norwegian words, for where operators read it (the Prefect schedule label,
the catalogue): "0 7 3 * *" -> "kl. 07:00 den 3. hver måned". Patterns it does not know fall back
to "cron <expression>": never a wrong sentence."""

from __future__ import annotations

_DAYS = ["søndag", "mandag", "tirsdag", "onsdag", "torsdag", "fredag", "lørdag", "søndag"]
_MONTHS = ["januar", "februar", "mars", "april", "mai", "juni", "juli", "august", "september", "oktober",
           "november", "desember"]


def _weekdays(field: str) -> str | None:
    if field == "*":
        return ""
    if field == "1-5":
        return "mandag–fredag"
    if field.isdigit():
        return f"hver {_DAYS[int(field)]}"
    return None


def _hours(field: str) -> str | None:
    if field == "*":
        return "hele døgnet"
    if "-" in field and all(p.isdigit() for p in field.split("-")):
        a, b = field.split("-")
        return f"kl. {int(a):02d}–{int(b):02d}"
    return None


def schedule_words(cron: str) -> str:
    fields = cron.split()
    if len(fields) != 5:
        return f"cron {cron}"
    minute, hour, day, month, weekday = fields
    days = _weekdays(weekday)
    if minute.isdigit() and hour.isdigit():
        at = f"kl. {int(hour):02d}:{int(minute):02d}"
        if day == "*" and month == "*" and days is not None:
            return f"{at} {days or 'hver dag'}"
        if day.isdigit() and weekday == "*":
            if month == "*":
                return f"{at} den {int(day)}. hver måned"
            if all(m.isdigit() for m in month.split(",")):
                names = [_MONTHS[int(m) - 1] for m in month.split(",")]
                listed = ", ".join(names[:-1]) + " og " + names[-1] if len(names) > 1 else names[0]
                return f"{at} den {int(day)}. i {listed}"
    if minute.startswith("*/") and minute[2:].isdigit() and day == "*" and month == "*" and days is not None:
        hours = _hours(hour)
        if hours is not None:
            every = {"15": "hvert kvarter", "30": "hver halvtime"}.get(minute[2:], f"hvert {minute[2:]}. minutt")
            return " ".join(part for part in (every, hours, days) if part)
    return f"cron {cron}"
