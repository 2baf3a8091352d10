"""The benefits report's declaration: parameters and console lines (light: `rpa run` and
`rpa --help` import it; the flow and the run function load when a run starts)."""

from __future__ import annotations

from pathlib import Path

from flows.kit.declare import Declaration, Param


def _console(data: dict) -> list[str]:
    """The Markdown report, then the hours saved and the files."""
    markdown = Path(data["outputs"].get("gevinstrapport (Markdown)", ""))
    lines = [markdown.read_text(encoding="utf-8")] if markdown.is_file() else []
    lines += ["", f"Timer spart: {data['hours_saved']}  arbeidsdager: {data['working_days_saved']}"]
    return lines + [f"{name}: {path}" for name, path in data["outputs"].items()]


PROCESS = Declaration(
    "benefits-report", run="flows.benefits_report.steps:run_summary", console=_console,
    description="Gevinstrapport: saker, andel automatisk, avvik og tid spart per prosess og måned.",
    params=[Param("months", "Months in the report (default: the definition's rules).", kind="int"),
            Param("until", "Newest month, YYYY-MM (default: the current month).")])
