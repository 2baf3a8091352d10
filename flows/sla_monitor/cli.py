"""`rpa run sla-monitor`: look for overdue cases and failed/late/missed runs, alert the owners."""

from __future__ import annotations

import typer

app = typer.Typer(help="Varsler om avvikssaker over fristen og feilede, forsinkede eller manglende kjøringer.")


@app.callback(invoke_without_command=True)
def run(
    dry_run: bool = typer.Option(False, "--dry-run", help="Show the alerts without sending them."),
    as_json: bool = typer.Option(False, "--json", help="Print the run summary as JSON."),
    prefect: bool = typer.Option(False, "--prefect", help="Run as a Prefect flow (PREFECT_API_URL)."),
) -> None:
    """Alert each problem once, by e-mail (SMTP) and/or webhook, as configured in settings.alerts."""
    if prefect:
        import json

        from flows.sla_monitor.flow import sla_monitor

        data = sla_monitor(dry_run=dry_run)
        typer.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))
        return
    from flows.sla_monitor.steps import run_and_finish

    result = run_and_finish(dry_run=dry_run)
    if as_json:
        typer.echo(result.summary.to_json())
        return
    if not result.alerts:
        typer.echo("Ingen nye fristbrudd eller feilede kjøringer.")
    for alert, row in zip(result.alerts, result.rows, strict=False):
        typer.echo(f"{row['status'] or '-':12} {alert.kind:12} {alert.process_id:28} {alert.subject}")
        if dry_run:
            typer.echo("    " + alert.body.replace("\n", "\n    "))
