"""The run context every process step takes, and opening a run on a valid definition.

Flows keep their domain logic in plain functions that take a RunContext, so tests and benchmarks
call them without Prefect; the Prefect flow is generated around them (flows.kit.declare).
"""

from __future__ import annotations

import hashlib
import json
import logging
import sys
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from config.process_definition import Input, ProcessDefinition
from config.settings import Settings, get_settings
from connectors.identifiers import FnrScrubFilter
from flows.registry import load_definition
from workqueue.figures import DefinitionVersion, record_definition
from workqueue.store import Backoff, NewCase, WorkQueueStore

_SCRUB = FnrScrubFilter()
PREFECT_RUN_LOGGERS = ("prefect.flow_runs", "prefect.task_runs", "prefect.flow_runs.worker", "prefect.runner")


def get_logger(name: str = "rpa") -> logging.Logger | logging.LoggerAdapter:
    """The Prefect run logger inside a run, else a standard logger; both scrub fnr. Prefect is
    only asked when it is already imported: a CLI run does not pay for the import."""
    logger: logging.Logger | logging.LoggerAdapter = logging.getLogger(name)
    if sys.modules.get("prefect") is not None:
        try:
            from prefect.exceptions import MissingContextError
            from prefect.logging import get_run_logger

            logger = get_run_logger()
        except (MissingContextError, ImportError, RuntimeError):
            pass
    base = logger.logger if isinstance(logger, logging.LoggerAdapter) else logger
    if not any(isinstance(f, FnrScrubFilter) for f in base.filters):
        base.addFilter(_SCRUB)
    return logger


def in_prefect_run() -> bool:
    if sys.modules.get("prefect") is None:
        return False
    from prefect.context import FlowRunContext

    return FlowRunContext.get() is not None


def scrub_prefect_logs() -> None:
    """Mask fnr in what Prefect's own run loggers send to the API (state messages with exception
    text, tracebacks), not only in what our code logs through get_logger."""
    for name in PREFECT_RUN_LOGGERS:
        logger = logging.getLogger(name)
        if _SCRUB not in logger.filters:
            logger.addFilter(_SCRUB)


def definition_hash(definition: ProcessDefinition) -> str:
    """sha256 of the definition's canonical JSON: formatting and comments in the YAML do not count,
    every rule, tolerance, category and schedule does."""
    data = definition.model_dump(mode="json")
    # A definition that never set mode/shadow keeps the hash it had before shadow mode existed.
    if data.get("mode") == "live" and definition.shadow == type(definition.shadow)():
        data.pop("mode", None)
        data.pop("shadow", None)
    canonical = json.dumps(data, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


@dataclass
class RunContext:
    process_id: str
    run_id: str
    definition: ProcessDefinition
    rules: BaseModel | None
    settings: Settings
    store: WorkQueueStore
    out_dir: Path
    started_at: datetime = field(default_factory=datetime.now)
    definition_version: DefinitionVersion | None = None
    _effects: Any = field(default=None, repr=False, compare=False)

    @property
    def effects(self):
        """The side-effect boundary (flows.kit.shadow): every external write goes through it."""
        if self._effects is None:
            from flows.kit.shadow import SideEffects

            self._effects = SideEffects(self)
        return self._effects

    @property
    def shadow(self) -> bool:
        return self.effects.shadow

    @property
    def backoff(self) -> Backoff:
        r = self.definition.retry
        return Backoff(max_attempts=r.max_attempts, backoff_seconds=r.backoff_seconds,
                       backoff_factor=r.backoff_factor, max_backoff_seconds=r.max_backoff_seconds)

    def new_case(self, category: str, message: str, **kwargs: Any) -> NewCase:
        """A case for `category`, its SLA taken from the definition (unknown codes are a bug)."""
        sla = self.definition.category(category).sla_hours
        return NewCase(category=category, message=message, sla_hours=sla, **kwargs)

    def data_path(self, relative: str | Path) -> Path:
        return self.settings.paths.resolve(relative)

    def input(self, input_id: str) -> Input | None:
        """The definition's input `input_id`, or None when the definition has none by that id."""
        return next((i for i in self.definition.inputs if i.id == input_id), None)

    def input_path(self, input_id: str, given: Path | None = None) -> Path | None:
        """The file or folder to read: the one given (a CLI option), else the definition's input
        path in the data folder; None when neither names one."""
        if given is not None:
            return Path(given)
        spec = self.input(input_id)
        return self.data_path(spec.path) if spec is not None and spec.path else None

    def source(self, given: str | None = None) -> str:
        """Where the run reads from: the one given (a CLI option), else the definition's `source`;
        a source the definition does not list in `sources` is refused."""
        source = given or self.definition.source
        if source not in self.definition.sources:
            raise ValueError(f"ukjent kilde {source!r}; definisjonen tillater {', '.join(self.definition.sources)}")
        return source

    @property
    def version_label(self) -> str:
        """"Regler: versjon 7, 02.12.2026" for the reports."""
        return self.definition_version.label if self.definition_version else ""


def open_run(process_id: str, settings: Settings | None = None, store: WorkQueueStore | None = None,
             out_dir: Path | None = None, run_id: str | None = None) -> RunContext:
    """Validate the definition (refuse to run on an invalid one), record the run's start and the
    definition version it runs with."""
    scrub_prefect_logs()
    settings = settings or get_settings()
    definition, rules = load_definition(process_id, settings)
    store = store or WorkQueueStore.from_settings(settings)
    run_id = run_id or f"{datetime.now():%Y%m%d-%H%M%S}-{uuid.uuid4().hex[:6]}"
    flow_run_id = None
    if in_prefect_run():
        from prefect.runtime import flow_run

        flow_run_id = flow_run.id
    out_dir = out_dir or settings.paths.data_dir / "output" / process_id / run_id
    out_dir.mkdir(parents=True, exist_ok=True)
    for earlier in store.start_run(process_id, run_id, flow_run_id=flow_run_id):
        get_logger().warning("run %s of %s ended without finishing (its process is gone); marked abandoned",
                             earlier, process_id)
    version = record_definition(store, run_id, definition_hash(definition))
    return RunContext(process_id, run_id, definition, rules, settings, store, out_dir,
                      definition_version=version)
