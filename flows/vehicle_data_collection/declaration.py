"""Vehicle data collection's declaration: parameters and console lines (light: `rpa run` and
`rpa --help` import it; the flow and the run function load when a run starts)."""

from __future__ import annotations

from connectors.norwegian import fmt_number, fmt_percent
from flows.kit.declare import Declaration, Param
from flows.vehicle_data_collection import PROCESS_ID


def _pct(value) -> str:
    return fmt_percent(value) or "–"


def _console(data: dict) -> list[str]:
    climate = data.get("climate") or {}
    change = data.get("zero_emission_change_pp")
    lines = [f"Kjøring {data['run_id']} ({climate.get('period_label', data['period'])}, via {data['source']}): "
             f"{data['vehicles']} kjøretøy i listen, {data['found']} funnet i registeret, "
             f"andel nullutslipp {_pct(data['zero_emission_share'])}"
             + (f" (forrige {_pct(data['zero_emission_share_previous'])}, endring "
                f"{'+' if change > 0 else ''}{fmt_number(change)} pp)" if change is not None else "") + "."]
    lines += [f"  {code:22} {n}" for code, n in sorted(data["exceptions"].items())]
    lines += [f"Advarsel: {w}" for w in data.get("warnings") or []]
    lines += [f"{name}: {path}" for name, path in data["outputs"].items()]
    if data.get("status") == "paused":
        lines.append(data.get("message") or "Pauset")
    return lines


PROCESS = Declaration(
    PROCESS_ID, run="flows.vehicle_data_collection.process:run", console=_console, out_param="out",
    description="Innhenting av kjøretøydata fra Statens vegvesen og andel nullutslipp per virksomhet og tertial.",
    params=[Param("fleet", "The fleet list (.xlsx). Default: the definition's `fleet-list` input.", kind="path"),
            Param("period", "Tertial, e.g. 2026-T1 (default: the one containing yesterday)."),
            Param("source", "api or web (default: the definition's `source`).", choices=("api", "web"))])
