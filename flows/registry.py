"""The flows known to the runner, found by convention from the process catalogue.

A process with id `foo-bar` has its flow package `flows.foo_bar` holding:
  rules.py  `Rules`: a pydantic model (extra="forbid") of the definition's `rules` block
  flow.py   the Prefect flow, named like the package (`foo_bar`)
  cli.py    `app`: a Typer app with one callback, mounted as `rpa run foo-bar`
  shadow.py (optional) its outcomes for shadow mode: present when its writes go through ctx.effects
So adding a process is a YAML file and a flow package; nothing here changes.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from types import ModuleType

from pydantic import BaseModel, ValidationError

from config.catalogue import DefinitionError, Problem, load_catalogue, parse_definition, rules_problems
from config.process_definition import ProcessDefinition
from config.settings import Settings, get_settings


def flow_module(definition: ProcessDefinition, part: str) -> ModuleType | None:
    name = f"{definition.flow_package}.{part}"
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name in (definition.flow_package, name):  # the package or module is absent
            return None
        raise  # a missing dependency inside the module is a real error


def rules_model(definition: ProcessDefinition) -> type[BaseModel] | None:
    module = flow_module(definition, "rules")
    return getattr(module, "Rules", None) if module else None


def validate_rules(definition: ProcessDefinition, path: Path | str) -> BaseModel | None:
    model = rules_model(definition)
    if model is None:
        return None
    try:
        return model.model_validate(definition.rules)
    except ValidationError as exc:
        raise DefinitionError(path, rules_problems(exc)) from None


def declared_actions(definition: ProcessDefinition) -> dict | None:
    """The process's own actions (flows/<package>/actions.py `ACTIONS`) plus the kit's defaults;
    None when the package declares none (then only the kit's defaults are known)."""
    from workqueue.actions import KIT_ACTIONS

    module = flow_module(definition, "actions")
    own = getattr(module, "ACTIONS", None) if module else None
    return {**KIT_ACTIONS, **(own or {})}


def validate_actions(definition: ProcessDefinition, path: Path | str) -> None:
    """Every category's `actions` and every approval rule name an action the process declares."""
    known = declared_actions(definition) or {}
    problems = []
    for n, cat in enumerate(definition.exception_categories):
        for m, code in enumerate(cat.actions):
            if code not in known:
                problems.append(Problem(f"exception_categories.{n}.actions.{m}",
                                        f"unknown action {code!r} (declared: {', '.join(sorted(known))})"))
    for n, rule in enumerate(definition.controls.approval):
        if rule.action != "*" and rule.action not in known:
            problems.append(Problem(f"controls.approval.{n}.action",
                                    f"unknown action {rule.action!r} (declared: {', '.join(sorted(known))})"))
        spec = known.get(rule.action)
        if rule.when_changed and spec is not None and spec.field(rule.when_changed) is None:
            problems.append(Problem(f"controls.approval.{n}.when_changed",
                                    f"action {rule.action!r} has no field {rule.when_changed!r}"))
    if problems:
        raise DefinitionError(path, problems)


def validate_mode(definition: ProcessDefinition, path: Path | str) -> None:
    """`mode: shadow` only for a process whose writes go through the kit's side-effect boundary
    (its package has a `shadow` module, docs/shadow.md), and with the people's outcome named:
    otherwise a shadow process would act like a live one."""
    if definition.mode != "shadow":
        return
    problems = []
    if flow_module(definition, "shadow") is None:
        problems.append(Problem("mode", f"{definition.id} does not support shadow mode yet (no "
                                        f"{definition.flow_package}.shadow module): use mode: live"))
    if not definition.shadow.human_outcome:
        problems.append(Problem("shadow.human_outcome", "shadow mode needs the input holding the people's outcome"))
    if problems:
        raise DefinitionError(path, problems)


def validate_file(path: Path) -> ProcessDefinition:
    """Full validation of one file: the generic model, then the flow's rules model."""
    definition = parse_definition(path)
    if flow_module(definition, "flow") is None and flow_module(definition, "rules") is None:
        raise DefinitionError(path, [Problem("id", f"no flow package {definition.flow_package!r} "
                                                   "implements this process")])
    validate_rules(definition, path)
    validate_actions(definition, path)
    validate_mode(definition, path)
    return definition


def load_definition(process_id: str, settings: Settings | None = None) -> tuple[ProcessDefinition, BaseModel | None]:
    """What a flow calls first: the valid definition and its typed rules, or DefinitionError.
    A flow refuses to start on an invalid definition."""
    settings = settings or get_settings()
    path = settings.paths.processes_dir / f"{process_id}.yaml"
    if not path.exists():
        raise DefinitionError(path, [Problem("", f"no process definition for {process_id!r} in "
                                                 f"{settings.paths.processes_dir}")])
    definition = parse_definition(path)
    rules = validate_rules(definition, path)
    validate_actions(definition, path)
    validate_mode(definition, path)
    return definition, rules


def catalogue(settings: Settings | None = None) -> dict[str, ProcessDefinition]:
    settings = settings or get_settings()
    return load_catalogue(settings.paths.processes_dir)
