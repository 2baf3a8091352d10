"""Just enough reading of a K27 CSV for the stand-in's own pages: line count and total.

(The real parser with errors naming file, row and column is the connector's; the sandbox only
summarises what it serves and never fails on a line it cannot read.)
"""

from __future__ import annotations

from sandbox.nav.reports import Report


def total_ore(content: bytes) -> tuple[int, int]:
    """(number of lines, sum in øre) of a K27 CSV; unreadable amounts count as 0."""
    lines = [line for line in content.decode("iso-8859-1").split("\r\n") if line.strip()]
    total = 0
    for line in lines:
        fields = line.split(";")
        amount = fields[9] if len(fields) > 9 else ""
        digits, sign = amount[:10], amount[10:11]
        if digits.isdigit():
            total += -int(digits) if sign == "-" else int(digits)
    return len(lines), total


def format_nok(ore: int) -> str:
    """Norwegian amount: 1 234,50 (a no-break space between thousands)."""
    kroner, rest = divmod(abs(ore), 100)
    grouped = f"{kroner:,}".replace(",", "\u00a0")
    return f"{'-' if ore < 0 else ''}{grouped},{rest:02d}"


def format_account(number: str) -> str:
    return f"{number[:4]}.{number[4:6]}.{number[6:]}" if len(number) == 11 else number


def summary_lines(report: Report, content: bytes) -> list[str]:
    count, total = total_ore(content)
    return [
        "Oppgjørsrapport arbeidsgiver – refusjoner fra Nav",
        "",
        f"Organisasjon: {report.org_navn} ({report.orgnr})",
        f"Valuteringsdato: {report.dato_valutert:%d.%m.%Y}",
        f"Bankkonto: {format_account(report.bankkonto)}",
        f"Antall linjer: {count}",
        f"Sum utbetalt: {format_nok(total)} kr",
        "",
        "Linjene med personopplysninger står i CSV-varianten av rapporten.",
    ]
