"""Deployments generated from the process catalogue, registered against a Prefect server and
checked field by field against the YAML files."""

from __future__ import annotations

import shutil

import pytest
import yaml

from config.settings import DEFAULT_PROCESSES_DIR


@pytest.fixture
def catalogue_copy(tmp_path, monkeypatch):
    """A copy of the catalogue the test may edit (as a process owner edits the YAML)."""
    from config.settings import get_settings

    procs = tmp_path / "processes"
    shutil.copytree(DEFAULT_PROCESSES_DIR, procs)
    monkeypatch.setenv("RPA_PATHS__PROCESSES_DIR", str(procs))
    get_settings.cache_clear()
    yield get_settings(), procs
    get_settings.cache_clear()


def _expected_tags(doc: dict) -> list[str]:
    tags = ["rpa", doc["id"], f"owner:{doc['owner']['org_unit']}", *(f"system:{s['id']}" for s in doc["systems"]),
            *doc.get("tags", [])]
    return list(dict.fromkeys(tags))


def test_specs_follow_the_definitions(catalogue_copy):
    from rpa.deployments import PROJECT_ROOT, specs_from_catalogue

    settings, procs = catalogue_copy
    specs, skipped = specs_from_catalogue(settings)
    ids = {s.process_id for s in specs}
    assert {"benefits-report", "sla-monitor"} <= ids
    assert ids | set(skipped) == {p.stem for p in procs.glob("*.yaml")}
    for spec in specs:
        doc = yaml.safe_load((procs / f"{spec.process_id}.yaml").read_text(encoding="utf-8"))
        pkg = doc["id"].replace("-", "_")
        assert spec.entrypoint == f"flows/{pkg}/flow.py:{pkg}"
        assert (PROJECT_ROOT / spec.flow_file).exists()
        assert spec.cron == doc["schedule"]["cron"]
        assert spec.timezone == doc["schedule"].get("timezone", "Europe/Oslo") == "Europe/Oslo"
        assert spec.parameters == doc.get("parameters", {})
        assert spec.tags == _expected_tags(doc)
        assert spec.concurrency_limit == 1
        assert spec.retries == doc.get("retry", {}).get("max_attempts", 3) - 1


def test_task_retries_come_from_the_definition():
    from flows.registry import catalogue
    from flows.runtime import task_options

    nav = catalogue()["nav-refund-offsetting"]  # max_attempts 4, 30 s, x2, max 1800 s
    options = task_options(nav)
    assert options.pop("retry_condition_fn").__name__ == "retry_on_system_error"  # business errors: never
    assert options == {"retries": 3, "retry_delay_seconds": [30, 60, 120], "retry_jitter_factor": 0.1}
    benefits = catalogue()["benefits-report"]  # max_attempts 2, 60 s
    assert task_options(benefits)["retries"] == 1 and task_options(benefits)["retry_delay_seconds"] == [60]


@pytest.mark.prefect
def test_registered_deployments_match_the_yaml(catalogue_copy, prefect_harness):
    from prefect import get_client
    from prefect.client.schemas.objects import ConcurrencyLimitStrategy
    from prefect.flows import load_flow_from_entrypoint

    from config.schedule_text import schedule_words
    from rpa.deployments import PROJECT_ROOT, register, specs_from_catalogue

    settings, procs = catalogue_copy
    specs, _ = specs_from_catalogue(settings)
    registered = register(specs)
    assert [r.spec.process_id for r in registered] == [s.process_id for s in specs]
    with get_client(sync_client=True) as client:
        for r in registered:
            doc = yaml.safe_load((procs / f"{r.spec.process_id}.yaml").read_text(encoding="utf-8"))
            d = client.read_deployment(r.deployment_id)
            assert d.name == doc["id"]
            [schedule] = d.schedules
            assert schedule.schedule.cron == doc["schedule"]["cron"]
            assert schedule.schedule.timezone == "Europe/Oslo"
            assert schedule.active is doc["schedule"].get("active", True)
            assert d.parameters == doc.get("parameters", {})
            assert d.tags == _expected_tags(doc)
            assert d.global_concurrency_limit is not None and d.global_concurrency_limit.limit == 1
            assert d.concurrency_options.collision_strategy == ConcurrencyLimitStrategy.ENQUEUE
            assert d.work_pool_name == settings.prefect.work_pool
            assert d.entrypoint == r.spec.entrypoint
            assert d.pull_steps == [{"prefect.deployments.steps.set_working_directory":
                                     {"directory": str(PROJECT_ROOT)}}]
            assert d.version == f"v{doc['version']}"
            assert d.enforce_parameter_schema
            # The retries travel with the deployment: the flow a worker loads from its entrypoint
            # carries the definition's retries (Prefect deployments have no retries field).
            flow = load_flow_from_entrypoint(str(PROJECT_ROOT / d.entrypoint))
            assert flow.retries == r.spec.retries == doc.get("retry", {}).get("max_attempts", 3) - 1
            assert flow.retry_delay_seconds == (r.spec.retry_delay_seconds or 0)
            assert schedule.slug == schedule_words(doc["schedule"]["cron"])  # in words, not "catalogue"
        pool = client.read_work_pool(settings.prefect.work_pool)
        assert pool.type == "process"

    # A process owner changes the schedule and a parameter in the YAML and runs `rpa deploy` again.
    path = procs / "benefits-report.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace('cron: "0 6 1 * *"', 'cron: "30 5 2 * *"').replace("  months: 12\ntags", "  months: 6\ntags"),
                    encoding="utf-8")
    specs2, _ = specs_from_catalogue(settings, ["benefits-report"])
    [again] = register(specs2)
    before = next(r for r in registered if r.spec.process_id == "benefits-report")
    assert again.deployment_id == before.deployment_id  # updated, not duplicated
    with get_client(sync_client=True) as client:
        d = client.read_deployment(again.deployment_id)
    assert [s.schedule.cron for s in d.schedules] == ["30 5 2 * *"]
    assert d.parameters == {"months": 6}


def test_deploy_cli_dry_run_needs_no_server(catalogue_copy):
    import json

    from typer.testing import CliRunner

    from rpa.ops_cli import app

    result = CliRunner().invoke(app, ["deploy", "--dry-run", "--json"])
    assert result.exit_code == 0, result.output
    rows = {r["process"]: r for r in json.loads(result.stdout)}
    assert rows["benefits-report"]["cron"] == "0 6 1 * *"
    assert rows["sla-monitor"]["concurrency_limit"] == 1
    assert rows["benefits-report"]["parameters"] == {"months": 12}


def test_schedules_in_words():
    from config.schedule_text import schedule_words

    assert schedule_words("0 7 3 * *") == "kl. 07:00 den 3. hver måned"
    assert schedule_words("*/30 7-17 * * 1-5") == "hver halvtime kl. 07–17 mandag–fredag"
    assert schedule_words("0 6 1 1,5,9 *") == "kl. 06:00 den 1. i januar, mai og september"
    assert schedule_words("*/15 * * * *") == "hvert kvarter hele døgnet"
    assert schedule_words("5 4 3 2 1") == "cron 5 4 3 2 1"  # unknown shape: never a wrong sentence


def test_deploy_talks_to_prefect_api_url_over_the_configured_default(catalogue_copy, monkeypatch):
    from typer.testing import CliRunner

    from rpa.ops_cli import app
    from sandbox.server import free_port

    monkeypatch.setenv("RPA_PREFECT__API_URL", f"http://127.0.0.1:{free_port()}/api")
    wanted = f"http://127.0.0.1:{free_port()}/api"
    monkeypatch.setenv("PREFECT_API_URL", wanted)
    result = CliRunner().invoke(app, ["deploy"])
    assert result.exit_code != 0
    assert f"no Prefect server answers at {wanted}" in result.output
