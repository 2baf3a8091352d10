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
from config.schedule_times import next_runs
from connectors import spreadsheet as xl
from connectors.norwegian import fmt_datetime, fmt_number, fmt_percent
from connectors.periods import add_months, month_label
from workqueue.benefits import Figures, aggregate
from workqueue.benefits import minutes_saved_per_case as saved_per_case


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
    start = datetime(month.year, month.month, 1, tzinfo=ZoneInfo(info.timezone))
    return next_runs(info.cron, info.timezone, start - timedelta(seconds=1), count=1)[0].date() < add_months(month, 1)


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
SHARE = xl.Kind("0.0%")  # the share automated, as this report has always shown it
SUMMARY_KINDS = [xl.TEXT, xl.TEXT, xl.INTEGER, xl.INTEGER, SHARE, xl.INTEGER, *[xl.DECIMAL] * 4, xl.TEXT]
MONTH_KINDS = [xl.TEXT, xl.TEXT, *[xl.INTEGER] * 4, SHARE, xl.INTEGER, *[xl.DECIMAL] * 3]
EXCEPTION_KINDS = [*[xl.TEXT] * 4, xl.INTEGER]


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
    first, last = report.months[0], report.months[-1]
    period = f"{report.label(first)} – {report.label(last)}"
    made = f"Laget {fmt_datetime(report.generated_at)}. " \
           f"Tid spart = automatisk behandlede saker × manuelle minutter per sak fra prosessdefinisjonen; " \
           f"en arbeidsdag er {fmt_number(report.hours_per_working_day)} timer."
    names = [p.name for p in report.processes]

    # Summary: one row per process over the whole period, and a sum row.
    summary = []
    for p in report.processes:
        t = report.totals(p.id)
        per_month = report.days_per_month(p.id)
        summary.append([p.name, p.org_unit, t.cases, t.automated, t.share_automated if t.runs else NO_RUNS,
                        t.exceptions_total, p.minutes_saved_per_case, t.hours_saved, t.working_days_saved,
                        NO_RUNS if per_month is None else per_month, p.baseline_source])
    cases, automated = sum(r[2] for r in summary), sum(r[3] for r in summary)
    hours, per_month = sum(r[7] for r in summary), report.days_per_month()
    summary.append(xl.Total(["Sum", "", cases, automated, automated / cases if cases else 0.0,
                             sum(r[5] for r in summary), "", hours, hours / report.hours_per_working_day,
                             NO_RUNS if per_month is None else per_month, ""]))

    # Per month: every process in every month (zeros too: the trend needs the gaps).
    months = []
    for p in report.processes:
        previous = None
        for month in report.months:
            f = report.figures(p.id, month)
            months.append([p.name, report.label(month), f.runs, f.failed_runs, f.cases, f.automated,
                           f.share_automated if f.runs else NO_RUNS, f.exceptions_total, f.hours_saved,
                           f.working_days_saved, None if previous is None else f.hours_saved - previous])
            previous = f.hours_saved

    exceptions = [[p.name, report.label(month), code, p.categories.get(code, ""), n]
                  for p in report.processes for month in report.months
                  for code, n in sorted(report.figures(p.id, month).exceptions.items(), key=lambda kv: (-kv[1], kv[0]))
                  if n]

    # Trend: months down, processes across; hours saved and share automated, each with a chart. A
    # month without runs stays empty in both (a gap in the chart, not a fall to 0), as in the Markdown.
    rows = trend(report)
    hours_rows = [[t.label, *(None if f is None else f.hours_saved for f in t.cells), xl.Cell(t.hours, bold=True)]
                  for t in rows]
    share_rows = [[t.label, *(None if f is None else f.share_automated for f in t.cells)] for t in rows]
    beside = len(names) + 3  # both charts in one column, right of the wider table
    hours_chart = xl.Chart("Timer spart per måned", (1, len(names)), stacked=True, y_title="Timer",
                           y_format="#,##0", column=beside)
    share_chart = xl.Chart("Andel automatisk behandlet", (1, len(names)), type="line", markers=True,
                           y_format="0%", y_max=1, column=beside)

    def heading(*texts: str) -> list:  # the titles above, the table's header on Excel row 4 (HEADER_ROW)
        return [xl.Title(texts[0]), *(xl.Text(t) for t in texts[1:]), xl.Gap(HEADER_ROW - len(texts))]

    return xl.write_workbook(path, [
        xl.Sheet("Oppsummering", [*heading(f"Gevinstrapport {period}", made),
                                  xl.Table(_columns(SUMMARY_HEADERS, SUMMARY_KINDS), summary, freeze=True,
                                           frozen_columns=1)], widths=(46, 22, *[13] * 8, 60)),
        xl.Sheet("Per måned", [*heading(f"Gevinster per prosess og måned, {period}"),
                               xl.Table(_columns(MONTH_HEADERS, MONTH_KINDS), months, freeze=True, frozen_columns=2,
                                        autofilter=True)], widths=(46, 20, *[12] * 9)),
        xl.Sheet("Avvik per kategori", [*heading(f"Avvik per kategori, {period}"),
                                        xl.Table(_columns(EXCEPTION_HEADERS, EXCEPTION_KINDS), exceptions,
                                                 autofilter=bool(exceptions))], widths=(46, 22, 22, 70, 10)),
        xl.Sheet("Trend", [*heading("Timer spart per måned"),
                           xl.Table(_columns(["Måned", *names, "Sum"], [xl.TEXT, *[xl.DECIMAL] * (len(names) + 1)]),
                                    hours_rows, chart=hours_chart),
                           xl.Gap(), xl.Title("Andel automatisk behandlet per måned"),
                           xl.Table(_columns(["Måned", *names], [xl.TEXT, *[SHARE] * len(names)]), share_rows,
                                    chart=share_chart),
                           xl.Text(TREND_NOTE)], widths=(22, *[18] * (len(names) + 1))),
    ])


def _columns(titles: list[str], kinds: list[xl.Kind]) -> list[xl.Column]:
    return [xl.Column(title, kind=kind) for title, kind in zip(titles, kinds, strict=True)]


# ------------------------------------------------------------------------------- Markdown

def markdown(report: BenefitsReport, excel_path: Path | None = None) -> str:
    first, last = report.months[0], report.months[-1]
    hpd = report.hours_per_working_day
    lines = [f"# Gevinstrapport {report.label(first)} – {report.label(last)}", "",
             f"Tid spart = automatisk behandlede saker × manuelle minutter per sak (prosessdefinisjonen). "
             f"En arbeidsdag = {fmt_number(hpd)} timer.", "",
             "| Prosess | Saker | Automatisk | Andel | Avvik | Timer spart | Arbeidsdager spart | "
             "Arbeidsdager per måned |", "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for p in report.processes:
        t = report.totals(p.id)
        lines.append(f"| {p.name} | {fmt_number(t.cases, 0)} | {fmt_number(t.automated, 0)} | "
                     f"{fmt_percent(t.share_automated) if t.runs else NO_RUNS} | {fmt_number(t.exceptions_total, 0)} | "
                     f"{fmt_number(t.hours_saved)} | {fmt_number(t.working_days_saved)} | "
                     f"{NO_RUNS if report.days_per_month(p.id) is None else fmt_number(report.days_per_month(p.id))} |")
    total_h = report.total_hours()
    lines += [f"| **Sum** | | | | | **{fmt_number(total_h)}** | **{fmt_number(total_h / hpd)}** | |", "",
              "## Timer spart per måned", "",
              "| Måned | " + " | ".join(p.name for p in report.processes) + " | Sum |",
              "|---|" + "---:|" * (len(report.processes) + 1)]
    for t in trend(report):
        cells = ["–" if f is None else fmt_number(f.hours_saved) for f in t.cells]
        lines.append(f"| {t.label} | " + " | ".join(cells) + f" | {fmt_number(t.hours)} |")
    lines += ["", TREND_NOTE]
    top = Counter()
    for p in report.processes:
        for code, n in report.totals(p.id).exceptions.items():
            top[(p.name, code)] += n
    if top:
        lines += ["", "## Vanligste avvik i perioden", "", "| Prosess | Kategori | Antall |", "|---|---|---:|"]
        for (name, code), n in top.most_common(10):
            lines.append(f"| {name} | {code} | {fmt_number(n, 0)} |")
    if excel_path:
        lines += ["", f"Excel: `{excel_path}`"]
    return "\n".join(lines)
