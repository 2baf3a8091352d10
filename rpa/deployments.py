"""Prefect deployments generated from the process catalogue: one per process.

The definition is the only place a schedule lives: cron and time zone, default parameters, tags
(process, owner, systems), retries; changing a schedule is editing the YAML and running
``rpa deploy``, which upserts the deployment (Prefect replaces its schedule and the runs it had
scheduled). Every deployment allows one run at a time: a surplus run waits in
``AwaitingConcurrencySlot`` instead of running next to the first (never two offsetting runs at
once).

Two ways to run them:
- ``rpa deploy``: register against a server, runs go to the process work pool and any
  ``prefect worker start --pool <pool>`` on any machine with this checkout picks them up;
- ``rpa serve``: this process runs them itself (embedded default, no worker needed).
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from config.process_definition import ProcessDefinition
from config.settings import Settings, get_settings
from flows.kit.prefect import BASE_TAG  # one tag, shared with the SLA monitor

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SCHEDULE_SLUG = "catalogue"  # one schedule per deployment, replaced on every `rpa deploy`


@dataclass(frozen=True)
class DeploymentSpec:
    """Everything a deployment takes from one process definition (no Prefect import needed)."""

    process_id: str
    name: str
    entrypoint: str  # flows/<pkg>/flow.py:<pkg>, relative to the project root
    description: str
    version: str
    cron: str
    timezone: str
    active: bool
    parameters: dict[str, Any]
    tags: list[str]
    concurrency_limit: int
    work_pool: str
    work_queue: str | None = None
    retries: int = 0
    retry_delay_seconds: list[float] = field(default_factory=list)

    @property
    def flow_file(self) -> str:
        return self.entrypoint.split(":", 1)[0]

    @property
    def flow_function(self) -> str:
        return self.entrypoint.split(":", 1)[1]


def deployment_tags(definition: ProcessDefinition) -> list[str]:
    """`rpa`, the process id, the owner's org unit, each system, then the definition's own tags.
    Automations and the SLA monitor select runs by these."""
    tags = [BASE_TAG, definition.id, f"owner:{definition.owner.org_unit}",
            *(f"system:{s.id}" for s in definition.systems), *definition.tags]
    return list(dict.fromkeys(tags))  # unique, order kept


def spec_for(definition: ProcessDefinition, settings: Settings | None = None,
             concurrency_limit: int = 1) -> DeploymentSpec:
    from flows.kit.prefect import task_options

    settings = settings or get_settings()
    package = definition.flow_package.split(".", 1)[1]
    options = task_options(definition)
    delays = options["retry_delay_seconds"]
    return DeploymentSpec(
        process_id=definition.id,
        name=definition.id,
        entrypoint=f"flows/{package}/flow.py:{package}",
        description=f"{definition.name}. {definition.purpose}",
        version=f"v{definition.version}",
        cron=definition.schedule.cron,
        timezone=definition.schedule.timezone,
        active=definition.schedule.active,
        parameters=dict(definition.parameters),
        tags=deployment_tags(definition),
        concurrency_limit=concurrency_limit,
        work_pool=settings.prefect.work_pool,
        retries=options["retries"],
        retry_delay_seconds=list(delays) if isinstance(delays, list) else [],
    )


def specs_from_catalogue(settings: Settings | None = None, processes: list[str] | None = None,
                         concurrency_limit: int = 1) -> tuple[list[DeploymentSpec], list[str]]:
    """Specs for every process with a flow module; -> (specs, ids skipped because no flow exists yet)."""
    from flows.registry import catalogue

    settings = settings or get_settings()
    defs = catalogue(settings)
    unknown = sorted(set(processes or []) - set(defs))
    if unknown:
        raise KeyError(f"unknown process(es): {', '.join(unknown)}; known: {', '.join(defs)}")
    specs, skipped = [], []
    for pid, definition in defs.items():
        if processes and pid not in processes:
            continue
        spec = spec_for(definition, settings, concurrency_limit)
        if not (PROJECT_ROOT / spec.flow_file).exists():
            skipped.append(pid)
            continue
        specs.append(spec)
    return specs, skipped


def load_flow(spec: DeploymentSpec, root: Path = PROJECT_ROOT):
    """The Prefect flow object behind a spec (imports the flow module)."""
    import importlib

    module = importlib.import_module(spec.flow_file.removesuffix(".py").replace("/", "."))
    flow = getattr(module, spec.flow_function, None)
    if flow is None or not hasattr(flow, "to_deployment"):
        raise LookupError(f"{spec.flow_file} has no Prefect flow named {spec.flow_function!r}")
    return flow


def _schedule(spec: DeploymentSpec):
    from prefect.client.schemas.actions import DeploymentScheduleCreate
    from prefect.client.schemas.schedules import CronSchedule

    return DeploymentScheduleCreate(schedule=CronSchedule(cron=spec.cron, timezone=spec.timezone),
                                    active=spec.active, slug=SCHEDULE_SLUG)


def ensure_work_pool(client, name: str, pool_type: str = "process") -> None:
    from prefect.client.schemas.actions import WorkPoolCreate
    from prefect.exceptions import ObjectAlreadyExists, ObjectNotFound

    try:
        client.read_work_pool(name)
    except ObjectNotFound:
        with contextlib.suppress(ObjectAlreadyExists):  # another `rpa deploy` won the race
            client.create_work_pool(WorkPoolCreate(name=name, type=pool_type))


@dataclass
class Registered:
    spec: DeploymentSpec
    deployment_id: str
    flow_name: str

    @property
    def full_name(self) -> str:
        return f"{self.flow_name}/{self.spec.name}"


def register(specs: list[DeploymentSpec], *, working_dir: Path = PROJECT_ROOT,
             work_pool: str | None = None) -> list[Registered]:
    """Create or update the deployments on the server PREFECT_API_URL points at.

    Runs start in `working_dir` (a `set_working_directory` pull step): a worker on another
    machine needs this project checked out at the same path (or pass that machine's path)."""
    from prefect import get_client
    from prefect.utilities.callables import parameter_schema

    registered = []
    with get_client(sync_client=True) as client:
        pools = {work_pool or s.work_pool for s in specs}
        for pool in pools:
            ensure_work_pool(client, pool)
        for spec in specs:
            flow = load_flow(spec)
            flow_id = client.create_flow_from_name(flow.name)
            deployment_id = client.create_deployment(
                flow_id=flow_id,
                name=spec.name,
                version=spec.version,
                description=spec.description,
                schedules=[_schedule(spec)],
                concurrency_limit=spec.concurrency_limit,
                concurrency_options={"collision_strategy": "ENQUEUE"},
                parameters=spec.parameters,
                tags=spec.tags,
                work_pool_name=work_pool or spec.work_pool,
                work_queue_name=spec.work_queue,
                entrypoint=spec.entrypoint,
                path=None,
                pull_steps=[{"prefect.deployments.steps.set_working_directory":
                             {"directory": str(working_dir.resolve())}}],
                parameter_openapi_schema=parameter_schema(flow).model_dump(exclude_unset=True),
                enforce_parameter_schema=True,
                paused=False,
                job_variables={},
            )
            registered.append(Registered(spec, str(deployment_id), flow.name))
    return registered


def runner_deployments(specs: list[DeploymentSpec]) -> list:
    """The same deployments for `prefect.serve` (this process runs them; no work pool)."""
    from prefect.client.schemas.objects import ConcurrencyLimitConfig

    deployments = []
    for spec in specs:
        flow = load_flow(spec)
        deployments.append(flow.to_deployment(
            name=spec.name, version=spec.version, description=spec.description,
            schedules=[_schedule(spec)], parameters=spec.parameters, tags=spec.tags,
            concurrency_limit=ConcurrencyLimitConfig(limit=spec.concurrency_limit, collision_strategy="ENQUEUE"),
        ))
    return deployments


def serve(specs: list[DeploymentSpec], limit: int | None = None) -> None:
    """Run the deployments from this process until interrupted (prefect.serve)."""
    from prefect import serve as prefect_serve

    prefect_serve(*runner_deployments(specs), limit=limit, print_starting_message=True)


def read_deployments(process_ids: list[str] | None = None) -> list:
    """The catalogue's deployments as the server has them (tag `rpa`)."""
    from prefect import get_client
    from prefect.client.schemas.filters import DeploymentFilter, DeploymentFilterTags

    with get_client(sync_client=True) as client:
        found = client.read_deployments(deployment_filter=DeploymentFilter(tags=DeploymentFilterTags(all_=[BASE_TAG])))
    if process_ids:
        found = [d for d in found if d.name in process_ids]
    return found
