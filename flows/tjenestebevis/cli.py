"""`rpa run tjenestebevis [--requests F.xlsx] [--employment F.xlsx] [--out DIR] [--json]`."""

from __future__ import annotations

import json
from pathlib import Path

import typer

app = typer.Typer(help="Utstedelse av tjenestebevis fra HR-systemets eksport.")


@app.callback(invoke_without_command=True)
def run(
    requests: Path = typer.Option(None, "--requests", help="Requests (.xlsx). Default: the definition's input."),
    employment: Path = typer.Option(None, "--employment", help="Employment records (.xlsx). Default: the definition's input."),
    out: Path = typer.Option(None, "--out", help="Folder for the letters and tjenestebevis.xlsx."),
    as_json: bool = typer.Option(False, "--json", help="Print the run summary as JSON."),
) -> None:
    """Issue a letter per request, or open a case for HR. Exit 2 on an unusable input file."""
    from config.catalogue import DefinitionError
    from connectors.nav.tables import InputFileError
    from flows.runtime import open_run
    from flows.tjenestebevis import PROCESS_ID
    from flows.tjenestebevis.run import run_tjenestebevis

    try:
        ctx = open_run(PROCESS_ID, out_dir=out)
        data = run_tjenestebevis(ctx, requests, employment).to_dict()
    except (DefinitionError, InputFileError) as exc:
        typer.secho(str(exc), fg=typer.colors.RED, err=True)
        raise typer.Exit(2) from None
    if as_json:
        typer.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))
    else:
        typer.echo(f"Kjøring {data['run_id']}: {data['requests']} bestillinger, {data['issued']} tjenestebevis utstedt.")
        for code, n in sorted(data["exceptions"].items()):
            typer.echo(f"  {code:22} {n}")
