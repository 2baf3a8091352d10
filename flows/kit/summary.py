"""The run summary: computed once, at the end of a run, and shown everywhere from that one object
(the CLI's --json, the Prefect state and artifacts, the run record the benefits report reads).

What a process counts is its own (`cases_total`: the units of work the run looked at, e.g. NAV's
payment lines; `automated`: those handled without a human); what the run opened in the queue is
the store's (`cases_opened`, `cases_by_category`, read by workqueue.figures.run_counts).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

from connectors.norwegian import fmt_int, fmt_percent
from flows.kit.context import RunContext
from workqueue.figures import run_counts

__all__ = ["RunSummary", "complete_from_store", "summary_markdown", "state_name", "state_message"]


@dataclass
class RunSummary:
    process_id: str
    run_id: str
    cases_total: int
    automated: int
    exceptions: dict[str, int]
    outputs: dict[str, str] = field(default_factory=dict)  # name -> path
    figures: dict[str, Any] = field(default_factory=dict)  # process-specific counts for --json
    cases_opened: int | None = None           # from the store: cases this run opened in the queue
    cases_by_category: dict[str, int] = field(default_factory=dict)
    definition_version: int | None = None
    definition_hash: str | None = None
    definition_label: str = ""
    decisions_applied: int = 0
    decisions_by_action: dict[str, int] = field(default_factory=dict)
    stopped_reason: str = ""   # set: the run stopped (a system was down)
    paused_reason: str = ""    # set: a quota paused the run; a follow-up run continues
    # The Prefect table when a run's rows are not cases (the SLA monitor's alerts, the benefits
    # report's flags): no names (fnr are masked once more); not part of the stored summary.
    table: list[dict[str, Any]] | None = field(default=None, repr=False)

    @property
    def straight_through_rate(self) -> float:
        return round(self.automated / self.cases_total, 4) if self.cases_total else 0.0

    @property
    def exceptions_total(self) -> int:
        return sum(self.exceptions.values())

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("table")
        data["straight_through_rate"] = self.straight_through_rate
        data.update(self.figures)
        return data

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=2, default=str)


def complete_from_store(ctx: RunContext, summary: RunSummary) -> RunSummary:
    """Fill in what the store knows: the cases this run opened and the definition version."""
    if ctx.shadow:  # what the side-effect boundary withheld and recorded (flows.kit.shadow)
        summary.figures.update(ctx.effects.summary_figures())
    counts = run_counts(ctx.store, ctx.run_id)
    summary.cases_opened = counts.cases_opened
    summary.cases_by_category = counts.cases_by_category
    if ctx.definition_version:
        summary.definition_version = ctx.definition_version.version
        summary.definition_hash = ctx.definition_version.hash
        summary.definition_label = ctx.definition_version.label
    if not summary.decisions_applied:
        applied = summary.figures.get("decisions_applied") or 0
        if isinstance(applied, dict):  # per action, e.g. {"retry": 2}
            summary.decisions_by_action = {str(k): int(v) for k, v in applied.items() if v}
            applied = sum(summary.decisions_by_action.values())
        summary.decisions_applied = int(applied)
    return summary


ACTION_WORDS = {"retry": "prøv igjen", "handled_manually": "behandlet manuelt", "dismiss": "avvist"}


def state_name(summary: RunSummary) -> str:
    """How the run went, in the words an operator reads in Prefect's run list."""
    if summary.stopped_reason:
        return f"Stoppet: {summary.stopped_reason}"[:100]
    if summary.paused_reason:
        return f"Pauset: {summary.paused_reason}"[:100]
    if summary.exceptions_total or summary.cases_opened:
        return "Fullført med avvik"
    return "Fullført"


def state_message(summary: RunSummary) -> str:
    parts = [f"{fmt_int(summary.cases_total)} saker, {fmt_int(summary.automated)} automatisk "
             f"({fmt_percent(summary.straight_through_rate)})"]
    parts.append(f"{fmt_int(summary.exceptions_total)} avvik")
    if summary.figures.get("mode") == "shadow":
        parts.insert(0, "Skyggemodus: ingenting skrevet til eksterne systemer")
    if summary.cases_opened is not None:
        parts.append(f"{fmt_int(summary.cases_opened)} nye saker i avvikskøen")
    if summary.decisions_applied:
        detail = ", ".join(f"{ACTION_WORDS.get(a, a)} {fmt_int(n)}" for a, n in sorted(summary.decisions_by_action.items()))
        parts.append(f"{fmt_int(summary.decisions_applied)} avgjørelser fra avvikskøen utført"
                     + (f" ({detail})" if detail else ""))
    if summary.definition_label:
        parts.append(summary.definition_label)
    return "; ".join(parts)


def summary_markdown(ctx: RunContext, summary: RunSummary) -> str:
    """The Markdown artifact: figures, categories and amounts only (names live in the review app)."""
    d = ctx.definition
    lines = [f"# {d.name}", "", f"Kjøring `{summary.run_id}`: **{state_name(summary)}**", "",
             "| | |", "|---|---|",
             f"| Saker totalt | {fmt_int(summary.cases_total)} |",
             f"| Automatisk behandlet | {fmt_int(summary.automated)} |",
             f"| Andel automatisk | {fmt_percent(summary.straight_through_rate)} |",
             f"| Avvik til manuell behandling | {fmt_int(summary.exceptions_total)} |"]
    if summary.cases_opened is not None:
        lines.append(f"| Nye saker i avvikskøen | {fmt_int(summary.cases_opened)} |")
    if summary.decisions_applied:
        lines.append(f"| Avgjørelser fra avvikskøen utført | {fmt_int(summary.decisions_applied)} |")
    if summary.definition_label:
        lines.append(f"| Regelverk | {summary.definition_label.removeprefix('Regler: ')} |")
    lines.append("")
    codes = sorted(set(summary.exceptions) | set(summary.cases_by_category),
                   key=lambda c: (-summary.exceptions.get(c, 0), c))
    if codes:  # the process's unit (NAV: lines) beside the cases they became in the queue
        lines += ["## Avvik per kategori", "", "| Kategori | Betydning | Antall | Saker i avvikskøen |",
                  "|---|---|---|---|"]
        for code in codes:
            try:
                meaning = d.category(code).meaning
            except KeyError:
                meaning = ""
            lines.append(f"| {code} | {meaning} | {fmt_int(summary.exceptions.get(code, 0))} | "
                         f"{fmt_int(summary.cases_by_category.get(code, 0))} |")
        lines.append("")
    if summary.outputs:
        lines += ["## Filer", ""] + [f"- {name}: `{path}`" for name, path in summary.outputs.items()] + [""]
    lines.append(f"Avvikskø: {ctx.settings.review.public_url}/saker?prosess={d.id}")
    return "\n".join(lines)
