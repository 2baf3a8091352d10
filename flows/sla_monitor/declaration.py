"""The SLA monitor's declaration: parameters and console lines (light: `rpa run` and `rpa --help`
import it; the flow and the run function load when a run starts)."""

from __future__ import annotations

from flows.kit.declare import Declaration, Param


def _console(data: dict) -> list[str]:
    alerts = data.get("alert_list") or []
    if not alerts:
        return ["Ingen nye fristbrudd eller feilede kjøringer."]
    lines = []
    for row in alerts:
        lines.append(f"{row['status'] or '-':12} {row['type']:12} {row['prosess']:28} {row['emne']}")
        if row.get("tekst"):  # a dry run shows what would be sent
            lines.append("    " + row["tekst"].replace("\n", "\n    "))
    return lines


PROCESS = Declaration(
    "sla-monitor", run="flows.sla_monitor.steps:run_summary", console=_console,
    description="Varsler eieren om avvikssaker over fristen og feilede, forsinkede eller manglende kjøringer.",
    params=[Param("dry_run", "Show the alerts without sending them.", kind="bool")])
