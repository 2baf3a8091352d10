"""Retention in the store: closed cases and finished items lose their personal data once the
clock has moved past the cutoff; rows and audit events stay, open cases are never touched.
Runs on SQLite and PostgreSQL (the `store` fixture)."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from connectors.identifiers import FNR_PATTERN, valid_fnr
from workqueue import retention
from workqueue.models import AppendOnlyError, AuditEvent, CaseAttachment, ExceptionCase, WorkItem
from workqueue.store import Backoff, NewCase, NewItem, utcnow

P = "person-process"
FNR = "01015012345"  # not valid: a control that masked/odd numbers are not what we look for
VALID = "02427110799"  # synthetic (month + 40), valid check digits


def _fnrs(value) -> list[str]:
    return [m.group(0) for m in FNR_PATTERN.finditer(json.dumps(value, ensure_ascii=False, default=str))
            if valid_fnr(m.group(0))]


def _case_with_item(store, ref, *, decide=None, apply=True, comment=f"Sjekket {VALID} i Aa-registeret"):
    item, _ = store.add(P, NewItem(ref, payload={"fnr": VALID, "navn": "Kari Nordmann", "report_id": ref}))
    store.claim(P, worker="w")
    case = store.business_exception(item.id, NewCase(
        "GRADE", f"Kari Nordmann ({VALID[:6]}*****) har en annen grad", org_unit="Lønn",
        evidence={"fnr": VALID, "sections": [{"title": "Linje", "text": f"fnr {VALID} Kari Nordmann"}],
                  "data": {"claim_ids": ["K1"], "fps": ["00ff"], "navn": "Kari Nordmann"}},
        search_text="Kari Nordmann 1 234,50", amount=1234.5,
        attachments=[("skjerm.png", "image/png", b"\x89PNG" + VALID.encode())]), worker="w")
    if decide:
        store.decide(case.id, "hr-1", decide, comment, decision={"amount": 1234.5})
        if apply:
            store.mark_decision_applied(case.id, "robot")
    return item, case


def test_closed_cases_and_finished_items_are_cleared_rows_and_events_stay(store):
    _, resolved = _case_with_item(store, "R-1", decide="approve_nav_amount")
    _, dismissed = _case_with_item(store, "R-2", decide="dismiss")
    _, waiting = _case_with_item(store, "R-3", decide="write_off", apply=False)
    _, open_case = _case_with_item(store, "R-4")
    _, in_review = _case_with_item(store, "R-5")
    store.assign(in_review.id, "hr-2", "hr-2")
    done, _ = store.add(P, NewItem("D-1", payload={"fnr": VALID, "report_id": "D-1"}))
    store.claim(P, worker="w")
    store.complete(done.id, {"maksdato": [[VALID, "2027-01-04"]], "lines": 3}, worker="w")
    store.audit("hr-1", "fnr.revealed", P, case_id=resolved.id, details={"reason": f"kontroll av {VALID}"})

    with store.session() as s:
        counts_before = {m.__name__: s.scalar(select(func.count()).select_from(m))
                         for m in (ExceptionCase, WorkItem, AuditEvent)}
    untouched = {c.id: (c.message, c.evidence, c.search_text) for c in (store.get_case(open_case.id),
                                                                       store.get_case(in_review.id),
                                                                       store.get_case(waiting.id))}
    keep = retention.KeepKeys(payload=frozenset({"report_id"}), result=frozenset({"lines"}),
                              evidence_data=frozenset({"claim_ids"}))

    # Before the cutoff: nothing is due.
    assert retention.find_due(store, P, utcnow() - timedelta(days=1)).empty
    # The clock moved past the retention: due are the two applied closed cases and their items + D-1.
    as_of = utcnow() + timedelta(days=396)
    cutoff = as_of - timedelta(days=395)
    due = retention.find_due(store, P, cutoff)
    assert sorted(due.case_ids) == sorted([resolved.id, dismissed.id])
    assert len(due.item_ids) == 3 and due.attachments == 2 and due.waiting_for_apply == 1

    done_purge = retention.purge(store, P, cutoff, as_of, keep=keep, batch=1, run_id="run-1")
    assert (done_purge.cases, done_purge.items, done_purge.attachments) == (2, 3, 2)

    mark = retention.marker(as_of)
    for case_id in (resolved.id, dismissed.id):
        case = store.get_case(case_id)
        assert case.evidence == {**mark, "sections": retention.purged_sections(as_of), "data": {"claim_ids": ["K1"]}}
        assert case.message == retention.PURGED_MESSAGE and case.search_text == ""
        assert "comment" not in case.decision and case.decision["action"] in ("approve_nav_amount", "dismiss")
        assert case.status in ("resolved", "dismissed") and case.amount == 1234.5  # figures keep their counts
        assert store.case_attachments(case_id) == []
        item = store.get_item(case.item_id)
        assert item.payload == {**mark, "report_id": item.reference} and item.last_error == retention.PURGED_ERROR
        events = store.audit_trail(case_id=case_id, item_id=case.item_id)
        assert {"case.opened", "case.decided", "item.business_exception"} <= {e.action for e in events}
        assert all(e.details.get("grunn") == "oppbevaringstid" for e in events)
        assert not _fnrs([(case.message, case.evidence, case.search_text, case.decision)])
        assert not _fnrs([(item.payload, item.result, item.last_error)])
        assert not _fnrs([e.details for e in events])
    assert store.get_item(done.id).result == {**mark, "lines": 3}
    assert not _fnrs(store.get_item(done.id).result)

    # Open, in review and waiting-for-apply cases are untouched, evidence and attachments too.
    for case_id, before in untouched.items():
        case = store.get_case(case_id)
        assert (case.message, case.evidence, case.search_text) == before
        assert len(store.case_attachments(case_id)) == 1
    assert _fnrs(store.get_case(open_case.id).evidence)

    # Rows stay; one retention.purged event per batch, counts only.
    with store.session() as s:
        after = {m.__name__: s.scalar(select(func.count()).select_from(m)) for m in (ExceptionCase, WorkItem)}
        purged = list(s.scalars(select(AuditEvent).where(AuditEvent.action == retention.ACTION)))
        assert s.scalar(select(func.count()).select_from(AuditEvent)) == counts_before["AuditEvent"] + len(purged)
        assert s.scalar(select(func.count()).select_from(CaseAttachment)) == 3
    assert after == {k: counts_before[k] for k in after}
    assert len(purged) == 5  # batch=1: 2 case batches + 3 item batches
    assert sum(e.details["cases"] for e in purged) == 2 and sum(e.details["items"] for e in purged) == 3
    assert all(e.details["run_id"] == "run-1" and e.process_id == P for e in purged)

    # Run again: nothing more is due (idempotent); the ORM still refuses to change audit events.
    assert retention.find_due(store, P, cutoff).empty
    assert retention.purge(store, P, cutoff, as_of).cases == 0
    with pytest.raises(AppendOnlyError), store.session() as s:
        s.execute(update(AuditEvent).values(details={}))


def test_a_case_reopened_or_of_another_process_is_left_alone(store):
    _, case = _case_with_item(store, "X-1", decide="dismiss", apply=False)
    store.reopen(case.id, "hr-1", "Feil avvisning")
    other = store.open_case("other-process", "O-1", NewCase("GRADE", "annen prosess", evidence={"fnr": VALID}))
    store.decide(other.id, "hr-1", "dismiss", "ok")
    store.mark_decision_applied(other.id, "robot")
    as_of = utcnow() + timedelta(days=3000)
    assert retention.purge(store, P, as_of, as_of).cases == 0
    assert store.get_case(case.id).evidence["fnr"] == VALID
    assert store.get_case(other.id).evidence == {"fnr": VALID}
    assert retention.process_ids(store) == {P, "other-process"}
    assert retention.open_references(store, P) == {"X-1"}


def test_a_failed_item_escalated_to_an_operator_case_is_cleared_with_its_case(store):
    item, _ = store.add(P, NewItem("S-1", payload={"fnr": VALID}))
    store.claim(P, worker="w")
    case = store.system_exception(item.id, f"Tidsavbrudd for {VALID}", Backoff(max_attempts=1),
                                  evidence={"fnr": VALID})
    assert store.get_item(item.id).last_error
    store.decide(case.id, "drift", "handled_manually", "Kjørt for hånd")
    store.mark_decision_applied(case.id, "robot")
    as_of = utcnow() + timedelta(days=30)
    done = retention.purge(store, P, as_of - timedelta(days=10), as_of)
    assert (done.cases, done.items) == (1, 1)
    with store.session() as s:
        rows = [(r.payload, r.result, r.last_error) for r in s.scalars(select(WorkItem))]
        rows += [(r.evidence, r.message) for r in s.scalars(select(ExceptionCase))]
        rows += [r.details for r in s.scalars(select(AuditEvent))]
    assert not _fnrs(rows), "no valid fnr left anywhere"
    assert FNR not in json.dumps(rows)
