"""`rpa run benefits-report`: the benefits report now (also `rpa benefits`)."""

from __future__ import annotations

import typer

app = typer.Typer(help="Gevinstrapport: saker, andel automatisk, avvik og tid spart per prosess og måned.")


@app.callback(invoke_without_command=True)
def run(
    months: int = typer.Option(None, "--months", help="Months in the report (default: the definition's rules)."),
    until: str = typer.Option(None, "--until", help="Newest month, YYYY-MM (default: the current month)."),
    as_json: bool = typer.Option(False, "--json", help="Print the run summary as JSON."),
    prefect: bool = typer.Option(False, "--prefect", help="Run as a Prefect flow (PREFECT_API_URL)."),
) -> None:
    """Write the benefits workbook (Excel with charts) and its Markdown summary."""
    from config.catalogue import DefinitionError

    try:
        if prefect:
            import json

            from flows.benefits_report.flow import benefits_report

            data = benefits_report(months=months, until=until)
            text = json.dumps(data, ensure_ascii=False, indent=2, default=str)
            if as_json:
                typer.echo(text)
                return
            outputs = data.get("outputs", {})
            hours, days = data.get("hours_saved"), data.get("working_days_saved")
        else:
            from flows.benefits_report.steps import run_and_finish

            result = run_and_finish(months, until)
            if as_json:
                typer.echo(result.summary.to_json())
                return
            typer.echo(result.markdown)
            outputs = result.summary.outputs
            hours, days = result.summary.figures["hours_saved"], result.summary.figures["working_days_saved"]
    except (DefinitionError, ValueError) as exc:
        typer.secho(str(exc), fg=typer.colors.RED, err=True)
        raise typer.Exit(2) from None
    typer.echo("")
    typer.echo(f"Timer spart: {hours}  arbeidsdager: {days}")
    for name, path in outputs.items():
        typer.echo(f"{name}: {path}")
