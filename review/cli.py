"""`rpa users …` (manage review-app users) and `rpa review` (serve the review app).

Passwords never go on the command line (they would land in shell history and `ps`): they are
read from stdin (`--password-stdin`, for scripts and CI), from the environment variable
RPA_NEW_USER_PASSWORD (tests, the demo), or prompted for twice on a terminal.
"""

from __future__ import annotations

import os
import sys

import typer

from config.settings import get_settings

PASSWORD_ENV = "RPA_NEW_USER_PASSWORD"
DEFAULT_SECRET_PREFIX = "change-me"

users_app = typer.Typer(help="Users of the review app (exception queue).", no_args_is_help=True)
review_app = typer.Typer(help="Serve the review app.")


def _fail(message: str, code: int = 2) -> None:
    typer.secho(message, fg=typer.colors.RED, err=True)
    raise typer.Exit(code)


def _store():
    from workqueue.store import WorkQueueStore

    return WorkQueueStore.from_settings()


def _known_processes() -> list[str]:
    from config.catalogue import load_catalogue
    from config.settings import get_settings

    return list(load_catalogue(get_settings().paths.processes_dir))


def _read_password(password_stdin: bool, confirm: bool = True) -> str:
    if password_stdin:
        line = sys.stdin.readline()
        password = line.rstrip("\r\n")
        if not password:
            _fail("no password on stdin")
        return password
    from_env = os.environ.get(PASSWORD_ENV)
    if from_env:
        return from_env
    if not sys.stdin.isatty():
        _fail(f"no password: use --password-stdin or set {PASSWORD_ENV} (no terminal to prompt on)")
    return typer.prompt("Password", hide_input=True, confirmation_prompt=confirm)


@users_app.command("add")
def users_add(
    name: str = typer.Argument(..., help="User name (a–z, 0–9, . _ -), e.g. kari.nordmann."),
    role: str = typer.Option(..., "--role", help="reviewer | owner | admin"),
    org_unit: list[str] = typer.Option([], "--org-unit", help="Organisation unit (repeat, or comma-separated)."),
    process: list[str] = typer.Option([], "--process", help="Process id (repeat); none = all processes."),
    full_name: str = typer.Option("", "--full-name", help="Name shown in the app."),
    password_stdin: bool = typer.Option(False, "--password-stdin", help="Read the password from stdin."),
) -> None:
    """Create a user. The password comes from stdin, $RPA_NEW_USER_PASSWORD or a prompt."""
    from review.auth import UserError, add_user

    password = _read_password(password_stdin)
    store = _store()
    try:
        user = add_user(store, name, role, password, org_units=org_unit, processes=process, full_name=full_name,
                        actor=f"cli:{os.environ.get('USER', 'unknown')}", known_processes=_known_processes())
    except UserError as exc:
        _fail(str(exc))
    finally:
        store.close()
    typer.echo(f"created {user.username} ({user.role}; units: {', '.join(user.org_units) or '-'}; "
               f"processes: {', '.join(user.processes) or 'all'})")


@users_app.command("list")
def users_list() -> None:
    """One line per user: name, role, org units, processes, locked."""
    from review.auth import list_users

    store = _store()
    try:
        for u in list_users(store):
            state = "LOCKED" if u.locked_at else "active"
            typer.echo(f"{u.username:24} {u.role:9} {state:7} units={','.join(u.org_units) or '-'} "
                       f"processes={','.join(u.processes) or 'all'}")
    finally:
        store.close()


@users_app.command("unlock")
def users_unlock(name: str = typer.Argument(..., help="User name.")) -> None:
    """Unlock an account locked after too many wrong passwords."""
    from review.auth import UserError, unlock_user

    store = _store()
    try:
        unlock_user(store, name, actor=f"cli:{os.environ.get('USER', 'unknown')}")
    except UserError as exc:
        _fail(str(exc))
    finally:
        store.close()
    typer.echo(f"unlocked {name}")


@users_app.command("set-password")
def users_set_password(
    name: str = typer.Argument(..., help="User name."),
    password_stdin: bool = typer.Option(False, "--password-stdin", help="Read the password from stdin."),
) -> None:
    """Set a new password (also unlocks the account and ends its sessions)."""
    from review.auth import UserError, set_password

    password = _read_password(password_stdin)
    store = _store()
    try:
        set_password(store, name, password, actor=f"cli:{os.environ.get('USER', 'unknown')}")
    except UserError as exc:
        _fail(str(exc))
    finally:
        store.close()
    typer.echo(f"password set for {name}")


@review_app.command("review")
def serve(
    host: str = typer.Option(None, "--host", help="Interface (default: settings.review.host)."),
    port: int = typer.Option(None, "--port", help="Port (default: settings.review.port)."),
) -> None:
    """Serve the exception-queue web app for HR and finance staff."""
    import uvicorn

    from review.app import create_app, uvicorn_log_config

    settings = get_settings()
    host = host or settings.review.host
    port = port or settings.review.port
    secret = settings.review.session_secret.get_secret_value()
    if host not in ("127.0.0.1", "localhost", "::1") and (secret.startswith(DEFAULT_SECRET_PREFIX) or len(secret) < 32):
        _fail("refusing to listen beyond this machine with the default or a short session secret: "
              "set RPA_REVIEW__SESSION_SECRET to a long random value (and RPA_REVIEW__SECURE_COOKIES=true "
              "behind HTTPS)")
    from config.catalogue import DefinitionError

    try:
        app = create_app(settings)
    except DefinitionError as exc:  # the app shows categories and actions from the definitions
        _fail(f"cannot serve the review app: {exc}")
    typer.echo(f"Avvikskø: http://{host}:{port}/  (Ctrl-C stops)")
    # Access-log lines carry the query string (a search could hold an fnr): scrubbed by a filter.
    uvicorn.run(app, host=host, port=port, log_level=settings.log_level.lower(), proxy_headers=False,
                server_header=False, log_config=uvicorn_log_config())
