"""What finance staff read: Norwegian formats and, per exception category, what to do."""

from __future__ import annotations

import logging
import sys
from datetime import datetime
from zoneinfo import ZoneInfo

OSLO = ZoneInfo("Europe/Oslo")


def logger(name: str):
    """The Prefect run logger inside a flow run, else a standard logger; both mask fnr.
    Prefect is only asked when it is already imported: a CLI run does not pay for the import."""
    from flows.runtime import FnrScrubFilter, get_logger

    if sys.modules.get("prefect") is not None:
        return get_logger(name)
    log = logging.getLogger(name)
    if not any(isinstance(f, FnrScrubFilter) for f in log.filters):
        log.addFilter(FnrScrubFilter())
    return log

WHAT_TO_DO = {
    "VOUCHER_NOT_FOUND": (
        "Kontroller bilagsnummeret (eller leverandørens organisasjonsnummer og fakturanummeret). "
        "Velg riktig bilag i avvikskøen («Velg bilag»), så laster roboten opp filen ved neste kjøring. "
        "Finnes bilaget ennå ikke, registrer det først og velg «Prøv igjen»."),
    "SEVERAL_CANDIDATES": (
        "Flere bilag passer til opplysningene. Velg riktig bilag i avvikskøen («Velg bilag»), så laster "
        "roboten opp filen ved neste kjøring."),
    "VOUCHER_LOCKED": (
        "Bilaget eller regnskapsperioden er låst. Få perioden åpnet og velg «Prøv igjen» i avvikskøen, "
        "eller velg et annet bilag."),
    "FILE_TYPE_NOT_ALLOWED": (
        "Lagre dokumentet som PDF (eller PNG, JPEG, CSV, XLSX, ODS) og legg det i innboksen på nytt. "
        "Marker deretter saken som behandlet."),
    "FILE_TOO_LARGE": (
        "Gjør filen mindre (skann med lavere oppløsning, eller del dokumentet i flere filer) og legg den "
        "i innboksen på nytt. Marker deretter saken som behandlet."),
    "CORRUPT_FILE": (
        "Filen kan ikke åpnes (skadet, avkortet eller passordbeskyttet). Be avsenderen om en ny kopi uten "
        "passord og legg den i innboksen. Marker deretter saken som behandlet."),
    "UNSAFE_FILE_NAME": (
        "Gi filen et vanlig navn (uten skråstrek, kolon eller usynlige tegn) og legg den i innboksen på "
        "nytt. Marker deretter saken som behandlet."),
    "MANIFEST_ROW_WITHOUT_FILE": (
        "Manifestet nevner en fil som ikke kom med. Finn filen og legg den i innboksen sammen med en ny "
        "manifestrad, eller marker saken som behandlet hvis filen ikke skal lastes opp."),
    "FILE_WITHOUT_MANIFEST_ROW": (
        "Filen står ikke i manifestet, og navnet følger ikke navnekonvensjonen "
        "(<bilagsnummer>_<tekst>.pdf eller <orgnr>_<fakturanummer>_<tekst>.pdf). Velg bilag i "
        "avvikskøen, eller legg filen i innboksen på nytt med en manifestrad."),
    "ATTACHED_ELSEWHERE": (
        "Det samme dokumentet ligger allerede på et annet bilag. Kontroller hvilket bilag som er riktig. "
        "Skal dokumentet også ligge på dette bilaget, velg bilaget i avvikskøen («Velg bilag»)."),
    "SYSTEM_ERROR": (
        "Økonomisystemet svarte ikke etter flere forsøk. Driftsansvarlig følger opp; filen lastes opp når "
        "saken sendes til nytt forsøk («Prøv igjen»)."),
}

OUTCOME_NO = {
    "uploaded": "Lastet opp",
    "already_attached": "Lå allerede på bilaget",
    "quarantined": "Satt i karantene",
    "handled_manually": "Behandlet manuelt",
    "dismissed": "Avvist",
}

DOOR_NO = {"api": "API", "web": "nettleser (robot i webgrensesnittet)", "manual": "manuelt"}


def nok(amount: float | None) -> str:
    """1 234,50 (non-breaking thin grouping as a plain space, comma decimals)."""
    if amount is None:
        return ""
    text = f"{amount:,.2f}".replace(",", " ").replace(".", ",")
    return text


def date_no(value: str | datetime | None) -> str:
    """dd.mm.åååå from an ISO date/datetime (or a datetime)."""
    if not value:
        return ""
    dt = value if isinstance(value, datetime) else _parse(value)
    if dt is None:
        return str(value)
    return dt.strftime("%d.%m.%Y")


def datetime_no(value: str | datetime | None) -> str:
    """dd.mm.åååå kl. tt:mm in Oslo time."""
    if not value:
        return ""
    dt = value if isinstance(value, datetime) else _parse(value)
    if dt is None:
        return str(value)
    if dt.tzinfo is not None:
        dt = dt.astimezone(OSLO)
    return dt.strftime("%d.%m.%Y kl. %H:%M")


def _parse(value: str) -> datetime | None:
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None


def bytes_no(n: int | None) -> str:
    if n is None:
        return ""
    return f"{n:,}".replace(",", " ") + " byte"
