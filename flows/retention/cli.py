"""`rpa run retention` (also `rpa retention`): delete what is past each process's retention."""

from __future__ import annotations

import json

import typer

from connectors.norwegian import fmt_bytes, fmt_date, fmt_datetime

app = typer.Typer(help="Sletting etter oppbevaringstid: utdata, arkiv, vedlegg og personopplysninger i lukkede saker.")


@app.callback(invoke_without_command=True)
def run(
    dry_run: bool = typer.Option(False, "--dry-run", help="List what would be removed (counts and paths); change nothing."),
    as_of: str = typer.Option(None, "--as-of", help="Judge by this date (YYYY-MM-DD or dd.mm.åååå; default: now). "
                              "A future date only with --dry-run."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    prefect: bool = typer.Option(False, "--prefect", help="Run as a Prefect flow (PREFECT_API_URL)."),
) -> None:
    """Per process definition: output folders, archived inputs and case files older than
    `personal_data.retention_days` are deleted; closed cases and finished items lose their
    personal data (rows and audit events stay). Open cases are never touched."""
    from config.catalogue import DefinitionError
    from flows.retention import steps

    try:
        when = steps.parse_as_of(as_of)
        if prefect:
            from flows.retention.flow import retention

            data = retention(dry_run=dry_run, as_of=as_of)
            typer.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))
            return
        if dry_run:
            plan = steps.dry_run(as_of=when)
            if as_json:
                typer.echo(json.dumps(plan.to_dict(), ensure_ascii=False, indent=2, default=str))
                return
            _print_plan(plan)
            return
        result = steps.run_and_finish(as_of=when)
    except (DefinitionError, ValueError) as exc:
        typer.secho(str(exc), fg=typer.colors.RED, err=True)
        raise typer.Exit(2) from None
    if as_json:
        typer.echo(result.summary.to_json())
        return
    f = result.summary.figures
    typer.echo(f"Slettet {f['folders_deleted']} mapper og {f['files_deleted']} filer ({fmt_bytes(f['bytes_freed'])}); "
               f"renset {f['cases_cleared']} saker og {f['items_cleared']} arbeidselementer, "
               f"{f['attachments_deleted']} vedlegg slettet.")
    for line in result.failures:
        typer.secho(f"ikke slettet: {line}", fg=typer.colors.YELLOW, err=True)
    for pid in result.plan.unknown:
        typer.secho(f"ukjent prosess {pid}: ikke slettet (ingen definisjon i katalogen)", fg=typer.colors.YELLOW,
                    err=True)
    for name, path in result.summary.outputs.items():
        typer.echo(f"{name}: {path}")


def _print_plan(plan) -> None:
    from flows.retention.files import shown

    typer.echo(f"Tørrkjøring per {fmt_datetime(plan.as_of)}: ingenting er endret.")
    for p in plan.processes:
        c = p.counts()
        typer.echo(f"{c['process']:28} {c['retention_days']:>5} dager  slettes før {fmt_date(p.cutoff)}: "
                   f"{c['folders']} mapper, {c['files']} filer ({fmt_bytes(c['bytes'])}), {c['cases']} saker, "
                   f"{c['items']} arbeidselementer, {c['attachments']} vedlegg"
                   + (f"; {c['kept_in_use']} beholdt (i bruk)" if c["kept_in_use"] else "")
                   + (f"; {c['waiting_for_apply']} venter på beslutning" if c["waiting_for_apply"] else ""))
        for unit in p.units:
            typer.echo(f"    {shown(unit.path, plan.data_dir)}")
    for pid in plan.unknown:
        typer.echo(f"ukjent prosess {pid}: ikke slettet (ingen definisjon i katalogen)")
