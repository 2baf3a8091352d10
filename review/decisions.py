"""The decisions a reviewer can take, in staff words, and how each is stored.

Which actions a case offers comes from its process definition (the category's `actions`);
this module knows what each action means, which extra field it needs, and turns a submitted
form into the structured decision the flow's next run applies (store.pending_decisions).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from config.process_definition import ExceptionCategory, ProcessDefinition
from connectors.identifiers import mask_fnrs_in_text
from review.formatting import fmt_date, fmt_kr, parse_amount
from workqueue.models import ExceptionCase
from workqueue.store import InvalidTransition, NotFound, WorkQueueStore

MAX_COMMENT = 2000


@dataclass(frozen=True)
class ActionSpec:
    code: str
    label: str
    help: str
    field: str | None = None  # "amount" | "voucher_number"
    bulk: bool = True  # may be taken on a selection from the queue


ACTIONS: dict[str, ActionSpec] = {a.code: a for a in [
    ActionSpec("approve_nav_amount", "Godkjenn NAVs beløp og utlign",
               "Kravet utlignes mot beløpet NAV har betalt. Du kan endre beløpet.", field="amount"),
    ActionSpec("write_off", "Avskriv differansen",
               "Differansen mellom krav og utbetaling avskrives; kravet lukkes."),
    ActionSpec("handled_manually", "Behandlet manuelt",
               "Du har ordnet saken selv i fagsystemet. Roboten gjør ikke mer med den."),
    ActionSpec("retry", "Send tilbake for ny kjøring",
               "Roboten prøver saken på nytt ved neste kjøring (for tekniske feil som er rettet)."),
    ActionSpec("choose_voucher", "Velg riktig bilag",
               "Dokumentet lastes opp til bilaget du velger.", field="voucher_number", bulk=False),
    ActionSpec("dismiss", "Avvis (ingen handling)",
               "Saken krever ingen handling, for eksempel en dobbel innlesing."),
]}

# Actions for a case whose category the definition does not know (e.g. ABANDONED items).
FALLBACK_ACTIONS = {"system": ["retry", "handled_manually", "dismiss"], "business": ["handled_manually", "dismiss"]}


class DecisionError(ValueError):
    """A decision that cannot be stored as submitted; the message is for staff."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


def spec(code: str) -> ActionSpec:
    return ACTIONS.get(code) or ActionSpec(code, code.replace("_", " ").capitalize(), "")


def category_of(definition: ProcessDefinition | None, code: str) -> ExceptionCategory | None:
    if definition is None:
        return None
    try:
        return definition.category(code)
    except KeyError:
        return None


def allowed_actions(definition: ProcessDefinition | None, case_kind: str, category: str) -> list[str]:
    cat = category_of(definition, category)
    if cat is not None:
        return list(cat.actions)
    return list(FALLBACK_ACTIONS.get(case_kind, FALLBACK_ACTIONS["business"]))


def case_data(case: ExceptionCase) -> dict[str, Any]:
    data = (case.evidence or {}).get("data")
    return data if isinstance(data, dict) else {}


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


def default_amount(case: ExceptionCase) -> float | None:
    """What NAV paid, to prefill 'approve the NAV amount': evidence.data.nav_amount (kroner), or
    nav_ore (øre, as the NAV flow keeps amounts), or else the case's amount."""
    data = case_data(case)
    try:
        if data.get("nav_amount") is not None:
            return float(data["nav_amount"])
        if data.get("nav_ore") is not None:
            return int(data["nav_ore"]) / 100
    except (TypeError, ValueError):
        pass
    return None if case.amount is None else float(case.amount)


def clean_comment(comment: str | None) -> str:
    """Required; an fnr typed into a comment is masked before it is stored (the case holds it)."""
    text = (comment or "").strip()
    if not text:
        raise DecisionError("Skriv en kommentar: hvorfor tar du denne beslutningen?", field="comment")
    if len(text) > MAX_COMMENT:
        raise DecisionError(f"Kommentaren er {len(text):,} tegn; grensen er {MAX_COMMENT:,} tegn. Kort den ned "
                            "(teksten din står fortsatt i feltet).".replace(",", "\u00a0"), field="comment")
    return mask_fnrs_in_text(text)


def build_decision(case: ExceptionCase, action: str, allowed: list[str], form: dict[str, str],
                   bulk: bool = False) -> dict[str, Any]:
    """The structured part of a decision (besides action and comment) from a submitted form."""
    if action not in allowed:
        raise DecisionError("Denne handlingen passer ikke for saken.", field="action")
    s = spec(action)
    if bulk and not s.bulk:
        raise DecisionError(f"«{s.label}» må gjøres på hver sak for seg.", field="action")
    decision: dict[str, Any] = {}
    if s.field == "amount":
        raw = (form.get("amount") or "").strip()
        if raw:
            amount = parse_amount(raw)
            if amount is None:
                raise DecisionError(f"«{raw}» er ikke et beløp. Skriv for eksempel 1 234,50.", field="amount")
        else:
            default = default_amount(case)
            if default is None:
                raise DecisionError("Skriv beløpet som skal utlignes.", field="amount")
            amount = Decimal(str(default))
        decision["amount"] = float(round(amount, 2))
    elif s.field == "voucher_number":
        chosen = (form.get("voucher_number") or "").strip()
        numbers = [n for n, _ in voucher_candidates(case)]
        if not chosen:
            raise DecisionError("Velg bilaget dokumentet skal knyttes til.", field="voucher_number")
        if numbers and chosen not in numbers:
            raise DecisionError("Velg et av bilagene i listen.", field="voucher_number")
        decision["voucher_number"] = chosen
    return decision


def apply(store: WorkQueueStore, case: ExceptionCase, actor: str, action: str, comment: str,
          decision: dict[str, Any]) -> ExceptionCase:
    """Store the decision; `retry` also puts the case's work item back in the queue."""
    if case.status not in ("open", "in_review"):
        raise DecisionError("Saken er allerede avsluttet. Last siden på nytt.")
    try:
        if action == "retry":
            if case.item_id is None:
                raise DecisionError("Saken har ikke noe arbeidselement roboten kan prøve på nytt. "
                                    "Velg «Behandlet manuelt» eller «Avvis».", field="action")
            store.retry_item_of_case(case.id, actor, comment)
        return store.decide(case.id, actor, action, comment, decision)
    except InvalidTransition as exc:
        raise DecisionError("Saken er allerede avsluttet av noen andre. Last siden på nytt.") from exc
    except NotFound as exc:  # pragma: no cover - deleted between read and write
        raise DecisionError("Saken finnes ikke lenger.") from exc
