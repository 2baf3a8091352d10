"""`rpa run vehicle-data-collection [--fleet FILE.xlsx] [--out DIR] [--period 2026-T1] [--source api|web] [--json] [--prefect]`."""

from __future__ import annotations

from pathlib import Path

import typer

app = typer.Typer(help="Innhenting av kjøretøydata fra Statens vegvesen og klimarapport (andel nullutslipp).")


def _pct(value) -> str:
    return "–" if value is None else f"{value * 100:.1f} %".replace(".", ",")


@app.callback(invoke_without_command=True)
def run(
    fleet: Path = typer.Option(None, "--fleet", help="The fleet list (.xlsx). Default: the definition's "
                                                     "`fleet-list` input (the scheduled form)."),
    out: Path = typer.Option(None, "--out", help="Folder for kjoretoy.xlsx (default: <data>/output/<process>/<run>)."),
    period: str = typer.Option(None, "--period", help="Tertial, e.g. 2026-T1 (default: the one containing yesterday)."),
    source: str = typer.Option(None, "--source", help="api or web (default: the definition's `source`)."),
    as_json: bool = typer.Option(False, "--json", help="Print the run summary as JSON."),
    prefect: bool = typer.Option(False, "--prefect", help="Run as a Prefect flow (PREFECT_API_URL)."),
) -> None:
    """Look every vehicle in the fleet list up at Statens vegvesen, classify it, and write
    kjoretoy.xlsx (sheets Kjøretøy and Klimarapport). Exit code 0 when the run completed or paused
    for the registry's quota (the next run resumes), 1 when it stopped (API key refused, registry
    down), 2 on an invalid fleet list, option or definition."""
    import json

    from config.catalogue import DefinitionError
    from flows.vehicle_data_collection.fleet import FleetListError
    from flows.vehicle_data_collection.periods import Tertial

    if source is not None and source not in ("api", "web"):
        typer.secho(f"--source must be api or web, not {source!r}", fg=typer.colors.RED, err=True)
        raise typer.Exit(2)
    try:
        tertial = Tertial.parse(period) if period else None
        if prefect:
            from flows.vehicle_data_collection.flow import vehicle_data_collection

            try:
                data = vehicle_data_collection(fleet=str(fleet) if fleet else None, out=str(out) if out else None,
                                               period=tertial.code if tertial else None, source=source)
            except RuntimeError as exc:  # a stopped run fails the flow; say why
                typer.secho(str(exc), fg=typer.colors.RED, err=True)
                raise typer.Exit(1) from None
        else:
            from flows.runtime import open_run
            from flows.vehicle_data_collection import PROCESS_ID
            from flows.vehicle_data_collection.process import run_collection

            ctx = open_run(PROCESS_ID, out_dir=out)
            data = run_collection(ctx, fleet, tertial, source=source).summary.to_dict()
    except (DefinitionError, FleetListError, ValueError) as exc:
        from connectors.identifiers import mask_fnrs_in_text

        typer.secho(mask_fnrs_in_text(str(exc)), fg=typer.colors.RED, err=True)
        raise typer.Exit(2) from None
    if as_json:
        typer.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))
    else:
        climate = data.get("climate") or {}
        change = data.get("zero_emission_change_pp")
        typer.echo(f"Kjøring {data['run_id']} ({climate.get('period_label', data['period'])}, via {data['source']}): "
                   f"{data['vehicles']} kjøretøy i listen, {data['found']} funnet i registeret, "
                   f"andel nullutslipp {_pct(data['zero_emission_share'])}"
                   + (f" (forrige {_pct(data['zero_emission_share_previous'])}, endring "
                      f"{change:+.1f} pp)".replace(".", ",") if change is not None else "") + ".")
        for code, n in sorted(data["exceptions"].items()):
            typer.echo(f"  {code:22} {n}")
        for warning in data.get("warnings") or []:
            typer.secho(f"Advarsel: {warning}", fg=typer.colors.YELLOW, err=True)
        for name, path in data["outputs"].items():
            typer.echo(f"{name}: {path}")
    status = data.get("status")
    if status == "paused":
        typer.secho(data.get("message") or "Pauset", fg=typer.colors.YELLOW, err=True)
    elif status == "stopped":
        typer.secho(data.get("message") or "Stoppet", fg=typer.colors.RED, err=True)
        raise typer.Exit(1)
