"""Shadow outcomes in the store, on SQLite and PostgreSQL: bulk record, a re-import of the people's
export replaces the last one, the period filter, sign-offs and the promotion record."""

from __future__ import annotations

from workqueue.shadow import (
    HUMAN,
    SHADOW,
    Outcome,
    agreement,
    outcome_rows,
    promotions,
    record_outcomes,
    record_promotion,
    replace_human_outcomes,
    sign_off,
)

P = "nav-refund-offsetting"


def test_outcomes_agreement_sign_offs_and_promotions(store):
    record_outcomes(store, P, SHADOW, "run-1", [Outcome("ledger", "offset", f"K{n}", "EXACT", 100.0 + n,
                                                        day="2026-05-04" if n < 5 else "2026-06-01")
                                                for n in range(10)])
    record_outcomes(store, P, SHADOW, "run-1", [Outcome("nav", "archive", "1001")])
    first = [Outcome("ledger", "done", f"K{n}", amount=100.0 + n, day="2026-06-01" if n >= 5 else "2026-05-04")
             for n in range(9)]
    assert replace_human_outcomes(store, P, "posteringer.csv", first) == 9
    assert replace_human_outcomes(store, P, "posteringer.csv", first[:8]) == 8  # the same file again: replaced
    assert len(outcome_rows(store, P, HUMAN)) == 8

    june = agreement(store, P, "ledger", "2026-06")
    assert june.total.cases == 5 and june.total.agree == 3 and june.total.robot_only == 2
    assert june.runs == ["run-1"] and june.human_sources == ["posteringer.csv"]
    everything = agreement(store, P, "ledger")
    assert everything.total.cases == 10 and everything.total.agreement == 0.8  # the archive call is on another system
    assert len(everything.unsigned_money_disagreements) == 2

    sign_off(store, P, "K8", "human", "eier", "glemt av HR")
    sign_off(store, P, "K8", "robot", "eier", "nei: roboten hadde rett")  # a second judgement replaces the first
    rows = {r.key: r for r in agreement(store, P, "ledger").disagreements}
    assert rows["K8"].sign_off == "robot" and rows["K9"].sign_off == ""

    record_promotion(store, P, "eier", "shadow", "live", "a" * 64, "b" * 64, {"cases": 10})
    [event] = promotions(store, P)
    assert event.actor == "eier" and event.details["to"] == "live" and event.at is not None
