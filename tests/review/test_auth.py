"""Passwords, roles and scopes (the rules behind every page)."""

from __future__ import annotations

from config.catalogue import load_catalogue
from config.settings import DEFAULT_PROCESSES_DIR
from review import auth
from review.auth import Principal, scope_for

CATALOGUE = load_catalogue(DEFAULT_PROCESSES_DIR)
NAV = "nav-refund-offsetting"


def _p(role: str, units=(), processes=()) -> Principal:
    return Principal(1, "u", "", role, tuple(units), tuple(processes), "", "")


def test_passwords_are_hashed_with_argon2id_and_strong_parameters():
    h = auth.hash_password("et-langt-passord")
    assert h.startswith("$argon2id$") and "et-langt-passord" not in h
    assert auth._hasher.time_cost >= 2 and auth._hasher.memory_cost >= 19 * 1024  # OWASP minimum for argon2id
    assert auth._verify(h, "et-langt-passord") and not auth._verify(h, "feil") and not auth._verify("x", "y")


def test_scopes_per_role():
    reviewer = scope_for(_p("reviewer", ["Bydel Alna"], [NAV]), CATALOGUE)
    assert reviewer.allows(NAV, "Bydel Alna") and not reviewer.allows(NAV, "Bydel Frogner")
    assert not reviewer.allows("vehicle-data-collection", "Bydel Alna")
    assert not reviewer.allows(NAV, None)  # a unit-less case belongs to the owner's unit
    payroll = scope_for(_p("reviewer", [CATALOGUE[NAV].owner.org_unit]), CATALOGUE)
    assert payroll.allows(NAV, None) and not payroll.allows("vehicle-data-collection", None)
    everything = scope_for(_p("reviewer", ["Bydel Alna"]), CATALOGUE)  # no processes listed: all
    assert everything.allows("vehicle-data-collection", "Bydel Alna")
    owner = scope_for(_p("owner", [], [NAV]), CATALOGUE)
    assert owner.allows(NAV, "Bydel Frogner") and owner.allows(NAV, None)
    assert not owner.allows("invoice-attachment-upload", "Økonomiseksjonen")
    owner_by_unit = scope_for(_p("owner", ["Klimaetaten"]), CATALOGUE)
    assert owner_by_unit.processes == {"vehicle-data-collection"}
    assert scope_for(_p("admin"), CATALOGUE).everything


def test_who_may_reveal_read_the_audit_trail_and_the_benefits():
    assert _p("reviewer").may_reveal_fnr and _p("admin").may_reveal_fnr and not _p("owner").may_reveal_fnr
    assert _p("owner").may_read_audit and _p("admin").may_read_audit and not _p("reviewer").may_read_audit
    assert _p("owner").may_read_benefits and not _p("reviewer").may_read_benefits


def test_login_csrf_token_is_bound_to_the_browser_nonce():
    c = auth.LoginCsrf("hemmelig-" + "x" * 40)
    nonce = c.new_nonce()
    token = c.token_for(nonce)
    assert c.valid(nonce, token)
    assert not c.valid(c.new_nonce(), token) and not c.valid(nonce, token + "x") and not c.valid(None, token)
    assert not auth.LoginCsrf("en-annen-hemmelighet-" + "y" * 30).valid(nonce, token)
