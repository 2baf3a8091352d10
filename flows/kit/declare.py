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
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the CLI imports this module; the kit's store and Prefect load when a run starts
    from config.settings import Settings
    from flows.kit.context import RunContext
    from flows.kit.summary import RunSummary
    from workqueue.store import WorkQueueStore

__all__ = ["Param", "Declaration", "make_flow", "make_cli", "run_declared", "flow_options", "Step"]

Step = Callable[..., Any]


SHADOW_KEYS = ("mode", "would_do_recorded", "withheld")  # in a shadow run's summary only


@dataclass(frozen=True)
class Param:
    """One run parameter: a flow parameter (ids and paths only, never personal data) and a CLI option."""

    name: str
    help: str
    kind: str = "str"            # str | int | bool | path | paths | date
    choices: tuple[str, ...] = ()
    flag: str | None = None      # the CLI option, default --<name with dashes>

    @property
    def option(self) -> str:
        return self.flag or "--" + self.name.replace("_", "-")

    def convert(self, value: Any) -> Any:
        """The flow's plain value (str / list[str]) -> what the process's run function takes."""
        if self.kind == "bool":
            return bool(value)
        if value is None or value == []:
            return None
        if self.kind == "int":
            return int(value)
        if self.kind == "path":
            return Path(value)
        if self.kind == "paths":
            return [Path(v) for v in value]
        if self.kind == "date":
            return value if isinstance(value, date) else date.fromisoformat(str(value))
        return value


def resolve(ref: Any) -> Any:
    """A "module:name" reference loaded on use (keeps `rpa --help` from importing every process)."""
    if not isinstance(ref, str):
        return ref
    module, _, name = ref.partition(":")
    import importlib

    return getattr(importlib.import_module(module), name)


@dataclass(frozen=True)
class Declaration:
    process_id: str
    run: Callable[[RunContext, SimpleNamespace, Step], RunSummary] | str  # or "module:function"
    params: Sequence[Param] = ()
    description: str = ""
    console: Callable[[dict[str, Any]], list[str]] | None = None  # lines the CLI prints without --json
    json_keys: Sequence[str] | None = None                          # --json: these keys (default: all)
    stop_errors: tuple[type[BaseException] | str, ...] = ()         # a system was down: the run stops, exit 1
    check: Callable[[SimpleNamespace], None] | None = None          # raise BusinessError on bad options
    out_param: str = "out_dir"                                      # the flow parameter for --out
    refusals: str = ""    # summary key listing inputs refused as a whole: said in red, exit code 2

    @property
    def flow_name(self) -> str:
        return self.process_id

    @property
    def package(self) -> str:
        return self.process_id.replace("-", "_")

    def stop_types(self) -> tuple[type[BaseException], ...]:
        return tuple(resolve(e) for e in self.stop_errors)

    def flow(self):
        """The process's flow object (flows/<pkg>/flow.py:<pkg>), imported on use."""
        return resolve(f"flows.{self.package}.flow:{self.package}")


def _direct_step(name: str, fn: Callable[..., Any], *args: Any, retry: bool = True) -> Any:
    from flows.kit.context import get_logger

    get_logger("rpa.kit").info("Steg %s", name)
    return fn(*args)


def _prefect_step(ctx: RunContext) -> Step:
    from prefect import task
    from prefect.cache_policies import NO_CACHE

    from flows.kit.context import get_logger
    from flows.kit.prefect import task_options

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
                 step: Step | None = None, ctx: RunContext | None = None, *, settings: Settings | None = None,
                 store: WorkQueueStore | None = None) -> RunSummary:
    """One run of a declared process without Prefect (the CLI; tests): open (with the caller's
    settings and store, if given), or take the caller's `ctx` (e.g. with rules changed for a
    test); run; finish or fail."""
    from flows.kit.context import get_logger, in_prefect_run
    from flows.kit.prefect import publish_artifacts
    from flows.kit.scope import finish, run_scope, stop
    from flows.kit.summary import RunSummary

    with _opened(ctx) if ctx else nullcontext():  # options refused fail a run the caller opened
        _check_choices(decl, values)
        params = SimpleNamespace(**{p.name: p.convert(values.get(p.name)) for p in decl.params})
        if decl.check:
            decl.check(params)
    log = get_logger(f"rpa.{decl.process_id}")
    scope = _opened(ctx) if ctx else run_scope(decl.process_id, settings, store,
                                               out_dir=Path(out_dir) if out_dir else None)
    with scope as ctx:
        log.info("Kjøring %s av %s startet (%s)", ctx.run_id, decl.process_id, ctx.version_label or "regler")
        try:
            summary = resolve(decl.run)(ctx, params, step or (_prefect_step(ctx) if in_prefect_run() else _direct_step))
        except decl.stop_types() as exc:
            return stop(ctx, RunSummary(ctx.process_id, ctx.run_id, 0, 0, {}), str(exc))
        finish(ctx, summary)
        publish_artifacts(ctx, summary, summary.table)
    return summary


@contextmanager
def _opened(ctx: RunContext) -> Iterator[RunContext]:
    """A run the caller opened: an error fails it, as run_scope does for the runs it opens."""
    from flows.kit.scope import fail

    try:
        yield ctx
    except BaseException as exc:
        fail(ctx, exc)
        raise


INPUT_REFUSED = "Avbrutt: feil i inndata"  # the state name of a run ended by its input (Failed, no retry)


def make_flow(decl: Declaration):
    """The process's Prefect flow: parameters from the declaration (plus out_dir); retries from the
    definition for system errors; a business error (bad input, invalid definition) ends the run as
    Failed without a retry; the final state says how the run went ("Fullført", "Fullført med avvik",
    "Stoppet: …") with the counts in its message; an input refused as a whole (the declaration's
    `refusals`) ends it Failed, "Avbrutt: feil i inndata", with the masked reasons as message."""
    from prefect import flow
    from prefect.states import Completed, Failed

    from connectors.identifiers import mask_fnrs_in_text
    from flows.kit.context import get_logger
    from flows.kit.prefect import is_business_error
    from flows.kit.summary import state_message, state_name

    def body(**values: Any):
        out_dir = values.pop(decl.out_param, None)
        try:
            summary = run_declared(decl, values, out_dir)
        except Exception as exc:
            if is_business_error(exc):  # waiting does not fix an input: no retry
                get_logger(f"rpa.{decl.process_id}").error("Kjøringen ble avbrutt: %s", exc)
                _no_more_retries()
                return Failed(name=INPUT_REFUSED, message=mask_fnrs_in_text(str(exc))[:1000])
            raise  # a system error: Prefect retries the run (the definition's retries)
        data = summary.to_dict()
        refused = data.get(decl.refusals) if decl.refusals else None
        if refused:  # an input refused as a whole settled nothing: the run failed (the CLI exits 2)
            _no_more_retries()
            return Failed(name=INPUT_REFUSED, data=data,
                          message=mask_fnrs_in_text(" ".join(str(m) for m in refused))[:1000])
        if summary.stopped_reason:  # the connectors retried already; the next scheduled run goes on
            _no_more_retries()
            return Failed(name=state_name(summary), message=state_message(summary), data=summary.to_dict())
        return Completed(name=state_name(summary), message=state_message(summary), data=summary.to_dict())

    parameters = [inspect.Parameter(p.name, inspect.Parameter.KEYWORD_ONLY, default=False if p.kind == "bool" else None,
                                    annotation=_FLOW_TYPES.get(p.kind, str | None)) for p in decl.params]
    parameters.append(inspect.Parameter(decl.out_param, inspect.Parameter.KEYWORD_ONLY, default=None,
                                        annotation=str | None))
    body.__signature__ = inspect.Signature(parameters)  # type: ignore[attr-defined]
    body.__name__ = decl.process_id.replace("-", "_")
    body.__doc__ = "\n".join(f"`{p.name}`: {p.help}" for p in decl.params)
    return flow(body, name=decl.flow_name, description=decl.description, validate_parameters=True,
                **flow_options(decl.process_id))


_FLOW_TYPES: dict[str, Any] = {"paths": list[str] | None, "int": int | None, "bool": bool}


def _no_more_retries() -> None:
    """Prefect's server retries every Failed flow run that has retries left; a run that fails for a
    business reason (or stopped on purpose) sets its own remaining retries to zero first."""
    from prefect import get_client
    from prefect.context import FlowRunContext

    context = FlowRunContext.get()
    if context is None or context.flow_run is None:
        return
    run = context.flow_run
    policy = run.empirical_policy.model_copy(update={"retries": 0})
    with get_client(sync_client=True) as client:
        client.update_flow_run(run.id, empirical_policy=policy)
    run.empirical_policy = policy


def flow_options(process_id: str) -> dict[str, Any]:
    """`@flow(**flow_options(pid))`: the definition's retry block, read when the flow module is
    imported (a worker imports it from the deployment's entrypoint, so the retries travel with the
    deployment: Prefect deployments have no retries field of their own)."""
    try:
        from flows.kit.prefect import task_options
        from flows.registry import load_definition

        options = task_options(load_definition(process_id)[0])
    except Exception:  # an invalid definition: the run itself refuses with the clear message
        return {"retries": 0, "retry_delay_seconds": 0}
    delays = options["retry_delay_seconds"]
    # Prefect's flow retries take one delay: the definition's first (backoff_seconds).
    return {"retries": options["retries"], "retry_delay_seconds": delays[0] if delays else 0}


def make_cli(decl: Declaration):
    """`rpa run <process>`: the declaration's options plus --out, --json, --prefect. Nothing heavy is
    imported until the command runs (Prefect only with --prefect)."""
    import typer

    app = typer.Typer(help=decl.description)

    def command(**values: Any) -> None:
        out, as_json, prefect = values.pop("out"), values.pop("as_json"), values.pop("prefect")
        values = {k: ([str(v) for v in value] if isinstance(value, list) else
                      str(value) if isinstance(value, Path) else value) for k, value in values.items()}
        from flows.kit.prefect import is_business_error

        try:
            if prefect:
                flow = decl.flow()
                state = flow(**values, **{decl.out_param: str(out) if out else None}, return_state=True)
                data = state.result(raise_on_failure=False)
                if not isinstance(data, dict):  # refused: the message says what to fix
                    raise typer.Exit(_fail_message(state.message or state.name or "", 2))
            else:
                data = run_declared(decl, values, out).to_dict()
        except decl.stop_types() as exc:
            raise typer.Exit(_fail_message(str(exc), 1)) from None
        except typer.Exit:
            raise
        except Exception as exc:
            if is_business_error(exc):
                raise typer.Exit(_fail_message(str(exc), 2)) from None
            raise
        if as_json:
            shown = {k: data.get(k) for k in decl.json_keys} if decl.json_keys else data
            shown.update({k: data[k] for k in SHADOW_KEYS if k in data})  # a shadow run says so (flows.kit.shadow)
            typer.echo(json.dumps(shown, ensure_ascii=False, indent=2, default=str))
        else:
            for line in (decl.console(data) if decl.console else _default_console(data)):
                typer.echo(line)
            for line in data.get("withheld") or []:
                typer.echo(line)
        if data.get("stopped_reason"):
            typer.secho(f"Stoppet: {data['stopped_reason']}", fg=typer.colors.RED, err=True)
            raise typer.Exit(1)
        refused = data.get(decl.refusals) if decl.refusals else None
        if refused:  # an input that could not prove it is whole settled nothing: say so loudly
            for message in refused:
                _fail_message(message, 2)
            raise typer.Exit(2)

    parameters = []
    for p in decl.params:
        annotation = {"path": Path, "paths": list[Path], "int": int, "bool": bool}.get(p.kind, str)
        parameters.append(inspect.Parameter(p.name, inspect.Parameter.KEYWORD_ONLY, annotation=annotation,
                                            default=typer.Option(False if p.kind == "bool" else None, p.option,
                                                                 help=p.help)))
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

    from connectors.identifiers import mask_fnrs_in_text

    typer.secho(mask_fnrs_in_text(message), fg=typer.colors.RED, err=True)
    return code


def _default_console(data: dict[str, Any]) -> list[str]:
    lines = [f"Kjøring {data['run_id']}: {data['cases_total']} saker, {data['automated']} automatisk, "
             f"{sum(data['exceptions'].values())} avvik."]
    lines += [f"  {code:28} {n}" for code, n in sorted(data["exceptions"].items())]
    lines += [f"{name}: {path}" for name, path in data.get("outputs", {}).items()]
    return lines
