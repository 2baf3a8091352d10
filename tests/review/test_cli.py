"""`rpa users …` and `rpa review`: the commands an administrator types."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from review.cli import users_app
from tests.fixtures.review import FNR_A, csrf_of
from workqueue.store import WorkQueueStore

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def cli_env(tmp_path, monkeypatch, fast_password_hashing):
    url = f"sqlite:///{tmp_path / 'workqueue.db'}"
    monkeypatch.setenv("RPA_DATABASE__URL", url)
    monkeypatch.delenv("RPA_NEW_USER_PASSWORD", raising=False)
    from config.settings import get_settings

    get_settings.cache_clear()
    yield url
    get_settings.cache_clear()


def test_users_add_list_unlock_set_password(cli_env):
    runner = CliRunner()
    r = runner.invoke(users_app, ["add", "kari.nordmann", "--role", "reviewer", "--org-unit", "Bydel Alna",
                                  "--org-unit", "Bydel Grorud", "--process", "nav-refund-offsetting",
                                  "--full-name", "Kari Nordmann", "--password-stdin"], input="et-langt-passord\n")
    assert r.exit_code == 0, r.output
    assert "created kari.nordmann (reviewer; units: Bydel Alna, Bydel Grorud; processes: nav-refund-offsetting)" in r.output
    r = runner.invoke(users_app, ["add", "admin", "--role", "admin"], env={"RPA_NEW_USER_PASSWORD": "admin-passord-123"})
    assert r.exit_code == 0, r.output
    # Clear errors for what cannot be done.
    for args, stdin, message in [
        (["add", "x1", "--role", "boss", "--org-unit", "A", "--password-stdin"], "et-langt-passord\n", "Ukjent rolle"),
        (["add", "x2", "--role", "reviewer", "--password-stdin"], "et-langt-passord\n", "minst én organisasjonsenhet"),
        (["add", "x3", "--role", "reviewer", "--org-unit", "A", "--password-stdin"], "kort\n", "minst 10 tegn"),
        (["add", "x4", "--role", "reviewer", "--org-unit", "A", "--process", "finnes-ikke", "--password-stdin"],
         "et-langt-passord\n", "Ukjent prosess"),
        (["add", "kari.nordmann", "--role", "reviewer", "--org-unit", "A", "--password-stdin"], "et-langt-passord\n",
         "finnes allerede"),
        (["add", "Ugyldig Navn!", "--role", "reviewer", "--org-unit", "A", "--password-stdin"], "et-langt-passord\n",
         "Brukernavnet"),
        (["add", "x5", "--role", "reviewer", "--org-unit", "A"], "", "no password"),  # no terminal, no env
    ]:
        r = runner.invoke(users_app, args, input=stdin)
        assert r.exit_code == 2, (args, r.output)
        assert message in r.output, (args, r.output)
    r = runner.invoke(users_app, ["list"])
    assert "kari.nordmann" in r.output and "admin" in r.output and "active" in r.output
    # Lock by wrong passwords, unlock from the command line.
    from review.auth import authenticate

    store = WorkQueueStore(cli_env)
    for _ in range(5):
        authenticate(store, "kari.nordmann", "feil", max_failed=5)
    assert "LOCKED" in runner.invoke(users_app, ["list"]).output
    r = runner.invoke(users_app, ["unlock", "kari.nordmann"])
    assert r.exit_code == 0 and authenticate(store, "kari.nordmann", "et-langt-passord", 5).ok
    r = runner.invoke(users_app, ["set-password", "kari.nordmann", "--password-stdin"], input="nytt-langt-passord\n")
    assert r.exit_code == 0, r.output
    assert not authenticate(store, "kari.nordmann", "et-langt-passord", 5).ok
    assert authenticate(store, "kari.nordmann", "nytt-langt-passord", 5).ok
    assert runner.invoke(users_app, ["unlock", "ukjent"]).exit_code == 2
    store.close()


def test_review_refuses_the_default_secret_beyond_this_machine(cli_env):
    from review.cli import review_app

    r = CliRunner().invoke(review_app, ["--host", "0.0.0.0"])
    assert r.exit_code == 2 and "RPA_REVIEW__SESSION_SECRET" in r.output


@pytest.mark.slow
def test_rpa_users_add_and_rpa_review_serve_for_real(tmp_path):
    """The installed command line end to end: create a user, serve, log in over HTTP, stop."""
    from sandbox.server import free_port

    port = free_port()
    env = {**os.environ, "RPA_DATABASE__URL": f"sqlite:///{tmp_path / 'workqueue.db'}",
           "RPA_PATHS__DATA_DIR": str(tmp_path), "RPA_REVIEW__PORT": str(port)}
    add = subprocess.run([sys.executable, "-m", "rpa", "users", "add", "kari", "--role", "reviewer", "--org-unit",
                          "Bydel Alna", "--password-stdin"], input="et-langt-passord\n", env=env, cwd=ROOT,
                         capture_output=True, text=True, timeout=120)
    assert add.returncode == 0, add.stderr
    log = tmp_path / "review.log"
    with log.open("w") as out:
        proc = subprocess.Popen([sys.executable, "-m", "rpa", "review"], env=env, cwd=ROOT, stdout=out,
                                stderr=subprocess.STDOUT)
        try:
            base = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 240  # hang guard only (loaded machine)
            while True:
                try:
                    if httpx.get(f"{base}/helse", timeout=2).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                assert proc.poll() is None, log.read_text()
                assert time.monotonic() < deadline, "rpa review did not start"
                time.sleep(0.2)
            with httpx.Client(base_url=base) as c:
                assert c.get("/saker").status_code == 303
                page = c.get("/login")
                r = c.post("/login", data={"username": "kari", "password": "et-langt-passord",
                                           "csrf_token": csrf_of(page.text)})
                assert r.status_code == 303
                r = c.get("/saker", params={"sok": FNR_A})  # on to the keyed hash: the fnr leaves the URL
                assert r.status_code == 303 and FNR_A not in r.headers["location"]
                r = c.get(r.headers["location"])
                assert r.status_code == 200 and "Søker på hele fødselsnummeret" in r.text
        finally:
            proc.terminate()
            proc.wait(timeout=20)
    text = log.read_text()
    assert "GET /saker?sok=" in text  # the access log is on ...
    assert FNR_A not in text  # ... and scrubbed
