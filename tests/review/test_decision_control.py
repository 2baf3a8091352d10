"""Internal control in the review app (HTTP level): actions offered only where their precondition
holds, bounds shown and checked, a preview before a posting decision is stored, four-eyes with the
attestant role, bulk decisions all-or-nothing with a preview of count and total."""

from __future__ import annotations

import re

from tests.fixtures.review import NAV, add_attestants, csrf_of


def _refused(client, r):
    """A refused decision: POST-redirect-GET to the case page (#feil), whose error summary says why."""
    assert r.status_code == 303 and r.headers["location"].endswith("#feil"), r.status_code
    return client.get(r.headers["location"].split("#")[0])


def _post(client, case_id: int, **form):
    page = client.get(f"/saker/{case_id}").text
    return client.post(f"/saker/{case_id}/beslutning", data={"csrf_token": csrf_of(page), **form})


def test_approve_is_offered_only_with_a_claim_and_a_payment(review_env):
    env = review_env
    kari = env.client("kari")
    with_claim = kari.get(f"/saker/{env.nav_case(category='GRADE').id}").text
    assert "Godkjenn NAVs beløp og utlign" in with_claim
    assert "høyst 25 388,00 kr (det NAV har betalt)" in with_claim  # the bound, next to the field
    no_claim = env.nav_case(category="PAYMENT_WITHOUT_CLAIM")
    html = kari.get(f"/saker/{no_claim.id}").text
    assert "Godkjenn NAVs beløp og utlign" not in html and "Behandlet manuelt" in html
    # Posting it anyway is refused, nothing stored.
    r = _refused(kari, _post(kari, no_claim.id, action="approve_nav_amount", comment="prøver", bekreft="ja"))
    assert 'class="error-summary"' in r.text and env.store.get_case(no_claim.id).status == "open"


def test_out_of_bounds_is_refused_with_the_message_at_the_top_and_next_to_the_field(review_env):
    env = review_env
    case = env.nav_case(nav_amount=26_114.0, claim_amount=52_228.0)
    kari = env.client("kari")
    for typed, words in (("99 999 999", "over grensen"), ("0", "kan ikke være 0,00"), ("-5", "kan ikke være −5,00")):
        r = _refused(kari, _post(kari, case.id, action="approve_nav_amount", **{"approve_nav_amount.amount": typed},
                                 comment="Sjekket", bekreft="ja"))
        top = r.text[r.text.index('class="error-summary"'):]
        assert words in top and 'href="#f-approve_nav_amount-amount"' in top
        assert 'id="err-f-approve_nav_amount-amount"' in r.text
        assert env.store.get_case(case.id).status == "open"
    # Write-off: never more than the claim's remainder.
    r = _refused(kari, _post(kari, case.id, action="write_off", **{"write_off.amount": "30 000"}, comment="Avskriv",
                             bekreft="ja"))
    assert "høyst 26 114,00 kr (kravets restbeløp)" in r.text


def test_a_posting_decision_is_previewed_before_it_is_stored(review_env):
    env = review_env
    case = env.nav_case(nav_amount=25_388.0, claim_amount=50_776.0)
    kari = env.client("kari")
    r = _post(kari, case.id, action="approve_nav_amount", comment="Gradert 50 %")
    assert r.status_code == 303 and r.headers["location"] == f"/saker/{case.id}/forhandsvisning"  # PRG
    r = kari.get(r.headers["location"])
    assert r.status_code == 200 and "Kontroller før du lagrer" in r.text
    for text in ("K-", "50 776,00 kr", "Beløp som utlignes", "25 388,00 kr", "Restbeløp på kravet etterpå",
                 "Debet 1920 25 388,00 kr · Kredit 1573 25 388,00 kr"):
        assert text in r.text.replace("\u00a0", " "), text  # kroner in the one style (no-break spaces)
    assert env.store.get_case(case.id).status == "open"  # nothing stored yet
    r = kari.post(f"/saker/{case.id}/beslutning", data={"csrf_token": csrf_of(r.text), "action": "approve_nav_amount",
                                                       "approve_nav_amount.amount": "25 388,00",
                                                       "comment": "Gradert 50 %", "bekreft": "ja"})
    assert r.status_code == 303
    fresh = env.store.get_case(case.id)
    assert fresh.status == "resolved" and fresh.decision["amount"] == 25388.0 and fresh.decision_basis


def test_four_eyes_the_decider_cannot_approve_another_attestant_can(review_env):
    env = review_env
    add_attestants(env, "atle", "anne")
    case = env.nav_case(nav_amount=25_388.0, claim_amount=50_776.0)
    atle, anne = env.client("atle"), env.client("anne")
    r = _post(atle, case.id, action="approve_nav_amount", **{"approve_nav_amount.amount": "20 000"},
              comment="Bare delvis", bekreft="ja")
    assert r.status_code == 303
    assert env.store.get_case(case.id).status == "pending_approval"
    page = atle.get(f"/saker/{case.id}").text
    assert "Venter på godkjenning" in page and "Utlignet beløp avviker" in page
    assert "Godkjenn beslutningen" not in page and "Du tok beslutningen selv" in page
    r = atle.post(f"/saker/{case.id}/godkjenning", data={"csrf_token": csrf_of(page), "svar": "godkjenn",
                                                        "comment": "egen"}, follow_redirects=True)
    assert "kan ikke godkjenne den" in r.text and env.store.get_case(case.id).status == "pending_approval"
    # A plain reviewer cannot approve either.
    kari = env.client("kari")
    page = kari.get(f"/saker/{case.id}").text
    assert "Godkjenn beslutningen" not in page
    queue = anne.get("/saker?status=venter-godkjenning").text  # what waits for an attestant
    assert f"Sak {case.id}" in queue and "Venter på godkjenning" in queue
    page = anne.get(f"/saker/{case.id}").text
    r = anne.post(f"/saker/{case.id}/godkjenning", data={"csrf_token": csrf_of(page), "svar": "godkjenn",
                                                        "comment": "Kontrollert mot vedtaket"})
    assert r.status_code == 303
    fresh = env.store.get_case(case.id)
    assert (fresh.status, fresh.approved_by) == ("resolved", "anne")
    assert [c.id for c in env.store.pending_decisions(NAV)] == [case.id]
    trail = [e.action for e in env.store.audit_trail(case_id=case.id)]
    assert "case.decided" in trail and "case.approved" in trail


def test_bulk_is_all_or_nothing_and_previews_count_and_total(review_env):
    env = review_env
    a = env.nav_case(reference="B-1", nav_amount=1000.0, claim_amount=2000.0)
    b = env.nav_case(reference="B-2", nav_amount=2500.5, claim_amount=5001.0)
    no_claim = env.nav_case(reference="B-3", category="PAYMENT_WITHOUT_CLAIM")
    kari = env.client("kari")
    token = env.csrf(kari, "/saker")
    r = kari.post("/saker/handling", data={"csrf_token": token, "ids": [a.id, b.id, no_claim.id],
                                           "action": "approve_nav_amount", "comment": "Kontrollert"},
                  follow_redirects=True)
    assert "Ingen saker er lagret" in r.text and f"sak {no_claim.id}" in r.text
    assert all(env.store.get_case(c.id).status == "open" for c in (a, b, no_claim))
    r = kari.post("/saker/handling", data={"csrf_token": token, "ids": [a.id, b.id],
                                           "action": "approve_nav_amount", "comment": "Kontrollert"})
    assert r.status_code == 303 and r.headers["location"] == "/saker/valgte/forhandsvisning"  # PRG
    preview = kari.get(r.headers["location"])
    assert preview.status_code == 200 and "på 2 saker, til sammen 3\u00a0500,50\u00a0kr" in preview.text
    assert kari.get("/saker/valgte/forhandsvisning").text == preview.text  # a reload shows it again, posts nothing
    assert env.store.get_case(a.id).status == "open"
    kontroll = re.search(r'name="kontroll" value="([^"]+)"', preview.text).group(1)
    confirm = {"csrf_token": token, "ids": f"{a.id},{b.id}", "action": "approve_nav_amount",
               "comment": "Kontrollert", "bekreft": "ja", "kontroll": kontroll}
    # The case changed after the preview: the confirmation checks again and refuses.
    with env.store.session() as s:
        from workqueue.models import ExceptionCase

        row = s.get(ExceptionCase, b.id)
        row.evidence = {**row.evidence, "data": {**row.evidence["data"], "nav_ore": 150_000}}
    r = kari.post("/saker/handling", data=confirm, follow_redirects=True)
    assert "Sakene er endret siden forhåndsvisningen" in r.text
    assert all(env.store.get_case(c.id).status == "open" for c in (a, b))
    kontroll = re.search(r'name="kontroll" value="([^"]+)"', r.text).group(1)
    r = kari.post("/saker/handling", data={**confirm, "kontroll": kontroll}, follow_redirects=True)
    assert "2 saker er lagret" in r.text
    # Back to the preview after confirming: nothing is posted again (the cases are decided now).
    again = kari.get("/saker/valgte/forhandsvisning", follow_redirects=True)
    assert "Bekreft og lagre" not in again.text
    assert {env.store.get_case(c.id).decision["amount"] for c in (a, b)} == {1000.0, 1500.0}  # what was confirmed


def test_bulk_offers_only_the_actions_that_fit_every_selected_case(review_env):
    """Step 1 (the queue) posts the selection; step 2 (a GET page) offers only the decisions that
    fit every selected case: the same precondition and bound checks as the single-case page."""
    env = review_env
    a = env.nav_case(reference="V-1", nav_amount=1000.0, claim_amount=2000.0)
    b = env.nav_case(reference="V-2", nav_amount=2500.5, claim_amount=5001.0)
    no_claim = env.nav_case(reference="V-3", category="PAYMENT_WITHOUT_CLAIM")
    taken = env.nav_case(reference="V-4")
    env.store.assign(taken.id, "ola", "ola")
    kari = env.client("kari")
    token = env.csrf(kari, "/saker")

    def offered(ids):
        r = kari.post("/saker/handling", data={"csrf_token": token, "ids": ids, "action": "beslutning",
                                               "tilbake": "/saker?kategori=GRADE"})
        assert r.status_code == 303 and r.headers["location"].startswith("/saker/valgte?")
        page = kari.get(r.headers["location"]).text
        return page, set(re.findall(r'name="action" id="b-([a-z_]+)"', page))

    page, both = offered([a.id, b.id])
    single = set(re.findall(r'name="action" id="a-([a-z_]+)"', kari.get(f"/saker/{a.id}").text))
    assert "approve_nav_amount" in both and both <= single
    assert "Lagre beslutning for 2 saker" in page
    _page, mixed = offered([a.id, no_claim.id])
    assert "approve_nav_amount" not in mixed and "handled_manually" in mixed  # no claim: not offered
    page, with_taken = offered([a.id, taken.id])
    assert with_taken == set() and f"Sak {taken.id}: tatt av Ola Nordmann" in page
    assert "Fortsett uten disse sakene" in page
    # Hostile ids in the address: ignored, or not the user's (a case of another unit) – never shown.
    other = env.nav_case(org_unit="Bydel Frogner", reference="V-FROGNER")
    r = kari.get(f"/saker/valgte?sak={a.id}&sak=abc&sak=-1&sak={other.id}&tilbake=https://evil.example/")
    assert r.status_code == 200 and "V-FROGNER" not in r.text and 'href="https://evil' not in r.text
    assert f"Sak {other.id}: finnes ikke" in r.text
    # A posted action that is not offered is refused on submit too, with nothing stored.
    r = kari.post("/saker/handling", data={"csrf_token": token, "ids": [a.id, no_claim.id],
                                           "action": "approve_nav_amount", "comment": "x"}, follow_redirects=True)
    assert "Ingen saker er lagret" in r.text and env.store.get_case(a.id).status == "open"


def test_rpa_users_add_role_attestant(tmp_path, monkeypatch, fast_password_hashing):
    from typer.testing import CliRunner

    from config.settings import get_settings
    from review.cli import users_app

    monkeypatch.setenv("RPA_DATABASE__URL", f"sqlite:///{tmp_path / 'workqueue.db'}")
    monkeypatch.delenv("RPA_NEW_USER_PASSWORD", raising=False)
    get_settings.cache_clear()
    try:
        r = CliRunner().invoke(users_app, ["add", "atle", "--role", "attestant", "--org-unit", "Bydel Alna",
                                           "--password-stdin"], input="et-langt-passord\n")
        assert r.exit_code == 0, r.output
        assert "created atle (attestant" in r.output
        r = CliRunner().invoke(users_app, ["add", "uten", "--role", "attestant", "--password-stdin"],
                               input="et-langt-passord\n")
        assert r.exit_code != 0 and "minst én organisasjonsenhet" in r.output
    finally:
        get_settings.cache_clear()
