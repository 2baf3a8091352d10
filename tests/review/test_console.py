"""«Mine prosesser» (review/console.py): owners see and steer their own processes, admins all,
reviewers nothing; refusals by URL and by POST; the figures are the benefits computation's; the
definition page reads the definition and its version history. The browser test pauses, resumes and
runs a real deployment on the session's Prefect test server (never the default 127.0.0.1:4200)."""

from __future__ import annotations

from datetime import date

import pytest

from tests.fixtures.review import NAV, PASSWORD, VEHICLES

UNREACHABLE = "http://127.0.0.1:9/api"  # nothing listens: Prefect "does not answer"


@pytest.fixture
def no_prefect(monkeypatch):
    monkeypatch.setenv("PREFECT_API_URL", UNREACHABLE)


@pytest.fixture
def other_owner(review_env):
    from review.auth import add_user

    add_user(review_env.store, "bileier", "owner", PASSWORD, processes=[VEHICLES], full_name="Bil Eier")
    return "bileier"


def _run(store, process_id: str, run_id: str, status: str = "completed", cases: int = 10, automated: int = 8,
         exceptions: dict | None = None, content_hash: str = "a" * 64, day: date | None = None) -> None:
    from workqueue.figures import record_definition

    store.start_run(process_id, run_id)
    record_definition(store, run_id, content_hash, today=day or date(2026, 11, 3))
    store.finish_run(run_id, status, cases, automated, exceptions if exceptions is not None else {"GRADE": 2})


def _console_audit(store) -> list:
    return [e for e in store.audit_trail() if e.action.startswith(("schedule.", "run."))]


def test_a_reviewer_gets_no_console(review_env, no_prefect):
    c = review_env.client("kari")
    assert "/prosesser" not in c.get("/").text  # no menu entry
    for path in ("/prosesser", f"/prosesser/{NAV}", f"/prosesser/{NAV}/definisjon", f"/prosesser/{NAV}/kjor-na"):
        assert c.get(path).status_code == 403, path
    token = review_env.csrf(c)
    for path in (f"/prosesser/{NAV}/plan", f"/prosesser/{NAV}/kjor-na"):
        r = c.post(path, data={"csrf_token": token, "handling": "pause", "comment": "x", "bekreft": "ja"})
        assert r.status_code == 403, path
    assert _console_audit(review_env.store) == []


def test_an_owner_of_another_process_is_refused_by_url_and_by_post(review_env, other_owner, no_prefect):
    c = review_env.client(other_owner)
    page = c.get("/prosesser")
    assert page.status_code == 200
    assert "Kjøretøy" in page.text or VEHICLES in page.text
    assert f"/prosesser/{NAV}" not in page.text
    for path in (f"/prosesser/{NAV}", f"/prosesser/{NAV}/definisjon", f"/prosesser/{NAV}/kjor-na",
                 "/prosesser/finnes-ikke"):
        assert c.get(path).status_code == 404, path
    token = review_env.csrf(c)
    for path in (f"/prosesser/{NAV}/plan", f"/prosesser/{NAV}/kjor-na"):
        r = c.post(path, data={"csrf_token": token, "handling": "pause", "comment": "Ferie", "bekreft": "ja"})
        assert r.status_code == 404, path
    # ...and without the CSRF token, refused before anything else.
    assert c.post(f"/prosesser/{NAV}/plan", data={"handling": "pause", "comment": "x"}).status_code == 403
    assert _console_audit(review_env.store) == []


def test_the_cards_show_only_the_owners_processes_with_the_shared_figures(review_env, no_prefect):
    from review.queries import benefit_totals, benefits

    env = review_env
    _run(env.store, NAV, "nav-1", cases=10, automated=8, exceptions={"GRADE": 1, "AMOUNT_DIFFERENCE": 1})
    _run(env.store, NAV, "nav-2", status="failed", cases=4, automated=1, exceptions={"GRADE": 3},
         content_hash="b" * 64, day=date(2026, 11, 20))
    _run(env.store, VEHICLES, "veh-1", cases=99, automated=99)
    env.nav_case()
    page = env.client("eier").get("/prosesser")
    assert page.status_code == 200, page.text
    html = page.text
    st = env.app.state.review
    assert st.catalogue[NAV].name in html and st.catalogue[VEHICLES].name not in html
    assert "Mine prosesser" in html and 'aria-current="page"' in html
    assert "Planstatus fra Prefect mangler" in html  # Prefect not reachable: said, not hidden
    assert "kl. 07:00 den 3. hver måned" in html  # config.schedule_text's words
    assert html.count("<li>") >= 5  # the next five run times
    assert "Feilet" in html and "versjon 2" in html and "versjon 1" in html
    # The year's benefits: the very rows the benefits page computes.
    year = benefit_totals(benefits(st.reader, [NAV], st.catalogue))[NAV]
    assert year.cases_total == 14
    assert f"{year.automated} av {year.cases_total} saker automatisk" in html
    assert "80,0 %" in html or "80 %" in html  # run nav-1: 8 of 10 automated
    # An admin sees every process.
    admin = env.client("admin").get("/prosesser").text
    assert st.catalogue[NAV].name in admin and st.catalogue[VEHICLES].name in admin


def test_a_comment_is_required_and_the_refusal_comes_back_on_top(review_env, no_prefect):
    c = review_env.client("eier")
    token = review_env.csrf(c)
    r = c.post(f"/prosesser/{NAV}/plan", data={"csrf_token": token, "handling": "pause", "comment": "  "})
    assert r.status_code == 303 and r.headers["location"] == f"/prosesser/{NAV}#feil"
    page = c.get(f"/prosesser/{NAV}").text
    assert 'class="error-summary"' in page and "Skriv en kommentar" in page
    assert page.index("error-summary") < page.index("Planen</h2>")
    # With a comment but no Prefect: refused with Prefect's reason, nothing recorded.
    r = c.post(f"/prosesser/{NAV}/plan", data={"csrf_token": token, "handling": "pause", "comment": "Ferie"})
    assert r.status_code == 303
    assert "Fikk ikke kontakt med Prefect" in c.get(f"/prosesser/{NAV}").text
    assert _console_audit(review_env.store) == []


def test_the_definition_page_reads_the_rules_and_the_versions_with_their_runs(review_env, no_prefect):
    env = review_env
    _run(env.store, NAV, "nav-old", content_hash="a" * 64, day=date(2026, 10, 3))
    _run(env.store, NAV, "nav-new", content_hash="b" * 64, day=date(2026, 11, 3))
    html = env.client("eier").get(f"/prosesser/{NAV}/definisjon").text
    d = env.app.state.review.catalogue[NAV]
    assert "Regler og toleranser" in html and "Grenser for fire øyne" in html
    assert f"config/processes/{NAV}.yaml" in html and "går gjennom og godkjenner" in html
    for c in d.exception_categories:
        assert c.code in html and c.meaning in html
    assert f"{d.personal_data.retention_days} dager" in html.replace("\u00a0", "") or \
        f"{d.personal_data.retention_days:,}".replace(",", "\u00a0") in html
    assert 'id="versjon-2"' in html and 'id="versjon-1"' in html and 'href="#versjon-2"' in html
    assert html.index("nav-new") < html.index("nav-old")  # newest version first
    assert "Days a period may differ and still match." in html  # the meaning, as the catalogue page reads it


# ---------------------------------------------------------------------------- in Chromium, on Prefect


@pytest.fixture
def nav_deployment(prefect_harness, monkeypatch):
    """The NAV deployment registered on the session's Prefect test server; the console is pointed
    at that server. Runs this test starts are deleted afterwards (no worker of a later test runs them)."""
    from prefect import get_client
    from prefect.settings import PREFECT_API_URL

    from connectors.prefect_deployments import DeploymentClient
    from rpa.deployments import register, specs_from_catalogue

    specs, _ = specs_from_catalogue(processes=[NAV])
    [registered] = register(specs)
    api_url = PREFECT_API_URL.value()
    assert api_url and ":4200" not in api_url
    monkeypatch.setenv("PREFECT_API_URL", api_url)
    client = DeploymentClient(api_url)
    before = {r.id for r in client.flow_runs(client.deployment(NAV), limit=200)}
    yield client
    d = client.deployment(NAV)
    with get_client(sync_client=True) as prefect:
        for r in client.flow_runs(d, limit=200):
            if r.id not in before and not r.auto_scheduled:
                prefect.delete_flow_run(r.id)
    if not d.schedule_active:
        client.set_schedule_active(d, True)
    assert registered.deployment_id == d.id


@pytest.mark.browser
@pytest.mark.prefect
def test_an_owner_pauses_resumes_and_runs_now_in_chromium(served, nav_deployment, other_owner, tmp_path):
    from playwright.sync_api import expect, sync_playwright

    from tests.review.test_layout_a11y import LAPTOP, ZOOM_200, _axe, _login, _overflow, _too_wide

    env, url = served
    client = nav_deployment
    assert client.deployment(NAV).schedule_active
    _run(env.store, NAV, "nav-1", cases=12, automated=9)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(**env.settings.browser.launch_options())
        context = browser.new_context(viewport=LAPTOP, locale="nb-NO", timezone_id="Europe/Oslo", bypass_csp=True)
        context.set_default_timeout(20_000)
        page = context.new_page()
        _login(page, url, "eier")

        page.get_by_role("link", name="Mine prosesser").click()
        page.get_by_role("heading", name="Mine prosesser").wait_for()
        st = env.app.state.review
        expect(page.get_by_role("heading", level=2)).to_have_count(1)  # NAV only: the owner's one process
        expect(page.get_by_role("heading", name=st.catalogue[NAV].name)).to_be_visible()
        expect(page.get_by_text("Planen er aktiv")).to_be_visible()
        problems = {}

        def check(name: str) -> None:
            if _overflow(page) > 0:
                problems[name] = f"scrolls sideways: {_too_wide(page)}"
            if v := _axe(page):
                problems[name] = v

        check("mine prosesser")

        # Pause: a comment is needed; without one the error summary says so on top.
        page.get_by_role("link", name="Plan og «Kjør nå»").first.click()
        page.get_by_role("heading", name="Planen").wait_for()
        check("plan")
        page.get_by_role("button", name="Sett planen på pause").click()
        page.locator("#feil").get_by_role("link", name="Skriv en kommentar").wait_for()
        check("plan med feil")
        page.get_by_label("Kommentar (må fylles ut)").first.fill("Sommerferie: NAV-rapporten kommer ikke i juli.")
        page.get_by_role("button", name="Sett planen på pause").click()
        page.get_by_text("Planen er satt på pause.").first.wait_for()
        assert not client.deployment(NAV).schedule_active  # Prefect's schedule changed
        assert all(not s.active for s in client.deployment(NAV).schedules)
        expect(page.get_by_text("Ingen planlagte kjøringer mens planen står på pause.")).to_be_visible()
        paused = [e for e in _console_audit(env.store) if e.action == "schedule.paused"]
        assert len(paused) == 1 and paused[0].actor == "eier" and paused[0].process_id == NAV
        assert paused[0].details["comment"].startswith("Sommerferie")

        # Resume.
        page.get_by_label("Kommentar (må fylles ut)").first.fill("Ferien er over.")
        page.get_by_role("button", name="Start planen igjen").click()
        page.get_by_text("Planen er startet igjen.").wait_for()
        assert client.deployment(NAV).schedule_active
        assert [e.action for e in _console_audit(env.store)] == ["schedule.paused", "schedule.resumed"]

        # «Kjør nå»: the parameters and the comment on a confirmation page, then the run in Prefect.
        page.get_by_label("Kommentar (må fylles ut)").nth(1).fill("Rapporten kom i dag; kjører før fristen.")
        page.get_by_role("button", name="Kjør nå …").click()
        page.get_by_role("heading", name=f"Kjør {st.catalogue[NAV].name} nå?").wait_for()
        expect(page.get_by_text("Rapporten kom i dag")).to_be_visible()
        check("bekreft kjør nå")
        requested_before = [r for r in client.flow_runs(client.deployment(NAV), limit=200) if not r.auto_scheduled]
        page.get_by_role("button", name="Bekreft: kjør nå").click()
        page.get_by_text("er bestilt").wait_for()
        runs = [r for r in client.flow_runs(client.deployment(NAV), limit=200) if not r.auto_scheduled]
        assert len(runs) == len(requested_before) + 1
        new = next(r for r in runs if r.id not in {x.id for x in requested_before})
        expect(page.locator("li", has_text=new.name)).to_contain_text("Planlagt")  # the run, with its state
        # A worker would pick it up; here the run is executed by id, and the console shows its outcome.
        import subprocess
        import sys
        from pathlib import Path

        done = subprocess.run([str(Path(sys.executable).with_name("prefect")), "flow-run", "execute", str(new.id)],
                              cwd=Path(__file__).resolve().parents[2], capture_output=True, text=True, timeout=900)
        final = next(r for r in client.flow_runs(client.deployment(NAV), limit=200) if r.id == new.id)
        assert final.state_type in ("COMPLETED", "FAILED"), (final, done.stdout[-2000:], done.stderr[-2000:])
        page.reload()
        expect(page.locator("li", has_text=new.name)).not_to_contain_text("Planlagt")
        expect(page.locator("li", has_text=new.name)).to_contain_text(final.state_name)
        requested = [e for e in _console_audit(env.store) if e.action == "run.requested"]
        assert len(requested) == 1 and requested[0].details["flow_run"] == new.id
        # Back to the confirmation page: the form is used up, no second run.
        page.go_back()
        page.get_by_role("heading", name="Planen").wait_for()
        assert len([r for r in client.flow_runs(client.deployment(NAV), limit=200) if not r.auto_scheduled]) == len(runs)

        # The audit trail shows the three actions to the owner.
        page.goto(f"{url}/logg")
        for label in ("Plan satt på pause", "Plan startet igjen", "Kjøring bestilt"):
            expect(page.get_by_role("cell", name=label).first).to_be_visible()

        page.goto(f"{url}/prosesser/{NAV}/definisjon")
        page.get_by_role("heading", name="Versjonshistorikk").wait_for()
        check("definisjon")
        page.set_viewport_size(ZOOM_200)  # 200 % zoom on the laptop: still no sideways scrolling
        for path in ("/prosesser", f"/prosesser/{NAV}", f"/prosesser/{NAV}/definisjon"):
            page.goto(url + path)
            if _overflow(page) > 0:
                problems[f"200 % {path}"] = _too_wide(page)
        assert problems == {}

        # Another process's owner: refused by URL.
        other = browser.new_context(viewport=LAPTOP, locale="nb-NO").new_page()
        _login(other, url, other_owner)
        response = other.goto(f"{url}/prosesser/{NAV}")
        assert response.status == 404
        browser.close()
    assert client.deployment(NAV).schedule_active
