"""The demo's shadow pilot (docs/shadow.md): NAV refund offsetting in shadow beside HR's seeded
postings, in a pilot folder of its own (a copy of the catalogue with `mode: shadow`, its own store),
so the live demo runs are untouched. Two shadow runs (the April report, then the rest), the
agreement report, a refused promotion, the owner's judgement of each disagreement in money, and
the granted promotion. In the demo the owner's judgement is taken from the sandbox's ground truth
of HR's mistakes (robot right there; the people right on the rest)."""

from __future__ import annotations

import csv
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from config.settings import PathSettings, Settings

PROCESS_ID = "nav-refund-offsetting"


@dataclass
class PilotResult:
    report: Path
    agreement: float
    automatic_agreement: float
    refused: str
    granted: str
    pilot_dir: Path


def shadow_pilot(settings: Settings, step: Callable[[str], None]) -> PilotResult:
    from flows.kit import open_run
    from flows.kit.shadow_report import agreement_report, promote, report_path, write_report
    from flows.nav_refund_offsetting.run import RunInputs, run_offsetting
    from sandbox.nav.human import MISTAKES
    from workqueue.shadow import sign_off
    from workqueue.store import WorkQueueStore

    data = settings.paths.data_dir
    pilot = data / "skygge"
    shutil.rmtree(pilot, ignore_errors=True)
    catalogue = pilot / "processes"
    shutil.copytree(settings.paths.processes_dir, catalogue)
    path = catalogue / f"{PROCESS_ID}.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("mode: live", "mode: shadow", 1), encoding="utf-8")
    pilot_settings = settings.model_copy(update={"paths": PathSettings(
        **{**settings.paths.model_dump(), "processes_dir": catalogue})})
    store = WorkQueueStore(f"sqlite:///{pilot / 'workqueue.db'}")
    try:
        inputs = data / "input" / PROCESS_ID
        reports = sorted((inputs / "rapporter").glob("*.csv"))
        files = dict(claims_file=inputs / "refusjonskrav.xlsx", employees_file=inputs / "ansatte.csv",
                     bank_file=inputs / "bankinnbetalinger.csv")
        for batch in (reports[:1], reports[1:]):  # April's report, then May-June's: two shadow runs
            ctx = open_run(PROCESS_ID, settings=pilot_settings, store=store)
            summary = run_offsetting(ctx, RunInputs(report_files=batch, **files)).summary
            step(f"shadow run {ctx.run_id} of {PROCESS_ID}: {summary.figures['lines']} lines, "
                 f"{summary.figures.get('would_do_recorded', 0)} would-do outcomes recorded, nothing written")
        result, definition = agreement_report(PROCESS_ID, pilot_settings, store)
        report = write_report(result, definition, report_path(pilot_settings, PROCESS_ID, None))
        refused = promote(PROCESS_ID, "eier.refusjon", pilot_settings, store)
        with (data / MISTAKES).open(encoding="utf-8") as f:
            human_mistakes = {row["krav_id"] for row in csv.DictReader(f)}
        for r in result.unsigned_money_disagreements:
            sign_off(store, PROCESS_ID, r.key, "robot" if r.key in human_mistakes else "human", "eier.refusjon",
                     "Demo: vurdert mot sandkassens fasit")
        granted = promote(PROCESS_ID, "eier.refusjon", pilot_settings, store)
        step(f"shadow pilot: promotion {'granted' if granted.granted else 'refused'} after the owner's judgement")
        return PilotResult(report, result.total.agreement, result.total.automatic_agreement, refused.message,
                           granted.message, pilot)
    finally:
        store.close()


def print_pilot(pilot: PilotResult, echo: Callable[[str], None]) -> None:
    from connectors.norwegian import fmt_percent as pct

    echo("Shadow pilot (docs/shadow.md):")
    echo(f"  agreement report        {pilot.report}")
    echo(f"  agreement               {pct(pilot.agreement)} overall, {pct(pilot.automatic_agreement)} on what the "
         "robot would do automatically")
    echo(f"  promotion refused       {pilot.refused}")
    echo(f"  promotion granted       {pilot.granted}")
    echo("")
