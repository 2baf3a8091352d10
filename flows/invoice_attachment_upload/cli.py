"""`rpa run invoice-attachment-upload [--inbox DIR] [--via api|web] [--json] [--prefect]`."""

from __future__ import annotations

from pathlib import Path

import typer

app = typer.Typer(help="Opplasting av underbilag: dokumentene i innboksen til riktig bilag, nøyaktig én gang.")


@app.callback(invoke_without_command=True)
def run(
    inbox: Path = typer.Option(None, "--inbox", help="Drop folder (default: the definition's `drop-folder`)."),
    via: str = typer.Option(None, "--via", help="Door into the finance system: api or web "
                                                "(default: the definition's `source`)."),
    as_json: bool = typer.Option(False, "--json", help="Print the run summary as JSON."),
    prefect: bool = typer.Option(False, "--prefect", help="Run as a Prefect flow (PREFECT_API_URL)."),
) -> None:
    """Take in the drop folder, upload every document once, archive with a receipt or quarantine
    with a reason. Exit code 0 when the run completed, 1 when it stopped (system down, login
    refused), 2 on an invalid definition or option."""
    import json

    from config.catalogue import DefinitionError

    if via is not None and via not in ("api", "web"):
        typer.secho(f"--via must be api or web, not {via!r}", fg=typer.colors.RED, err=True)
        raise typer.Exit(2)
    try:
        if prefect:
            from flows.invoice_attachment_upload.flow import invoice_attachment_upload

            data = invoice_attachment_upload(inbox=str(inbox) if inbox else None, via=via)
        else:
            from flows.invoice_attachment_upload.model import PROCESS_ID
            from flows.invoice_attachment_upload.run import run as run_process
            from flows.runtime import open_run

            ctx = open_run(PROCESS_ID)
            try:
                data = run_process(ctx, inbox, via).summary.to_dict()
            except Exception:
                ctx.store.finish_run(ctx.run_id, "failed", 0, 0, {})
                raise
    except (DefinitionError, ValueError) as exc:
        from connectors.identifiers import mask_fnrs_in_text

        typer.secho(mask_fnrs_in_text(str(exc)), fg=typer.colors.RED, err=True)
        raise typer.Exit(2) from None
    if as_json:
        typer.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))
    else:
        typer.echo(f"Kjøring {data['run_id']} via {data['door']}: {data['files']} dokumenter, "
                   f"{data['uploaded']} lastet opp, {data['already_attached']} lå allerede på bilaget, "
                   f"{data['quarantined']} i karantene, {data['pending_files']} filer venter på nytt forsøk.")
        for code, n in data["exceptions"].items():
            typer.echo(f"  {code:28} {n}")
        for name, path in data["outputs"].items():
            typer.echo(f"{name}: {path}")
        if data.get("stopped"):
            typer.secho(f"Stoppet: {data['stopped']}", fg=typer.colors.RED, err=True)
    if data.get("stopped"):
        raise typer.Exit(1)
