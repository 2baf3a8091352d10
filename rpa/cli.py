"""`rpa`: the one command for process owners, operators and developers."""

from __future__ import annotations

import importlib
import json
import sys
from pathlib import Path

import typer

from config.catalogue import DefinitionError, definition_files
from config.settings import get_settings

_CORE_GROUPS = ("config", "processes", "run", "db")  # defined in this module, nothing to mount

app = typer.Typer(help="Municipal RPA job runner: processes, sandbox, runs, review queue.",
                  no_args_is_help=True, pretty_exceptions_enable=False)
config_app = typer.Typer(help="Settings.", no_args_is_help=True)
processes_app = typer.Typer(help="The process catalogue (config/processes/*.yaml).", no_args_is_help=True)
run_app = typer.Typer(help="Run a process now, on this machine.", no_args_is_help=True)
db_app = typer.Typer(help="The work-item store.", no_args_is_help=True)
app.add_typer(config_app, name="config")
app.add_typer(processes_app, name="processes")
app.add_typer(run_app, name="run")
app.add_typer(db_app, name="db")

# Command groups owned by other packages, mounted when present: (module, attribute, name).
_MOUNTS = [
    ("sandbox.cli", "app", "sandbox"),
    ("review.cli", "users_app", "users"),
    ("review.cli", "review_app", "review"),
    ("rpa.ops_cli", "app", None),
    ("rpa.maskinporten_cli", "app", "maskinporten"),
    ("rpa.shadow_cli", "app", "shadow"),  # deploy, serve, demo, benefits, alerts: top-level commands
]


def _command_words(argv: list[str]) -> list[str]:
    """The words before the first option: `rpa run nav-refund-offsetting --json` -> ["run",
    "nav-refund-offsetting"]. Every option of `rpa` itself comes after its command or is --help
    (both leave the words short, which mounts everything)."""
    words = []
    for arg in argv:
        if arg.startswith("-"):
            break
        words.append(arg)
    return words


def _mount(argv: list[str] | None = None) -> None:
    """Mount the other packages' command groups and one `rpa run <process>` per process. With the
    command line given, only what that command needs: `rpa run <process> ...` imports that one
    process's cli module and no other group (`rpa sandbox` alone imports FastAPI: a second of CPU
    for every `rpa run` otherwise; the crash tests start `rpa run` dozens of times). A command
    that names nothing known mounts everything, so help and errors list every command as before."""
    words = _command_words(argv) if argv is not None else []
    if words and words[0] in _CORE_GROUPS:
        if words[0] == "run":
            _mount_runs(words[1] if len(words) > 1 else None)
        return
    for module_name, attr, name in _MOUNTS:
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name == module_name:
                continue
            raise
        sub = getattr(module, attr)
        if name is None:
            for command in sub.registered_commands:
                app.registered_commands.append(command)
            for group in sub.registered_groups:
                app.registered_groups.append(group)
        elif isinstance(sub, typer.Typer) and sub.registered_callback is None and len(sub.registered_commands) == 1:
            app.registered_commands.append(_renamed(sub.registered_commands[0], name))
        else:
            app.add_typer(sub, name=name)
    _mount_runs()


def _mount_runs(only: str | None = None) -> None:
    """One `rpa run <process-id>` per process whose flow package has a cli module (`only`: just
    that process, when it is in the catalogue folder; otherwise every process, for the help)."""
    paths = definition_files(get_settings().paths.processes_dir)
    if only is not None and any(p.stem == only for p in paths):
        paths = [p for p in paths if p.stem == only]
    for path in paths:
        process_id = path.stem
        module_name = "flows." + process_id.replace("-", "_") + ".cli"
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name in (module_name, module_name.rsplit(".", 1)[0]):
                continue
            raise
        run_app.add_typer(module.app, name=process_id)


def _renamed(command, name):
    command.name = name
    return command


def _fail(message: str, code: int = 2) -> None:
    typer.secho(message, fg=typer.colors.RED, err=True)
    raise typer.Exit(code)


@config_app.command("show")
def config_show(as_json: bool = typer.Option(False, "--json", help="Print JSON instead of YAML-like text.")) -> None:
    """Print the effective settings; secrets are hidden."""
    data = get_settings().redacted()
    if as_json:
        typer.echo(json.dumps(data, indent=2, ensure_ascii=False, default=str))
        return
    import yaml

    typer.echo(yaml.safe_dump(data, allow_unicode=True, sort_keys=False, default_flow_style=False))


@processes_app.command("list")
def processes_list() -> None:
    """One line per process: id, name, schedule, owner."""
    from flows.registry import catalogue

    try:
        defs = catalogue()
    except DefinitionError as exc:
        _fail(str(exc))
    for d in defs.values():
        typer.echo(f"{d.id:28} {d.schedule.cron:14} {d.schedule.timezone:12} {d.owner.org_unit:22} {d.name}")


@processes_app.command("show")
def processes_show(process_id: str) -> None:
    """The whole definition of one process."""
    from flows.registry import catalogue

    try:
        defs = catalogue()
    except DefinitionError as exc:
        _fail(str(exc))
    if process_id not in defs:
        _fail(f"unknown process {process_id!r}; known: {', '.join(defs)}")
    import yaml

    typer.echo(yaml.safe_dump(defs[process_id].model_dump(mode="json"), allow_unicode=True, sort_keys=False))


@processes_app.command("validate")
def processes_validate(files: list[Path] = typer.Argument(None, help="Files to check (default: the catalogue).")) -> None:
    """Validate definitions; errors name the file, the field path and what is wrong."""
    from flows.registry import validate_file

    paths = files or definition_files(get_settings().paths.processes_dir)
    failed = 0
    for path in paths:
        try:
            d = validate_file(path)
            typer.echo(f"OK    {path}  ({d.id} v{d.version})")
        except DefinitionError as exc:
            failed += 1
            typer.secho(f"FAIL  {exc}", fg=typer.colors.RED, err=True)
    if failed:
        raise typer.Exit(1)


@processes_app.command("history")
def processes_history(process_id: str,
                      as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """The definition versions a process has run with (oldest first), with the runs that used
    each: which rules offset this claim, for an auditor."""
    import json

    from workqueue.figures import version_history
    from workqueue.shadow import promotions
    from workqueue.store import WorkQueueStore

    store = WorkQueueStore.from_settings()
    try:
        history = version_history(store, process_id)
        changes = promotions(store, process_id)
    finally:
        store.close()
    if as_json:
        typer.echo(json.dumps([{"version": v.version, "hash": v.hash, "since": v.since.isoformat(),
                                "runs": list(v.runs)} for v, _runs in history]
                              + [{"changed_at": e.at.isoformat(), "changed_by": e.actor, "mode_from": e.details.get("from"),
                                  "mode_to": e.details.get("to"), "hash_before": e.details.get("hash_before"),
                                  "hash_after": e.details.get("hash_after")} for e in changes],
                              ensure_ascii=False, indent=2))
        return
    if not history and not changes:
        typer.echo(f"Ingen kjøringer av {process_id} med registrert regelversjon.")
        return
    for v, runs in history:
        typer.echo(f"Versjon {v.version}  fra {v.since:%d.%m.%Y}  sha256 {v.hash[:12]}  {len(v.runs)} kjøring(er)")
        for run in runs:
            typer.echo(f"    {run.run_id:28} {run.started_at:%d.%m.%Y %H:%M}  {run.status}")
    for e in changes:  # a change of mode (shadow -> live): who and when
        typer.echo(f"Endret {e.at:%d.%m.%Y %H:%M} av {e.actor}: mode {e.details.get('from')} -> {e.details.get('to')}"
                   f"  sha256 {str(e.details.get('hash_before'))[:12]} -> {str(e.details.get('hash_after'))[:12]}")


@processes_app.command("promote")
def processes_promote(process_id: str,
                      by: str = typer.Option(None, "--by", help="Who promotes (default: the logged-in user)."),
                      human_file: Path = typer.Option(None, "--file", help="The people's export to compare with.")) -> None:
    """Switch a process from shadow to live when its shadow record meets its definition's
    thresholds (docs/shadow.md); otherwise name the threshold that fails (exit code 1)."""
    from rpa.shadow_cli import promote_command

    promote_command(process_id, by, human_file)


@processes_app.command("catalogue")
def processes_catalogue(out: Path = typer.Option(None, "--out", help="Write the Markdown here instead of stdout.")) -> None:
    """The catalogue as a Markdown page a process owner can read."""
    from config.catalogue_page import render_catalogue
    from flows.registry import catalogue

    try:
        text = render_catalogue(list(catalogue().values()))
    except DefinitionError as exc:
        _fail(str(exc))
    if out:
        out.write_text(text, encoding="utf-8")
        typer.echo(f"wrote {out}")
    else:
        typer.echo(text)


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Create or migrate the work-item store's schema."""
    from workqueue.store import WorkQueueStore

    s = get_settings()
    store = WorkQueueStore(s.database_url)
    try:
        published = publish_declared_actions(store)
    finally:
        store.close()
    typer.echo(f"schema up to date: {s.database_url.split('@')[-1]}; actions published for {published} processes")


def publish_declared_actions(store) -> int:
    """Every process's declared actions into the store, for the review app (which imports no flows)."""
    from flows.kit.decisions import publish_actions
    from flows.registry import catalogue, flow_module

    n = 0
    for pid, definition in catalogue().items():
        module = flow_module(definition, "actions")
        publish_actions(store, pid, getattr(module, "ACTIONS", None) or {})
        n += 1
    return n


@db_app.command("status")
def db_status(process_id: str = typer.Argument(None)) -> None:
    """Items per status (and open cases) per process."""
    from workqueue.models import OPEN_CASE_STATUSES
    from workqueue.store import WorkQueueStore

    store = WorkQueueStore.from_settings()
    from flows.registry import catalogue

    for pid in [process_id] if process_id else list(catalogue()):
        open_cases = len(store.cases(pid, status=OPEN_CASE_STATUSES))
        typer.echo(f"{pid:28} items {store.counts(pid)}  open cases {open_cases}")


def main() -> None:
    try:
        _mount(sys.argv[1:])
    except DefinitionError as exc:  # a broken catalogue must not hide `rpa processes validate`
        typer.secho(f"warning: {exc}", fg=typer.colors.YELLOW, err=True)
    app()


if __name__ == "__main__":
    sys.exit(main())
