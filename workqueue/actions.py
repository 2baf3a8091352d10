"""Declared decisions: what a reviewer may decide on a case, with its fields, bounds and
precondition, checked by ONE function both when the review app stores a decision and when the
flow's next run applies it.

Pure data and pure functions, importable by review/ and flows/ alike (they meet here). A process
declares its own actions in flows/<package>/actions.py; the kit's defaults (retry,
handled_manually, dismiss) are declared here, because the review app must render them even for a
process that has published nothing. Declarations reach the review app through the store
(`WorkQueueStore.publish_actions` / `declared_actions`), as JSON made by `to_json`.

Amounts in a decision are kroner (float with two decimals); evidence keys may hold øre
(`Ref.scale = 0.01`).

    check_decision(spec, decision, data, ...)  -> list[Problem]   bounds, choices, precondition
    approval_reasons(rules, spec, decision, data) -> list[str]    why a second person must approve
    recheck(spec, case, rules)                   -> list[Problem]   all of the above + staleness
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any, Literal, Protocol

from connectors.norwegian import (
    fmt_amount as kr,  # THE staff format for kroner: «1 234,50» (the checks add « kr»)
)

__all__ = [
    "FALLBACK_ACTIONS", "KIT_ACTIONS", "ActionSpec", "allowed_codes", "ApprovalRule", "FieldSpec", "Precondition", "Problem", "Ref",
    "action_amount", "approval_reasons", "check_decision", "default_value", "fingerprint", "from_json",
    "precondition_holds", "recheck", "to_json",
]


@dataclass(frozen=True)
class Ref:
    """A number a bound or default comes from: a constant, or a value in the case's evidence.data
    (`key`, dotted for nested dicts; `sum_of` sums `key` over a list such as claims)."""

    key: str = ""
    value: float | None = None
    scale: float = 1.0          # evidence in øre: 0.01
    minus: str = ""             # subtract this evidence key (same scale): e.g. claim - paid
    sum_of: str = ""            # evidence list to sum `key` over
    absolute: bool = False      # |value| (e.g. a negative line's size)
    label: str = ""             # Norwegian: "det NAV har betalt"

    def resolve(self, data: Mapping[str, Any]) -> Decimal | None:
        if self.value is not None:
            return Decimal(str(self.value))
        total = _lookup(data, self.key, self.sum_of)
        if total is None:
            return None
        if self.minus:
            other = _lookup(data, self.minus, "")
            if other is None:
                return None
            total -= other
        out = (total * Decimal(str(self.scale))).quantize(Decimal("0.01"))
        return abs(out) if self.absolute else out


def _number(v: Any) -> Decimal | None:
    """A number from evidence or a decision; a string may be written the Norwegian way (1 234,50)."""
    if v is None or isinstance(v, bool):
        return None
    if isinstance(v, str):
        v = v.replace("\u00a0", "").replace(" ", "").replace("kr", "").replace("−", "-")
        if "," in v:
            v = v.replace(".", "").replace(",", ".")
    try:
        d = Decimal(str(v))
    except (InvalidOperation, ValueError):
        return None
    return d if d.is_finite() else None


def _lookup(data: Mapping[str, Any], key: str, sum_of: str) -> Decimal | None:
    if sum_of:
        rows = data.get(sum_of)
        if not isinstance(rows, list) or not rows:
            return None
        values = [_number(r.get(key)) if isinstance(r, dict) else None for r in rows]
        return None if any(v is None for v in values) else sum(values, Decimal(0))  # type: ignore[arg-type]
    cur: Any = data
    for part in key.split("."):
        if not isinstance(cur, Mapping):
            return None
        cur = cur.get(part)
    return _number(cur)


@dataclass(frozen=True)
class FieldSpec:
    """One field of a decision form. `amount`: kroner, bounded by `min`/`max` (inclusive) and
    `positive`/`negative` (strict). `choice`: one of the evidence list `choices_from`'s `choice_key`."""

    name: str
    type: Literal["amount", "choice", "text"]
    label: str
    help: str = ""
    required: bool = True
    min: Ref | None = None
    max: Ref | None = None
    positive: bool = False
    negative: bool = False
    default: Ref | None = None
    choices_from: str = ""
    choice_key: str = "voucher_number"


@dataclass(frozen=True)
class Precondition:
    """What the case's evidence.data must hold for the action to be offered (and applied)."""

    nonempty: tuple[str, ...] = ()     # keys whose value must be a non-empty list/str/number != 0
    any_nonempty: tuple[str, ...] = ()  # at least one of these keys non-empty
    positive: tuple[str, ...] = ()     # numeric keys that must be > 0
    negative: tuple[str, ...] = ()     # numeric keys that must be < 0
    needs_item: bool = False           # the case has a work item (retry)
    kind: str = ""                     # only for this case kind (business | system)
    text: str = ""                     # Norwegian: why it may be missing ("saken har ikke krav og utbetaling")


@dataclass(frozen=True)
class ActionSpec:
    code: str
    label: str
    help: str
    fields: tuple[FieldSpec, ...] = ()
    precondition: Precondition = field(default_factory=Precondition)
    posts_money: bool = False       # applying it writes to the ledger: preview, four-eyes, re-check
    bulk: bool = True               # may be taken on a selection from the queue
    closes: Literal["resolved", "dismissed"] = "resolved"
    preview: str = ""               # Norwegian sentence shown before confirming (posting actions)

    def field(self, name: str) -> FieldSpec | None:
        return next((f for f in self.fields if f.name == name), None)

    @property
    def amount_field(self) -> FieldSpec | None:
        return next((f for f in self.fields if f.type == "amount"), None)


@dataclass(frozen=True)
class Problem:
    field: str      # a field name, "action", or "" for the decision as a whole
    message: str    # Norwegian, for staff and operators
    code: str = "invalid"  # bounds | choice | precondition | approval | stale | unknown | missing

    def __str__(self) -> str:
        return self.message


class ApprovalRule(Protocol):
    """A definition's `controls.approval[]` entry (config.process_definition.ApprovalRule)."""

    action: str
    above: float | None
    when_changed: str
    reason: str


# --------------------------------------------------------------------------- the kit's defaults

KIT_ACTIONS: dict[str, ActionSpec] = {a.code: a for a in (
    ActionSpec("retry", "Send tilbake for ny kjøring",
               "Roboten prøver saken på nytt ved neste kjøring (for tekniske feil som er rettet).",
               precondition=Precondition(needs_item=True,
                                         text="Saken har ikke noe arbeidselement roboten kan prøve på nytt. "
                                              "Velg «Behandlet manuelt» eller «Avvis».")),
    ActionSpec("handled_manually", "Behandlet manuelt",
               "Du har ordnet saken selv i fagsystemet. Roboten gjør ikke mer med den."),
    ActionSpec("dismiss", "Avvis (ingen handling)",
               "Saken krever ingen handling, for eksempel en dobbel innlesing.", closes="dismissed"),
)}


# Actions for a case whose category the definition does not know (e.g. ABANDONED items).
FALLBACK_ACTIONS = {"system": ("retry", "handled_manually", "dismiss"), "business": ("handled_manually", "dismiss")}


def allowed_codes(category_actions: Sequence[str] | None, kind: str) -> list[str]:
    """The action codes a case may take: its category's list, else the fallback for its kind."""
    if category_actions is not None:
        return list(category_actions)
    return list(FALLBACK_ACTIONS.get(str(kind), FALLBACK_ACTIONS["business"]))


# --------------------------------------------------------------------------- serialisation

def to_json(specs: Iterable[ActionSpec]) -> list[dict[str, Any]]:
    return [asdict(s) for s in specs]


def _ref(d: dict[str, Any] | None) -> Ref | None:
    return Ref(**d) if isinstance(d, dict) else None


def from_json(rows: Sequence[dict[str, Any]]) -> dict[str, ActionSpec]:
    out: dict[str, ActionSpec] = {}
    for r in rows:
        fields = tuple(FieldSpec(**{**f, "min": _ref(f.get("min")), "max": _ref(f.get("max")),
                                    "default": _ref(f.get("default"))}) for f in r.get("fields") or [])
        pre = r.get("precondition") or {}
        pre = Precondition(**{k: tuple(v) if isinstance(v, list) else v for k, v in pre.items()})
        out[r["code"]] = ActionSpec(**{**r, "fields": fields, "precondition": pre})
    return out


# --------------------------------------------------------------------------- checks

def _truthy(v: Any) -> bool:
    if isinstance(v, list | tuple | dict | str):
        return bool(v)
    n = _number(v)
    return n is not None and n != 0


def precondition_holds(spec: ActionSpec, data: Mapping[str, Any], has_item: bool = True,
                       kind: str = "") -> Problem | None:
    """None when the action can be applied to a case with this evidence; else why not."""
    p = spec.precondition
    why = p.text or f"«{spec.label}» passer ikke for denne saken."
    if p.needs_item and not has_item:
        return Problem("action", why, "precondition")
    if p.kind and kind and p.kind != kind:
        return Problem("action", why, "precondition")
    if any(not _truthy(data.get(k)) for k in p.nonempty):
        return Problem("action", why, "precondition")
    if p.any_nonempty and not any(_truthy(data.get(k)) for k in p.any_nonempty):
        return Problem("action", why, "precondition")
    for keys, ok in ((p.positive, lambda n: n > 0), (p.negative, lambda n: n < 0)):
        for k in keys:
            n = _number(data.get(k))
            if n is None or not ok(n):
                return Problem("action", why, "precondition")
    return None


def default_value(f: FieldSpec, data: Mapping[str, Any]) -> Decimal | None:
    return f.default.resolve(data) if f.default else None


def choices(f: FieldSpec, data: Mapping[str, Any]) -> list[str]:
    """The values a choice field accepts: `choices_from` names evidence keys (comma-separated), each
    a list of candidates or one candidate (a dict)."""
    rows: list[Any] = []
    for key in f.choices_from.split(","):
        value = data.get(key.strip())
        rows += value if isinstance(value, list) else [value] if isinstance(value, dict) else []
    out = []
    for c in rows:
        value = c.get(f.choice_key) or c.get("bilagsnummer") or c.get("id") if isinstance(c, dict) else c
        if value not in (None, ""):
            out.append(str(value))
    return out


def bounds_text(f: FieldSpec, data: Mapping[str, Any]) -> str:
    """'Mellom 0,01 og 26 114,00 kr (det NAV har betalt)' for the form, next to the field."""
    lo = f.min.resolve(data) if f.min else None
    hi = f.max.resolve(data) if f.max else None
    parts = []
    if f.positive:
        parts.append("større enn 0")
    if f.negative:
        parts.append("mindre enn 0 (et trekk)")
    if lo is not None:
        parts.append(f"minst {kr(lo)} kr" + (f" ({f.min.label})" if f.min and f.min.label else ""))
    if hi is not None:
        parts.append(f"høyst {kr(hi)} kr" + (f" ({f.max.label})" if f.max and f.max.label else ""))
    return ("Beløpet må være " + " og ".join(parts) + ".") if parts else ""


def check_decision(spec: ActionSpec, decision: Mapping[str, Any], data: Mapping[str, Any],
                   has_item: bool = True, kind: str = "") -> list[Problem]:
    """Every reason the decision may not be stored or applied as it stands (empty: it is fine)."""
    problems: list[Problem] = []
    pre = precondition_holds(spec, data, has_item, kind)
    if pre is not None:
        return [pre]
    for f in spec.fields:
        raw = decision.get(f.name)
        if raw in (None, ""):
            if f.required:
                problems.append(Problem(f.name, f"Fyll ut «{f.label}».", "missing"))
            continue
        if f.type == "amount":
            value = _number(raw)
            if value is None:
                problems.append(Problem(f.name, f"«{raw}» er ikke et beløp. Skriv for eksempel 1 234,50.", "bounds"))
                continue
            lo = f.min.resolve(data) if f.min else None
            hi = f.max.resolve(data) if f.max else None
            if (f.min and lo is None) or (f.max and hi is None):
                problems.append(Problem(f.name, f"Saken mangler grunnlaget for «{f.label}»: beløpet kan ikke "
                                                "kontrolleres.", "bounds"))
                continue
            where = bounds_text(f, data)
            if f.positive and value <= 0:
                problems.append(Problem(f.name, f"{f.label} kan ikke være {kr(value)} kr. {where}", "bounds"))
            elif f.negative and value >= 0:
                problems.append(Problem(f.name, f"{f.label} må være et trekk (negativt), ikke {kr(value)} kr. "
                                                f"{where}", "bounds"))
            elif lo is not None and value < lo:
                problems.append(Problem(f.name, f"{f.label} {kr(value)} kr er under grensen. {where}", "bounds"))
            elif hi is not None and value > hi:
                problems.append(Problem(f.name, f"{f.label} {kr(value)} kr er over grensen. {where}", "bounds"))
        elif f.type == "choice":
            allowed = choices(f, data)
            if str(raw) not in allowed:
                problems.append(Problem(f.name, f"Velg et av alternativene i listen for «{f.label}».", "choice"))
    return problems


def action_amount(spec: ActionSpec, decision: Mapping[str, Any]) -> Decimal | None:
    f = spec.amount_field
    return _number(decision.get(f.name)) if f else None


def approval_reasons(rules: Iterable[ApprovalRule], spec: ActionSpec, decision: Mapping[str, Any],
                     data: Mapping[str, Any]) -> list[str]:
    """Why this decision needs a second person (attestant), from the definition's limits."""
    reasons = []
    amount = action_amount(spec, decision)
    for r in rules:
        if r.action not in ("*", spec.code):
            continue
        if r.above is not None and amount is not None and abs(amount) > Decimal(str(r.above)):
            reasons.append(r.reason or f"Beløpet er over {kr(r.above)} kr")
        if r.when_changed:
            f = spec.field(r.when_changed)
            default = default_value(f, data) if f else None
            value = _number(decision.get(r.when_changed))
            if f is not None and value is not None and default is not None and value != default:
                reasons.append(r.reason or f"«{f.label}» avviker fra det foreslåtte beløpet")
    return reasons


def fingerprint(case: Any) -> str:
    """What the decider saw: category, amount and evidence. A later change makes the decision stale."""
    body = json.dumps({"category": case.category, "amount": case.amount, "evidence": case.evidence or {}},
                      sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(body.encode()).hexdigest()


def case_data(case: Any) -> dict[str, Any]:
    data = (case.evidence or {}).get("data")
    return data if isinstance(data, dict) else {}


def recheck(spec: ActionSpec | None, case: Any, rules: Iterable[ApprovalRule] = (),
            allowed: Sequence[str] | None = None) -> list[Problem]:
    """What the applying run checks again before it acts: the action is declared and allowed for the
    category, the decision is within its bounds and precondition, approved where the limits ask for
    it, and the case has not changed since the decision was taken."""
    decision = case.decision or {}
    action = str(decision.get("action", ""))
    if spec is None:
        return [Problem("action", f"Handlingen «{action}» er ikke erklært av prosessen.", "unknown")]
    if allowed is not None and action not in allowed:
        return [Problem("action", f"Handlingen «{spec.label}» er ikke tillatt for kategorien {case.category}.",
                        "unknown")]
    data = case_data(case)
    problems = check_decision(spec, decision, data, has_item=case.item_id is not None, kind=str(case.kind))
    if spec.posts_money or spec.fields:
        basis = getattr(case, "decision_basis", None)
        if not basis:
            problems.append(Problem("", "Beslutningen mangler kontrollsummen for saken den gjelder (lagret utenom "
                                        "avvikskøen?)", "stale"))
        elif basis != fingerprint(case):
            problems.append(Problem("", "Saken er endret etter at beslutningen ble tatt: beslutningen er utdatert",
                                    "stale"))
    reasons = approval_reasons(rules, spec, decision, data)
    if reasons and not getattr(case, "approved_by", None):
        problems.append(Problem("", "Beslutningen krever godkjenning av en attestant, men er ikke godkjent ("
                                    + "; ".join(reasons) + ")", "approval"))
    if reasons and getattr(case, "approved_by", None) == case.decided_by:
        problems.append(Problem("", "Beslutningen er godkjent av den samme personen som tok den", "approval"))
    return problems
