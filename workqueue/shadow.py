"""Shadow mode in the store: what a process would have done, what the people did, the agreement
between the two and the promotion gate (docs/shadow.md). One computation, read by `rpa shadow
report`, `rpa processes promote` and the owners' page of the review app (review/ and flows/ meet
only here).

The unit compared is a *key* (NAV: a claim id; invoices: a document; vehicles: a plate) on the
system whose records the people keep (the definition's `shadow.human_outcome` input names it).
Per key, each side's rows are added up (amount) and joined (value):

    agree       both acted, same amount and value
    differ      both acted, but not the same way
    robot_only  the robot would have acted, the people did not
    human_only  the people acted, the robot would have left it to a person (or did not see it)

Overall agreement = agree / all keys; automatic agreement (the gate) = agree / the keys the robot
would have acted on (agree + differ + robot_only).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, insert, select

from connectors.norwegian import fmt_percent
from workqueue.models import AuditEvent, ShadowOutcome, ShadowSignOff
from workqueue.store import WorkQueueStore

__all__ = ["SHADOW", "HUMAN", "LIVE", "MANUAL", "Outcome", "Compared", "Agreement", "GateResult", "record_outcomes",
           "replace_human_outcomes", "outcome_rows", "compare", "agreement", "gate", "sign_off", "sign_offs",
           "record_promotion", "promotions", "VERDICT_WORDS"]

SHADOW, HUMAN, LIVE = "shadow", "human", "live"
MANUAL = "manual"  # the robot would hand the case to a person: no action of its own on the system
PROMOTED = "definition_mode_changed"
VERDICT_WORDS = {"agree": "Enig", "differ": "Uenig", "robot_only": "Bare roboten", "human_only": "Bare menneskene"}
SIGN_OFF_WORDS = {"robot": "Roboten hadde rett", "human": "Menneskene hadde rett", "both_wrong": "Begge tok feil"}


@dataclass(frozen=True)
class Outcome:
    """One outcome on one key, as recorded (the robot's would-do, the people's, or the robot's deed)."""

    system: str
    action: str
    key: str
    category: str = ""
    amount: float | None = None
    value: str = ""
    day: str | None = None  # ISO date
    details: dict[str, Any] = field(default_factory=dict)


def record_outcomes(store: WorkQueueStore, process_id: str, side: str, run_id: str,
                    outcomes: Iterable[Outcome], chunk: int = 5000) -> int:
    """Bulk insert; -> rows written."""
    now = datetime.now(UTC)
    rows = [{"process_id": process_id, "side": side, "run_id": run_id, "system": o.system, "action": o.action,
             "key": o.key[:128], "category": o.category[:64], "amount": o.amount, "value": o.value,
             "day": o.day, "details": o.details, "created_at": now} for o in outcomes]
    with store.session() as s:
        for start in range(0, len(rows), chunk):
            s.execute(insert(ShadowOutcome), rows[start:start + chunk])
    return len(rows)


def replace_human_outcomes(store: WorkQueueStore, process_id: str, source: str, outcomes: Iterable[Outcome]) -> int:
    """The people's outcome from one export file: an import of the same file replaces the last one."""
    run_id = f"human:{source}"[:128]
    with store.session() as s:
        s.execute(delete(ShadowOutcome).where(ShadowOutcome.process_id == process_id,
                                              ShadowOutcome.run_id == run_id))
    return record_outcomes(store, process_id, HUMAN, run_id, outcomes)


def outcome_rows(store: WorkQueueStore, process_id: str, side: str, *, system: str | None = None,
                 period: str | None = None, run_ids: Sequence[str] | None = None) -> list[ShadowOutcome]:
    """Rows of one side; `period` is a prefix of the ISO day (2026-06, 2026)."""
    q = select(ShadowOutcome).where(ShadowOutcome.process_id == process_id, ShadowOutcome.side == side)
    if system:
        q = q.where(ShadowOutcome.system == system)
    if period:
        q = q.where(ShadowOutcome.day.like(f"{period}%"))
    if run_ids is not None:
        q = q.where(ShadowOutcome.run_id.in_(list(run_ids)))
    with store.session() as s:
        rows = list(s.scalars(q.order_by(ShadowOutcome.id)))
        s.expunge_all()
    return rows


@dataclass
class _Side:
    acted: bool = False
    category: str = ""
    amount: float | None = None
    values: set[str] = field(default_factory=set)
    days: set[str] = field(default_factory=set)

    def add(self, row: Any) -> None:
        if row.action == MANUAL:
            self.category = self.category or row.category
            return
        self.acted = True
        self.category = self.category or row.category
        if row.amount is not None:
            self.amount = round((self.amount or 0) + row.amount, 2)
        if row.value:
            self.values.add(row.value)
        if row.day:
            self.days.add(row.day)

    @property
    def value(self) -> str:
        return ", ".join(sorted(self.values))


@dataclass(frozen=True)
class Compared:
    key: str
    category: str
    verdict: str  # agree | differ | robot_only | human_only
    robot_amount: float | None
    robot_value: str
    human_amount: float | None
    human_value: str
    day: str
    sign_off: str = ""  # the owner's verdict on a disagreement: robot | human | both_wrong

    @property
    def money(self) -> bool:
        return self.robot_amount is not None or self.human_amount is not None


def compare(robot_rows: Iterable[Any], human_rows: Iterable[Any], signed: dict[str, str] | None = None) -> list[Compared]:
    """Per key, the robot's side against the people's (see the module's docstring)."""
    robot: dict[str, _Side] = defaultdict(_Side)
    human: dict[str, _Side] = defaultdict(_Side)
    for row in robot_rows:
        robot[row.key].add(row)
    for row in human_rows:
        human[row.key].add(row)
    signed = signed or {}
    out = []
    for key in sorted(set(robot) | set(human)):
        r, h = robot.get(key, _Side()), human.get(key, _Side())
        if not r.acted and not h.acted:
            continue  # the robot would leave it to a person and the people did nothing: nothing to compare
        if r.acted and h.acted:
            verdict = "agree" if (r.amount, r.value) == (h.amount, h.value) else "differ"
        else:
            verdict = "robot_only" if r.acted else "human_only"
        out.append(Compared(key, r.category or h.category or "", verdict, r.amount if r.acted else None, r.value,
                            h.amount if h.acted else None, h.value, min(r.days | h.days, default=""),
                            "" if verdict == "agree" else signed.get(key, "")))
    return out


@dataclass(frozen=True)
class Counts:
    cases: int = 0
    agree: int = 0
    differ: int = 0
    robot_only: int = 0
    human_only: int = 0

    @property
    def robot_acted(self) -> int:
        return self.agree + self.differ + self.robot_only

    @property
    def agreement(self) -> float:
        return self.agree / self.cases if self.cases else 0.0

    @property
    def automatic_agreement(self) -> float:
        return self.agree / self.robot_acted if self.robot_acted else 0.0


def _count(rows: Iterable[Compared]) -> Counts:
    tally = {"agree": 0, "differ": 0, "robot_only": 0, "human_only": 0}
    for r in rows:
        tally[r.verdict] += 1
    return Counts(cases=sum(tally.values()), **tally)


@dataclass(frozen=True)
class Agreement:
    process_id: str
    period: str
    system: str
    rows: list[Compared]
    runs: list[str]          # the shadow runs compared
    human_sources: list[str]  # the people's export files compared

    @property
    def total(self) -> Counts:
        return _count(self.rows)

    @property
    def by_category(self) -> dict[str, Counts]:
        groups: dict[str, list[Compared]] = defaultdict(list)
        for r in self.rows:
            groups[r.category or "(uten kategori)"].append(r)
        return {c: _count(rows) for c, rows in sorted(groups.items())}

    @property
    def disagreements(self) -> list[Compared]:
        return [r for r in self.rows if r.verdict != "agree"]

    @property
    def unsigned_money_disagreements(self) -> list[Compared]:
        return [r for r in self.disagreements if r.money and not r.sign_off]


def agreement(store: WorkQueueStore, process_id: str, system: str, period: str | None = None) -> Agreement:
    """The robot's would-do (every shadow run) against the people's outcome on `system`."""
    robot = outcome_rows(store, process_id, SHADOW, system=system, period=period)
    human = outcome_rows(store, process_id, HUMAN, system=system, period=period)
    rows = compare(robot, human, sign_offs(store, process_id))
    return Agreement(process_id, period or "", system, rows, sorted({r.run_id for r in robot}),
                     sorted({r.run_id.removeprefix("human:") for r in human}))


@dataclass(frozen=True)
class GateResult:
    granted: bool
    failures: list[str]  # Norwegian, each naming its threshold
    figures: dict[str, Any]


def gate(result: Agreement, policy: Any) -> GateResult:
    """The promotion thresholds of the definition's `shadow` block against the shadow record."""
    t = result.total
    unsigned = len(result.unsigned_money_disagreements)
    failures = []
    if t.cases < policy.min_cases:
        failures.append(f"shadow.min_cases: {t.cases} sammenlignede saker, kravet er minst {policy.min_cases}")
    if len(result.runs) < policy.min_runs:
        failures.append(f"shadow.min_runs: {len(result.runs)} skyggekjøringer, kravet er minst {policy.min_runs}")
    if t.automatic_agreement < policy.min_agreement:
        failures.append(f"shadow.min_agreement: {fmt_percent(t.automatic_agreement)} enighet om det roboten ville gjort "
                        f"automatisk, kravet er minst {fmt_percent(policy.min_agreement)}")
    if unsigned > policy.max_unsigned_money_disagreements:
        failures.append(f"shadow.max_unsigned_money_disagreements: {unsigned} uenigheter om beløp er ikke "
                        f"godkjent av eieren, grensen er {policy.max_unsigned_money_disagreements}")
    figures = {"cases": t.cases, "runs": len(result.runs), "agreement": round(t.agreement, 4),
               "automatic_agreement": round(t.automatic_agreement, 4), "unsigned_money_disagreements": unsigned}
    return GateResult(not failures, failures, figures)


def sign_off(store: WorkQueueStore, process_id: str, key: str, verdict: str, signed_by: str, note: str = "") -> None:
    """The owner's judgement on one disagreement (a second one replaces the first; both are audited)."""
    if verdict not in SIGN_OFF_WORDS:
        raise ValueError(f"ukjent vurdering {verdict!r} (bruk {', '.join(SIGN_OFF_WORDS)})")
    now = datetime.now(UTC)
    with store.session() as s:
        s.execute(delete(ShadowSignOff).where(ShadowSignOff.process_id == process_id, ShadowSignOff.key == key))
        s.add(ShadowSignOff(process_id=process_id, key=key, verdict=verdict, note=note, signed_by=signed_by,
                            signed_at=now))
    store.audit(signed_by, "shadow_sign_off", process_id, details={"key": key, "verdict": verdict, "note": note})


def sign_offs(store: WorkQueueStore, process_id: str) -> dict[str, str]:
    with store.session() as s:
        return dict(s.execute(select(ShadowSignOff.key, ShadowSignOff.verdict)
                              .where(ShadowSignOff.process_id == process_id)).all())


def record_promotion(store: WorkQueueStore, process_id: str, actor: str, from_mode: str, to_mode: str,
                     hash_before: str, hash_after: str, figures: dict[str, Any]) -> None:
    """The change of mode, in the audit trail: who, when, and the definition before and after."""
    store.audit(actor, PROMOTED, process_id, details={"from": from_mode, "to": to_mode, "hash_before": hash_before,
                                                      "hash_after": hash_after, "figures": figures})


def promotions(store: WorkQueueStore, process_id: str) -> list[AuditEvent]:
    """Every change of a process's mode, oldest first."""
    with store.session() as s:
        rows = list(s.scalars(select(AuditEvent).where(AuditEvent.process_id == process_id,
                                                       AuditEvent.action == PROMOTED).order_by(AuditEvent.id)))
        s.expunge_all()
    return rows
