"""Work items: idempotent add, claim order and leases, completion, business vs system
exceptions, release/defer, abandoned items. Every test runs on SQLite and PostgreSQL
(the `store` fixture) and asserts on the rows and the audit events the store leaves."""

from __future__ import annotations

import signal
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import text

from workqueue.models import CaseKind, CaseStatus, ItemStatus
from workqueue.store import Backoff, InvalidTransition, LeaseLost, NewCase, NewItem, utcnow

P = "test-process"
OSLO = ZoneInfo("Europe/Oslo")
NO_JITTER = Backoff(max_attempts=3, backoff_seconds=30, backoff_factor=2, max_backoff_seconds=100, jitter=0)


def actions(store, item_id):
    return [(e.action, e.from_status, e.to_status) for e in store.audit_trail(item_id=item_id)]


# ---------------------------------------------------------------- idempotent add

def test_adding_the_same_reference_twice_returns_the_existing_item(store):
    first, created = store.add(P, NewItem("K27-0001", {"belop": 1234.5, "navn": "Ærlig Østby"}))
    again, created_again = store.add(P, NewItem("K27-0001", {"belop": 999}))
    assert created and not created_again
    assert again.id == first.id
    assert again.payload == {"belop": 1234.5, "navn": "Ærlig Østby"}  # the first payload is kept
    assert store.counts(P) == {"new": 1}


def test_the_same_reference_in_another_process_is_another_item(store):
    a, _ = store.add(P, NewItem("REF-1"))
    b, created = store.add("other-process", NewItem("REF-1"))
    assert created and a.id != b.id


def test_add_many_skips_existing_and_repeated_references(store):
    store.add(P, NewItem("R-2"))
    added = store.add_many(P, [NewItem(f"R-{n}") for n in range(5)] + [NewItem("R-4"), NewItem("R-0")])
    assert added == 4  # R-2 existed, R-4 and R-0 repeated
    assert store.counts(P) == {"new": 5}
    assert store.add_many(P, [NewItem(f"R-{n}") for n in range(5)]) == 0


def test_add_many_in_chunks_counts_exactly(store):
    assert store.add_many(P, [NewItem(f"C-{n}") for n in range(2500)], chunk=1000) == 2500
    assert store.add_many(P, [NewItem(f"C-{n}") for n in range(2000, 3000)], chunk=300) == 500
    assert store.counts(P) == {"new": 3000}


# ---------------------------------------------------------------- claim

def test_claim_leases_items_and_counts_the_attempt(store):
    item, _ = store.add(P, NewItem("A", {"x": 1}))
    before = utcnow()
    [claimed] = store.claim(P, worker="worker-1", limit=10, lease_seconds=120, run_id="run-1")
    assert claimed.id == item.id and claimed.payload == {"x": 1}
    row = store.get_item(item.id)
    assert row.status == ItemStatus.in_progress and row.claimed_by == "worker-1" and row.attempts == 1
    assert row.run_id == "run-1"
    assert before + timedelta(seconds=119) <= row.claimed_until <= utcnow() + timedelta(seconds=121)
    assert store.claim(P, worker="worker-2") == []  # nothing left to claim
    [event] = store.audit_trail(item_id=item.id)
    assert (event.action, event.actor, event.from_status, event.to_status) == (
        "item.claimed", "worker-1", "new", "in_progress")
    assert event.details == {"attempt": 1, "run_id": "run-1"}


def test_claim_order_is_priority_then_deadline_then_first_in(store):
    now = utcnow()
    store.add(P, NewItem("low-old", priority=0))
    store.add(P, NewItem("low-deadline-late", priority=0, deadline=now + timedelta(days=5)))
    store.add(P, NewItem("high", priority=5))
    store.add(P, NewItem("low-deadline-soon", priority=0, deadline=now + timedelta(days=1)))
    store.add(P, NewItem("low-new", priority=0))
    store.add(P, NewItem("high-deadline", priority=5, deadline=now + timedelta(days=9)))
    expected = ["high-deadline", "high", "low-deadline-soon", "low-deadline-late", "low-old", "low-new"]
    assert [i.reference for i in store.claim(P, limit=10)] == expected


def test_claim_in_small_batches_follows_the_same_order(store):
    now = utcnow()
    store.add_many(P, [NewItem(f"plain-{n}") for n in range(4)]
                   + [NewItem(f"due-{n}", deadline=now + timedelta(hours=10 - n)) for n in range(3)]
                   + [NewItem("urgent", priority=9)])
    got = []
    while batch := store.claim(P, limit=3):
        got += [i.reference for i in batch]
    assert got == ["urgent", "due-2", "due-1", "due-0", "plain-0", "plain-1", "plain-2", "plain-3"]


def test_claimed_items_are_what_the_orm_would_hand_out(store):
    # PostgreSQL builds the claimed WorkItem objects without the ORM's loading (store.py,
    # _detached_work_items): the same detached objects, identity and values as a read through the ORM.
    from sqlalchemy import inspect

    deadline = datetime.now(OSLO) + timedelta(days=1)
    store.add(P, NewItem("due", {"belop": 12.5, "navn": "Ærlig Østby"}, priority=2, deadline=deadline))
    (claimed,) = store.claim(P, worker="w1", limit=1, run_id="run-1", lease_seconds=90.1234567)
    read = store.get_item(claimed.id)
    columns = [c.key for c in inspect(type(read)).column_attrs]
    assert {c: getattr(claimed, c) for c in columns} == {c: getattr(read, c) for c in columns}
    assert claimed.deadline == deadline and claimed.deadline.tzinfo == UTC and claimed.created_at.tzinfo == UTC
    got, orm = inspect(claimed), inspect(read)
    assert (got.detached, got.key, got.unloaded, got.expired) == (True, orm.key, set(), False)
    claimed.last_error = "changed"  # tracked like any loaded attribute
    assert "last_error" in inspect(claimed).committed_state


def test_claim_respects_not_before(store):
    now = utcnow()
    store.add(P, NewItem("later", not_before=now + timedelta(hours=1)))
    store.add(P, NewItem("past", not_before=now - timedelta(seconds=1)))
    store.add(P, NewItem("any"))
    assert sorted(i.reference for i in store.claim(P, limit=10)) == ["any", "past"]
    assert store.claim(P) == []
    assert store.find_item(P, "later").status == ItemStatus.new


def test_not_before_in_oslo_time_is_compared_as_the_same_instant(store):
    # 20 minutes ago / ahead in Oslo wall-clock time: SQLite has no time-zone type, so without
    # normalising to UTC the offset (+1/+2 h) would be lost and both comparisons would flip.
    oslo_now = datetime.now(OSLO)
    store.add(P, NewItem("due", not_before=oslo_now - timedelta(minutes=20)))
    store.add(P, NewItem("not-yet", not_before=oslo_now + timedelta(minutes=20)))
    assert [i.reference for i in store.claim(P, limit=10)] == ["due"]


def test_datetimes_come_back_aware_in_utc(store):
    deadline = datetime(2026, 12, 24, 15, 30, tzinfo=OSLO)
    item, _ = store.add(P, NewItem("X", deadline=deadline))
    row = store.get_item(item.id)
    assert row.deadline == deadline and row.deadline.tzinfo is not None
    assert row.deadline.utcoffset() == timedelta(0)
    assert row.created_at.tzinfo is not None and abs(row.created_at - utcnow()) < timedelta(minutes=1)


def test_claim_limit_and_processes_are_separate(store):
    store.add_many(P, [NewItem(f"I-{n}") for n in range(7)])
    store.add_many("other", [NewItem(f"I-{n}") for n in range(3)])
    assert len(store.claim(P, limit=5)) == 5
    assert len(store.claim(P, limit=5)) == 2
    assert store.counts("other") == {"new": 3}


def test_extend_lease_only_for_the_holder(store):
    store.add(P, NewItem("A"))
    [item] = store.claim(P, worker="w1", lease_seconds=10)
    assert store.extend_lease([item.id], "w2", 3600) == 0
    assert store.extend_lease([item.id], "w1", 3600) == 1
    assert store.get_item(item.id).claimed_until > utcnow() + timedelta(minutes=59)


# ---------------------------------------------------------------- complete

def test_complete_many_marks_done_with_each_result_and_audits(store):
    store.add_many(P, [NewItem(f"D-{n}") for n in range(3)])
    items = store.claim(P, worker="w1", limit=3)
    n = store.complete_many([(i.id, {"bilag": f"B-{i.reference}", "beløp": "1 234,50"}) for i in items], worker="w1")
    assert n == 3
    for i in items:
        row = store.get_item(i.id)
        assert row.status == ItemStatus.done and row.result == {"bilag": f"B-{i.reference}", "beløp": "1 234,50"}
        assert row.finished_at is not None and row.claimed_until is None
        assert actions(store, i.id) == [("item.claimed", "new", "in_progress"),
                                        ("item.completed", "in_progress", "done")]


def test_complete_only_counts_items_still_held(store):
    store.add_many(P, [NewItem(f"H-{n}") for n in range(3)])
    a, b, c = store.claim(P, worker="w1", limit=3)
    assert store.complete(a.id, {"ok": 1}, worker="w1") is True
    assert store.complete(a.id, {"ok": 2}, worker="w1") is False  # done is final
    assert store.get_item(a.id).result == {"ok": 1}
    assert store.complete(b.id, {"ok": 3}, worker="somebody-else") is False
    assert store.get_item(b.id).status == ItemStatus.in_progress
    assert store.complete_many([(b.id, None), (c.id, None), (a.id, None), (999_999, None)], worker="w1") == 2
    assert store.counts(P) == {"done": 3}
    assert store.complete_many([]) == 0


def test_completing_after_the_lease_went_to_another_worker_is_refused(store):
    store.add(P, NewItem("L"))
    [item] = store.claim(P, worker="slow", lease_seconds=-1)  # lease already expired
    assert store.requeue_abandoned() == 1
    [again] = store.claim(P, worker="fast")
    assert store.complete(item.id, {"by": "slow"}, worker="slow") is False
    assert store.complete(again.id, {"by": "fast"}, worker="fast") is True
    row = store.get_item(item.id)
    assert row.result == {"by": "fast"} and row.attempts == 2


# ---------------------------------------------------------------- business exception

def test_business_exception_is_final_never_retried_and_opens_a_case(store):
    item, _ = store.add(P, NewItem("B-1"))
    store.claim(P, worker="w1")
    case = store.business_exception(item.id, NewCase(
        "GRADE", "NAV har betalt 50 % av kravet", evidence={"krav": 20000, "utbetalt": 10000},
        org_unit="Bydel Frogner", amount=10000.0, search_text="Ola Nordmann 10000", sla_hours=120), worker="w1")
    row = store.get_item(item.id)
    assert row.status == ItemStatus.business_exception and row.finished_at is not None
    assert row.last_error.startswith("GRADE: NAV har betalt")
    assert store.claim(P) == []  # never retried
    stored = store.get_case(case.id)
    assert (stored.category, stored.kind, stored.status, stored.item_id) == ("GRADE", CaseKind.business,
                                                                            CaseStatus.open, item.id)
    assert stored.evidence == {"krav": 20000, "utbetalt": 10000} and stored.org_unit == "Bydel Frogner"
    assert stored.amount == 10000.0 and stored.reference == "B-1"
    assert timedelta(hours=119) < stored.due_at - stored.created_at <= timedelta(hours=120)
    assert actions(store, item.id) == [("item.claimed", "new", "in_progress"),
                                       ("item.business_exception", "in_progress", "business_exception"),
                                       ("case.opened", None, "open")]
    with pytest.raises(InvalidTransition):
        store.business_exception(item.id, NewCase("GRADE", "igjen"))
    with pytest.raises(InvalidTransition):
        store.system_exception(item.id, "timeout")


def test_business_exception_by_a_worker_that_lost_the_lease(store):
    item, _ = store.add(P, NewItem("B-2"))
    store.claim(P, worker="w2")
    with pytest.raises(LeaseLost):
        store.business_exception(item.id, NewCase("GRADE", "feil"), worker="w1")
    with pytest.raises(LeaseLost):
        store.system_exception(item.id, "timeout", worker="w1")
    assert store.get_item(item.id).status == ItemStatus.in_progress


# ---------------------------------------------------------------- system exception, retry and backoff

def test_system_exception_retries_with_backoff_then_escalates(store):
    item, _ = store.add(P, NewItem("S-1"))
    expected_delays = [30, 60]  # backoff 30 s, factor 2; the third attempt is the last
    for attempt, delay in enumerate(expected_delays, start=1):
        [claimed] = store.claim(P, worker="w")
        assert claimed.attempts == attempt
        t0 = utcnow()
        assert store.system_exception(item.id, f"503 Service Unavailable ({attempt})", NO_JITTER) is None
        row = store.get_item(item.id)
        assert row.status == ItemStatus.new and row.last_error == f"503 Service Unavailable ({attempt})"
        assert t0 + timedelta(seconds=delay - 1) <= row.not_before <= utcnow() + timedelta(seconds=delay + 1)
        assert store.claim(P) == []  # waits for its backoff
        with store.session() as s:  # let the backoff pass
            s.execute(text("UPDATE work_items SET not_before = NULL WHERE id = :id"), {"id": item.id})
    [claimed] = store.claim(P, worker="w")
    assert claimed.attempts == 3
    case = store.system_exception(item.id, "503 Service Unavailable (3)", NO_JITTER,
                                  evidence={"url": "/api/rapport"},
                                  attachments=[("skjermbilde.png", "image/png", b"\x89PNG fake")])
    row = store.get_item(item.id)
    assert row.status == ItemStatus.failed and row.finished_at is not None
    assert (case.category, case.kind, case.status) == ("SYSTEM_ERROR", CaseKind.system, CaseStatus.open)
    assert "3 forsøk" in case.message and case.evidence == {"url": "/api/rapport"}
    assert [a.filename for a in store.case_attachments(case.id)] == ["skjermbilde.png"]
    assert store.claim(P) == []
    trail = actions(store, item.id)
    assert trail == [("item.claimed", "new", "in_progress"), ("item.retry_scheduled", "in_progress", "new")] * 2 + [
        ("item.claimed", "new", "in_progress"), ("item.failed", "in_progress", "failed"),
        ("case.opened", None, "open")]


def test_backoff_grows_and_is_capped():
    b = Backoff(backoff_seconds=10, backoff_factor=3, max_backoff_seconds=200, jitter=0)
    assert [b.delay(n) for n in range(1, 6)] == [10, 30, 90, 200, 200]
    jittered = Backoff(backoff_seconds=100, jitter=0.1)
    assert all(90 <= jittered.delay(1) <= 110 for _ in range(50))
    assert Backoff(backoff_seconds=0).delay(3) == 0


def test_system_exception_needs_a_claimed_item(store):
    item, _ = store.add(P, NewItem("S-2"))
    with pytest.raises(InvalidTransition):
        store.system_exception(item.id, "timeout")


# ---------------------------------------------------------------- release / defer

def test_release_gives_items_back_without_counting_the_attempt(store):
    store.add_many(P, [NewItem(f"R-{n}") for n in range(3)])
    items = store.claim(P, worker="w1", limit=3)
    assert store.release([items[0].id, items[1].id], actor="w1", reason="kvote brukt opp", worker="w1") == 2
    assert store.release([items[2].id], worker="w2") == 0  # not the holder
    for i in items[:2]:
        row = store.get_item(i.id)
        assert (row.status, row.attempts, row.claimed_by) == (ItemStatus.new, 0, None)
        [_, released] = store.audit_trail(item_id=i.id)
        assert (released.action, released.actor, released.details) == ("item.released", "w1",
                                                                        {"attempt": 0, "reason": "kvote brukt opp"})
    assert store.release([items[0].id]) == 0  # no longer in progress
    assert sorted(i.reference for i in store.claim(P, limit=5)) == ["R-0", "R-1"]


def test_defer_keeps_items_waiting_until_the_given_time(store):
    store.add_many(P, [NewItem("Q-1"), NewItem("Q-2")])
    items = store.claim(P, worker="w1", limit=2)
    midnight = (datetime.now(OSLO) + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    assert store.defer([i.id for i in items], midnight, reason="Dagskvoten er brukt opp") == 2
    row = store.get_item(items[0].id)
    assert row.status == ItemStatus.new and row.not_before == midnight and row.attempts == 0
    assert row.last_error == "Dagskvoten er brukt opp"
    assert store.claim(P) == []
    assert store.audit_trail(item_id=items[0].id)[-1].action == "item.deferred"


# ---------------------------------------------------------------- abandoned items

def test_expired_leases_are_requeued_and_live_ones_are_not(store):
    store.add_many(P, [NewItem("dead"), NewItem("alive")])
    [dead] = store.claim(P, worker="crashed-worker", limit=1, lease_seconds=-5)
    [alive] = store.claim(P, worker="healthy-worker", limit=1, lease_seconds=600)
    assert store.requeue_abandoned(NO_JITTER) == 1
    row = store.get_item(dead.id)
    assert (row.status, row.claimed_by, row.attempts) == (ItemStatus.new, None, 1)
    assert "crashed-worker" in row.last_error
    assert store.get_item(alive.id).status == ItemStatus.in_progress
    event = store.audit_trail(item_id=dead.id)[-1]
    assert (event.action, event.to_status, event.details["claimed_by"]) == ("item.abandoned", "new", "crashed-worker")
    [again] = store.claim(P, worker="healthy-worker")
    assert again.id == dead.id and again.attempts == 2


def test_an_item_that_keeps_killing_its_worker_fails_and_escalates(store):
    item, _ = store.add(P, NewItem("poison"))
    for _ in range(3):
        store.claim(P, worker="w", lease_seconds=-1)
        store.requeue_abandoned(NO_JITTER, process_id=P)
    row = store.get_item(item.id)
    assert row.status == ItemStatus.failed and row.attempts == 3
    [case] = store.cases(P)
    assert (case.category, case.kind, case.item_id) == ("SYSTEM_ERROR", CaseKind.system, item.id)
    assert "avbrutt 3 ganger" in case.message


def test_requeue_abandoned_for_one_process_leaves_the_others(store):
    store.add(P, NewItem("a"))
    store.add("other", NewItem("b"))
    store.claim(P, lease_seconds=-1)
    store.claim("other", lease_seconds=-1)
    assert store.requeue_abandoned(process_id=P) == 1
    assert store.counts(P) == {"new": 1} and store.counts("other") == {"in_progress": 1}


# ---------------------------------------------------------------- final states

def test_final_states_are_final(store):
    store.add_many(P, [NewItem("done"), NewItem("biz"), NewItem("failed")])
    done, biz, failed = store.claim(P, limit=3)
    store.complete(done.id)
    store.business_exception(biz.id, NewCase("GRADE", "sjekk"))
    store.system_exception(failed.id, "boom", Backoff(max_attempts=1))
    for item_id in (done.id, biz.id, failed.id):
        before = store.get_item(item_id).status
        assert store.complete(item_id) is False
        assert store.release([item_id]) == 0
        with pytest.raises(InvalidTransition):
            store.system_exception(item_id, "again")
        assert store.get_item(item_id).status == before
    with pytest.raises(InvalidTransition):
        store.business_exception(done.id, NewCase("GRADE", "for sent"))
    assert store.requeue_abandoned() == 0 and store.claim(P) == []
    assert store.counts(P) == {"done": 1, "business_exception": 1, "failed": 1}


# ---------------------------------------------------------------- runs

def test_runs_are_recorded_for_the_benefits_report(store):
    store.start_run(P, "run-1", flow_run_id="f-1")
    store.finish_run("run-1", "completed", 10, 8, {"GRADE": 2}, {"note": "ok"})
    [run] = store.runs(P)
    assert (run.status, run.cases_total, run.cases_automated, run.exceptions) == ("completed", 10, 8, {"GRADE": 2})
    assert run.finished_at >= run.started_at
    assert store.runs(P, since=utcnow() + timedelta(minutes=1)) == []
    assert run.started_at.tzinfo is UTC or run.started_at.utcoffset() == timedelta(0)


def test_a_killed_runs_row_is_closed_as_abandoned_by_the_next_run(store):
    # A real process starts a run and is killed (SIGKILL: no finally, no finish_run).
    child = subprocess.Popen([sys.executable, "-c", (
        "import sys, time\n"
        "from workqueue.store import WorkQueueStore\n"
        "WorkQueueStore(sys.argv[1]).start_run(sys.argv[2], 'killed-run')\n"
        "print('started', flush=True)\n"
        "time.sleep(600)\n"), store.url, P], stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline().strip() == "started"
        store.start_run(P, "alive-run")  # the first is still running: nothing to close yet
        assert {r.run_id: r.status for r in store.runs(P)} == {"killed-run": "running", "alive-run": "running"}
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)

    abandoned = store.start_run(P, "next-run")
    assert abandoned == ["killed-run"]
    runs = {r.run_id: r for r in store.runs(P)}
    assert runs["killed-run"].status == "abandoned" and runs["killed-run"].finished_at is not None
    assert runs["alive-run"].status == "running"  # this test's own process is alive
    store.finish_run("alive-run", "completed", 1, 1, {})
    assert store.start_run(P, "one-more") == []
    assert {r.run_id: r.status for r in store.runs(P)}["alive-run"] == "completed"
