"""The owners' page for shadow mode (/skygge): the same figures as the agreement report (one
computation, workqueue.shadow), every disagreement with both sides, owners and admins only."""

from __future__ import annotations

from workqueue.shadow import (
    SHADOW,
    Outcome,
    agreement,
    record_outcomes,
    replace_human_outcomes,
    sign_off,
)

NAV = "nav-refund-offsetting"


def _seed(store) -> None:
    record_outcomes(store, NAV, SHADOW, "run-1", [
        Outcome("ledger", "offset", "K1", "EXACT", 1000.0, day="2026-06-01"),
        Outcome("ledger", "offset", "K2", "EXACT", 2000.0, day="2026-06-01"),
        Outcome("ledger", "offset", "K3", "ROUNDING", 300.0, day="2026-06-01"),
        Outcome("ledger", "manual", "K4", "GRADE", day="2026-06-01")])
    replace_human_outcomes(store, NAV, "hovedbok-posteringer.csv", [
        Outcome("ledger", "done", "K1", amount=1000.0, day="2026-06-01"),
        Outcome("ledger", "done", "K2", amount=2100.0, day="2026-06-01"),
        Outcome("ledger", "done", "K4", amount=450.5, day="2026-06-01")])
    sign_off(store, NAV, "K2", "robot", "eier")


def test_owner_sees_the_agreement_and_every_disagreement(review_env):
    _seed(review_env.store)
    eier = review_env.client("eier")
    listing = eier.get("/skygge")
    assert listing.status_code == 200
    assert "/skygge/nav-refund-offsetting" in listing.text
    page = eier.get("/skygge/nav-refund-offsetting?periode=2026-06")
    assert page.status_code == 200, page.text
    html = page.text
    expected = agreement(review_env.store, NAV, "ledger", "2026-06").total
    assert expected.cases == 4 and expected.agree == 1
    assert "25,0 %" in html  # 1 of 4 agree: the same figure the Excel report shows
    assert "33,3 %" in html  # 1 of the 3 the robot would have done automatically
    for key in ("K2", "K3", "K4"):
        assert f'<th scope="row">{key}</th>' in html
    assert "2 000,00" in html and "2 100,00" in html  # both sides
    assert "Roboten hadde rett" in html and "Bare menneskene" in html and "GRADE" in html


def test_reviewers_may_not_see_it(review_env):
    _seed(review_env.store)
    kari = review_env.client("kari")
    assert kari.get("/skygge").status_code == 403
    assert kari.get("/skygge/nav-refund-offsetting").status_code == 403
    admin = review_env.client("admin")
    for process_id in ("retention", "finnes-ikke"):  # no people's outcome to compare with / no such process
        assert admin.get(f"/skygge/{process_id}").status_code == 404
