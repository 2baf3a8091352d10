"""Crash tests: `rpa run invoice-attachment-upload` is killed with SIGKILL at random moments while
it uploads, at least ten times, and run again each time; then once to the end. Afterwards the
finance system's own attachment list has no duplicates, the drop folder is empty, every input
file is kept exactly once (archived or quarantined), and every document's outcome in the
receipts equals the seed's ground truth. Once through the API, once through the web UI with
20 % HTTP 5xx and idle session expiry turned on.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

RPA = str(Path(sys.executable).with_name("rpa"))
PROCESS_ID = "invoice-attachment-upload"


def _processes_dir(tmp_path: Path, **rules) -> Path:
    """A copy of the catalogue with this test's rule overrides (fewer parallel uploads, so a run
    takes long enough to be killed in the middle of its uploads)."""
    from config.settings import DEFAULT_PROCESSES_DIR

    target = tmp_path / "processes"
    shutil.copytree(DEFAULT_PROCESSES_DIR, target)
    path = target / f"{PROCESS_ID}.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["rules"].update(rules)
    data["retry"].update({"backoff_seconds": 0.5, "max_backoff_seconds": 2})
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return target


def _start(env: dict[str, str], via: str) -> subprocess.Popen:
    return subprocess.Popen([RPA, "run", PROCESS_ID, "--json", "--via", via], env=env, cwd=str(Path.cwd()),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)


def _kill(proc: subprocess.Popen) -> None:
    """SIGKILL the run and everything it started (its browsers), as a power cut would."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.communicate(timeout=30)


# Last-resort hang guard for one run to show its first upload: generous, since under a load of
# 10 on two cores `rpa run` (imports, Chromium) can take a minute to start. The loops below are
# bounded by counts (kills, runs), never by the clock, so a busy machine only makes them slower.
FIRST_UPLOAD_HANG_GUARD = 300.0
# Last-resort hang guard for a whole run to the end (a web run of every file left, with faults, took
# more than 300 s once at a load of 25): a busy machine makes it slower, never wrong.
FINISH_HANG_GUARD = 900.0


def _kill_loop(invoice_env, env: dict[str, str], via: str, kills_wanted: int, rng: random.Random,
               window: float, max_runs: int | None = None) -> tuple[int, int]:
    """Start the run, wait until an upload lands in the finance system, wait a random moment,
    kill. Stops after `kills_wanted` kills or `max_runs` runs (default 3x the kills): a run that
    finishes inside the window is not a kill. Returns (kills during uploads, runs)."""
    max_runs = max_runs or 3 * kills_wanted
    kills = runs = 0
    while kills < kills_wanted and runs < max_runs:
        runs += 1
        before = invoice_env.sandbox.attachment_count()
        proc = _start(env, via)
        give_up = time.monotonic() + FIRST_UPLOAD_HANG_GUARD
        while proc.poll() is None and time.monotonic() < give_up:
            if invoice_env.sandbox.attachment_count() > before:
                break
            time.sleep(0.03)
        if proc.poll() is not None:  # the run finished on its own: nothing was left to upload
            out, err = proc.communicate()
            assert proc.returncode in (0, 1), err.decode(errors="replace")[-2000:]
            break
        if invoice_env.sandbox.attachment_count() == before:  # hung before its first upload: show why
            _kill(proc)
            raise AssertionError(f"run {runs} uploaded nothing in {FIRST_UPLOAD_HANG_GUARD:.0f} s")
        time.sleep(rng.uniform(0, window))
        if proc.poll() is None:
            _kill(proc)
            kills += 1
        else:
            proc.communicate()
    return kills, runs


def _finish(env: dict[str, str], via: str, attempts: int = 3) -> dict:
    """Run to the end; a run stopped by the fault knobs (system looked down) is run again."""
    data: dict = {}
    for _ in range(attempts):
        done = subprocess.run([RPA, "run", PROCESS_ID, "--json", "--via", via], env=env, capture_output=True,
                              timeout=FINISH_HANG_GUARD, cwd=str(Path.cwd()))
        assert done.returncode in (0, 1), done.stderr.decode(errors="replace")[-3000:]
        data = json.loads(done.stdout)
        if done.returncode == 0 and data["pending_files"] == 0:
            return data
    return data


def _assert_nothing_lost_nothing_twice(invoice_env, inbox_before: list[str]) -> None:
    assert invoice_env.duplicates() == [], "a document is attached twice to the same voucher"
    assert invoice_env.inbox_files() == [], "files left in the drop folder"
    kept = invoice_env.stored(invoice_env.archive) + invoice_env.stored(invoice_env.quarantine)
    assert len(kept) == len(inbox_before), sorted(p.name for p in kept)
    assert invoice_env.mismatches(invoice_env.outcomes_from_folders()) == []
    store = invoice_env.store()
    try:
        counts = store.counts(PROCESS_ID)
        assert counts.get("in_progress", 0) == 0 and counts.get("new", 0) == 0, counts
    finally:
        store.close()


@pytest.mark.slow
def test_sigkill_during_api_uploads_loses_nothing_and_attaches_nothing_twice(invoice_env, tmp_path):
    rng = random.Random(20261)
    invoice_env.sandbox.set_faults(latency_ms=60)
    env = invoice_env.cli_env()
    env["RPA_PATHS__PROCESSES_DIR"] = str(_processes_dir(tmp_path, api_concurrency=2, batch_size=4))
    inbox_before = invoice_env.inbox_files()
    kills, runs = _kill_loop(invoice_env, env, "api", 10, rng, window=0.4)
    assert kills >= 10, f"only {kills} kills during uploads in {runs} runs"
    invoice_env.sandbox.set_faults(latency_ms=0)
    summary = _finish(env, "api")
    assert summary["stopped"] == "" and summary["pending_files"] == 0
    _assert_nothing_lost_nothing_twice(invoice_env, inbox_before)


@pytest.mark.slow
def test_sigkill_during_api_uploads_with_5xx_and_token_expiry(invoice_env, tmp_path):
    """The API's session is its bearer token: tokens live 2 s here (fetched again before they run
    out, and on a 401), and one request in five answers 503."""
    rng = random.Random(20263)
    invoice_env.sandbox.set_config(token_ttl_seconds=2)
    invoice_env.sandbox.set_faults(error_rate=0.2, latency_ms=40)
    env = invoice_env.cli_env()
    env["RPA_PATHS__PROCESSES_DIR"] = str(_processes_dir(tmp_path, api_concurrency=2, batch_size=4))
    inbox_before = invoice_env.inbox_files()
    kills, runs = _kill_loop(invoice_env, env, "api", 10, rng, window=0.4)
    assert kills >= 10, f"only {kills} kills during uploads in {runs} runs"
    invoice_env.sandbox.set_faults(latency_ms=0)  # 5xx and short tokens stay on for the last run
    summary = _finish(env, "api")
    assert summary["pending_files"] == 0
    assert invoice_env.sandbox.app.state.faults.injected_errors > 0
    _assert_nothing_lost_nothing_twice(invoice_env, inbox_before)


class SessionReaper:
    """Test instrumentation on the in-process stand-in: counts logins and expiries, and every
    `every` seconds ends all live web sessions (what an idle timeout or a server restart does
    to a bot that happens to be busy), through the sessions' own public methods."""

    def __init__(self, sessions, every: float):
        import threading

        self.sessions = sessions
        self.tokens: list[str] = []
        self.expired = 0
        self.logins = 0
        self._new, self._get = sessions.new, sessions.get
        sessions.new, sessions.get = self.new, self.get
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._reap, args=(every,), daemon=True)
        self._thread.start()

    def new(self, user):
        token = self._new(user)
        self.logins += 1
        self.tokens.append(token)
        return token

    def get(self, token, idle_seconds):
        session, expired = self._get(token, idle_seconds)
        self.expired += expired
        return session, expired

    def _reap(self, every: float) -> None:
        while not self._stop.wait(every):
            for token in list(self.tokens):
                self.sessions.drop(token)
            self.tokens.clear()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)


@pytest.mark.slow
@pytest.mark.browser
def test_sigkill_during_web_uploads_with_5xx_and_session_expiry(invoice_env, tmp_path):
    rng = random.Random(20262)
    reaper = SessionReaper(invoice_env.sandbox.app.state.sessions, every=8.0)
    try:
        invoice_env.sandbox.set_faults(error_rate=0.2, session_idle_seconds=5.0)
        env = invoice_env.cli_env()
        env["RPA_PATHS__PROCESSES_DIR"] = str(_processes_dir(tmp_path, web_contexts=2, batch_size=4))
        inbox_before = invoice_env.inbox_files()
        kills, runs = _kill_loop(invoice_env, env, "web", 10, rng, window=1.0)
        assert kills >= 10, f"only {kills} kills during uploads in {runs} runs"
        summary = _finish(env, "web")  # 5xx and session expiry stay on for the last run too
    finally:
        reaper.stop()
    assert summary["pending_files"] == 0
    assert reaper.expired > 0, "no session expired: the test did not exercise logging in again"
    assert reaper.logins > 2 * (runs + 1), "the bot never logged in again after an expiry"
    assert invoice_env.sandbox.app.state.faults.injected_errors > 0
    assert invoice_env.duplicates() == []
    assert invoice_env.inbox_files() == []
    kept = invoice_env.stored(invoice_env.archive) + invoice_env.stored(invoice_env.quarantine)
    assert len(kept) == len(inbox_before)
    assert invoice_env.mismatches(invoice_env.outcomes_from_folders()) == []
