"""Reviewers' decisions, applied once by the next run, through the actions the process declares.

The kit owns the defaults (`retry`, `handled_manually`, `dismiss`, declared in
workqueue.actions.KIT_ACTIONS); a process declares only its own actions
(flows/<package>/actions.py: `ACTIONS`) and passes a handler per own action. Before acting, every
pending decision is checked again with the same function the review app used
(workqueue.actions.recheck: declared and allowed, bounds, precondition, approval by an attestant
where the definition's `controls.approval` asks for it, the case unchanged since). A refused
decision is not applied: its case opens again and a DECISION_REFUSED system case tells the
operators why. So a bug, a direct database edit or an old decision never posts money.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from config.process_definition import ProcessDefinition
from flows.kit.context import RunContext
from workqueue.actions import KIT_ACTIONS, ActionSpec, action_amount, allowed_codes, recheck, to_json
from workqueue.models import CaseKind, ExceptionCase, ItemStatus
from workqueue.store import InvalidTransition, NewCase, WorkQueueStore

__all__ = ["REFUSED_CATEGORY", "AppliedDecisions", "Handler", "Refusal", "amount_ore", "apply_decisions", "close_case",
           "declared", "publish_actions"]

ROBOT = "robot"
REFUSED_CATEGORY = "DECISION_REFUSED"

# What applying one decision does; returns details for the audit trail (or None).
Handler = Callable[[ExceptionCase, dict[str, Any]], dict[str, Any] | None]


@dataclass
class Refusal:
    case_id: int
    reference: str
    action: str
    reasons: list[str]

    def as_dict(self) -> dict[str, Any]:
        return {"case_id": self.case_id, "reference": self.reference, "action": self.action,
                "reasons": self.reasons}


@dataclass
class AppliedDecisions:
    applied: int = 0
    by_action: Counter = field(default_factory=Counter)
    requeued: list[str] = field(default_factory=list)   # item references sent back to the queue
    refused: list[Refusal] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        """For `--json` and the run summary."""
        return {"decisions_applied": self.applied, "decisions_refused": [r.as_dict() for r in self.refused]}


def declared(own: Mapping[str, ActionSpec]) -> dict[str, ActionSpec]:
    """The kit's defaults plus the process's own actions (a process may not redefine a default)."""
    clash = set(own) & set(KIT_ACTIONS)
    if clash:
        raise ValueError(f"actions {sorted(clash)} are the kit's defaults; a process declares only its own")
    return {**KIT_ACTIONS, **own}


def publish_actions(store: WorkQueueStore, process_id: str, own: Mapping[str, ActionSpec]) -> None:
    """Make the declarations readable for the review app (it imports no flow code)."""
    store.publish_actions(process_id, to_json(declared(own).values()))


def _category_actions(definition: ProcessDefinition, code: str) -> list[str] | None:
    try:
        return list(definition.category(code).actions)
    except KeyError:
        return None


def amount_ore(own: Mapping[str, ActionSpec], decision: Mapping[str, Any]) -> int | None:
    """The decision's amount (kroner, read the way the check read it) in øre; None when it has none."""
    amount = action_amount(declared(own)[decision["action"]], decision)
    return None if amount is None else int(round(amount * 100))


def close_case(ctx: RunContext, case_id: int, action: str, comment: str, details: dict[str, Any]) -> None:
    """The process's robot (`robot:<process>` in the audit trail) closes a case itself: replaced by a
    newer case, or settled by what came in."""
    robot = f"{ROBOT}:{ctx.process_id}"
    ctx.store.decide(case_id, robot, action, comment)
    ctx.store.mark_decision_applied(case_id, robot, details)


def _retry(store: WorkQueueStore, result: AppliedDecisions, comment: str = "") -> Handler:
    def retry(case: ExceptionCase, decision: dict[str, Any]) -> dict[str, Any]:
        # Applied once, here: the review app only stores the decision. An item already back in
        # the queue (a crash after requeue, before mark_decision_applied) is left as it is.
        item = store.get_item(case.item_id) if case.item_id is not None else None
        if item is None:
            return {"note": "no work item"}
        if item.status in (ItemStatus.business_exception, ItemStatus.failed):
            store.retry_item_of_case(case.id, ROBOT, comment or decision.get("comment") or "Prøves igjen etter beslutning")
            result.requeued.append(item.reference)
            return {"requeued_item": item.id}
        return {"note": f"item already {item.status}"}
    return retry


def apply_decisions(store: WorkQueueStore, definition: ProcessDefinition, own: Mapping[str, ActionSpec],
                    handlers: Mapping[str, Handler] | None = None, run_id: str | None = None,
                    cases: Iterable[ExceptionCase] | None = None, *, requeue: Iterable[str] = (),
                    release: Mapping[str, str] | None = None) -> AppliedDecisions:
    """Check and apply every pending decision of the process once; refuse what fails the check.
    `requeue`: the process's own actions that, like `retry`, send the case's item back to the queue
    (its handler then reads the decision, e.g. «Utsted likevel»). `release`: categories whose case
    holds its item until a person has looked (NAV: a report held for a bank mismatch): closing the
    case (`handled_manually`, `dismiss`) sends the item back, with the comment given here."""
    specs = declared(own)
    publish_actions(store, definition.id, own)
    result = AppliedDecisions()
    defaults: dict[str, Handler] = {code: _retry(store, result) for code in ("retry", *requeue)}
    handlers = {**defaults, **(handlers or {})}
    releases = {category: _retry(store, result, comment) for category, comment in (release or {}).items()}
    for case in store.pending_decisions(definition.id) if cases is None else cases:
        decision = dict(case.decision or {})
        action = str(decision.get("action", ""))
        allowed = allowed_codes(_category_actions(definition, case.category), case.kind)
        problems = recheck(specs.get(action), case, definition.controls.approval, allowed)
        if problems:
            _refuse(store, definition, case, action, [p.message for p in problems], run_id, result)
            continue
        handler = handlers.get(action)
        if action in ("handled_manually", "dismiss") and case.category in releases:
            handler = releases[case.category]
        details = (handler(case, decision) if handler else None) or {}
        store.mark_decision_applied(case.id, ROBOT, {"action": action, "run_id": run_id, **details})
        result.applied += 1
        result.by_action[action] += 1
    return result


def _refuse(store: WorkQueueStore, definition: ProcessDefinition, case: ExceptionCase, action: str,
            reasons: list[str], run_id: str | None, result: AppliedDecisions) -> None:
    try:
        store.refuse_decision(case.id, ROBOT, reasons, run_id)
    except InvalidTransition:  # applied meanwhile by another run: nothing to refuse
        return
    who = case.decided_by or "ukjent"
    text = (f"Beslutningen «{action}» på sak {case.id} ({case.reference}), tatt av {who}, ble ikke utført: "
            + "; ".join(reasons) + ". Saken er åpnet igjen for en ny beslutning.")
    store.open_case(definition.id, f"beslutning:{case.id}", NewCase(
        REFUSED_CATEGORY, text, evidence={
            "sections": [{"title": "Hvorfor beslutningen ble stoppet", "text": "\n".join(reasons)}],
            "data": {"case_id": case.id, "action": action, "decision": case.decision, "reasons": reasons,
                     "decided_by": case.decided_by, "run_id": run_id}},
        search_text=f"{case.reference} sak {case.id}", org_unit=case.org_unit,
        sla_hours=_sla(definition, REFUSED_CATEGORY)), kind=CaseKind.system)
    result.refused.append(Refusal(case.id, case.reference, action, reasons))


def _sla(definition: ProcessDefinition, code: str) -> float | None:
    """The category's SLA when the definition lists it, else a day (operators follow up)."""
    try:
        return definition.category(code).sla_hours
    except KeyError:
        return 24.0
