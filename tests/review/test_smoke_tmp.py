import pytest
from tests.fixtures.review import FNR_A, csrf_of

def test_smoke(review_env):
    env = review_env
    c = env.nav_case()
    cl = env.client("kari")
    r = cl.get("/")
    assert r.status_code == 200, r.text
    print(r.text[:3000])
    r = cl.get("/saker")
    assert r.status_code == 200, r.text
    r = cl.get(f"/saker/{c.id}")
    assert r.status_code == 200, r.text
    assert FNR_A not in r.text
    print(r.text[-6000:])
