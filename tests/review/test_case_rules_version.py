"""The case page says which rules the run that opened the case applied ("Regler: versjon N, dato")."""

from __future__ import annotations

from datetime import date

from tests.fixtures.review import NAV
from workqueue.figures import record_definition


def test_case_page_shows_the_definition_version_of_its_run(review_env):
    env = review_env
    env.store.start_run(NAV, "run-1")
    record_definition(env.store, "run-1", "a" * 64, today=date(2026, 11, 2))
    env.store.finish_run("run-1", "completed", 0, 0, {})
    env.store.start_run(NAV, "run-2")
    record_definition(env.store, "run-2", "b" * 64, today=date(2026, 12, 2))
    case = env.nav_case()
    html = env.client("kari").get(f"/saker/{case.id}").text
    assert "Regler: versjon 2, 02.12.2026" in html
