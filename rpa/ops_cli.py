"""Operations commands, mounted at the top level of `rpa`: deploy, serve, demo, server, worker,
benefits, alerts, retention. Prefect is imported inside the commands (CLI start-up speed)."""

from __future__ import annotations

import json

import typer

from config.catalogue import DefinitionError
from config.settings import get_settings

app = typer.Typer(help="Operations: deployments, the local Prefect server, the demo, benefits, alerts.")


def _fail(message: str, code: int = 2) -> None:
    typer.secho(message, fg=typer.colors.RED, err=True)
    raise typer.Exit(code)


def _specs(processes: list[str] | None, concurrency_limit: int = 1):
    from rpa.deployments import specs_from_catalogue

    try:
        specs, skipped = specs_from_catalogue(get_settings(), processes or None, concurrency_limit)
    except DefinitionError as exc:
        _fail(str(exc))
    except KeyError as exc:
        _fail(str(exc.args[0]))
    for pid in skipped:
        typer.secho(f"skipped {pid}: no flow package yet", fg=typer.colors.YELLOW, err=True)
    return specs


def _require_server() -> str:
    """The server to talk to: PREFECT_API_URL when set (Prefect's own variable wins, as for every
    other Prefect client), else the configured default (RPA_PREFECT__API_URL)."""
    import os

    from rpa.prefect_server import api_healthy

    url = os.environ.get("PREFECT_API_URL") or get_settings().prefect.api_url
    if not api_healthy(url):
        _fail(f"no Prefect server answers at {url}: start one with `rpa server` "
              "(or set PREFECT_API_URL / RPA_PREFECT__API_URL)")
    return url


@app.command("deploy")
def deploy(
    process: list[str] = typer.Option(None, "--process", "-p", help="Only these process ids (repeatable)."),
    pool: str = typer.Option(None, "--pool", help="Work pool (default: settings.prefect.work_pool)."),
    working_dir: str = typer.Option(None, "--working-dir",
                                    help="Where workers find this project (default: this checkout)."),
    concurrency_limit: int = typer.Option(1, "--concurrency-limit", min=1,
                                          help="Runs of one deployment at a time (1: never two at once)."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Print what would be registered; no server needed."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Register one Prefect deployment per process from config/processes/*.yaml (schedule, time
    zone, parameters, tags, concurrency limit). Changing a schedule = edit the YAML, run this again."""
    from pathlib import Path

    from rpa.deployments import PROJECT_ROOT, register

    specs = _specs(process, concurrency_limit)
    rows = [{"process": s.process_id, "entrypoint": s.entrypoint, "cron": s.cron, "timezone": s.timezone,
             "active": s.active, "parameters": s.parameters, "tags": s.tags,
             "concurrency_limit": s.concurrency_limit, "work_pool": pool or s.work_pool,
             "task_retries": s.retries} for s in specs]
    if not dry_run:
        api = _require_server()
        from rpa.prefect_server import client_settings

        with client_settings(api):
            registered = register(specs, working_dir=Path(working_dir) if working_dir else PROJECT_ROOT,
                                  work_pool=pool)
        for row, r in zip(rows, registered, strict=True):
            row["deployment"] = r.full_name
            row["deployment_id"] = r.deployment_id
    if as_json:
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    for row in rows:
        state = "" if row["active"] else " (paused)"
        typer.echo(f"{row['process']:28} {row['cron']:18} {row['timezone']:12} pool={row['work_pool']} "
                   f"limit={row['concurrency_limit']}{state}  {row.get('deployment', '(dry run)')}")
    if not dry_run:
        typer.echo(f"\nStart a worker: prefect worker start --pool {pool or get_settings().prefect.work_pool} "
                   "(or run them on this machine with `rpa serve`)")


@app.command("serve")
def serve(
    process: list[str] = typer.Option(None, "--process", "-p", help="Only these process ids (repeatable)."),
    limit: int = typer.Option(None, "--limit", help="Runs at the same time across all processes."),
) -> None:
    """Run the catalogue's deployments from this process (embedded default, no worker): schedules
    fire while it runs; Ctrl-C stops it and pauses the schedules."""
    import os

    from rpa.deployments import PROJECT_ROOT
    from rpa.deployments import serve as serve_deployments
    from rpa.prefect_server import client_settings

    api = _require_server()
    specs = _specs(process)
    os.chdir(PROJECT_ROOT)  # served runs load their flow files relative to the working directory
    with client_settings(api, get_settings().prefect.ui_url):
        serve_deployments(specs, limit=limit)


@app.command("server")
def server() -> None:
    """Start the local Prefect server (SQLite under <data>/prefect, API log-in required) and keep it
    running until Ctrl-C; prints the log-in once when it generates it."""
    import signal
    import time

    from rpa.prefect_server import PrefectServer

    s = get_settings()
    srv = PrefectServer.from_settings(s)
    typer.echo(f"starting Prefect server (home {s.prefect_home}) …")
    try:
        srv.start(timeout=180)
    except (RuntimeError, TimeoutError) as exc:
        _fail(str(exc), 1)
    typer.echo(f"Prefect UI {srv.ui_url}   API {srv.api_url}   log {srv.log_file}   (Ctrl-C stops)")
    if srv.auth_generated:
        typer.echo(f"Prefect UI log-in: {srv.auth_string}  (shown once; kept in {srv.auth_file}, "
                   "which workers and `rpa deploy`/`serve` on this data folder read)")
    elif s.prefect.auth_string is not None:
        typer.echo("Prefect UI log-in: as set in RPA_PREFECT__AUTH_STRING")
    else:
        typer.echo(f"Prefect UI log-in: in {srv.auth_file}")
    from rpa.demo import _raise_interrupt

    signal.signal(signal.SIGTERM, _raise_interrupt)
    try:
        while srv.child and srv.child.running():
            time.sleep(1)
        _fail(f"the Prefect server exited; see {srv.log_file}", 1)
    except KeyboardInterrupt:
        pass
    finally:
        srv.stop()
        typer.echo("stopped")


@app.command("worker")
def worker(
    name: str = typer.Option(None, "--name", help="Worker name (default: host name)."),
    limit: int = typer.Option(1, "--limit", help="Flow runs at the same time on this worker."),
    queue: list[str] = typer.Option(None, "--queue", "-q", help="Work queue(s) to pull from."),
) -> None:
    """Start `prefect worker start` on the process work pool with this project's settings."""
    import os
    import socket
    import subprocess
    import sys

    from rpa.deployments import PROJECT_ROOT
    from rpa.prefect_server import prefect_env

    s = get_settings()
    _require_server()
    args = [sys.executable, "-m", "prefect", "worker", "start", "--pool", s.prefect.work_pool, "--type", "process",
            "--name", name or socket.gethostname(), "--limit", str(limit), "--install-policy", "never"]
    for q in queue or []:
        args += ["--work-queue", q]
    os.chdir(PROJECT_ROOT)
    raise typer.Exit(subprocess.call(args, env=prefect_env(s)))


@app.command("demo")
def demo(
    wait: bool = typer.Option(True, "--wait/--no-wait", help="Wait for Ctrl-C after the runs (--no-wait: CI)."),
    once: bool = typer.Option(False, "--once", help="Same as --no-wait."),
    reset: bool = typer.Option(False, "--reset", help="Start from an empty data folder state (store, Prefect, data sets)."),
    process: list[str] = typer.Option(None, "--process", "-p", help="Only these process ids (repeatable)."),
) -> None:
    """Everything on this machine: Prefect server, sandbox, review app, deployments, one run of
    each process; prints the URLs and where the reports are; Ctrl-C stops it all."""
    from rpa.demo import run_demo

    try:
        result = run_demo(get_settings(), wait=wait and not once, reset=reset, processes=process or None,
                          echo=typer.echo)
    except DefinitionError as exc:
        _fail(str(exc))
    except (RuntimeError, TimeoutError, OSError) as exc:  # a port taken, a server that did not start
        _fail(f"demo stopped: {exc}", 1)
    except KeyboardInterrupt:
        typer.echo("interrupted; everything stopped")
        raise typer.Exit(130) from None
    if not result.ok:
        typer.secho("some runs did not complete (see above)", fg=typer.colors.RED, err=True)
        raise typer.Exit(1)


@app.command("benefits")
def benefits(
    months: int = typer.Option(None, "--months", help="Months in the report (default: the definition's rules)."),
    until: str = typer.Option(None, "--until", help="Newest month, YYYY-MM (default: the current month)."),
    as_json: bool = typer.Option(False, "--json", help="Print the run summary as JSON."),
) -> None:
    """The benefits report now (same as `rpa run benefits-report`)."""
    from flows.benefits_report.cli import app as run_app

    _run_generated(run_app, [*(["--months", str(months)] if months else []), *(["--until", until] if until else []),
                             *(["--json"] if as_json else [])])


@app.command("alerts")
def alerts(
    dry_run: bool = typer.Option(False, "--dry-run", help="Show the alerts without sending them."),
    test: bool = typer.Option(False, "--test", help="Send one test alert to the configured channels and stop."),
    to: str = typer.Option(None, "--to", help="Recipient of the test alert (default: alerts.operator_email)."),
    as_json: bool = typer.Option(False, "--json", help="Print the run summary as JSON."),
) -> None:
    """Overdue cases and failed/late/missed runs: alert each once (same as `rpa run sla-monitor`).
    `--test` checks the SMTP/webhook settings with a harmless message."""
    if test:
        from connectors.notify import Alert, NotConfigured, Notifier

        s = get_settings()
        recipient = to or s.alerts.operator_email
        alert = Alert(kind="test", process_id="sla-monitor", subject="[RPA] Testvarsel",
                      body="Dette er et testvarsel fra robotplattformen. Varslingen virker.",
                      recipients=[recipient] if recipient else [], key="test")
        try:
            report = Notifier.from_settings(s).send(alert)
        except NotConfigured as exc:
            _fail(str(exc))
        for channel in report.delivered:
            typer.echo(f"delivered: {channel}")
        for channel, error in report.failed.items():
            typer.secho(f"failed:    {channel}: {error}", fg=typer.colors.RED, err=True)
        if report.failed:
            raise typer.Exit(1)
        return
    from flows.sla_monitor.cli import app as run_app

    _run_generated(run_app, [*(["--dry-run"] if dry_run else []), *(["--json"] if as_json else [])])


def _run_generated(run_app: typer.Typer, args: list[str]) -> None:
    """A process's `rpa run <id>` command (generated by the kit), with its exit code."""
    code = typer.main.get_command(run_app).main(args, standalone_mode=False)
    if code:
        raise typer.Exit(code)


@app.command("retention")
def retention(
    dry_run: bool = typer.Option(False, "--dry-run", help="List what would be removed (counts and paths); change nothing."),
    as_of: str = typer.Option(None, "--as-of", help="Judge by this date (YYYY-MM-DD; default: now). "
                              "A future date only with --dry-run."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Delete what is past each process's retention now (same as `rpa run retention`)."""
    from flows.retention.cli import run

    run(dry_run=dry_run, as_of=as_of, as_json=as_json, prefect=False)
