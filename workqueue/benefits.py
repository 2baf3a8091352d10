"""Benefits figures per process and month, from the run records: the one computation that the
benefits report (flows/benefits_report) and the review app's benefits page both call.

One rule per run: a run still `running` is not counted yet; `completed` counts as a good run;
`failed`, `stopped` and `abandoned` count as runs that did not complete; cases, automated cases
and exceptions come from what the run recorded (flows.kit.finish). Hours saved = automated cases x
(manual - robot minutes per case, never below zero) from the definition's baseline.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

__all__ = ["Figures", "minutes_saved_per_case", "run_month", "aggregate", "COUNTED", "NOT_COMPLETED"]

COUNTED = {"completed", "failed", "stopped", "abandoned"}
NOT_COMPLETED = {"failed", "stopped", "abandoned"}


def minutes_saved_per_case(manual_minutes: float, robot_minutes: float) -> float:
    return max(manual_minutes - robot_minutes, 0.0)


@dataclass
class Figures:
    """Counts of one process in one month (or summed over months)."""

    runs: int = 0
    failed_runs: int = 0
    cases: int = 0
    automated: int = 0
    exceptions: Counter = field(default_factory=Counter)
    minutes_saved_per_case: float = 0.0
    hours_per_working_day: float = 7.5

    @property
    def exceptions_total(self) -> int:
        return sum(self.exceptions.values())

    @property
    def share_automated(self) -> float:
        return self.automated / self.cases if self.cases else 0.0

    @property
    def hours_saved(self) -> float:
        return self.automated * self.minutes_saved_per_case / 60

    @property
    def working_days_saved(self) -> float:
        return self.hours_saved / self.hours_per_working_day

    def add(self, other: Figures) -> None:
        self.runs += other.runs
        self.failed_runs += other.failed_runs
        self.cases += other.cases
        self.automated += other.automated
        self.exceptions.update(other.exceptions)

    def add_run(self, run: Any) -> None:
        self.runs += 1
        self.failed_runs += run.status in NOT_COMPLETED
        self.cases += run.cases_total or 0
        self.automated += run.cases_automated or 0
        self.exceptions.update({k: int(v) for k, v in (run.exceptions or {}).items()})


def run_month(run: Any, zone: ZoneInfo) -> date:
    started = run.started_at if run.started_at.tzinfo else run.started_at.replace(tzinfo=UTC)  # SQLite: naive UTC
    return started.astimezone(zone).date().replace(day=1)


def aggregate(runs: Iterable[Any], minutes_saved: Mapping[str, float], *, months: Iterable[date] | None = None,
              hours_per_working_day: float = 7.5, tz: str = "Europe/Oslo") -> dict[tuple[str, date], Figures]:
    """Per (process, month): the figures of the runs (ProcessRun rows or anything shaped like them).
    Only processes in `minutes_saved`; with `months`, only those months (each present, maybe empty)."""
    zone = ZoneInfo(tz)
    wanted = list(months) if months is not None else None
    rows: dict[tuple[str, date], Figures] = {}
    if wanted is not None:
        rows = {(pid, m): Figures(minutes_saved_per_case=minutes, hours_per_working_day=hours_per_working_day)
                for pid, minutes in minutes_saved.items() for m in wanted}
    for run in runs:
        if run.status not in COUNTED or run.process_id not in minutes_saved:
            continue
        key = (run.process_id, run_month(run, zone))
        figures = rows.get(key)
        if figures is None:
            if wanted is not None:  # outside the window
                continue
            figures = rows[key] = Figures(minutes_saved_per_case=minutes_saved[run.process_id],
                                          hours_per_working_day=hours_per_working_day)
        figures.add_run(run)
    return rows


def now_utc() -> datetime:
    return datetime.now(UTC)
