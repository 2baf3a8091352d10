"""Search by a full fnr: matched by a keyed hash stored when the case is opened (never the fnr in
clear), the fnr moved out of the URL at once; on SQLite and PostgreSQL."""

from __future__ import annotations

from sqlalchemy import select

from tests.fixtures.review import FNR_A, synthetic_fnr
from workqueue.models import ExceptionCase


def test_a_full_fnr_finds_its_cases_by_keyed_hash(review_env_any):
    env = review_env_any
    mine = [env.nav_case(), env.nav_case()]
    other = env.nav_case(fnr=synthetic_fnr(3))
    with env.store.session() as s:
        hashes = dict(s.execute(select(ExceptionCase.id, ExceptionCase.fnr_hash)).all())
    assert hashes[mine[0].id] == hashes[mine[1].id] != hashes[other.id]
    assert all(h and len(h) == 64 and FNR_A not in h for h in hashes.values())
    assert hashes[mine[0].id] != env.store.__class__(env.store.url, migrate=False, fnr_key="another-key").fnr_hash(FNR_A)

    kari = env.client("kari")
    r = kari.get("/saker", params={"sok": FNR_A})
    assert r.status_code == 303 and FNR_A not in r.headers["location"]
    page = kari.get(r.headers["location"]).text
    assert FNR_A not in page and "Søker på hele fødselsnummeret" in page
    for c in mine:
        assert f">Sak {c.id}<" in page
    assert f">Sak {other.id}<" not in page
    # Digits that look like an fnr but fail the check digits: told why, nothing found by them.
    wrong = FNR_A[:-1] + str((int(FNR_A[-1]) + 1) % 10)
    r = kari.get("/saker", params={"sok": wrong})
    assert r.status_code == 200 and "kontrollsifrene stemmer ikke" in r.text and wrong not in r.text


def test_owners_cannot_search_by_fnr(review_env):
    env = review_env
    case = env.nav_case()
    eier = env.client("eier")
    r = eier.get("/saker", params={"sok": FNR_A})
    assert r.status_code == 200 and "forbeholdt saksbehandlere" in r.text and FNR_A not in r.text
    # Nor by pasting a reviewer's hash into the URL.
    r = eier.get("/saker", params={"sok": FNR_A[:6] + "*****", "fnrsok": env.store.fnr_hash(FNR_A)})
    assert f">Sak {case.id}<" not in r.text
