"""The decisions a reviewer can take, in staff words, checked before they are stored.

Which actions a case offers: its category's `actions` in the process definition, as declared by
the process (published in the store by the process kit: workqueue.actions), and only where the
action's precondition holds for the case's evidence. A submitted form is checked with the same
function the applying run uses again (workqueue.actions.check_decision); a decision above a limit
in the definition's `controls.approval` waits for an attestant.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from config.process_definition import ExceptionCategory, ProcessDefinition
from connectors.identifiers import mask_fnrs_in_text
from review.formatting import fmt_amount, fmt_date, fmt_int, fmt_kr, parse_amount
from workqueue import actions as wa
from workqueue.models import OPEN_CASE_STATUSES, ExceptionCase
from workqueue.store import InvalidTransition, NotFound, WorkQueueStore

MAX_COMMENT = 2000
ActionSpec = wa.ActionSpec
FALLBACK_ACTIONS = wa.FALLBACK_ACTIONS

# Every label seen in a published declaration, for history lines and the decided-case box.
_KNOWN: dict[str, wa.ActionSpec] = dict(wa.KIT_ACTIONS)


class DecisionError(ValueError):
    """A decision that cannot be stored as submitted; the message is for staff."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


def registry(store: WorkQueueStore) -> dict[str, dict[str, wa.ActionSpec]]:
    """process id -> its declared actions (the kit's defaults included), as published in the store."""
    out: dict[str, dict[str, wa.ActionSpec]] = {}
    for pid, rows in store.declared_actions().items():
        try:
            out[pid] = {**wa.KIT_ACTIONS, **wa.from_json(rows)}
        except (TypeError, KeyError):  # a declaration from another version: defaults only
            out[pid] = dict(wa.KIT_ACTIONS)
        _KNOWN.update(out[pid])
    return out


def spec(code: str) -> wa.ActionSpec:
    return _KNOWN.get(code) or wa.ActionSpec(code, code.replace("_", " ").capitalize(), "")


def category_of(definition: ProcessDefinition | None, code: str) -> ExceptionCategory | None:
    if definition is None:
        return None
    try:
        return definition.category(code)
    except KeyError:
        return None


def allowed_actions(definition: ProcessDefinition | None, case_kind: str, category: str) -> list[str]:
    cat = category_of(definition, category)
    return wa.allowed_codes(list(cat.actions) if cat is not None else None, case_kind)


def case_data(case: ExceptionCase) -> dict[str, Any]:
    return wa.case_data(case)


@dataclass
class FieldView:
    spec: wa.FieldSpec
    input_name: str      # "<action>.<field>"
    input_id: str
    default: str         # formatted for the input
    bounds: str          # "Beløpet må være større enn 0 og høyst 26 114,00 kr (det NAV har betalt)."
    choices: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class Offer:
    spec: wa.ActionSpec
    fields: list[FieldView]
    approval: list[str]   # why a decision with the proposed values would need an attestant (may be empty)

    @property
    def code(self) -> str:
        return self.spec.code

    @property
    def label(self) -> str:
        return self.spec.label

    @property
    def help(self) -> str:
        return self.spec.help


def offers(store: WorkQueueStore, definition: ProcessDefinition | None, case: ExceptionCase,
           declared: dict[str, dict[str, wa.ActionSpec]] | None = None) -> list[Offer]:
    """The actions this case offers: allowed for its category, declared, precondition holds."""
    declared = registry(store) if declared is None else declared
    specs = declared.get(case.process_id, wa.KIT_ACTIONS)
    data = case_data(case)
    out = []
    for code in allowed_actions(definition, case.kind, case.category):
        s = specs.get(code)
        if s is None or wa.precondition_holds(s, data, case.item_id is not None, str(case.kind)) is not None:
            continue
        views = []
        for f in s.fields:
            default = wa.default_value(f, data)
            labels = dict(voucher_candidates(case)) if f.type == "choice" else {}
            choices = [(n, labels.get(n, f"Bilag {n}")) for n in wa.choices(f, data)] if f.type == "choice" else []
            views.append(FieldView(f, f"{code}.{f.name}", f"f-{code}-{f.name}",
                                   fmt_amount(float(default)) if default is not None else "",
                                   wa.bounds_text(f, data) if f.type == "amount" else "", choices))
        rules = definition.controls.approval if definition else []
        proposed = {f.spec.name: f.default for f in views}
        out.append(Offer(s, views, wa.approval_reasons(rules, s, proposed, data)))
    return out


def voucher_candidates(case: ExceptionCase) -> list[tuple[str, str]]:
    """(voucher number, label) pairs from evidence.data.candidates (strings or dicts)."""
    out: list[tuple[str, str]] = []
    for c in case_data(case).get("candidates") or []:
        if isinstance(c, dict):
            number = str(c.get("voucher_number") or c.get("bilagsnummer") or c.get("id") or "")
            label = str(c.get("label") or c.get("description") or "")
            if not label:
                parts = [f"Bilag {number}"]
                for key in ("supplier_name", "supplier", "leverandor"):
                    if c.get(key):
                        parts.append(str(c[key]))
                        break
                for key in ("invoice_number", "fakturanummer"):
                    if c.get(key):
                        parts.append(f"faktura {c[key]}")
                        break
                if c.get("voucher_date"):
                    try:
                        parts.append(fmt_date(date.fromisoformat(str(c["voucher_date"])[:10])))
                    except ValueError:
                        parts.append(str(c["voucher_date"]))
                if c.get("amount") is not None:
                    try:
                        parts.append(fmt_kr(float(c["amount"])))
                    except (TypeError, ValueError):
                        parts.append(str(c["amount"]))
                label = " · ".join(parts)
        else:
            number, label = str(c), f"Bilag {c}"
        if number:
            out.append((number, mask_fnrs_in_text(label)))
    return out


def clean_comment(comment: str | None) -> str:
    """Required; an fnr typed into a comment is masked before it is stored (the case holds it)."""
    text = (comment or "").strip()
    if not text:
        raise DecisionError("Skriv en kommentar: hvorfor tar du denne beslutningen?", field="comment")
    if len(text) > MAX_COMMENT:
        raise DecisionError(f"Kommentaren er {fmt_int(len(text))} tegn; grensen er {fmt_int(MAX_COMMENT)} tegn. Kort den "
                            "ned (teksten din står fortsatt i feltet).", field="comment")
    return mask_fnrs_in_text(text)


def build_decision(case: ExceptionCase, action: str, offered: list[Offer], form: dict[str, str],
                   bulk: bool = False, definition: ProcessDefinition | None = None) -> dict[str, Any]:
    """The structured part of a decision (besides action and comment) from a submitted form,
    checked against the declaration: DecisionError names the field and says what to fix."""
    offer = next((o for o in offered if o.code == action), None)
    if offer is None:
        known = _KNOWN.get(action)
        if known is not None and action in allowed_actions(definition, case.kind, case.category):
            pre = wa.precondition_holds(known, case_data(case), case.item_id is not None, str(case.kind))
            if pre is not None:  # allowed for the category, but not for this case: say why
                raise DecisionError(pre.message, field="action")
        raise DecisionError("Denne handlingen passer ikke for saken.", field="action")
    s = offer.spec
    if bulk and not s.bulk:
        raise DecisionError(f"«{s.label}» må gjøres på hver sak for seg.", field="action")
    decision: dict[str, Any] = {}
    for fv in offer.fields:
        f = fv.spec
        raw = (form.get(fv.input_name) or form.get(f.name) or "").strip()
        if f.type == "amount":
            if raw:
                amount = parse_amount(raw)
                if amount is None:
                    raise DecisionError(f"«{raw}» er ikke et beløp. Skriv for eksempel 1 234,50.", field=f.name)
            else:
                default = wa.default_value(f, case_data(case))
                if default is None:
                    raise DecisionError(f"Skriv {f.label[0].lower() + f.label[1:]}.", field=f.name)
                amount = Decimal(default)
            decision[f.name] = float(round(amount, 2))
        elif raw:
            decision[f.name] = raw
    problems = wa.check_decision(s, decision, case_data(case), case.item_id is not None, str(case.kind))
    if problems:
        raise DecisionError(problems[0].message, field=problems[0].field or "general")
    return decision


def approval_needed(definition: ProcessDefinition | None, case: ExceptionCase, action: str,
                    decision: dict[str, Any], offered: list[Offer]) -> list[str]:
    offer = next((o for o in offered if o.code == action), None)
    if offer is None or definition is None:
        return []
    return wa.approval_reasons(definition.controls.approval, offer.spec, decision, case_data(case))


def apply(store: WorkQueueStore, case: ExceptionCase, actor: str, action: str, comment: str,
          decision: dict[str, Any], needs_approval: bool = False) -> ExceptionCase:
    """Store the decision. Nothing is executed here: the process's next run checks it again and
    applies it once (a `retry` puts the work item back in the queue then)."""
    if case.status not in OPEN_CASE_STATUSES:
        raise DecisionError("Saken er allerede avsluttet. Last siden på nytt.")
    try:
        return store.decide(case.id, actor, action, comment, decision, needs_approval=needs_approval)
    except InvalidTransition as exc:
        raise DecisionError("Saken er allerede avsluttet av noen andre. Last siden på nytt.") from exc
    except NotFound as exc:  # pragma: no cover - deleted between read and write
        raise DecisionError("Saken finnes ikke lenger.") from exc
