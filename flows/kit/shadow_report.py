"""The agreement report and the promotion gate of a process in shadow (docs/shadow.md), for
`rpa shadow report`, `rpa processes promote` and the demo. The figures are workqueue.shadow's
(one computation, also read by the review app's owners' page); here the people's export is
imported, the Excel report written and the definition's mode switched.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from config.process_definition import Mode, ProcessDefinition
from config.settings import Settings, get_settings
from connectors.norwegian import fmt_date
from connectors.spreadsheet import INTEGER, KRONER, PERCENT, Cell, Column, Sheet, Table, pairs, write_workbook
from flows.kit.context import definition_hash
from flows.kit.shadow import read_human_outcome
from flows.registry import load_definition
from workqueue.shadow import (
    SIGN_OFF_WORDS,
    VERDICT_WORDS,
    Agreement,
    GateResult,
    agreement,
    gate,
    record_promotion,
    replace_human_outcomes,
)
from workqueue.store import WorkQueueStore

__all__ = ["compared_system", "import_human_outcome", "agreement_report", "write_report", "promote", "Promotion",
           "report_path"]


def compared_system(definition: ProcessDefinition) -> str:
    """The system whose records the people keep: where the robot's outcomes are compared."""
    if not definition.compared_system:
        raise ValueError(f"{definition.id}: definisjonen har ingen shadow.human_outcome, så det finnes ikke noe "
                         "menneskelig utfall å sammenligne med")
    return definition.compared_system


def import_human_outcome(definition: ProcessDefinition, settings: Settings, store: WorkQueueStore,
                         path: Path | None = None, period: str | None = None) -> tuple[str, int]:
    """Read the people's outcome into the store: from their export (the definition's
    `shadow.human_outcome` input, or `path`), or from the system itself where the process reads it
    there (since the pilot's first shadow outcome). -> (source, outcomes imported)."""
    source, outcomes = read_human_outcome(definition, settings, path, period, _pilot_start(store, definition.id))
    return source, replace_human_outcomes(store, definition.id, source, outcomes)


def _pilot_start(store: WorkQueueStore, process_id: str) -> str | None:
    """The day (ISO, Norwegian time) of the process's first recorded shadow outcome; None before any."""
    from zoneinfo import ZoneInfo

    from sqlalchemy import func, select

    from workqueue.models import ShadowOutcome
    from workqueue.shadow import SHADOW

    with store.session() as s:
        first = s.scalar(select(func.min(ShadowOutcome.created_at)).where(ShadowOutcome.process_id == process_id,
                                                                         ShadowOutcome.side == SHADOW))
    return first.astimezone(ZoneInfo("Europe/Oslo")).date().isoformat() if first else None


def agreement_report(process_id: str, settings: Settings | None = None, store: WorkQueueStore | None = None,
                     period: str | None = None, human_file: Path | None = None) -> tuple[Agreement, ProcessDefinition]:
    """Import the people's export, then compare it with every shadow run of the process."""
    settings = settings or get_settings()
    definition, _ = load_definition(process_id, settings)
    own = store is None
    store = store or WorkQueueStore.from_settings(settings)
    try:
        import_human_outcome(definition, settings, store, human_file, period)
        return agreement(store, process_id, compared_system(definition), period), definition
    finally:
        if own:
            store.close()


def report_path(settings: Settings, process_id: str, period: str | None) -> Path:
    return settings.paths.data_dir / "output" / process_id / "skygge" / f"samsvar-{period or 'alle'}.xlsx"


def _day(iso: str) -> str:
    return fmt_date(iso)


def _meaning(definition: ProcessDefinition, code: str) -> str:
    try:
        return definition.category(code).meaning
    except KeyError:
        return ""


def write_report(result: Agreement, definition: ProcessDefinition, path: Path) -> Path:
    """samsvar-<period>.xlsx: the figures, per category, and every disagreement with both sides."""
    t = result.total
    summary = [
        ["Prosess", f"{definition.name} ({definition.id})"],
        ["Periode", result.period or "alle"],
        ["Sammenlignet i system", result.system],
        ["Skyggekjøringer", len(result.runs)],
        ["Menneskenes eksport", ", ".join(result.human_sources)],
        ["Sammenlignede saker", t.cases],
        ["Enige", t.agree],
        ["Uenige (begge handlet, ulikt)", t.differ],
        ["Bare roboten ville handlet", t.robot_only],
        ["Bare menneskene handlet", t.human_only],
        ["Samsvar totalt", Cell(t.agreement, PERCENT)],
        ["Samsvar på det roboten ville gjort automatisk", Cell(t.automatic_agreement, PERCENT)],
        ["Uenigheter om beløp som eieren ikke har vurdert", len(result.unsigned_money_disagreements)],
    ]
    per_category = [[code, _meaning(definition, code), c.cases, c.agree, c.differ, c.robot_only, c.human_only,
                     c.agreement] for code, c in result.by_category.items()]
    differences = [[r.key, r.category, VERDICT_WORDS[r.verdict], r.robot_amount, r.robot_value, r.human_amount,
                    r.human_value,
                    None if r.robot_amount is None or r.human_amount is None else round(r.robot_amount - r.human_amount, 2),
                    _day(r.day), SIGN_OFF_WORDS.get(r.sign_off, "")] for r in result.disagreements]
    counts = [Column(title, width, INTEGER) for title, width in (("Saker", 10), ("Enige", 10), ("Uenige", 10),
                                                                 ("Bare roboten", 14), ("Bare menneskene", 16))]
    return write_workbook(path, [
        Sheet("Samsvar", [pairs(summary, INTEGER, header=("Hva", "Verdi"), widths=(52, 40))]),
        Sheet("Per kategori", [Table([Column("Kategori", 22), Column("Betydning", 60), *counts,
                                      Column("Samsvar", 10, PERCENT)], per_category, freeze=True)]),
        Sheet("Uenigheter", [Table([Column("Sak", 18), Column("Kategori", 22), Column("Utfall", 16),
                                    Column("Roboten: beløp", 16, KRONER), Column("Roboten: verdi", 24),
                                    Column("Menneskene: beløp", 18, KRONER), Column("Menneskene: verdi", 24),
                                    Column("Differanse", 14, KRONER), Column("Dato", 12),
                                    Column("Eierens vurdering", 24)], differences, freeze=True)]),
    ])


@dataclass(frozen=True)
class Promotion:
    process_id: str
    gate: GateResult
    granted: bool
    message: str  # Norwegian
    hash_before: str = ""
    hash_after: str = ""


_MODE_LINE = re.compile(r"^mode:\s*shadow\b.*$", re.MULTILINE)


def promote(process_id: str, actor: str, settings: Settings | None = None, store: WorkQueueStore | None = None,
            human_file: Path | None = None) -> Promotion:
    """Switch a process from shadow to live when its shadow record meets the definition's thresholds;
    otherwise say which threshold fails. The switch edits the definition's `mode` (a new definition
    version: its hash changes) and records who and when in the audit trail."""
    settings = settings or get_settings()
    definition, _ = load_definition(process_id, settings)
    if definition.mode != Mode.shadow:
        return Promotion(process_id, GateResult(False, [], {}), False,
                         f"{process_id} er allerede i drift (mode: {definition.mode.value}); ingenting å forfremme.")
    own = store is None
    store = store or WorkQueueStore.from_settings(settings)
    try:
        result, _ = agreement_report(process_id, settings, store, human_file=human_file)
        verdict = gate(result, definition.shadow)
        if not verdict.granted:
            return Promotion(process_id, verdict, False, f"{process_id} blir i skyggemodus: "
                             + "; ".join(verdict.failures) + ".")
        path = settings.paths.processes_dir / f"{process_id}.yaml"
        text = path.read_text(encoding="utf-8")
        if not _MODE_LINE.search(text):
            raise ValueError(f"{path}: fant ingen linje «mode: shadow» å endre")
        before = definition_hash(definition)
        path.write_text(_MODE_LINE.sub("mode: live", text, count=1), encoding="utf-8")
        after_definition, _ = load_definition(process_id, settings)
        after = definition_hash(after_definition)
        record_promotion(store, process_id, actor, Mode.shadow.value, Mode.live.value, before, after, verdict.figures)
        return Promotion(process_id, verdict, True,
                         f"{process_id} er satt i drift (mode: live) av {actor}; definisjonen er endret "
                         f"(sha256 {before[:12]} → {after[:12]}) og endringen er ført i historikken.", before, after)
    finally:
        if own:
            store.close()
