"""Exception cases: evidence and attachments, assignment, decisions that flow back to the next
run, reopen, send-back-for-retry, and the append-only audit trail of every state change.
Runs on SQLite and PostgreSQL (the `store` fixture)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import delete, select, update

from workqueue.models import AppendOnlyError, AuditEvent, CaseKind, CaseStatus, ItemStatus
from workqueue.store import Backoff, InvalidTransition, NewCase, NewItem, NotFound, utcnow

P = "test-process"
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 40  # binary, with every byte value


def trail(store, case_id, item_id=None):
    return [(e.action, e.actor, e.from_status, e.to_status)
            for e in store.audit_trail(case_id=case_id, item_id=item_id)]


def failed_item_case(store, reference="F-1"):
    item, _ = store.add(P, NewItem(reference))
    store.claim(P, worker="w")
    case = store.system_exception(item.id, "Tidsavbrudd mot NAV", Backoff(max_attempts=1))
    return item, case


# ---------------------------------------------------------------- opening and reading

def test_case_keeps_evidence_and_attachments(store):
    case = store.open_case(P, "K27-77", NewCase(
        "BANK_TOTAL_MISMATCH", "Summen i rapporten (1 234,50) stemmer ikke med banken (1 200,00)",
        evidence={"rapport": {"sum": 1234.5}, "bank": {"sum": 1200.0}, "linjer": [1, 2, 3]},
        org_unit="Økonomiseksjonen", amount=34.5, search_text="K27-77 1234,50", sla_hours=48,
        attachments=[("skjermbilde.png", "image/png", PNG), ("spor.zip", "application/zip", b"PK\x03\x04")]))
    stored = store.get_case(case.id)
    assert stored.message.startswith("Summen i rapporten (1 234,50)")
    assert stored.evidence == {"rapport": {"sum": 1234.5}, "bank": {"sum": 1200.0}, "linjer": [1, 2, 3]}
    assert (stored.org_unit, stored.amount, stored.kind, stored.status) == (
        "Økonomiseksjonen", 34.5, CaseKind.business, CaseStatus.open)
    assert stored.due_at - stored.created_at == timedelta(hours=48)
    files = store.case_attachments(case.id)
    assert [(f.filename, f.media_type, f.size) for f in files] == [
        ("skjermbilde.png", "image/png", len(PNG)), ("spor.zip", "application/zip", 4)]
    assert files[0].content == PNG and files[1].content == b"PK\x03\x04"


def test_cases_filter_by_process_status_and_category(store):
    store.open_cases_many(P, [(f"L-{n}", NewCase("GRADE" if n % 2 else "DUPLICATE", f"linje {n}"))
                              for n in range(6)])
    store.open_case("other", "X", NewCase("GRADE", "annen prosess"))
    assert len(store.cases(P)) == 6
    assert [c.reference for c in store.cases(P, category="GRADE")] == ["L-1", "L-3", "L-5"]
    first = store.cases(P, limit=1)[0]
    store.decide(first.id, "hr-1", "dismiss", "Dobbel innlesing")
    assert len(store.cases(P, status="open")) == 5
    assert len(store.cases(P, status=["open", "dismissed"])) == 6
    assert len(store.cases(status="open")) == 6  # every process


def test_unknown_case_is_not_found(store):
    with pytest.raises(NotFound):
        store.get_case(424242)
    with pytest.raises(NotFound):
        store.decide(424242, "hr", "dismiss", "x")


# ---------------------------------------------------------------- review lifecycle

def test_assign_decide_and_apply(store):
    case = store.open_case(P, "K-1", NewCase("GRADE", "Gradert sykmelding"))
    store.assign(case.id, "kari", actor="kari")
    assert store.get_case(case.id).status == CaseStatus.in_review
    with pytest.raises(InvalidTransition):
        store.decide(case.id, "kari", "approve_nav_amount", "   ")  # a decision needs a comment
    decided = store.decide(case.id, "kari", "approve_nav_amount", " Godkjent etter kontroll ",
                           decision={"amount": 10000.0, "action": "ignored"})
    assert decided.status == CaseStatus.resolved
    assert decided.decision == {"amount": 10000.0, "action": "approve_nav_amount",
                                "comment": "Godkjent etter kontroll"}
    assert decided.decided_by == "kari" and decided.decided_at is not None

    assert [c.id for c in store.pending_decisions(P)] == [case.id]
    assert store.pending_decisions("other") == []
    store.mark_decision_applied(case.id, "robot", details={"bilag": "U-9"})
    store.mark_decision_applied(case.id, "robot")  # idempotent: a re-run does not apply twice
    assert store.pending_decisions(P) == []
    assert store.get_case(case.id).decision_applied_at is not None

    assert trail(store, case.id) == [
        ("case.opened", "system", None, "open"),
        ("case.assigned", "kari", "open", "in_review"),
        ("case.decided", "kari", "in_review", "resolved"),
        ("case.decision_applied", "robot", None, None)]
    assert store.audit_trail(case_id=case.id)[-1].details == {"bilag": "U-9"}


def test_dismiss_closes_as_dismissed_and_is_still_applied_by_the_next_run(store):
    case = store.open_case(P, "K-2", NewCase("DUPLICATE", "Dobbel linje"))
    assert store.decide(case.id, "hr", "dismiss", "Allerede behandlet").status == CaseStatus.dismissed
    assert [c.id for c in store.pending_decisions(P)] == [case.id]


def test_unassign_returns_the_case_to_the_queue(store):
    case = store.open_case(P, "K-3", NewCase("GRADE", "x"))
    store.assign(case.id, "kari", actor="kari")
    store.assign(case.id, "ola", actor="leder")
    store.assign(case.id, None, actor="ola")
    stored = store.get_case(case.id)
    assert stored.status == CaseStatus.open and stored.assignee is None
    assert [e[2:] for e in trail(store, case.id)][1:] == [("open", "in_review"), ("in_review", "in_review"),
                                                           ("in_review", "open")]


def test_decided_cases_are_final_until_reopened(store):
    case = store.open_case(P, "K-4", NewCase("GRADE", "x"))
    store.decide(case.id, "kari", "write_off", "Avskrives")
    with pytest.raises(InvalidTransition):
        store.decide(case.id, "ola", "approve_nav_amount", "Nei, godkjenn")
    with pytest.raises(InvalidTransition):
        store.assign(case.id, "ola", actor="ola")
    reopened = store.reopen(case.id, "leder", "Feil vurdering")
    assert (reopened.status, reopened.decision, reopened.decided_by) == (CaseStatus.open, None, None)
    assert store.pending_decisions(P) == []
    store.decide(case.id, "ola", "approve_nav_amount", "Godkjent")
    assert store.get_case(case.id).decision["action"] == "approve_nav_amount"
    assert [e[0] for e in trail(store, case.id)] == ["case.opened", "case.decided", "case.reopened", "case.decided"]


def test_reopen_is_refused_for_open_cases_and_applied_decisions(store):
    case = store.open_case(P, "K-5", NewCase("GRADE", "x"))
    with pytest.raises(InvalidTransition):
        store.reopen(case.id, "leder", "hva?")
    with pytest.raises(InvalidTransition):
        store.mark_decision_applied(case.id, "robot")  # nothing decided yet
    store.decide(case.id, "kari", "write_off", "Avskrives")
    store.mark_decision_applied(case.id, "robot")
    with pytest.raises(InvalidTransition):
        store.reopen(case.id, "leder", "for sent")


# ---------------------------------------------------------------- send back for retry

def test_retry_item_of_case_requeues_with_fresh_attempts(store):
    item, case = failed_item_case(store)
    assert store.get_item(item.id).status == ItemStatus.failed
    requeued = store.retry_item_of_case(case.id, "drift", "NAV er oppe igjen")
    assert (requeued.status, requeued.attempts, requeued.not_before, requeued.finished_at) == (
        ItemStatus.new, 0, None, None)
    [claimed] = store.claim(P, worker="w2")
    assert claimed.id == item.id and claimed.attempts == 1
    store.complete(item.id, {"ok": True}, worker="w2")
    events = [(e.action, e.from_status, e.to_status) for e in store.audit_trail(case_id=case.id, item_id=item.id)]
    assert events == [("item.claimed", "new", "in_progress"), ("item.failed", "in_progress", "failed"),
                      ("case.opened", None, "open"), ("item.requeued", "failed", "new"),
                      ("item.claimed", "new", "in_progress"), ("item.completed", "in_progress", "done")]


def test_retry_item_of_case_after_a_business_exception(store):
    item, _ = store.add(P, NewItem("B-9"))
    store.claim(P)
    case = store.business_exception(item.id, NewCase("UNKNOWN_EMPLOYEE", "Ukjent ansatt"))
    store.retry_item_of_case(case.id, "hr", "Ansatt registrert i HR nå")
    assert store.get_item(item.id).status == ItemStatus.new


def test_retry_item_of_case_is_refused_when_it_makes_no_sense(store):
    item, case = failed_item_case(store)
    store.retry_item_of_case(case.id, "drift", "igjen")
    with pytest.raises(InvalidTransition):  # already waiting
        store.retry_item_of_case(case.id, "drift", "igjen")
    store.claim(P)
    store.complete(item.id)
    with pytest.raises(InvalidTransition):  # done is final
        store.retry_item_of_case(case.id, "drift", "igjen")
    loose = store.open_case(P, "report", NewCase("BANK_TOTAL_MISMATCH", "x"))
    with pytest.raises(InvalidTransition):  # no item behind it
        store.retry_item_of_case(loose.id, "drift", "igjen")


# ---------------------------------------------------------------- audit trail

def test_every_state_change_has_an_audit_event(store):
    """A full story across items and cases: the audit trail holds one event per state change,
    each with the status before and after, and replaying the events reproduces the rows."""
    store.add_many(P, [NewItem(f"A-{n}") for n in range(4)])
    a, b, c, d = store.claim(P, worker="w1", limit=4)
    store.complete_many([(a.id, {"ok": 1})], worker="w1")
    case_b = store.business_exception(b.id, NewCase("GRADE", "gradert"), worker="w1")
    store.system_exception(c.id, "503", Backoff(max_attempts=2, jitter=0, backoff_seconds=0))
    store.release([d.id], worker="w1")
    [c2, d2] = store.claim(P, worker="w2", limit=5)
    case_c = store.system_exception(c2.id, "503", Backoff(max_attempts=2))
    store.defer([d2.id], utcnow() + timedelta(hours=3), reason="kvote")
    store.assign(case_b.id, "kari", actor="kari")
    store.decide(case_b.id, "kari", "approve_nav_amount", "ok")
    store.reopen(case_b.id, "leder", "sjekk igjen")
    store.decide(case_b.id, "leder", "dismiss", "henlagt")
    store.mark_decision_applied(case_b.id, "robot")
    store.retry_item_of_case(case_c.id, "drift", "prøv igjen")

    with store.session() as s:
        events = list(s.scalars(select(AuditEvent).order_by(AuditEvent.id)))
    state: dict[tuple[str, int], str | None] = {}
    for e in events:
        if e.to_status is None:
            continue  # decision applied: not a status change
        key = ("case", e.case_id) if e.action.startswith("case.") else ("item", e.item_id)
        initial = "new" if key[0] == "item" else None  # items are born new (created_at); cases by case.opened
        assert state.get(key, initial) == e.from_status, f"{e.action} on {key}: audit gap"
        state[key] = e.to_status
    for item in store.items(P):
        assert state[("item", item.id)] == item.status
    for case in store.cases(P):
        assert state[("case", case.id)] == case.status
    assert all(e.at.tzinfo is not None and e.actor for e in events)


def test_audit_records_events_that_are_not_state_changes(store):
    case = store.open_case(P, "K-6", NewCase("GRADE", "x"))
    store.audit("kari", "case.fnr_revealed", P, case_id=case.id, details={"reason": "kontroll"})
    event = store.audit_trail(case_id=case.id)[-1]
    assert (event.action, event.actor, event.details) == ("case.fnr_revealed", "kari", {"reason": "kontroll"})


def test_audit_events_cannot_be_changed_or_deleted_through_the_orm(store):
    case = store.open_case(P, "K-7", NewCase("GRADE", "x"))
    [event] = store.audit_trail(case_id=case.id)
    with pytest.raises(AppendOnlyError), store.session() as s:
        s.get(AuditEvent, event.id).actor = "someone-else"
    with pytest.raises(AppendOnlyError), store.session() as s:
        s.delete(s.get(AuditEvent, event.id))
    with pytest.raises(AppendOnlyError), store.session() as s:
        s.execute(update(AuditEvent).values(actor="x"))
    with pytest.raises(AppendOnlyError), store.session() as s:
        s.execute(delete(AuditEvent).where(AuditEvent.id == event.id))
    [unchanged] = store.audit_trail(case_id=case.id)
    assert (unchanged.actor, unchanged.action) == ("system", "case.opened")
