"""A small client for one process's Prefect deployment: read it by name, pause or resume its
schedule, start a run now, list its latest flow runs. Plain REST over httpx (no Prefect import:
the review app uses it and stays light), with the server's API log-in (Prefect's basic auth).

The deployment of a process is named after the process id and carries the tag `rpa`
(rpa/deployments.py). Pausing sets the deployment's schedules inactive, which makes Prefect
delete the runs it had scheduled; resuming sets them active again. `rpa deploy` sets the
schedule back to what the definition's YAML says (`schedule.active`).
"""

from __future__ import annotations

import base64
import os
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import httpx

from config.settings import Settings, get_settings
from connectors.prefect_api import BASE_TAG, read_auth_string

__all__ = ["PrefectUnavailable", "Schedule", "Deployment", "FlowRun", "DeploymentClient"]


class PrefectUnavailable(Exception):
    """Prefect did not answer as expected; the message is for staff (Norwegian)."""


@dataclass(frozen=True)
class Schedule:
    id: str
    cron: str | None
    timezone: str | None
    active: bool


@dataclass(frozen=True)
class Deployment:
    id: str
    name: str
    paused: bool
    schedules: tuple[Schedule, ...]
    parameters: dict[str, Any] = field(default_factory=dict)

    @property
    def schedule_active(self) -> bool:
        """Runs start by themselves: the deployment is not paused and a schedule is active."""
        return not self.paused and any(s.active for s in self.schedules)


@dataclass(frozen=True)
class FlowRun:
    id: str
    name: str
    state_type: str
    state_name: str
    expected_start: datetime | None
    started: datetime | None
    auto_scheduled: bool


def _when(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


class DeploymentClient:
    """The deployments of the Prefect server at `api_url` (…/api), logged in with `auth_string`."""

    def __init__(self, api_url: str, auth_string: str | None = None, timeout: float = 5.0):
        self.api_url = api_url.rstrip("/")
        headers = {"Content-Type": "application/json"}
        if auth_string:
            headers["Authorization"] = "Basic " + base64.b64encode(auth_string.encode()).decode()
        self._headers = headers
        self._timeout = timeout

    @classmethod
    def from_settings(cls, settings: Settings | None = None) -> DeploymentClient:
        """The server PREFECT_API_URL names (else the configured one), with the project's API log-in."""
        settings = settings or get_settings()
        return cls(os.environ.get("PREFECT_API_URL") or settings.prefect.api_url, read_auth_string(settings))

    def _call(self, method: str, path: str, body: Any = None) -> Any:
        try:
            r = httpx.request(method, f"{self.api_url}{path}", json=body, headers=self._headers,
                              timeout=self._timeout)
        except httpx.HTTPError as exc:
            raise PrefectUnavailable(f"Fikk ikke kontakt med Prefect ({exc.__class__.__name__}).") from exc
        if r.status_code == 401:
            raise PrefectUnavailable("Prefect avviste pålogging (feil eller manglende API-passord).")
        if r.status_code >= 400:
            raise PrefectUnavailable(f"Prefect svarte med feil {r.status_code}.")
        return r.json() if r.content else None

    def deployment(self, name: str) -> Deployment | None:
        """The catalogue's deployment named `name` (tag `rpa`), or None when it is not deployed."""
        found = self._call("POST", "/deployments/filter", {
            "deployments": {"name": {"any_": [name]}, "tags": {"all_": [BASE_TAG]}}, "limit": 2})
        if not found:
            return None
        d = found[0]
        schedules = tuple(Schedule(str(s["id"]), (s.get("schedule") or {}).get("cron"),
                                   (s.get("schedule") or {}).get("timezone"), bool(s.get("active")))
                          for s in d.get("schedules") or [])
        return Deployment(str(d["id"]), d["name"], bool(d.get("paused")), schedules, dict(d.get("parameters") or {}))

    def set_schedule_active(self, deployment: Deployment, active: bool) -> Deployment:
        """Every schedule of the deployment active (resume) or inactive (pause); -> as Prefect has it now.
        A paused deployment (Prefect's own pause) is resumed too, so `active` is what happens."""
        for s in deployment.schedules:
            self._call("PATCH", f"/deployments/{deployment.id}/schedules/{s.id}", {"active": active})
        if active and deployment.paused:
            self._call("POST", f"/deployments/{deployment.id}/resume_deployment")
        return self.deployment(deployment.name) or deployment

    def run_now(self, deployment: Deployment, tags: list[str] | None = None) -> FlowRun:
        """A flow run of the deployment with its own parameters, scheduled for now."""
        r = self._call("POST", f"/deployments/{deployment.id}/create_flow_run", {"tags": tags or []})
        return self._flow_run(r)

    def flow_runs(self, deployment: Deployment, limit: int = 5) -> list[FlowRun]:
        """The deployment's latest flow runs (newest first), scheduled ones included."""
        rows = self._call("POST", "/flow_runs/filter", {
            "flow_runs": {"deployment_id": {"any_": [deployment.id]}}, "sort": "EXPECTED_START_TIME_DESC",
            "limit": limit})
        return [self._flow_run(r) for r in rows or []]

    @staticmethod
    def _flow_run(r: dict[str, Any]) -> FlowRun:
        state = r.get("state") or {}
        return FlowRun(str(r["id"]), r.get("name") or "", state.get("type") or r.get("state_type") or "",
                       state.get("name") or r.get("state_name") or "", _when(r.get("expected_start_time")),
                       _when(r.get("start_time")), bool(r.get("auto_scheduled")))
