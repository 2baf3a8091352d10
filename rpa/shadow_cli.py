"""`rpa shadow …`: a process piloted beside the people (docs/shadow.md): the agreement report,
the owner's judgement on a disagreement; `rpa processes promote` (in rpa.cli) calls `promote_command`."""

from __future__ import annotations

import getpass
import json
from pathlib import Path

import typer

from config.catalogue import DefinitionError
from config.settings import get_settings

app = typer.Typer(help="Shadow mode: the robot beside the people, the agreement report.", no_args_is_help=True)


def _fail(message: str, code: int = 2) -> None:
    typer.secho(message, fg=typer.colors.RED, err=True)
    raise typer.Exit(code)


@app.command("report")
def report(process_id: str,
           period: str = typer.Option(None, "--period", help="Month (2026-06) or year (2026); default: all."),
           human_file: Path = typer.Option(None, "--file", help="The people's export (default: the definition's "
                                                                "shadow.human_outcome input)."),
           out: Path = typer.Option(None, "--out", help="Where to write the Excel report."),
           as_json: bool = typer.Option(False, "--json", help="Print the figures as JSON.")) -> None:
    """The agreement report: per category and overall, how often the robot would have done what the
    people did; every disagreement with both sides (Excel)."""
    from connectors.finance.errors import FinanceError
    from connectors.nav.tables import InputFileError
    from connectors.norwegian import fmt_percent as percent
    from flows.kit.shadow_report import agreement_report, report_path, write_report

    settings = get_settings()
    try:
        result, definition = agreement_report(process_id, settings, period=period, human_file=human_file)
    except (DefinitionError, InputFileError, ValueError) as exc:
        _fail(str(exc))
    except FinanceError as exc:  # the people's attachment list is read through the finance API
        _fail(f"Fikk ikke lest menneskenes utfall fra økonomisystemet: {exc}. Prøv igjen, eller gi en eksport "
              "med --file.")
    path = write_report(result, definition, out or report_path(settings, process_id, period))
    t = result.total
    if as_json:
        typer.echo(json.dumps({"process_id": process_id, "period": period or "", "runs": len(result.runs),
                               "cases": t.cases, "agree": t.agree, "differ": t.differ, "robot_only": t.robot_only,
                               "human_only": t.human_only, "agreement": round(t.agreement, 4),
                               "automatic_agreement": round(t.automatic_agreement, 4), "report": str(path)},
                              ensure_ascii=False, indent=2))
        return
    typer.echo(f"{definition.name}: {t.cases} saker sammenlignet over {len(result.runs)} skyggekjøring(er). "
               f"Samsvar {percent(t.agreement)} totalt, {percent(t.automatic_agreement)} på det roboten ville gjort "
               f"automatisk; {t.differ} uenige, {t.robot_only} bare roboten, {t.human_only} bare menneskene.")
    typer.echo(f"Samsvarsrapport: {path}")


@app.command("sign-off")
def sign_off_command(process_id: str, key: str = typer.Argument(..., help="The case (claim id, document, plate)."),
                     verdict: str = typer.Option(..., "--verdict", help="robot | human | both_wrong: who was right."),
                     by: str = typer.Option(None, "--by", help="Who judges (default: the logged-in user)."),
                     note: str = typer.Option("", "--note", help="Why, in a few words.")) -> None:
    """The owner's judgement on one disagreement (needed before promotion for disagreements in money)."""
    from workqueue.shadow import SIGN_OFF_WORDS, sign_off
    from workqueue.store import WorkQueueStore

    store = WorkQueueStore.from_settings()
    try:
        sign_off(store, process_id, key, verdict, by or getpass.getuser(), note)
    except ValueError as exc:
        _fail(str(exc))
    finally:
        store.close()
    typer.echo(f"{process_id} {key}: {SIGN_OFF_WORDS[verdict]}.")


def promote_command(process_id: str, by: str | None, human_file: Path | None) -> None:
    from connectors.finance.errors import FinanceError
    from connectors.nav.tables import InputFileError
    from flows.kit.shadow_report import promote

    try:
        result = promote(process_id, by or getpass.getuser(), get_settings(), human_file=human_file)
    except (DefinitionError, InputFileError, ValueError) as exc:
        _fail(str(exc))
    except FinanceError as exc:  # the people's attachment list is read through the finance API
        _fail(f"Fikk ikke lest menneskenes utfall fra økonomisystemet: {exc}. Prøv igjen, eller gi en eksport "
              "med --file.")
    if not result.granted:
        _fail(result.message, 1)
    typer.echo(result.message)
