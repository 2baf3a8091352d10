"""A local Prefect server (and workers) as child processes: the demo, `rpa server` and tests.

Prefect's ephemeral mode loses history when the script exits (see prefect-facts), so anything an
operator should see in the UI runs against a real server. This module starts Prefect's server
(what ``prefect server start`` runs, rpa/prefect_asgi.py) with the environment this project wants
(its own PREFECT_HOME under the data folder, analytics off, the task-run recorder's larger
batches, a UI URL for links, Prefect's basic auth on the API), waits until ``/api/health`` answers, and stops the whole
process group on exit.

The server is never open: it requires the `user:password` of ``settings.prefect.auth_string``
or, when that is unset, one generated at the first start and kept in
``<prefect home>/auth_string`` (mode 0600), where workers, `rpa deploy`/`serve` and later
commands on the same data folder find it. Prefect leaves only ``GET /api/health`` and
``/api/ready`` open (probes). The UI is behind the same log-in (rpa/prefect_asgi.py): the browser
asks for the user name and password (the two halves of the string) before it serves a page.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

from config.settings import Settings, get_settings
from flows.kit.prefect_api import (  # noqa: F401  (re-exported)
    AUTH_FILE,
    api_healthy,
    auth_file,
    client_settings,
    read_auth_string,
)

# Measured on 2 cores: the default batch of 1 makes 1000 task runs take 32-42 s to show as
# Completed; 200 brings it to 7-11 s.
SERVER_TUNING = {
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "PREFECT_SERVER_SERVICES_TASK_RUN_RECORDER_BATCH_SIZE": "200",
    "PREFECT_SERVER_SERVICES_TASK_RUN_RECORDER_READ_BATCH_SIZE": "200",
}


AUTH_USER = "admin"  # what Prefect's log-in page suggests ("admin:pass")


def ensure_auth_string(settings: Settings | None = None, home: Path | None = None) -> tuple[str, bool]:
    """(`user:password`, generated now?): the configured or stored one, or a new random one
    written to ``<home>/auth_string`` readable by the owner only."""
    existing = read_auth_string(settings, home)
    if existing:
        return existing, False
    path = auth_file(settings, home)
    path.parent.mkdir(parents=True, exist_ok=True)
    value = f"{AUTH_USER}:{secrets.token_urlsafe(18)}"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(value + "\n")
    os.chmod(path, 0o600)  # an existing empty file keeps its old mode through O_CREAT
    return value, True


def prefect_env(settings: Settings | None = None, *, api_url: str | None = None, ui_url: str | None = None,
                home: Path | None = None, database_url: str | None = None,
                base: Mapping[str, str] | None = None, auth_string: str | None = None) -> dict[str, str]:
    """Environment for a Prefect server, worker or client process of this project.

    `base` defaults to the current environment; everything the runner itself reads (RPA_*) is
    passed on, so flow runs started by a worker see the same settings as the caller. The API
    log-in (`auth_string`, default: `read_auth_string`) goes in as PREFECT_API_AUTH_STRING, so
    workers and the flow runs they start authenticate."""
    settings = settings or get_settings()
    env = dict(os.environ if base is None else base)
    env.update(SERVER_TUNING)
    env["PREFECT_HOME"] = str((home or settings.prefect_home).resolve())
    auth = auth_string or read_auth_string(settings, home)
    if auth:
        env["PREFECT_API_AUTH_STRING"] = auth
    env["PREFECT_API_URL"] = api_url or settings.prefect.api_url
    env["PREFECT_UI_URL"] = ui_url or settings.prefect.ui_url
    env["PREFECT_SERVER_UI_API_URL"] = env["PREFECT_API_URL"]
    # Flow runs resolve the data folder from their own working directory: pin it absolute.
    env["RPA_PATHS__DATA_DIR"] = str(settings.paths.data_dir.resolve())
    env.setdefault("PYTHONUNBUFFERED", "1")
    if database_url:
        env["PREFECT_API_DATABASE_CONNECTION_URL"] = database_url
    retention = settings.prefect.flow_run_retention_days
    if retention:  # without this the server keeps every flow run forever (prefect-facts)
        env["PREFECT_SERVER_SERVICES_DB_VACUUM_ENABLED"] = "events,flow_runs"
        env["PREFECT_SERVER_SERVICES_DB_VACUUM_RETENTION_PERIOD"] = str(retention * 86400)
    return env


def wait_healthy(api_url: str, timeout: float = 120.0, process: subprocess.Popen | None = None,
                 log_file: Path | None = None) -> None:
    deadline = time.monotonic() + timeout
    while not api_healthy(api_url):
        if process is not None and process.poll() is not None:
            tail = _tail(log_file) if log_file else ""
            raise RuntimeError(f"the Prefect server exited with code {process.returncode}\n{tail}")
        if time.monotonic() > deadline:
            raise TimeoutError(f"the Prefect server at {api_url} did not answer /health within {timeout:.0f} s")
        time.sleep(0.25)


def _tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


@dataclass
class ChildProcess:
    """A child started in its own process group, so stopping it stops what it started."""

    name: str
    process: subprocess.Popen
    log_file: Path
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def pid(self) -> int:
        return self.process.pid

    def running(self) -> bool:
        return self.process.poll() is None

    def stop(self, timeout: float = 20.0) -> None:
        """SIGTERM to the group; a Prefect worker ignores the first one (prefect-facts), so a
        second SIGTERM follows after a few seconds and SIGKILL after `timeout`."""
        if not self.running():
            return
        deadline = time.monotonic() + timeout
        second_sent = False
        self._signal(signal.SIGTERM)
        while self.running():
            elapsed = timeout - (deadline - time.monotonic())
            if not second_sent and elapsed > 3:
                self._signal(signal.SIGTERM)
                second_sent = True
            if time.monotonic() > deadline:
                self._signal(signal.SIGKILL)
                break
            time.sleep(0.1)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=5)

    def _signal(self, sig: int) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, sig)


def spawn(name: str, args: list[str], env: Mapping[str, str], log_file: Path, cwd: Path | None = None) -> ChildProcess:
    log_file.parent.mkdir(parents=True, exist_ok=True)
    out = open(log_file, "ab")  # noqa: SIM115 - the child owns it; closed when the child ends
    try:
        process = subprocess.Popen(args, env=dict(env), stdout=out, stderr=subprocess.STDOUT,
                                   stdin=subprocess.DEVNULL, cwd=cwd, start_new_session=True)
    finally:
        out.close()
    return ChildProcess(name, process, log_file)


@dataclass
class PrefectServer:
    """Prefect's server (as ``prefect server start`` runs it, UI behind the log-in) on the host/port
    of `api_url`, in its own process group."""

    api_url: str
    env: dict[str, str]
    log_file: Path
    child: ChildProcess | None = None
    auth_generated: bool = False  # the log-in was generated for this start: show it once

    @classmethod
    def from_settings(cls, settings: Settings | None = None, *, api_url: str | None = None,
                      ui_url: str | None = None, home: Path | None = None,
                      database_url: str | None = None) -> PrefectServer:
        settings = settings or get_settings()
        api_url = api_url or settings.prefect.api_url
        if ui_url is None:
            ui_url = settings.prefect.ui_url if api_url == settings.prefect.api_url else api_url.removesuffix("/api")
        auth, generated = ensure_auth_string(settings, home)
        env = prefect_env(settings, api_url=api_url, ui_url=ui_url, home=home, database_url=database_url,
                          auth_string=auth)
        env["PREFECT_SERVER_API_AUTH_STRING"] = auth
        log = Path(env["PREFECT_HOME"]) / "server.log"
        return cls(api_url, env, log, auth_generated=generated)

    @property
    def auth_string(self) -> str:
        return self.env["PREFECT_SERVER_API_AUTH_STRING"]

    @property
    def auth_file(self) -> Path:
        return Path(self.env["PREFECT_HOME"]) / AUTH_FILE

    @property
    def ui_url(self) -> str:
        return self.env["PREFECT_UI_URL"]

    def start(self, timeout: float = 120.0) -> PrefectServer:
        self.launch()
        return self.wait(timeout)

    def launch(self) -> PrefectServer:
        """Start the child without waiting (do other work while it migrates its database)."""
        if api_healthy(self.api_url):
            raise RuntimeError(f"a Prefect server already answers at {self.api_url}; stop it or pick "
                               "another port (RPA_PREFECT__API_URL)")
        parsed = urlparse(self.api_url)
        Path(self.env["PREFECT_HOME"]).mkdir(parents=True, exist_ok=True)
        # What `prefect server start` runs, with the UI behind the API's log-in (rpa/prefect_asgi.py).
        args = [sys.executable, "-m", "rpa.prefect_asgi", "--host", parsed.hostname or "127.0.0.1",
                "--port", str(parsed.port or 4200)]
        self.child = spawn("prefect-server", args, self.env, self.log_file)
        return self

    def wait(self, timeout: float = 120.0) -> PrefectServer:
        """Until /api/health answers; stops the child if it never does."""
        try:
            wait_healthy(self.api_url, timeout, self.child.process if self.child else None, self.log_file)
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        if self.child:
            self.child.stop()

    def __enter__(self) -> PrefectServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def start_worker(env: Mapping[str, str], pool: str, name: str, log_file: Path, limit: int | None = 1,
                 queues: list[str] | None = None, poll_seconds: float | None = None,
                 cwd: Path | None = None, extra_env: Mapping[str, str] | None = None) -> ChildProcess:
    """``prefect worker start --pool POOL --type process`` in its own process group."""
    env = dict(env)
    if poll_seconds is not None:
        env["PREFECT_WORKER_QUERY_SECONDS"] = str(poll_seconds)
    env.update(extra_env or {})
    args = [sys.executable, "-m", "prefect", "worker", "start", "--pool", pool, "--type", "process",
            "--name", name, "--install-policy", "never"]
    if limit:
        args += ["--limit", str(limit)]
    for q in queues or []:
        args += ["--work-queue", q]
    return spawn(f"worker-{name}", args, env, log_file, cwd=cwd)


