"""The benefits report's figures, Excel workbook and Markdown, as plain functions.

Per process and month: runs, cases handled, cases handled automatically (share), exceptions per
category, and time saved = automated cases x (manual minutes - human minutes left per automated
case) from the definition's `baseline`, in hours and in working days of 7.5 h. With the default
`robot_minutes_per_case: 0` this is exactly "automated cases x manual baseline minutes".
A run counts in the month it started, in Europe/Oslo time. Runs still running are not counted. The per-run rule lives in workqueue.benefits (the review app's
benefits page uses the same).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from config.process_definition import ProcessDefinition
from workqueue.benefits import Figures, aggregate
from workqueue.benefits import minutes_saved_per_case as saved_per_case

MONTHS_NB = ["januar", "februar", "mars", "april", "mai", "juni", "juli", "august", "september",
             "oktober", "november", "desember"]


def month_label(month: date) -> str:
    return f"{MONTHS_NB[month.month - 1]} {month.year}"


def month_key(month: date) -> str:
    return f"{month.year:04d}-{month.month:02d}"


def add_months(month: date, n: int) -> date:
    index = month.year * 12 + month.month - 1 + n
    return date(index // 12, index % 12 + 1, 1)


def parse_month(value: str) -> date:
    """`2026-10` (or a full date) -> the first day of that month; a clear error otherwise."""
    try:
        if len(value) == 7:
            return datetime.strptime(value, "%Y-%m").date()
        d = date.fromisoformat(value)
        return d.replace(day=1)
    except ValueError:
        raise ValueError(f"month {value!r}: expected YYYY-MM, e.g. 2026-10") from None


def nb_number(value: float, decimals: int = 1) -> str:
    """1234.5 -> '1 234,5' (Norwegian: space for thousands, comma for decimals)."""
    text = f"{value:,.{decimals}f}"
    return text.replace(",", " ").replace(".", ",")


def nb_percent(value: float) -> str:
    return nb_number(100 * value, 1) + " %"


@dataclass(frozen=True)
class ProcessInfo:
    id: str
    name: str
    org_unit: str
    manual_minutes: float
    robot_minutes: float
    baseline_source: str
    cron: str
    timezone: str
    active: bool
    categories: dict[str, str]  # code -> meaning

    @property
    def minutes_saved_per_case(self) -> float:
        return saved_per_case(self.manual_minutes, self.robot_minutes)

    @classmethod
    def from_definition(cls, d: ProcessDefinition) -> ProcessInfo:
        return cls(d.id, d.name, d.owner.org_unit, d.baseline.manual_minutes_per_case,
                   d.baseline.robot_minutes_per_case, d.baseline.source, d.schedule.cron, d.schedule.timezone,
                   d.schedule.active, {c.code: c.meaning for c in d.exception_categories})


@dataclass
class BenefitsReport:
    months: list[date]
    processes: list[ProcessInfo]
    rows: dict[tuple[str, date], Figures]
    hours_per_working_day: float
    generated_at: datetime
    partial_month: date | None = None  # the newest month when it is not over yet

    def figures(self, process_id: str, month: date) -> Figures:
        return self.rows[(process_id, month)]

    def totals(self, process_id: str) -> Figures:
        info = self.process(process_id)
        total = Figures(minutes_saved_per_case=info.minutes_saved_per_case,
                        hours_per_working_day=self.hours_per_working_day)
        for month in self.months:
            total.add(self.rows[(process_id, month)])
        return total

    def months_with_runs(self, process_id: str | None = None) -> int:
        """Months in which the process (any process, given None) ran at all: averages are taken
        over these, never over months without runs."""
        ids = [process_id] if process_id else [p.id for p in self.processes]
        return sum(1 for m in self.months if any(self.rows[(pid, m)].runs for pid in ids))

    def days_per_month(self, process_id: str | None = None) -> float | None:
        """Working days saved per month with runs (None: no runs in the period)."""
        n = self.months_with_runs(process_id)
        if not n:
            return None
        hours = self.totals(process_id).hours_saved if process_id else self.total_hours()
        return hours / self.hours_per_working_day / n

    def month_hours(self, month: date) -> float:
        return sum(self.rows[(p.id, month)].hours_saved for p in self.processes)

    def total_hours(self) -> float:
        return sum(self.totals(p.id).hours_saved for p in self.processes)

    def process(self, process_id: str) -> ProcessInfo:
        return next(p for p in self.processes if p.id == process_id)

    def label(self, month: date) -> str:
        return month_label(month) + (" (hittil)" if month == self.partial_month else "")


def _aware(value: datetime) -> datetime:
    # SQLite hands back naive datetimes; the store writes UTC.
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def window(until: date | None, months: int, now: datetime, tz: str = "Europe/Oslo") -> list[date]:
    """`months` first-of-month dates ending with `until` (default: the current month in `tz`)."""
    last = (until or now.astimezone(ZoneInfo(tz)).date()).replace(day=1)
    return [add_months(last, -n) for n in range(months - 1, -1, -1)]


def compute(runs: Iterable, definitions: Iterable[ProcessDefinition], *, months: list[date],
            hours_per_working_day: float = 7.5, exclude: Iterable[str] = (), tz: str = "Europe/Oslo",
            now: datetime | None = None) -> BenefitsReport:
    """Aggregate ProcessRun rows (anything with process_id, started_at, status, cases_total,
    cases_automated, exceptions) into per-process, per-month figures."""
    now = now or datetime.now(UTC)
    zone = ZoneInfo(tz)
    excluded = set(exclude)
    processes = [ProcessInfo.from_definition(d) for d in definitions if d.id not in excluded]
    rows = aggregate(runs, {p.id: p.minutes_saved_per_case for p in processes}, months=months,
                     hours_per_working_day=hours_per_working_day, tz=tz)
    current = now.astimezone(zone).date().replace(day=1)
    partial = months[-1] if months and months[-1] >= current else None
    return BenefitsReport(months, processes, rows, hours_per_working_day, now, partial)


def expected_to_run(info: ProcessInfo, month: date) -> bool:
    """Whether the process's active schedule fires at least once in `month`."""
    if not info.active:
        return False
    from cronsim import CronSim

    zone = ZoneInfo(info.timezone)
    start = datetime(month.year, month.month, 1, tzinfo=zone)
    end = add_months(month, 1)
    first = next(CronSim(info.cron, start - timedelta(seconds=1)))
    return first.date() < end


# ---------------------------------------------------------------------------------- Excel

SUMMARY_HEADERS = ["Prosess", "Eier (enhet)", "Saker", "Automatisk", "Andel automatisk", "Avvik",
                   "Manuelle minutter per sak", "Timer spart", "Arbeidsdager spart",
                   "Arbeidsdager spart per måned (snitt)", "Kilde for manuell tid"]
MONTH_HEADERS = ["Prosess", "Måned", "Kjøringer", "Feilede kjøringer", "Saker", "Automatisk",
                 "Andel automatisk", "Avvik", "Timer spart", "Arbeidsdager spart",
                 "Endring timer fra forrige måned"]
EXCEPTION_HEADERS = ["Prosess", "Måned", "Kategori", "Betydning", "Antall"]
NO_RUNS = "ingen kjøringer"  # a month without runs: not 0 %, and not part of any average
HEADER_ROW = 3  # zero-based: titles above, the table's header on Excel row 4


TREND_NOTE = f"Tom celle (–): {NO_RUNS} i måneden, ikke 0."


@dataclass(frozen=True)
class TrendRow:
    label: str
    cells: list[Figures | None]  # per process in report order; None: no runs that month
    hours: float                 # hours saved that month, all processes


def trend(report: BenefitsReport) -> list[TrendRow]:
    """The trend table, months down and processes across, for the Excel sheet and the Markdown."""
    return [TrendRow(report.label(month), [f if (f := report.figures(p.id, month)).runs else None
                                           for p in report.processes], report.month_hours(month))
            for month in report.months]


def write_excel(report: BenefitsReport, path: Path) -> Path:
    from connectors.safe_cells import workbook

    path.parent.mkdir(parents=True, exist_ok=True)
    wb = workbook(str(path))
    title = wb.add_format({"bold": True, "font_size": 14})
    header = wb.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1, "text_wrap": True, "valign": "top"})
    integer = wb.add_format({"num_format": "#,##0"})
    one_dec = wb.add_format({"num_format": "#,##0.0"})
    pct = wb.add_format({"num_format": "0.0%"})
    bold_int = wb.add_format({"num_format": "#,##0", "bold": True, "top": 1})
    bold_dec = wb.add_format({"num_format": "#,##0.0", "bold": True, "top": 1})
    bold_pct = wb.add_format({"num_format": "0.0%", "bold": True, "top": 1})
    bold = wb.add_format({"bold": True, "top": 1})
    first, last = report.months[0], report.months[-1]
    period = f"{report.label(first)} – {report.label(last)}"
    made = f"Laget {report.generated_at.astimezone(ZoneInfo('Europe/Oslo')):%d.%m.%Y %H:%M}. " \
           f"Tid spart = automatisk behandlede saker × manuelle minutter per sak fra prosessdefinisjonen; " \
           f"en arbeidsdag er {nb_number(report.hours_per_working_day)} timer."

    # Summary: one row per process over the whole period, and a sum row.
    ws = wb.add_worksheet("Oppsummering")
    ws.write(0, 0, f"Gevinstrapport {period}", title)
    ws.write(1, 0, made)
    ws.write_row(HEADER_ROW, 0, SUMMARY_HEADERS, header)
    grand_cases = grand_auto = grand_exc = 0
    grand_hours = 0.0
    r = HEADER_ROW
    for p in report.processes:
        t = report.totals(p.id)
        r += 1
        ws.write(r, 0, p.name)
        ws.write(r, 1, p.org_unit)
        ws.write_number(r, 2, t.cases, integer)
        ws.write_number(r, 3, t.automated, integer)
        if t.runs:
            ws.write_number(r, 4, t.share_automated, pct)
        else:
            ws.write(r, 4, NO_RUNS)
        ws.write_number(r, 5, t.exceptions_total, integer)
        ws.write_number(r, 6, p.minutes_saved_per_case, one_dec)
        ws.write_number(r, 7, t.hours_saved, one_dec)
        ws.write_number(r, 8, t.working_days_saved, one_dec)
        per_month = report.days_per_month(p.id)
        if per_month is None:
            ws.write(r, 9, NO_RUNS)
        else:
            ws.write_number(r, 9, per_month, one_dec)
        ws.write(r, 10, p.baseline_source)
        grand_cases += t.cases
        grand_auto += t.automated
        grand_exc += t.exceptions_total
        grand_hours += t.hours_saved
    r += 1
    ws.write(r, 0, "Sum", bold)
    ws.write(r, 1, "", bold)
    ws.write_number(r, 2, grand_cases, bold_int)
    ws.write_number(r, 3, grand_auto, bold_int)
    ws.write_number(r, 4, grand_auto / grand_cases if grand_cases else 0.0, bold_pct)
    ws.write_number(r, 5, grand_exc, bold_int)
    ws.write(r, 6, "", bold)
    ws.write_number(r, 7, grand_hours, bold_dec)
    ws.write_number(r, 8, grand_hours / report.hours_per_working_day, bold_dec)
    grand_per_month = report.days_per_month()
    if grand_per_month is None:
        ws.write(r, 9, NO_RUNS, bold)
    else:
        ws.write_number(r, 9, grand_per_month, bold_dec)
    ws.write(r, 10, "", bold)
    ws.set_column(0, 0, 46)
    ws.set_column(1, 1, 22)
    ws.set_column(2, 9, 13)
    ws.set_column(10, 10, 60)
    ws.freeze_panes(HEADER_ROW + 1, 1)

    # Per month: every process in every month (zeros too: the trend needs the gaps).
    wm = wb.add_worksheet("Per måned")
    wm.write(0, 0, f"Gevinster per prosess og måned, {period}", title)
    wm.write_row(HEADER_ROW, 0, MONTH_HEADERS, header)
    r = HEADER_ROW
    for p in report.processes:
        previous = None
        for month in report.months:
            f = report.figures(p.id, month)
            r += 1
            wm.write(r, 0, p.name)
            wm.write(r, 1, report.label(month))
            for col, value in enumerate([f.runs, f.failed_runs, f.cases, f.automated], start=2):
                wm.write_number(r, col, value, integer)
            if f.runs:
                wm.write_number(r, 6, f.share_automated, pct)
            else:
                wm.write(r, 6, NO_RUNS)
            wm.write_number(r, 7, f.exceptions_total, integer)
            wm.write_number(r, 8, f.hours_saved, one_dec)
            wm.write_number(r, 9, f.working_days_saved, one_dec)
            if previous is None:
                wm.write(r, 10, "")
            else:
                wm.write_number(r, 10, f.hours_saved - previous, one_dec)
            previous = f.hours_saved
    wm.set_column(0, 0, 46)
    wm.set_column(1, 1, 20)
    wm.set_column(2, 10, 12)
    wm.freeze_panes(HEADER_ROW + 1, 2)
    wm.autofilter(HEADER_ROW, 0, max(r, HEADER_ROW), len(MONTH_HEADERS) - 1)

    # Exceptions per category.
    we = wb.add_worksheet("Avvik per kategori")
    we.write(0, 0, f"Avvik per kategori, {period}", title)
    we.write_row(HEADER_ROW, 0, EXCEPTION_HEADERS, header)
    r = HEADER_ROW
    for p in report.processes:
        for month in report.months:
            for code, n in sorted(report.figures(p.id, month).exceptions.items(), key=lambda kv: (-kv[1], kv[0])):
                if not n:
                    continue
                r += 1
                we.write_row(r, 0, [p.name, report.label(month), code, p.categories.get(code, "")])
                we.write_number(r, 4, n, integer)
    we.set_column(0, 0, 46)
    we.set_column(1, 2, 22)
    we.set_column(3, 3, 70)
    we.set_column(4, 4, 10)
    if r > HEADER_ROW:
        we.autofilter(HEADER_ROW, 0, r, len(EXCEPTION_HEADERS) - 1)

    # Trend: months down, processes across; hours saved and share automated, each with a chart. A
    # month without runs stays empty in both (a gap in the chart, not a fall to 0), as in the Markdown.
    wt = wb.add_worksheet("Trend")
    wt.write(0, 0, "Timer spart per måned", title)
    n_months = len(report.months)
    rows = trend(report)
    wt.write_row(HEADER_ROW, 0, ["Måned", *(p.name for p in report.processes), "Sum"], header)
    share_top = HEADER_ROW + n_months + 3
    wt.write_row(share_top, 0, ["Måned", *(p.name for p in report.processes)], header)
    wt.write(share_top - 1, 0, "Andel automatisk behandlet per måned", title)
    for i, t in enumerate(rows):
        row = HEADER_ROW + 1 + i
        wt.write(row, 0, t.label)
        wt.write(share_top + 1 + i, 0, t.label)
        for j, f in enumerate(t.cells, start=1):
            if f is not None:
                wt.write_number(row, j, f.hours_saved, one_dec)
                wt.write_number(share_top + 1 + i, j, f.share_automated, pct)
        wt.write_number(row, len(report.processes) + 1, t.hours, bold_dec)
    wt.write(share_top + n_months + 1, 0, TREND_NOTE)
    wt.set_column(0, 0, 22)
    wt.set_column(1, len(report.processes) + 1, 18)

    first_row, last_row = HEADER_ROW + 1, HEADER_ROW + n_months
    hours = wb.add_chart({"type": "column", "subtype": "stacked"})
    for j in range(1, len(report.processes) + 1):
        hours.add_series({"name": ["Trend", HEADER_ROW, j],
                          "categories": ["Trend", first_row, 0, last_row, 0],
                          "values": ["Trend", first_row, j, last_row, j]})
    hours.set_title({"name": "Timer spart per måned"})
    hours.set_y_axis({"name": "Timer", "num_format": "#,##0"})
    hours.set_legend({"position": "bottom"})
    hours.set_size({"width": 820, "height": 380})
    anchor_col = len(report.processes) + 3
    wt.insert_chart(HEADER_ROW, anchor_col, hours)

    share = wb.add_chart({"type": "line"})
    for j in range(1, len(report.processes) + 1):
        share.add_series({"name": ["Trend", share_top, j],
                          "categories": ["Trend", share_top + 1, 0, share_top + n_months, 0],
                          "values": ["Trend", share_top + 1, j, share_top + n_months, j],
                          "marker": {"type": "circle"}})
    share.set_title({"name": "Andel automatisk behandlet"})
    share.set_y_axis({"num_format": "0%", "min": 0, "max": 1})
    share.set_legend({"position": "bottom"})
    share.set_size({"width": 820, "height": 380})
    wt.insert_chart(share_top, anchor_col, share)
    wt.activate()
    wb.worksheets()[0].activate()
    wb.close()
    return path


# ------------------------------------------------------------------------------- Markdown

def markdown(report: BenefitsReport, excel_path: Path | None = None) -> str:
    first, last = report.months[0], report.months[-1]
    hpd = report.hours_per_working_day
    lines = [f"# Gevinstrapport {report.label(first)} – {report.label(last)}", "",
             f"Tid spart = automatisk behandlede saker × manuelle minutter per sak (prosessdefinisjonen). "
             f"En arbeidsdag = {nb_number(hpd)} timer.", "",
             "| Prosess | Saker | Automatisk | Andel | Avvik | Timer spart | Arbeidsdager spart | "
             "Arbeidsdager per måned |", "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for p in report.processes:
        t = report.totals(p.id)
        lines.append(f"| {p.name} | {nb_number(t.cases, 0)} | {nb_number(t.automated, 0)} | "
                     f"{nb_percent(t.share_automated) if t.runs else NO_RUNS} | {nb_number(t.exceptions_total, 0)} | "
                     f"{nb_number(t.hours_saved)} | {nb_number(t.working_days_saved)} | "
                     f"{NO_RUNS if report.days_per_month(p.id) is None else nb_number(report.days_per_month(p.id))} |")
    total_h = report.total_hours()
    lines += [f"| **Sum** | | | | | **{nb_number(total_h)}** | **{nb_number(total_h / hpd)}** | |", "",
              "## Timer spart per måned", "",
              "| Måned | " + " | ".join(p.name for p in report.processes) + " | Sum |",
              "|---|" + "---:|" * (len(report.processes) + 1)]
    for t in trend(report):
        cells = ["–" if f is None else nb_number(f.hours_saved) for f in t.cells]
        lines.append(f"| {t.label} | " + " | ".join(cells) + f" | {nb_number(t.hours)} |")
    lines += ["", TREND_NOTE]
    top = Counter()
    for p in report.processes:
        for code, n in report.totals(p.id).exceptions.items():
            top[(p.name, code)] += n
    if top:
        lines += ["", "## Vanligste avvik i perioden", "", "| Prosess | Kategori | Antall |", "|---|---|---:|"]
        for (name, code), n in top.most_common(10):
            lines.append(f"| {name} | {code} | {nb_number(n, 0)} |")
    if excel_path:
        lines += ["", f"Excel: `{excel_path}`"]
    return "\n".join(lines)
