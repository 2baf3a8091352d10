"""The benefits report's run: read the run history, write Excel + Markdown, flag missing history.
Plain functions on a RunContext, so the CLI, tests and benchmarks run it without Prefect."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from connectors.periods import add_months, month_key, month_label, parse_month
from flows.benefits_report.report import (
    BenefitsReport,
    compute,
    expected_to_run,
    markdown,
    window,
    write_excel,
)
from flows.benefits_report.rules import Rules
from flows.kit import RunContext, RunSummary, get_logger, publish_markdown
from flows.kit.dates import aware
from workqueue.models import ProcessRun

PROCESS_ID = "benefits-report"
NO_RUNS = "NO_RUNS"


@dataclass
class BenefitsResult:
    summary: RunSummary
    report: BenefitsReport
    exception_rows: list[dict[str, Any]]
    markdown: str


def run_benefits_report(ctx: RunContext, months: int | None = None, until: str | None = None,
                        now: datetime | None = None) -> BenefitsResult:
    from flows.registry import catalogue

    rules: Rules = ctx.rules or Rules()
    now = now or datetime.now(UTC)
    n = months or rules.months
    month_list = window(parse_month(until) if until else None, n, now, rules.timezone)
    zone = ZoneInfo(rules.timezone)
    since = datetime(month_list[0].year, month_list[0].month, 1, tzinfo=zone).astimezone(UTC)
    end = add_months(month_list[-1], 1)
    until_utc = datetime(end.year, end.month, 1, tzinfo=zone).astimezone(UTC)
    runs = [r for r in ctx.store.runs(since=since) if aware(r.started_at) < until_utc]
    definitions = list(catalogue(ctx.settings).values())
    report = compute(runs, definitions, months=month_list, hours_per_working_day=rules.hours_per_working_day,
                     exclude=rules.exclude_processes, tz=rules.timezone, now=now)

    excel = write_excel(report, ctx.out_dir / f"gevinstrapport-{month_key(month_list[-1])}.xlsx")
    text = markdown(report, excel)
    md_path = ctx.out_dir / "gevinstrapport.md"
    md_path.write_text(text, encoding="utf-8")

    rows = _flag_missing_history(ctx, report, rules) if rules.flag_processes_without_runs else []
    total_h = report.total_hours()
    per_process = {p.id: {"cases": (t := report.totals(p.id)).cases, "automated": t.automated,
                          "share_automated": round(t.share_automated, 4), "exceptions": t.exceptions_total,
                          "hours_saved": round(t.hours_saved, 2),
                          "working_days_saved": round(t.working_days_saved, 2)}
                   for p in report.processes}
    summary = RunSummary(
        process_id=ctx.process_id, run_id=ctx.run_id,
        cases_total=len(report.processes), automated=len(report.processes) - len(rows),
        exceptions={NO_RUNS: len(rows)} if rows else {},
        outputs={"gevinstrapport (Excel)": str(excel), "gevinstrapport (Markdown)": str(md_path)},
        figures={"months": [month_key(m) for m in month_list], "hours_saved": round(total_h, 2),
                 "working_days_saved": round(total_h / rules.hours_per_working_day, 2),
                 "per_process": per_process},
        table=rows,
    )
    get_logger().info("benefits report %s..%s: %.1f hours saved over %d processes",
                      month_key(month_list[0]), month_key(month_list[-1]), total_h, len(report.processes))
    return BenefitsResult(summary, report, rows, text)


def _flag_missing_history(ctx: RunContext, report: BenefitsReport, rules: Rules) -> list[dict[str, Any]]:
    """A NO_RUNS case for each process that was in operation and scheduled to run in the newest
    complete month but recorded no run there: its benefit cannot be measured (and something is off)."""
    months = report.months
    month = months[-2] if report.partial_month and len(months) > 1 else months[-1]
    if month == report.partial_month:
        return []
    zone = ZoneInfo(rules.timezone)
    month_start = datetime(month.year, month.month, 1, tzinfo=zone).astimezone(UTC)
    with ctx.store.session() as s:
        first_run = {pid: aware(at) for pid, at in s.execute(
            select(ProcessRun.process_id, func.min(ProcessRun.started_at)).group_by(ProcessRun.process_id))}
    known = {(c.reference, c.category) for c in ctx.store.cases(ctx.process_id, category=NO_RUNS)}
    rows = []
    for p in report.processes:
        if report.figures(p.id, month).runs:
            continue
        if not expected_to_run(p, month) or p.id not in first_run or first_run[p.id] >= month_start:
            continue  # not scheduled that month, or not in operation yet
        reference = f"{p.id}/{month_key(month)}"
        message = (f"{p.name}: ingen kjøringer registrert i {month_label(month)}, selv om prosessen er "
                   f"planlagt ({p.cron}). Gevinsten for måneden kan ikke måles; sjekk planen og kjøringene.")
        rows.append({"prosess": p.id, "måned": month_key(month), "kategori": NO_RUNS, "melding": message})
        if (reference, NO_RUNS) not in known:
            ctx.store.open_case(ctx.process_id, reference, ctx.new_case(
                NO_RUNS, message, org_unit=p.org_unit,
                evidence={"prosess": p.id, "måned": month_key(month), "plan": p.cron},
                search_text=f"{p.id} {p.name} {month_label(month)}"))
    return rows


def run_summary(ctx: RunContext, params, step) -> RunSummary:
    """What the kit's declaration runs: the report, and the report itself as a Prefect artifact."""
    result = step("gevinstrapport", run_benefits_report, ctx, params.months, params.until)
    publish_markdown("benefits-report-gevinster", result.markdown, "Gevinstrapport per prosess og måned")
    return result.summary
