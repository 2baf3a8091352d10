"""Screenshots of the review app for the README: `python -m review.screenshots [--out DIR]`.

Seeds a showcase queue in a temporary store, serves the app on a free port, logs in as a
reviewer with Playwright in Chromium (1366x800, a common municipal laptop screen) and saves
overview.png, queue.png, case.png and case-system.png. With --console: the process owners'
console against a Prefect test server it starts (console.png, console-plan.png, console-definition.png).
"""

from __future__ import annotations

import argparse
import os
import tempfile
from datetime import timedelta
from pathlib import Path

VIEWPORT = {"width": 1366, "height": 800}
BOT_ERROR_PAGE = """<html><body style="margin:0;font-family:sans-serif;background:#f4f4f4">
<div style="background:#3b3f46;color:#fff;padding:12px 20px;font-size:18px">Økonomisystemet · Bilag 412233</div>
<div style="margin:40px auto;width:640px;background:#fff;border:1px solid #ccc;padding:24px">
<h1 style="color:#a4161a;font-size:24px">503 Tjenesten er midlertidig utilgjengelig</h1>
<p>Opplasting av vedlegg kunne ikke fullføres. Prøv igjen senere.</p>
<p style="color:#777">Feilkode: ERP-UPL-503 · 23.11.2026 21:14:08</p></div></body></html>"""
PASSWORD = "demo-passord-2026"


def take(out: Path) -> list[Path]:
    from playwright.sync_api import sync_playwright

    from config.settings import DatabaseSettings, PathSettings, Settings
    from review import demo
    from review.app import create_app
    from review.auth import add_user
    from sandbox.server import start_in_thread
    from workqueue.store import WorkQueueStore

    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="review-shots-") as tmp:
        url = f"sqlite:///{Path(tmp) / 'workqueue.db'}"
        settings = Settings(database=DatabaseSettings(url=url), paths=PathSettings(data_dir=Path(tmp)))
        store = WorkQueueStore(url)
        units = demo.NAV_UNITS + demo.FLEET_UNITS + demo.FINANCE_UNITS
        add_user(store, "kari.nordmann", "reviewer", PASSWORD, org_units=units, full_name="Kari Nordmann")
        add_user(store, "per.hansen", "reviewer", PASSWORD, org_units=units, full_name="Per Hansen")
        with sync_playwright() as pw:  # what a bot's failure screenshot looks like
            browser = pw.chromium.launch(**settings.browser.launch_options())
            page = browser.new_page(viewport={"width": 900, "height": 420})
            page.set_content(BOT_ERROR_PAGE)
            bot_png = page.screenshot()
            browser.close()
        picked = demo.seed_showcase(store, screenshot=bot_png)
        # A lived-in queue: some cases taken by a colleague, some already decided.
        for c in store.cases(demo.NAV, status="open", limit=30)[::3]:
            store.assign(c.id, "per.hansen", "per.hansen")
        for c in store.cases(demo.VEHICLES, status="open", limit=8):
            store.decide(c.id, "per.hansen", "handled_manually", "Rettet i kjøretøylisten.")
        server = start_in_thread(create_app(settings, store), name="review")
        shots: list[Path] = []
        try:
            with sync_playwright() as pw:
                browser = pw.chromium.launch(**settings.browser.launch_options())
                page = browser.new_page(viewport=VIEWPORT, locale="nb-NO", timezone_id="Europe/Oslo")
                log_in(page, server.url, "kari.nordmann")
                shots.append(_shot(page, out / "overview.png"))
                page.goto(f"{server.url}/saker?prosess={demo.NAV}")
                page.get_by_role("heading", name="Saker").wait_for()
                shots.append(_shot(page, out / "queue.png"))
                page.goto(f"{server.url}/saker/{picked['nav']}")
                page.get_by_role("heading", name="Hva roboten fant").wait_for()
                shots.append(_shot(page, out / "case.png"))
                page.goto(f"{server.url}/saker/{picked['system']}")
                page.get_by_role("img").first.wait_for()
                shots.append(_shot(page, out / "case-system.png"))
                browser.close()
        finally:
            server.stop()
            store.close()
    return shots


def take_console(out: Path) -> list[Path]:
    """«Mine prosesser» as an owner of two processes sees it: run records over a few months, the
    deployments on a Prefect test server (started here, never a running one), one «Kjør nå»."""
    from playwright.sync_api import sync_playwright
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.actions import DeploymentScheduleCreate
    from prefect.client.schemas.schedules import CronSchedule
    from prefect.settings import PREFECT_API_URL
    from prefect.testing.utilities import prefect_test_harness
    from sqlalchemy import update

    from config.settings import DatabaseSettings, PathSettings, Settings
    from connectors.prefect_api import BASE_TAG
    from review import demo
    from review.app import create_app
    from review.auth import add_user
    from sandbox.server import start_in_thread
    from workqueue.figures import record_definition
    from workqueue.models import ProcessRun
    from workqueue.store import WorkQueueStore, utcnow

    out.mkdir(parents=True, exist_ok=True)
    shots: list[Path] = []
    with tempfile.TemporaryDirectory(prefix="review-shots-") as tmp, prefect_test_harness(server_startup_timeout=600):
        url = f"sqlite:///{Path(tmp) / 'workqueue.db'}"
        settings = Settings(database=DatabaseSettings(url=url), paths=PathSettings(data_dir=Path(tmp)))
        store = WorkQueueStore(url)
        app = create_app(settings, store)
        catalogue = app.state.review.catalogue
        add_user(store, "eva.eier", "owner", PASSWORD, processes=[demo.NAV, demo.VEHICLES], full_name="Eva Eier")
        demo.seed_showcase(store)
        now = utcnow()
        plan = [(demo.NAV, 62, 48, {"GRADE": 9, "AMOUNT_DIFFERENCE": 3, "CLAIM_UNPAID_PENDING": 2}, "completed"),
                (demo.VEHICLES, 140, 131, {"DEREGISTERED": 6, "NOT_FOUND": 3}, "completed")]
        for pid, cases, automated, exceptions, status in plan:
            for months_ago in (3, 2, 1, 0):
                run_id, started = f"{pid}-{months_ago}", now - timedelta(days=30 * months_ago + 1)
                store.start_run(pid, run_id)
                record_definition(store, run_id, ("b" if months_ago < 2 else "a") * 64, today=started.date())
                failed = pid == demo.NAV and months_ago == 1
                store.finish_run(run_id, "failed" if failed else status, cases - 5 * months_ago,
                                 (automated - 5 * months_ago) if not failed else 10, exceptions)
                with store.session() as s:
                    s.execute(update(ProcessRun).where(ProcessRun.run_id == run_id).values(started_at=started))
        with get_client(sync_client=True) as client:
            for pid in (demo.NAV, demo.VEHICLES):
                d = catalogue[pid]
                flow_id = client.create_flow_from_name(pid.replace("-", "_"))
                client.create_deployment(flow_id=flow_id, name=pid, parameters=dict(d.parameters),
                                         tags=[BASE_TAG, pid], schedules=[DeploymentScheduleCreate(
                                             schedule=CronSchedule(cron=d.schedule.cron, timezone=d.schedule.timezone),
                                             active=d.schedule.active)])
        os.environ["PREFECT_API_URL"] = PREFECT_API_URL.value()
        server = start_in_thread(app, name="review")
        try:
            with sync_playwright() as pw:
                browser = pw.chromium.launch(**settings.browser.launch_options())
                page = browser.new_page(viewport=VIEWPORT, locale="nb-NO", timezone_id="Europe/Oslo")
                log_in(page, server.url, "eva.eier")
                page.goto(f"{server.url}/prosesser")
                page.get_by_role("heading", name="Mine prosesser").wait_for()
                shots.append(_shot(page, out / "console.png"))
                page.goto(f"{server.url}/prosesser/{demo.NAV}")
                page.get_by_label("Kommentar (må fylles ut)").nth(1).fill("Rapporten kom i dag; kjører før fristen.")
                page.get_by_role("button", name="Kjør nå …").click()
                page.get_by_role("button", name="Bekreft: kjør nå").click()
                page.get_by_text("er bestilt").wait_for()
                shots.append(_shot(page, out / "console-plan.png"))
                page.goto(f"{server.url}/prosesser/{demo.NAV}/definisjon")
                page.get_by_role("heading", name="Regler og toleranser").wait_for()
                shots.append(_shot(page, out / "console-definition.png"))
                browser.close()
        finally:
            os.environ.pop("PREFECT_API_URL", None)
            server.stop()
            store.close()
    return shots


def log_in(page, url: str, username: str, password: str = PASSWORD) -> None:
    """Log in through the form as a person would (the screenshots and the browser tests)."""
    page.goto(f"{url}/login")
    page.get_by_label("Brukernavn").fill(username)
    page.get_by_label("Passord").fill(password)
    page.get_by_role("button", name="Logg inn").click()
    page.get_by_role("button", name="Logg ut").wait_for()


def _shot(page, path: Path) -> Path:
    page.screenshot(path=str(path), full_page=False)
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=Path("docs/screenshots"))
    parser.add_argument("--console", action="store_true", help="Only the process owners' console.")
    args = parser.parse_args()
    os.environ.setdefault("RPA_PATHS__DATA_DIR", tempfile.mkdtemp(prefix="review-shots-data-"))
    for p in (take_console(args.out) if args.console else take(args.out)):
        print(f"wrote {p}")


if __name__ == "__main__":
    main()
