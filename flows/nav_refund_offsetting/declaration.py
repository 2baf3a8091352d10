"""NAV refund offsetting's declaration: its parameters, console lines and checks (light: `rpa run`
and `rpa --help` import it; the flow and the run function load when a run starts)."""

from __future__ import annotations

from pathlib import Path

from connectors.norwegian import fmt_percent
from flows.kit.declare import Declaration, Param

PROCESS_ID = "nav-refund-offsetting"


def _check(p) -> None:
    from flows.kit import BusinessError

    for path in p.report_files or []:
        if not Path(path).is_file():
            what = "er en mappe, ikke en fil" if Path(path).exists() else "finnes ikke"
            raise BusinessError(f"Rapportfilen {what}: {path}")


def _console(data: dict) -> list[str]:
    lines = [f"Kjøring {data['run_id']}: {data['lines']} linjer, {data['offset']} utlignet automatisk "
             f"({fmt_percent(data['straight_through_rate'])}), {data['exception_lines']} til avvikskøen, "
             f"{data['unpaid_claims']} krav uten utbetaling."]
    lines += [f"  {code:24} {n}" for code, n in sorted(data["exceptions"].items())]
    if data.get("already_offset"):
        lines.append(data.get("message") or "")
    lines += [f"Beslutning på sak {r['case_id']} ble ikke utført: {'; '.join(r['reasons'])}"
              for r in data.get("decisions_refused") or []]
    return lines + [f"{name}: {path}" for name, path in data["outputs"].items()]


PROCESS = Declaration(
    PROCESS_ID, run="flows.nav_refund_offsetting.run:run_summary", check=_check, console=_console,
    stop_errors=("flows.nav_refund_offsetting.run:FetchFailed",), refusals="refused_reports",
    description="Automatisk utligning av sykepengerefusjon: NAVs oppgjørsrapport (K27) mot HRs refusjonskrav.",
    json_keys=["process_id", "run_id", "lines", "offset", "offset_by_reason", "exception_lines", "exceptions",
               "straight_through_rate", "unpaid_claims", "amount_offset_nok", "cases_opened", "cases_by_category",
               "journal_rows", "decisions_applied", "decisions_refused", "reports", "already_offset", "refused_reports", "as_of", "message", "outputs",
               "definition_version", "stopped_reason"],
    params=[
        Param("source", "api, portal or folder (default: the definition's `source`).",
              choices=("api", "portal", "folder")),
        Param("report_files", "K27 settlement report(s) to offset instead of fetching from the configured "
                              "source (repeatable).", kind="paths", flag="--report"),
        Param("claims_file", "HR's refund claims (.xlsx or .csv). Default: the definition's `refund-claims` "
                             "input.", kind="path", flag="--claims"),
        Param("employees_file", "Employee register (.csv/.xlsx), optional.", kind="path", flag="--employees"),
        Param("bank_file", "Bank credits from NAV (.csv), optional: checks report totals.", kind="path",
              flag="--bank"),
        Param("as_of", "Date claims are aged against, YYYY-MM-DD (default: the latest report's value date).",
              kind="date"),
    ])
