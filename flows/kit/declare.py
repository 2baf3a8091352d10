"""One declaration per process -> its Prefect flow and its `rpa run <process>` command.

A process declares its parameters and a `run(ctx, params, step) -> RunSummary` function; `step(name,
fn, *args)` runs `fn(*args)` directly on the command line and as a Prefect task (retries from the
definition, system errors only) inside the flow. Everything else is the kit's, the same for every
process: opening the run (definition version recorded), failing it on an error, finishing it with
the summary computed once, artifacts, the final state in words, log lines with counts, the common
flags (--out, --json, --prefect) and exit codes (0 done, 1 stopped, 2 bad input or definition).

    # flows/<pkg>/flow.py
    PROCESS = Declaration("my-process", run=run, params=[Param("inbox", "Drop folder", kind="path")])
    my_process = make_flow(PROCESS)
    # flows/<pkg>/cli.py
    app = make_cli(PROCESS)
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from flows.kit.context import RunContext, get_logger, in_prefect_run
from flows.kit.prefect import is_business_error, publish_artifacts, task_options
from flows.kit.scope import finish, run_scope, stop
from flows.kit.summary import RunSummary, state_message, state_name

__all__ = ["Param", "Declaration", "make_flow", "make_cli", "run_declared", "flow_options", "Step"]

Step = Callable[..., Any]


@dataclass(frozen=True)
class Param:
    """One run parameter: a flow parameter (ids and paths only, never personal data) and a CLI option."""

    name: str
    help: str
    kind: str = "str"            # str | path | paths | date
    choices: tuple[str, ...] = ()
    flag: str | None = None      # the CLI option, default --<name with dashes>

    @property
    def option(self) -> str:
        return self.flag or "--" + self.name.replace("_", "-")

    def convert(self, value: Any) -> Any:
        """The flow's plain value (str / list[str]) -> what the process's run function takes."""
        if value is None or value == []:
            return None
        if self.kind == "path":
            return Path(value)
        if self.kind == "paths":
            return [Path(v) for v in value]
        if self.kind == "date":
            return value if isinstance(value, date) else date.fromisoformat(str(value))
        return value


@dataclass(frozen=True)
class Declaration:
    process_id: str
    run: Callable[[RunContext, SimpleNamespace, Step], RunSummary]
    params: Sequence[Param] = ()
    description: str = ""
    console: Callable[[dict[str, Any]], list[str]] | None = None  # lines the CLI prints without --json
    json_keys: Sequence[str] | None = None                          # --json: these keys (default: all)
    stop_errors: tuple[type[BaseException], ...] = ()               # a system was down: the run stops, exit 1
    check: Callable[[SimpleNamespace], None] | None = None          # raise BusinessError on bad options
    task_names: dict[str, str] = field(default_factory=dict)

    @property
    def flow_name(self) -> str:
        return self.process_id


def _direct_step(name: str, fn: Callable[..., Any], *args: Any, retry: bool = True) -> Any:
    get_logger("rpa.kit").info("Steg %s", name)
    return fn(*args)


def _prefect_step(ctx: RunContext) -> Step:
    from prefect import task
    from prefect.cache_policies import NO_CACHE

    options = task_options(ctx)

    def step(name: str, fn: Callable[..., Any], *args: Any, retry: bool = True) -> Any:
        """`retry=False` for a step that retries per item itself (the store's backoff)."""
        get_logger("rpa.kit").info("Steg %s", name)
        return task(fn, name=name, cache_policy=NO_CACHE, **(options if retry else {}))(*args)

    return step


def _check_choices(decl: Declaration, values: dict[str, Any]) -> None:
    for p in decl.params:
        value = values.get(p.name)
        if p.choices and value is not None and value not in p.choices:
            allowed = ", ".join(p.choices[:-1]) + " eller " + p.choices[-1] if len(p.choices) > 1 else p.choices[0]
            raise ValueError(f"{p.option} må være {allowed}, ikke {value!r}")
        if p.kind == "date" and value:
            try:
                p.convert(value)
            except ValueError:
                raise ValueError(f"{p.option} må være en dato ÅÅÅÅ-MM-DD, ikke {value!r}") from None


def run_declared(decl: Declaration, values: dict[str, Any], out_dir: str | Path | None = None,
                 step: Step | None = None) -> RunSummary:
    """One run of a declared process without Prefect (the CLI; tests): open, run, finish or fail."""
    _check_choices(decl, values)
    params = SimpleNamespace(**{p.name: p.convert(values.get(p.name)) for p in decl.params})
    if decl.check:
        decl.check(params)
    log = get_logger(f"rpa.{decl.process_id}")
    with run_scope(decl.process_id, out_dir=Path(out_dir) if out_dir else None) as ctx:
        log.info("Kjøring %s av %s startet (%s)", ctx.run_id, decl.process_id, ctx.version_label or "regler")
        try:
            summary = decl.run(ctx, params, step or (_prefect_step(ctx) if in_prefect_run() else _direct_step))
        except decl.stop_errors as exc:
            return stop(ctx, RunSummary(ctx.process_id, ctx.run_id, 0, 0, {}), str(exc))
        finish(ctx, summary)
        publish_artifacts(ctx, summary)
    return summary


def make_flow(decl: Declaration):
    """The process's Prefect flow: parameters from the declaration (plus out_dir); retries from the
    definition for system errors; a business error (bad input, invalid definition) ends the run as
    Failed without a retry; the final state says how the run went ("Fullført", "Fullført med avvik",
    "Stoppet: …") with the counts in its message."""
    from prefect import flow
    from prefect.states import Completed, Failed

    def body(**values: Any):
        out_dir = values.pop("out_dir", None)
        try:
            summary = run_declared(decl, values, out_dir)
        except Exception as exc:
            if is_business_error(exc):  # waiting does not fix an input: no retry
                get_logger(f"rpa.{decl.process_id}").error("Kjøringen ble avbrutt: %s", exc)
                return Failed(name="Avbrutt: feil i inndata", message=str(exc)[:1000])
            raise  # a system error: Prefect retries the run (the definition's retries)
        state = Failed if summary.stopped_reason else Completed
        return state(name=state_name(summary), message=state_message(summary), data=summary.to_dict())

    parameters = [inspect.Parameter(p.name, inspect.Parameter.KEYWORD_ONLY, default=None,
                                    annotation=list[str] | None if p.kind == "paths" else str | None)
                  for p in decl.params]
    parameters.append(inspect.Parameter("out_dir", inspect.Parameter.KEYWORD_ONLY, default=None,
                                        annotation=str | None))
    body.__signature__ = inspect.Signature(parameters)  # type: ignore[attr-defined]
    body.__name__ = decl.process_id.replace("-", "_")
    body.__doc__ = "\n".join(f"`{p.name}`: {p.help}" for p in decl.params)
    return flow(body, name=decl.flow_name, description=decl.description, validate_parameters=True,
                **flow_options(decl.process_id))


def flow_options(process_id: str) -> dict[str, Any]:
    """`@flow(**flow_options(pid))`: the definition's retry block, read when the flow module is
    imported (a worker imports it from the deployment's entrypoint, so the retries travel with the
    deployment: Prefect deployments have no retries field of their own)."""
    try:
        from flows.registry import load_definition

        options = task_options(load_definition(process_id)[0])
    except Exception:  # an invalid definition: the run itself refuses with the clear message
        return {"retries": 0, "retry_delay_seconds": 0}
    return {"retries": options["retries"], "retry_delay_seconds": options["retry_delay_seconds"]}


def make_cli(decl: Declaration, flow_getter: Callable[[], Any] | None = None):
    """`rpa run <process>`: the declaration's options plus --out, --json, --prefect."""
    import typer

    app = typer.Typer(help=decl.description)

    def command(**values: Any) -> None:
        out, as_json, prefect = values.pop("out"), values.pop("as_json"), values.pop("prefect")
        values = {k: ([str(v) for v in value] if isinstance(value, list) else
                      str(value) if isinstance(value, Path) else value) for k, value in values.items()}
        try:
            if prefect:
                flow = flow_getter() if flow_getter else make_flow(decl)
                state = flow(**values, out_dir=str(out) if out else None, return_state=True)
                data = state.result(raise_on_failure=False)
                if not isinstance(data, dict):  # refused: the message says what to fix
                    raise typer.Exit(_fail_message(state.message or state.name or "", 2))
            else:
                data = run_declared(decl, values, out).to_dict()
        except decl.stop_errors as exc:
            raise typer.Exit(_fail_message(str(exc), 1)) from None
        except typer.Exit:
            raise
        except Exception as exc:
            if is_business_error(exc):
                raise typer.Exit(_fail_message(str(exc), 2)) from None
            raise
        if as_json:
            shown = {k: data.get(k) for k in decl.json_keys} if decl.json_keys else data
            typer.echo(json.dumps(shown, ensure_ascii=False, indent=2, default=str))
        else:
            for line in (decl.console(data) if decl.console else _default_console(data)):
                typer.echo(line)
        if data.get("stopped_reason"):
            typer.secho(f"Stoppet: {data['stopped_reason']}", fg=typer.colors.RED, err=True)
            raise typer.Exit(1)

    parameters = []
    for p in decl.params:
        annotation = {"path": Path, "paths": list[Path]}.get(p.kind, str)
        parameters.append(inspect.Parameter(p.name, inspect.Parameter.KEYWORD_ONLY, annotation=annotation,
                                            default=typer.Option(None, p.option, help=p.help)))
    parameters += [
        inspect.Parameter("out", inspect.Parameter.KEYWORD_ONLY, annotation=Path, default=typer.Option(
            None, "--out", help="Folder for the run's files (default: <data>/output/<process>/<run>).")),
        inspect.Parameter("as_json", inspect.Parameter.KEYWORD_ONLY, annotation=bool, default=typer.Option(
            False, "--json", help="Print the run summary as JSON (with definition_version).")),
        inspect.Parameter("prefect", inspect.Parameter.KEYWORD_ONLY, annotation=bool, default=typer.Option(
            False, "--prefect", help="Run as a Prefect flow (PREFECT_API_URL).")),
    ]
    command.__signature__ = inspect.Signature(parameters)  # type: ignore[attr-defined]
    command.__doc__ = decl.description
    app.callback(invoke_without_command=True)(command)
    return app


def _fail_message(message: str, code: int) -> int:
    import typer

    typer.secho(message, fg=typer.colors.RED, err=True)
    return code


def _default_console(data: dict[str, Any]) -> list[str]:
    lines = [f"Kjøring {data['run_id']}: {data['cases_total']} saker, {data['automated']} automatisk, "
             f"{sum(data['exceptions'].values())} avvik."]
    lines += [f"  {code:28} {n}" for code, n in sorted(data["exceptions"].items())]
    lines += [f"{name}: {path}" for name, path in data.get("outputs", {}).items()]
    return lines
