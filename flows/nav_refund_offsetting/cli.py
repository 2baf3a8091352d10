"""`rpa run nav-refund-offsetting [--report FILE.csv ... --claims FILE.xlsx] [--out DIR] [--json] [--prefect]`."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import typer

app = typer.Typer(help="Automatisk utligning av sykepengerefusjon fra NAV (K27 mot refusjonskrav).")


def _pct(value: float) -> str:
    return f"{value * 100:.1f} %".replace(".", ",")


@app.callback(invoke_without_command=True)
def run(
    report: list[Path] = typer.Option(None, "--report", help="K27 settlement report(s) to offset instead of "
                                                             "fetching from the configured source (repeatable)."),
    claims: Path = typer.Option(None, "--claims", help="HR's refund claims (.xlsx or .csv). Default: the "
                                                       "definition's `refund-claims` input."),
    employees: Path = typer.Option(None, "--employees", help="Employee register (.csv/.xlsx), optional."),
    bank: Path = typer.Option(None, "--bank", help="Bank credits from NAV (.csv), optional: checks report totals."),
    out: Path = typer.Option(None, "--out", help="Folder for utligning.xlsx, utligningsbilag.csv and "
                                                 "linjeutfall.csv (default: <data>/output/<process>/<run>)."),
    source: str = typer.Option(None, "--source", help="api, portal or folder (default: the definition's `source`)."),
    as_of: str = typer.Option(None, "--as-of", help="Date claims are aged against, YYYY-MM-DD (default: the "
                                                    "latest report's value date)."),
    as_json: bool = typer.Option(False, "--json", help="Print a machine-readable summary (lines, offset, "
                                                       "exceptions per category, straight_through_rate)."),
    prefect: bool = typer.Option(False, "--prefect", help="Run as a Prefect flow (PREFECT_API_URL)."),
) -> None:
    """Match every line of NAV's settlement report to HR's refund claim, offset what matches
    (with a reason), open an exception case for the rest, and write the Excel report and the
    offset journal. Exit code 0 when the run completed, 1 when the source could not be read,
    2 on an invalid input file (a refused report included), option or definition."""
    import json

    from config.catalogue import DefinitionError
    from connectors.nav.tables import InputFileError

    if source is not None and source not in ("api", "portal", "folder"):
        typer.secho(f"--source må være api, portal eller folder, ikke {source!r}", fg=typer.colors.RED, err=True)
        raise typer.Exit(2)
    try:
        day = date.fromisoformat(as_of) if as_of else None
    except ValueError:
        typer.secho(f"--as-of må være en dato ÅÅÅÅ-MM-DD, ikke {as_of!r}", fg=typer.colors.RED, err=True)
        raise typer.Exit(2) from None
    from connectors.identifiers import mask_fnrs_in_text

    for path in report or []:
        if not path.exists() or path.is_dir():
            what = "er en mappe, ikke en fil" if path.exists() else "finnes ikke"
            typer.secho(mask_fnrs_in_text(f"Rapportfilen {what}: {path}"), fg=typer.colors.RED, err=True)
            raise typer.Exit(2)
    try:
        if prefect:
            from flows.nav_refund_offsetting.flow import nav_refund_offsetting

            data = nav_refund_offsetting(source=source, report_files=[str(p) for p in report] if report else None,
                                         claims_file=str(claims) if claims else None,
                                         employees_file=str(employees) if employees else None,
                                         bank_file=str(bank) if bank else None, out_dir=str(out) if out else None,
                                         as_of=as_of)
        else:
            from flows.nav_refund_offsetting.run import PROCESS_ID, FetchFailed, RunInputs, run_offsetting
            from flows.runtime import open_run

            inputs = RunInputs(source=source, report_files=list(report) if report else None, claims_file=claims,
                               employees_file=employees, bank_file=bank, as_of=day)
            ctx = open_run(PROCESS_ID, out_dir=out)
            try:
                data = run_offsetting(ctx, inputs).summary.to_dict()
            except FetchFailed as exc:
                typer.secho(mask_fnrs_in_text(str(exc)), fg=typer.colors.RED, err=True)
                raise typer.Exit(1) from None
    except (DefinitionError, InputFileError, ValueError) as exc:
        typer.secho(mask_fnrs_in_text(str(exc)), fg=typer.colors.RED, err=True)
        raise typer.Exit(2) from None
    refused = data.get("refused_reports") or (data.get("figures") or {}).get("refused_reports") or []
    for message in refused:  # a report that cannot prove it is whole: said loudly, exit code 2
        typer.secho(message, fg=typer.colors.RED, err=True)
    if as_json:
        keys = ["process_id", "run_id", "lines", "offset", "offset_by_reason", "exception_lines", "exceptions",
                "straight_through_rate", "unpaid_claims", "amount_offset_nok", "cases_opened", "journal_rows",
                "decisions_applied", "reports", "already_offset", "refused_reports", "as_of", "message", "outputs"]
        typer.echo(json.dumps({k: data.get(k) for k in keys}, ensure_ascii=False, indent=2, default=str))
        if refused:
            raise typer.Exit(2)
        return
    typer.echo(f"Kjøring {data['run_id']}: {data['lines']} linjer, {data['offset']} utlignet automatisk "
               f"({_pct(data['straight_through_rate'])}), {data['exception_lines']} til avvikskøen, "
               f"{data['unpaid_claims']} krav uten utbetaling.")
    for code, n in sorted(data["exceptions"].items()):
        typer.echo(f"  {code:24} {n}")
    if data.get("already_offset"):
        typer.secho(data.get("message") or "", fg=typer.colors.YELLOW)
    for name, path in data["outputs"].items():
        typer.echo(f"{name}: {path}")
    if refused:
        raise typer.Exit(2)
