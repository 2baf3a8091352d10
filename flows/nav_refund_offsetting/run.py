"""The domain steps of NAV refund offsetting, as plain functions of a RunContext.

    apply_decisions  HR's decisions from the exception queue -> journal rows, claims settled
    fetch            new reports from the configured source (api | portal | folder) or files
    register         one work item per report (id + content hash): idempotency and duplicates
    offset           parse, bank check, match, classify, open cases, write the files

`run_offsetting` chains them; the Prefect flow calls the same steps as a few tasks; tests,
benchmarks and `rpa run nav-refund-offsetting` call them without Prefect.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from connectors.identifiers import mask_fnr, mask_fnr_column, mask_fnrs_in_text
from connectors.nav.bank import read_bank_credits
from connectors.nav.hr_claims import read_claims_rows, read_employees
from connectors.nav.k27 import K27FormatError, K27Report, parse_k27
from connectors.nav.tables import InputFileError
from connectors.spreadsheet import date_texts, write_frame_csv
from flows.kit import Progress, RunContext, RunSummary, get_logger
from flows.kit import decisions as kit_decisions
from flows.kit.dates import to_date
from flows.kit.decisions import AppliedDecisions, close_case
from flows.kit.declare import run_declared
from flows.kit.evidence import comparison, system_case
from flows.kit.frames import Columns
from flows.nav_refund_offsetting import claim_rows, reversal, shadow, sources
from flows.nav_refund_offsetting import explain as ex
from flows.nav_refund_offsetting import outputs as out
from flows.nav_refund_offsetting.actions import ACTIONS
from flows.nav_refund_offsetting.declaration import PROCESS, PROCESS_ID
from flows.nav_refund_offsetting.matching import (
    MatchInput,
    MatchResult,
    latest_maksdato_per_person,
    match,
    offset_history_rows,
)
from flows.nav_refund_offsetting.outcomes import CLAIM_CATEGORIES, LINE_CATEGORIES, OFFSET_REASONS, label
from flows.nav_refund_offsetting.rules import Rules, cap_day_kr
from flows.nav_refund_offsetting.state import (
    ITEM_PREFIX,
    State,
    fp_hex,
    item_reference,
    load_state,
    open_claim_case,
    report_id,
)
from workqueue.figures import run_counts
from workqueue.models import ItemStatus, WorkItem
from workqueue.store import NewCase, NewItem

LOG = "rpa.nav_refund_offsetting"
COMPARE = ["Felt", "NAV-rapport", "Refusjonskrav", "Beregnet"]  # the columns of a case's comparison table


class FetchFailed(RuntimeError):
    """The source could not be read (after the connector's own retries); a SYSTEM_ERROR case is open."""


@dataclass
class RunInputs:
    source: str | None = None                 # api | portal | folder; None = the definition's
    report_files: list[Path] | None = None    # CLI --report: files instead of the source
    claims_file: Path | None = None
    employees_file: Path | None = None
    bank_file: Path | None = None
    as_of: date | None = None

    @property
    def file_mode(self) -> bool:
        return bool(self.report_files)


@dataclass
class Registered:
    new: list[str] = field(default_factory=list)           # item references added
    already: list[WorkItem] = field(default_factory=list)
    fetched: int = 0


@dataclass
class Decisions(AppliedDecisions):
    """The kit's account of the decisions applied, with the journal rows they post."""

    journal: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=out.JOURNAL_COLUMNS))


@dataclass
class OffsetOutcome:
    """What run_offsetting hands a test or a benchmark."""

    summary: RunSummary


def _id_order(rid: str, tie: Any) -> tuple:
    """Numeric report ids in number order ('999' before '1001'), the others after them."""
    return (0, int(rid), tie) if rid.isdigit() else (1, 0, tie)


# ------------------------------------------------------------------------------ decisions

def apply_decisions(ctx: RunContext, booking_date: date | None = None) -> Decisions:
    """Apply what HR decided in the queue since the last run (checked again first, by the kit):
    journal rows; a report held for a bank mismatch is released once its case is closed."""
    ledger = ctx.rules.ledger
    booking = (booking_date or date.today()).strftime("%d.%m.%Y")
    rows: list[dict[str, Any]] = []

    def post(case, decision: dict) -> dict:
        data = (case.evidence or {}).get("data", {}) or {}
        amount = kit_decisions.amount_ore(ACTIONS, decision)
        base = {"bilagsdato": booking, "rapport_id": data.get("report_id", ""), "linjer": data.get("linjer", ""),
                "kravkonto": ledger.claim_account, "bankkonto": ledger.bank_account, "kjoring": ctx.run_id}
        note = ""
        if decision["action"] == reversal.ACTION:
            new_rows, note = reversal.reversal_rows(case, amount, data, base)
        else:
            new_rows = _decision_rows(case, decision["action"], amount, data, base, ledger)
        rows.extend(new_rows)
        return {"journal_rows": len(new_rows), **({"note": note} if note else {})}

    applied = kit_decisions.apply_decisions(ctx.store, ctx.definition, ACTIONS, dict.fromkeys(ACTIONS, post),
                                            ctx.run_id, release={"BANK_TOTAL_MISMATCH": "Frigitt etter kontroll av "
                                                                                         "bankavvik"})
    return Decisions(**vars(applied), journal=pd.DataFrame(rows, columns=out.JOURNAL_COLUMNS))


def _decision_rows(case, action: str, amount: int | None, data: dict, base: dict, ledger) -> list[dict]:
    """Journal rows for a checked decision (kroner in the decision, øre in the evidence). Offsets and
    write-offs are spread over the case's claims in proportion to each claim."""
    nav = int(data.get("nav_ore", 0) or 0)
    claims = data.get("claims", []) or []
    if action == "approve_negative_line":
        first = claims[0] if claims else {}
        return [{**base, "bilagstype": "TREKK", "krav_id": first.get("krav_id", ""),
                 "org_enhet": first.get("org_enhet", case.org_unit or ""), "ytelse": data.get("code", ""),
                 "periode_fra": data.get("fra", ""), "periode_til": data.get("til", ""),
                 "krav_belop": int(first.get("claim_ore", 0) or 0) / 100, "utbetalt_belop": (amount or 0) / 100,
                 "differanse": 0.0, "differansekonto": "", "begrunnelse": f"Trekk godkjent av HR ({case.category})"}]
    write_off = action == "write_off"
    paid = nav if write_off else (amount if amount is not None else nav)
    written = amount or 0 if write_off else 0
    total_claim = sum(int(c.get("claim_ore", 0)) for c in claims) or 1
    rows = []
    left_paid, left_written = paid, written
    for n, c in enumerate(claims):
        claim_ore = int(c.get("claim_ore", 0))
        last = n == len(claims) - 1
        share = left_paid if last else round(paid * claim_ore / total_claim)
        w = left_written if last else round(written * claim_ore / total_claim)
        left_paid -= share
        left_written -= w
        diff = -w if write_off else share - claim_ore
        rows.append({**base, "bilagstype": "AVSKRIVNING" if write_off else "GODKJENT", "krav_id": c.get("krav_id", ""),
                     "org_enhet": c.get("org_enhet", case.org_unit or ""), "ytelse": c.get("code", ""),
                     "periode_fra": c.get("fra", ""), "periode_til": c.get("til", ""),
                     "krav_belop": claim_ore / 100, "utbetalt_belop": share / 100, "differanse": diff / 100,
                     "differansekonto": (ledger.write_off_account if write_off else ledger.difference_account)
                     if diff else "",
                     "begrunnelse": f"{'Avskrevet' if write_off else 'Godkjent'} av HR ({case.category})"})
    return rows


# ------------------------------------------------------------------------------ fetching

def fetch(ctx: RunContext, inputs: RunInputs, state: State) -> list[sources.FetchedReport]:
    """The new reports: from files (CLI), or the source named by the definition (or inputs.source)."""
    if inputs.file_mode:
        return sources.from_files(inputs.report_files or [])
    rules: Rules = ctx.rules
    source = ctx.source(inputs.source)
    try:
        if source == "folder":
            folder = ctx.input_path("settlement-report")
            if folder is None:
                raise FileNotFoundError("the definition has no path for input 'settlement-report'")
            return sources.from_folder(folder, rules.folder_pattern)
        if source == "api":
            limit = ctx.definition.rate_limit("nav")
            return sources.from_api(ctx.settings, state.last_api_id, max_attempts=ctx.definition.retry.max_attempts,
                                    requests_per_second=limit.requests_per_second if limit else None,
                                    first_from=rules.api_first_poll_from)
        if source == "portal":
            seen = {report_id(item) for item in state.reports.values()}
            target = ctx.settings.paths.data_dir / "downloads" / ctx.process_id / ctx.run_id
            return sources.from_portal(ctx.settings, target, seen, evidence_dir=ctx.out_dir / "bevis")
        raise ValueError(f"unknown source {source!r}")
    except Exception as exc:  # noqa: BLE001 - every source failure is a system exception with evidence
        from connectors.nav.api import NavApiBusinessError, NavApiError

        if not isinstance(exc, (NavApiError, OSError)) and exc.__class__.__name__ != "AltinnBotError":
            raise
        kind = "business" if isinstance(exc, NavApiBusinessError) else "system"
        case = system_case(ctx, f"henting:{source}:{ctx.run_id}", f"Henting fra {source} feilet: {exc}", error=exc,
                           org_unit=rules.default_org_unit,
                           data={"source": source, "kind": kind, "step": getattr(exc, "step", None)})
        raise FetchFailed(f"{case.message} (sak {case.id})") from exc


def register(ctx: RunContext, reports: list[sources.FetchedReport], state: State) -> Registered:
    """A work item per report; the same id + content again is 'already offset', the same content
    under another id is a duplicate. Received bytes are archived before anything else."""
    result = Registered(fetched=len(reports))
    for rep in sorted(reports, key=lambda r: _id_order(r.report_id, r.report_id)):
        ref = item_reference(rep.report_id, rep.sha256)
        known = state.reports.get(ref)
        if known is not None:
            if known.status in (ItemStatus.done, ItemStatus.business_exception, ItemStatus.failed):
                result.already.append(known)
            continue
        path = sources.keep(ctx.settings, ctx.process_id, rep)
        first = state.by_sha.get(rep.sha256)
        payload = {
            "report_id": rep.report_id, "sha256": rep.sha256, "path": str(path), "file_name": rep.file_name,
            "source": rep.source, "value_date": rep.value_date.isoformat() if rep.value_date else None,
            "bankkonto": rep.meta.get("bankkonto") or None, "orgnr": rep.meta.get("orgnr") or None,
            "org_navn": rep.meta.get("orgNavn") or None,
            "duplicate_of": first if first is not None and first != rep.report_id else None,
        }
        item, created = ctx.store.add(ctx.process_id, NewItem(reference=ref, payload=payload))
        state.by_sha.setdefault(rep.sha256, rep.report_id)
        state.reports[ref] = item
        if created:
            result.new.append(ref)
    return result


def fetch_and_register(ctx: RunContext, inputs: RunInputs) -> tuple[State, Registered]:
    state = load_state(ctx.store, ctx.process_id)
    return state, register(ctx, fetch(ctx, inputs, state), state)


# ------------------------------------------------------------------------------ offsetting

def _bank_check(bank: pd.DataFrame | None, groups: list[tuple[Any, K27Report, dict]]) -> dict[int, tuple[bool, int | None, str]]:
    """item id -> (ok, credited øre, note). Reports with the same (orgnr, account, value date)
    share one credit check (NAV pays one credit per settlement, org number and account)."""
    if bank is None:
        return {}
    keyed: dict[tuple, list[tuple[Any, K27Report, dict]]] = {}
    for item, rep, p in groups:
        account = p.get("bankkonto") or (str(int(rep.lines["konto"].mode().iloc[0])).zfill(11) if len(rep.lines) else "")
        orgnr = p.get("orgnr") or (str(int(rep.lines["orgnr"].mode().iloc[0])) if len(rep.lines) else "")
        keyed.setdefault((orgnr, account, p.get("value_date")), []).append((item, rep, p))
    verdicts: dict[int, tuple[bool, int | None, str]] = {}
    for key, members in keyed.items():
        verdict = _bank_verdict(bank, [rep for _, rep, _ in members], *key)
        verdicts.update((item.id, verdict) for item, _, _ in members)
    return verdicts


def _bank_verdict(bank: pd.DataFrame, reports: list[K27Report], orgnr: str, account: str, value_date: str | None
                  ) -> tuple[bool, int | None, str]:
    total = sum(rep.total_ore for rep in reports)
    if not all(rep.total_complete for rep in reports):
        return True, None, "Banksjekk ikke utført: en linje har uleselig beløp."
    acc = int(account) if str(account).isdigit() else -1
    same_account = bank["bankkonto"].to_numpy() == acc
    if orgnr and str(orgnr).isdigit():
        same_account &= (bank["orgnr"].to_numpy() == int(orgnr)) | (bank["orgnr"].to_numpy() == 0)
    if value_date:
        credits = bank.loc[same_account & (bank["valutadato"].to_numpy("datetime64[D]") ==
                                           np.datetime64(value_date, "D")), "belop_ore"]
        credited = int(credits.sum()) if len(credits) else 0
        if not len(credits):
            return False, 0, "Ingen innbetaling fra NAV funnet på valuteringsdatoen."
        if credited != total:
            return False, credited, f"Innbetalt {ex.ore_kr(credited)}, rapporten summerer til {ex.ore_kr(total)}."
        return True, credited, ""
    # No value date (a file without metadata): look for the credit by amount after the period.
    last_til = max((rep.lines["til"].max() for rep in reports if len(rep.lines)), default=pd.NaT)
    if pd.isna(last_til):
        return True, None, "Banksjekk ikke utført: verken valuteringsdato eller periode."
    window = same_account & (bank["valutadato"] > last_til).to_numpy() & \
        (bank["valutadato"] <= last_til + pd.Timedelta(days=45)).to_numpy()
    amounts = bank.loc[window, "belop_ore"]
    if (amounts == total).any():
        return True, total, ""
    if len(amounts):
        nearest = int(amounts.iloc[0])
        return False, nearest, f"Ingen innbetaling på {ex.ore_kr(total)}; nærmeste: {ex.ore_kr(nearest)}."
    return True, None, "Banksjekk ikke utført: ingen innbetalinger i bankfilen for perioden."


def _read(ctx: RunContext, input_id: str, path: Path | None, reader, *args: Any, **kwargs: Any):
    """`reader(path, columns, required_columns, …)` with the definition's column mapping for the input."""
    spec = ctx.input(input_id)
    return reader(path, spec.columns or None if spec else None, spec.required_columns or None if spec else None,
                  *args, **kwargs)


def offset(ctx: RunContext, inputs: RunInputs, state: State, decisions: Decisions | None = None,
           registered: Registered | None = None) -> RunSummary:
    """Process every waiting report item: the heart of the run."""
    rules: Rules = ctx.rules
    decisions = decisions or Decisions()
    registered = registered or Registered()
    progress = Progress("Utligning av NAV-refusjoner")
    items = sorted((i for i in ctx.store.claim(ctx.process_id, limit=100_000, run_id=ctx.run_id,
                                               lease_seconds=ctx.definition.retry.lease_seconds)
                    if i.reference.startswith(ITEM_PREFIX)), key=lambda i: _id_order(report_id(i), i.id))

    # Inputs first: a file that cannot be used as a whole stops the run before anything is offset (nothing
    # half-imported); a bad claim row only sets that row (and its person) aside (claim_rows).
    def optional(given: Path | None, input_id: str, reader):
        path = given or (None if inputs.file_mode else ctx.input_path(input_id))
        return _read(ctx, input_id, path, reader) if path is not None and (given or path.exists()) else None

    claims_path = ctx.input_path("refund-claims", inputs.claims_file)
    claims = employees = bank = None
    if items or inputs.as_of is not None:
        try:
            claims_read = _read(ctx, "refund-claims", claims_path, read_claims_rows, rules.open_ended_claims,
                                patterns={"krav_id": rules.claim_id_pattern, "org_enhet": rules.org_unit_pattern})
            claims = claims_read.claims
            employees = optional(inputs.employees_file, "employees", read_employees)
            bank = optional(inputs.bank_file, "bank-credits", read_bank_credits)
        except InputFileError:
            ctx.store.release([i.id for i in items], reason="input file error")
            raise
    progress.update(0.1)

    counts: Counter[str] = Counter()
    amounts: Counter[str] = Counter()
    report_rows: list[out.ReportSummary] = []
    warnings: list[str] = []
    line_outcome_frames: list[pd.DataFrame] = []
    exception_rows: list[dict[str, Any]] = []
    parsed: list[tuple[Any, K27Report, dict]] = []
    completed: list[tuple[int, dict[str, Any]]] = []
    cases: list[tuple[str, NewCase]] = []
    refused: list[str] = _refused_before(ctx, registered.already)  # Norwegian: why each refused report settled nothing
    refused_again = len(refused)  # their cases are already open: not counted as this run's exceptions

    for item in items:
        p = item.payload
        try:
            # Parsed under the name it arrived with, so messages name the file the user knows.
            rep = parse_k27(Path(p["path"]).read_bytes(), p.get("file_name") or Path(p["path"]).name,
                            report_id=str(p["report_id"]), max_invalid_share=rules.max_invalid_line_share)
        except K27FormatError as exc:
            refused.append(_refuse_report(ctx, rules, item, p, exc, report_rows))
            continue
        except OSError as exc:
            ctx.store.system_exception(item.id, f"Kan ikke lese arkivert rapport {p['report_id']}: {exc}", ctx.backoff)
            warnings.append(f"Rapport {p['report_id']}: arkivfilen kan ikke leses ({exc.__class__.__name__}).")
            continue
        warnings += [f"Rapport {rep.report_id}: {w}" for w in rep.warnings]
        if p.get("duplicate_of"):
            counts["DUPLICATE"] += rep.line_count
            amounts["DUPLICATE"] += rep.total_ore
            exception_rows.append(_duplicate_case(ctx, rules, item, rep, p["duplicate_of"]))
            report_rows.append(out.ReportSummary(rep.report_id, to_date(p.get("value_date")), rep.line_count,
                                                 rep.total_ore, None, f"Duplikat av {p['duplicate_of']}"))
            line_outcome_frames.append(_dup_report_lines(rep))
            continue
        parsed.append((item, rep, p))

    # Bank check per settlement (released reports skip it: finance has decided).
    checks = _bank_check(bank, [(i, r, p) for i, r, p in parsed if i.reference not in state.bank_released])
    held = {i.id for i, _, _ in parsed if i.id in checks and not checks[i.id][0]}
    warnings += [f"Rapport {rep.report_id}: {checks[item.id][2]}" for item, rep, _p in parsed
                 if item.id in checks and checks[item.id][0] and checks[item.id][2]]
    progress.update(0.2)

    result: MatchResult | None = None
    as_of = inputs.as_of or _as_of(parsed, state)
    if parsed or inputs.as_of is not None:
        frames = [rep.lines.assign(report_seq=seq, report_id=rep.report_id, held=item.id in held)
                  for seq, (item, rep, _p) in enumerate(parsed)]
        lines = pd.concat(frames, ignore_index=True) if frames else _empty_lines()
        claims = claims.assign(settled=claims["krav_id"].isin(state.settled_claims).to_numpy(),
                               in_case=claims["krav_id"].isin(state.case_claims).to_numpy())
        result = match(MatchInput(lines=lines, claims=claims, rules=rules, as_of=as_of, employees=employees,
                                  known_fps=state.known_fps, prev_maksdato=state.maksdato,
                                  history=state.offsets, held_fnrs=claim_rows.held_fnrs(claims_read.issues)))
        if refused:  # claims are aged only against reports that settled: a refused one may hold their payment
            result.unpaid = result.unpaid.iloc[0:0]
            warnings.append("Krav uten utbetaling er ikke vurdert i denne kjøringen: en rapport ble avvist.")
    progress.update(0.5)

    journal_frames = [decisions.journal]
    offset_rows = pd.DataFrame(columns=[k for _, k, _ in out.OFFSET_SHEET_COLUMNS])
    unpaid_counts: Counter[str] = Counter()
    unpaid_amounts: Counter[str] = Counter()
    if result is not None:
        views = _Views(result, rules, employees)
        lines_outcome = result.lines["outcome"].astype(str).to_numpy()
        amt = result.lines["amount_ore"].to_numpy()
        for code, n in Counter(lines_outcome).items():
            counts[code] += n
            amounts[code] += int(amt[lines_outcome == code].sum())

        def add(built: tuple[tuple[str, NewCase], dict[str, Any]]) -> None:  # a case and its row in the Avvik sheet
            cases.append(built[0])
            exception_rows.append(built[1])

        # Per-line cases for every exception unit; a held report gets one case of its own.
        u = result.units
        for uid in np.flatnonzero(~np.isin(u["outcome"].astype(str).to_numpy(), OFFSET_REASONS) & ~u["held"].to_numpy()):
            add(_unit_case(ctx, views.view(int(uid)), views))
        for built in zip(*claim_rows.cases(ctx, rules, claims_read.issues, result, views, claims_path.name), strict=True):
            add(built)
        exception_rows += [_held_case(ctx, rules, item, rep, p, checks[item.id], result)
                           for item, rep, p in parsed if item.id in held]
        # Invalid lines: one case each, naming file, line, field and reason.
        invalid = [(rep, bad) for _item, rep, _p in parsed for bad in rep.invalid]
        for rep, bad in invalid:
            add(_invalid_case(ctx, rules, rep, bad, views))
        line_outcome_frames += [_bad_lines(rep, "INVALID_LINE", "linje") for _i, rep, _p in parsed if rep.invalid]
        counts["INVALID_LINE"] += len(invalid)
        amounts["INVALID_LINE"] += sum(bad.amount_ore or 0 for _rep, bad in invalid)
        # Unpaid claims: a case once per claim (pending, then final).
        for row in result.unpaid.itertuples(index=False):
            krav = str(result.claims["krav_id"].iloc[row.claim])
            unpaid_counts[row.outcome] += 1
            unpaid_amounts[row.outcome] += int(result.claims["amount_ore"].iloc[row.claim])
            # One case per claim and category, ever: a reviewer's 'dismiss' is not undone next run.
            earlier = {c.category for c in state.claim_cases.get(krav, [])}
            if row.outcome in earlier or "CLAIM_UNPAID_FINAL" in earlier:
                continue
            existing = open_claim_case(state, krav)
            if existing is not None:
                close_case(ctx, existing.id, "dismiss", "Erstattet av ny sak: fristen er passert",
                           {"replaced_by": row.outcome})
            add(_unpaid_case(ctx, rules, views, row, as_of))
        # Claims paid (or taken up by a case) now: close their waiting 'not paid yet' case.
        consumed_claims = set(result.claims["krav_id"].to_numpy()[result.unit_claims["claim"].to_numpy()])
        for krav in consumed_claims & set(state.claim_cases):
            waiting = open_claim_case(state, krav)
            if waiting is not None:
                close_case(ctx, waiting.id, "handled_manually",
                           f"Utbetaling mottatt fra NAV (kjøring {ctx.run_id}); se utligning eller ny sak.",
                           {"paid_in_run": ctx.run_id})
        progress.update(0.7)

        journal_frames.append(out.journal_from_result(result, ctx.run_id, as_of, rules.ledger))
        offset_rows = views.offset_rows()
        line_outcome_frames.append(views.line_outcomes())
        completed = [(item.id, _item_result(ctx, result, rep.report_id)) for item, rep, _p in parsed
                     if item.id not in held]
        if completed:  # the latest maksdato per person, for the next run's comparison
            maks = latest_maksdato_per_person(result)
            completed[-1][1]["maksdato"] = [[f"{int(h):016x}", str(d)]
                                            for h, d in zip(maks["fnr_hash"], maks["maksdato"], strict=True)]
        for item, rep, p in parsed:
            report_rows.append(out.ReportSummary(
                rep.report_id, to_date(p.get("value_date")), rep.line_count, rep.total_ore,
                checks.get(item.id, (True, None, ""))[1], "Holdt tilbake: bankavvik" if item.id in held else
                ("Behandlet etter bankkontroll" if item.reference in state.bank_released else "Behandlet")))

    if cases:
        ctx.store.open_cases_many(ctx.process_id, cases)
    if completed:
        ctx.store.complete_many(completed)
    _archive_at_nav(ctx, rules, [str(i.payload["report_id"]) for i in items if i.payload.get("source") == "api"],
                    warnings)
    progress.update(0.85)

    # Files.
    report_rows.sort(key=lambda r: _id_order(r.report_id, r.report_id))
    journal_path = ctx.out_dir / "utligningsbilag.csv"
    journal = out.journal_table(journal_frames)
    value_dates = {r.report_id: r.value_date for r in report_rows}
    ctx.effects.write_file("ledger", journal_path, lambda path: out.write_journal([journal], path),
                           lambda: shadow.journal_outcomes(journal, value_dates), "Utligningsbilag til regnskapet")
    lines_path = ctx.out_dir / "linjeutfall.csv"
    outcome_lines = _line_outcomes(line_outcome_frames)
    write_frame_csv(lines_path, outcome_lines)
    ctx.effects.would_hand_over(lambda: shadow.handed_over(outcome_lines, value_dates))
    already = [f"Rapport {report_id(r)} er allerede utlignet (kjøring {r.run_id or 'tidligere'})."
               if r.status == ItemStatus.done else
               f"Rapport {report_id(r)} er allerede behandlet og ligger i avvikskøen (kjøring {r.run_id or 'tidligere'})."
               for r in registered.already]
    excel_path = ctx.out_dir / "utligning.xlsx"
    out.write_excel(excel_path, out.ExcelContent(
        run_id=ctx.run_id, process_name=ctx.definition.name, as_of=as_of, reports=report_rows,
        line_counts=dict(counts), line_amounts=dict(amounts), claim_counts=dict(unpaid_counts),
        claim_amounts=dict(unpaid_amounts), offset_rows=offset_rows, exception_rows=exception_rows,
        already=already, journal_rows=journal.num_rows, decisions_applied=decisions.applied, warnings=warnings,
        rules_version=ctx.version_label, cases_opened=run_counts(ctx.store, ctx.run_id).cases_opened))
    progress.update(1.0)

    total_lines = sum(counts.values())
    offset_lines = sum(counts.get(c, 0) for c in OFFSET_REASONS)
    exceptions = {c: counts[c] for c in LINE_CATEGORIES if counts.get(c)}
    exceptions.update({c: unpaid_counts[c] for c in CLAIM_CATEGORIES if unpaid_counts.get(c)})
    if len(refused) > refused_again:
        exceptions["REPORT_REFUSED"] = len(refused) - refused_again
    summary = RunSummary(
        process_id=ctx.process_id, run_id=ctx.run_id, cases_total=total_lines, automated=offset_lines,
        exceptions=exceptions,
        outputs={"utligning": str(excel_path), "linjeutfall": str(lines_path),
                 **({} if ctx.shadow else {"utligningsbilag": str(journal_path)})},
        figures={
            "lines": total_lines, "offset": offset_lines,
            "offset_by_reason": {c: counts[c] for c in OFFSET_REASONS if counts.get(c)},
            "exception_lines": total_lines - offset_lines,
            "unpaid_claims": sum(unpaid_counts.values()),
            "amount_offset_nok": round(sum(amounts.get(c, 0) for c in OFFSET_REASONS) / 100, 2),
            "refused_reports": refused,
            "journal_rows": journal.num_rows, **decisions.summary(),
            "reports": [r.report_id for r in report_rows],
            "already_offset": [report_id(r) for r in registered.already],
            "as_of": as_of.isoformat(),
            "message": " ".join(([f"{len(report_rows)} rapport(er) behandlet."] if report_rows else
                                 [] if already else ["Ingen nye rapporter."]) + already),
        })
    return summary


def _refused_before(ctx: RunContext, already: list[WorkItem]) -> list[str]:
    """The same bytes of a report refused as a whole, sent again: still refused (its case stays the
    one case), so this run, too, settles and ages nothing on the strength of it."""
    sent_again = {r.reference for r in already if r.status == ItemStatus.business_exception}
    if not sent_again:
        return []
    return [f"{case.message} Sendt på nytt med samme innhold; se sak {case.id}."
            for case in ctx.store.cases(ctx.process_id, category="REPORT_REFUSED")
            if (case.evidence or {}).get("data", {}).get("report_ref") in sent_again]


def _refuse_report(ctx: RunContext, rules: Rules, item, p: dict, exc: K27FormatError,
                   report_rows: list[out.ReportSummary]) -> str:
    """A report that cannot prove it is whole: one operator case naming the file and why; none of
    its lines is offset and no claim is aged or closed on the strength of it."""
    name = p.get("file_name") or Path(p["path"]).name
    message = mask_fnrs_in_text(f"Rapport {p['report_id']} ({name}) er avvist som helhet: {exc.reason}. Ingen linjer "
                                "er utlignet og ingen krav er vurdert som ubetalt på grunnlag av den.")
    rows = [["Fil", mask_fnrs_in_text(name), "", ""], ["Rapport", str(p["report_id"]), "", ""],
            ["SHA-256", str(p.get("sha256", "")), "", ""], ["Årsak", mask_fnrs_in_text(exc.reason), "", ""]]
    data = {"report_id": p["report_id"], "report_ref": item.reference, "file_name": name,
            "reason": mask_fnrs_in_text(exc.reason)}
    ctx.store.business_exception(item.id, ctx.new_case(
        "REPORT_REFUSED", message, org_unit=rules.default_org_unit, search_text=mask_fnrs_in_text(f"{p['report_id']} {name}"),
        evidence=comparison(["Felt", "NAV-rapport", "", ""], rows, message, data)))
    report_rows.append(out.ReportSummary(str(p["report_id"]), to_date(p.get("value_date")), 0, 0, None,
                                         "Avvist: kan ikke leses som hel rapport"))
    get_logger(LOG).warning(message)
    return message


def _duplicate_case(ctx: RunContext, rules: Rules, item, rep: K27Report, first: str) -> dict[str, Any]:
    """The same content as an earlier report (NAV's parallel channels): one case, nothing offset again."""
    n, total = rep.line_count, ex.nok(rep.total_ore)
    text = (f"Rapport {rep.report_id} har samme innhold som rapport {first} (mottatt via to "
            f"kanaler). {n} linjer, sum {ex.ore_kr(rep.total_ore)}. Ingenting er utlignet på nytt.")
    rows = [["Rapport", rep.report_id, str(first), ""], ["Innhold (SHA-256)", rep.sha256[:16], rep.sha256[:16], "identisk"],
            ["Linjer", str(n), str(n), ""], ["Sum", total, total, ""]]
    data = {"report_id": rep.report_id, "duplicate_of": first, "report_ref": item.reference, "nav_ore": rep.total_ore}
    ctx.store.business_exception(item.id, ctx.new_case(
        "DUPLICATE", text, org_unit=rules.default_org_unit, amount=rep.total_ore / 100,
        search_text=f"{rep.report_id} {first} {total}",
        evidence=comparison(["Felt", "Denne rapporten", "Tidligere rapport", "Beregnet"], rows, text, data)))
    return {"kategori": label("DUPLICATE"), "kode": "DUPLICATE", "forklaring": text, "belop_nav": rep.total_ore,
            "linjer": f"{rep.report_id} (hele rapporten)", "org_enhet": rules.default_org_unit}


def _as_of(parsed: list, state: State) -> date:
    """The day claims are aged against: the latest value date known, else the day after the
    latest period month (NAV pays on the first working day of the next month), else today."""
    dates = [date.fromisoformat(p["value_date"]) for _, _, p in parsed if p.get("value_date")]
    if state.last_value_date:
        dates.append(state.last_value_date)
    if dates:
        return max(dates)
    ends = [rep.lines["til"].max() for _, rep, _ in parsed if len(rep.lines)]
    ends = [e for e in ends if not pd.isna(e)]
    if ends:
        last = max(ends).date()
        return (last.replace(day=28) + timedelta(days=4)).replace(day=1)
    return date.today()


def _empty_lines() -> pd.DataFrame:
    from connectors.nav.k27 import _empty_lines_frame

    return _empty_lines_frame().assign(report_seq=np.array([], np.int64), report_id=pd.array([], dtype="str"),
                                       held=np.array([], bool))


def _archive_at_nav(ctx: RunContext, rules: Rules, report_ids: list[str], warnings: list[str]) -> None:
    if not report_ids or not rules.archive_after_processing:
        return
    from connectors.nav.api import NavApiError, NavReportClient

    client = NavReportClient.from_settings(ctx.settings, max_attempts=ctx.definition.retry.max_attempts)
    for rid in report_ids:
        try:
            ctx.effects.call("nav", "archive", rid, lambda rid=rid: client.archive(rid),
                             f"Arkivering av rapport {rid} hos NAV")
        except NavApiError as exc:
            warnings.append(f"Rapport {rid} ble ikke markert som arkivert hos NAV: {exc}")


def _item_result(ctx: RunContext, result: MatchResult, rid: str) -> dict[str, Any]:
    """What the report's item keeps: what it offset, so that no later run offsets it again."""
    lines = result.lines
    mine = (lines["report_id"] == rid).to_numpy()
    outcome = lines["outcome"].astype(str).to_numpy()
    offset = mine & np.isin(outcome, OFFSET_REASONS)
    units = result.units
    offset_units = units["outcome"].isin(OFFSET_REASONS).to_numpy() & units["claim_unit"].to_numpy()
    first_line_report = lines["report_id"].to_numpy()[units["first_line"].to_numpy()]
    settled = result.claims["krav_id"].to_numpy()[units["claim"].to_numpy()[offset_units & (first_line_report == rid)]]
    return {"run_id": ctx.run_id, "lines": int(mine.sum()), "offset": int(offset.sum()),
            "outcomes": dict(Counter(outcome[mine])), "offset_fps": fp_hex(lines["fp"].to_numpy()[offset]),
            "settled_claims": sorted(map(str, settled)), "offsets": offset_history_rows(result, rid)}


LINE_OUTCOME_COLUMNS = ["rapport_id", "linje", "utfall", "kategori", "krav_id", "fnr", "bedriftsnummer", "ytelse",
                        "periode_fra", "periode_til", "belop", "gruppe"]


def _line_outcomes(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """linjeutfall.csv: every line of the run, by report (numeric ids in number order) and line."""
    if not frames:
        return pd.DataFrame(columns=LINE_OUTCOME_COLUMNS)
    lines = pd.concat(frames, ignore_index=True)
    lines["linje"] = lines["linje"].astype(np.int64)
    return lines.sort_values(["rapport_id", "linje"], ignore_index=True,
                             key=lambda c: c.astype(str).str.zfill(20) if c.name == "rapport_id" else c)


def _dup_report_lines(rep: K27Report) -> pd.DataFrame:
    lines = rep.lines
    frame = pd.DataFrame({
        "rapport_id": rep.report_id, "linje": lines["line_no"].to_numpy(), "utfall": "DUPLICATE",
        "kategori": label("DUPLICATE"), "krav_id": "", "fnr": mask_fnr_column(lines["fnr"].to_numpy()),
        "bedriftsnummer": lines["bnr"].to_numpy(), "ytelse": lines["code"].astype(str).to_numpy(),
        "periode_fra": date_texts(lines["fra"].to_numpy("datetime64[D]")),
        "periode_til": date_texts(lines["til"].to_numpy("datetime64[D]")),
        "belop": lines["amount_ore"].to_numpy() / 100, "gruppe": "rapport"}, columns=LINE_OUTCOME_COLUMNS)
    # Its unreadable lines too (the file is sorted by report and line when written).
    return pd.concat([frame, _bad_lines(rep, "DUPLICATE", "rapport")], ignore_index=True) if rep.invalid else frame


def _bad_lines(rep: K27Report, outcome: str, group: str) -> pd.DataFrame:
    """The report's unreadable lines as linjeutfall rows."""
    bad = rep.invalid
    return pd.DataFrame({"rapport_id": rep.report_id, "linje": np.array([b.line_no for b in bad], np.int64),
                         "utfall": outcome, "kategori": label(outcome), "krav_id": "",
                         "fnr": [mask_fnr(b.fnr) if b.fnr else "" for b in bad],
                         "bedriftsnummer": [b.bnr or "" for b in bad], "ytelse": "", "periode_fra": "",
                         "periode_til": "", "belop": [(b.amount_ore or 0) / 100 for b in bad],
                         "gruppe": group}, columns=LINE_OUTCOME_COLUMNS)


LINE_KEYS = ["report_id", "line_no", "amount_ore", "fra", "til", "code", "bnr", "navn", "fnr", "maksdato", "fp"]


class _Views:
    """Fast access to a unit's lines and claims as plain values (for explanations and cases)."""

    def __init__(self, result: MatchResult, rules: Rules, employees: pd.DataFrame | None = None):
        self.result = result
        self.rules = rules
        self.employees = employees
        self.line_idx = result.lines.groupby("unit", sort=False).indices
        self.uc_idx = result.unit_claims.groupby("unit", sort=False).indices
        self.L = Columns(result.lines, [*LINE_KEYS, "maksdato_prev", "netted"], text=("report_id", "code", "navn"),
                         dates=("fra", "til", "maksdato", "maksdato_prev"))
        self.C = Columns(result.claims, ["krav_id", "amount_ore", "fra", "til", "code", "bnr", "fnr", "org_enhet",
                                         "inntekt_ore", "refusjon_ore", "grad", "forste_fravaersdag"],
                         text=("krav_id", "code", "org_enhet"), dates=("fra", "til", "forste_fravaersdag"),
                         floats=("inntekt_ore", "refusjon_ore", "grad"))
        self.uc_claim = result.unit_claims["claim"].to_numpy()
        self.uc_share = result.unit_claims["share_ore"].to_numpy()
        self.U = Columns(result.units, text=("outcome",))
        self._cache: dict[int, ex.UnitView] = {}
        self._org_units: dict[tuple[int, int], str] | None = None

    def line(self, i: int) -> dict[str, Any]:
        return self.L.row(i, LINE_KEYS)

    def claim(self, j: int, share: int | None = None) -> dict[str, Any]:
        return {**self.C.row(j), "share_ore": share}

    def view(self, uid: int) -> ex.UnitView:
        if uid in self._cache:
            return self._cache[uid]
        U = self.U
        rows = sorted(self.line_idx.get(uid, []), key=lambda i: (self.L["netted"][i], i))
        claims = [self.claim(int(self.uc_claim[k]), int(self.uc_share[k])) for k in self.uc_idx.get(uid, [])]
        first = rows[0] if rows else None
        view = ex.UnitView(
            outcome=U["outcome"][uid], detail=str(U["detail"][uid] or ""), lines=[self.line(i) for i in rows],
            claims=claims, nav_ore=int(U["nav_ore"][uid]), expected_ore=int(U["expected_ore"][uid]),
            weekdays=int(U["weekdays"][uid]), day_rate_kr=int(U["day_rate_kr"][uid]),
            grade_used=float(U["grade_used"][uid]), g=int(U["g"][uid]), days_paid=int(U["days_paid"][uid]),
            other_basis_ore=float(U["other_basis_ore"][uid]), basis_ore=float(U["basis_ore"][uid]),
            cap_day_kr=int(cap_day_kr(np.array([U["g"][uid]]))[0]) if U["g"][uid] else 0,
            tolerance_nok=self.rules.tolerance_nok, tolerance_days=self.rules.tolerance_days,
            maksdato_prev=to_date(self.L["maksdato_prev"][first]) if first is not None else None,
            extra=U["extra"][uid] or {})
        self._cache[uid] = view
        return view

    def org_unit(self, fnr: int, bnr: int, claims: list[dict]) -> str:
        if claims:
            return claims[0]["org_enhet"]
        if self._org_units is None:  # the register first (it knows every position), then the claims
            C = self.C
            self._org_units = {}
            sources = [(C["fnr"], C["bnr"], C["org_enhet"])]
            if self.employees is not None and len(self.employees):
                e = self.employees
                sources.insert(0, (e["fnr"].to_numpy(), e["bnr"].to_numpy(), e["org_enhet"].astype(str).to_numpy()))
            for fnrs, bnrs, units in sources:
                for f, b, unit in zip(fnrs, bnrs, units, strict=True):
                    if unit:
                        self._org_units.setdefault((int(f), int(b)), unit)
                        self._org_units.setdefault((int(f), 0), unit)
        return self._org_units.get((fnr, bnr)) or self._org_units.get((fnr, 0)) or self.rules.default_org_unit

    def offset_rows(self) -> pd.DataFrame:
        """Utlignet: one row per offset line, with the unit's explanation."""
        L, U = self.L, self.U
        outcome = self.result.lines["outcome"].astype(str).to_numpy()
        idx = np.flatnonzero(np.isin(outcome, OFFSET_REASONS))
        unit = self.result.lines["unit"].to_numpy()[idx]
        claim = U["claim"][unit]
        first = U["first_line"][unit] == idx
        texts = {int(u): ex.explanation(self.view(int(u))) for u in np.unique(unit)}
        claim_amt = np.where(claim >= 0, self.C["amount_ore"][np.maximum(claim, 0)], 0)
        return pd.DataFrame({
            "rapport": L["report_id"][idx], "linje": L["line_no"][idx],
            "krav_id": np.where(claim >= 0, self.C["krav_id"][np.maximum(claim, 0)], ""),
            "fnr": mask_fnr_column(L["fnr"][idx]), "navn": L["navn"][idx], "bnr": L["bnr"][idx],
            "ytelse": L["code"][idx], "fra": L["fra"][idx], "til": L["til"][idx],
            "belop_nav": L["amount_ore"][idx].astype(float),
            "belop_krav": np.where(first, claim_amt, np.nan),
            "differanse": np.where(first, U["nav_ore"][unit] - claim_amt, np.nan),
            "begrunnelse": outcome[idx], "forklaring": [texts[int(u)] for u in unit],
        })

    def line_outcomes(self) -> pd.DataFrame:
        L, _U = self.L, self.U
        lines = self.result.lines
        unit = lines["unit"].to_numpy()
        claim = lines["claim"].to_numpy()
        outcome = lines["outcome"].astype(str).to_numpy()
        return pd.DataFrame({
            "rapport_id": L["report_id"], "linje": L["line_no"], "utfall": outcome,
            "kategori": [label(o) for o in outcome],
            "krav_id": np.where((claim >= 0) & np.isin(outcome, OFFSET_REASONS),
                                self.C["krav_id"][np.maximum(claim, 0)] if len(self.C["krav_id"]) else "", ""),
            "fnr": mask_fnr_column(L["fnr"]), "bedriftsnummer": L["bnr"], "ytelse": L["code"],
            "periode_fra": date_texts(L["fra"]), "periode_til": date_texts(L["til"]),
            "belop": L["amount_ore"] / 100, "gruppe": unit,
        }, columns=LINE_OUTCOME_COLUMNS)


def _unit_case(ctx: RunContext, view: ex.UnitView, views: _Views) -> tuple[tuple[str, NewCase], dict[str, Any]]:
    text = ex.explanation(view)
    first = view.lines[0]
    claims = view.claims
    claim_ore = sum(c["amount_ore"] for c in claims) if claims else None
    data = {
        "category": view.outcome, "detail": view.detail, **ex.lines_data(view.lines),
        "nav_ore": view.nav_ore, "claim_ore": claim_ore, "expected_ore": view.expected_ore if view.expected_ore >= 0 else None,
        "claim_ids": [c["krav_id"] for c in claims], "claims": [ex.claim_data(c, c["share_ore"]) for c in claims],
        "code": first["code"], "fra": ex.dato(first["fra"]), "til": ex.dato(first["til"]), "run_id": ctx.run_id,
        **view.extra,
    }
    org_unit = views.org_unit(first["fnr"], first["bnr"], claims)
    message = mask_fnrs_in_text(f"{label(view.outcome)} ({ex.where(view.lines)}): {text}")
    search = " ".join(filter(None, [first["navn"], ex.nok(view.nav_ore), ex.nok(claim_ore) if claim_ore else "",
                                    *data["claim_ids"], first["report_id"], str(first["bnr"])]))
    case = ctx.new_case(view.outcome, message, evidence=ex.evidence(view, text, data), org_unit=org_unit,
                        amount=view.nav_ore / 100, search_text=mask_fnrs_in_text(search))
    period = ex.periode(first["fra"], first["til"]) if len(view.lines) == 1 else ex.periode(
        min((x["fra"] for x in view.lines if x["fra"]), default=None),
        max((x["til"] for x in view.lines if x["til"]), default=None))
    row = {"kategori": label(view.outcome), "kode": view.outcome, "forklaring": text,
           "fnr": mask_fnr(ex.fnr_text(first["fnr"])), "navn": first["navn"], "bedriftsnummer": str(first["bnr"]),
           "periode": period, "belop_nav": view.nav_ore, "belop_krav": claim_ore,
           "forventet": view.expected_ore if view.expected_ore >= 0 else None,
           "differanse": view.nav_ore - claim_ore if claim_ore is not None else None, "linjer": data["linjer"],
           "krav_id": ", ".join(data["claim_ids"]), "org_enhet": org_unit}
    return (f"linje:{first['report_id']}:{first['line_no']}", case), row


def _held_case(ctx: RunContext, rules: Rules, item, rep: K27Report, p: dict, check, result: MatchResult
               ) -> dict[str, Any]:
    """A report whose total differs from NAV's bank credit: held whole, one case for finance."""
    _ok, credited, note = check
    lines = result.lines
    units = np.unique(lines["unit"].to_numpy()[(lines["report_id"] == rep.report_id).to_numpy()])
    uc = result.unit_claims
    claim_ids = sorted(set(result.claims["krav_id"].to_numpy()[uc["claim"].to_numpy()[np.isin(uc["unit"], units)]]))
    bank = ex.nok(credited) if credited is not None else None
    text = (f"Summen av rapport {rep.report_id} ({ex.ore_kr(rep.total_ore)}, {rep.line_count} linjer) stemmer ikke med "
            f"innbetalingen fra NAV i banken ({ex.ore_kr(credited, blank='ingen')}). {note} "
            "Ingen linjer er utlignet; rapporten behandles når økonomi har avklart avviket.")
    account, value_date = _account(str(p.get("bankkonto") or "")), ex.dato(to_date(p.get("value_date")))
    rows = [["Rapport", rep.report_id, "", ""], ["Valuteringsdato", value_date, value_date, ""],
            ["Bankkonto", account, account, ""], ["Linjer", str(rep.line_count), "", ""],
            ["Sum", ex.nok(rep.total_ore), bank or "(ingen)", ""],
            ["Differanse", "", "", ex.nok(rep.total_ore - (credited or 0))]]
    data = {"report_id": rep.report_id, "report_ref": item.reference, "report_total_ore": rep.total_ore,
            "bank_ore": credited, "claim_ids": claim_ids, "nav_ore": rep.total_ore}
    ctx.store.business_exception(item.id, ctx.new_case(
        "BANK_TOTAL_MISMATCH", text, org_unit=rules.default_org_unit, amount=rep.total_ore / 100,
        search_text=f"{rep.report_id} {ex.nok(rep.total_ore)} {bank or ''}",
        evidence=comparison(["Felt", "NAV-rapport", "Bank", "Beregnet"], rows, text, data)))
    return {"kategori": label("BANK_TOTAL_MISMATCH"), "kode": "BANK_TOTAL_MISMATCH", "forklaring": text,
            "belop_nav": rep.total_ore, "belop_krav": credited, "differanse": rep.total_ore - (credited or 0),
            "linjer": f"{rep.report_id} (hele rapporten)", "org_enhet": rules.default_org_unit}


def _account(number: str) -> str:
    """1503.10.43325: the dotted form also keeps an account number from looking like an fnr."""
    return f"{number[:4]}.{number[4:6]}.{number[6:]}" if len(number) == 11 and number.isdigit() else number


def _invalid_case(ctx: RunContext, rules: Rules, rep: K27Report, bad, views: _Views
                  ) -> tuple[tuple[str, NewCase], dict[str, Any]]:
    """A line that cannot be read: its own case naming file, line, field and reason."""
    fnr = int(bad.fnr) if bad.fnr else 0
    org_unit = views.org_unit(fnr, int(bad.bnr) if bad.bnr else 0, []) if fnr else rules.default_org_unit
    text = mask_fnrs_in_text(f"{bad.message}. Linjen er ikke utlignet; resten av rapporten er behandlet. "
                             "Kontroller linjen mot PDF-versjonen av rapporten og utlign manuelt.")
    data = {"report_id": rep.report_id, "line_no": bad.line_no, "field": bad.field, "nav_ore": bad.amount_ore or 0,
            "linjer": f"{rep.report_id}:{bad.line_no}", "claim_ids": []}
    rows = [["Fil", rep.file_name, "", ""], ["Linje", str(bad.line_no), "", ""], ["Felt", bad.field, "", ""],
            ["Årsak", bad.reason, "", ""], ["Innhold", mask_fnrs_in_text(bad.raw), "", ""],
            ["Beløp", ex.nok(bad.amount_ore) if bad.amount_ore is not None else "(uleselig)", "", ""]]
    case = ctx.new_case("INVALID_LINE", text, org_unit=org_unit, amount=(bad.amount_ore or 0) / 100,
                        search_text=f"{rep.report_id} linje {bad.line_no} {rep.file_name}",
                        evidence=comparison(COMPARE, rows, text, data, fnr=bad.fnr or ""))
    row = {"kategori": label("INVALID_LINE"), "kode": "INVALID_LINE", "forklaring": bad.message,
           "fnr": mask_fnr(bad.fnr) if bad.fnr else "", "bedriftsnummer": bad.bnr or "",
           "belop_nav": bad.amount_ore, "linjer": f"{rep.report_id}:{bad.line_no}", "org_enhet": ""}
    return (f"linje:{rep.report_id}:{bad.line_no}", case), row


def _unpaid_case(ctx: RunContext, rules: Rules, views: _Views, row, as_of: date) -> tuple[tuple[str, NewCase], dict]:
    c = views.claim(int(row.claim))
    final = row.outcome == "CLAIM_UNPAID_FINAL"
    deadline = rules.claim_unpaid_final_after_days
    if row.detail == "past_maksdato":
        why = (f"Kravet starter {ex.dato(c['fra'])}, etter maksdato {ex.dato(to_date(np.datetime64(row.maksdato, 'D')))}:"
               " NAV betaler ikke sykepenger etter maksdato. Avskriv kravet eller avklar med NAV.")
    elif final:
        why = (f"Ikke betalt {row.age_days} dager etter periodens slutt (frist {deadline} dager): avslått, foreldet "
               "(ftrl. § 22-13) eller glemt. Avklar med NAV eller avskriv.")
    else:
        why = (f"Ikke betalt ennå ({row.age_days} dager etter periodens slutt, frist {deadline} dager). "
               "Følges opp automatisk ved neste rapport.")
    text = f"Krav {c['krav_id']} ({ex.periode(c['fra'], c['til'])}, {ex.ore_kr(c['amount_ore'])}): {why}"
    data = {"category": row.outcome, "claim_ids": [c["krav_id"]], "nav_ore": 0, "age_days": int(row.age_days),
            "claims": [ex.claim_data(c, 0)], "as_of": as_of.isoformat(), "run_id": ctx.run_id}
    fnr = ex.fnr_text(c["fnr"])
    rows = [["Krav-ID", "", c["krav_id"], ""], ["Fødselsnummer", "", mask_fnr(fnr), ""],
            ["Bedriftsnummer", "", str(c["bnr"]), ""], ["Ytelse", "", ex.benefit(c["code"]), ""],
            ["Periode", "", ex.periode(c["fra"], c["til"]), ""], ["Beløp", "(ingen linje)", ex.nok(c["amount_ore"]), ""],
            ["Alder", "", "", f"{row.age_days} dager (frist {deadline})"]]
    case = ctx.new_case(row.outcome, mask_fnrs_in_text(text), org_unit=c["org_enhet"] or rules.default_org_unit,
                        amount=c["amount_ore"] / 100, search_text=f"{c['krav_id']} {ex.nok(c['amount_ore'])}",
                        evidence=comparison(COMPARE, rows, why, data, fnr=fnr))
    erow = {"kategori": label(row.outcome), "kode": row.outcome, "forklaring": text, "fnr": mask_fnr(fnr),
            "bedriftsnummer": str(c["bnr"]), "periode": ex.periode(c["fra"], c["til"]), "belop_krav": c["amount_ore"],
            "krav_id": c["krav_id"], "org_enhet": c["org_enhet"]}
    return (f"krav:{c['krav_id']}:{row.outcome}", case), erow


# ------------------------------------------------------------------------------ the whole run

def run_summary(ctx: RunContext, p, step) -> RunSummary:
    """The declared run (flows.kit.declare; the parameters are RunInputs' fields): decisions, fetch
    and register, offset: each a Prefect task inside the flow."""
    inputs = RunInputs(**vars(p))
    log = get_logger(LOG)
    decisions = step("beslutninger", apply_decisions, ctx, inputs.as_of)
    log.info("Avgjørelser fra avvikskøen: %d utført, %d rapporter sendt til ny kjøring", decisions.applied,
             len(decisions.requeued))
    state, registered = step("henting", fetch_and_register, ctx, inputs, retry=False)  # the connector retries
    log.info("Henting: %d rapporter hentet, %d nye, %d allerede behandlet", registered.fetched,
             len(registered.new), len(registered.already))
    summary = step("utligning", offset, ctx, inputs, state, decisions, registered)
    figures = summary.figures
    log.info("Utligning: %d linjer, %d utlignet, %d avvikslinjer, %d krav uten utbetaling", figures["lines"],
             figures["offset"], figures["exception_lines"], figures["unpaid_claims"])
    return summary


def run_offsetting(ctx: RunContext, inputs: RunInputs | None = None) -> OffsetOutcome:
    """One run without Prefect on a context the caller opened (tests, benchmarks): the declared run, as
    the CLI runs it (finished, stopped or failed by the kit); a source that is down raises FetchFailed."""
    summary = run_declared(PROCESS, vars(inputs or RunInputs()), ctx=ctx)
    if summary.stopped_reason:  # the run is recorded as stopped; the next run fetches again
        raise FetchFailed(summary.stopped_reason)
    return OffsetOutcome(summary)


__all__ = ["run_summary", "RunInputs", "run_offsetting", "apply_decisions", "fetch", "register", "offset", "FetchFailed",
           "PROCESS_ID"]
